//! Extended flow records: gateway (BGP), user, URL, MPLS (src/sflow.c `readExtended*`).

use std::net::IpAddr;

use super::SflowError;
use super::flow::FlowState;
use super::reader::Reader;

/// pmacct's well-known community names (`COMMUNITY_*`).
const COMMUNITY_NO_EXPORT: u32 = 0xFFFF_FF01;
const COMMUNITY_NO_ADVERTISE: u32 = 0xFFFF_FF02;
const COMMUNITY_LOCAL_AS: u32 = 0xFFFF_FF03;
const COMMUNITY_INTERNET: u32 = 0x0000_0000;

/// One AS path segment of an extended gateway record.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
pub struct AsPathSegment {
    /// 1 = AS_SET, 2 = AS_SEQUENCE.
    pub kind: u32,
    pub asns: Vec<u32>,
}

/// The extended gateway record (0:1003): what the agent's BGP table says about the sample's
/// destination. No field of [`crate::record::FlowFields`] holds the path or the communities
/// (yet); [`super::SflowDecoder::gateways`] hands them out beside the records.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
pub struct ExtendedGateway {
    /// BGP next hop (pmacct `peer_dst_ip`).
    pub next_hop: Option<IpAddr>,
    /// The agent's own AS.
    pub as_number: u32,
    pub src_as: u32,
    /// pmacct `peer_src_as`.
    pub src_peer_as: u32,
    /// First AS of the path (pmacct `peer_dst_as`).
    pub dst_peer_as: u32,
    /// Last AS of the path (pmacct `dst_as`).
    pub dst_as: u32,
    /// Segments; empty unless the decoder keeps gateways ([`super::SflowOptions::keep_bgp`]).
    pub as_path: Vec<AsPathSegment>,
    /// Standard communities; empty unless the decoder keeps gateways.
    pub communities: Vec<u32>,
    pub local_pref: u32,
}

impl ExtendedGateway {
    /// The path as pmacct prints `as_path`: every ASN of every segment, space-separated.
    pub fn as_path_string(&self) -> String {
        let all: Vec<String> =
            self.as_path.iter().flat_map(|s| s.asns.iter().map(u32::to_string)).collect();
        all.join(" ")
    }

    /// The communities as pmacct prints `std_comm`: `AS:VALUE` or a well-known name.
    pub fn communities_string(&self) -> String {
        let all: Vec<String> = self
            .communities
            .iter()
            .map(|&c| match c {
                COMMUNITY_INTERNET => "internet".to_string(),
                COMMUNITY_NO_EXPORT => "no-export".to_string(),
                COMMUNITY_NO_ADVERTISE => "no-advertise".to_string(),
                COMMUNITY_LOCAL_AS => "local-AS".to_string(),
                c => format!("{}:{}", c >> 16, c & 0xFFFF),
            })
            .collect();
        all.join(" ")
    }
}

fn truncated(what: &'static str) -> SflowError {
    SflowError::Truncated { what }
}

/// An sFlow address; type 0 (unknown) is `None`.
pub(super) fn address(r: &mut Reader<'_>) -> Result<Option<IpAddr>, SflowError> {
    match r.address() {
        None => Err(truncated("address")),
        Some(Err(kind)) => Err(SflowError::BadAddressType(kind)),
        Some(Ok(a)) => Ok(a),
    }
}

/// Reads an extended gateway record. The path and communities are stored only with `keep`
/// (they allocate); the first/last AS are always taken.
pub(super) fn read_gateway(r: &mut Reader<'_>, keep: bool) -> Result<ExtendedGateway, SflowError> {
    let t = || truncated("extended gateway record");
    let mut gw = ExtendedGateway {
        next_hop: address(r)?,
        as_number: r.u32().ok_or_else(t)?,
        src_as: r.u32().ok_or_else(t)?,
        src_peer_as: r.u32().ok_or_else(t)?,
        ..Default::default()
    };
    let segments = r.u32().ok_or_else(t)?;
    for idx in 0..segments {
        let kind = r.u32().ok_or_else(t)?;
        let len = r.u32().ok_or_else(t)?;
        let mut seg = AsPathSegment { kind, asns: Vec::new() };
        for i in 0..len {
            let asn = r.u32().ok_or_else(t)?;
            if idx == 0 && i == 0 {
                gw.dst_peer_as = asn;
            }
            if idx + 1 == segments && i + 1 == len {
                gw.dst_as = asn;
            }
            if keep {
                seg.asns.push(asn);
            }
        }
        if keep {
            gw.as_path.push(seg);
        }
    }
    let n = r.u32().ok_or_else(t)?;
    for _ in 0..n {
        let c = r.u32().ok_or_else(t)?;
        if keep {
            gw.communities.push(c);
        }
    }
    gw.local_pref = r.u32().ok_or_else(t)?;
    Ok(gw)
}

/// Extended user (charset, string, charset, string) or URL (direction, string, string): read
/// and discarded, as sfacctd has no primitive for them.
pub(super) fn skip_strings(user: bool, r: &mut Reader<'_>) -> Result<(), SflowError> {
    let t = || truncated(if user { "extended user record" } else { "extended URL record" });
    r.u32().ok_or_else(t)?; // charset / direction
    r.var_opaque().ok_or_else(t)?;
    if user {
        r.u32().ok_or_else(t)?;
    }
    r.var_opaque().ok_or_else(t)?;
    Ok(())
}

/// Extended MPLS (0:1006): next hop, in-label stack, out-label stack. The in-stack gives the
/// label primitives (pmacct's `lstk`).
pub(super) fn read_mpls(r: &mut Reader<'_>, st: &mut FlowState) -> Result<(), SflowError> {
    let t = || truncated("extended MPLS record");
    address(r)?;
    for dir in 0..2 {
        let depth = r.u32().ok_or_else(t)?;
        for i in 0..depth {
            let label = r.u32().ok_or_else(t)?;
            if dir == 0 {
                if i == 0 {
                    st.mpls_top = label >> 12;
                }
                st.mpls_bottom = label >> 12;
            }
        }
        if dir == 0 {
            st.mpls_depth = u8::try_from(depth).unwrap_or(u8::MAX);
        }
    }
    Ok(())
}
