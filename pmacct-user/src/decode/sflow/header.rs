//! The sampled packet header record (flow record 0:1): decoded with the daemon's packet parser
//! ([`crate::decode::packet::parse`]) and mapped onto the sample the way sfacctd 1.7.7's
//! `decodeLinkLayer`/`decodeIPV4`/`decodeIPV6`/`decodeIPLayer4` (src/sflow.c) fill an `SFSample`.
//!
//! pmacct details followed:
//! - MACs come from the Ethernet header; the 802.1Q VLAN and priority only when no VLAN was
//!   known yet (an extended switch record read earlier wins);
//! - ports and TCP flags need 8 bytes of L4 header in the sample (pmacct's `ptr > end - 8`);
//! - a header whose IP part is cut short still counts as IPv4/IPv6 (addresses 0);
//! - IPv6 `tos` is the first header byte's low nibble (the traffic class's high 4 bits);
//! - MPLS (Ethernet type 0x8847/0x8848, or header protocol 13): the label stack is walked to the
//!   bottom of stack and the payload parsed as raw IP by its version nibble.
//!
//! - tunnels (`decodeVXLAN`, and IP-in-IP in `decodeIPV4`/`decodeIPV6`): UDP to port 4789 with
//!   the 8-byte VXLAN header sampled and its I flag set gives the VNI and an inner Ethernet
//!   frame; IP protocol 4 or 94 an inner IPv4 packet. The inner packet is decoded with these
//!   same rules into the `tunnel_*` fields (one level deep).
//!
//! Where pmacct and the shared parser differ we keep the parser's (more complete) reading: QinQ
//! (pmacct reads one 0x8100 tag only and drops the sample), 802.1ad outer tags.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use super::flow::FlowState;
use crate::decode::packet::{self, DecodeError, Layer, LinkType};

/// sFlow `header_protocol` values sfacctd decodes.
pub(super) const HEADER_ETHERNET: u32 = 1;
pub(super) const HEADER_IPV4: u32 = 11;
pub(super) const HEADER_IPV6: u32 = 12;
pub(super) const HEADER_MPLS: u32 = 13;

pub(super) const ETHERTYPE_IPV4: u16 = 0x0800;
pub(super) const ETHERTYPE_IPV6: u16 = 0x86DD;
const ETHERTYPE_8021Q: u16 = 0x8100;
const ETHERTYPE_8021AD: u16 = 0x88A8;
const ETHERTYPE_MPLS: u16 = 0x8847;
const ETHERTYPE_MPLS_MULTI: u16 = 0x8848;
const IPPROTO_IPENCAP: u8 = 4;
const IPPROTO_TCP: u8 = 6;
const IPPROTO_UDP: u8 = 17;
const IPPROTO_IPIP: u8 = 94;
const VXLAN_HDR: usize = 8;
const VXLAN_FLAG_I: u8 = 0x08;
/// pmacct reads a transport header only when 8 bytes of it were sampled.
const L4_MIN: usize = 8;

/// Decodes a sampled header of `protocol` into `st`.
pub(super) fn decode_header(protocol: u32, hdr: &[u8], st: &mut FlowState) {
    match protocol {
        HEADER_ETHERNET => {
            st.got_v4 = false;
            st.got_v6 = false;
            ethernet(hdr, st);
        }
        HEADER_IPV4 => ip(LinkType::IPV4, hdr, 0, st),
        HEADER_IPV6 => ip(LinkType::IPV6, hdr, 0, st),
        HEADER_MPLS => mpls(hdr, 0, st),
        // Other link types (802.11, PPP, FDDI, ...) are not decoded, as in sfacctd.
        _ => {}
    }
}

/// Ethernet MACs, the outer VLAN tag and where its payload starts: only used where the shared
/// parser gives no result (non-IP payloads, MPLS, truncated IP headers).
struct L2 {
    dst: [u8; 6],
    src: [u8; 6],
    tag: Option<u16>,
    ethertype: u16,
    offset: usize,
}

fn l2(hdr: &[u8]) -> Option<L2> {
    let dst: [u8; 6] = hdr.get(0..6)?.try_into().ok()?;
    let src: [u8; 6] = hdr.get(6..12)?.try_into().ok()?;
    let mut ethertype = be16(hdr, 12)?;
    let mut offset = 14;
    let mut tag = None;
    while ethertype == ETHERTYPE_8021Q || ethertype == ETHERTYPE_8021AD {
        let tci = be16(hdr, offset)?;
        tag.get_or_insert(tci);
        ethertype = be16(hdr, offset + 2)?;
        offset += 4;
    }
    Some(L2 { dst, src, tag, ethertype, offset })
}

