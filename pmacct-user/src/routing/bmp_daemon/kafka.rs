//! The BMP message log to Kafka (pmacct's `bmp_daemon_msglog_kafka_*`): every msglog line one
//! message, to the router's topic (`$peer_src_ip` / `$bmp_router`, `$peer_tcp_port` /
//! `$bmp_router_port` expanded per router, or round-robin over `<topic>_<n>`), through the
//! Kafka plugin's producer and delivery queue (delivery reports checked, retries, spool,
//! counted drops). Router threads hand lines over a bounded channel and never wait on the
//! broker; a full channel drops the line, counted (with the queue's drops, in the sink metrics
//! labelled `plugin="bmp_msglog"`) and logged.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc::{Receiver, RecvTimeoutError, SyncSender, TrySendError, sync_channel};
use std::sync::{Arc, Mutex, PoisonError};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use crate::sink::delivery::{Delivery, DeliveryConfig, DeliveryStats, Item};
use crate::sink::kafka::{KafkaConfig, KafkaSink, push_message};

/// Lines waiting between the router threads and the producer thread.
const CHANNEL_LINES: usize = 65_536;

/// The producer thread and the way to it.
pub(super) struct MsglogKafka {
    tx: Mutex<Option<SyncSender<(String, String)>>>,
    thread: Mutex<Option<JoinHandle<()>>>,
    /// Lines dropped because the channel was full.
    pub dropped: AtomicU64,
    pub stats: Arc<DeliveryStats>,
}

impl MsglogKafka {
    /// Makes the producer and starts its thread.
    pub(super) fn start(cfg: &KafkaConfig, delivery: DeliveryConfig) -> Result<Self, String> {
        let sink = KafkaSink::for_lines("bmp_msglog", cfg.clone()).map_err(|e| e.to_string())?;
        let delivery = Delivery::new("bmp_msglog", sink, delivery).map_err(|e| e.to_string())?;
        let stats = delivery.stats();
        let (tx, rx) = sync_channel(CHANNEL_LINES);
        let grace = Duration::from_secs(cfg.timeout_secs.max(1) + 5);
        let thread = std::thread::Builder::new()
            .name("bmp-kafka".into())
            .spawn(move || produce(rx, delivery, grace))
            .map_err(|e| e.to_string())?;
        Ok(MsglogKafka {
            tx: Mutex::new(Some(tx)),
            thread: Mutex::new(Some(thread)),
            dropped: AtomicU64::new(0),
            stats,
        })
    }

    /// Queues one line for `topic` (never blocks).
    pub(super) fn send(&self, topic: &str, line: String) {
        let tx = self.tx.lock().unwrap_or_else(PoisonError::into_inner);
        let Some(tx) = tx.as_ref() else { return };
        match tx.try_send((topic.to_string(), line)) {
            Ok(()) => {}
            Err(TrySendError::Full(_) | TrySendError::Disconnected(_)) => {
                self.stats.rows_dropped.fetch_add(1, Ordering::Relaxed);
                if self.dropped.fetch_add(1, Ordering::Relaxed).is_power_of_two() {
                    tracing::error!(
                        dropped = self.dropped.load(Ordering::Relaxed),
                        "BMP msglog to Kafka: producer queue full, lines dropped"
                    );
                }
            }
        }
    }

    /// Closes the channel; the thread sends (or spools) what is queued and ends.
    pub(super) fn finish(&self) {
        self.tx.lock().unwrap_or_else(PoisonError::into_inner).take();
        let thread = self.thread.lock().unwrap_or_else(PoisonError::into_inner).take();
        if let Some(t) = thread
            && t.join().is_err()
        {
            tracing::error!("the BMP msglog Kafka thread panicked");
        }
    }
}

/// The producer thread: lines grouped into items by topic, queued, sent; retries between.
fn produce(rx: Receiver<(String, String)>, mut delivery: Delivery<KafkaSink>, grace: Duration) {
    loop {
        match rx.recv_timeout(Duration::from_millis(200)) {
            Ok(first) => {
                let mut items: Vec<Item> = Vec::new();
                let mut add = |(topic, line): (String, String)| {
                    push_message(&mut items, &topic, b"", line.as_bytes(), 1);
                };
                add(first);
                for next in rx.try_iter().take(CHANNEL_LINES) {
                    add(next);
                }
                delivery.push(items);
            }
            Err(RecvTimeoutError::Timeout) => delivery.tick(),
            Err(RecvTimeoutError::Disconnected) => break,
        }
    }
    delivery.close(Instant::now() + grace);
}
