//! The AMQP sink through broker outages, against a private RabbitMQ node that the test starts,
//! kills (SIGKILL) or freezes (SIGSTOP) and starts again (the shared broker on 5672 is never
//! touched).
//!
//! Semantics under test: the sink publishes with publisher confirms and counts a message sent
//! only once the broker confirmed it; unconfirmed items are retried, spooled and replayed. With
//! `amqp_persistent_msg: true` and a durable queue, a confirmed message is on the broker's disk,
//! so it survives the crash: nothing is lost. Delivery is at least once in general (a crash
//! between the broker's write and its confirm makes the sink send that item again); these tests
//! crash the broker while the sink is idle (everything sent was confirmed), so they expect
//! exactly once and count duplicates to show it; the frozen-broker test gives up a connection
//! mid-publish, so there duplicates are expected and only loss fails. The exchange is declared as pmacct declares it
//! (not durable), so it dies with the node; the node's definitions (loaded at every boot, before
//! the listeners open) re-create it and its binding to the durable queue, so no message
//! published after the restart is unroutable (RabbitMQ confirms an unroutable message and
//! drops it: the sink, like pmacct, publishes without `mandatory`).

mod amqp_outage_support;
mod daemon;
mod outage_support;
mod rabbitmq_support;

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use amqp_outage_support::{compare, drain, metric, printed, wait_idle, wait_metrics};
use rabbitmq_support::Rabbit;

const AGGREGATE: &str = "src_host, dst_host, src_port, dst_port, proto, tos";
const EXCHANGE: &str = "pmacct_rs_outage";
const QUEUE: &str = "pmacct_rs_outage_q";

/// The durable queue bound to the (pmacct-style, non-durable) exchange. A node that loads
/// definitions does not seed its default user, so guest/guest is in them: the hash is
/// RabbitMQ's SHA-256 scheme, base64(salt ++ sha256(salt ++ "guest")), salt "pmrs".
fn definitions() -> String {
    serde_json::json!({
        "users": [{"name": "guest", "password_hash": "cG1yc6XoLrNZIzF7gf/ubr9km7NfSGgiiFjUvuMBEttI2kYa",
                   "hashing_algorithm": "rabbit_password_hashing_sha256", "tags": ["administrator"]}],
        "vhosts": [{"name": "/"}],
        "permissions": [{"user": "guest", "vhost": "/", "configure": ".*", "write": ".*",
                         "read": ".*"}],
        "exchanges": [{"name": EXCHANGE, "vhost": "/", "type": "direct", "durable": false,
                       "auto_delete": false, "internal": false, "arguments": {}}],
        "queues": [{"name": QUEUE, "vhost": "/", "durable": true, "auto_delete": false,
                    "arguments": {}}],
        "bindings": [{"source": EXCHANGE, "vhost": "/", "destination": QUEUE,
                      "destination_type": "queue", "routing_key": "acct", "arguments": {}}],
    })
    .to_string()
}

/// A daemon config: a NetFlow collector on `udp`, a print plugin (JSON) and an amqp plugin
/// with the same aggregate, flushing every second, spooling everything past a 1-byte memory
/// bound, persistent messages.
fn live_conf(dir: &Path, rabbit: &Rabbit, udp: u16, metrics: u16, print: &str) -> PathBuf {
    live_conf_with(dir, rabbit, (udp, metrics), print, (1, 3, 1))
}

/// [`live_conf`] with `memory_bytes`, `shutdown_timeout_secs` and the amqp `timeout_secs`.
fn live_conf_with(
    dir: &Path,
    rabbit: &Rabbit,
    (udp, metrics): (u16, u16),
    print: &str,
    (memory_bytes, shutdown_secs, timeout): (u64, u64, u64),
) -> PathBuf {
    let conf = dir.join("pmacct-rs.toml");
    std::fs::write(
        &conf,
        format!(
            r#"[daemon]
metrics_listen = "127.0.0.1:{metrics}"
shutdown_timeout_secs = {shutdown_secs}

[[collector]]
type = "netflow"
listen = ["127.0.0.1:{udp}"]

[[plugin]]
name = "p"
type = "print"
output = "json"
output_file = "{}"
refresh_time = 86400
aggregate = "{AGGREGATE}"

[[plugin]]
name = "live"
type = "amqp"
refresh_time = 1
aggregate = "{AGGREGATE}"
[plugin.amqp]
host = "{}"
exchange = "{EXCHANGE}"
routing_key = "acct"
persistent = true
timeout_secs = {timeout}
[plugin.delivery]
memory_bytes = {memory_bytes}
spool_dir = "{}"
retry_initial_ms = 100
retry_max_ms = 400
"#,
            dir.join(print).display(),
            rabbit.host(),
            dir.join("spool").display()
        ),
    )
    .expect("conf");
    conf
}