fn be16(d: &[u8], off: usize) -> Option<u16> {
    Some(u16::from_be_bytes([*d.get(off)?, *d.get(off.checked_add(1)?)?]))
}

/// pmacct: VLAN/priority from the header only when none is known yet.
fn set_vlan(st: &mut FlowState, tci: u16) {
    if st.in_vlan == 0 && st.out_vlan == 0 {
        st.in_vlan = u32::from(tci & 0x0FFF);
    }
    if st.in_priority == 0 && st.out_priority == 0 {
        st.in_priority = u32::from(tci >> 13);
    }
}

fn ethernet(hdr: &[u8], st: &mut FlowState) {
    // Fewer than 14 bytes: pmacct reads nothing.
    let Some(l2) = l2(hdr) else {
        if let (Some(d), Some(s), Some(t)) = (hdr.get(0..6), hdr.get(6..12), be16(hdr, 12)) {
            // A tag cut short: MACs and the tag's ethertype, as far as pmacct got.
            st.eth_dst.copy_from_slice(d);
            st.eth_src.copy_from_slice(s);
            st.eth_type = u32::from(t);
        }
        return;
    };
    st.eth_dst = l2.dst;
    st.eth_src = l2.src;
    st.eth_type = u32::from(l2.ethertype);
    if let Some(tci) = l2.tag {
        set_vlan(st, tci);
    }
    match l2.ethertype {
        ETHERTYPE_IPV4 | ETHERTYPE_IPV6 => parse(LinkType::ETHERNET, hdr, l2.ethertype, st),
        ETHERTYPE_MPLS | ETHERTYPE_MPLS_MULTI => mpls(hdr, l2.offset, st),
        // Not IP: no addresses, and a non-zero ethertype keeps the sample out of the accounting.
        _ => {}
    }
}

/// Raw IP at `offset` (header protocol IPv4/IPv6, or below an MPLS stack).
fn ip(link: LinkType, hdr: &[u8], offset: usize, st: &mut FlowState) {
    let data = hdr.get(offset..).unwrap_or_default();
    let ethertype = if link == LinkType::IPV6 { ETHERTYPE_IPV6 } else { ETHERTYPE_IPV4 };
    parse(link, data, ethertype, st);
}

/// Runs the shared parser over `data` and copies what it found into the sample.
fn parse(link: LinkType, data: &[u8], ethertype: u16, st: &mut FlowState) {
    let mut pkt = packet::Packet::default();
    match packet::parse_into(link, data, &packet::DecodeOptions::default(), &mut pkt) {
        Ok(()) => apply(&pkt, data, st),
        Err(e) => ip_error(e, ethertype, st),
    }
}

/// A parser error on an IP payload: pmacct still counts the sample as IPv4/IPv6 when the
/// headers were merely cut short (it checks `caplen < IP4HdrSz` after setting `gotIPV4`).
fn ip_error(e: DecodeError, ethertype: u16, st: &mut FlowState) {
    let v6 = ethertype == ETHERTYPE_IPV6;
    match e {
        DecodeError::Truncated {
            layer: Layer::Ipv4 | Layer::Ipv6 | Layer::Ipv6Extension, ..
        }
        | DecodeError::BadIpHeader(_)
        | DecodeError::Jumbogram => {
            st.got_v4 = !v6;
            st.got_v6 = v6;
        }
        _ => {}
    }
}

