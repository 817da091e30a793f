//! The Kafka sink through broker outages, against a private `tansu` broker (SQLite storage in a
//! temp dir, so what it acknowledged survives a crash) that the test kills (SIGKILL) and starts
//! again on the same port.
//!
//! Semantics under test: a message counts as sent only when its delivery report says the
//! broker acknowledged it; an item with any failed report is retried whole, spooled past the
//! memory bound (here 1 byte: everything unsent is on disk) and replayed in order. Delivery is
//! at least once: the messages of a retried item that the broker had taken arrive twice; the
//! tests count such duplicates and fail only on a loss.

mod daemon;
mod outage_support;
mod tansu_support;

use std::path::{Path, PathBuf};
use std::time::Duration;

use outage_support::{Totals, add, compare, metric, printed, wait_idle, wait_metrics};
use tansu_support::Tansu;

const AGGREGATE: &str = "src_host, dst_host, src_port, dst_port, proto, tos";
const TOPIC: &str = "pmacct_rs_outage";

/// A daemon config: a NetFlow collector on `udp`, a print plugin (JSON) and a kafka plugin
/// `live` with the same aggregate, flushing every second, `memory_bytes` in memory, spooling to
/// `spool` up to `spool_bytes`; SIGTERM waits 3 s for the sinks.
fn live_conf(
    dir: &Path,
    tansu: &Tansu,
    ports: (u16, u16),
    print: &str,
    (memory_bytes, spool_bytes): (u64, u64),
) -> PathBuf {
    live_conf_with(dir, tansu, ports, print, (memory_bytes, spool_bytes, 3))
}

/// [`live_conf`] with the shutdown timeout.
fn live_conf_with(
    dir: &Path,
    tansu: &Tansu,
    (udp, metrics): (u16, u16),
    print: &str,
    (memory_bytes, spool_bytes, shutdown_secs): (u64, u64, u64),
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
type = "kafka"
refresh_time = 1
aggregate = "{AGGREGATE}"
[plugin.kafka]
broker_host = "127.0.0.1"
broker_port = {}
topic = "{TOPIC}"
timeout_secs = 2
[plugin.delivery]
memory_bytes = {memory_bytes}
spool_dir = "{}"
spool_bytes = {spool_bytes}
retry_initial_ms = 100
retry_max_ms = 400
"#,
            dir.join(print).display(),
            tansu.port,
            dir.join("spool").display()
        ),
    )
    .expect("conf");
    conf
}

fn spawn(dir: &Path, conf: &Path, log: &str) -> daemon::Daemon {
    let d =
        daemon::Daemon::spawn(None, &["run", "--config", &conf.to_string_lossy()], dir.join(log));
    d.wait_log("listening", 1, Duration::from_secs(20));
    d
}

/// What the broker holds in the topic: totals and message count.
fn stored(tansu: &Tansu) -> (Totals, usize) {
    let mut t = Totals::new();
    let recs = tansu.consume(TOPIC, 1);
    for r in &recs {
        add(&mut t, &r.payload);
    }
    (t, recs.len())
}

/// The broker killed mid-stream while NetFlow keeps arriving, then started again: every
/// aggregate arrives; meanwhile the metrics show retries and the spool in use.
#[test]
fn outage_mid_stream_loses_nothing() {
    let mut tansu = Tansu::start();
    tansu.create_topics(&[TOPIC], 1);
    let dir = tempfile::tempdir().expect("tmp");
    let (udp, metrics) = (daemon::free_udp_port(), daemon::free_tcp_port());
    let conf = live_conf(dir.path(), &tansu, (udp, metrics), "print.json", (1, 1 << 30));
    let d = spawn(dir.path(), &conf, "log");
    daemon::send_capture("softflowd_v9", udp);
    wait_idle(&d, metrics);
    let before = metric(&daemon::scrape(metrics), "pmacct_sink_rows_sent_total");
    tansu.kill();
    daemon::send_capture("pmacct_nfprobe_v9", udp);
    let text = wait_metrics(&d, metrics, "retrying and spooling", Duration::from_secs(30), |t| {
        metric(t, "pmacct_sink_retries_total") > 0 && metric(t, "pmacct_sink_spool_items") > 0
    });
    assert_eq!(metric(&text, "pmacct_sink_rows_sent_total"), before, "sent while down?");
    let (retries, spooled) =
        (metric(&text, "pmacct_sink_retries_total"), metric(&text, "pmacct_sink_spool_bytes"));
    tansu.resume();
    let text = wait_metrics(&d, metrics, "spool replayed", Duration::from_secs(60), |t| {
        metric(t, "pmacct_sink_spool_items") == 0
            && metric(t, "pmacct_sink_queue_items") == 0
            && metric(t, "pmacct_sink_rows_sent_total") > before
    });
    assert_eq!(metric(&text, "pmacct_sink_rows_dropped_total"), 0, "{text}");
    d.stop();
    let want = printed(&dir.path().join("print.json"));
    let (got, messages) = stored(&tansu);
    let (missing, duplicates) = compare(&want, &got);
    eprintln!(
        "{} aggregates printed, {messages} messages stored ({before} rows sent before the \
         outage; {retries} retries and {spooled} spool bytes seen while down), {duplicates} \
         duplicate packets",
        want.len()
    );
    assert!(want.len() > 100, "{} aggregates printed", want.len());
    assert!(missing.is_empty(), "{} lost: {:?}", missing.len(), &missing[..missing.len().min(3)]);
}

