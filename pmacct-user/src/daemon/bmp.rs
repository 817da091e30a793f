//! The BMP daemon as part of the daemon (pmbmpd, or `bmp_daemon: true` in nfacctd/sfacctd):
//! started with the other inputs, its counters pushed to Prometheus at every drain, stopped
//! (every router gets its `log_close`) at shutdown.

use std::sync::{Arc, RwLock};

use anyhow::{Context, Result};
use tracing::info;

use crate::config::BmpConfig;
use crate::metrics::{Metrics, PluginLabels, SinkCounters};
use crate::routing::Rib;
use crate::routing::bmp_daemon::{BmpDaemon, BmpStats};

/// A running BMP daemon and the counter values last pushed to the metrics.
pub(super) struct BmpService {
    daemon: BmpDaemon,
    last: BmpStats,
    /// The msglog's Kafka stream, as a sink labelled `plugin="bmp_msglog"`.
    kafka_last: SinkCounters,
}

impl BmpService {
    /// Starts the BMP daemon of the config's `[bmp]` section, keeping its routes in `rib`.
    pub(super) fn start(cfg: &BmpConfig, rib: Arc<RwLock<Rib>>) -> Result<Self> {
        let daemon = BmpDaemon::start(cfg, rib).context("bmp")?;
        info!(listen = %daemon.local_addr(), "BMP daemon started");
        Ok(Self { daemon, last: BmpStats::default(), kafka_last: SinkCounters::default() })
    }

    /// The RIB the daemon fills.
    pub(super) fn rib(&self) -> &Arc<RwLock<Rib>> {
        self.daemon.rib()
    }

    /// Pushes the daemon's counters into `m`.
    pub(super) fn update_metrics(&mut self, m: &Metrics) {
        let now = self.daemon.stats();
        let b = &m.bmp;
        let last = &mut self.last;
        b.routers.set(i64::try_from(now.routers).unwrap_or(i64::MAX));
        for (counter, last, now) in [
            (&b.connections, &mut last.connections, now.connections),
            (&b.messages, &mut last.messages, now.messages),
            (&b.errors, &mut last.errors, now.errors),
            (&b.denied, &mut last.denied, now.denied),
            (&b.rejected, &mut last.rejected, now.rejected),
            (&b.rib_rejected, &mut last.rib_rejected, now.rib_rejected),
            (&b.dumps, &mut last.dumps, now.dumps),
            (&b.no_peer_up, &mut last.no_peer_up, now.no_peer_up),
        ] {
            Metrics::advance(counter, last, now);
        }
        if let Some((stats, _)) = self.daemon.kafka_stats() {
            let label = PluginLabels { plugin: "bmp_msglog".into() };
            m.sink.sync(&label, &stats, &mut self.kafka_last);
        }
        if let Ok(rib) = self.daemon.rib().try_read() {
            let routes: usize = rib.routers().map(|r| rib.route_count(r)).sum();
            b.routes.set(i64::try_from(routes).unwrap_or(i64::MAX));
        }
    }

    /// Closes every router session and joins the daemon's threads.
    pub(super) fn stop(self) {
        info!("stopping the BMP daemon");
        self.daemon.stop();
    }
}

/// `pmacct-rs replay --pcap` of a BMP capture: the sessions in `pcap` fed `repeat` times
/// through a BMP daemon configured by `cfg` (msglog, allow-list; no listener, no periodic dump).
pub fn replay_bmp_capture(cfg: &BmpConfig, pcap: &std::path::Path, repeat: u32) -> Result<()> {
    if cfg.msglog_file.is_none() {
        tracing::warn!(
            "bmp.msglog_file (bmp_daemon_msglog_file) is not set: the replay logs nothing"
        );
    }
    let daemon = BmpDaemon::offline(cfg, BmpDaemon::new_rib(cfg)).context("bmp")?;
    for round in 0..repeat.max(1) {
        let stats =
            daemon.replay_pcap(pcap).with_context(|| format!("replaying {}", pcap.display()))?;
        info!(round, ?stats, "BMP capture replayed");
    }
    let s = daemon.stats();
    info!(messages = s.messages, errors = s.errors, sessions = s.connections, "BMP replay done");
    daemon.stop();
    Ok(())
}
