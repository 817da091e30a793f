//! Hand-built frames for the packet parser.

use std::net::IpAddr;

use super::*;

const SRC_MAC: [u8; 6] = [2, 0, 0, 0, 0, 1];
const DST_MAC: [u8; 6] = [2, 0xFF, 0, 0, 0, 2];

fn eth(etype: u16, tags: &[(u16, u16)]) -> Vec<u8> {
    let mut v = Vec::new();
    v.extend_from_slice(&DST_MAC);
    v.extend_from_slice(&SRC_MAC);
    for (tpid, tci) in tags {
        v.extend_from_slice(&tpid.to_be_bytes());
        v.extend_from_slice(&tci.to_be_bytes());
    }
    v.extend_from_slice(&etype.to_be_bytes());
    v
}

fn ipv4(proto: u8, total_len: u16, flags_off: u16, options: usize) -> Vec<u8> {
    let ihl = 5 + options / 4;
    let mut v = vec![0x40 | ihl as u8, 0xB8];
    v.extend_from_slice(&total_len.to_be_bytes());
    v.extend_from_slice(&0x1234u16.to_be_bytes());
    v.extend_from_slice(&flags_off.to_be_bytes());
    v.extend_from_slice(&[64, proto, 0, 0]);
    v.extend_from_slice(&[10, 0, 0, 1, 192, 168, 1, 2]);
    v.extend(std::iter::repeat_n(1u8, options));
    v
}

fn ipv6(next: u8, plen: u16) -> Vec<u8> {
    let mut v = vec![0x62, 0x00, 0x00, 0x00];
    v.extend_from_slice(&plen.to_be_bytes());
    v.extend_from_slice(&[next, 64]);
    v.extend_from_slice(&"2001:db8::1".parse::<std::net::Ipv6Addr>().unwrap().octets());
    v.extend_from_slice(&"2001:db8::2".parse::<std::net::Ipv6Addr>().unwrap().octets());
    v
}

fn tcp(sp: u16, dp: u16, flags: u8) -> Vec<u8> {
    let mut v = Vec::new();
    v.extend_from_slice(&sp.to_be_bytes());
    v.extend_from_slice(&dp.to_be_bytes());
    v.extend_from_slice(&[0; 8]);
    v.extend_from_slice(&[0x50, flags, 0xFF, 0xFF, 0, 0, 0, 0]);
    v
}

fn udp(sp: u16, dp: u16) -> Vec<u8> {
    let mut v = Vec::new();
    v.extend_from_slice(&sp.to_be_bytes());
    v.extend_from_slice(&dp.to_be_bytes());
    v.extend_from_slice(&[0, 8, 0, 0]);
    v
}

fn ip(s: &str) -> IpAddr {
    s.parse().unwrap()
}

fn cat(parts: &[&[u8]]) -> Vec<u8> {
    parts.concat()
}

#[test]
fn ethernet_ipv4_tcp() {
    let f = cat(&[&eth(0x0800, &[]), &ipv4(6, 1500, 0, 0), &tcp(40000, 443, 0x12)]);
    let p = parse(LinkType::ETHERNET, &f).unwrap();
    let r = p.record;
    assert_eq!(r.fields.src_mac, SRC_MAC);
    assert_eq!(r.fields.dst_mac, DST_MAC);
    assert_eq!((r.fields.vlan, r.fields.etype), (0, 0x0800));
    assert_eq!(r.fields.src_ip, ip("10.0.0.1"));
    assert_eq!(r.fields.dst_ip, ip("192.168.1.2"));
    assert_eq!((r.fields.src_port, r.fields.dst_port, r.fields.proto), (40000, 443, 6));
    assert_eq!(r.fields.tos, 0xB8);
    assert_eq!((r.counters.packets, r.counters.bytes, r.counters.tcp_flags), (1, 1500, 0x12));
    assert_eq!(p.fragment, None);
    assert!(!p.l4_truncated);
}

