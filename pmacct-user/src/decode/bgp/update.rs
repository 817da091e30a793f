//! UPDATE messages and the decode context they need.

use std::net::IpAddr;

use super::attrs::{AsPath, PathAttr, PathAttribute, parse_attributes};
use super::nlri::{MpNlri, Nlri, parse_nlri};
use super::{AfiSafi, BgpError, Reader};

/// What a session negotiated that changes how UPDATEs are encoded.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct DecodeContext {
    /// AS_PATH carries 4-byte ASNs (both sides advertised RFC 6793's capability, or BMP's A flag
    /// is clear). When the declared width does not parse, the other one is tried.
    pub four_octet_as: bool,
    /// Families whose NLRI carry add-path identifiers.
    pub add_path: Vec<AfiSafi>,
}

impl DecodeContext {
    /// A context with 4-byte ASNs and no add-path.
    pub fn four_octet() -> Self {
        Self { four_octet_as: true, add_path: Vec::new() }
    }

    /// Whether `af`'s NLRI carry path identifiers.
    pub fn add_path(&self, af: AfiSafi) -> bool {
        self.add_path.contains(&af)
    }

    /// Marks `af` as carrying path identifiers (or not).
    pub fn set_add_path(&mut self, af: AfiSafi, on: bool) {
        self.add_path.retain(|a| *a != af);
        if on {
            self.add_path.push(af);
        }
    }
}

/// A decoded UPDATE.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Update {
    /// IPv4 unicast withdrawn routes.
    pub withdrawn: Vec<Nlri>,
    /// Path attributes in wire order.
    pub attributes: Vec<PathAttribute>,
    /// IPv4 unicast announced routes.
    pub nlri: Vec<Nlri>,
}

impl Update {
    /// Parses an UPDATE body (after the 19-byte header).
    pub fn parse_body(body: &[u8], ctx: &DecodeContext) -> Result<Update, BgpError> {
        let mut r = Reader::new(body);
        let wlen = usize::from(r.u16()?);
        let wbuf = r.take(wlen)?;
        let alen = usize::from(r.u16()?);
        let abuf = r.take(alen)?;
        let v4 = AfiSafi::IPV4_UNICAST;
        let withdrawn = parse_nlri(wbuf, v4, ctx.add_path(v4), true)?;
        let attributes = parse_attributes(abuf, ctx)?;
        let nlri = parse_nlri(r.rest(), v4, ctx.add_path(v4), false)?;
        Ok(Update { withdrawn, attributes, nlri })
    }

    /// The first attribute for which `f` returns a value.
    pub fn find<'a, T>(&'a self, f: impl Fn(&'a PathAttr) -> Option<T>) -> Option<T> {
        self.attributes.iter().find_map(|a| f(&a.value))
    }

    /// An End-of-RIB marker (RFC 4724): an empty UPDATE, or only an empty MP_UNREACH.
    pub fn is_end_of_rib(&self) -> Option<AfiSafi> {
        if !self.withdrawn.is_empty() || !self.nlri.is_empty() {
            return None;
        }
        match self.attributes.as_slice() {
            [] => Some(AfiSafi::IPV4_UNICAST),
            [a] => match &a.value {
                PathAttr::MpUnreach(u) if u.withdrawn == MpNlri::Prefixes(vec![]) => {
                    Some(u.afi_safi)
                }
                PathAttr::MpUnreach(u) if u.withdrawn == MpNlri::Raw(vec![]) => Some(u.afi_safi),
                _ => None,
            },
            _ => None,
        }
    }

    /// The AS path to use: AS_PATH, merged with AS4_PATH per RFC 6793 when the session is
    /// 2-byte (`ctx.four_octet_as` false); AS4_PATH is ignored on 4-byte sessions.
    pub fn as_path(&self, ctx: &DecodeContext) -> Option<AsPath> {
        let p = self.find(|a| match a {
            PathAttr::AsPath(p) => Some(p),
            _ => None,
        })?;
        let p4 = self.find(|a| match a {
            PathAttr::As4Path(p) => Some(p),
            _ => None,
        });
        Some(match p4 {
            Some(p4) if !ctx.four_octet_as => p.merge_as4(p4),
            _ => p.clone(),
        })
    }

    /// Aggregator (AS, router), preferring AS4_AGGREGATOR when AGGREGATOR holds AS_TRANS.
    pub fn aggregator(&self) -> Option<(u32, std::net::Ipv4Addr)> {
        let a = self.find(|a| match a {
            PathAttr::Aggregator { asn, addr } => Some((*asn, *addr)),
            _ => None,
        })?;
        let a4 = self.find(|a| match a {
            PathAttr::As4Aggregator { asn, addr } => Some((*asn, *addr)),
            _ => None,
        });
        Some(match a4 {
            Some(a4) if a.0 == 23456 => a4,
            _ => a,
        })
    }

    /// The next hop for `af`: MP_REACH's for that family, else NEXT_HOP.
    pub fn next_hop(&self, af: AfiSafi) -> Option<IpAddr> {
        self.find(|a| match a {
            PathAttr::MpReach(m) if m.afi_safi == af => m.next_hop,
            _ => None,
        })
        .or_else(|| {
            self.find(|a| match a {
                PathAttr::NextHop(n) => Some(IpAddr::V4(*n)),
                _ => None,
            })
        })
    }

    /// Every announced IP route with its family: IPv4 NLRI then MP_REACH prefixes.
    pub fn announced(&self) -> Vec<(AfiSafi, &Nlri)> {
        let mut v: Vec<_> = self.nlri.iter().map(|n| (AfiSafi::IPV4_UNICAST, n)).collect();
        for a in &self.attributes {
            if let PathAttr::MpReach(m) = &a.value
                && let MpNlri::Prefixes(p) = &m.nlri
            {
                v.extend(p.iter().map(|n| (m.afi_safi, n)));
            }
        }
        v
    }

    /// Every withdrawn IP route with its family: IPv4 withdrawn then MP_UNREACH prefixes.
    pub fn withdrawn_routes(&self) -> Vec<(AfiSafi, &Nlri)> {
        let mut v: Vec<_> = self.withdrawn.iter().map(|n| (AfiSafi::IPV4_UNICAST, n)).collect();
        for a in &self.attributes {
            if let PathAttr::MpUnreach(m) = &a.value
                && let MpNlri::Prefixes(p) = &m.withdrawn
            {
                v.extend(p.iter().map(|n| (m.afi_safi, n)));
            }
        }
        v
    }
}
