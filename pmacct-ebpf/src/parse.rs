//! Ethernet → 802.1Q/802.1ad → IPv4/IPv6 (+ extension headers) → TCP/UDP/SCTP parser that
//! produces a [`FlowKey`] with only the fields selected by a [`pmacct_common::field`] mask.
//!
//! Written for the BPF verifier: every header is bounds-checked once against `data_end` (the
//! check yields the header's address) and its fields are then read without further checks.
//! Offsets stay small and bounded (IHL ≤ 60, at most [`MAX_IPV6_EXT_HEADERS`] IPv6 extension
//! headers of ≤ 2 KiB each), so the verifier can track every variable packet offset.

use core::ptr::read_unaligned;

use pmacct_common::{FlowKey, field};

/// Ethertype of IPv4.
pub const ETH_P_IP: u16 = 0x0800;
/// Ethertype of IPv6.
pub const ETH_P_IPV6: u16 = 0x86dd;
/// Ethertype of an 802.1Q (C-)tag.
pub const ETH_P_8021Q: u16 = 0x8100;
/// Ethertype of an 802.1ad (S-)tag.
pub const ETH_P_8021AD: u16 = 0x88a8;

const ETH_HLEN: usize = 14;
const VLAN_HLEN: usize = 4;
const IPV4_MIN_HLEN: usize = 20;
const IPV6_HLEN: usize = 40;

const IPPROTO_HOPOPTS: u8 = 0;
const IPPROTO_TCP: u8 = 6;
const IPPROTO_UDP: u8 = 17;
const IPPROTO_ROUTING: u8 = 43;
const IPPROTO_FRAGMENT: u8 = 44;
const IPPROTO_DSTOPTS: u8 = 60;
const IPPROTO_SCTP: u8 = 132;

/// How many IPv6 extension headers are skipped at most (hop-by-hop, routing, fragment and
/// destination options, destination options may appear twice). A longer chain ends the walk:
/// the key then carries the extension header as protocol and no ports.
pub const MAX_IPV6_EXT_HEADERS: usize = 5;

/// Why a packet yields no flow key.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ParseError {
    /// Neither IPv4 nor IPv6 after at most two VLAN tags.
    NonIp,
    /// A header is cut short by the end of the packet, or an IP header is malformed
    /// (wrong version, IHL < 5).
    Truncated,
}

/// What the parser extracted from one packet.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Packet {
    /// The flow key, unselected fields zero.
    pub key: FlowKey,
    /// Bytes as pmacctd counts them: IPv4 total length, IPv6 payload length + 40.
    pub bytes: u64,
    /// TCP flags byte (0 for other protocols and non-first fragments).
    pub tcp_flags: u8,
}

/// The packet bounds `[start, end)` as addresses.
#[derive(Clone, Copy)]
struct Bounds {
    start: usize,
    end: usize,
}

impl Bounds {
    /// Address of `len` bytes at `off`, if they all lie inside the packet.
    #[inline(always)]
    fn header(self, off: usize, len: usize) -> Result<usize, ParseError> {
        let p = self.start + off;
        if p + len > self.end { Err(ParseError::Truncated) } else { Ok(p) }
    }
}

/// Reads a `T` at `p + off`.
///
/// # Safety
/// `p + off .. p + off + size_of::<T>()` must lie inside a range returned by
/// [`Bounds::header`].
#[inline(always)]
unsafe fn rd<T: Copy>(p: usize, off: usize) -> T {
    // SAFETY: the caller guarantees the range is in bounds; packet data has no alignment.
    unsafe { read_unaligned((p + off) as *const T) }
}

/// Reads a big-endian `u16` at `p + off` (same contract as [`rd`]).
#[inline(always)]
unsafe fn be16(p: usize, off: usize) -> u16 {
    // SAFETY: forwarded to the caller.
    u16::from_be(unsafe { rd::<u16>(p, off) })
}