/// A broker that stops answering (SIGSTOP: its port accepts, nothing replies) mid-stream: the
/// delivery reports time out (`timeout_secs` 2), what librdkafka holds is purged, the item is
/// retried and spooled; once the broker answers again every aggregate arrives. At least once:
/// what the broker had read before it froze is stored when it resumes, and sent again by the
/// retry: duplicates, counted and shown.
#[test]
fn a_hung_broker_does_not_hold_the_sink() {
    let tansu = Tansu::start();
    tansu.create_topics(&[TOPIC], 1);
    let dir = tempfile::tempdir().expect("tmp");
    let (udp, metrics) = (daemon::free_udp_port(), daemon::free_tcp_port());
    let conf = live_conf(dir.path(), &tansu, (udp, metrics), "print.json", (1, 1 << 30));
    let d = spawn(dir.path(), &conf, "log");
    daemon::send_capture("softflowd_v9", udp);
    wait_idle(&d, metrics);
    let before = metric(&daemon::scrape(metrics), "pmacct_sink_rows_sent_total");
    tansu.freeze();
    daemon::send_capture("pmacct_nfprobe_v9", udp);
    let text = wait_metrics(&d, metrics, "retrying and spooling", Duration::from_secs(30), |t| {
        metric(t, "pmacct_sink_retries_total") > 0 && metric(t, "pmacct_sink_spool_items") > 0
    });
    let retries = metric(&text, "pmacct_sink_retries_total");
    tansu.thaw();
    let text = wait_metrics(&d, metrics, "spool replayed", Duration::from_secs(90), |t| {
        metric(t, "pmacct_sink_spool_items") == 0
            && metric(t, "pmacct_sink_queue_items") == 0
            && metric(t, "pmacct_sink_rows_sent_total") > before
    });
    assert_eq!(metric(&text, "pmacct_sink_rows_dropped_total"), 0, "{text}");
    assert_eq!(metric(&text, "pmacct_plugin_batches_dropped_total"), 0, "{text}");
    d.stop();
    let want = printed(&dir.path().join("print.json"));
    let (got, messages) = stored(&tansu);
    let (missing, duplicates) = compare(&want, &got);
    eprintln!(
        "{} aggregates printed, {messages} messages stored ({retries} retries while frozen), \
         {duplicates} duplicate packets",
        want.len()
    );
    assert!(missing.is_empty(), "{} lost: {:?}", missing.len(), &missing[..missing.len().min(3)]);
}

/// The broker down and a spool bound smaller than what arrives: the oldest spooled rows are
/// dropped, counted; the spool stays under its bound; once the broker is back the rest arrives:
/// every row the plugin flushed is sent or counted as dropped, the broker holds exactly the
/// sent ones, and none it holds is beyond what the print plugin counted.
#[test]
fn spool_bound_exceeded_drops_are_counted() {
    let mut tansu = Tansu::start();
    tansu.create_topics(&[TOPIC], 1);
    let dir = tempfile::tempdir().expect("tmp");
    let (udp, metrics) = (daemon::free_udp_port(), daemon::free_tcp_port());
    // One capture flushes ~160 kB of messages: the spool holds one, not two.
    let bound = 200 << 10;
    let conf = live_conf(dir.path(), &tansu, (udp, metrics), "print.json", (1, bound));
    let d = spawn(dir.path(), &conf, "log");
    tansu.kill();
    daemon::send_capture("softflowd_v9", udp);
    wait_metrics(&d, metrics, "spooling", Duration::from_secs(30), |t| {
        metric(t, "pmacct_sink_spool_items") > 0
    });
    daemon::send_capture("pmacct_nfprobe_v9", udp);
    let text = wait_metrics(&d, metrics, "dropping", Duration::from_secs(30), |t| {
        metric(t, "pmacct_sink_rows_dropped_total") > 0
    });
    assert!(metric(&text, "pmacct_sink_spool_bytes") <= bound, "{text}");
    // Let the remaining flushes land (refresh_time 1 s), then bring the broker back.
    std::thread::sleep(Duration::from_secs(3));
    tansu.resume();
    let text = wait_metrics(&d, metrics, "spool replayed", Duration::from_secs(60), |t| {
        metric(t, "pmacct_sink_spool_items") == 0
            && metric(t, "pmacct_sink_queue_items") == 0
            && metric(t, "pmacct_sink_rows_sent_total") > 0
    });
    d.stop();
    let want = printed(&dir.path().join("print.json"));
    let (written, sent, dropped) = (
        metric(&text, "pmacct_plugin_rows_written_total"),
        metric(&text, "pmacct_sink_rows_sent_total"),
        metric(&text, "pmacct_sink_rows_dropped_total"),
    );
    let (got, messages) = stored(&tansu);
    let (missing, extra) = compare(&want, &got);
    eprintln!(
        "{} aggregates printed, {written} rows flushed to the sink: {sent} sent, {dropped} \
         dropped (spool bound {bound} bytes); {messages} messages stored, {} aggregates short",
        want.len(),
        missing.len()
    );
    assert!(dropped > 0 && sent > 0);
    assert_eq!(sent + dropped, written, "every row sent or counted as dropped");
    assert_eq!(messages as u64, sent);
    assert_eq!(extra, 0, "the broker holds more than was counted");
    assert!(!missing.is_empty(), "drops must show as missing aggregates");
}

