//! Link layers: Ethernet II with 802.1Q/802.1ad tags, Linux cooked (SLL, SLL2), raw IP, BSD
//! loopback. Mirrors pmacct's `ll.c`.

use super::{DecodeError, Layer, LinkType, be16, be32};
use crate::record::FlowFields;

pub(super) const ETHERTYPE_IPV4: u16 = 0x0800;
pub(super) const ETHERTYPE_IPV6: u16 = 0x86DD;
const ETHERTYPE_8021Q: u16 = 0x8100;
const ETHERTYPE_8021AD: u16 = 0x88A8;
const ETHER_HDRLEN: usize = 14;
const VLAN_TAGLEN: usize = 4;
const SLL_HDRLEN: usize = 16;
const SLL2_HDRLEN: usize = 20;

/// Where the network layer starts and what it is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) struct L3Start {
    pub offset: usize,
    pub ethertype: u16,
}

/// Parses the link-layer header of `data`, filling MACs, VLAN and CoS.
pub(super) fn parse_link(
    link: LinkType,
    data: &[u8],
    f: &mut FlowFields,
) -> Result<L3Start, DecodeError> {
    match link {
        LinkType::ETHERNET => parse_ethernet(data, f),
        LinkType::LINUX_SLL => parse_sll(data, f),
        LinkType::LINUX_SLL2 => parse_sll2(data, f),
        LinkType::RAW => raw_ip(data, 0),
        LinkType::IPV4 => Ok(L3Start { offset: 0, ethertype: ETHERTYPE_IPV4 }),
        LinkType::IPV6 => Ok(L3Start { offset: 0, ethertype: ETHERTYPE_IPV6 }),
        LinkType::NULL | LinkType::LOOP => parse_null(data),
        other => Err(DecodeError::UnsupportedLinkType(other.0)),
    }
}

fn truncated(offset: usize) -> DecodeError {
    DecodeError::Truncated { layer: Layer::Link, offset }
}

fn mac_at(data: &[u8], off: usize) -> Option<[u8; 6]> {
    data.get(off..off + 6)?.try_into().ok()
}

fn parse_ethernet(data: &[u8], f: &mut FlowFields) -> Result<L3Start, DecodeError> {
    let (Some(dst), Some(src), Some(etype)) = (mac_at(data, 0), mac_at(data, 6), be16(data, 12))
    else {
        return Err(truncated(data.len()));
    };
    f.dst_mac = dst;
    f.src_mac = src;
    vlan_chain(data, ETHER_HDRLEN, etype, f)
}

/// Walks 802.1Q/802.1ad tags from `offset`; VLAN id and CoS come from the first (outer) tag.
fn vlan_chain(
    data: &[u8],
    mut offset: usize,
    mut etype: u16,
    f: &mut FlowFields,
) -> Result<L3Start, DecodeError> {
    let mut outer = true;
    while etype == ETHERTYPE_8021Q || etype == ETHERTYPE_8021AD {
        let (Some(tci), Some(next)) = (be16(data, offset), be16(data, offset + 2)) else {
            return Err(DecodeError::Truncated { layer: Layer::Vlan, offset });
        };
        if outer {
            f.vlan = tci & 0x0FFF;
            f.cos = (tci >> 13) as u8;
            outer = false;
        }
        etype = next;
        offset += VLAN_TAGLEN;
    }
    Ok(L3Start { offset, ethertype: etype })
}

/// Linux cooked v1: pkttype, hatype, halen, addr[8], protocol. pmacct takes `addr` as the source
/// MAC when `halen` is 6 and leaves the destination MAC zero.
fn parse_sll(data: &[u8], f: &mut FlowFields) -> Result<L3Start, DecodeError> {
    let (Some(halen), Some(etype)) = (be16(data, 4), be16(data, 14)) else {
        return Err(truncated(data.len()));
    };
    if halen == 6 {
        f.src_mac = mac_at(data, 6).ok_or_else(|| truncated(data.len()))?;
    }
    vlan_chain(data, SLL_HDRLEN, etype, f)
}

/// Linux cooked v2: protocol, reserved, ifindex, hatype, pkttype, halen, addr[8].
fn parse_sll2(data: &[u8], f: &mut FlowFields) -> Result<L3Start, DecodeError> {
    if data.len() < SLL2_HDRLEN {
        return Err(truncated(data.len()));
    }
    let etype = be16(data, 0).ok_or_else(|| truncated(0))?;
    if data.get(11) == Some(&6) {
        f.src_mac = mac_at(data, 12).ok_or_else(|| truncated(data.len()))?;
    }
    vlan_chain(data, SLL2_HDRLEN, etype, f)
}

/// Raw IP: the version nibble says which.
fn raw_ip(data: &[u8], offset: usize) -> Result<L3Start, DecodeError> {
    let first = data.get(offset).ok_or_else(|| truncated(offset))?;
    match first >> 4 {
        4 => Ok(L3Start { offset, ethertype: ETHERTYPE_IPV4 }),
        6 => Ok(L3Start { offset, ethertype: ETHERTYPE_IPV6 }),
        _ => Err(DecodeError::BadIpHeader("IP version is neither 4 nor 6")),
    }
}

/// BSD loopback / OpenBSD loop: a 4-byte address family in either byte order.
fn parse_null(data: &[u8]) -> Result<L3Start, DecodeError> {
    let be = be32(data, 0).ok_or_else(|| truncated(data.len()))?;
    let family = if be > 0xFFFF { be.swap_bytes() } else { be };
    match family {
        2 => Ok(L3Start { offset: 4, ethertype: ETHERTYPE_IPV4 }),
        // AF_INET6 is 10 on Linux, 24 on NetBSD/OpenBSD, 28 on FreeBSD, 30 on macOS.
        10 | 24 | 28 | 30 => Ok(L3Start { offset: 4, ethertype: ETHERTYPE_IPV6 }),
        _ => Err(DecodeError::NotIp { ethertype: 0 }),
    }
}
