//! Test hosts for the XDP data path: two network namespaces joined by a veth pair, raw frame
//! sending from the "sender" side, and frame builders. Everything is removed on drop, also when a
//! test panics.
#![allow(dead_code)]

use std::fs::File;
use std::os::fd::AsRawFd;
use std::process::Command;
use std::sync::atomic::{AtomicU32, Ordering};

/// Runs a command, panicking with its stderr if it fails.
pub fn sh(args: &[&str]) {
    let out = Command::new(args[0]).args(&args[1..]).output().expect("spawn");
    assert!(out.status.success(), "{:?} failed: {}", args, String::from_utf8_lossy(&out.stderr));
}

/// Fails the test early with a clear reason when it cannot create namespaces.
pub fn require_root() {
    // SAFETY: geteuid has no preconditions.
    let uid = unsafe { libc::geteuid() };
    assert_eq!(uid, 0, "namespace tests need root (CI runs them as root)");
}

/// Two namespaces (`tx`, `rx`) and a veth pair `<p>t` (in tx) ↔ `<p>r` (in rx), IPv6 disabled on
/// both ends so the kernel sends nothing of its own, no IP addresses (frames are sent raw).
pub struct VethPair {
    pub tx_ns: String,
    pub rx_ns: String,
    pub tx_if: String,
    pub rx_if: String,
}

static SEQ: AtomicU32 = AtomicU32::new(0);

impl VethPair {
    pub fn new() -> Self {
        require_root();
        let n = SEQ.fetch_add(1, Ordering::SeqCst);
        let id = format!("{}{}", std::process::id() % 100000, n);
        let pair = VethPair {
            tx_ns: format!("pmrs-tx-{id}"),
            rx_ns: format!("pmrs-rx-{id}"),
            tx_if: format!("pm{id}t"),
            rx_if: format!("pm{id}r"),
        };
        // Constructed before the commands so Drop cleans up whatever got created.
        sh(&["ip", "netns", "add", &pair.tx_ns]);
        sh(&["ip", "netns", "add", &pair.rx_ns]);
        sh(&[
            "ip",
            "link",
            "add",
            &pair.tx_if,
            "netns",
            &pair.tx_ns,
            "type",
            "veth",
            "peer",
            "name",
            &pair.rx_if,
            "netns",
            &pair.rx_ns,
        ]);
        for (ns, ifname) in [(&pair.tx_ns, &pair.tx_if), (&pair.rx_ns, &pair.rx_if)] {
            let key = format!("net.ipv6.conf.{ifname}.disable_ipv6=1");
            sh(&["ip", "netns", "exec", ns, "sysctl", "-qw", &key]);
            sh(&["ip", "-n", ns, "link", "set", ifname, "up"]);
            sh(&["ip", "-n", ns, "link", "set", "lo", "up"]);
        }
        pair
    }

    /// Runs `f` in a thread that has joined namespace `ns`; sockets it opens stay in `ns`.
    pub fn in_ns<T: Send + 'static>(ns: &str, f: impl FnOnce() -> T + Send + 'static) -> T {
        let path = format!("/var/run/netns/{ns}");
        std::thread::spawn(move || {
            let file = File::open(&path).expect("open netns");
            // SAFETY: valid fd of a network namespace; this thread only.
            let rc = unsafe { libc::setns(file.as_raw_fd(), libc::CLONE_NEWNET) };
            assert_eq!(rc, 0, "setns {path}: {}", std::io::Error::last_os_error());
            f()
        })
        .join()
        .expect("netns thread panicked")
    }

    /// A raw AF_PACKET socket bound to the tx interface, opened inside the tx namespace.
    pub fn sender(&self) -> RawSender {
        let ifname = self.tx_if.clone();
        Self::in_ns(&self.tx_ns, move || RawSender::open(&ifname))
    }
}

impl Drop for VethPair {
    fn drop(&mut self) {
        // Deleting a namespace deletes its veth end, which deletes the peer too.
        for ns in [&self.tx_ns, &self.rx_ns] {
            let _ = Command::new("ip").args(["netns", "del", ns]).status();
        }
    }
}

/// The MAC address of `ifname` in namespace `ns`.
pub fn mac_of(ns: &str, ifname: &str) -> [u8; 6] {
    let out = Command::new("ip")
        .args(["netns", "exec", ns, "cat", &format!("/sys/class/net/{ifname}/address")])
        .output()
        .expect("read mac");
    let text = String::from_utf8_lossy(&out.stdout);
    let mut mac = [0u8; 6];
    for (i, part) in text.trim().split(':').enumerate().take(6) {
        mac[i] = u8::from_str_radix(part, 16).expect("mac hex");
    }
    mac
}

/// Sends complete Ethernet frames on one interface.
pub struct RawSender {
    fd: i32,
    ifindex: i32,
}

impl RawSender {
    fn open(ifname: &str) -> Self {
        // SAFETY: plain socket(2)/if_nametoindex(3) calls with valid arguments.
        unsafe {
            let fd = libc::socket(libc::AF_PACKET, libc::SOCK_RAW, 0);
            assert!(fd >= 0, "AF_PACKET socket: {}", std::io::Error::last_os_error());
            let cname = std::ffi::CString::new(ifname).expect("name");
            let ifindex = libc::if_nametoindex(cname.as_ptr()) as i32;
            assert!(ifindex > 0, "no interface {ifname}");
            RawSender { fd, ifindex }
        }
    }

