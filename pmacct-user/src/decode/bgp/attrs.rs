//! Path attributes (RFC 4271 §5, 1997, 4456, 4360, 4760, 6793, 8092).

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use super::nlri::{MpNlri, is_ip_family, parse_nlri};
use super::{AfiSafi, BgpError, DecodeContext, Reader};

/// Path attribute type codes.
pub mod attr_code {
    /// ORIGIN.
    pub const ORIGIN: u8 = 1;
    /// AS_PATH.
    pub const AS_PATH: u8 = 2;
    /// NEXT_HOP.
    pub const NEXT_HOP: u8 = 3;
    /// MULTI_EXIT_DISC.
    pub const MED: u8 = 4;
    /// LOCAL_PREF.
    pub const LOCAL_PREF: u8 = 5;
    /// ATOMIC_AGGREGATE.
    pub const ATOMIC_AGGREGATE: u8 = 6;
    /// AGGREGATOR.
    pub const AGGREGATOR: u8 = 7;
    /// COMMUNITIES.
    pub const COMMUNITIES: u8 = 8;
    /// ORIGINATOR_ID.
    pub const ORIGINATOR_ID: u8 = 9;
    /// CLUSTER_LIST.
    pub const CLUSTER_LIST: u8 = 10;
    /// MP_REACH_NLRI.
    pub const MP_REACH_NLRI: u8 = 14;
    /// MP_UNREACH_NLRI.
    pub const MP_UNREACH_NLRI: u8 = 15;
    /// EXTENDED COMMUNITIES.
    pub const EXTENDED_COMMUNITIES: u8 = 16;
    /// AS4_PATH.
    pub const AS4_PATH: u8 = 17;
    /// AS4_AGGREGATOR.
    pub const AS4_AGGREGATOR: u8 = 18;
    /// LARGE_COMMUNITY.
    pub const LARGE_COMMUNITIES: u8 = 32;
}

/// AS_PATH segment types.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum AsSegmentType {
    /// AS_SET (1).
    Set,
    /// AS_SEQUENCE (2).
    Sequence,
    /// AS_CONFED_SEQUENCE (3).
    ConfedSequence,
    /// AS_CONFED_SET (4).
    ConfedSet,
}

/// One AS_PATH segment.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct AsSegment {
    /// Segment type.
    pub kind: AsSegmentType,
    /// ASNs in wire order.
    pub asns: Vec<u32>,
}

/// An AS path: segments in wire order.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
pub struct AsPath {
    /// Segments.
    pub segments: Vec<AsSegment>,
}

impl AsPath {
    /// Parses AS_PATH / AS4_PATH data with `as_len`-byte (2 or 4) ASNs.
    pub fn parse(data: &[u8], as_len: usize) -> Result<AsPath, BgpError> {
        let mut r = Reader::new(data);
        let mut segments = Vec::new();
        while !r.is_empty() {
            let kind = match r.u8()? {
                1 => AsSegmentType::Set,
                2 => AsSegmentType::Sequence,
                3 => AsSegmentType::ConfedSequence,
                4 => AsSegmentType::ConfedSet,
                t => return Err(BgpError::BadSegmentType(t)),
            };
            let n = usize::from(r.u8()?);
            let mut asns = Vec::with_capacity(n);
            for _ in 0..n {
                asns.push(if as_len == 4 { r.u32()? } else { u32::from(r.u16()?) });
            }
            segments.push(AsSegment { kind, asns });
        }
        Ok(AsPath { segments })
    }

    /// Path length as RFC 4271 §9.1.2.2 counts it: each sequence ASN is 1, a set is 1,
    /// confederation segments 0.
    pub fn path_len(&self) -> usize {
        self.segments
            .iter()
            .map(|s| match s.kind {
                AsSegmentType::Sequence => s.asns.len(),
                AsSegmentType::Set => 1,
                _ => 0,
            })
            .sum()
    }

