//! The ClickHouse sink against a real server (Debian's clickhouse-server 18.16, legacy schema
//! profile): an IPFIX capture replayed through a print plugin and a clickhouse plugin with the
//! same aggregate; the table holds exactly the rows the print plugin wrote. A table whose
//! columns do not match is refused with the column named.

mod clickhouse_support;
mod daemon;

use std::collections::BTreeSet;
use std::process::Command;

use clickhouse_support::Clickhouse;
use daemon::{BIN, shared};
use pmacct_user::config::{PluginConfig, PluginKind};
use pmacct_user::sink::clickhouse::{ClickhouseConfig, ClickhouseError, ClickhouseSink, Profile};

const AGGREGATE: &str = "src_host, dst_host, src_port, dst_port, proto, tos";

/// `pmacct-rs replay` of pmacct's nfprobe IPFIX export with `conf`.
fn replay_ipfix(conf: &std::path::Path) {
    let pcap = shared("exports/pmacct_nfprobe_ipfix.pcap");
    let out = Command::new(BIN)
        .args(["replay", "--pcap"])
        .arg(&pcap)
        .arg("--config")
        .arg(conf)
        .output()
        .expect("replay");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
}

/// The rows of a print plugin's CSV, header left out.
fn printed_rows(csv: &std::path::Path) -> BTreeSet<String> {
    std::fs::read_to_string(csv)
        .expect("print output")
        .lines()
        .skip(1)
        .map(str::to_string)
        .collect()
}

#[test]
fn replayed_ipfix_lands_as_the_print_plugin_wrote_it() {
    let ch = Clickhouse::start();
    let dir = tempfile::tempdir().expect("tmp");
    let csv = dir.path().join("print.csv");
    let conf = dir.path().join("pmacct-rs.toml");
    std::fs::write(
        &conf,
        format!(
            r#"[daemon]
metrics_listen = "127.0.0.1:0"

[[collector]]
type = "netflow"

[[plugin]]
name = "p"
type = "print"
output = "csv"
output_file = "{}"
refresh_time = 86400
aggregate = "{AGGREGATE}"

[[plugin]]
name = "ch"
type = "clickhouse"
refresh_time = 86400
aggregate = "{AGGREGATE}"
[plugin.clickhouse]
url = "{}"
profile = "legacy"
"#,
            csv.display(),
            ch.url()
        ),
    )
    .expect("conf");
    replay_ipfix(&conf);

    let printed = printed_rows(&csv);
    let stored: BTreeSet<String> = ch
        .query(
            "SELECT ip_src, ip_dst, port_src, port_dst, ip_proto, tos, packets, bytes \
             FROM default.pmacct_ch FORMAT CSV",
        )
        .lines()
        .map(|l| l.replace('"', ""))
        .collect();
    assert!(printed.len() > 100, "only {} rows printed", printed.len());
    eprintln!("{} rows printed, {} stored", printed.len(), stored.len());
    assert_eq!(stored, printed);
    let stamps = ch.query("SELECT count() FROM default.pmacct_ch WHERE stamp_updated > 0");
    assert_eq!(stamps.trim(), printed.len().to_string());
}

/// Custom primitives (`aggregate_primitives`) become `String` columns named as defined, holding
/// what the print plugin prints for them.
#[test]
fn custom_primitives_land_as_printed() {
    let ch = Clickhouse::start();
    let dir = tempfile::tempdir().expect("tmp");
    let prims = dir.path().join("primitives.lst");
    std::fs::write(
        &prims,
        "name=src4\tfield_type=8\tlen=4\tsemantics=ip\n\
         name=sport\tfield_type=7\tlen=2\tsemantics=u_int\n\
         name=proto_x\tfield_type=4\tlen=1\tsemantics=hex\n",
    )
    .expect("primitives");
    let csv = dir.path().join("print.csv");
    let conf = dir.path().join("pmacct-rs.toml");
    let agg = "dst_host, src4, sport, proto_x";
    std::fs::write(
        &conf,
        format!(
            r#"[daemon]
metrics_listen = "127.0.0.1:0"

[[collector]]
type = "netflow"

[[plugin]]
name = "p"
type = "print"
output = "csv"
output_file = "{}"
refresh_time = 86400
aggregate = "{agg}"
aggregate_primitives = "{}"

[[plugin]]
name = "chc"
type = "clickhouse"
refresh_time = 86400
aggregate = "{agg}"
aggregate_primitives = "{}"
[plugin.clickhouse]
url = "{}"
profile = "legacy"
"#,
            csv.display(),
            prims.display(),
            prims.display(),
            ch.url()
        ),
    )
    .expect("conf");
    replay_ipfix(&conf);
    let printed = printed_rows(&csv);
    let stored: BTreeSet<String> = ch
        .query("SELECT ip_dst, src4, sport, proto_x, packets, bytes FROM default.pmacct_chc FORMAT CSV")
        .lines()
        .map(|l| l.replace('"', ""))
        .collect();
    assert!(printed.len() > 100, "only {} rows printed", printed.len());
    let src4_set = |r: &String| r.split(',').nth(1).is_some_and(|v| v.contains('.'));
    assert!(printed.iter().all(src4_set), "src4 (a custom ip primitive) printed");
    assert_eq!(stored, printed);
}

