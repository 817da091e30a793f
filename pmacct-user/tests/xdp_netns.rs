//! The XDP program loaded into the running kernel, attached to a veth inside a network namespace,
//! fed real frames from the peer namespace. Needs root (CI runs as root).

mod netns;

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use netns::{Frame, L4, VethPair};
use pmacct_common::{field, stats};
use pmacct_user::config::{AttachMode, XdpAction};
use pmacct_user::input::xdp::{XdpDatapath, XdpOptions};
use pmacct_user::record::{Counters, FlowFields, FlowRecord};

fn load(pair: &VethPair, sampling_rate: u32, action: XdpAction) -> XdpDatapath {
    let ifname = pair.rx_if.clone();
    VethPair::in_ns(&pair.rx_ns, move || {
        let opts = XdpOptions { max_flows: 4096, field_mask: field::ALL, sampling_rate, action };
        let mut dp = XdpDatapath::load(pmacct_user::embedded::XDP_OBJECT, &ifname, opts)
            .expect("load XDP object");
        dp.attach(AttachMode::Auto).expect("attach");
        dp
    })
}

/// Test flows: v4/v6, TCP/UDP/ICMP, 802.1Q and 802.1ad, with distinct packet counts and sizes.
fn flows() -> Vec<(Frame, u64)> {
    vec![
        (
            Frame::new(
                "10.1.0.1",
                "10.1.0.2",
                L4::Tcp { sport: 40000, dport: 443, flags: 0x18 },
                100,
            ),
            3000,
        ),
        (
            Frame::new("10.1.0.1", "10.1.0.2", L4::Tcp { sport: 40001, dport: 80, flags: 0x02 }, 0),
            1500,
        ),
        (Frame::new("10.1.0.3", "10.1.0.4", L4::Udp { sport: 5353, dport: 53 }, 60), 2000),
        (Frame::new("10.1.0.5", "10.1.0.6", L4::Icmp, 56), 700),
        (
            Frame::new(
                "2001:db8::1",
                "2001:db8::2",
                L4::Tcp { sport: 50000, dport: 22, flags: 0x10 },
                200,
            ),
            1200,
        ),
        (Frame::new("2001:db8::3", "2001:db8::4", L4::Udp { sport: 123, dport: 123 }, 48), 900),
        (Frame::new("2001:db8::5", "2001:db8::6", L4::Icmp, 32), 400),
        (
            Frame::new("10.2.0.1", "10.2.0.2", L4::Udp { sport: 1000, dport: 2000 }, 10)
                .vlan(&[100]),
            800,
        ),
        (
            Frame::new("10.2.0.3", "10.2.0.4", L4::Tcp { sport: 1, dport: 2, flags: 0x01 }, 5)
                .vlan(&[200, 300]),
            600,
        ),
    ]
}

/// What the drained records must contain for a frame: the key fields the program fills.
fn expected_key(f: &Frame, ifindex: u32) -> FlowFields {
    let (proto, sport, dport) = match f.l4 {
        L4::Tcp { sport, dport, .. } => (6, sport, dport),
        L4::Udp { sport, dport } => (17, sport, dport),
        L4::Icmp => (if f.src.is_ipv4() { 1 } else { 58 }, 0, 0),
    };
    FlowFields {
        src_mac: f.src_mac,
        dst_mac: f.dst_mac,
        vlan: f.vlans.first().copied().unwrap_or(0),
        etype: if f.src.is_ipv4() { 0x0800 } else { 0x86dd },
        src_ip: f.src,
        dst_ip: f.dst,
        src_port: sport,
        dst_port: dport,
        proto,
        tos: f.tos,
        in_iface: ifindex,
        ..FlowFields::default()
    }
}

fn accumulate(into: &mut HashMap<FlowFields, Counters>, recs: Vec<FlowRecord>) {
    for r in recs {
        let mut key = r.fields;
        key.sampling_rate = 0;
        into.entry(key).or_default().merge(&r.counters);
    }
}

