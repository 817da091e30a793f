//! Reliable delivery for network sinks (ClickHouse, AMQP): a flush is encoded into items and
//! queued; items are sent in order, retried with exponential backoff and jitter while the server
//! is down, spilled to a spool directory past the in-memory bound — and, once a send has failed,
//! at once, so a send hanging until the process stops loses nothing —, replayed from it (also
//! after a restart), and dropped only past the spool bound — counted and logged.
//! The sink thread never blocks on the server: between flushes [`Delivery::tick`] retries.
//!
//! Delivery is at least once: an item whose request reached the server but whose answer was
//! lost is sent again.
//!
//! Batching: a flush is sent as its transport encoded it (one item per table / routing key /
//! topic, split at the transport's own bounds). With `batch_delay_ms` set, consecutive items to
//! the same destination are merged into one request of at most `batch_rows` rows and
//! `batch_bytes` bytes, sent when full or once its oldest rows waited `batch_delay_ms` — for
//! plugins that flush often (short `refresh_time`, memory-style live tables).

mod spool;

use std::collections::VecDeque;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};
use tracing::{error, info, warn};

use super::{Sink, SinkError, WriteReport};
use crate::aggregate::FlushBatch;
pub use spool::Spool;

/// One request's worth of encoded rows. Payloads with the same `meta` concatenate into one valid
/// payload (RowBinary rows; length-prefixed broker messages), which batching relies on.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Item {
    /// Aggregates in it (for the counters).
    pub rows: u64,
    /// Transport-specific addressing (table and columns, routing key...), kept with the item so
    /// a spooled item is sent where it was meant to go.
    pub meta: String,
    pub payload: Vec<u8>,
}

impl Item {
    fn size(&self) -> u64 {
        (self.payload.len() + self.meta.len()) as u64
    }
}

/// What a network sink does: encode flushes, send one item.
pub trait Transport: Send {
    /// The items of one flush, in sending order.
    fn encode(&mut self, batch: &FlushBatch) -> Vec<Item>;
    /// Sends one item; an error means the server did not take it (it is retried).
    fn send(&mut self, item: &Item) -> Result<(), String>;
}

/// Queue bounds and retry pacing (`[plugin.delivery]`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct DeliveryConfig {
    /// Bytes of encoded items kept in memory before the oldest spill to the spool.
    pub memory_bytes: u64,
    /// Spool directory; none: past the memory bound the oldest items are dropped.
    pub spool_dir: Option<PathBuf>,
    /// Bytes the spool may hold before its oldest items are dropped.
    pub spool_bytes: u64,
    /// First retry delay, doubled per failure up to `retry_max_ms` (±25 % jitter).
    pub retry_initial_ms: u64,
    pub retry_max_ms: u64,
    /// Longest time rows wait in a batch being filled; 0: no merging, each item as encoded.
    pub batch_delay_ms: u64,
    /// Most rows in a merged batch.
    pub batch_rows: u64,
    /// Most payload bytes in a merged batch.
    pub batch_bytes: u64,
}

impl Default for DeliveryConfig {
    fn default() -> Self {
        Self {
            memory_bytes: 64 << 20,
            spool_dir: None,
            spool_bytes: 1 << 30,
            retry_initial_ms: 200,
            retry_max_ms: 30_000,
            batch_delay_ms: 0,
            batch_rows: 500_000,
            batch_bytes: 16 << 20,
        }
    }
}

/// Counters of one sink's delivery, read by the metrics exporter.
#[derive(Debug, Default)]
pub struct DeliveryStats {
    pub rows_sent: AtomicU64,
    pub items_sent: AtomicU64,
    pub bytes_sent: AtomicU64,
    pub retries: AtomicU64,
    pub rows_dropped: AtomicU64,
    pub queued_items: AtomicU64,
    pub queued_bytes: AtomicU64,
    pub spool_items: AtomicU64,
    pub spool_bytes: AtomicU64,
    /// Send latencies (seconds) not yet exported.
    pub latencies: Mutex<Vec<f64>>,
    pub last_error: Mutex<String>,
    /// Unix time of the last failed send (0: none yet).
    pub last_error_unix: AtomicU64,
}

