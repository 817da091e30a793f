//! Collector plumbing shared by the NetFlow/IPFIX and sFlow inputs: the decoder trait each
//! protocol implements, the records' way to the aggregator, and the counters every collector
//! exports.

use std::collections::BTreeMap;
use std::net::{IpAddr, SocketAddr};
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc::{SyncSender, TrySendError};

use crate::record::FlowRecord;

/// A stateful decoder of one export protocol. Each socket thread owns one (SO_REUSEPORT keeps
/// an exporter on one socket, so per-exporter state such as templates stays in one place).
pub trait ExportDecoder: Send {
    /// Decodes one datagram from `src`, arrived at `arrival_us` (Unix µs), appending flow records
    /// to `out`. On an error the records of the datagram's good part stay in `out`.
    fn decode(
        &mut self,
        src: SocketAddr,
        arrival_us: u64,
        payload: &[u8],
        out: &mut Vec<FlowRecord>,
    ) -> Result<(), Box<dyn std::error::Error + Send + Sync>>;

    /// Called once when the input stops (e.g. to save NetFlow templates).
    fn finish(&mut self) {}

    /// Cumulative counters per exporter (NetFlow exporter or sFlow agent address).
    fn exporter_counters(&self) -> Vec<(IpAddr, ExporterCounters)> {
        Vec::new()
    }
}

/// What a decoder counted for one exporter since it started. The same names for NetFlow and
/// sFlow where the concept is the same; a counter a protocol lacks stays 0.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ExporterCounters {
    pub datagrams: u64,
    /// Flow records (NetFlow) or flow samples (sFlow) decoded.
    pub records: u64,
    /// Datagrams rejected wholly or in part.
    pub malformed: u64,
    /// Datagrams missing per the sequence numbers (NetFlow v9, sFlow).
    pub lost_datagrams: u64,
    /// Records missing per the sequence numbers (NetFlow v5, IPFIX).
    pub lost_records: u64,
    /// Data sets dropped because their template was unknown (NetFlow v9/IPFIX).
    pub missing_template: u64,
    /// Sequence numbers going backwards (sFlow agent restarts).
    pub sequence_resets: u64,
    /// Templates currently known (a gauge).
    pub templates: u64,
}

impl ExporterCounters {
    /// Adds `o` (per-socket decoders of one collector see the same exporter).
    pub fn add(&mut self, o: &ExporterCounters) {
        self.datagrams += o.datagrams;
        self.records += o.records;
        self.malformed += o.malformed;
        self.lost_datagrams += o.lost_datagrams;
        self.lost_records += o.lost_records;
        self.missing_template += o.missing_template;
        self.sequence_resets += o.sequence_resets;
        self.templates += o.templates;
    }
}

/// Counters of one collector, shared by its socket threads.
#[derive(Debug, Default)]
pub struct CollectorStats {
    /// Datagrams received (allowed or not).
    pub datagrams: AtomicU64,
    pub bytes: AtomicU64,
    /// Datagrams from exporters not in the allow-list: dropped.
    pub denied: AtomicU64,
    /// Datagrams the decoder rejected (wholly or in part).
    pub malformed: AtomicU64,
    /// Flow records decoded.
    pub flows: AtomicU64,
    /// Records dropped because the aggregator's queue was full.
    pub queue_dropped: AtomicU64,
    /// Latest per-exporter counters of each socket thread (index = thread).
    exporters: Mutex<Vec<Vec<(IpAddr, ExporterCounters)>>>,
}

impl CollectorStats {
    pub fn add(counter: &AtomicU64, n: u64) {
        counter.fetch_add(n, Ordering::Relaxed);
    }

    pub fn get(counter: &AtomicU64) -> u64 {
        counter.load(Ordering::Relaxed)
    }

    /// Replaces socket thread `thread`'s per-exporter counters.
    pub fn publish(&self, thread: usize, counters: Vec<(IpAddr, ExporterCounters)>) {
        let mut all = match self.exporters.lock() {
            Ok(g) => g,
            Err(p) => p.into_inner(),
        };
        if all.len() <= thread {
            all.resize_with(thread + 1, Vec::new);
        }
        all[thread] = counters;
    }

    /// Per-exporter counters summed over the socket threads.
    pub fn exporters(&self) -> BTreeMap<IpAddr, ExporterCounters> {
        let all = match self.exporters.lock() {
            Ok(g) => g,
            Err(p) => p.into_inner(),
        };
        let mut sum: BTreeMap<IpAddr, ExporterCounters> = BTreeMap::new();
        for (ip, c) in all.iter().flatten() {
            sum.entry(*ip).or_default().add(c);
        }
        sum
    }
}

/// Records travel to the aggregation loop in batches of about this many.
pub const BATCH: usize = 1024;

/// Hands `batch` to the aggregator without waiting: a full queue drops it, counted. Ingestion
/// must not stall the sockets (the kernel would drop instead, uncounted by us).
pub fn send_batch(
    tx: &SyncSender<Vec<FlowRecord>>,
    batch: &mut Vec<FlowRecord>,
    stats: &CollectorStats,
) {
    if batch.is_empty() {
        return;
    }
    let full = std::mem::replace(batch, Vec::with_capacity(BATCH));
    if let Err(TrySendError::Full(lost) | TrySendError::Disconnected(lost)) = tx.try_send(full) {
        CollectorStats::add(&stats.queue_dropped, lost.len() as u64);
    }
}

/// Unix time now, microseconds.
pub fn now_us() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_micros() as u64)
        .unwrap_or(0)
}