/// Copies a parsed packet's L3/L4 fields into the sample.
fn apply(pkt: &packet::Packet, data: &[u8], st: &mut FlowState) {
    let f = &pkt.record.fields;
    match (f.src_ip, f.dst_ip) {
        (IpAddr::V4(s), IpAddr::V4(d)) => {
            st.got_v4 = true;
            st.got_v6 = false;
            st.src_v4 = s.octets();
            st.dst_v4 = d.octets();
            st.tos = f.tos;
        }
        (IpAddr::V6(s), IpAddr::V6(d)) => {
            st.got_v6 = true;
            st.got_v4 = false;
            st.src_v6 = s.octets();
            st.dst_v6 = d.octets();
            st.tos = f.tos >> 4;
        }
        _ => return,
    }
    st.proto = f.proto;
    let l4_ok = pkt.l4_offset.is_some_and(|off| data.len().saturating_sub(off) >= L4_MIN);
    if l4_ok && (f.proto == IPPROTO_TCP || f.proto == IPPROTO_UDP) {
        st.src_port = f.src_port;
        st.dst_port = f.dst_port;
        if f.proto == IPPROTO_TCP {
            st.tcp_flags = pkt.record.counters.tcp_flags;
        }
    }
    if st.inner {
        return;
    }
    let Some(l4) = pkt.l4_offset.and_then(|off| data.get(off..)) else { return };
    match f.proto {
        IPPROTO_UDP if l4_ok && f.dst_port == packet::UDP_PORT_VXLAN => {
            vxlan(l4.get(L4_MIN..).unwrap_or_default(), st);
        }
        IPPROTO_IPENCAP | IPPROTO_IPIP => {
            let mut inner = FlowState { inner: true, ..FlowState::default() };
            // pmacct takes the payload for IPv4 whatever its version nibble says.
            ip(LinkType::IPV4, l4, 0, &mut inner);
            inner.got_v4 = true;
            inner.got_v6 = false;
            st.tunnel = Tunnel::of(&inner);
        }
        _ => {}
    }
}

/// The tunnelled packet's fields of a sample (pmacct's `sppi`, read by the `SF_tunnel_*`
/// handlers, and the sample's `vni`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) struct Tunnel {
    pub src_mac: [u8; 6],
    pub dst_mac: [u8; 6],
    pub src_ip: IpAddr,
    pub dst_ip: IpAddr,
    pub proto: u8,
    pub tos: u8,
    pub src_port: u16,
    pub dst_port: u16,
    pub vni: u32,
}

impl Default for Tunnel {
    fn default() -> Self {
        let zero = IpAddr::V4(Ipv4Addr::UNSPECIFIED);
        Tunnel {
            src_mac: [0; 6],
            dst_mac: [0; 6],
            src_ip: zero,
            dst_ip: zero,
            proto: 0,
            tos: 0,
            src_port: 0,
            dst_port: 0,
            vni: 0,
        }
    }
}

impl Tunnel {
    /// What the `SF_tunnel_*` handlers take from an inner sample.
    fn of(inner: &FlowState) -> Tunnel {
        let zero = IpAddr::V4(Ipv4Addr::UNSPECIFIED);
        let (src_ip, dst_ip) = if inner.got_v4 {
            (IpAddr::V4(Ipv4Addr::from(inner.src_v4)), IpAddr::V4(Ipv4Addr::from(inner.dst_v4)))
        } else if inner.got_v6 {
            (IpAddr::V6(Ipv6Addr::from(inner.src_v6)), IpAddr::V6(Ipv6Addr::from(inner.dst_v6)))
        } else {
            (zero, zero)
        };
        let l4 = inner.proto == IPPROTO_TCP || inner.proto == IPPROTO_UDP;
        Tunnel {
            src_mac: inner.eth_src,
            dst_mac: inner.eth_dst,
            src_ip,
            dst_ip,
            proto: inner.proto,
            tos: inner.tos,
            src_port: if l4 { inner.src_port } else { 0 },
            dst_port: if l4 { inner.dst_port } else { 0 },
            vni: 0,
        }
    }
}

/// pmacct's `decodeVXLAN` on the UDP payload `vx`: nothing unless the 8-byte header is there
/// with the I flag; then the VNI and the inner Ethernet frame.
fn vxlan(vx: &[u8], st: &mut FlowState) {
    let (Some(hdr), Some(frame)) = (vx.get(..VXLAN_HDR), vx.get(VXLAN_HDR..)) else { return };
    let [flags, _, _, _, a, b, c, _] = *hdr else { return };
    if flags & VXLAN_FLAG_I == 0 {
        return;
    }
    let mut inner = FlowState { inner: true, ..FlowState::default() };
    ethernet(frame, &mut inner);
    st.tunnel = Tunnel { vni: u32::from_be_bytes([0, a, b, c]), ..Tunnel::of(&inner) };
}

