//! VXLAN frames: the inner headers land in the `tunnel_*` fields, the outer ones stay put.

use super::*;

const INNER_SRC_MAC: [u8; 6] = [2, 0, 0, 0, 0xAA, 1];
const INNER_DST_MAC: [u8; 6] = [2, 0, 0, 0, 0xBB, 2];

/// An inner Ethernet frame: MACs, then `etype` and `l3`.
fn inner_eth(etype: u16, l3: &[u8]) -> Vec<u8> {
    let mut v = INNER_DST_MAC.to_vec();
    v.extend_from_slice(&INNER_SRC_MAC);
    v.extend_from_slice(&etype.to_be_bytes());
    v.extend_from_slice(l3);
    v
}

/// Inner IPv4 172.16.0.1 → 172.16.0.2, ToS 0x28, then `l4`.
fn inner_v4(proto: u8, l4: &[u8]) -> Vec<u8> {
    let mut v = ipv4(proto, 20 + l4.len() as u16, 0, 0);
    v[1] = 0x28;
    v[12..20].copy_from_slice(&[172, 16, 0, 1, 172, 16, 0, 2]);
    v.extend_from_slice(l4);
    v
}

/// Outer Ethernet/IPv4/UDP `sport` → `dport` carrying a VXLAN header (`flags`, VNI) and `inner`.
fn vxlan_frame(dport: u16, flags: u8, vni: u32, inner: &[u8]) -> Vec<u8> {
    let mut payload = vec![flags, 0, 0, 0];
    payload.extend_from_slice(&vni.to_be_bytes()[1..]);
    payload.push(0);
    payload.extend_from_slice(inner);
    let mut v = eth(0x0800, &[]);
    v.extend(ipv4(17, 28 + payload.len() as u16, 0, 0));
    v.extend(udp(49152, dport));
    v.extend(payload);
    v
}

fn tcp_inner() -> Vec<u8> {
    inner_eth(0x0800, &inner_v4(6, &tcp(1111, 80, 0x18)))
}

#[test]
fn vxlan_fills_the_tunnel_fields_and_keeps_the_outer_ones() {
    let p = parse(LinkType::ETHERNET, &vxlan_frame(4789, 0x08, 5000, &tcp_inner())).unwrap();
    let f = &p.record.fields;
    assert_eq!((f.src_ip, f.dst_ip), (ip("10.0.0.1"), ip("192.168.1.2")));
    assert_eq!((f.proto, f.src_port, f.dst_port, f.tos), (17, 49152, 4789, 0xB8));
    assert_eq!((f.src_mac, f.dst_mac), (SRC_MAC, DST_MAC));
    assert_eq!(f.vni, 5000);
    assert_eq!((f.tunnel_src_mac, f.tunnel_dst_mac), (INNER_SRC_MAC, INNER_DST_MAC));
    assert_eq!((f.tunnel_src_ip, f.tunnel_dst_ip), (ip("172.16.0.1"), ip("172.16.0.2")));
    assert_eq!((f.tunnel_proto, f.tunnel_tos), (6, 0x28));
    assert_eq!((f.tunnel_src_port, f.tunnel_dst_port), (1111, 80));
    // The outer packet's counters, not the inner one's.
    assert_eq!(p.record.counters.tcp_flags, 0);
}

#[test]
fn without_the_i_flag_no_vni_but_the_inner_frame_still_parsed() {
    // pmacctd reads the VNI only with the I flag, and parses the inner frame regardless.
    let p = parse(LinkType::ETHERNET, &vxlan_frame(4789, 0x00, 5000, &tcp_inner())).unwrap();
    assert_eq!(p.record.fields.vni, 0);
    assert_eq!(p.record.fields.tunnel_src_ip, ip("172.16.0.1"));
}

#[test]
fn other_ports_are_not_vxlan() {
    for dport in [4790, 8472] {
        let p = parse(LinkType::ETHERNET, &vxlan_frame(dport, 0x08, 7, &tcp_inner())).unwrap();
        assert_eq!(p.record.fields.vni, 0);
        assert_eq!(p.record.fields.tunnel_src_mac, [0; 6]);
        assert_eq!(p.record.fields.tunnel_src_ip, ip("0.0.0.0"));
    }
}

#[test]
fn inner_ipv6_udp_and_non_ip() {
    let mut l3 = ipv6(17, 8);
    l3.extend(udp(5353, 53));
    let p = parse(LinkType::ETHERNET, &vxlan_frame(4789, 0x08, 0xABCDEF, &inner_eth(0x86DD, &l3)))
        .unwrap();
    let f = &p.record.fields;
    assert_eq!(f.vni, 0xABCDEF);
    assert_eq!((f.tunnel_src_ip, f.tunnel_dst_ip), (ip("2001:db8::1"), ip("2001:db8::2")));
    // pmacctd: the whole traffic class.
    assert_eq!((f.tunnel_proto, f.tunnel_tos), (17, 0x20));
    assert_eq!((f.tunnel_src_port, f.tunnel_dst_port), (5353, 53));
    // An inner ARP frame: MACs only.
    let p = parse(LinkType::ETHERNET, &vxlan_frame(4789, 0x08, 9, &inner_eth(0x0806, &[0; 28])))
        .unwrap();
    let f = &p.record.fields;
    assert_eq!((f.vni, f.tunnel_src_mac, f.tunnel_proto), (9, INNER_SRC_MAC, 0));
    assert_eq!(f.tunnel_src_ip, ip("0.0.0.0"));
}

#[test]
fn truncated_vxlan_frames_never_panic_and_fill_what_was_captured() {
    let full = vxlan_frame(4789, 0x08, 42, &tcp_inner());
    let vxlan_at = 14 + 20 + 8;
    let inner_at = vxlan_at + 8;
    for cut in 0..=full.len() {
        let Ok(p) = parse(LinkType::ETHERNET, &full[..cut]) else { continue };
        let f = &p.record.fields;
        if cut < inner_at {
            // pmacct wants the whole VXLAN header.
            assert_eq!(f.vni, 0, "cut at {cut}");
        } else {
            assert_eq!(f.vni, 42, "cut at {cut}");
        }
        let has_macs = cut >= inner_at + 14;
        assert_eq!(f.tunnel_src_mac == INNER_SRC_MAC, has_macs, "cut at {cut}");
        let has_ip = cut >= inner_at + 14 + 20;
        assert_eq!(f.tunnel_src_ip == ip("172.16.0.1"), has_ip, "cut at {cut}");
        let has_ports = cut >= inner_at + 14 + 20 + 4;
        assert_eq!(f.tunnel_dst_port == 80, has_ports, "cut at {cut}");
    }
    // Garbage after the VXLAN header, at every length.
    for len in 0..64 {
        let junk: Vec<u8> = (0..len).map(|i| (i * 37 + 11) as u8).collect();
        let _ = parse(LinkType::ETHERNET, &vxlan_frame(4789, 0xFF, u32::MAX, &junk));
    }
}
