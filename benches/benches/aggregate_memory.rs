//! Memory per aggregate: a memory plugin holding `--keys` (default 1,000,000) distinct 5-tuples,
//! `pmacct-rs nfacctd` against nfacctd 1.7.7, same pmacct config.
//!
//! Each daemon starts with one memory plugin (`aggregate: src_host, dst_host, src_port,
//! dst_port, proto`; pmacct gets a prime bucket count near the key count and up to 1024 pools of
//! 1 MB beyond its bucket array — 1.7.7 turns `imt_mem_pools_number: 0` into its default of 16
//! instead of "unlimited", which caps the table at ~660 k such keys). Its process tree's RSS is
//! read once it listens, then NetFlow v5 datagrams carrying `--keys` distinct flows (30 per
//! datagram, paced) are sent to it; once the table holds every key (asked through the memory
//! plugin's own client: `pmacct -s` / `pmacct-rs query --stats`), the RSS is read again.
//! Bytes per entry = RSS growth / entries.
//!
//! Run: `cargo xtask bench aggregate` or
//! `cargo bench -p pmacct-benches --bench aggregate_memory -- --keys=1000000 --rate=5000`.

use std::net::{SocketAddr, UdpSocket};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use pmacct_benches::live::{
    Guard, free_port, send_paced, tree_rss_kb, v5_datagram, wait_listening,
};

const PRIME_BUCKETS: u64 = 1_000_003;

/// `--name=N` from the command line.
fn arg(name: &str, default: u64) -> u64 {
    std::env::args()
        .skip(1)
        .find_map(|a| a.strip_prefix(&format!("--{name}=")).and_then(|v| v.parse().ok()))
        .unwrap_or(default)
}

/// Flow `k` of the workload: distinct for every `k < 2^32`.
fn flow(k: u32) -> ([u8; 4], [u8; 4], u16, u16, u8) {
    let b = k.to_be_bytes();
    ([10, b[0], b[1], b[2]], [172, 16, b[3], 1], 1024 + (k % 50_000) as u16, 443, 6)
}

fn datagrams(keys: u32) -> Vec<Vec<u8>> {
    let mut out = Vec::new();
    let mut k = 0u32;
    let mut seq = 0u32;
    while k < keys {
        let n = (keys - k).min(30) as u16;
        let base = k;
        out.push(v5_datagram(seq, n, |i| flow(base + u32::from(i))));
        k += u32::from(n);
        seq += u32::from(n);
    }
    out
}

fn config(port: u16, pipe: &Path, ours: bool) -> String {
    let mut c = format!(
        "daemonize: false\nnfacctd_ip: 127.0.0.1\nnfacctd_port: {port}\nnfacctd_pipe_size: 33554432\n\
         plugins: memory[m]\naggregate[m]: src_host, dst_host, src_port, dst_port, proto\n\
         imt_path[m]: {}\nimt_mem_pools_number: 1024\nimt_mem_pools_size: 1048576\n\
         imt_buckets: {PRIME_BUCKETS}\nplugin_pipe_size: 102400000\nplugin_buffer_size: 102400\n",
        pipe.display()
    );
    if ours {
        c.push_str("metrics_listen: none\n");
    }
    c
}

/// Entries the memory table holds, through the daemon's own client.
fn entries(ours: bool, bin: &Path, pipe: &Path) -> Option<u64> {
    if ours {
        let out = Command::new(bin)
            .args(["query", "-p"])
            .arg(pipe)
            .args(["--stats", "--json"])
            .output()
            .ok()?;
        let v: serde_json::Value = serde_json::from_slice(&out.stdout).ok()?;
        v.get("stats").and_then(|s| s.get("entries")).or(v.get("entries"))?.as_u64()
    } else {
        let out = Command::new("pmacct").args(["-s", "-p"]).arg(pipe).output().ok()?;
        let text = String::from_utf8_lossy(&out.stdout);
        // "For a total of: N entries"
        text.lines().find_map(|l| {
            l.strip_prefix("For a total of:")?.split_whitespace().next()?.parse().ok()
        })
    }
}

struct Measured {
    entries: u64,
    rss_before_kb: u64,
    rss_after_kb: u64,
    fill_secs: f64,
}

