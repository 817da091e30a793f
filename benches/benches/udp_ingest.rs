//! Loss-free live UDP ingest: `pmacct-rs nfacctd` against nfacctd 1.7.7, both listening on
//! loopback, fed the datagrams of `bench/big_pmacct_nfprobe_ipfix.pcap.xz` at a paced rate.
//!
//! Per rate step and daemon: start the daemon (same pmacct config for both: one print plugin,
//! aggregate `proto`, a 32 MiB socket buffer), send `rate × seconds` datagrams from one socket
//! (the capture in a loop), then 300 NetFlow v5 filler datagrams of protocol 253 (they push
//! pmacct's last core→plugin buffer through; their row is left out of the sums), stop the daemon
//! with SIGINT and sum the `packets` column of what it printed. The expected sum comes from our
//! decoder over the same datagram sequence. Reported: packets accounted / sent, kernel drops on
//! the socket, CPU seconds of the daemon (and its plugin processes).
//!
//! Run: `cargo xtask bench udp` (builds the release `pmacct-rs` first), or
//! `cargo bench -p pmacct-benches --bench udp_ingest -- --rates=10000,40000 --seconds=3`.
//! Needs root (it raises `net.core.rmem_max` for the run so pmacct gets the same buffer, and
//! restores it).

use std::net::{SocketAddr, UdpSocket};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

use pmacct_benches::data::capture;
use pmacct_benches::live::{
    Guard, children_cpu, free_port, interrupt, send_paced, socket_state, v5_datagram,
    wait_listening,
};
use pmacct_user::decode::netflow::{NetflowDecoder, NetflowOptions};
use pmacct_user::input::datagram::read_datagrams;

const RMEM_MAX: &str = "/proc/sys/net/core/rmem_max";
const BUFFER: usize = 32 * 1024 * 1024;
const FILLER_PROTO: u8 = 253;

struct Args {
    rates: Vec<u64>,
    seconds: u64,
}

fn args() -> Args {
    let mut a = Args { rates: vec![10_000, 20_000, 40_000, 80_000], seconds: 3 };
    for arg in std::env::args().skip(1) {
        if let Some(v) = arg.strip_prefix("--rates=") {
            a.rates = v.split(',').filter_map(|r| r.trim().parse().ok()).collect();
        } else if let Some(v) = arg.strip_prefix("--seconds=") {
            a.seconds = v.parse().unwrap_or(a.seconds);
        }
    }
    a
}

/// The datagrams a step sends, and the packets our decoder finds in them (the expected total).
fn workload(base: &[Vec<u8>], n: usize) -> (Vec<&[u8]>, u64) {
    let sent: Vec<&[u8]> = base.iter().cycle().take(n).map(Vec::as_slice).collect();
    let mut dec = NetflowDecoder::new(NetflowOptions::default());
    let exporter: SocketAddr = "127.0.0.1:9".parse().expect("literal address");
    let mut out = Vec::new();
    let mut packets = 0;
    for d in &sent {
        out.clear();
        let _ = dec.decode(exporter, 0, d, &mut out);
        packets += out.iter().map(|r| r.counters.packets).sum::<u64>();
    }
    (sent, packets)
}

fn config(port: u16, out: &Path) -> String {
    format!(
        "daemonize: false\nnfacctd_ip: 127.0.0.1\nnfacctd_port: {port}\nnfacctd_pipe_size: {BUFFER}\n\
         plugins: print[p]\naggregate[p]: proto\nprint_output[p]: csv\n\
         print_output_file[p]: {}\nprint_refresh_time[p]: 86400\n\
         plugin_pipe_size: 102400000\nplugin_buffer_size: 102400\n",
        out.display()
    )
}

struct Outcome {
    packets: u64,
    drops: u64,
    cpu: f64,
    secs: f64,
}

fn run_step(
    name: &str,
    cmd: &mut Command,
    port: u16,
    out: &Path,
    dgrams: &[&[u8]],
    rate: u64,
) -> Option<Outcome> {
    let _ = std::fs::remove_file(out);
    let cpu_before = children_cpu();
    let mut child = Guard(
        cmd.stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .map_err(|e| eprintln!("{name}: {e}"))
            .ok()?,
    );
    if !wait_listening(port, Duration::from_secs(10)) {
        eprintln!("{name}: not listening on {port} after 10 s");
        return None;
    }
    std::thread::sleep(Duration::from_millis(300));
    let sock = UdpSocket::bind("127.0.0.1:0").ok()?;
    let to: SocketAddr = format!("127.0.0.1:{port}").parse().ok()?;
    let secs = send_paced(&sock, to, dgrams, rate);
    // NetFlow v5 datagrams of 30 one-packet records of protocol FILLER_PROTO.
    let filler = |seq: u32| {
        v5_datagram(seq, 30, |i| ([10, 253, 0, i as u8], [10, 253, 1, 1], 0, 0, FILLER_PROTO))
    };
    let fill: Vec<Vec<u8>> = (0..300).map(filler).collect();
    let fill_refs: Vec<&[u8]> = fill.iter().map(Vec::as_slice).collect();
    send_paced(&sock, to, &fill_refs, 5_000);
    std::thread::sleep(Duration::from_secs(1));
    let drops = socket_state(port).unwrap_or(0);
    interrupt(&mut child);
    let cpu = children_cpu() - cpu_before;
    let text = std::fs::read_to_string(out).unwrap_or_default();
    let packets = sum_packets(&text);
    Some(Outcome { packets, drops, cpu, secs })
}