/// A validated packet: where its headers are and the few facts needed to validate them.
/// Reading the key fields is left to [`Headers::packet`], so that packets dropped by sampling
/// pay only for the bounds checks.
#[derive(Clone, Copy)]
pub struct Headers {
    /// Address of the Ethernet header (14 bytes checked).
    eth: usize,
    /// Address of the IP header (20 or 40 bytes checked).
    l3: usize,
    /// Address of the L4 header (checked for its minimal length) when `l4_kind != L4_NONE`.
    l4: usize,
    l4_kind: u8,
    /// 4 or 6.
    family: u8,
    /// Upper-layer protocol (after IPv6 extension headers).
    proto: u8,
    /// Outer VLAN id, 0 if untagged.
    vlan: u16,
    /// L3 ethertype.
    etype: u16,
}

const L4_NONE: u8 = 0;
const L4_PORTS: u8 = 1;
const L4_TCP: u8 = 2;

/// Validates the packet in `[start, end)`: Ethernet, up to two VLAN tags, IPv4/IPv6 (+ extension
/// headers) and the TCP/UDP/SCTP header must all be complete.
///
/// `start`/`end` are the packet's addresses (`ctx->data`, `ctx->data_end`); the caller guarantees
/// the memory between them is readable.
#[inline(always)]
pub fn parse(start: usize, end: usize) -> Result<Headers, ParseError> {
    let b = Bounds { start, end };
    let eth = b.header(0, ETH_HLEN)?;
    // SAFETY: 14 bytes checked.
    let mut etype = unsafe { be16(eth, 12) };
    let mut off = ETH_HLEN;

    // Up to two tags; the key keeps the outer one (802.1ad S-tag, or the only 802.1Q tag).
    let mut vlan = 0u16;
    if etype == ETH_P_8021Q || etype == ETH_P_8021AD {
        let tag = b.header(off, VLAN_HLEN)?;
        // SAFETY: 4 bytes checked.
        vlan = unsafe { be16(tag, 0) } & 0x0fff;
        etype = unsafe { be16(tag, 2) };
        off += VLAN_HLEN;
        if etype == ETH_P_8021Q || etype == ETH_P_8021AD {
            let tag = b.header(off, VLAN_HLEN)?;
            // SAFETY: 4 bytes checked.
            etype = unsafe { be16(tag, 2) };
            off += VLAN_HLEN;
        }
    }

    let (family, l3, proto, l4_off, has_l4) = match etype {
        ETH_P_IP => ipv4(b, off)?,
        ETH_P_IPV6 => ipv6(b, off)?,
        _ => return Err(ParseError::NonIp),
    };
    let (min_len, l4_kind) = match (has_l4, proto) {
        (true, IPPROTO_TCP) => (20, L4_TCP),
        (true, IPPROTO_UDP) => (8, L4_PORTS),
        (true, IPPROTO_SCTP) => (12, L4_PORTS),
        _ => (0, L4_NONE),
    };
    let l4 = if l4_kind != L4_NONE { b.header(l4_off, min_len)? } else { 0 };
    Ok(Headers { eth, l3, l4, l4_kind, family, proto, vlan, etype })
}

/// IPv4 header at `off`: (family, address, protocol, L4 offset, whether an L4 header follows).
#[inline(always)]
fn ipv4(b: Bounds, off: usize) -> Result<(u8, usize, u8, usize, bool), ParseError> {
    let ip = b.header(off, IPV4_MIN_HLEN)?;
    // SAFETY (all reads of `ip`): 20 bytes checked.
    let vihl = unsafe { rd::<u8>(ip, 0) };
    let ihl = usize::from(vihl & 0x0f) * 4;
    if vihl >> 4 != 4 || ihl < IPV4_MIN_HLEN {
        return Err(ParseError::Truncated);
    }
    let first_fragment = unsafe { be16(ip, 6) } & 0x1fff == 0;
    Ok((4, ip, unsafe { rd::<u8>(ip, 9) }, off + ihl, first_fragment))
}