/// An MPLS label stack at `offset`: records the labels, then parses the IP payload below the
/// bottom-of-stack label by its version nibble.
fn mpls(hdr: &[u8], mut offset: usize, st: &mut FlowState) {
    let mut depth: u8 = 0;
    loop {
        let Some(label) = hdr
            .get(offset..offset.saturating_add(4))
            .and_then(|b| <[u8; 4]>::try_from(b).ok())
            .map(u32::from_be_bytes)
        else {
            return;
        };
        if depth == 0 {
            st.mpls_top = label >> 12;
        }
        st.mpls_bottom = label >> 12;
        depth = depth.saturating_add(1);
        st.mpls_depth = depth;
        offset += 4;
        if label & 0x100 != 0 {
            break;
        }
    }
    match hdr.get(offset).map(|b| b >> 4) {
        Some(4) => {
            st.eth_type = u32::from(ETHERTYPE_IPV4);
            ip(LinkType::IPV4, hdr, offset, st);
        }
        Some(6) => {
            st.eth_type = u32::from(ETHERTYPE_IPV6);
            ip(LinkType::IPV6, hdr, offset, st);
        }
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ipv4(proto: u8, tos: u8, src: [u8; 4], dst: [u8; 4], l4: &[u8]) -> Vec<u8> {
        let mut v = vec![0x45, tos, 0, (20 + l4.len()) as u8, 0, 0, 0, 0, 64, proto, 0, 0];
        v.extend_from_slice(&src);
        v.extend_from_slice(&dst);
        v.extend_from_slice(l4);
        v
    }

    fn eth(src_last: u8, etype: u16, l3: &[u8]) -> Vec<u8> {
        let mut v = vec![2, 0, 0, 0, 0, 9, 2, 0, 0, 0, 0, src_last];
        v.extend_from_slice(&etype.to_be_bytes());
        v.extend_from_slice(l3);
        v
    }

    fn vxlan_frame(flags: u8) -> Vec<u8> {
        let l4 = [0x04, 0x57, 0, 80, 0, 0, 0, 0, 0, 0, 0, 0, 0x50, 0x18, 0, 0];
        let inner =
            eth(0xAA, ETHERTYPE_IPV4, &ipv4(6, 0x28, [192, 168, 1, 1], [192, 168, 1, 2], &l4));
        let mut udp = vec![0x9c, 0x40, 0x12, 0xb5, 0, 0, 0, 0, flags, 0, 0, 0, 0, 0x13, 0x88, 0];
        udp.extend(inner);
        eth(1, ETHERTYPE_IPV4, &ipv4(17, 0, [10, 0, 0, 1], [10, 0, 0, 2], &udp))
    }

    fn decode(hdr: &[u8]) -> FlowState {
        let mut st = FlowState::default();
        decode_header(HEADER_ETHERNET, hdr, &mut st);
        st
    }

    #[test]
    fn vxlan_with_the_i_flag_only() {
        let t = decode(&vxlan_frame(0x08)).tunnel;
        assert_eq!((t.vni, t.src_mac[5], t.proto, t.tos), (5000, 0xAA, 6, 0x28));
        assert_eq!((t.src_ip, t.src_port, t.dst_port), ("192.168.1.1".parse().unwrap(), 1111, 80));
        // sfacctd skips the whole tunnel without the I flag.
        assert_eq!(decode(&vxlan_frame(0x00)).tunnel, Tunnel::default());
    }

    #[test]
    fn ip_in_ip_is_a_tunnel() {
        let inner = ipv4(17, 0x10, [172, 16, 0, 1], [172, 16, 0, 2], &[0, 7, 0, 9, 0, 8, 0, 0]);
        let st = decode(&eth(1, ETHERTYPE_IPV4, &ipv4(4, 0, [10, 0, 0, 1], [10, 0, 0, 2], &inner)));
        assert_eq!((st.proto, st.src_port), (4, 0));
        let t = st.tunnel;
        assert_eq!(
            (t.src_ip, t.proto, t.tos, t.dst_port),
            ("172.16.0.1".parse().unwrap(), 17, 0x10, 9)
        );
        assert_eq!((t.src_mac, t.vni), ([0; 6], 0));
    }

    #[test]
    fn truncated_tunnels_never_panic() {
        let full = vxlan_frame(0x08);
        for cut in 0..=full.len() {
            let t = decode(&full[..cut]).tunnel;
            // The VNI needs the 8-byte UDP header and the 8-byte VXLAN header.
            assert_eq!(t.vni == 5000, cut >= 14 + 20 + 16, "cut at {cut}");
            // Ports need 8 bytes of the inner TCP header.
            assert_eq!(t.dst_port == 80, cut >= 14 + 20 + 16 + 14 + 20 + 8, "cut at {cut}");
        }
    }
}
