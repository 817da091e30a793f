//! Helpers for the benchmarks that run daemons (ours and pmacct's) and feed them over loopback
//! UDP: ports, readiness, paced sending, CPU and memory of the process tree.

use std::net::{SocketAddr, UdpSocket};
use std::process::Child;
use std::time::{Duration, Instant};

/// A UDP port free on 127.0.0.1 right now.
pub fn free_port() -> u16 {
    UdpSocket::bind("127.0.0.1:0").and_then(|s| s.local_addr()).map(|a| a.port()).unwrap_or(20555)
}

/// Kernel drops summed over the UDP sockets bound to 127.0.0.1:`port`; `None` while none is.
pub fn socket_state(port: u16) -> Option<u64> {
    let text = std::fs::read_to_string("/proc/net/udp").ok()?;
    let local = format!("0100007F:{port:04X}");
    let mut found = None;
    for l in text.lines().skip(1) {
        let cols: Vec<&str> = l.split_whitespace().collect();
        if cols.get(1) == Some(&local.as_str()) {
            let drops: u64 = cols.last().and_then(|d| d.parse().ok()).unwrap_or(0);
            found = Some(found.unwrap_or(0) + drops);
        }
    }
    found
}

/// Waits up to `timeout` for a UDP socket on 127.0.0.1:`port`.
pub fn wait_listening(port: u16, timeout: Duration) -> bool {
    let start = Instant::now();
    while socket_state(port).is_none() {
        if start.elapsed() > timeout {
            return false;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    true
}

/// CPU seconds (user + system) of every child reaped so far.
pub fn children_cpu() -> f64 {
    // SAFETY: getrusage fills a zeroed rusage struct.
    let ru = unsafe {
        let mut ru: libc::rusage = std::mem::zeroed();
        libc::getrusage(libc::RUSAGE_CHILDREN, &mut ru);
        ru
    };
    let t = |tv: libc::timeval| tv.tv_sec as f64 + tv.tv_usec as f64 / 1e6;
    t(ru.ru_utime) + t(ru.ru_stime)
}

/// Resident set size (kB) of `pid` and all its descendants.
pub fn tree_rss_kb(pid: u32) -> u64 {
    let mut total = 0;
    let mut stack = vec![pid];
    while let Some(p) = stack.pop() {
        if let Ok(status) = std::fs::read_to_string(format!("/proc/{p}/status")) {
            total += status
                .lines()
                .find_map(|l| l.strip_prefix("VmRSS:"))
                .and_then(|v| v.split_whitespace().next()?.parse::<u64>().ok())
                .unwrap_or(0);
        }
        let children =
            std::fs::read_to_string(format!("/proc/{p}/task/{p}/children")).unwrap_or_default();
        stack.extend(children.split_whitespace().filter_map(|c| c.parse::<u32>().ok()));
    }
    total
}

/// Sends `dgrams` to `to` at `rate` datagrams per second; returns the seconds it took.
pub fn send_paced(sock: &UdpSocket, to: SocketAddr, dgrams: &[&[u8]], rate: u64) -> f64 {
    let start = Instant::now();
    for (i, d) in dgrams.iter().enumerate() {
        let due = Duration::from_secs_f64(i as f64 / rate as f64);
        while let Some(left) = due.checked_sub(start.elapsed()) {
            if left.is_zero() {
                break;
            }
            if left > Duration::from_micros(200) {
                std::thread::sleep(Duration::from_micros(100));
            } else {
                std::hint::spin_loop();
            }
        }
        // ENOBUFS on loopback is a loss on the sending side: retry so every datagram is offered.
        while sock.send_to(d, to).is_err() {
            std::thread::yield_now();
        }
    }
    start.elapsed().as_secs_f64()
}

/// Kills the daemon when dropped (a bench that fails half-way leaves nothing running).
pub struct Guard(pub Child);

impl Drop for Guard {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Sends SIGINT to the daemon and waits for it to exit.
pub fn interrupt(g: &mut Guard) {
    // SAFETY: kill(2) on our own child's pid.
    unsafe { libc::kill(g.0.id() as libc::pid_t, libc::SIGINT) };
    let _ = g.0.wait();
}

/// A NetFlow v5 datagram of `n` (≤ 30) one-packet records built by `rec(i)` → (src, dst, sport,
/// dport, proto) with sequence number `seq`.
pub fn v5_datagram(
    seq: u32,
    n: u16,
    rec: impl Fn(u16) -> ([u8; 4], [u8; 4], u16, u16, u8),
) -> Vec<u8> {
    let mut d = Vec::with_capacity(24 + usize::from(n) * 48);
    d.extend_from_slice(&5u16.to_be_bytes());
    d.extend_from_slice(&n.to_be_bytes());
    d.extend_from_slice(&1000u32.to_be_bytes()); // sysUptime
    d.extend_from_slice(&1_700_000_000u32.to_be_bytes());
    d.extend_from_slice(&0u32.to_be_bytes());
    d.extend_from_slice(&seq.to_be_bytes());
    d.extend_from_slice(&[0, 0, 0, 0]);
    for i in 0..n {
        let (src, dst, sport, dport, proto) = rec(i);
        let mut r = [0u8; 48];
        r[0..4].copy_from_slice(&src);
        r[4..8].copy_from_slice(&dst);
        r[16..20].copy_from_slice(&1u32.to_be_bytes()); // packets
        r[20..24].copy_from_slice(&100u32.to_be_bytes()); // bytes
        r[24..28].copy_from_slice(&900u32.to_be_bytes());
        r[28..32].copy_from_slice(&1000u32.to_be_bytes());
        r[32..34].copy_from_slice(&sport.to_be_bytes());
        r[34..36].copy_from_slice(&dport.to_be_bytes());
        r[38] = proto;
        d.extend_from_slice(&r);
    }
    d
}