/// The broker killed mid-stream while NetFlow keeps arriving, then started again: every
/// aggregate arrives, once; the metrics show retries and the spool in use meanwhile.
#[test]
fn outage_mid_stream_loses_nothing() {
    let mut rabbit = Rabbit::start(Some(&definitions()));
    let dir = tempfile::tempdir().expect("tmp");
    let (udp, metrics) = (daemon::free_udp_port(), daemon::free_tcp_port());
    let conf = live_conf(dir.path(), &rabbit, udp, metrics, "print.json");
    let d = daemon::Daemon::spawn(
        None,
        &["run", "--config", &conf.to_string_lossy()],
        dir.path().join("log"),
    );
    d.wait_log("listening", 1, Duration::from_secs(20));
    daemon::send_capture("softflowd_v9", udp);
    wait_idle(&d, metrics);
    let before = metric(&daemon::scrape(metrics), "pmacct_sink_rows_sent_total");
    rabbit.kill();
    daemon::send_capture("pmacct_nfprobe_v9", udp);
    let text = wait_metrics(&d, metrics, "retrying and spooling", Duration::from_secs(20), |t| {
        metric(t, "pmacct_sink_retries_total") > 0 && metric(t, "pmacct_sink_spool_items") > 0
    });
    assert_eq!(metric(&text, "pmacct_sink_rows_sent_total"), before, "sent while down?");
    rabbit.resume();
    let text = wait_metrics(&d, metrics, "spool replayed", Duration::from_secs(30), |t| {
        metric(t, "pmacct_sink_spool_items") == 0
            && metric(t, "pmacct_sink_rows_sent_total") > before
    });
    assert_eq!(metric(&text, "pmacct_sink_rows_dropped_total"), 0, "{text}");
    d.stop();
    let want = printed(&dir.path().join("print.json"));
    let (got, messages) = drain(&rabbit, QUEUE);
    let (missing, duplicates) = compare(&want, &got);
    eprintln!(
        "{} aggregates printed, {messages} messages ({before} rows before the outage), \
         {duplicates} duplicate packets",
        want.len()
    );
    assert!(want.len() > 100, "{} aggregates printed", want.len());
    assert!(missing.is_empty(), "{} lost: {:?}", missing.len(), &missing[..missing.len().min(3)]);
    assert_eq!(duplicates, 0, "the broker was killed while the sink was idle");
}

/// SIGTERM while the broker is down leaves the aggregates in the spool; the next start (broker
/// up) sends them.
#[test]
fn spooled_rows_survive_a_restart_of_the_daemon() {
    let mut rabbit = Rabbit::start(Some(&definitions()));
    let dir = tempfile::tempdir().expect("tmp");
    let (udp, metrics) = (daemon::free_udp_port(), daemon::free_tcp_port());
    let conf = live_conf(dir.path(), &rabbit, udp, metrics, "print.json");
    let d = daemon::Daemon::spawn(
        None,
        &["run", "--config", &conf.to_string_lossy()],
        dir.path().join("log"),
    );
    d.wait_log("listening", 1, Duration::from_secs(20));
    rabbit.kill();
    daemon::send_capture("softflowd_v9", udp);
    d.stop();
    let spooled = std::fs::read_dir(dir.path().join("spool")).expect("spool dir").count();
    assert!(spooled > 0, "nothing spooled");
    let want = printed(&dir.path().join("print.json"));
    assert!(want.len() > 10, "{} aggregates printed", want.len());
    rabbit.resume();
    let (udp, metrics) = (daemon::free_udp_port(), daemon::free_tcp_port());
    let conf = live_conf(dir.path(), &rabbit, udp, metrics, "print2.json");
    let d = daemon::Daemon::spawn(
        None,
        &["run", "--config", &conf.to_string_lossy()],
        dir.path().join("log2"),
    );
    d.wait_log("listening", 1, Duration::from_secs(20));
    let text = wait_metrics(&d, metrics, "spool replayed", Duration::from_secs(30), |t| {
        metric(t, "pmacct_sink_spool_items") == 0 && metric(t, "pmacct_sink_rows_sent_total") > 0
    });
    assert_eq!(metric(&text, "pmacct_sink_rows_dropped_total"), 0, "{text}");
    d.stop();
    let (got, messages) = drain(&rabbit, QUEUE);
    let (missing, duplicates) = compare(&want, &got);
    eprintln!("{} aggregates printed, {spooled} spooled items, {messages} messages", want.len());
    assert!(missing.is_empty(), "{} lost: {:?}", missing.len(), &missing[..missing.len().min(3)]);
    assert_eq!(duplicates, 0);
    assert_eq!(std::fs::read_dir(dir.path().join("spool")).expect("spool").count(), 0);
}