fn measure(
    name: &str,
    ours: bool,
    bin: &Path,
    dir: &Path,
    dgrams: &[Vec<u8>],
    rate: u64,
) -> Option<Measured> {
    let port = free_port();
    let pipe = dir.join(format!("{name}.pipe"));
    let conf = dir.join(format!("{name}.conf"));
    std::fs::write(&conf, config(port, &pipe, ours)).ok()?;
    let mut cmd = if ours {
        let mut c = Command::new(bin);
        c.args(["nfacctd", "-f"]).arg(&conf).env("PMACCT_LOG", "warn");
        c
    } else {
        let mut c = Command::new("nfacctd");
        c.arg("-f").arg(&conf);
        c
    };
    let child = Guard(cmd.stdout(Stdio::null()).stderr(Stdio::null()).spawn().ok()?);
    if !wait_listening(port, Duration::from_secs(10)) {
        eprintln!("{name}: not listening");
        return None;
    }
    std::thread::sleep(Duration::from_millis(500));
    let rss_before_kb = tree_rss_kb(child.0.id());
    let sock = UdpSocket::bind("127.0.0.1:0").ok()?;
    let to: SocketAddr = format!("127.0.0.1:{port}").parse().ok()?;
    let refs: Vec<&[u8]> = dgrams.iter().map(Vec::as_slice).collect();
    let start = Instant::now();
    send_paced(&sock, to, &refs, rate);
    let want: u64 = dgrams.iter().map(|d| u64::from(d[3])).sum();
    // Wait until the table holds every key, or stops growing for 3 s (pmacct's core keeps its
    // last partial buffer until more data comes).
    let (mut got, mut since) = (0, Instant::now());
    while start.elapsed() < Duration::from_secs(120) {
        let now = entries(ours, bin, &pipe).unwrap_or(0);
        if now >= want {
            got = now;
            break;
        }
        if now != got {
            (got, since) = (now, Instant::now());
        } else if got > 0 && since.elapsed() > Duration::from_secs(3) {
            break;
        }
        std::thread::sleep(Duration::from_millis(500));
    }
    let fill_secs = start.elapsed().as_secs_f64();
    std::thread::sleep(Duration::from_millis(500));
    let rss_after_kb = tree_rss_kb(child.0.id());
    if got < want {
        eprintln!("{name}: table holds {got} of {want} keys (stopped growing)");
    }
    Some(Measured { entries: got, rss_before_kb, rss_after_kb, fill_secs })
}

fn main() {
    let keys = u32::try_from(arg("keys", 1_000_000)).unwrap_or(u32::MAX);
    // Datagrams per second: slow enough for nfacctd's memory plugin to keep up (it drops
    // between its core and the plugin otherwise).
    let rate = arg("rate", 5_000);
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let ours_bin = root.join("target/release/pmacct-rs");
    if !ours_bin.exists() {
        eprintln!(
            "aggregate_memory: {} missing: run `cargo xtask bench aggregate`",
            ours_bin.display()
        );
        return;
    }
    let dir: PathBuf = root.join("target/bench-out");
    let _ = std::fs::create_dir_all(&dir);
    let dgrams = datagrams(keys);
    println!(
        "Memory plugin, {keys} distinct 5-tuples sent as {} NetFlow v5 datagrams at {rate}/s",
        dgrams.len()
    );
    println!("\n| daemon | entries | RSS before MiB | RSS after MiB | bytes per entry | fill s |");
    println!("|---|---:|---:|---:|---:|---:|");
    let mut per_entry = Vec::new();
    for (name, ours) in [("pmacct-rs", true), ("nfacctd", false)] {
        let Some(m) = measure(name, ours, &ours_bin, &dir, &dgrams, rate) else { continue };
        let bytes = (m.rss_after_kb.saturating_sub(m.rss_before_kb) * 1024) as f64
            / m.entries.max(1) as f64;
        per_entry.push(bytes);
        println!(
            "| {name} | {} | {:.1} | {:.1} | {bytes:.0} | {:.1} |",
            m.entries,
            m.rss_before_kb as f64 / 1024.0,
            m.rss_after_kb as f64 / 1024.0,
            m.fill_secs
        );
    }
    if let [ours, theirs] = per_entry[..] {
        println!(
            "\nbytes per entry: pmacct-rs / nfacctd = {:.2} (target ≤ 0.5)",
            ours / theirs.max(1.0)
        );
    }
}