/// Sends every flow's frames interleaved, paced so the veth queue never overflows.
fn send_all(sender: &netns::RawSender, flows: &[(Frame, u64)]) {
    send_paced(sender, flows, |_| {});
}

/// Like [`send_all`], calling `between(i)` after each tenth of the rounds.
fn send_paced(sender: &netns::RawSender, flows: &[(Frame, u64)], mut between: impl FnMut(u64)) {
    let frames: Vec<(Vec<u8>, u64)> = flows.iter().map(|(f, n)| (f.bytes(), *n)).collect();
    let max = frames.iter().map(|(_, n)| *n).max().unwrap_or(0);
    let step = (max / 10).max(1);
    let mut sent = 0u64;
    for i in 0..max {
        for (bytes, n) in &frames {
            if i < *n {
                sender.send(bytes);
                sent += 1;
                if sent.is_multiple_of(64) {
                    std::thread::sleep(Duration::from_micros(300));
                }
            }
        }
        if (i + 1) % step == 0 {
            between(i);
        }
    }
}

fn stat_total(dp: &XdpDatapath, idx: u32) -> u64 {
    dp.stats().expect("stats")[idx as usize].iter().sum()
}

fn ifindex_in(ns: &str, ifname: &str) -> u32 {
    let name = ifname.to_string();
    VethPair::in_ns(ns, move || {
        let c = std::ffi::CString::new(name).expect("name");
        // SAFETY: valid C string.
        unsafe { libc::if_nametoindex(c.as_ptr()) }
    })
}

#[test]
fn exact_counts_per_flow_while_draining() {
    exact_counts(false);
}

#[test]
fn exact_counts_per_flow_while_draining_per_key() {
    exact_counts(true);
}

/// Drains every 15 ms while the frames flow; the sum over drains equals what was sent, per flow.
fn exact_counts(per_key: bool) {
    let pair = VethPair::new();
    let mut dp = load(&pair, 1, XdpAction::Drop);
    dp.set_per_key_drain(per_key);
    let ifindex = ifindex_in(&pair.rx_ns, &pair.rx_if);
    let flows = flows();

    let done = Arc::new(AtomicBool::new(false));
    let drains = Arc::new(AtomicUsize::new(0));
    let sender = {
        let done = done.clone();
        let drains = drains.clone();
        let flows = flows.clone();
        let raw = pair.sender();
        std::thread::spawn(move || {
            // After each tenth of the traffic, wait for a drain: drains interleave with traffic.
            send_paced(&raw, &flows, |_| {
                let seen = drains.load(Ordering::SeqCst);
                let t = Instant::now();
                while drains.load(Ordering::SeqCst) == seen && t.elapsed() < Duration::from_secs(10)
                {
                    std::thread::sleep(Duration::from_millis(1));
                }
            });
            done.store(true, Ordering::SeqCst);
        })
    };

    let mut got: HashMap<FlowFields, Counters> = HashMap::new();
    let mut drains_during_traffic = 0;
    let mut nonempty_drains = 0;
    let start = Instant::now();
    while !done.load(Ordering::SeqCst) {
        std::thread::sleep(Duration::from_millis(15));
        let d = dp.drain().expect("drain");
        drains_during_traffic += 1;
        drains.fetch_add(1, Ordering::SeqCst);
        if d.entries > 0 {
            nonempty_drains += 1;
        }
        accumulate(&mut got, d.records);
        assert!(start.elapsed() < Duration::from_secs(120), "sender stuck");
    }
    sender.join().expect("sender");
    std::thread::sleep(Duration::from_millis(50));
    accumulate(&mut got, dp.drain().expect("drain").records);
    accumulate(&mut got, dp.drain().expect("drain").records);

    assert!(
        nonempty_drains >= 3,
        "only {nonempty_drains} of {drains_during_traffic} drains saw traffic"
    );
    let total: u64 = flows.iter().map(|(_, n)| n).sum();
    assert_eq!(stat_total(&dp, stats::SEEN), total, "program saw a different number of frames");
    assert_eq!(stat_total(&dp, stats::SAMPLED), total);
    assert_eq!(stat_total(&dp, stats::NON_IP), 0);
    assert_eq!(stat_total(&dp, stats::TRUNCATED), 0);
    assert_eq!(stat_total(&dp, stats::MAP_FULL), 0);

    for (frame, n) in &flows {
        let key = expected_key(frame, ifindex);
        let c = got
            .remove(&key)
            .unwrap_or_else(|| panic!("no aggregate for {frame:?}\nhave: {got:#?}"));
        assert_eq!(c.packets, *n, "packets of {frame:?}");
        assert_eq!(c.bytes, n * frame.ip_len(), "bytes of {frame:?}");
        if let L4::Tcp { flags, .. } = frame.l4 {
            assert_eq!(c.tcp_flags, flags, "tcp flags of {frame:?}");
        }
        assert!(c.first_us > 0 && c.first_us <= c.last_us, "timestamps of {frame:?}: {c:?}");
    }
    assert!(got.is_empty(), "unexpected aggregates: {got:#?}");
    assert_eq!(dp.uses_batch_drain(), !per_key, "batch drain must work on this kernel");
}

