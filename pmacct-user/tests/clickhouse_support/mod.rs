//! A private ClickHouse server for a test: Debian's `clickhouse-server` (18.16) started without
//! systemd from a config under a temp dir, listening on 127.0.0.1 on free ports; or a current
//! engine, chdb (ClickHouse 26.x in-process, from the virtualenv `cargo xtask setup` makes)
//! behind `chdb_http.py`, a small HTTP front speaking the ClickHouse HTTP interface. Killed when
//! dropped.

#![allow(dead_code)]

use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

pub struct Clickhouse {
    child: Option<Child>,
    pub http_port: u16,
    config: PathBuf,
    /// chdb instead of clickhouse-server.
    chdb: bool,
    _dir: tempfile::TempDir,
}

/// The chdb virtualenv's Python (`xtask/src/setup.rs` `chdb_venv_dir`).
fn chdb_python() -> PathBuf {
    let home = std::env::var_os("HOME").map_or_else(|| PathBuf::from("/root"), PathBuf::from);
    home.join(".cache/pmacct-rs/chdb/bin/python")
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
        let mut ch = Clickhouse { child: None, http_port, config: cfg, chdb: false, _dir: dir };
        ch.resume();
        ch
    }

    /// A current ClickHouse engine (chdb 26.x) behind the HTTP front, data under a temp dir.
    pub fn start_chdb() -> Clickhouse {
        assert!(
            chdb_python().exists(),
            "{} missing: `cargo xtask setup` installs chdb",
            chdb_python().display()
        );
        let dir = tempfile::tempdir().expect("tempdir");
        let data = dir.path().join("chdb");
        let mut ch =
            Clickhouse { child: None, http_port: free_port(), config: data, chdb: true, _dir: dir };
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
        let child = if self.chdb {
            let front = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
                .join("tests/clickhouse_support/chdb_http.py");
            Command::new(chdb_python())
                .arg(front)
                .arg(self.http_port.to_string())
                .arg(&self.config)
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()
                .expect("start chdb_http.py")
        } else {
            Command::new("/usr/sbin/clickhouse-server")
                .arg(format!("--config-file={}", self.config.display()))
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()
                .expect("start clickhouse-server")
        };
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
