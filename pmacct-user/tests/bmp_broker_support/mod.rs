//! What the BMP broker tests share: the gobgpd capture fed to an in-process daemon over TCP,
//! pmacct's `writer_id` taken off broker messages, and an AMQP queue bound to an exchange.
#![allow(dead_code)]

use std::io::Write;
use std::net::TcpStream;
use std::path::Path;
use std::time::{Duration, Instant};

use lapin::options::{
    BasicGetOptions, ExchangeDeclareOptions, QueueBindOptions, QueueDeclareOptions,
};
use lapin::types::FieldTable;
use lapin::{Connection, ConnectionProperties, ExchangeKind};
use pmacct_user::config::BmpConfig;
use pmacct_user::routing::bmp_daemon::{BmpDaemon, BrokerStats};

/// gobgpd 3.10's BMP stream (Initiation, Peer Up, Route Monitoring, Statistics, ...).
pub const STREAM: &[u8] = include_bytes!("../data/bmp/gobgpd-3.10-loopback.bmp");

/// The system RabbitMQ the AMQP tests publish to (never stopped by the tests).
pub const RABBIT: &str = "amqp://guest:guest@127.0.0.1:5672/%2f";

/// The offsets of the BMP messages in [`STREAM`] (common header: version, length, type).
fn message_starts() -> Vec<usize> {
    let (mut starts, mut at) = (Vec::new(), 0usize);
    while let Some(h) = STREAM.get(at..at + 5) {
        starts.push(at);
        at += u32::from_be_bytes([h[1], h[2], h[3], h[4]]) as usize;
    }
    starts
}

/// [`STREAM`] without its last message, the Peer Down (type 2): the peer stays up with its
/// routes, for dumps. Its number of messages.
pub fn stream_peer_up() -> (&'static [u8], u64) {
    let starts = message_starts();
    let last = *starts.last().expect("messages");
    assert_eq!(STREAM[last + 5], 2, "the capture ends with a Peer Down");
    (&STREAM[..last], starts.len() as u64 - 1)
}

/// `msg` without its trailing `, "writer_id": "default/<pid>"` (checked: the daemon's pid).
pub fn strip_writer(msg: &str, pid: u32) -> String {
    let suffix = format!(", \"writer_id\": \"default/{pid}\"}}");
    match msg.strip_suffix(&suffix) {
        Some(body) => format!("{body}}}"),
        None => panic!("no writer_id default/{pid} at the end of {msg}"),
    }
}

/// The lines of a file (none if absent).
pub fn lines(path: &Path) -> Vec<String> {
    std::fs::read_to_string(path).unwrap_or_default().lines().map(str::to_string).collect()
}

/// Waits until the msglog file at `log` holds the router's `log_close`.
pub fn wait_log_close(log: &Path) -> Vec<String> {
    let start = Instant::now();
    while !std::fs::read_to_string(log).unwrap_or_default().contains("\"log_close\"") {
        assert!(start.elapsed() < Duration::from_secs(30), "no log_close in {}", log.display());
        std::thread::sleep(Duration::from_millis(20));
    }
    lines(log)
}

/// Starts a daemon on `cfg`, sends [`STREAM`] and closes the session, waits for the
/// `log_close` in `dir/msglog-127_0_0_1.json`, stops the daemon (which sends what is queued):
/// the msglog file's lines and the broker outputs' counters.
pub fn replay_and_stop(cfg: &BmpConfig, dir: &Path) -> (Vec<String>, Vec<BrokerStats>) {
    let d = BmpDaemon::start(cfg, BmpDaemon::new_rib(cfg)).expect("start");
    TcpStream::connect(d.local_addr()).and_then(|mut c| c.write_all(STREAM)).expect("send");
    let lines = wait_log_close(&dir.join("msglog-127_0_0_1.json"));
    let stats = d.broker_stats();
    d.stop();
    (lines, stats)
}