#[test]
fn sampling_one_in_ten_is_renormalised() {
    let pair = VethPair::new();
    let mut dp = load(&pair, 10, XdpAction::Drop);
    let frame = Frame::new("10.9.0.1", "10.9.0.2", L4::Udp { sport: 7, dport: 9 }, 100);
    let n = 20_000u64;
    send_all(&pair.sender(), &[(frame.clone(), n)]);
    std::thread::sleep(Duration::from_millis(50));
    let mut got = HashMap::new();
    accumulate(&mut got, dp.drain().expect("drain").records);
    assert_eq!(got.len(), 1, "{got:#?}");
    let c = got.into_values().next().expect("one flow");
    // Binomial(20000, 0.1): sd of the renormalised count ≈ 424 (2.1%); ±10% is > 4.7 sd.
    let tolerance = n / 10;
    assert!(c.packets.abs_diff(n) <= tolerance, "renormalised packets {} vs {n}", c.packets);
    assert_eq!(c.bytes, c.packets * frame.ip_len());
    assert_eq!(stat_total(&dp, stats::SEEN), n);
    let sampled = stat_total(&dp, stats::SAMPLED);
    assert_eq!(sampled * 10, c.packets, "renormalisation must be exactly ×10");
}

#[test]
fn pass_delivers_and_drop_does_not() {
    for (action, expect_delivered) in [(XdpAction::Pass, true), (XdpAction::Drop, false)] {
        let pair = VethPair::new();
        netns::sh(&["ip", "-n", &pair.rx_ns, "addr", "add", "10.77.0.2/24", "dev", &pair.rx_if]);
        let rx_mac = netns::mac_of(&pair.rx_ns, &pair.rx_if);
        let _dp = load(&pair, 1, action);
        let sock = VethPair::in_ns(&pair.rx_ns, || {
            let s = std::net::UdpSocket::bind("10.77.0.2:5000").expect("bind");
            s.set_read_timeout(Some(Duration::from_millis(500))).expect("timeout");
            s
        });
        let mut frame =
            Frame::new("10.77.0.1", "10.77.0.2", L4::Udp { sport: 4000, dport: 5000 }, 16);
        frame.dst_mac = rx_mac;
        send_all(&pair.sender(), &[(frame, 5)]);
        let mut buf = [0u8; 64];
        let mut received = 0;
        while sock.recv(&mut buf).is_ok() {
            received += 1;
        }
        if expect_delivered {
            assert_eq!(received, 5, "XDP_PASS must let the datagrams reach the socket");
        } else {
            assert_eq!(received, 0, "XDP_DROP must drop them");
        }
    }
}