/// A broker that stops answering (SIGSTOP: its port still accepts TCP, nothing replies) must
/// not hold the sink thread: connects and confirms time out (`timeout_secs`), are retried, and
/// flushes go to the spool; once the broker answers again every aggregate arrives. At least
/// once: what the abandoned connection had published reaches the queue too (duplicates,
/// counted and shown).
#[test]
fn a_hung_broker_does_not_hold_the_sink() {
    let rabbit = Rabbit::start(Some(&definitions()));
    let dir = tempfile::tempdir().expect("tmp");
    let (udp, metrics) = (daemon::free_udp_port(), daemon::free_tcp_port());
    let conf = live_conf(dir.path(), &rabbit, udp, metrics, "print.json");
    let d = daemon::Daemon::spawn(
        None,
        &["run", "--config", &conf.to_string_lossy()],
        dir.path().join("log"),
    );
    d.wait_log("listening", 1, Duration::from_secs(20));
    daemon::send_capture("softflowd_v9", udp);
    wait_idle(&d, metrics);
    let before = metric(&daemon::scrape(metrics), "pmacct_sink_rows_sent_total");
    rabbit.freeze();
    daemon::send_capture("pmacct_nfprobe_v9", udp);
    wait_metrics(&d, metrics, "retrying and spooling", Duration::from_secs(20), |t| {
        metric(t, "pmacct_sink_retries_total") > 0 && metric(t, "pmacct_sink_spool_items") > 0
    });
    rabbit.thaw();
    let text = wait_metrics(&d, metrics, "spool replayed", Duration::from_secs(30), |t| {
        metric(t, "pmacct_sink_spool_items") == 0
            && metric(t, "pmacct_sink_rows_sent_total") > before
    });
    assert_eq!(metric(&text, "pmacct_sink_rows_dropped_total"), 0, "{text}");
    assert_eq!(metric(&text, "pmacct_plugin_batches_dropped_total"), 0, "{text}");
    // The connections given up while the broker was frozen do not linger: one is left.
    let start = Instant::now();
    loop {
        let conns = rabbit.ctl(&["list_connections", "-q", "peer_port", "state"]).expect("ctl");
        if conns.lines().skip(1).count() == 1 {
            break;
        }
        assert!(start.elapsed() < Duration::from_secs(20), "connections:\n{conns}");
        std::thread::sleep(Duration::from_millis(200));
    }
    d.stop();
    let want = printed(&dir.path().join("print.json"));
    let (got, messages) = drain(&rabbit, QUEUE);
    let (missing, duplicates) = compare(&want, &got);
    eprintln!(
        "{} aggregates printed, {messages} messages, {duplicates} duplicate packets",
        want.len()
    );
    assert!(want.len() > 100, "{} aggregates printed", want.len());
    assert!(missing.is_empty(), "{} lost: {:?}", missing.len(), &missing[..missing.len().min(3)]);
}

/// SIGTERM while the broker hangs, the unsent rows in memory (under `memory_bytes`, not
/// spilled), one send (`timeout_secs` 3) longer than the shutdown timeout (1 s): the rows
/// should be spooled before the daemon gives up on the sink, and sent by the next start.
///
/// The sink thread may be inside a send when SIGTERM comes and the daemon stops waiting for
/// it: the delivery queue writes what waits to the spool as soon as a send fails, so nothing
/// is left only in memory.
#[test]
fn sigterm_with_a_frozen_broker_spools_what_is_in_memory() {
    let rabbit = Rabbit::start(Some(&definitions()));
    let dir = tempfile::tempdir().expect("tmp");
    let (udp, metrics) = (daemon::free_udp_port(), daemon::free_tcp_port());
    let conf = live_conf_with(dir.path(), &rabbit, (udp, metrics), "print.json", (64 << 20, 1, 3));
    let d = daemon::Daemon::spawn(
        None,
        &["run", "--config", &conf.to_string_lossy()],
        dir.path().join("log"),
    );
    d.wait_log("listening", 1, Duration::from_secs(20));
    rabbit.freeze();
    daemon::send_capture("softflowd_v9", udp);
    wait_metrics(&d, metrics, "retrying from the spool", Duration::from_secs(20), |t| {
        metric(t, "pmacct_sink_retries_total") > 0 && metric(t, "pmacct_sink_spool_items") > 0
    });
    d.stop();
    let spooled = std::fs::read_dir(dir.path().join("spool")).expect("spool dir").count();
    assert!(
        spooled > 0,
        "nothing spooled:\n{}",
        std::fs::read_to_string(dir.path().join("log")).unwrap_or_default()
    );
    let want = printed(&dir.path().join("print.json"));
    rabbit.thaw();
    let (udp, metrics) = (daemon::free_udp_port(), daemon::free_tcp_port());
    let conf = live_conf(dir.path(), &rabbit, udp, metrics, "print2.json");
    let d = daemon::Daemon::spawn(
        None,
        &["run", "--config", &conf.to_string_lossy()],
        dir.path().join("log2"),
    );
    d.wait_log("listening", 1, Duration::from_secs(20));
    wait_metrics(&d, metrics, "spool replayed", Duration::from_secs(30), |t| {
        metric(t, "pmacct_sink_spool_items") == 0 && metric(t, "pmacct_sink_rows_sent_total") > 0
    });
    d.stop();
    let (got, messages) = drain(&rabbit, QUEUE);
    let (missing, duplicates) = compare(&want, &got);
    eprintln!(
        "{} aggregates printed, {messages} messages, {duplicates} duplicate packets",
        want.len()
    );
    assert!(want.len() > 100, "{} aggregates printed", want.len());
    assert!(missing.is_empty(), "{} lost: {:?}", missing.len(), &missing[..missing.len().min(3)]);
}
