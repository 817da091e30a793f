//! The ClickHouse sink's modern schema profile on a current engine: chdb (ClickHouse 26.x
//! in-process) behind a small HTTP front (`clickhouse_support/chdb_http.py`). The IPFIX capture
//! replayed through a print plugin and a clickhouse plugin (default profile: `IPv6`,
//! `LowCardinality(String)`, `DateTime64(6)`, TTL) must leave exactly the printed rows; the
//! deploy rollups (materialized views with their TTLs) must sum to the base table.
//!
//! The capture's flows are from 2026-01-01 (the generated traffic's clock), so TTLs shorter than
//! their age really delete them: a table with `ttl_days = 30` keeps nothing, and of the rollups
//! (TTL 7, 30 and 365 days) only the hourly one keeps rows.

mod clickhouse_support;
mod daemon;

use std::collections::BTreeSet;
use std::process::Command;

use clickhouse_support::Clickhouse;
use daemon::{BIN, shared};

const AGGREGATE: &str = "src_host, dst_host, src_port, dst_port, proto, src_as, dst_as, \
                         in_iface, out_iface, timestamp_start";

/// A print plugin and the `flows` clickhouse plugin with the same aggregate, one-minute bins,
/// rows kept `ttl_days`.
fn conf(dir: &std::path::Path, ch: &Clickhouse, ttl_days: u32) -> std::path::PathBuf {
    let conf = dir.join("pmacct-rs.toml");
    let text = format!(
        r#"[daemon]
metrics_listen = "127.0.0.1:0"

[[collector]]
type = "netflow"

[[plugin]]
name = "p"
type = "print"
output = "json"
output_file = "{}"
refresh_time = 86400
history = "1m"
aggregate = "{AGGREGATE}"

[[plugin]]
name = "flows"
type = "clickhouse"
refresh_time = 86400
history = "1m"
aggregate = "{AGGREGATE}"
[plugin.clickhouse]
url = "{}"
ttl_days = {ttl_days}
"#,
        dir.join("print.json").display(),
        ch.url()
    );
    std::fs::write(&conf, text).expect("conf");
    conf
}

fn replay(conf: &std::path::Path) {
    let out = Command::new(BIN)
        .args(["replay", "--pcap"])
        .arg(shared("exports/pmacct_nfprobe_ipfix.pcap"))
        .arg("--config")
        .arg(conf)
        .output()
        .expect("replay");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
}

/// One printed JSON row as the columns the table holds, tab-separated.
fn printed_row(line: &str) -> String {
    let v: serde_json::Value = serde_json::from_str(line).expect("json row");
    let s = |k: &str| v[k].as_str().unwrap_or_default().to_string();
    let n = |k: &str| v[k].as_u64().unwrap_or_default().to_string();
    // pmacct prints timestamps in local time, the server returns them in its time zone (UTC
    // here, as the tests run); IPv4 addresses come back as IPv4-mapped IPv6.
    let v6 = |a: String| if a.contains(':') { a } else { format!("::ffff:{a}") };
    [
        v6(s("ip_src")),
        v6(s("ip_dst")),
        n("port_src"),
        n("port_dst"),
        s("ip_proto"),
        n("as_src"),
        n("as_dst"),
        n("iface_in"),
        n("iface_out"),
        n("packets"),
        n("bytes"),
    ]
    .join("\t")
}

