//! The BMP daemon as part of the daemon (pmbmpd, or `bmp_daemon: true` in nfacctd/sfacctd):
//! started with the other inputs, its counters pushed to Prometheus at every drain, stopped
//! (every router gets its `log_close`) at shutdown.

use std::sync::atomic::Ordering;
use std::sync::{Arc, RwLock};

use anyhow::{Context, Result};
use tracing::info;

use crate::config::BmpConfig;
use crate::metrics::{Metrics, PluginLabels, SinkCounters};
use crate::routing::Rib;
use crate::routing::bmp_daemon::{BmpDaemon, BmpStats, BrokerStats};
use crate::sink::delivery::DeliveryStats;

/// A running BMP daemon and the counter values last pushed to the metrics.
pub(super) struct BmpService {
    daemon: BmpDaemon,
    last: BmpStats,
    /// The broker outputs, as sinks labelled `plugin="bmp_msglog"` / `plugin="bmp_dump"`
    /// (Kafka and AMQP of one summed), last values pushed.
    sinks_last: [SinkCounters; 2],
}

/// The counters of `outputs` summed into one (the send latencies moved over).
fn merged<'a>(outputs: impl Iterator<Item = &'a BrokerStats>) -> DeliveryStats {
    let sum = DeliveryStats::default();
    for o in outputs {
        let s = &o.stats;
        for (to, from) in [
            (&sum.rows_sent, &s.rows_sent),
            (&sum.items_sent, &s.items_sent),
            (&sum.bytes_sent, &s.bytes_sent),
            (&sum.retries, &s.retries),
            (&sum.rows_dropped, &s.rows_dropped),
            (&sum.queued_items, &s.queued_items),
            (&sum.queued_bytes, &s.queued_bytes),
            (&sum.spool_items, &s.spool_items),
            (&sum.spool_bytes, &s.spool_bytes),
        ] {
            to.fetch_add(from.load(Ordering::Relaxed), Ordering::Relaxed);
        }
        sum.last_error_unix.fetch_max(s.last_error_unix.load(Ordering::Relaxed), Ordering::Relaxed);
        if let (Ok(mut to), Ok(mut from)) = (sum.latencies.lock(), s.latencies.lock()) {
            to.append(&mut from);
        }
    }
    sum
}

impl BmpService {
    /// Starts the BMP daemon of the config's `[bmp]` section, keeping its routes in `rib`.
    pub(super) fn start(cfg: &BmpConfig, rib: Arc<RwLock<Rib>>) -> Result<Self> {
        let daemon = BmpDaemon::start(cfg, rib).context("bmp")?;
        info!(listen = %daemon.local_addr(), "BMP daemon started");
        Ok(Self { daemon, last: BmpStats::default(), sinks_last: Default::default() })
    }

    /// The RIB the daemon fills.
    pub(super) fn rib(&self) -> &Arc<RwLock<Rib>> {
        self.daemon.rib()
    }

    /// Re-reads the BMP daemon's `rpki_roas_file`.
    pub(super) fn reload_roas(&self) -> Result<(), crate::routing::roa::RoaError> {
        self.daemon.reload_roas()
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
        let outputs = self.daemon.broker_stats();
        for (name, last) in ["bmp_msglog", "bmp_dump"].into_iter().zip(&mut self.sinks_last) {
            if outputs.iter().any(|o| o.name == name) {
                let sum = merged(outputs.iter().filter(|o| o.name == name));
                m.sink.sync(&PluginLabels { plugin: name.into() }, &sum, last);
            }
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
