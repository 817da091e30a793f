//! A private ClickHouse server for a test: Debian's `clickhouse-server` (18.16) started without
//! systemd from a config under a temp dir, listening on 127.0.0.1 on free ports; killed when
//! dropped.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

pub struct Clickhouse {
    child: Option<Child>,
    pub http_port: u16,
    config: PathBuf,
    _dir: tempfile::TempDir,
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("free port")
}

impl Clickhouse {
    pub fn start() -> Clickhouse {
        let bin = PathBuf::from("/usr/sbin/clickhouse-server");
        assert!(
            bin.exists(),
            "clickhouse-server missing: `cargo xtask setup` installs Debian's clickhouse-server"
        );
        let dir = tempfile::tempdir().expect("tempdir");
        let d = dir.path().display().to_string();
        let (http_port, tcp_port) = (free_port(), free_port());
        let template = std::fs::read_to_string(
            std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
                .join("../deploy/clickhouse/local-server.xml"),
        )
        .expect("deploy/clickhouse/local-server.xml");
        let config = template
            .replace("{dir}", &d)
            .replace("{http_port}", &http_port.to_string())
            .replace("{tcp_port}", &tcp_port.to_string());
        let cfg = dir.path().join("config.xml");
        std::fs::write(&cfg, config).expect("write config");
        let mut ch = Clickhouse { child: None, http_port, config: cfg, _dir: dir };
        ch.resume();
        ch
    }

    /// Kills the server (an outage); its data stays.
    pub fn kill(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }

    /// Starts the server (again) on the same ports and data, and waits until it answers.
    pub fn resume(&mut self) {
        let child = Command::new("/usr/sbin/clickhouse-server")
            .arg(format!("--config-file={}", self.config.display()))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start clickhouse-server");
        self.child = Some(child);
        let start = Instant::now();
        while self.query("SELECT 1").trim() != "1" {
            assert!(start.elapsed() < Duration::from_secs(30), "clickhouse-server not ready");
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.http_port)
    }

    /// Runs `sql` over HTTP and returns the body ("" on connection errors).
    pub fn query(&self, sql: &str) -> String {
        let Ok(mut s) = TcpStream::connect(("127.0.0.1", self.http_port)) else {
            return String::new();
        };
        let req = format!(
            "POST / HTTP/1.0\r\nHost: 127.0.0.1\r\nContent-Length: {}\r\n\r\n{sql}",
            sql.len()
        );
        if s.write_all(req.as_bytes()).is_err() {
            return String::new();
        }
        let mut resp = String::new();
        let _ = s.read_to_string(&mut resp);
        resp.split_once("\r\n\r\n").map(|(_, b)| b.to_string()).unwrap_or_default()
    }
}

impl Drop for Clickhouse {
    fn drop(&mut self) {
        self.kill();
    }
}