#[test]
fn a_mismatching_table_is_refused_naming_the_column() {
    let ch = Clickhouse::start();
    ch.query(
        "CREATE TABLE default.pmacct_bad (ip_src String, packets UInt32, bytes UInt64, \
         flows UInt64, stamp_inserted DateTime, stamp_updated DateTime) \
         ENGINE = MergeTree() PARTITION BY toYYYYMMDD(stamp_inserted) ORDER BY stamp_inserted",
    );
    let plugin = PluginConfig {
        aggregate: vec!["src_host".into()],
        ..PluginConfig::new("bad", PluginKind::Clickhouse)
    };
    let cfg = ClickhouseConfig { url: ch.url(), profile: Profile::Legacy, ..Default::default() };
    let err = ClickhouseSink::start(&plugin, &cfg).err().expect("refused");
    assert!(matches!(err, ClickhouseError::Schema(_)), "{err}");
    assert_eq!(
        err.to_string(),
        "table default.pmacct_bad: column 'packets' is UInt32, expected UInt64"
    );
    // A server that is not there: a clear transport error naming the URL.
    let cfg = ClickhouseConfig {
        url: "http://127.0.0.1:9".into(),
        profile: Profile::Legacy,
        ..Default::default()
    };
    let err = ClickhouseSink::start(&plugin, &cfg).err().expect("no server");
    assert!(err.to_string().contains("127.0.0.1:9"), "{err}");
}

/// `deploy/clickhouse/rollups.sql` on a real server: the 1-minute, 5-minute and 1-hour summing
/// tables fed by materialized views add up to what the plugin inserted.
#[test]
fn deploy_rollups_sum_to_the_base_table() {
    let ch = Clickhouse::start();
    let plugin = PluginConfig {
        aggregate:
            "src_host, dst_host, src_port, dst_port, proto, src_as, dst_as, in_iface, out_iface"
                .split(',')
                .map(|s| s.trim().to_string())
                .collect(),
        history: Some("1m".into()),
        ..PluginConfig::new("flows", PluginKind::Clickhouse)
    };
    let cfg = ClickhouseConfig { url: ch.url(), profile: Profile::Legacy, ..Default::default() };
    // The sink creates default.pmacct_flows; the rollups are applied on top of it.
    drop(ClickhouseSink::start(&plugin, &cfg).expect("table created"));
    let rollups = std::fs::read_to_string(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../deploy/clickhouse/rollups.sql"),
    )
    .expect("rollups.sql");
    let without_ttl: String = rollups
        .lines()
        .filter(|l| !l.trim_end().ends_with("-- ttl") && !l.trim_start().starts_with("--"))
        .collect::<Vec<_>>()
        .join("\n");
    for stmt in without_ttl.split(';').map(str::trim).filter(|s| !s.is_empty()) {
        let out = ch.query(stmt);
        assert!(!out.contains("Exception"), "{stmt}: {out}");
    }
    let dir = tempfile::tempdir().expect("tmp");
    let conf = dir.path().join("pmacct-rs.toml");
    let toml = format!(
        "[daemon]\nmetrics_listen = \"127.0.0.1:0\"\n\n[[collector]]\ntype = \"netflow\"\n\n\
         [[plugin]]\nname = \"flows\"\ntype = \"clickhouse\"\nrefresh_time = 86400\n\
         history = \"1m\"\naggregate = \"{}\"\n[plugin.clickhouse]\nurl = \"{}\"\n\
         profile = \"legacy\"\n",
        plugin.aggregate.join(", "),
        ch.url()
    );
    std::fs::write(&conf, toml).expect("conf");
    let out = Command::new(BIN)
        .args(["replay", "--pcap"])
        .arg(shared("exports/pmacct_nfprobe_ipfix.pcap"))
        .arg("--config")
        .arg(&conf)
        .output()
        .expect("replay");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let total = |table: &str| {
        ch.query(&format!("SELECT sum(packets), sum(bytes), sum(flows) FROM default.{table}"))
    };
    let base = total("pmacct_flows");
    assert!(base.trim() != "0\t0\t0" && !base.is_empty(), "{base}");
    for rollup in ["pmacct_flows_1m", "pmacct_flows_5m", "pmacct_flows_1h"] {
        assert_eq!(total(rollup), base, "{rollup}");
    }
    let rows = |sql: &str| ch.query(sql).trim().parse::<u64>().expect("count");
    let base_rows = rows("SELECT count() FROM default.pmacct_flows");
    let hour_rows = rows(
        "SELECT uniqExact(stamp, as_src, as_dst, ip_proto, iface_in, iface_out) \
         FROM default.pmacct_flows_1h",
    );
    assert!(hour_rows > 0 && hour_rows < base_rows, "{hour_rows} hourly rows vs {base_rows}");
}