#[test]
fn ipv4_options_are_skipped() {
    let f = cat(&[&eth(0x0800, &[]), &ipv4(17, 60, 0, 8), &udp(53, 5353)]);
    let r = parse(LinkType::ETHERNET, &f).unwrap().record;
    assert_eq!((r.fields.src_port, r.fields.dst_port, r.fields.proto), (53, 5353, 17));
}

#[test]
fn ipv4_bad_ihl() {
    let mut f = cat(&[&eth(0x0800, &[]), &ipv4(17, 60, 0, 0), &udp(1, 2)]);
    f[14] = 0x44;
    assert!(matches!(parse(LinkType::ETHERNET, &f), Err(DecodeError::BadIpHeader(_))));
}

#[test]
fn icmp_has_no_ports() {
    let f = cat(&[&eth(0x0800, &[]), &ipv4(1, 84, 0, 0), &[8, 0, 0, 0, 0, 1, 0, 1]]);
    let r = parse(LinkType::ETHERNET, &f).unwrap().record;
    assert_eq!((r.fields.src_port, r.fields.dst_port, r.fields.proto), (0, 0, 1));
    assert_eq!(r.counters.bytes, 84);
}

#[test]
fn sctp_ports_only_on_request() {
    let f = cat(&[&eth(0x0800, &[]), &ipv4(132, 100, 0, 0), &udp(2905, 2906)]);
    let r = parse(LinkType::ETHERNET, &f).unwrap().record;
    assert_eq!((r.fields.src_port, r.fields.dst_port), (0, 0));
    let r = parse_with(LinkType::ETHERNET, &f, &DecodeOptions { sctp_ports: true }).unwrap().record;
    assert_eq!((r.fields.src_port, r.fields.dst_port, r.fields.proto), (2905, 2906, 132));
}

#[test]
fn qinq_uses_outer_tag() {
    let tags = [(0x88A8, (5 << 13) | 100), (0x8100, (3 << 13) | 200)];
    let f = cat(&[&eth(0x0800, &tags), &ipv4(17, 28, 0, 0), &udp(1, 2)]);
    let r = parse(LinkType::ETHERNET, &f).unwrap().record;
    assert_eq!((r.fields.vlan, r.fields.cos, r.fields.etype), (100, 5, 0x0800));
    assert_eq!((r.fields.src_port, r.fields.dst_port), (1, 2));
    let f = cat(&[&eth(0x86DD, &[(0x8100, 42)]), &ipv6(17, 8), &udp(3, 4)]);
    let r = parse(LinkType::ETHERNET, &f).unwrap().record;
    assert_eq!((r.fields.vlan, r.fields.cos, r.fields.etype), (42, 0, 0x86DD));
}

#[test]
fn ipv4_fragments() {
    // First fragment: MF set, offset 0 → ports.
    let f = cat(&[&eth(0x0800, &[]), &ipv4(17, 1500, 0x2000, 0), &udp(1000, 53)]);
    let p = parse(LinkType::ETHERNET, &f).unwrap();
    assert_eq!(p.fragment, Some(Fragment { id: 0x1234, offset: 0, more: true }));
    assert!(p.fragment.unwrap().is_first());
    assert_eq!(p.record.fields.src_port, 1000);
    // Non-first fragment: no ports even though bytes follow.
    let f = cat(&[&eth(0x0800, &[]), &ipv4(17, 520, 185, 0), &udp(1000, 53)]);
    let p = parse(LinkType::ETHERNET, &f).unwrap();
    assert_eq!(p.fragment, Some(Fragment { id: 0x1234, offset: 185, more: false }));
    assert_eq!((p.record.fields.src_port, p.record.fields.dst_port), (0, 0));
    assert_eq!((p.record.fields.proto, p.record.counters.bytes), (17, 520));
    assert!(!p.l4_truncated);
}

