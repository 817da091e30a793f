//! The BMP message log and dumps to message brokers (pmacct's `bmp_daemon_msglog_kafka_*`,
//! `bmp_daemon_msglog_amqp_*`, `bmp_dump_kafka_*`, `bmp_dump_amqp_*`): every line the msglog or
//! dump file gets is one message, with pmacct's `writer_id` (`<core process name>/<pid>`,
//! `default/<pid>` as pmacct without `core_proc_name`) appended as `add_writer_name_and_pid_json`
//! does, to the router's topic / routing key (`$peer_src_ip` / `$bmp_router`, `$peer_tcp_port`
//! / `$bmp_router_port` expanded per router; dumps also strftime), or round-robin over
//! `<name>_<n>`, through the Kafka or AMQP plugin's transport and its delivery queue (acks or
//! publisher confirms, retries, spool, counted drops).
//!
//! One [`LineStream`] per output: a bounded channel to a producer thread that owns the
//! [`Delivery`]. Router threads hand msglog lines over without ever waiting on the broker (a
//! full channel drops the line, counted with the queue's drops and logged); the dump thread
//! waits for room (it is a thread of its own, as pmacct's dump child).

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc::{Receiver, RecvTimeoutError, SyncSender, TrySendError, sync_channel};
use std::sync::{Arc, Mutex, PoisonError};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use crate::sink::amqp::{self, AmqpConfig, AmqpSink};
use crate::sink::delivery::{Delivery, DeliveryConfig, DeliveryStats, Item, Transport};
use crate::sink::kafka::{KafkaConfig, KafkaSink, push_message};

/// Lines waiting between the router threads and a msglog producer thread (one line a
/// message); also the most lines a producer takes off its channel at once.
pub(super) const CHANNEL_LINES: usize = 65_536;
/// Lines per chunk the dump thread hands over.
pub(super) const DUMP_CHUNK: usize = 4096;
/// Chunks waiting between the dump thread and a dump producer thread.
pub(super) const DUMP_CHUNKS: usize = 16;

/// One message: destination (topic or routing key), Kafka partition key, body.
#[derive(Debug)]
pub(super) struct Line {
    pub dest: String,
    pub key: String,
    pub body: String,
}

/// pmacct's `writer_id` of the BMP daemon's messages: the core process name (`default`
/// unless `core_proc_name`, which we do not read) and our pid.
pub(super) fn writer_id() -> String {
    crate::sink::broker::writer_id("default")
}

/// `line` (one JSON object) with `"writer_id": ...` added as its last field.
pub(super) fn with_writer(line: &str, writer: &str) -> String {
    let body = line.strip_suffix('}').unwrap_or(line);
    let mut s = String::with_capacity(line.len() + writer.len() + 20);
    s.push_str(body);
    s.push_str(", \"writer_id\": \"");
    s.push_str(writer);
    s.push_str("\"}");
    s
}

/// A transport that takes rendered lines.
trait LineSink: Transport + 'static {
    fn push_line(items: &mut Vec<Item>, line: &Line);
}

impl LineSink for KafkaSink {
    fn push_line(items: &mut Vec<Item>, l: &Line) {
        push_message(items, &l.dest, l.key.as_bytes(), l.body.as_bytes(), 1);
    }
}

impl LineSink for AmqpSink {
    fn push_line(items: &mut Vec<Item>, l: &Line) {
        amqp::push_message(items, &l.dest, 1, l.body.as_bytes());
    }
}

/// Which broker an output goes to.
#[derive(Clone, Debug)]
pub(super) enum BrokerConfig {
    Kafka(KafkaConfig),
    Amqp(AmqpConfig),
}

impl BrokerConfig {
    /// `kafka` or `amqp`.
    pub(super) fn kind(&self) -> &'static str {
        match self {
            BrokerConfig::Kafka(_) => "kafka",
            BrokerConfig::Amqp(_) => "amqp",
        }
    }

    /// The topic / routing key template.
    pub(super) fn dest(&self) -> &str {
        match self {
            BrokerConfig::Kafka(k) => &k.topic,
            BrokerConfig::Amqp(a) => &a.routing_key,
        }
    }

    /// The Kafka partition key template.
    pub(super) fn key(&self) -> Option<&str> {
        match self {
            BrokerConfig::Kafka(k) => k.partition_key.as_deref(),
            BrokerConfig::Amqp(_) => None,
        }
    }

    fn timeout_secs(&self) -> u64 {
        match self {
            BrokerConfig::Kafka(k) => k.timeout_secs,
            BrokerConfig::Amqp(a) => a.timeout_secs,
        }
    }
}

/// A producer thread and the way to it.
pub(super) struct LineStream {
    /// `bmp_msglog` or `bmp_dump` (the metrics' plugin label, the logs' sink name).
    pub name: &'static str,
    /// The broker settings (templates of the names).
    pub cfg: BrokerConfig,
    tx: Mutex<Option<SyncSender<Vec<Line>>>>,
    thread: Mutex<Option<JoinHandle<()>>>,
    /// Lines dropped because the channel was full.
    pub dropped: AtomicU64,
    pub stats: Arc<DeliveryStats>,
}

