//! L2–L4 packet header parser (Ethernet, 802.1Q/ad, Linux cooked, raw IP; IPv4, IPv6; TCP, UDP,
//! ICMP, ICMPv6, SCTP) with pmacctd 1.7's accounting semantics.
//!
//! [`parse`] is a pure, panic-free function over a captured frame. It fills a [`FlowRecord`] the
//! way pmacctd's `ll.c`/`nl.c`/`pkt_handlers.c` fill a `pkt_data`:
//! - VLAN and CoS come from the *outer* 802.1Q/802.1ad tag (pmacct's `vlan_ptr`).
//! - `bytes` is the IP length from the header (IPv4 total length; IPv6 payload length + 40), not
//!   the captured or wire length; `packets` is 1.
//! - Ports are filled for TCP and UDP only: pmacctd 1.7 prints `0`/`0` for ICMP, ICMPv6 and
//!   (unless [`DecodeOptions::sctp_ports`]) SCTP.
//! - Non-first fragments carry no ports here; [`Packet::fragment`] lets a caller join them to
//!   their first fragment as pmacctd does when port primitives are aggregated.

mod l2;
mod l3;
mod l4;
#[cfg(test)]
mod tests;
mod tunnel;

pub use tunnel::UDP_PORT_VXLAN;

use crate::record::FlowRecord;

/// A capture's link-layer header type (pcap `LINKTYPE_*` value).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct LinkType(pub u32);

impl LinkType {
    /// BSD loopback: a 4-byte host-order address family, then IP.
    pub const NULL: LinkType = LinkType(0);
    /// Ethernet II (with optional 802.1Q / 802.1ad tags).
    pub const ETHERNET: LinkType = LinkType(1);
    /// Raw IP, version taken from the first nibble.
    pub const RAW: LinkType = LinkType(101);
    /// OpenBSD loopback: like [`LinkType::NULL`] but the family is big-endian.
    pub const LOOP: LinkType = LinkType(108);
    /// Linux cooked capture v1 (16-byte header).
    pub const LINUX_SLL: LinkType = LinkType(113);
    /// Raw IPv4.
    pub const IPV4: LinkType = LinkType(228);
    /// Raw IPv6.
    pub const IPV6: LinkType = LinkType(229);
    /// Linux cooked capture v2 (20-byte header).
    pub const LINUX_SLL2: LinkType = LinkType(276);
}

/// Which header a [`DecodeError::Truncated`] ran out in.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Layer {
    Link,
    Vlan,
    Ipv4,
    Ipv6,
    Ipv6Extension,
}

/// Why a frame was not accounted.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum DecodeError {
    /// The capture ended inside a header pmacct needs.
    #[error("truncated {layer:?} header at offset {offset}")]
    Truncated { layer: Layer, offset: usize },
    /// The frame carries no IPv4/IPv6 (ARP, LLDP, ...): pmacctd does not account it.
    #[error("not an IP packet (ethertype {ethertype:#06x})")]
    NotIp { ethertype: u16 },
    /// An IPv4 header length below 5 words, or a version nibble that is neither 4 nor 6.
    #[error("malformed IP header: {0}")]
    BadIpHeader(&'static str),
    /// IPv6 jumbogram (payload length 0 with hop-by-hop): pmacctd skips these too.
    #[error("IPv6 jumbogram not supported")]
    Jumbogram,
    /// A link type this parser does not know.
    #[error("unsupported link type {0}")]
    UnsupportedLinkType(u32),
}

/// Fragment information of an IPv4 packet or an IPv6 packet with a fragment header.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Fragment {
    /// IPv4 identification (widened) or IPv6 fragment identification.
    pub id: u32,
    /// Fragment offset in 8-byte units.
    pub offset: u16,
    /// More-fragments flag.
    pub more: bool,
}

impl Fragment {
    /// True for the fragment that carries the L4 header (offset 0).
    pub fn is_first(&self) -> bool {
        self.offset == 0
    }
}

/// Parser switches where pmacct's behaviour is not the only sensible one.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct DecodeOptions {
    /// Fill ports for SCTP. pmacctd 1.7 leaves them 0 (its port handlers know TCP and UDP only).
    pub sctp_ports: bool,
}

/// One parsed frame.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Packet {
    /// Fields and counters (`packets = 1`, `bytes` = IP length, `tcp_flags`); timestamps unset.
    pub record: FlowRecord,
    /// Set for IP fragments (IPv4 with MF or offset ≠ 0; IPv6 with a fragment header).
    pub fragment: Option<Fragment>,
    /// The capture ended before the L4 header pmacct reads (ports for TCP/UDP, the IPv6
    /// extension-header chain). pmacctd drops such TCP/UDP packets when port primitives are
    /// aggregated and accounts them otherwise.
    pub l4_truncated: bool,
    /// Offset in the frame of the L4 header, when the packet carries one (not a non-first
    /// fragment, not a truncated IPv6 extension chain). The collectors use it to find UDP
    /// payloads in captures.
    pub l4_offset: Option<usize>,
    /// Offset in the frame of the network header.
    pub l3_offset: usize,
}

/// Parses one captured frame with pmacct-compatible defaults.
pub fn parse(link: LinkType, data: &[u8]) -> Result<Packet, DecodeError> {
    parse_with(link, data, &DecodeOptions::default())
}

/// Parses one captured frame.
pub fn parse_with(
    link: LinkType,
    data: &[u8],
    opts: &DecodeOptions,
) -> Result<Packet, DecodeError> {
    let mut pkt = Packet::default();
    parse_into(link, data, opts, &mut pkt)?;
    Ok(pkt)
}

/// [`parse_with`] into a caller's [`Packet`], which must be `Packet::default()` (no copy of the
/// result on the way out: the per-sample and per-datagram paths call this). A VXLAN packet's
/// inner headers go to the `tunnel_*` fields and its VNI to `vni`.
pub fn parse_into(
    link: LinkType,
    data: &[u8],
    opts: &DecodeOptions,
    pkt: &mut Packet,
) -> Result<(), DecodeError> {
    parse_plain(link, data, opts, pkt)?;
    tunnel::vxlan(data, opts, pkt);
    Ok(())
}

/// [`parse_into`] without looking inside tunnels.
fn parse_plain(
    link: LinkType,
    data: &[u8],
    opts: &DecodeOptions,
    pkt: &mut Packet,
) -> Result<(), DecodeError> {
    let l3 = l2::parse_link(link, data, &mut pkt.record.fields)?;
    let ip = data.get(l3.offset..).unwrap_or_default();
    match l3.ethertype {
        l2::ETHERTYPE_IPV4 => l3::parse_ipv4(ip, l3.offset, opts, pkt)?,
        l2::ETHERTYPE_IPV6 => l3::parse_ipv6(ip, l3.offset, opts, pkt)?,
        other => return Err(DecodeError::NotIp { ethertype: other }),
    }
    pkt.record.fields.etype = l3.ethertype;
    pkt.record.counters.packets = 1;
    pkt.l3_offset = l3.offset;
    Ok(())
}

/// Big-endian u16 at `off`, if the slice is long enough.
fn be16(d: &[u8], off: usize) -> Option<u16> {
    let b = d.get(off..off.checked_add(2)?)?;
    Some(u16::from_be_bytes([*b.first()?, *b.get(1)?]))
}

/// Big-endian u32 at `off`, if the slice is long enough.
fn be32(d: &[u8], off: usize) -> Option<u32> {
    let b: [u8; 4] = d.get(off..off.checked_add(4)?)?.try_into().ok()?;
    Some(u32::from_be_bytes(b))
}
