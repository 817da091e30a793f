//! SIGHUP on a running daemon: a bad config is rejected and the daemon goes on; a changed
//! plugin is flushed before it is rebuilt (nothing lost); an unchanged memory plugin keeps its
//! table.

mod daemon;

use std::path::Path;
use std::time::{Duration, Instant};

use daemon::{Daemon, memory_bytes, shared};

const T: Duration = Duration::from_secs(30);

fn config(pcap: &Path, sock: &Path, print_agg: &str, out: &Path) -> String {
    format!(
        "[daemon]\nmetrics_listen = \"127.0.0.1:0\"\ndrain_interval_ms = 100\n\n\
         [savefile]\npath = \"{}\"\nwait = true\n\n\
         [[plugin]]\nname = \"mem\"\ntype = \"memory\"\naggregate = [\"src_host\", \"dst_host\"]\nimt_path = \"{}\"\n\n\
         [[plugin]]\nname = \"out\"\ntype = \"print\"\naggregate = \"{print_agg}\"\nrefresh_time = 3600\noutput = \"csv\"\noutput_file = \"{}\"\n",
        pcap.display(),
        sock.display(),
        out.display()
    )
}

fn rows(path: &Path) -> std::collections::HashSet<String> {
    std::fs::read_to_string(path)
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
        .lines()
        .map(str::to_string)
        .collect()
}

#[test]
fn sighup_reloads_plugins_without_losing_counters() {
    let dir = tempfile::tempdir().expect("tmp");
    let pcap = shared("traffic/small.pcap");
    let sock = dir.path().join("mem.pipe");
    let out1 = dir.path().join("5tuple.csv");
    let out2 = dir.path().join("hosts.csv");
    let cfg = dir.path().join("pmacct-rs.toml");
    std::fs::write(
        &cfg,
        config(&pcap, &sock, "src_host, dst_host, src_port, dst_port, proto", &out1),
    )
    .expect("cfg");
    let cfg_arg = cfg.to_string_lossy().into_owned();
    let d = Daemon::spawn(None, &["run", "--config", &cfg_arg], dir.path().join("daemon.log"));
    d.wait_log("capture file done", 1, T);
    let expected_hosts = rows(&shared("expected/traffic_small.pmacctd.hosts.csv"));
    let total: u64 = expected_hosts
        .iter()
        .skip_while(|l| l.starts_with("SRC_IP"))
        .filter_map(|l| l.rsplit(',').next()?.parse::<u64>().ok())
        .sum();
    let start = Instant::now();
    while !sock.exists() || memory_bytes(&sock) != total {
        assert!(start.elapsed() < Duration::from_secs(30), "memory table incomplete");
        std::thread::sleep(Duration::from_millis(100));
    }

    // A broken config: rejected, the daemon keeps running with the old one.
    std::fs::write(&cfg, "[[plugin]]\nname = \"x\"\ntype = \"print\"\naggregate = [\"bogus\"]\n")
        .expect("cfg");
    d.signal(libc::SIGHUP);
    d.wait_log("new config rejected", 1, T);
    assert!(!out1.exists(), "nothing flushed for a rejected config");

    // The print plugin changes: its 5-tuple table is flushed first, exactly as pmacctd's.
    std::fs::write(&cfg, config(&pcap, &sock, "src_host, dst_host", &out2)).expect("cfg");
    d.signal(libc::SIGHUP);
    d.wait_log("plugins reloaded", 1, T);
    let start = Instant::now();
    while !out1.exists() {
        assert!(start.elapsed() < Duration::from_secs(10), "old plugin not flushed");
        std::thread::sleep(Duration::from_millis(50));
    }
    std::thread::sleep(Duration::from_millis(200));
    assert_eq!(rows(&out1), rows(&shared("expected/traffic_small.pmacctd.5tuple.csv")));
    // The unchanged memory plugin kept its table.
    assert_eq!(memory_bytes(&sock), total);

    assert!(d.log().contains("SIGHUP: plugin removed or changed"), "{}", d.log());
    d.stop();
}
