//! Extended flow records: gateway (BGP), user, URL, MPLS (src/sflow.c `readExtended*`).

use std::net::IpAddr;

use super::SflowError;
use super::flow::FlowState;
use super::reader::Reader;
use crate::enrich::labels;

/// pmacct's well-known community names (`COMMUNITY_*`).
const COMMUNITY_NO_EXPORT: u32 = 0xFFFF_FF01;
const COMMUNITY_NO_ADVERTISE: u32 = 0xFFFF_FF02;
const COMMUNITY_LOCAL_AS: u32 = 0xFFFF_FF03;
const COMMUNITY_INTERNET: u32 = 0x0000_0000;

/// The extended gateway record (0:1003): what the agent's BGP table says about the sample's
/// destination.
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
    /// The path as pmacct's `as_path`: every ASN of every segment, space-separated, interned
    /// in [`crate::enrich::labels`]; 0 unless the decoder keeps BGP strings
    /// ([`super::SflowOptions::keep_bgp`]).
    pub as_path: u32,
    /// The communities as pmacct's `std_comm` (`AS:VALUE` or a well-known name,
    /// space-separated), interned; 0 unless kept.
    pub communities: u32,
    pub local_pref: u32,
}

/// A community as sfacctd prints it.
fn push_community(out: &mut String, c: u32) {
    use std::fmt::Write;
    match c {
        COMMUNITY_INTERNET => out.push_str("internet"),
        COMMUNITY_NO_EXPORT => out.push_str("no-export"),
        COMMUNITY_NO_ADVERTISE => out.push_str("no-advertise"),
        COMMUNITY_LOCAL_AS => out.push_str("local-AS"),
        c => {
            let _ = write!(out, "{}:{}", c >> 16, c & 0xFFFF);
        }
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

/// Reads an extended gateway record. The path and communities are interned only with `keep`
/// (they cost a string and a table lookup); the first/last AS are always taken.
pub(super) fn read_gateway(r: &mut Reader<'_>, keep: bool) -> Result<ExtendedGateway, SflowError> {
    let t = || truncated("extended gateway record");
    let mut gw = ExtendedGateway {
        next_hop: address(r)?,
        as_number: r.u32().ok_or_else(t)?,
        src_as: r.u32().ok_or_else(t)?,
        src_peer_as: r.u32().ok_or_else(t)?,
        ..Default::default()
    };
    let mut text = String::new();
    let segments = r.u32().ok_or_else(t)?;
    for idx in 0..segments {
        let _kind = r.u32().ok_or_else(t)?;
        let len = r.u32().ok_or_else(t)?;
        for i in 0..len {
            let asn = r.u32().ok_or_else(t)?;
            if idx == 0 && i == 0 {
                gw.dst_peer_as = asn;
            }
            if idx + 1 == segments && i + 1 == len {
                gw.dst_as = asn;
            }
            if keep {
                use std::fmt::Write;
                let sep = if text.is_empty() { "" } else { " " };
                let _ = write!(text, "{sep}{asn}");
            }
        }
    }
    if keep {
        gw.as_path = labels::intern(&text);
        text.clear();
    }
    let n = r.u32().ok_or_else(t)?;
    for _ in 0..n {
        let c = r.u32().ok_or_else(t)?;
        if keep {
            if !text.is_empty() {
                text.push(' ');
            }
            push_community(&mut text, c);
        }
    }
    if keep {
        gw.communities = labels::intern(&text);
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
