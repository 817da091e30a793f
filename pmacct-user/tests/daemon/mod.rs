//! The `pmacct-rs` binary as a child process, for end-to-end tests: start (optionally inside a
//! network namespace), watch its log, signal it, and check that it exits cleanly. Killed on drop.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// The binary under test.
pub const BIN: &str = env!("CARGO_BIN_EXE_pmacct-rs");

/// A file under `../shared/data` (beside the repository).
pub fn shared(rel: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/data").join(rel)
}

pub struct Daemon {
    pub child: Child,
    log: PathBuf,
}

impl Daemon {
    /// Runs `pmacct-rs <args>` (inside `netns` if given), stderr to `log`.
    pub fn spawn(netns: Option<&str>, args: &[&str], log: PathBuf) -> Self {
        let mut cmd = match netns {
            Some(ns) => {
                let mut c = Command::new("ip");
                c.args(["netns", "exec", ns, BIN]);
                c
            }
            None => Command::new(BIN),
        };
        let child = cmd
            .args(args)
            .env("PMACCT_LOG", "info")
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(&log).expect("log file"))
            .spawn()
            .expect("spawn pmacct-rs");
        Daemon { child, log }
    }

    pub fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// Waits until `needle` appears `count` times in the log.
    pub fn wait_log(&self, needle: &str, count: usize, timeout: Duration) {
        let start = Instant::now();
        while self.log().matches(needle).count() < count {
            assert!(start.elapsed() < timeout, "daemon never logged '{needle}':\n{}", self.log());
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    pub fn signal(&self, sig: i32) {
        // SAFETY: kill(2) on our child (`ip netns exec` execs the daemon in place).
        unsafe { libc::kill(self.child.id() as i32, sig) };
    }

    /// SIGTERM, then waits for exit status 0.
    pub fn stop(mut self) {
        self.signal(libc::SIGTERM);
        let start = Instant::now();
        loop {
            if let Some(status) = self.child.try_wait().expect("wait") {
                assert!(status.success(), "daemon exited with {status}:\n{}", self.log());
                return;
            }
            assert!(start.elapsed() < Duration::from_secs(30), "daemon ignored SIGTERM");
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

impl Drop for Daemon {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Sum of the `bytes` of a memory plugin's entries, through `pmacct-rs query`.
pub fn memory_bytes(sock: &Path) -> u64 {
    let v = query(sock, &[]);
    v["entries"].as_array().expect("entries").iter().filter_map(|e| e["bytes"].as_u64()).sum()
}

/// `pmacct-rs query --json -p SOCK <args>`, parsed.
pub fn query(sock: &Path, args: &[&str]) -> serde_json::Value {
    let out = Command::new(BIN)
        .args(["query", "--json", "-p"])
        .arg(sock)
        .args(args)
        .output()
        .expect("run query");
    assert!(out.status.success(), "query {args:?}: {}", String::from_utf8_lossy(&out.stderr));
    serde_json::from_slice(&out.stdout).expect("json reply")
}

/// Sends every datagram of `capture` to `port` on loopback, paced, from one source socket (one
/// exporter, as in the capture).
pub fn send_capture(capture: &str, port: u16) -> u64 {
    let sock = std::net::UdpSocket::bind("127.0.0.1:0").expect("bind");
    let mut n = 0u64;
    pmacct_user::input::datagram::read_datagrams(
        &shared(&format!("exports/{capture}.pcap")),
        &[],
        |d| {
            sock.send_to(d.payload, ("127.0.0.1", port)).expect("send");
            n += 1;
            if n.is_multiple_of(16) {
                std::thread::sleep(Duration::from_millis(2));
            }
        },
    )
    .expect("read capture");
    n
}

pub fn free_udp_port() -> u16 {
    std::net::UdpSocket::bind("127.0.0.1:0")
        .and_then(|s| s.local_addr())
        .map(|a| a.port())
        .expect("port")
}

pub fn free_tcp_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|s| s.local_addr())
        .map(|a| a.port())
        .expect("port")
}

pub fn scrape(port: u16) -> String {
    let mut s = std::net::TcpStream::connect(("127.0.0.1", port)).expect("metrics endpoint");
    std::io::Write::write_all(&mut s, b"GET /metrics HTTP/1.1\r\n\r\n").expect("get");
    let mut text = String::new();
    std::io::Read::read_to_string(&mut s, &mut text).expect("read");
    text
}

/// Sum of the samples of metric `name` whose labels contain `with`.
pub fn metric_sum(text: &str, name: &str, with: &str) -> u64 {
    text.lines()
        .filter(|l| l.starts_with(&format!("{name}{{")) && l.contains(with))
        .filter_map(|l| l.rsplit(' ').next()?.parse::<u64>().ok())
        .sum()
}