/// IPv6 header at `off` plus its extension headers, same result as [`ipv4`].
#[inline(always)]
fn ipv6(b: Bounds, off: usize) -> Result<(u8, usize, u8, usize, bool), ParseError> {
    let ip = b.header(off, IPV6_HLEN)?;
    // SAFETY (all reads of `ip`): 40 bytes checked.
    if unsafe { rd::<u8>(ip, 0) } >> 4 != 6 {
        return Err(ParseError::Truncated);
    }
    let mut proto = unsafe { rd::<u8>(ip, 6) };
    let mut l4_off = off + IPV6_HLEN;
    let mut has_l4 = false;
    for _ in 0..MAX_IPV6_EXT_HEADERS {
        match proto {
            IPPROTO_HOPOPTS | IPPROTO_ROUTING | IPPROTO_DSTOPTS => {
                let h = b.header(l4_off, 8)?;
                // SAFETY: 8 bytes checked.
                proto = unsafe { rd::<u8>(h, 0) };
                l4_off += (usize::from(unsafe { rd::<u8>(h, 1) }) + 1) * 8;
            }
            IPPROTO_FRAGMENT => {
                let h = b.header(l4_off, 8)?;
                // SAFETY: 8 bytes checked.
                proto = unsafe { rd::<u8>(h, 0) };
                l4_off += 8;
                if unsafe { be16(h, 2) } & 0xfff8 != 0 {
                    break; // non-first fragment: no L4 header follows
                }
            }
            _ => {
                has_l4 = true;
                break;
            }
        }
    }
    Ok((6, ip, proto, l4_off, has_l4))
}

impl Headers {
    /// Reads the key (fields in `mask` only), byte count and TCP flags.
    #[inline(always)]
    pub fn packet(&self, mask: u32, ifindex: u32) -> Packet {
        let mut key = FlowKey::default();
        let (eth, ip) = (self.eth, self.l3);
        // SAFETY (all reads): within the ranges `parse` checked (Ethernet 14 bytes, IPv4 20 or
        // IPv6 40 bytes, L4 ≥ 8 bytes with ports at 0..4 and, for TCP, 20 bytes with flags at 13).
        unsafe {
            if mask & field::DST_MAC != 0 {
                key.dst_mac = rd::<[u8; 6]>(eth, 0);
            }
            if mask & field::SRC_MAC != 0 {
                key.src_mac = rd::<[u8; 6]>(eth, 6);
            }
            let (tos, bytes) = if self.family == 4 {
                if mask & field::SRC_ADDR != 0 {
                    key.src_addr[..4].copy_from_slice(&rd::<[u8; 4]>(ip, 12));
                }
                if mask & field::DST_ADDR != 0 {
                    key.dst_addr[..4].copy_from_slice(&rd::<[u8; 4]>(ip, 16));
                }
                (rd::<u8>(ip, 1), u64::from(be16(ip, 2)))
            } else {
                if mask & field::SRC_ADDR != 0 {
                    key.src_addr = rd::<[u8; 16]>(ip, 8);
                }
                if mask & field::DST_ADDR != 0 {
                    key.dst_addr = rd::<[u8; 16]>(ip, 24);
                }
                ((be16(ip, 0) >> 4) as u8, u64::from(be16(ip, 4)) + IPV6_HLEN as u64)
            };
            if mask & (field::SRC_ADDR | field::DST_ADDR) != 0 {
                key.family = self.family;
            }
            let mut tcp_flags = 0;
            if self.l4_kind != L4_NONE {
                if mask & field::SRC_PORT != 0 {
                    key.src_port = be16(self.l4, 0);
                }
                if mask & field::DST_PORT != 0 {
                    key.dst_port = be16(self.l4, 2);
                }
                if self.l4_kind == L4_TCP {
                    tcp_flags = rd::<u8>(self.l4, 13);
                }
            }
            if mask & field::PROTO != 0 {
                key.proto = self.proto;
            }
            if mask & field::TOS != 0 {
                key.tos = tos;
            }
            if mask & field::VLAN != 0 {
                key.vlan = self.vlan;
            }
            if mask & field::ETYPE != 0 {
                key.etype = self.etype;
            }
            if mask & field::IFINDEX != 0 {
                key.ifindex = ifindex;
            }
            Packet { key, bytes, tcp_flags }
        }
    }
}

#[cfg(test)]
mod tests;
