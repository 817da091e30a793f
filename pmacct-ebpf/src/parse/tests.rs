//! Host-side tests of the parser on hand-built frames.

use super::*;

const MACS: [u8; 12] = [2, 0, 0, 0, 0, 2, 2, 0, 0, 0, 0, 1];

fn run(pkt: &[u8], mask: u32) -> Result<Packet, ParseError> {
    let start = pkt.as_ptr() as usize;
    parse(start, start + pkt.len()).map(|h| h.packet(mask, 7))
}

fn eth(etype: u16) -> Vec<u8> {
    let mut p = MACS.to_vec();
    p.extend_from_slice(&etype.to_be_bytes());
    p
}

fn ipv4(proto: u8, frag: u16, options: usize, payload: &[u8]) -> Vec<u8> {
    let hlen = 20 + options;
    let total = (hlen + payload.len()) as u16;
    let mut h = vec![0x40 | (hlen / 4) as u8, 0xb8];
    h.extend_from_slice(&total.to_be_bytes());
    h.extend_from_slice(&[0, 1]);
    h.extend_from_slice(&frag.to_be_bytes());
    h.extend_from_slice(&[64, proto, 0, 0, 10, 0, 0, 1, 192, 168, 1, 2]);
    h.extend(std::iter::repeat_n(1u8, options));
    h.extend_from_slice(payload);
    h
}

fn ipv6(next: u8, payload: &[u8]) -> Vec<u8> {
    let mut h = vec![0x6a, 0xb0, 0, 0];
    h.extend_from_slice(&(payload.len() as u16).to_be_bytes());
    h.extend_from_slice(&[next, 64]);
    h.extend_from_slice(&[0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1]);
    h.extend_from_slice(&[0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2]);
    h.extend_from_slice(payload);
    h
}

fn tcp(sport: u16, dport: u16, flags: u8) -> Vec<u8> {
    let mut t = sport.to_be_bytes().to_vec();
    t.extend_from_slice(&dport.to_be_bytes());
    t.extend_from_slice(&[0; 8]);
    t.extend_from_slice(&[0x50, flags, 0xff, 0xff, 0, 0, 0, 0]);
    t
}

fn udp(sport: u16, dport: u16) -> Vec<u8> {
    let mut u = sport.to_be_bytes().to_vec();
    u.extend_from_slice(&dport.to_be_bytes());
    u.extend_from_slice(&[0, 8, 0, 0]);
    u
}

#[test]
fn tcp_ipv4_all_fields() {
    let mut p = eth(ETH_P_IP);
    p.extend(ipv4(6, 0x4000, 0, &tcp(1234, 80, 0x12)));
    let r = run(&p, field::ALL).unwrap();
    let k = r.key;
    assert_eq!((k.family, k.proto, k.tos, k.src_port, k.dst_port), (4, 6, 0xb8, 1234, 80));
    assert_eq!(&k.src_addr[..4], &[10, 0, 0, 1]);
    assert_eq!(&k.dst_addr[..4], &[192, 168, 1, 2]);
    assert!(k.src_addr[4..].iter().all(|&b| b == 0));
    assert_eq!((k.dst_mac, k.src_mac), ([2, 0, 0, 0, 0, 2], [2, 0, 0, 0, 0, 1]));
    assert_eq!((k.etype, k.ifindex, k.vlan), (0x0800, 7, 0));
    assert_eq!((r.bytes, r.tcp_flags), (40, 0x12));
}

#[test]
fn mask_zeroes_unselected_fields() {
    let mut p = eth(ETH_P_IP);
    p.extend(ipv4(6, 0, 0, &tcp(1234, 80, 0x02)));
    let r = run(&p, 0).unwrap();
    assert_eq!(r.key, FlowKey::default());
    assert_eq!((r.bytes, r.tcp_flags), (40, 0x02));
    let k = run(&p, field::DST_ADDR | field::DST_PORT).unwrap().key;
    assert_eq!((k.family, k.dst_port, k.src_port, k.proto), (4, 80, 0, 0));
    assert_eq!(k.src_addr, [0; 16]);
}

#[test]
fn ipv4_options_and_fragments() {
    let mut p = eth(ETH_P_IP);
    p.extend(ipv4(17, 0, 8, &udp(53, 5353)));
    let k = run(&p, field::ALL).unwrap().key;
    assert_eq!((k.src_port, k.dst_port), (53, 5353));

    // Non-first fragment: no ports even though the bytes look like a UDP header.
    let mut p = eth(ETH_P_IP);
    p.extend(ipv4(17, 0x0010, 0, &udp(53, 5353)));
    let k = run(&p, field::ALL).unwrap().key;
    assert_eq!((k.proto, k.src_port, k.dst_port), (17, 0, 0));

    // First fragment with MF set keeps its ports.
    let mut p = eth(ETH_P_IP);
    p.extend(ipv4(17, 0x2000, 0, &udp(53, 5353)));
    assert_eq!(run(&p, field::ALL).unwrap().key.dst_port, 5353);
}