    /// Sends one frame; retries on ENOBUFS (a full veth queue) so no frame is lost.
    pub fn send(&self, frame: &[u8]) {
        // SAFETY: sockaddr_ll is plain data; frame is a valid buffer of its length.
        unsafe {
            let mut sll: libc::sockaddr_ll = std::mem::zeroed();
            sll.sll_family = libc::AF_PACKET as u16;
            sll.sll_ifindex = self.ifindex;
            sll.sll_halen = 6;
            loop {
                let rc = libc::sendto(
                    self.fd,
                    frame.as_ptr().cast(),
                    frame.len(),
                    0,
                    (&sll as *const libc::sockaddr_ll).cast(),
                    std::mem::size_of::<libc::sockaddr_ll>() as u32,
                );
                if rc == frame.len() as isize {
                    return;
                }
                let err = std::io::Error::last_os_error();
                if err.raw_os_error() == Some(libc::ENOBUFS) {
                    std::thread::yield_now();
                    continue;
                }
                panic!("sendto: {err}");
            }
        }
    }
}

impl Drop for RawSender {
    fn drop(&mut self) {
        // SAFETY: fd is ours.
        unsafe { libc::close(self.fd) };
    }
}

/// L4 of a test frame.
#[derive(Clone, Copy, Debug)]
pub enum L4 {
    Tcp { sport: u16, dport: u16, flags: u8 },
    Udp { sport: u16, dport: u16 },
    Icmp,
}

/// Description of one test frame.
#[derive(Clone, Debug)]
pub struct Frame {
    pub src_mac: [u8; 6],
    pub dst_mac: [u8; 6],
    pub vlans: Vec<u16>,
    pub src: std::net::IpAddr,
    pub dst: std::net::IpAddr,
    pub tos: u8,
    pub l4: L4,
    /// Payload bytes after the L4 header.
    pub payload: usize,
}

impl Frame {
    pub fn new(src: &str, dst: &str, l4: L4, payload: usize) -> Self {
        Frame {
            src_mac: [0x02, 0, 0, 0, 0, 0x01],
            dst_mac: [0x02, 0, 0, 0, 0, 0x02],
            vlans: Vec::new(),
            src: src.parse().expect("src ip"),
            dst: dst.parse().expect("dst ip"),
            tos: 0,
            l4,
            payload,
        }
    }

    pub fn vlan(mut self, ids: &[u16]) -> Self {
        self.vlans = ids.to_vec();
        self
    }

    fn l4_bytes(&self) -> (u8, Vec<u8>) {
        let mut v = Vec::new();
        let proto = match self.l4 {
            L4::Tcp { sport, dport, flags } => {
                v.extend_from_slice(&sport.to_be_bytes());
                v.extend_from_slice(&dport.to_be_bytes());
                v.extend_from_slice(&[0, 0, 0, 1, 0, 0, 0, 0, 0x50, flags, 0xff, 0xff, 0, 0, 0, 0]);
                6
            }
            L4::Udp { sport, dport } => {
                v.extend_from_slice(&sport.to_be_bytes());
                v.extend_from_slice(&dport.to_be_bytes());
                v.extend_from_slice(&((8 + self.payload) as u16).to_be_bytes());
                v.extend_from_slice(&[0, 0]);
                17
            }
            L4::Icmp => {
                let t = if self.src.is_ipv4() { 8 } else { 128 };
                v.extend_from_slice(&[t, 0, 0, 0, 0, 1, 0, 1]);
                if self.src.is_ipv4() { 1 } else { 58 }
            }
        };
        v.resize(v.len() + self.payload, 0xab);
        (proto, v)
    }

    /// The IP length pmacct counts: IPv4 total length, IPv6 payload length + 40.
    pub fn ip_len(&self) -> u64 {
        let (_, l4) = self.l4_bytes();
        (l4.len() + if self.src.is_ipv4() { 20 } else { 40 }) as u64
    }

    pub fn bytes(&self) -> Vec<u8> {
        let mut f = Vec::new();
        f.extend_from_slice(&self.dst_mac);
        f.extend_from_slice(&self.src_mac);
        for (i, id) in self.vlans.iter().enumerate() {
            let tpid: u16 = if i == 0 && self.vlans.len() > 1 { 0x88a8 } else { 0x8100 };
            f.extend_from_slice(&tpid.to_be_bytes());
            f.extend_from_slice(&id.to_be_bytes());
        }
        let (proto, l4) = self.l4_bytes();
        match (self.src, self.dst) {
            (std::net::IpAddr::V4(s), std::net::IpAddr::V4(d)) => {
                f.extend_from_slice(&0x0800u16.to_be_bytes());
                let total = (20 + l4.len()) as u16;
                let mut h = vec![0x45, self.tos];
                h.extend_from_slice(&total.to_be_bytes());
                h.extend_from_slice(&[0, 1, 0x40, 0, 64, proto, 0, 0]);
                h.extend_from_slice(&s.octets());
                h.extend_from_slice(&d.octets());
                let ck = checksum(&h);
                h[10..12].copy_from_slice(&ck.to_be_bytes());
                f.extend_from_slice(&h);
            }
            (std::net::IpAddr::V6(s), std::net::IpAddr::V6(d)) => {
                f.extend_from_slice(&0x86ddu16.to_be_bytes());
                let vtc = 0x6000_0000u32 | (u32::from(self.tos) << 20);
                f.extend_from_slice(&vtc.to_be_bytes());
                f.extend_from_slice(&(l4.len() as u16).to_be_bytes());
                f.extend_from_slice(&[proto, 64]);
                f.extend_from_slice(&s.octets());
                f.extend_from_slice(&d.octets());
            }
            _ => panic!("mixed address families"),
        }
        f.extend_from_slice(&l4);
        f
    }
}

fn checksum(h: &[u8]) -> u16 {
    let mut sum: u32 = h.chunks(2).map(|c| u32::from(u16::from_be_bytes([c[0], c[1]]))).sum();
    while sum > 0xffff {
        sum = (sum & 0xffff) + (sum >> 16);
    }
    !(sum as u16)
}