/// A transport behind a bounded, spooling, retrying queue.
pub struct Delivery<T: Transport> {
    name: String,
    transport: T,
    cfg: DeliveryConfig,
    memory: VecDeque<Item>,
    memory_bytes: u64,
    /// The batch being filled (`batch_delay_ms` > 0) and when its first rows came.
    open: Option<(Item, Instant)>,
    spool: Option<Spool>,
    next_try: Instant,
    backoff: Duration,
    /// The last send failed: queued items go to the spool at once, so that a send that hangs
    /// until the process stops does not take them with it.
    failing: bool,
    seed: u64,
    stats: Arc<DeliveryStats>,
}

impl<T: Transport> Delivery<T> {
    /// Opens the spool (what a previous run left there is sent first).
    pub fn new(name: &str, transport: T, cfg: DeliveryConfig) -> Result<Self, SinkError> {
        let spool = match &cfg.spool_dir {
            Some(dir) => Some(
                Spool::open(dir)
                    .map_err(|source| SinkError::Io { path: dir.display().to_string(), source })?,
            ),
            None => None,
        };
        if let Some(s) = &spool
            && !s.is_empty()
        {
            info!(
                sink = name,
                items = s.len(),
                bytes = s.bytes(),
                "spooled items from the last run"
            );
        }
        let seed = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos() as u64)
            .unwrap_or(0x9e37_79b9)
            | 1;
        let me = Self {
            name: name.to_string(),
            transport,
            backoff: Duration::from_millis(cfg.retry_initial_ms),
            cfg,
            memory: VecDeque::new(),
            memory_bytes: 0,
            open: None,
            spool,
            next_try: Instant::now(),
            failing: false,
            seed,
            stats: Arc::default(),
        };
        me.publish();
        Ok(me)
    }

    /// The counters (shared).
    pub fn stats(&self) -> Arc<DeliveryStats> {
        self.stats.clone()
    }

    /// The transport (tests look at what it got).
    pub fn transport(&self) -> &T {
        &self.transport
    }

    /// Items waiting (the batch being filled, memory and spool).
    pub fn pending(&self) -> usize {
        usize::from(self.open.is_some())
            + self.memory.len()
            + self.spool.as_ref().map_or(0, Spool::len)
    }

    fn publish(&self) {
        let s = &self.stats;
        let open = self.open.as_ref().map_or(0, |(i, _)| i.size());
        s.queued_items.store(
            self.pending() as u64 - self.spool.as_ref().map_or(0, |sp| sp.len() as u64),
            Ordering::Relaxed,
        );
        s.queued_bytes.store(self.memory_bytes + open, Ordering::Relaxed);
        let (items, bytes) = self.spool.as_ref().map_or((0, 0), |sp| (sp.len() as u64, sp.bytes()));
        s.spool_items.store(items, Ordering::Relaxed);
        s.spool_bytes.store(bytes, Ordering::Relaxed);
    }

    fn drop_rows(&self, rows: u64, why: &str) {
        self.stats.rows_dropped.fetch_add(rows, Ordering::Relaxed);
        error!(sink = %self.name, rows, why, "rows dropped");
    }

    /// Adds an item to the batch being filled when batching is on (sealing it when the item
    /// does not fit or it is full), else queues it.
    fn add(&mut self, item: Item) {
        if self.cfg.batch_delay_ms == 0 {
            return self.enqueue(item);
        }
        if let Some((b, _)) = &mut self.open {
            let fits = b.meta == item.meta
                && b.rows + item.rows <= self.cfg.batch_rows
                && (b.payload.len() + item.payload.len()) as u64 <= self.cfg.batch_bytes;
            if fits {
                b.rows += item.rows;
                b.payload.extend_from_slice(&item.payload);
                if b.rows >= self.cfg.batch_rows || b.payload.len() as u64 >= self.cfg.batch_bytes {
                    self.seal(true);
                }
                return;
            }
            self.seal(true);
        }
        self.open = Some((item, Instant::now()));
    }

    /// Queues the batch being filled when `force`d or when its oldest rows waited long enough.
    fn seal(&mut self, force: bool) {
        let due = self.open.as_ref().is_some_and(|(_, since)| {
            force || since.elapsed() >= Duration::from_millis(self.cfg.batch_delay_ms)
        });
        if due && let Some((b, _)) = self.open.take() {
            self.enqueue(b);
        }
    }

    /// Queues an item, spilling or dropping the oldest past the bounds; while the server is
    /// failing, straight to the spool.
    fn enqueue(&mut self, item: Item) {
        if self.failing && self.spool.is_some() {
            self.spill(item);
            self.publish();
            return;
        }
        self.memory_bytes += item.size();
        self.memory.push_back(item);
        while self.memory_bytes > self.cfg.memory_bytes {
            let Some(old) = self.memory.pop_front() else { break };
            self.memory_bytes -= old.size();
            self.spill(old);
        }
        self.publish();
    }

    fn spill(&mut self, item: Item) {
        let Some(spool) = self.spool.as_mut() else {
            self.drop_rows(item.rows, "memory bound reached and no spool_dir");
            return;
        };
        // Make room: the oldest spooled items go first.
        while spool.bytes() + item.size() > self.cfg.spool_bytes && !spool.is_empty() {
            let rows = spool.front().and_then(Result::ok).map_or(0, |i| i.rows);
            spool.pop();
            self.stats.rows_dropped.fetch_add(rows, Ordering::Relaxed);
            error!(sink = %self.name, rows, "spool bound reached: oldest spooled rows dropped");
        }
        if spool.bytes() + item.size() > self.cfg.spool_bytes {
            self.drop_rows(item.rows, "item larger than the spool bound");
            return;
        }
        if let Err(e) = spool.push(&item) {
            warn!(sink = %self.name, error = %e, "spooling failed");
            self.drop_rows(item.rows, "spool write failed");
        }
    }

    fn jitter(&mut self, d: Duration) -> Duration {
        // xorshift64: spreads retries of many sinks; no cryptographic need.
        self.seed ^= self.seed << 13;
        self.seed ^= self.seed >> 7;
        self.seed ^= self.seed << 17;
        let f = 0.75 + (self.seed % 1000) as f64 / 2000.0; // 0.75 ..= 1.25
        d.mul_f64(f)
    }

    /// Queues items encoded elsewhere (the BMP msglog's lines), then sends what is due.
    pub fn push(&mut self, items: Vec<Item>) {
        for item in items {
            self.add(item);
        }
        self.tick();
    }

    /// Sends what is due, oldest first, until the queue is empty or a send fails.
    pub fn tick(&mut self) {
        self.seal(false);
        let now = Instant::now();
        if now < self.next_try {
            return;
        }
        loop {
            let from_spool = self.spool.as_ref().is_some_and(|s| !s.is_empty());
            let item = if from_spool {
                match self.spool.as_ref().and_then(Spool::front) {
                    Some(Ok(i)) => i,
                    Some(Err(e)) => {
                        warn!(sink = %self.name, error = %e, "unreadable spool item dropped");
                        if let Some(s) = self.spool.as_mut() {
                            s.pop();
                        }
                        continue;
                    }
                    None => break,
                }
            } else {
                match self.memory.front() {
                    Some(i) => i.clone(),
                    None => break,
                }
            };
            let started = Instant::now();
            match self.transport.send(&item) {
                Ok(()) => {
                    let s = &self.stats;
                    s.rows_sent.fetch_add(item.rows, Ordering::Relaxed);
                    s.items_sent.fetch_add(1, Ordering::Relaxed);
                    s.bytes_sent.fetch_add(item.payload.len() as u64, Ordering::Relaxed);
                    if let Ok(mut l) = s.latencies.lock() {
                        l.push(started.elapsed().as_secs_f64());
                    }
                    if from_spool {
                        if let Some(sp) = self.spool.as_mut() {
                            sp.pop();
                        }
                    } else if let Some(i) = self.memory.pop_front() {
                        self.memory_bytes -= i.size();
                    }
                    self.backoff = Duration::from_millis(self.cfg.retry_initial_ms);
                    self.failing = false;
                }
                Err(e) => {
                    self.stats.retries.fetch_add(1, Ordering::Relaxed);
                    if let Ok(mut l) = self.stats.last_error.lock() {
                        l.clone_from(&e);
                    }
                    let now = std::time::SystemTime::now()
                        .duration_since(std::time::UNIX_EPOCH)
                        .map_or(0, |d| d.as_secs());
                    self.stats.last_error_unix.store(now, Ordering::Relaxed);
                    let wait = self.jitter(self.backoff);
                    warn!(sink = %self.name, error = %e, retry_in_ms = wait.as_millis() as u64, "send failed");
                    self.next_try = Instant::now() + wait;
                    if !self.failing && self.spool.is_some() {
                        // Write what waits to disk now: the next send may hang past shutdown.
                        let waiting: Vec<Item> = self.memory.drain(..).collect();
                        self.memory_bytes = 0;
                        for i in waiting {
                            self.spill(i);
                        }
                    }
                    self.failing = true;
                    self.backoff =
                        (self.backoff * 2).min(Duration::from_millis(self.cfg.retry_max_ms));
                    break;
                }
            }
        }
        self.publish();
    }

    /// Shutdown: with a spool, first writes what waits in memory to it (a send that hangs past
    /// the deadline then loses nothing: the daemon may exit while it hangs), then keeps sending,
    /// oldest first, until empty or `deadline`. Without a spool, sends what it can by then.
    pub fn close(&mut self, deadline: Instant) {
        self.seal(true);
        if self.spool.is_some() {
            let left: Vec<Item> = self.memory.drain(..).collect();
            self.memory_bytes = 0;
            for item in left {
                self.spill(item);
            }
            self.publish();
        }
        while self.pending() > 0 && Instant::now() < deadline {
            self.tick();
            if self.pending() > 0 {
                let until = self.next_try.min(deadline);
                std::thread::sleep(
                    until.saturating_duration_since(Instant::now()).min(Duration::from_millis(50)),
                );
            }
        }
        let left = self.memory.len();
        if left > 0 {
            // No spool: what is still in memory cannot be kept.
            let rows: u64 = self.memory.iter().map(|i| i.rows).sum();
            self.memory.clear();
            self.memory_bytes = 0;
            self.drop_rows(rows, "shutdown before the server took them and no spool_dir");
        }
        let spooled = self.spool.as_ref().map_or(0, Spool::len);
        if spooled > 0 {
            info!(sink = %self.name, items = spooled, "unsent items kept in the spool for the next start");
        }
        self.publish();
    }
}

impl<T: Transport> Sink for Delivery<T> {
    fn write(&mut self, batch: &FlushBatch) -> Result<WriteReport, SinkError> {
        let items = self.transport.encode(batch);
        let rows = items.iter().map(|i| i.rows).sum::<u64>();
        for item in items {
            self.add(item);
        }
        self.tick();
        Ok(WriteReport { entries: rows as usize, ..WriteReport::default() })
    }

    fn tick(&mut self) {
        Delivery::tick(self);
    }

    fn close(&mut self, deadline: Instant) {
        Delivery::close(self, deadline);
    }

    fn delivery_stats(&self) -> Option<Arc<DeliveryStats>> {
        Some(self.stats.clone())
    }
}

#[cfg(test)]
mod tests;
