//! A live BMP exporter: gobgpd A (AS 65001 on 127.0.0.1) exporting BMP to one or more
//! collectors while it holds an iBGP session with gobgpd B, which announces and withdraws
//! routes on demand (through `gobgp`).

use std::path::Path;
use std::time::{Duration, Instant};

/// Kills the child processes it holds when dropped (also on a failed assertion).
pub struct Procs(pub Vec<std::process::Child>);

impl Drop for Procs {
    fn drop(&mut self) {
        for c in &mut self.0 {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

/// A free TCP port on 127.0.0.1.
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("free port")
        .port()
}

/// Whether gobgpd and gobgp are installed.
pub fn installed() -> bool {
    Path::new("/usr/bin/gobgpd").exists() && Path::new("/usr/bin/gobgp").exists()
}

/// A gobgpd config: one iBGP neighbour on 127.0.0.1 and a BMP server per entry of `bmp`.
pub fn gobgpd_conf(
    asn: u32,
    id: &str,
    port: u16,
    peer_port: u16,
    passive: bool,
    bmp: &[u16],
    stats_timeout: Option<u32>,
) -> String {
    let mut c = format!(
        "[global.config]\n  as = {asn}\n  router-id = \"{id}\"\n  port = {port}\n  \
         local-address-list = [\"127.0.0.1\"]\n\n\
         [[neighbors]]\n  [neighbors.config]\n    neighbor-address = \"127.0.0.1\"\n    peer-as = 65001\n  \
         [neighbors.transport.config]\n    remote-port = {peer_port}\n    passive-mode = {passive}\n  \
         [neighbors.timers.config]\n    connect-retry = 1\n  \
         [[neighbors.afi-safis]]\n    [neighbors.afi-safis.config]\n      afi-safi-name = \"ipv4-unicast\"\n  \
         [[neighbors.afi-safis]]\n    [neighbors.afi-safis.config]\n      afi-safi-name = \"ipv6-unicast\"\n"
    );
    for b in bmp {
        c.push_str(&format!(
            "\n[[bmp-servers]]\n  [bmp-servers.config]\n    address = \"127.0.0.1\"\n    port = {b}\n    \
             route-monitoring-policy = \"pre-policy\"\n"
        ));
        if let Some(s) = stats_timeout {
            c.push_str(&format!("    statistics-timeout = {s}\n"));
        }
    }
    c
}

/// Runs `gobgp` against the API on `api`; panics with its stderr on failure.
pub fn gobgp(api: u16, args: &[&str]) {
    let out = std::process::Command::new("gobgp")
        .args(["-u", "127.0.0.1", "-p", &api.to_string()])
        .args(args)
        .output()
        .expect("gobgp");
    assert!(out.status.success(), "gobgp {args:?}: {}", String::from_utf8_lossy(&out.stderr));
}

/// Starts gobgpd on `conf` with its API on `api`; its output goes to `dir/<name>.out`.
pub fn spawn_gobgpd(dir: &Path, conf: &Path, api: u16, name: &str) -> std::process::Child {
    std::process::Command::new("/usr/bin/gobgpd")
        .arg("-f")
        .arg(conf)
        .args(["--api-hosts", &format!("127.0.0.1:{api}"), "--log-level", "warn"])
        .stdout(std::fs::File::create(dir.join(format!("{name}.out"))).expect("out"))
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("spawn gobgpd")
}

/// Waits until gobgpd's API on `api` answers (routes added before a session is up are sent
/// when it is).
pub fn wait_api(api: u16) {
    wait_for_long("gobgpd's API", Duration::from_secs(10), || {
        std::process::Command::new("gobgp")
            .args(["-u", "127.0.0.1", "-p", &api.to_string(), "global"])
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .status()
            .is_ok_and(|s| s.success())
    });
}

/// The two speakers: A exports BMP, B announces. Fields: processes (A first), A's and B's
/// API ports.
pub struct Pair {
    pub procs: Procs,
    pub api_a: u16,
    pub api_b: u16,
}

impl Pair {
    /// Starts A (BMP to every port of `bmp`) and B, logs in `dir`.
    pub fn start(dir: &Path, bmp: &[u16], stats_timeout: Option<u32>) -> Pair {
        let (pa, pb, ga, gb) = (free_port(), free_port(), free_port(), free_port());
        let conf_a = dir.join("a.toml");
        let conf_b = dir.join("b.toml");
        std::fs::write(&conf_a, gobgpd_conf(65001, "10.255.0.1", pa, pb, true, bmp, stats_timeout))
            .expect("conf a");
        std::fs::write(&conf_b, gobgpd_conf(65001, "10.255.0.2", pb, pa, false, &[], None))
            .expect("conf b");
        let mut procs = Procs(vec![spawn_gobgpd(dir, &conf_a, ga, "a")]);
        procs.0.push(spawn_gobgpd(dir, &conf_b, gb, "b"));
        Pair { procs, api_a: ga, api_b: gb }
    }

    /// Stops B: A reports Peer Down.
    pub fn stop_b(&mut self) {
        if self.procs.0.len() > 1
            && let Some(mut b) = self.procs.0.pop()
        {
            let _ = b.kill();
            let _ = b.wait();
        }
    }
}

/// Polls `f` every 50 ms until it holds; panics naming `what` after `limit`.
pub fn wait_for_long(what: &str, limit: Duration, mut f: impl FnMut() -> bool) {
    let start = Instant::now();
    while !f() {
        assert!(start.elapsed() < limit, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(50));
    }
}