#[test]
fn ipv6_extension_headers() {
    // hop-by-hop (8) → routing (16) → fragment (8, first) → dest opts (8) → TCP
    let hbh = [43, 0, 0, 0, 0, 0, 0, 0];
    let mut rt = vec![44, 1];
    rt.extend_from_slice(&[0; 14]);
    let frag = [60, 0, 0x00, 0x01, 0xde, 0xad, 0xbe, 0xef];
    let dst = [6, 0, 0, 0, 0, 0, 0, 0];
    let body = cat(&[&hbh, &rt, &frag, &dst, &tcp(22, 50000, 0x18)]);
    let f = cat(&[&eth(0x86DD, &[]), &ipv6(0, body.len() as u16 + 100), &body]);
    let p = parse(LinkType::ETHERNET, &f).unwrap();
    let r = p.record;
    assert_eq!((r.fields.src_port, r.fields.dst_port, r.fields.proto), (22, 50000, 6));
    assert_eq!(r.fields.src_ip, ip("2001:db8::1"));
    assert_eq!(r.fields.tos, 0x20);
    assert_eq!(r.counters.bytes, body.len() as u64 + 140);
    assert_eq!(r.counters.tcp_flags, 0x18);
    assert_eq!(p.fragment, Some(Fragment { id: 0xdeadbeef, offset: 0, more: true }));
}

#[test]
fn ipv6_non_first_fragment_has_no_ports() {
    let frag = [17, 0, 0x05, 0x00, 0, 0, 0, 9];
    let body = cat(&[&frag, &udp(1, 2)]);
    let f = cat(&[&eth(0x86DD, &[]), &ipv6(44, body.len() as u16), &body]);
    let p = parse(LinkType::ETHERNET, &f).unwrap();
    assert_eq!(p.fragment, Some(Fragment { id: 9, offset: 0xA0, more: false }));
    assert_eq!((p.record.fields.src_port, p.record.fields.proto), (0, 17));
}

#[test]
fn ipv6_icmp_and_jumbo() {
    let f = cat(&[&eth(0x86DD, &[]), &ipv6(58, 64), &[128, 0, 0, 0, 0, 1, 0, 1]]);
    let r = parse(LinkType::ETHERNET, &f).unwrap().record;
    assert_eq!((r.fields.proto, r.fields.src_port, r.fields.dst_port), (58, 0, 0));
    assert_eq!(r.counters.bytes, 104);
    let f = cat(&[&eth(0x86DD, &[]), &ipv6(0, 0), &[0; 8]]);
    assert_eq!(parse(LinkType::ETHERNET, &f), Err(DecodeError::Jumbogram));
}

#[test]
fn ipv6_truncated_extension_chain_accounts_proto_zero() {
    let f = cat(&[&eth(0x86DD, &[]), &ipv6(0, 500), &[6, 4, 0]]);
    let p = parse(LinkType::ETHERNET, &f).unwrap();
    assert_eq!((p.record.fields.proto, p.record.counters.bytes), (0, 540));
    assert!(p.l4_truncated);
}

#[test]
fn not_ip() {
    let f = cat(&[&eth(0x0806, &[]), &[0; 28]]);
    assert_eq!(parse(LinkType::ETHERNET, &f), Err(DecodeError::NotIp { ethertype: 0x0806 }));
    assert_eq!(parse(LinkType(9999), &f), Err(DecodeError::UnsupportedLinkType(9999)));
}

#[test]
fn l4_truncated_is_flagged() {
    let f = cat(&[&eth(0x0800, &[]), &ipv4(6, 1500, 0, 0), &[0x01, 0x02]]);
    let p = parse(LinkType::ETHERNET, &f).unwrap();
    assert!(p.l4_truncated);
    assert_eq!((p.record.fields.src_port, p.record.counters.bytes), (0, 1500));
}

