//! VXLAN: the tunnelled frame's headers as pmacctd 1.7.7 reads them (`ip_handler` /
//! `ip6_handler` in nl.c, `tunnel_*_handler` and `vxlan_handler` in pkt_handlers.c):
//! - a UDP packet to port 4789 (`UDP_PORT_VXLAN`, the destination port only) with at least one
//!   payload byte and the 8-byte VXLAN header captured;
//! - the VNI is read only when the header's I flag (0x08) is set; the inner frame is parsed
//!   either way, as Ethernet, and only one level deep (the inner packet's own VXLAN is not
//!   followed);
//! - the inner MACs need the 14-byte Ethernet header, the addresses an IP header, the ports
//!   TCP or UDP.
//!
//! pmacctd 1.7.7 itself aborts ("double free or corruption") on the first packet once any
//! tunnel primitive or `vxlan` is aggregated (pm_pcap_cb copies a `pcap_pkthdr` over the
//! tunnel pointers and frees libpcap's header), and reaches the VXLAN branch only when a
//! port primitive is aggregated (`handle_fragments`). We follow the code's evident intent
//! instead: the inner headers whatever else is aggregated.

use super::{DecodeOptions, Packet, parse_plain};
use crate::decode::packet::LinkType;

/// IANA's VXLAN port, pmacct's `UDP_PORT_VXLAN`.
pub const UDP_PORT_VXLAN: u16 = 4789;
const UDP_HDR: usize = 8;
const VXLAN_HDR: usize = 8;
const VXLAN_FLAG_I: u8 = 0x08;
const IPPROTO_UDP: u8 = 17;

/// Fills the tunnel fields of `pkt` (already parsed from `data`) when it carries VXLAN.
pub(super) fn vxlan(data: &[u8], opts: &DecodeOptions, pkt: &mut Packet) {
    let f = &pkt.record.fields;
    if f.proto != IPPROTO_UDP || f.dst_port != UDP_PORT_VXLAN || pkt.l4_truncated {
        return;
    }
    // No L4 header in a non-first fragment: `l4_offset` is unset there.
    let Some(payload) = pkt.l4_offset.and_then(|off| data.get(off.checked_add(UDP_HDR)?..)) else {
        return;
    };
    let (Some(hdr), Some(inner)) = (payload.get(..VXLAN_HDR), payload.get(VXLAN_HDR..)) else {
        return;
    };
    let f = &mut pkt.record.fields;
    if let [flags, _, _, _, a, b, c, _] = *hdr
        && flags & VXLAN_FLAG_I != 0
    {
        f.vni = u32::from_be_bytes([0, a, b, c]);
    }
    let mut tun = Packet::default();
    let l3 = parse_plain(LinkType::ETHERNET, inner, opts, &mut tun);
    let t = &tun.record.fields;
    // The parser sets the MACs as soon as the Ethernet header is there, whatever follows it.
    f.tunnel_src_mac = t.src_mac;
    f.tunnel_dst_mac = t.dst_mac;
    if l3.is_ok() {
        f.tunnel_src_ip = t.src_ip;
        f.tunnel_dst_ip = t.dst_ip;
        f.tunnel_tos = t.tos;
        f.tunnel_proto = t.proto;
        f.tunnel_src_port = t.src_port;
        f.tunnel_dst_port = t.dst_port;
    }
}