/// Sum of the `PACKETS` column of a csv print output, the filler protocol's row left out.
fn sum_packets(text: &str) -> u64 {
    let mut lines = text.lines();
    let Some(header) = lines.next() else { return 0 };
    let cols: Vec<&str> = header.split(',').collect();
    let (Some(p), Some(k)) =
        (cols.iter().position(|c| *c == "PACKETS"), cols.iter().position(|c| *c == "PROTOCOL"))
    else {
        return 0;
    };
    lines
        .map(|l| l.split(',').collect::<Vec<_>>())
        .filter(|f| f.get(k).is_some_and(|v| v.trim() != FILLER_PROTO.to_string()))
        .filter_map(|f| f.get(p)?.parse::<u64>().ok())
        .sum()
}

fn main() {
    let a = args();
    // SAFETY: geteuid has no preconditions.
    if unsafe { libc::geteuid() } != 0 {
        eprintln!("udp_ingest: needs root (raises net.core.rmem_max for the run); skipped");
        return;
    }
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let ours_bin = root.join("target/release/pmacct-rs");
    if !ours_bin.exists() {
        eprintln!("udp_ingest: {} missing: run `cargo xtask bench udp`", ours_bin.display());
        return;
    }
    let pcap = capture("big_pmacct_nfprobe_ipfix.pcap");
    let mut base = Vec::new();
    read_datagrams(&pcap, &[], |d| base.push(d.payload.to_vec())).expect("capture readable");
    let records_per_dgram = {
        let mut dec = NetflowDecoder::new(NetflowOptions::default());
        let exporter: SocketAddr = "127.0.0.1:9".parse().expect("literal");
        let mut out = Vec::new();
        for d in &base {
            let _ = dec.decode(exporter, 0, d, &mut out);
        }
        out.len() as f64 / base.len() as f64
    };
    let old_rmem = std::fs::read_to_string(RMEM_MAX).unwrap_or_default();
    let _ = std::fs::write(RMEM_MAX, BUFFER.to_string());
    let dir: PathBuf = root.join("target/bench-out");
    let _ = std::fs::create_dir_all(&dir);
    println!(
        "UDP ingest, {} datagrams in the capture, {records_per_dgram:.1} flow records per datagram, {} s per step, one sender",
        base.len(),
        a.seconds
    );
    println!(
        "\n| datagrams/s | records/s | daemon | packets accounted / sent | loss | kernel drops | daemon CPU s | CPU-s per M records |"
    );
    println!("|---:|---:|---|---:|---:|---:|---:|---:|");
    for &rate in &a.rates {
        let n = usize::try_from(rate * a.seconds).unwrap_or(usize::MAX);
        let (dgrams, expected) = workload(&base, n);
        for daemon in ["pmacct-rs", "nfacctd"] {
            let port = free_port();
            let out = dir.join(format!("udp-{daemon}-{rate}.csv"));
            let conf = dir.join(format!("udp-{daemon}-{rate}.conf"));
            let mut text = config(port, &out);
            if daemon == "pmacct-rs" {
                // Our Prometheus endpoint is not part of the comparison (and 9464 may be taken).
                text.push_str("metrics_listen: none\n");
            }
            if std::fs::write(&conf, text).is_err() {
                continue;
            }
            let mut cmd = if daemon == "pmacct-rs" {
                let mut c = Command::new(&ours_bin);
                c.args(["nfacctd", "-f"]).arg(&conf).env("PMACCT_LOG", "warn");
                c
            } else {
                let mut c = Command::new("nfacctd");
                c.arg("-f").arg(&conf);
                c
            };
            let Some(o) = run_step(daemon, &mut cmd, port, &out, &dgrams, rate) else { continue };
            let loss = 1.0 - o.packets as f64 / expected.max(1) as f64;
            let records = n as f64 * records_per_dgram;
            println!(
                "| {rate} (sent in {:.2} s) | {:.0} | {daemon} | {} / {expected} | {:.2}% | {} | {:.2} | {:.2} |",
                o.secs,
                records / o.secs,
                o.packets,
                loss * 100.0,
                o.drops,
                o.cpu,
                o.cpu / (records / 1e6),
            );
        }
    }
    let _ = std::fs::write(RMEM_MAX, old_rmem.trim());
}