#[test]
fn linux_cooked_and_raw() {
    let mut sll = vec![0, 0, 0, 1, 0, 6];
    sll.extend_from_slice(&SRC_MAC);
    sll.extend_from_slice(&[0, 0, 0x08, 0x00]);
    let f = cat(&[&sll, &ipv4(17, 28, 0, 0), &udp(7, 8)]);
    let r = parse(LinkType::LINUX_SLL, &f).unwrap().record;
    assert_eq!((r.fields.src_mac, r.fields.dst_mac), (SRC_MAC, [0; 6]));
    assert_eq!((r.fields.src_port, r.fields.dst_port), (7, 8));

    let mut sll2 = vec![0x86, 0xDD, 0, 0, 0, 0, 0, 3, 0, 1, 0, 6];
    sll2.extend_from_slice(&SRC_MAC);
    sll2.extend_from_slice(&[0, 0]);
    let f = cat(&[&sll2, &ipv6(17, 8), &udp(9, 10)]);
    let r = parse(LinkType::LINUX_SLL2, &f).unwrap().record;
    assert_eq!((r.fields.src_mac, r.fields.etype), (SRC_MAC, 0x86DD));
    assert_eq!((r.fields.src_port, r.fields.dst_port), (9, 10));

    let f = cat(&[&ipv6(17, 8), &udp(9, 10)]);
    assert_eq!(parse(LinkType::RAW, &f).unwrap().record.fields.dst_port, 10);
    let f = cat(&[&ipv4(17, 28, 0, 0), &udp(9, 11)]);
    assert_eq!(parse(LinkType::RAW, &f).unwrap().record.fields.dst_port, 11);
    assert_eq!(parse(LinkType::IPV4, &f).unwrap().record.fields.dst_port, 11);
    let f = cat(&[&2u32.to_le_bytes(), &ipv4(17, 28, 0, 0), &udp(9, 12)]);
    assert_eq!(parse(LinkType::NULL, &f).unwrap().record.fields.dst_port, 12);
}

/// Every prefix of every sample frame parses or errors, never panics.
#[test]
fn truncation_at_every_offset() {
    let hbh = [6, 0, 0, 0, 0, 0, 0, 0];
    let frames: Vec<(LinkType, Vec<u8>)> = vec![
        (LinkType::ETHERNET, cat(&[&eth(0x0800, &[]), &ipv4(6, 1500, 0, 8), &tcp(1, 2, 2)])),
        (
            LinkType::ETHERNET,
            cat(&[&eth(0x86DD, &[(0x88A8, 1), (0x8100, 2)]), &ipv6(0, 28), &hbh, &tcp(1, 2, 2)]),
        ),
        (
            LinkType::LINUX_SLL,
            cat(&[
                &[0, 0, 0, 1, 0, 6, 1, 2, 3, 4, 5, 6, 0, 0, 0x81, 0],
                &[0, 5, 0x08, 0],
                &ipv4(17, 28, 0, 0),
                &udp(1, 2),
            ]),
        ),
        (
            LinkType::LINUX_SLL2,
            cat(&[
                &[0x86, 0xDD, 0, 0, 0, 0, 0, 3, 0, 1, 0, 6, 1, 2, 3, 4, 5, 6, 0, 0],
                &ipv6(44, 16),
                &[17, 0, 0, 1, 0, 0, 0, 1],
                &udp(1, 2),
            ]),
        ),
        (LinkType::RAW, cat(&[&ipv4(132, 28, 0, 0), &udp(1, 2)])),
        (LinkType::NULL, cat(&[&30u32.to_be_bytes(), &ipv6(58, 8), &[128, 0, 0, 0, 0, 1, 0, 1]])),
    ];
    let sctp = DecodeOptions { sctp_ports: true };
    for (link, frame) in &frames {
        assert!(parse(*link, frame).is_ok(), "full frame {link:?} must parse");
        for cut in 0..frame.len() {
            let _ = parse(*link, &frame[..cut]);
            let _ = parse_with(*link, &frame[..cut], &sctp);
        }
    }
    // Arbitrary bytes under every link type.
    let mut x = 0x9E37_79B9_7F4A_7C15u64;
    for _ in 0..2000 {
        let mut buf = [0u8; 96];
        for b in buf.iter_mut() {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            *b = x as u8;
        }
        for link in [0, 1, 101, 108, 113, 228, 229, 276] {
            let _ = parse(LinkType(link), &buf[..(x as usize % 96)]);
        }
    }
}

mod vxlan;