    /// The origin AS as pmacct derives it (`last_as` of `aspath_make_str_count`): the last ASN
    /// of the last non-empty segment, sets taken sorted (so their largest ASN); 0 when empty.
    pub fn origin_as(&self) -> u32 {
        self.segments
            .iter()
            .rev()
            .find_map(|s| match s.kind {
                AsSegmentType::Set | AsSegmentType::ConfedSet => s.asns.iter().max().copied(),
                _ => s.asns.last().copied(),
            })
            .unwrap_or(0)
    }

    /// The neighbour AS: the first ASN of the first non-confederation segment, 0 when empty.
    pub fn first_as(&self) -> u32 {
        self.segments
            .iter()
            .find(|s| matches!(s.kind, AsSegmentType::Sequence | AsSegmentType::Set))
            .and_then(|s| s.asns.first().copied())
            .unwrap_or(0)
    }

    /// RFC 6793 §4.2.3: rebuilds the path from a 2-byte AS_PATH and an AS4_PATH. If AS4_PATH is
    /// longer than AS_PATH it is ignored; otherwise the leading (len(AS_PATH) − len(AS4_PATH))
    /// ASNs of AS_PATH are kept (confederation segments kept whole) and AS4_PATH appended.
    pub fn merge_as4(&self, as4: &AsPath) -> AsPath {
        let (n2, n4) = (self.path_len(), as4.path_len());
        if n4 > n2 {
            return self.clone();
        }
        let mut need = n2 - n4;
        let mut segments = Vec::new();
        for s in &self.segments {
            match s.kind {
                AsSegmentType::Sequence if need > 0 => {
                    let k = need.min(s.asns.len());
                    segments.push(AsSegment {
                        kind: s.kind,
                        asns: s.asns.get(..k).unwrap_or_default().to_vec(),
                    });
                    need -= k;
                }
                AsSegmentType::Set if need > 0 => {
                    segments.push(s.clone());
                    need -= 1;
                }
                AsSegmentType::ConfedSequence | AsSegmentType::ConfedSet => {
                    segments.push(s.clone())
                }
                _ => {}
            }
        }
        segments.extend(as4.segments.iter().cloned());
        AsPath { segments }
    }
}

/// One extended community, 8 raw bytes (RFC 4360).
pub type ExtCommunity = [u8; 8];
/// One large community: global administrator, local data 1, local data 2 (RFC 8092).
pub type LargeCommunity = [u32; 3];

/// MP_REACH_NLRI (RFC 4760).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MpReach {
    /// Family.
    pub afi_safi: AfiSafi,
    /// Next hop (global address; the RD of VPN next hops is dropped). `None` for unknown
    /// encodings, which stay in `next_hop_raw`.
    pub next_hop: Option<IpAddr>,
    /// IPv6 link-local next hop when 32 (or 48 for VPN) bytes were given.
    pub link_local: Option<Ipv6Addr>,
    /// The next hop field as sent.
    pub next_hop_raw: Vec<u8>,
    /// Announced NLRI.
    pub nlri: MpNlri,
}

/// MP_UNREACH_NLRI (RFC 4760).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MpUnreach {
    /// Family.
    pub afi_safi: AfiSafi,
    /// Withdrawn NLRI.
    pub withdrawn: MpNlri,
}

/// A decoded path attribute value.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum PathAttr {
    /// ORIGIN: 0 IGP, 1 EGP, 2 INCOMPLETE.
    Origin(u8),
    /// AS_PATH, ASN width from the context (with a fallback, see [`DecodeContext`]).
    AsPath(AsPath),
    /// NEXT_HOP.
    NextHop(Ipv4Addr),
    /// MULTI_EXIT_DISC.
    Med(u32),
    /// LOCAL_PREF.
    LocalPref(u32),
    /// ATOMIC_AGGREGATE.
    AtomicAggregate,
    /// AGGREGATOR (2- or 4-byte AS by length).
    Aggregator {
        /// Aggregating AS.
        asn: u32,
        /// Aggregating router.
        addr: Ipv4Addr,
    },
    /// COMMUNITIES, raw 32-bit values in wire order.
    Communities(Vec<u32>),
    /// ORIGINATOR_ID.
    OriginatorId(Ipv4Addr),
    /// CLUSTER_LIST.
    ClusterList(Vec<Ipv4Addr>),
    /// MP_REACH_NLRI.
    MpReach(MpReach),
    /// MP_UNREACH_NLRI.
    MpUnreach(MpUnreach),
    /// EXTENDED COMMUNITIES.
    ExtCommunities(Vec<ExtCommunity>),
    /// AS4_PATH.
    As4Path(AsPath),
    /// AS4_AGGREGATOR.
    As4Aggregator {
        /// Aggregating AS.
        asn: u32,
        /// Aggregating router.
        addr: Ipv4Addr,
    },
    /// LARGE_COMMUNITY.
    LargeCommunities(Vec<LargeCommunity>),
    /// Any other attribute, kept raw.
    Unknown(Vec<u8>),
}