#[test]
fn vlan_tags_keep_the_outer_id() {
    let mut p = eth(ETH_P_8021AD);
    p.extend_from_slice(&[0x20, 100, 0x81, 0x00, 0x00, 200, 0x08, 0x00]);
    p.extend(ipv4(1, 0, 0, &[8, 0, 0, 0, 0, 0, 0, 0]));
    let k = run(&p, field::ALL).unwrap().key;
    assert_eq!((k.vlan, k.etype, k.proto, k.src_port), (100, 0x0800, 1, 0));

    let mut p = eth(ETH_P_8021Q);
    p.extend_from_slice(&[0x0f, 0xff, 0x86, 0xdd]);
    p.extend(ipv6(17, &udp(1, 2)));
    let k = run(&p, field::ALL).unwrap().key;
    assert_eq!((k.vlan, k.etype, k.family), (0x0fff, 0x86dd, 6));
}

#[test]
fn ipv6_extension_headers() {
    // Hop-by-hop (8 bytes) → fragment (offset 0) → TCP.
    let mut ext = vec![44, 0, 1, 4, 0, 0, 0, 0];
    ext.extend_from_slice(&[6, 0, 0, 1, 0, 0, 0, 9]);
    ext.extend(tcp(443, 50000, 0x10));
    let mut p = eth(ETH_P_IPV6);
    p.extend(ipv6(0, &ext));
    let r = run(&p, field::ALL).unwrap();
    let k = r.key;
    assert_eq!((k.family, k.proto, k.tos, k.src_port, k.dst_port), (6, 6, 0xab, 443, 50000));
    assert_eq!(k.src_addr[15], 1);
    assert_eq!(k.dst_addr[15], 2);
    assert_eq!((r.bytes, r.tcp_flags), (40 + ext.len() as u64, 0x10));

    // Routing header with length 1 (16 bytes) → destination options → UDP.
    let mut ext = vec![60, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0];
    ext.extend_from_slice(&[17, 0, 0, 0, 0, 0, 0, 0]);
    ext.extend(udp(7, 9));
    let mut p = eth(ETH_P_IPV6);
    p.extend(ipv6(43, &ext));
    let k = run(&p, field::ALL).unwrap().key;
    assert_eq!((k.proto, k.src_port, k.dst_port), (17, 7, 9));

    // Non-first fragment: protocol known, no ports.
    let mut ext = vec![17, 0, 0x01, 0x00, 0, 0, 0, 9];
    ext.extend(udp(7, 9));
    let mut p = eth(ETH_P_IPV6);
    p.extend(ipv6(44, &ext));
    let k = run(&p, field::ALL).unwrap().key;
    assert_eq!((k.proto, k.src_port, k.dst_port), (17, 0, 0));
}

#[test]
fn icmp_and_sctp() {
    let mut p = eth(ETH_P_IPV6);
    p.extend(ipv6(58, &[128, 0, 0, 0, 0, 1, 0, 1]));
    let k = run(&p, field::ALL).unwrap().key;
    assert_eq!((k.proto, k.src_port, k.dst_port), (58, 0, 0));

    let mut sctp = udp(2905, 2906);
    sctp.extend_from_slice(&[0, 0, 0, 0]);
    let mut p = eth(ETH_P_IP);
    p.extend(ipv4(132, 0, 0, &sctp));
    let k = run(&p, field::ALL).unwrap().key;
    assert_eq!((k.proto, k.src_port, k.dst_port), (132, 2905, 2906));
}

#[test]
fn non_ip_and_truncated() {
    let mut arp = eth(0x0806);
    arp.extend_from_slice(&[0; 28]);
    assert_eq!(run(&arp, field::ALL), Err(ParseError::NonIp));
    assert_eq!(run(&MACS, field::ALL), Err(ParseError::Truncated));

    let mut p = eth(ETH_P_IP);
    p.extend(ipv4(6, 0, 0, &tcp(1, 2, 0)));
    p.truncate(p.len() - 1); // TCP header one byte short
    assert_eq!(run(&p, field::ALL), Err(ParseError::Truncated));
    p.truncate(14 + 19); // IPv4 header one byte short
    assert_eq!(run(&p, field::ALL), Err(ParseError::Truncated));

    let mut p = eth(ETH_P_IP);
    p.extend(ipv4(6, 0, 0, &tcp(1, 2, 0)));
    p[14] = 0x44; // IHL 4
    assert_eq!(run(&p, field::ALL), Err(ParseError::Truncated));

    let mut p = eth(ETH_P_8021Q);
    p.extend_from_slice(&[0, 1]);
    assert_eq!(run(&p, field::ALL), Err(ParseError::Truncated));
}