/// A daemon config: a NetFlow collector on `udp`, a print plugin and a clickhouse plugin with
/// the same aggregate, flushing every second, spooling everything past a 1-byte memory bound.
fn live_conf(dir: &std::path::Path, ch: &Clickhouse, udp: u16, metrics: u16) -> std::path::PathBuf {
    live_conf_with(dir, ch, udp, metrics, "")
}

/// [`live_conf`] with more `[plugin.delivery]` lines.
fn live_conf_with(
    dir: &std::path::Path,
    ch: &Clickhouse,
    udp: u16,
    metrics: u16,
    delivery: &str,
) -> std::path::PathBuf {
    let conf = dir.join("pmacct-rs.toml");
    std::fs::write(
        &conf,
        format!(
            r#"[daemon]
metrics_listen = "127.0.0.1:{metrics}"
shutdown_timeout_secs = 3

[[collector]]
type = "netflow"
listen = ["127.0.0.1:{udp}"]

[[plugin]]
name = "p"
type = "print"
output = "csv"
output_file = "{}"
refresh_time = 86400
aggregate = "{AGGREGATE}"

[[plugin]]
name = "live"
type = "clickhouse"
refresh_time = 1
aggregate = "{AGGREGATE}"
[plugin.clickhouse]
url = "{}"
profile = "legacy"
timeout_secs = 2
[plugin.delivery]
memory_bytes = 1
spool_dir = "{}"
retry_initial_ms = 100
retry_max_ms = 400
{delivery}
"#,
            dir.join("print.csv").display(),
            ch.url(),
            dir.join("spool").display()
        ),
    )
    .expect("conf");
    conf
}

/// Packets per printed key, and per stored key.
fn totals(dir: &std::path::Path, ch: &Clickhouse) -> (u64, u64) {
    let printed: u64 = std::fs::read_to_string(dir.join("print.csv"))
        .expect("print output")
        .lines()
        .skip(1)
        .filter_map(|l| l.split(',').nth(6)?.parse::<u64>().ok())
        .sum();
    let stored =
        ch.query("SELECT sum(packets) FROM default.pmacct_live").trim().parse().unwrap_or(0);
    (printed, stored)
}

/// The server killed mid-stream while NetFlow keeps arriving, then started again: every row
/// arrives (once), and the metrics show the retries and the spool in use meanwhile.
#[test]
fn outage_mid_stream_loses_nothing() {
    let mut ch = Clickhouse::start();
    let dir = tempfile::tempdir().expect("tmp");
    let (udp, metrics) = (daemon::free_udp_port(), daemon::free_tcp_port());
    let conf = live_conf(dir.path(), &ch, udp, metrics);
    let d = daemon::Daemon::spawn(
        None,
        &["run", "--config", &conf.to_string_lossy()],
        dir.path().join("log"),
    );
    d.wait_log("listening", 1, std::time::Duration::from_secs(20));
    daemon::send_capture("softflowd_v9", udp);
    std::thread::sleep(std::time::Duration::from_millis(2500));
    ch.kill();
    daemon::send_capture("pmacct_nfprobe_v9", udp);
    std::thread::sleep(std::time::Duration::from_millis(2500));
    let text = daemon::scrape(metrics);
    let live = "plugin=\"live\"";
    assert!(daemon::metric_sum(&text, "pmacct_sink_retries_total", live) > 0, "{text}");
    assert!(daemon::metric_sum(&text, "pmacct_sink_spool_items", live) > 0, "{text}");
    let failed_at = daemon::metric_sum(&text, "pmacct_sink_last_error_time_seconds", live);
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).expect("clock");
    assert!(failed_at + 60 > now.as_secs() && failed_at <= now.as_secs(), "{text}");
    ch.resume();
    std::thread::sleep(std::time::Duration::from_millis(2500));
    let text = daemon::scrape(metrics);
    assert_eq!(daemon::metric_sum(&text, "pmacct_sink_spool_items", live), 0, "{text}");
    assert_eq!(daemon::metric_sum(&text, "pmacct_sink_rows_dropped_total", live), 0, "{text}");
    d.stop();
    let (printed, stored) = totals(dir.path(), &ch);
    assert!(printed > 0);
    assert_eq!(stored, printed, "every packet in ClickHouse exactly once");
}