impl LineStream {
    /// Makes the producer and starts its thread; `bound` messages (line batches) may wait
    /// for it.
    pub(super) fn start(
        name: &'static str,
        cfg: BrokerConfig,
        delivery: DeliveryConfig,
        bound: usize,
    ) -> Result<Self, String> {
        let grace = Duration::from_secs(cfg.timeout_secs().max(1) + 5);
        let (tx, rx) = sync_channel(bound);
        let thread_name = format!("{name}-{}", cfg.kind());
        let (thread, stats) = match &cfg {
            BrokerConfig::Kafka(k) => {
                let sink = KafkaSink::for_lines(name, k.clone()).map_err(|e| e.to_string())?;
                spawn(thread_name, name, sink, delivery, rx, grace)?
            }
            BrokerConfig::Amqp(a) => {
                let sink = AmqpSink::for_lines(name, a.clone()).map_err(|e| e.to_string())?;
                spawn(thread_name, name, sink, delivery, rx, grace)?
            }
        };
        Ok(LineStream {
            name,
            cfg,
            tx: Mutex::new(Some(tx)),
            thread: Mutex::new(Some(thread)),
            dropped: AtomicU64::new(0),
            stats,
        })
    }

    /// Queues lines without waiting; when the channel is full they are dropped, counted.
    pub(super) fn send(&self, lines: Vec<Line>) {
        let tx = self.tx.lock().unwrap_or_else(PoisonError::into_inner);
        let Some(tx) = tx.as_ref() else { return };
        match tx.try_send(lines) {
            Ok(()) => {}
            Err(TrySendError::Full(l) | TrySendError::Disconnected(l)) => self.count_drop(l.len()),
        }
    }

    /// Queues lines, waiting for room (the producer thread always drains the channel).
    pub(super) fn send_wait(&self, lines: Vec<Line>) {
        let tx = self.tx.lock().unwrap_or_else(PoisonError::into_inner).clone();
        let Some(tx) = tx else { return };
        if let Err(e) = tx.send(lines) {
            self.count_drop(e.0.len());
        }
    }

    fn count_drop(&self, n: usize) {
        let n = n as u64;
        if n == 0 {
            return;
        }
        self.stats.rows_dropped.fetch_add(n, Ordering::Relaxed);
        let before = self.dropped.fetch_add(n, Ordering::Relaxed);
        if (before + n).ilog2() != before.checked_ilog2().unwrap_or(u32::MAX) {
            tracing::error!(
                sink = self.name,
                broker = self.cfg.kind(),
                dropped = before + n,
                "BMP output: producer queue full, lines dropped"
            );
        }
    }

    /// Closes the channel; the thread sends (or spools) what is queued and ends.
    pub(super) fn finish(&self) {
        self.tx.lock().unwrap_or_else(PoisonError::into_inner).take();
        let thread = self.thread.lock().unwrap_or_else(PoisonError::into_inner).take();
        if let Some(t) = thread
            && t.join().is_err()
        {
            tracing::error!(sink = self.name, "a BMP broker thread panicked");
        }
    }
}

type Spawned = (JoinHandle<()>, Arc<DeliveryStats>);

fn spawn<T: LineSink>(
    thread: String,
    name: &str,
    sink: T,
    delivery: DeliveryConfig,
    rx: Receiver<Vec<Line>>,
    grace: Duration,
) -> Result<Spawned, String> {
    let delivery = Delivery::new(name, sink, delivery).map_err(|e| e.to_string())?;
    let stats = delivery.stats();
    let t = std::thread::Builder::new()
        .name(thread)
        .spawn(move || produce(rx, delivery, grace))
        .map_err(|e| e.to_string())?;
    Ok((t, stats))
}

/// The producer thread: lines grouped into items by destination, queued, sent; retries
/// between.
fn produce<T: LineSink>(rx: Receiver<Vec<Line>>, mut delivery: Delivery<T>, grace: Duration) {
    loop {
        match rx.recv_timeout(Duration::from_millis(200)) {
            Ok(first) => {
                let mut items: Vec<Item> = Vec::new();
                let mut n = 0usize;
                for chunk in std::iter::once(first).chain(rx.try_iter().take(CHANNEL_LINES)) {
                    for l in &chunk {
                        T::push_line(&mut items, l);
                    }
                    n += chunk.len();
                    if n >= CHANNEL_LINES {
                        break;
                    }
                }
                delivery.push(items);
            }
            Err(RecvTimeoutError::Timeout) => delivery.tick(),
            Err(RecvTimeoutError::Disconnected) => break,
        }
    }
    delivery.close(Instant::now() + grace);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn writer_id_is_the_last_field() {
        let line = "{\"event_type\": \"log_init\", \"seq\": 0}";
        assert_eq!(
            with_writer(line, "default/7"),
            "{\"event_type\": \"log_init\", \"seq\": 0, \"writer_id\": \"default/7\"}"
        );
        assert!(writer_id().starts_with("default/"));
    }

    #[test]
    fn lines_become_messages_per_destination() {
        let l = |d: &str, b: &str| Line { dest: d.into(), key: "k".into(), body: b.into() };
        let mut items = Vec::new();
        for line in [l("a", "1"), l("a", "2"), l("b", "3")] {
            AmqpSink::push_line(&mut items, &line);
        }
        let got: Vec<(&str, u64, Vec<&[u8]>)> = items
            .iter()
            .map(|i| (i.meta.as_str(), i.rows, crate::sink::broker::frames(&i.payload).collect()))
            .collect();
        assert_eq!(got, [("a", 2, vec![&b"1"[..], b"2"]), ("b", 1, vec![&b"3"[..]])]);
        let mut items = Vec::new();
        KafkaSink::push_line(&mut items, &l("t", "x"));
        let frames: Vec<&[u8]> = crate::sink::broker::frames(&items[0].payload).collect();
        assert_eq!(frames, [&b"k"[..], b"x"]);
    }
}
