//! Per-plugin sink threads: each plugin's sink runs in its own thread fed by a bounded channel,
//! so ingestion never waits on output.

use std::sync::mpsc::{self, Receiver, RecvTimeoutError, SyncSender, TrySendError};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use anyhow::{Context, Result};
use tracing::{error, warn};

use crate::aggregate::FlushBatch;
use crate::config::PluginConfig;
use crate::metrics::{Metrics, PluginLabels, SinkCounters};

/// The metrics, also after a panic elsewhere poisoned the lock (plain counters stay usable).
fn lock(m: &Mutex<Metrics>) -> std::sync::MutexGuard<'_, Metrics> {
    match m.lock() {
        Ok(g) => g,
        Err(p) => p.into_inner(),
    }
}
use crate::sink::{self, Sink};

/// A plugin's sink running in its own thread.
pub(super) struct SinkWorker {
    pub(super) name: String,
    /// The config the sink was built from (a reload keeps the worker when it is unchanged).
    pub(super) config: PluginConfig,
    tx: Option<SyncSender<FlushBatch>>,
    handle: Option<JoinHandle<()>>,
    /// Shutdown deadline handed to the sink's `close` (set by [`SinkWorker::finish`]).
    deadline: Arc<Mutex<Option<Instant>>>,
}

/// How often an idle sink thread lets its sink retry.
const TICK: Duration = Duration::from_millis(200);

/// Flushes waiting per plugin before new ones are dropped.
const SINK_QUEUE: usize = 16;

impl SinkWorker {
    pub(super) fn spawn(cfg: &PluginConfig, metrics: Arc<Mutex<Metrics>>) -> Result<Self> {
        let mut sink: Box<dyn Sink> =
            sink::build_sink(cfg).with_context(|| format!("plugin '{}'", cfg.name))?;
        let (tx, rx): (SyncSender<FlushBatch>, Receiver<FlushBatch>) =
            mpsc::sync_channel(SINK_QUEUE);
        let name = cfg.name.clone();
        let label = PluginLabels { plugin: name.clone() };
        let deadline: Arc<Mutex<Option<Instant>>> = Arc::default();
        let close_by = deadline.clone();
        let handle = std::thread::Builder::new().name(format!("sink-{name}")).spawn(move || {
            let mut last = SinkCounters::default();
            loop {
                match rx.recv_timeout(TICK) {
                    Ok(batch) => {
                        let res = sink.write(&batch);
                        let m = lock(&metrics);
                        match res {
                            Ok(report) => {
                                let rows = report.entries as u64;
                                m.plugin_rows_written.get_or_create(&label).inc_by(rows);
                            }
                            Err(e) => {
                                m.plugin_write_errors.get_or_create(&label).inc();
                                error!(plugin = %label.plugin, error = %e, "sink write failed");
                            }
                        }
                    }
                    Err(RecvTimeoutError::Timeout) => sink.tick(),
                    Err(RecvTimeoutError::Disconnected) => {
                        let by = close_by
                            .lock()
                            .ok()
                            .and_then(|d| *d)
                            .unwrap_or_else(|| Instant::now() + Duration::from_secs(10));
                        sink.close(by);
                        if let Some(s) = sink.delivery_stats() {
                            lock(&metrics).sink.sync(&label, &s, &mut last);
                        }
                        return;
                    }
                }
                if let Some(s) = sink.delivery_stats() {
                    lock(&metrics).sink.sync(&label, &s, &mut last);
                }
            }
        })?;
        Ok(Self { name, config: cfg.clone(), tx: Some(tx), handle: Some(handle), deadline })
    }

    pub(super) fn send(&self, batch: FlushBatch, metrics: &Metrics) {
        let Some(tx) = &self.tx else { return };
        match tx.try_send(batch) {
            Ok(()) => {}
            Err(TrySendError::Full(_)) => {
                metrics
                    .plugin_batches_dropped
                    .get_or_create(&PluginLabels { plugin: self.name.clone() })
                    .inc();
                warn!(plugin = %self.name, "sink queue full: flush dropped");
            }
            Err(TrySendError::Disconnected(_)) => {
                warn!(plugin = %self.name, "sink thread gone: flush dropped");
            }
        }
    }

    /// Closes the queue and waits for the sink to write what it has, up to `deadline`.
    pub(super) fn finish(mut self, deadline: Instant) {
        if let Ok(mut d) = self.deadline.lock() {
            // Leave the sink a moment to spool before the daemon stops waiting.
            *d = Some(deadline.checked_sub(Duration::from_millis(200)).unwrap_or(deadline));
        }
        drop(self.tx.take());
        if let Some(h) = self.handle.take() {
            while !h.is_finished() && Instant::now() < deadline {
                std::thread::sleep(Duration::from_millis(10));
            }
            if h.is_finished() {
                let _ = h.join();
            } else {
                warn!(plugin = %self.name, "sink did not finish before the shutdown timeout");
            }
        }
    }
}
