//! The daemon's NetFlow/IPFIX and sFlow inputs: live UDP listeners feeding one bounded queue the
//! main loop drains, and the replay of export captures (`pcap_savefile` in nfacctd/sfacctd,
//! `pmacct-rs replay`) through the same decoders.

use std::collections::BTreeMap;
use std::net::IpAddr;
use std::path::Path;
use std::sync::Arc;
use std::sync::mpsc::{Receiver, SyncSender, sync_channel};
use std::time::Duration;

use anyhow::{Context, Result};
use tracing::info;

use crate::config::{CollectorConfig, CollectorKind};
use crate::input::allow::AllowList;
use crate::input::collector::{CollectorStats, ExporterCounters};
use crate::input::datagram::{DatagramStats, read_datagrams};
use crate::input::export;
use crate::input::udp::UdpListeners;
use crate::metrics::{CollectorLabels, ExporterLabels, Metrics};
use crate::record::FlowRecord;

/// Batches of records waiting for the aggregator before collectors start dropping (counted).
const QUEUE_BATCHES: usize = 4096;

struct Running {
    name: String,
    listeners: UdpListeners,
    stats: Arc<CollectorStats>,
    /// Last values pushed to the metrics, in [`Running::values`] order.
    last: [u64; 7],
    /// Last per-exporter counters pushed to the metrics.
    last_exporters: BTreeMap<IpAddr, ExporterCounters>,
}

impl Running {
    fn values(&self) -> [u64; 7] {
        let s = &self.stats;
        [
            CollectorStats::get(&s.datagrams),
            CollectorStats::get(&s.bytes),
            CollectorStats::get(&s.denied),
            CollectorStats::get(&s.malformed),
            CollectorStats::get(&s.flows),
            CollectorStats::get(&s.queue_dropped),
            self.listeners.kernel_drops(),
        ]
    }
}

/// Every live collector and the queue they feed.
pub(super) struct Collectors {
    rx: Receiver<Vec<FlowRecord>>,
    /// Kept so the queue stays open while no collector runs (and for restarts).
    _tx: SyncSender<Vec<FlowRecord>>,
    running: Vec<Running>,
}

/// The metrics name of a collector.
pub(super) fn collector_name(kind: CollectorKind) -> &'static str {
    match kind {
        CollectorKind::Netflow => "netflow",
        CollectorKind::Sflow => "sflow",
    }
}

impl Collectors {
    /// Starts the listeners of every collector that has `listen` addresses.
    pub(super) fn start(configs: &[CollectorConfig]) -> Result<Self> {
        let (tx, rx) = sync_channel(QUEUE_BATCHES);
        let mut running = Vec::new();
        for (i, cfg) in configs.iter().enumerate().filter(|(_, c)| !c.listen.is_empty()) {
            let name = collector_name(cfg.kind).to_string();
            let key = format!("collector[{i}]");
            let allow = AllowList::load(&cfg.allow, cfg.allow_file.as_deref())
                .with_context(|| format!("{key}.allow_file"))?;
            let factory = export::factory(cfg).with_context(|| key.clone())?;
            let stats = Arc::new(CollectorStats::default());
            let listeners = UdpListeners::start(
                &name,
                cfg,
                factory,
                Arc::new(allow),
                tx.clone(),
                stats.clone(),
            )
            .with_context(|| format!("{key}.listen"))?;
            running.push(Running {
                name,
                listeners,
                stats,
                last: [0; 7],
                last_exporters: BTreeMap::new(),
            });
        }
        Ok(Self { rx, _tx: tx, running })
    }

    /// Waits up to `timeout` for a batch of records.
    pub(super) fn recv(&self, timeout: Duration) -> Option<Vec<FlowRecord>> {
        self.rx.recv_timeout(timeout).ok()
    }

    /// Batches already waiting.
    pub(super) fn pending(&self) -> impl Iterator<Item = Vec<FlowRecord>> + '_ {
        self.rx.try_iter()
    }

    /// Pushes the collectors' counters into the metrics.
    pub(super) fn update_metrics(&mut self, m: &Metrics) {
        for r in &mut self.running {
            let label = CollectorLabels { collector: r.name.clone() };
            let now = r.values();
            let c = &m.collector;
            let families = [
                &c.datagrams,
                &c.bytes,
                &c.denied,
                &c.malformed,
                &c.flows,
                &c.queue_dropped,
                &c.kernel_drops,
            ];
            for ((family, value), last) in families.iter().zip(now).zip(r.last.iter_mut()) {
                Metrics::advance(&family.get_or_create(&label), last, value);
            }
            for (ip, now) in r.stats.exporters() {
                let labels = ExporterLabels { collector: r.name.clone(), exporter: ip.to_string() };
                let last = r.last_exporters.entry(ip).or_default();
                m.exporter.advance(&labels, last, now);
            }
        }
    }

    /// Stops every listener; what their threads decoded until then stays in the queue.
    pub(super) fn stop(&mut self) {
        for r in self.running.drain(..) {
            info!(collector = %r.name, "stopping");
            r.listeners.stop();
        }
    }
}

/// Records handed to the aggregator at once when replaying a capture.
const REPLAY_BATCH: usize = 512;

/// Decodes the export datagrams of a capture as if they arrived live (arrival time and exporter
/// address from the packets), with the settings of `cfg`.
pub(super) fn replay_capture(
    path: &Path,
    cfg: &CollectorConfig,
    mut ingest: impl FnMut(&[FlowRecord]),
) -> Result<(DatagramStats, u64)> {
    let factory = export::factory(cfg)?;
    let mut decoder = factory();
    let mut out = Vec::with_capacity(1024);
    let mut malformed = 0u64;
    // Records go to `ingest` in batches of a few hundred (the aggregator prefetches its table
    // slots per batch), in capture order.
    let stats = read_datagrams(path, &[], |d| {
        if decoder.decode(d.src, d.ts_us, d.payload, &mut out).is_err() {
            malformed += 1;
        }
        if out.len() >= REPLAY_BATCH {
            ingest(&out);
            out.clear();
        }
    })
    .with_context(|| format!("reading {}", path.display()))?;
    if !out.is_empty() {
        ingest(&out);
    }
    decoder.finish();
    Ok((stats, malformed))
}