#[test]
fn modern_schema_on_a_current_engine_holds_what_print_wrote() {
    let ch = Clickhouse::start_chdb();
    assert!(ch.query("SELECT version()").starts_with("26."), "{}", ch.query("SELECT version()"));
    let dir = tempfile::tempdir().expect("tmp");
    replay(&conf(dir.path(), &ch, 3650));

    let describe = ch.query("DESCRIBE TABLE default.pmacct_flows");
    for (col, ty) in [
        ("ip_src", "IPv6"),
        ("ip_proto", "LowCardinality(String)"),
        ("timestamp_start", "DateTime64(6)"),
        ("stamp_inserted", "DateTime"),
    ] {
        assert!(describe.contains(&format!("{col}\t{ty}")), "{col} {ty} in:\n{describe}");
    }
    let create = ch.query("SHOW CREATE TABLE default.pmacct_flows");
    assert!(create.contains("TTL stamp_inserted + toIntervalDay(3650)"), "{create}");

    let printed: BTreeSet<String> = std::fs::read_to_string(dir.path().join("print.json"))
        .expect("print output")
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(printed_row)
        .collect();
    let stored: BTreeSet<String> = ch
        .query(
            "SELECT ip_src, ip_dst, port_src, port_dst, ip_proto, as_src, as_dst, iface_in, \
             iface_out, packets, bytes FROM default.pmacct_flows",
        )
        .lines()
        .map(str::to_string)
        .collect();
    assert!(printed.len() > 100, "only {} rows printed", printed.len());
    assert_eq!(stored, printed);
    // The microsecond timestamps survive: as many distinct start times as printed.
    let distinct_ts = ch.query("SELECT uniqExact(timestamp_start) FROM default.pmacct_flows");
    let printed_ts: BTreeSet<String> = std::fs::read_to_string(dir.path().join("print.json"))
        .expect("print output")
        .lines()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .filter_map(|v| v["timestamp_start"].as_str().map(str::to_string))
        .collect();
    assert_eq!(distinct_ts.trim(), printed_ts.len().to_string());
}

#[test]
fn rows_older_than_the_ttl_are_deleted_by_the_server() {
    let ch = Clickhouse::start_chdb();
    let dir = tempfile::tempdir().expect("tmp");
    replay(&conf(dir.path(), &ch, 30));
    let create = ch.query("SHOW CREATE TABLE default.pmacct_flows");
    assert!(create.contains("TTL stamp_inserted + toIntervalDay(30)"), "{create}");
    let printed = std::fs::read_to_string(dir.path().join("print.json")).expect("print output");
    assert!(printed.lines().count() > 100, "the replay printed rows");
    ch.query("OPTIMIZE TABLE default.pmacct_flows FINAL");
    assert_eq!(ch.query("SELECT count() FROM default.pmacct_flows").trim(), "0");
}

#[test]
fn deploy_rollups_with_ttl_sum_to_the_base_table_on_a_current_engine() {
    let ch = Clickhouse::start_chdb();
    let dir = tempfile::tempdir().expect("tmp");
    // A first replay creates and fills the table; the rollups (TTL lines included) go on top.
    let conf = conf(dir.path(), &ch, 3650);
    replay(&conf);
    let rollups = std::fs::read_to_string(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../deploy/clickhouse/rollups.sql"),
    )
    .expect("rollups.sql");
    let statements: String = rollups
        .lines()
        .map(|l| l.trim_end().trim_end_matches("-- ttl"))
        .filter(|l| !l.trim_start().starts_with("--"))
        .collect::<Vec<_>>()
        .join("\n");
    for stmt in statements.split(';').map(str::trim).filter(|s| !s.is_empty()) {
        let out = ch.query(stmt);
        assert!(!out.contains("Exception"), "{stmt}: {out}");
    }
    // POPULATE filled the views from what the first replay inserted; a second replay goes
    // through the views as it is inserted.
    replay(&conf);
    let total = |table: &str| {
        ch.query(&format!("SELECT sum(packets), sum(bytes), sum(flows) FROM default.{table}"))
    };
    let base = total("pmacct_flows");
    assert!(!base.is_empty() && !base.starts_with("0\t"), "{base}");
    // The hourly rollup (TTL 365 days) holds everything; the 1-minute and 5-minute ones
    // (7 and 30 days) deleted these January flows.
    assert_eq!(total("pmacct_flows_1h"), base);
    for (rollup, days) in
        [("pmacct_flows_1m", 7), ("pmacct_flows_5m", 30), ("pmacct_flows_1h", 365)]
    {
        let create = ch.query(&format!("SHOW CREATE TABLE default.{rollup}"));
        let ttl = format!("TTL stamp + toIntervalDay({days})");
        assert!(create.contains(&ttl), "{rollup}: {create}");
    }
    for rollup in ["pmacct_flows_1m", "pmacct_flows_5m"] {
        ch.query(&format!("OPTIMIZE TABLE default.{rollup} FINAL"));
        let n = ch.query(&format!("SELECT count() FROM default.{rollup}"));
        assert_eq!(n.trim(), "0", "{rollup}");
    }
    let hours = ch.query("SELECT uniqExact(stamp) FROM default.pmacct_flows_1h");
    assert_eq!(hours.trim(), "1", "the flows span one hour");
}
