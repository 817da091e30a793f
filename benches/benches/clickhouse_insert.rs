//! Rows per second into ClickHouse: flushes of a 5-tuple plugin (distinct keys, one bin) encoded
//! as RowBinary and inserted over HTTP by the ClickHouse sink, batch by batch, into a private
//! Debian clickhouse-server (18.16, legacy schema profile) started for the run.
//!
//! Run: `cargo xtask bench clickhouse` or
//! `cargo bench -p pmacct-benches --bench clickhouse_insert -- --rows=1000000 --batch=100000`.

use std::net::TcpListener;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use pmacct_benches::live::Guard;
use pmacct_user::aggregate::{Bin, FlushBatch, PrimitiveSet};
use pmacct_user::config::{PluginConfig, PluginKind};
use pmacct_user::record::{Counters, FlowFields};
use pmacct_user::sink::clickhouse::{ClickhouseConfig, ClickhouseSink, Profile};
use pmacct_user::sink::delivery::Transport;

fn arg(name: &str, default: u64) -> u64 {
    std::env::args()
        .skip(1)
        .find_map(|a| a.strip_prefix(&format!("--{name}=")).and_then(|v| v.parse().ok()))
        .unwrap_or(default)
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0").and_then(|l| l.local_addr()).map(|a| a.port()).unwrap_or(18123)
}

fn batch(set: PrimitiveSet, from: u64, n: u64) -> FlushBatch {
    let entries = (from..from + n)
        .map(|k| {
            let b = (k as u32).to_be_bytes();
            let f = FlowFields {
                src_ip: std::net::Ipv4Addr::new(10, b[0], b[1], b[2]).into(),
                dst_ip: std::net::Ipv4Addr::new(172, 16, b[3], 1).into(),
                src_port: 1024 + (k % 50_000) as u16,
                dst_port: 443,
                proto: 6,
                ..FlowFields::default()
            };
            (f, Counters { packets: 3, bytes: 1800, flows: 1, ..Counters::default() })
        })
        .collect::<Vec<_>>()
        .into();
    FlushBatch {
        plugin: "bench".into(),
        primitives: set,
        history: false,
        flushed_at: 1_700_000_000,
        bins: vec![Bin { start: 0, entries }],
    }
}

fn main() {
    let rows = arg("rows", 1_000_000);
    let per_batch = arg("batch", 100_000).max(1);
    let server = Path::new("/usr/sbin/clickhouse-server");
    if !server.exists() {
        eprintln!("clickhouse_insert: clickhouse-server missing (cargo xtask setup installs it)");
        return;
    }
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let dir = tempfile::tempdir().expect("tempdir");
    let (http_port, tcp_port) = (free_port(), free_port());
    let template = std::fs::read_to_string(root.join("deploy/clickhouse/local-server.xml"))
        .expect("deploy/clickhouse/local-server.xml");
    let cfg_path = dir.path().join("config.xml");
    std::fs::write(
        &cfg_path,
        template
            .replace("{dir}", &dir.path().display().to_string())
            .replace("{http_port}", &http_port.to_string())
            .replace("{tcp_port}", &tcp_port.to_string()),
    )
    .expect("config");
    let _server = Guard(
        Command::new(server)
            .arg(format!("--config-file={}", cfg_path.display()))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("clickhouse-server"),
    );
    let set = PrimitiveSet::parse("src_host,dst_host,src_port,dst_port,proto").expect("set");
    let plugin = PluginConfig {
        aggregate: set.iter().map(|p| p.name().to_string()).collect(),
        ..PluginConfig::new("bench", PluginKind::Clickhouse)
    };
    let cfg = ClickhouseConfig {
        url: format!("http://127.0.0.1:{http_port}"),
        profile: Profile::Legacy,
        ..ClickhouseConfig::default()
    };
    let start = Instant::now();
    let mut sink = loop {
        match ClickhouseSink::start(&plugin, &cfg) {
            Ok(s) => break s,
            Err(_) if start.elapsed() < Duration::from_secs(30) => {
                std::thread::sleep(Duration::from_millis(100))
            }
            Err(e) => panic!("{e}"),
        }
    };
    let batches: Vec<FlushBatch> = (0..rows.div_ceil(per_batch))
        .map(|i| batch(set, i * per_batch, per_batch.min(rows - i * per_batch)))
        .collect();
    let start = Instant::now();
    let mut written = 0;
    for b in &batches {
        for item in sink.encode(b) {
            sink.send(&item).expect("insert");
            written += item.rows;
        }
    }
    let secs = start.elapsed().as_secs_f64();
    println!("ClickHouse 18.16 (legacy profile), 5-tuple rows, RowBinary over HTTP");
    println!("\n| rows | rows per insert | seconds | rows/s |");
    println!("|---:|---:|---:|---:|");
    println!("| {written} | {per_batch} | {secs:.2} | {:.0} |", written as f64 / secs);
}