/// A path attribute: flags, type code and value.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PathAttribute {
    /// Flags octet (optional 0x80, transitive 0x40, partial 0x20, extended length 0x10).
    pub flags: u8,
    /// Type code.
    pub code: u8,
    /// Decoded value.
    pub value: PathAttr,
}

/// Parses the path attributes block of an UPDATE.
pub(super) fn parse_attributes(
    buf: &[u8],
    ctx: &DecodeContext,
) -> Result<Vec<PathAttribute>, BgpError> {
    let mut r = Reader::new(buf);
    let mut out = Vec::new();
    while !r.is_empty() {
        let flags = r.u8()?;
        let code = r.u8()?;
        let len = if flags & 0x10 != 0 { usize::from(r.u16()?) } else { usize::from(r.u8()?) };
        let data = r.take(len)?;
        let value = parse_value(code, data, ctx)?;
        out.push(PathAttribute { flags, code, value });
    }
    Ok(out)
}

fn fixed<const N: usize>(code: u8, data: &[u8]) -> Result<[u8; N], BgpError> {
    <[u8; N]>::try_from(data).map_err(|_| BgpError::BadAttributeLength { code, len: data.len() })
}

fn parse_value(code: u8, data: &[u8], ctx: &DecodeContext) -> Result<PathAttr, BgpError> {
    use attr_code::*;
    let bad = || BgpError::BadAttributeLength { code, len: data.len() };
    Ok(match code {
        ORIGIN => PathAttr::Origin(u8::from_be_bytes(fixed(code, data)?)),
        AS_PATH => {
            let width = if ctx.four_octet_as { 4 } else { 2 };
            // A speaker that reformats paths without telling (or a wrong A flag) is common:
            // fall back to the other width when the declared one does not parse exactly.
            AsPath::parse(data, width)
                .or_else(|e| AsPath::parse(data, 6 - width).map_err(|_| e))
                .map(PathAttr::AsPath)?
        }
        NEXT_HOP => PathAttr::NextHop(Ipv4Addr::from(fixed::<4>(code, data)?)),
        MED => PathAttr::Med(u32::from_be_bytes(fixed(code, data)?)),
        LOCAL_PREF => PathAttr::LocalPref(u32::from_be_bytes(fixed(code, data)?)),
        ATOMIC_AGGREGATE => PathAttr::AtomicAggregate,
        AGGREGATOR | AS4_AGGREGATOR => {
            let mut r = Reader::new(data);
            let asn = match data.len() {
                6 if code == AGGREGATOR => u32::from(r.u16()?),
                8 => r.u32()?,
                _ => return Err(bad()),
            };
            let addr = r.ipv4()?;
            if code == AGGREGATOR {
                PathAttr::Aggregator { asn, addr }
            } else {
                PathAttr::As4Aggregator { asn, addr }
            }
        }
        COMMUNITIES if data.len().is_multiple_of(4) => PathAttr::Communities(
            data.as_chunks::<4>().0.iter().map(|c| u32::from_be_bytes(*c)).collect(),
        ),
        ORIGINATOR_ID => PathAttr::OriginatorId(Ipv4Addr::from(fixed::<4>(code, data)?)),
        CLUSTER_LIST if data.len().is_multiple_of(4) => PathAttr::ClusterList(
            data.as_chunks::<4>().0.iter().map(|c| Ipv4Addr::from(*c)).collect(),
        ),
        MP_REACH_NLRI => PathAttr::MpReach(parse_mp_reach(data, ctx)?),
        MP_UNREACH_NLRI => {
            let mut r = Reader::new(data);
            let afi_safi = AfiSafi::new(r.u16()?, r.u8()?);
            let withdrawn = mp_nlri(r.rest(), afi_safi, ctx, true)?;
            PathAttr::MpUnreach(MpUnreach { afi_safi, withdrawn })
        }
        EXTENDED_COMMUNITIES if data.len().is_multiple_of(8) => {
            PathAttr::ExtCommunities(data.as_chunks::<8>().0.to_vec())
        }
        AS4_PATH => PathAttr::As4Path(AsPath::parse(data, 4)?),
        LARGE_COMMUNITIES if data.len().is_multiple_of(12) => PathAttr::LargeCommunities(
            data.as_chunks::<12>()
                .0
                .iter()
                .map(|&[a, b, c, d, e, f, g, h, i, j, k, l]| {
                    [
                        u32::from_be_bytes([a, b, c, d]),
                        u32::from_be_bytes([e, f, g, h]),
                        u32::from_be_bytes([i, j, k, l]),
                    ]
                })
                .collect(),
        ),
        COMMUNITIES | CLUSTER_LIST | EXTENDED_COMMUNITIES | LARGE_COMMUNITIES => {
            return Err(bad());
        }
        _ => PathAttr::Unknown(data.to_vec()),
    })
}