/// SIGTERM while the server is down leaves the rows in the spool; the next start (server up)
/// sends them.
#[test]
fn spooled_rows_survive_a_restart_of_the_daemon() {
    let mut ch = Clickhouse::start();
    let dir = tempfile::tempdir().expect("tmp");
    let (udp, metrics) = (daemon::free_udp_port(), daemon::free_tcp_port());
    let conf = live_conf(dir.path(), &ch, udp, metrics);
    let log = dir.path().join("log");
    let d = daemon::Daemon::spawn(None, &["run", "--config", &conf.to_string_lossy()], log.clone());
    d.wait_log("listening", 1, std::time::Duration::from_secs(20));
    ch.kill();
    daemon::send_capture("softflowd_v9", udp);
    d.stop();
    let spooled = std::fs::read_dir(dir.path().join("spool")).expect("spool dir").count();
    assert!(spooled > 0, "nothing spooled");
    ch.resume();
    let (udp, metrics) = (daemon::free_udp_port(), daemon::free_tcp_port());
    let conf = live_conf(dir.path(), &ch, udp, metrics);
    let d = daemon::Daemon::spawn(
        None,
        &["run", "--config", &conf.to_string_lossy()],
        dir.path().join("log2"),
    );
    d.wait_log("listening", 1, std::time::Duration::from_secs(20));
    std::thread::sleep(std::time::Duration::from_millis(1500));
    d.stop();
    let (printed, stored) = totals(dir.path(), &ch);
    assert!(printed > 0);
    assert_eq!(stored, printed, "the spooled rows arrived after the restart");
    assert_eq!(std::fs::read_dir(dir.path().join("spool")).expect("spool").count(), 0);
}

/// With `batch_delay_ms`, the one-second flushes of a live stream are merged into one batch
/// that waits (here: longer than the test) and is sent at shutdown; every row arrives once.
/// (The row and byte bounds that seal a batch early are unit-tested in `sink::delivery`.)
#[test]
fn batching_merges_flushes_and_sends_the_batch_at_shutdown() {
    let ch = Clickhouse::start();
    let dir = tempfile::tempdir().expect("tmp");
    let (udp, metrics) = (daemon::free_udp_port(), daemon::free_tcp_port());
    let conf = live_conf_with(dir.path(), &ch, udp, metrics, "batch_delay_ms = 600000");
    let d = daemon::Daemon::spawn(
        None,
        &["run", "--config", &conf.to_string_lossy()],
        dir.path().join("log"),
    );
    d.wait_log("listening", 1, std::time::Duration::from_secs(20));
    for capture in ["softflowd_v9", "pmacct_nfprobe_v9", "softflowd_v5"] {
        daemon::send_capture(capture, udp);
        std::thread::sleep(std::time::Duration::from_millis(1300));
    }
    std::thread::sleep(std::time::Duration::from_millis(1500));
    let text = daemon::scrape(metrics);
    let live = "plugin=\"live\"";
    let written = daemon::metric_sum(&text, "pmacct_plugin_rows_written_total", live);
    assert!(written > 1500, "several flushes' rows handed to the sink: {text}");
    assert_eq!(daemon::metric_sum(&text, "pmacct_sink_messages_sent_total", live), 0, "{text}");
    assert_eq!(daemon::metric_sum(&text, "pmacct_sink_queue_items", live), 1, "{text}");
    assert_eq!(ch.query("SELECT count() FROM default.pmacct_live").trim(), "0");
    d.stop();
    let (printed, stored) = totals(dir.path(), &ch);
    assert!(printed > 0);
    assert_eq!(stored, printed, "every packet in ClickHouse exactly once");
}