/// Starts a daemon on `cfg` and sends [`stream_peer_up`], keeping the session open until every
/// message is decoded: the daemon and the open connection.
pub fn replay_and_hold(cfg: &BmpConfig) -> (BmpDaemon, TcpStream) {
    let d = BmpDaemon::start(cfg, BmpDaemon::new_rib(cfg)).expect("start");
    let mut c = TcpStream::connect(d.local_addr()).expect("connect");
    let (stream, want) = stream_peer_up();
    c.write_all(stream).expect("send");
    let start = Instant::now();
    while d.stats().messages < want {
        assert!(start.elapsed() < Duration::from_secs(30), "{:?} of {want}", d.stats());
        std::thread::sleep(Duration::from_millis(20));
    }
    (d, c)
}

/// Rows the broker acknowledged, summed over the outputs named `name`.
pub fn rows_sent(stats: &[BrokerStats], name: &str) -> u64 {
    stats
        .iter()
        .filter(|s| s.name == name)
        .map(|s| s.stats.rows_sent.load(std::sync::atomic::Ordering::Relaxed))
        .sum()
}

/// A queue bound to `exchange`/`key` on the broker at `uri` (the exchange declared as pmacct
/// declares it), drained on demand.
pub struct Queue {
    rt: tokio::runtime::Runtime,
    _conn: Connection,
    ch: lapin::Channel,
    name: String,
}

impl Queue {
    pub fn bind(uri: &str, exchange: &str, keys: &[&str]) -> Queue {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .expect("runtime");
        let (conn, ch, name) = rt.block_on(async {
            let conn = Connection::connect(uri, ConnectionProperties::default())
                .await
                .expect("RabbitMQ (.ci/run starts it on 127.0.0.1:5672)");
            let ch = conn.create_channel().await.expect("channel");
            ch.exchange_declare(
                exchange.into(),
                ExchangeKind::Direct,
                ExchangeDeclareOptions::default(),
                FieldTable::default(),
            )
            .await
            .expect("exchange");
            let q = ch
                .queue_declare(
                    "".into(),
                    QueueDeclareOptions { exclusive: true, ..Default::default() },
                    FieldTable::default(),
                )
                .await
                .expect("queue");
            let name = q.name().to_string();
            for key in keys {
                ch.queue_bind(
                    name.as_str().into(),
                    exchange.into(),
                    (*key).into(),
                    QueueBindOptions::default(),
                    FieldTable::default(),
                )
                .await
                .expect("bind");
            }
            (conn, ch, name)
        });
        Queue { rt, _conn: conn, ch, name }
    }

    /// Every message (routing key, body) until none arrives for `quiet`.
    pub fn drain(&self, quiet: Duration) -> Vec<(String, String)> {
        let mut out = Vec::new();
        let mut last = Instant::now();
        while last.elapsed() < quiet {
            let got = self.rt.block_on(async {
                self.ch
                    .basic_get(self.name.as_str().into(), BasicGetOptions { no_ack: true })
                    .await
                    .expect("basic_get")
            });
            match got {
                Some(m) => {
                    let key = m.delivery.routing_key.to_string();
                    out.push((key, String::from_utf8_lossy(&m.delivery.data).into_owned()));
                    last = Instant::now();
                }
                None => std::thread::sleep(Duration::from_millis(50)),
            }
        }
        out
    }
}

impl Queue {
    /// Every message on the existing queue `queue` at `uri` until none arrives for `quiet`.
    pub fn drain_named(uri: &str, queue: &str, quiet: Duration) -> Vec<String> {
        let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("rt");
        let (conn, ch) = rt.block_on(async {
            let conn =
                Connection::connect(uri, ConnectionProperties::default()).await.expect("connect");
            let ch = conn.create_channel().await.expect("channel");
            (conn, ch)
        });
        let q = Queue { rt, _conn: conn, ch, name: queue.to_string() };
        q.drain(quiet).into_iter().map(|(_, m)| m).collect()
    }
}