fn mp_nlri(
    buf: &[u8],
    af: AfiSafi,
    ctx: &DecodeContext,
    withdraw: bool,
) -> Result<MpNlri, BgpError> {
    if is_ip_family(af) {
        parse_nlri(buf, af, ctx.add_path(af), withdraw).map(MpNlri::Prefixes)
    } else {
        Ok(MpNlri::Raw(buf.to_vec()))
    }
}

fn parse_mp_reach(data: &[u8], ctx: &DecodeContext) -> Result<MpReach, BgpError> {
    let mut r = Reader::new(data);
    let afi_safi = AfiSafi::new(r.u16()?, r.u8()?);
    let nh_len = r.u8()?;
    let nh = r.take(usize::from(nh_len))?;
    let _reserved = r.u8()?;
    let (next_hop, link_local) = if is_ip_family(afi_safi) {
        parse_next_hop(nh).ok_or(BgpError::BadNextHopLength(nh_len))?
    } else {
        (parse_next_hop(nh).and_then(|(g, _)| g), None)
    };
    let nlri = mp_nlri(r.rest(), afi_safi, ctx, false)?;
    Ok(MpReach { afi_safi, next_hop, link_local, next_hop_raw: nh.to_vec(), nlri })
}

type NextHop = (Option<IpAddr>, Option<Ipv6Addr>);

/// Next hop by length: 4 IPv4, 12 RD+IPv4, 16 IPv6, 24 RD+IPv6, 32 IPv6+link-local,
/// 48 RD+IPv6+RD+link-local (RFC 4760, 4364, 4659, 8950).
fn parse_next_hop(nh: &[u8]) -> Option<NextHop> {
    let v4 = |b: &[u8]| <[u8; 4]>::try_from(b).ok().map(Ipv4Addr::from);
    let v6 = |b: &[u8]| <[u8; 16]>::try_from(b).ok().map(Ipv6Addr::from);
    Some(match nh.len() {
        0 => (None, None),
        4 => (Some(IpAddr::V4(v4(nh)?)), None),
        12 => (Some(IpAddr::V4(v4(nh.get(8..)?)?)), None),
        16 => (Some(IpAddr::V6(v6(nh)?)), None),
        24 => (Some(IpAddr::V6(v6(nh.get(8..)?)?)), None),
        32 => (Some(IpAddr::V6(v6(nh.get(..16)?)?)), v6(nh.get(16..)?)),
        48 => (Some(IpAddr::V6(v6(nh.get(8..24)?)?)), v6(nh.get(32..)?)),
        _ => return None,
    })
}
