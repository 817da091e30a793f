//! SIGHUP on a running daemon: a bad config is rejected and the daemon goes on; a changed
//! plugin is flushed before it is rebuilt (nothing lost); an unchanged memory plugin keeps its
//! table.

use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

const BIN: &str = env!("CARGO_BIN_EXE_pmacct-rs");

fn shared(rel: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/data").join(rel)
}

struct Daemon {
    child: Child,
    log: PathBuf,
}

impl Daemon {
    fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    fn wait_log(&self, needle: &str, count: usize) {
        let start = Instant::now();
        while self.log().matches(needle).count() < count {
            assert!(
                start.elapsed() < Duration::from_secs(30),
                "no '{needle}' in log:\n{}",
                self.log()
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    fn signal(&self, sig: i32) {
        // SAFETY: kill(2) on our child.
        unsafe { libc::kill(self.child.id() as i32, sig) };
    }
}

impl Drop for Daemon {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

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

fn rows(path: &Path) -> HashSet<String> {
    std::fs::read_to_string(path)
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
        .lines()
        .map(str::to_string)
        .collect()
}

fn memory_bytes(sock: &Path) -> u64 {
    let out = Command::new(BIN).args(["query", "--json", "-p"]).arg(sock).output().expect("query");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    v["entries"].as_array().expect("entries").iter().filter_map(|e| e["bytes"].as_u64()).sum()
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
    let log = dir.path().join("daemon.log");
    let child = Command::new(BIN)
        .args(["run", "--config"])
        .arg(&cfg)
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(&log).expect("log"))
        .spawn()
        .expect("spawn");
    let d = Daemon { child, log };
    d.wait_log("capture file done", 1);
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
    d.wait_log("new config rejected", 1);
    assert!(!out1.exists(), "nothing flushed for a rejected config");

    // The print plugin changes: its 5-tuple table is flushed first, exactly as pmacctd's.
    std::fs::write(&cfg, config(&pcap, &sock, "src_host, dst_host", &out2)).expect("cfg");
    d.signal(libc::SIGHUP);
    d.wait_log("plugins reloaded", 1);
    let start = Instant::now();
    while !out1.exists() {
        assert!(start.elapsed() < Duration::from_secs(10), "old plugin not flushed");
        std::thread::sleep(Duration::from_millis(50));
    }
    std::thread::sleep(Duration::from_millis(200));
    assert_eq!(rows(&out1), rows(&shared("expected/traffic_small.pmacctd.5tuple.csv")));
    // The unchanged memory plugin kept its table.
    assert_eq!(memory_bytes(&sock), total);

    d.signal(libc::SIGTERM);
    let mut d = d;
    let start = Instant::now();
    loop {
        if let Some(status) = d.child.try_wait().expect("wait") {
            assert!(status.success(), "exit {status}");
            break;
        }
        assert!(start.elapsed() < Duration::from_secs(20), "no exit after SIGTERM");
        std::thread::sleep(Duration::from_millis(20));
    }
    assert!(d.log().contains("SIGHUP: plugin removed or changed"), "{}", d.log());
}