/// SIGTERM while the broker is down leaves the aggregates in the spool; the next start (broker
/// up) sends them.
#[test]
fn spooled_rows_survive_a_restart_of_the_daemon() {
    let mut tansu = Tansu::start();
    tansu.create_topics(&[TOPIC], 1);
    let dir = tempfile::tempdir().expect("tmp");
    let (udp, metrics) = (daemon::free_udp_port(), daemon::free_tcp_port());
    let conf = live_conf(dir.path(), &tansu, (udp, metrics), "print.json", (1, 1 << 30));
    let d = spawn(dir.path(), &conf, "log");
    tansu.kill();
    daemon::send_capture("softflowd_v9", udp);
    d.stop();
    let spooled = std::fs::read_dir(dir.path().join("spool")).expect("spool dir").count();
    assert!(spooled > 0, "nothing spooled");
    let want = printed(&dir.path().join("print.json"));
    assert!(want.len() > 10, "{} aggregates printed", want.len());
    tansu.resume();
    let (udp, metrics) = (daemon::free_udp_port(), daemon::free_tcp_port());
    let conf = live_conf(dir.path(), &tansu, (udp, metrics), "print2.json", (1, 1 << 30));
    let d = spawn(dir.path(), &conf, "log2");
    let text = wait_metrics(&d, metrics, "spool replayed", Duration::from_secs(60), |t| {
        metric(t, "pmacct_sink_spool_items") == 0 && metric(t, "pmacct_sink_rows_sent_total") > 0
    });
    assert_eq!(metric(&text, "pmacct_sink_rows_dropped_total"), 0, "{text}");
    d.stop();
    let (got, messages) = stored(&tansu);
    let (missing, duplicates) = compare(&want, &got);
    eprintln!(
        "{} aggregates printed, {spooled} spooled items, {messages} messages stored, \
         {duplicates} duplicate packets",
        want.len()
    );
    assert!(missing.is_empty(), "{} lost: {:?}", missing.len(), &missing[..missing.len().min(3)]);
    assert_eq!(std::fs::read_dir(dir.path().join("spool")).expect("spool").count(), 0);
}

/// SIGTERM while the broker hangs, the unsent rows in memory (under `memory_bytes`, not
/// spilled), a send (`timeout_secs` 2, plus the wait for its reports) longer than the shutdown
/// timeout (1 s): the delivery queue wrote what waits to the spool when the first send failed,
/// so the next start (broker answering) sends it.
#[test]
fn sigterm_with_a_frozen_broker_spools_what_is_in_memory() {
    let tansu = Tansu::start();
    tansu.create_topics(&[TOPIC], 1);
    let dir = tempfile::tempdir().expect("tmp");
    let (udp, metrics) = (daemon::free_udp_port(), daemon::free_tcp_port());
    let conf =
        live_conf_with(dir.path(), &tansu, (udp, metrics), "print.json", (64 << 20, 1 << 30, 1));
    let d = spawn(dir.path(), &conf, "log");
    tansu.freeze();
    daemon::send_capture("softflowd_v9", udp);
    wait_metrics(&d, metrics, "retrying from the spool", Duration::from_secs(30), |t| {
        metric(t, "pmacct_sink_retries_total") > 0 && metric(t, "pmacct_sink_spool_items") > 0
    });
    d.stop();
    let spooled = std::fs::read_dir(dir.path().join("spool")).expect("spool dir").count();
    assert!(spooled > 0, "nothing spooled");
    let want = printed(&dir.path().join("print.json"));
    tansu.thaw();
    let (udp, metrics) = (daemon::free_udp_port(), daemon::free_tcp_port());
    let conf = live_conf(dir.path(), &tansu, (udp, metrics), "print2.json", (1, 1 << 30));
    let d = spawn(dir.path(), &conf, "log2");
    wait_metrics(&d, metrics, "spool replayed", Duration::from_secs(60), |t| {
        metric(t, "pmacct_sink_spool_items") == 0 && metric(t, "pmacct_sink_rows_sent_total") > 0
    });
    d.stop();
    let (got, messages) = stored(&tansu);
    let (missing, duplicates) = compare(&want, &got);
    eprintln!(
        "{} aggregates printed, {spooled} spooled items, {messages} messages stored, \
         {duplicates} duplicate packets",
        want.len()
    );
    assert!(want.len() > 100, "{} aggregates printed", want.len());
    assert!(missing.is_empty(), "{} lost: {:?}", missing.len(), &missing[..missing.len().min(3)]);
}
