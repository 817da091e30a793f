//! The BMP message log to a broker that is down (issue 7): a private `tansu` / a private
//! RabbitMQ node (never the shared one on :5672) killed with SIGKILL before the router's stream
//! arrives, started again on the same port later. Meanwhile the msglog lines are retried and
//! spooled (memory bound 1 byte: everything unsent is on disk); once the broker is back every
//! line arrives, in order (at least once: a duplicate would be counted, a loss fails).

mod bmp_broker_support;
mod daemon;
mod rabbitmq_support;
mod tansu_support;

use std::io::Write;
use std::net::TcpStream;
use std::path::Path;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use bmp_broker_support::{Queue, STREAM, rows_sent, strip_writer, wait_log_close};
use pmacct_user::config::BmpConfig;
use pmacct_user::routing::bmp_daemon::BmpDaemon;
use pmacct_user::sink::amqp::AmqpConfig;
use pmacct_user::sink::delivery::DeliveryConfig;
use pmacct_user::sink::kafka::KafkaConfig;
use rabbitmq_support::Rabbit;
use tansu_support::Tansu;

fn delivery(dir: &Path) -> DeliveryConfig {
    DeliveryConfig {
        memory_bytes: 1,
        spool_dir: Some(dir.join("spool")),
        retry_initial_ms: 100,
        retry_max_ms: 400,
        ..DeliveryConfig::default()
    }
}

fn base(dir: &Path) -> BmpConfig {
    BmpConfig {
        listen: "127.0.0.1:0".into(),
        msglog_file: Some(format!("{}/msglog-$peer_src_ip.json", dir.display())),
        ..BmpConfig::default()
    }
}

/// Runs the stream into a daemon whose broker is down; `restart` brings it back once the
/// daemon has retried and spooled. The msglog file's lines.
fn through_outage(cfg: &BmpConfig, dir: &Path, restart: impl FnOnce()) -> Vec<String> {
    let d = BmpDaemon::start(cfg, BmpDaemon::new_rib(cfg)).expect("start");
    TcpStream::connect(d.local_addr()).and_then(|mut c| c.write_all(STREAM)).expect("send");
    let lines = wait_log_close(&dir.join("msglog-127_0_0_1.json"));
    let start = Instant::now();
    let stats = loop {
        let s = d.broker_stats().remove(0).stats;
        if s.retries.load(Ordering::Relaxed) >= 2 && s.spool_items.load(Ordering::Relaxed) > 0 {
            break s;
        }
        assert!(start.elapsed() < Duration::from_secs(30), "no retries: {s:?}");
        std::thread::sleep(Duration::from_millis(50));
    };
    assert_eq!(stats.rows_sent.load(Ordering::Relaxed), 0, "sent while the broker was down");
    eprintln!(
        "outage: {} retries, {} items spooled ({} bytes), last error: {}",
        stats.retries.load(Ordering::Relaxed),
        stats.spool_items.load(Ordering::Relaxed),
        stats.spool_bytes.load(Ordering::Relaxed),
        stats.last_error.lock().map(|e| e.clone()).unwrap_or_default()
    );
    restart();
    let started = Instant::now();
    while rows_sent(&d.broker_stats(), "bmp_msglog") < lines.len() as u64 {
        assert!(started.elapsed() < Duration::from_secs(60), "{:?}", d.broker_stats());
        std::thread::sleep(Duration::from_millis(50));
    }
    eprintln!("all {} lines sent {:?} after the restart", lines.len(), started.elapsed());
    assert_eq!(stats.rows_dropped.load(Ordering::Relaxed), 0);
    assert_eq!(stats.spool_items.load(Ordering::Relaxed), 0, "spool emptied");
    d.stop();
    lines
}

/// Every line, in order, duplicates (at least once) allowed but only as repeats.
fn assert_all_in_order(got: &[String], lines: &[String]) {
    let mut firsts: Vec<&String> = Vec::new();
    for m in got {
        if !firsts.contains(&m) {
            firsts.push(m);
        }
    }
    eprintln!(
        "{} lines, {} messages ({} duplicates)",
        lines.len(),
        got.len(),
        got.len() - firsts.len()
    );
    assert_eq!(firsts, lines.iter().collect::<Vec<_>>());
}

#[test]
fn kafka_msglog_survives_a_broker_outage() {
    let mut tansu = Tansu::start();
    let topic = format!("pmrs_bmp_outage_{}", std::process::id());
    tansu.create_topics(&[&topic], 1);
    tansu.kill();
    let dir = tempfile::tempdir().expect("tmp");
    let cfg = BmpConfig {
        msglog_kafka: Some(KafkaConfig {
            broker_port: tansu.port,
            topic: topic.clone(),
            timeout_secs: 2,
            ..KafkaConfig::default()
        }),
        msglog_kafka_delivery: Some(delivery(dir.path())),
        ..base(dir.path())
    };
    let lines = through_outage(&cfg, dir.path(), || tansu.resume());
    let me = std::process::id();
    let got: Vec<String> =
        tansu.consume(&topic, 1).iter().map(|r| strip_writer(&r.payload, me)).collect();
    assert_all_in_order(&got, &lines);
}

/// The durable queue bound to the (pmacct-style, non-durable) exchange, loaded at every boot
/// (guest/guest's hash as in tests/sink_amqp_outage.rs).
fn definitions(exchange: &str, queue: &str, key: &str) -> String {
    serde_json::json!({
        "users": [{"name": "guest", "password_hash": "cG1yc6XoLrNZIzF7gf/ubr9km7NfSGgiiFjUvuMBEttI2kYa",
                   "hashing_algorithm": "rabbit_password_hashing_sha256", "tags": ["administrator"]}],
        "vhosts": [{"name": "/"}],
        "permissions": [{"user": "guest", "vhost": "/", "configure": ".*", "write": ".*",
                         "read": ".*"}],
        "exchanges": [{"name": exchange, "vhost": "/", "type": "direct", "durable": false,
                       "auto_delete": false, "internal": false, "arguments": {}}],
        "queues": [{"name": queue, "vhost": "/", "durable": true, "auto_delete": false,
                    "arguments": {}}],
        "bindings": [{"source": exchange, "vhost": "/", "destination": queue,
                      "destination_type": "queue", "routing_key": key, "arguments": {}}],
    })
    .to_string()
}

#[test]
fn amqp_msglog_survives_a_broker_outage() {
    let (exchange, queue, key) = ("pmrs_bmp_outage", "pmrs_bmp_outage_q", "bmp.127_0_0_1");
    let mut rabbit = Rabbit::start(Some(&definitions(exchange, queue, key)));
    rabbit.kill();
    let dir = tempfile::tempdir().expect("tmp");
    let cfg = BmpConfig {
        msglog_amqp: Some(AmqpConfig {
            host: rabbit.host(),
            exchange: exchange.into(),
            routing_key: "bmp.$bmp_router".into(),
            timeout_secs: 2,
            ..AmqpConfig::default()
        }),
        msglog_amqp_delivery: Some(delivery(dir.path())),
        ..base(dir.path())
    };
    let lines = through_outage(&cfg, dir.path(), || rabbit.resume());
    let me = std::process::id();
    let got: Vec<String> = Queue::drain_named(&rabbit.uri(), queue, Duration::from_secs(1))
        .iter()
        .map(|m| strip_writer(m, me))
        .collect();
    assert_all_in_order(&got, &lines);
}
