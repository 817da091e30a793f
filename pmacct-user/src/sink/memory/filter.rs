//! `key=value,key=value` filters over aggregates (`src_host=10.0.0.1,proto=tcp`), keys being
//! pmacct primitive names or their JSON keys.

use std::net::IpAddr;

use crate::aggregate::{Primitive, PrimitiveSet};
use crate::record::{Counters, FlowFields};
use crate::routing::roa::roa_from_str as roa;
use crate::sink::print::value::parse_proto;

/// A bad filter term.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum FilterError {
    #[error("filter term '{0}' is not key=value")]
    Syntax(String),
    #[error("unknown primitive '{0}' in filter")]
    Primitive(String),
    #[error("bad value '{value}' for {primitive}")]
    Value { primitive: String, value: String },
}

/// Conjunction of `primitive == value` terms.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Filter {
    terms: Vec<(Primitive, FlowFields, u8)>,
}

/// An AS path or community list as typed on the command line, `_` or spaces between members
/// (pmacct prints `_`), as the interned id the records carry.
fn bgp_string(value: &str) -> u32 {
    crate::enrich::labels::intern(&value.replace('_', " "))
}

fn parse_mac(s: &str) -> Option<[u8; 6]> {
    let mut mac = [0u8; 6];
    let mut parts = s.split([':', '-']);
    for b in &mut mac {
        *b = u8::from_str_radix(parts.next()?, 16).ok()?;
    }
    parts.next().is_none().then_some(mac)
}

/// A country code as the records hold it (up to 2 characters; empty: none).
fn country(s: &str) -> Option<[u8; 2]> {
    let mut code = [0u8; 2];
    if s.len() > 2 {
        return None;
    }
    for (dst, b) in code.iter_mut().zip(s.bytes()) {
        *dst = b;
    }
    Some(code)
}

impl Filter {
    /// Parses `src_host=10.0.0.1,proto=tcp`; an empty string matches everything.
    pub fn parse(s: &str) -> Result<Filter, FilterError> {
        let mut terms = Vec::new();
        for term in s.split(',').map(str::trim).filter(|t| !t.is_empty()) {
            let (key, value) =
                term.split_once('=').ok_or_else(|| FilterError::Syntax(term.into()))?;
            let (key, value) = (key.trim(), value.trim());
            let p = Primitive::from_name(key)
                .or_else(|| Primitive::ALL.iter().copied().find(|p| p.json_key() == key))
                .ok_or_else(|| FilterError::Primitive(key.into()))?;
            let bad = || FilterError::Value { primitive: p.name().into(), value: value.into() };
            let mut f = FlowFields::default();
            let mut flags = 0u8;
            let ip = || value.parse::<IpAddr>().map_err(|_| bad());
            match p {
                Primitive::Tag => f.tag = value.parse().map_err(|_| bad())?,
                Primitive::Tag2 => f.tag2 = value.parse().map_err(|_| bad())?,
                Primitive::Label => f.label = crate::enrich::labels::intern(value),
                Primitive::AsPath => f.as_path = bgp_string(value),
                Primitive::SrcAsPath => f.src_as_path = bgp_string(value),
                Primitive::StdComm => f.std_comm = bgp_string(value),
                Primitive::ExtComm => f.ext_comm = bgp_string(value),
                Primitive::LrgComm => f.lrg_comm = bgp_string(value),
                Primitive::SrcStdComm => f.src_std_comm = bgp_string(value),
                Primitive::SrcExtComm => f.src_ext_comm = bgp_string(value),
                Primitive::SrcLrgComm => f.src_lrg_comm = bgp_string(value),
                Primitive::SrcLocalPref => f.src_local_pref = value.parse().map_err(|_| bad())?,
                Primitive::SrcMed => f.src_med = value.parse().map_err(|_| bad())?,
                Primitive::SrcRoa => f.src_roa = roa(value).ok_or_else(bad)?,
                Primitive::DstRoa => f.dst_roa = roa(value).ok_or_else(bad)?,
                Primitive::SrcMac => f.src_mac = parse_mac(value).ok_or_else(bad)?,
                Primitive::DstMac => f.dst_mac = parse_mac(value).ok_or_else(bad)?,
                Primitive::Vlan => f.vlan = value.parse().map_err(|_| bad())?,
                Primitive::Cos => f.cos = value.parse().map_err(|_| bad())?,
                Primitive::Etype => {
                    f.etype = u16::from_str_radix(value.trim_start_matches("0x"), 16)
                        .map_err(|_| bad())?
                }
                Primitive::SrcAs => f.src_as = value.parse().map_err(|_| bad())?,
                Primitive::DstAs => f.dst_as = value.parse().map_err(|_| bad())?,
                Primitive::PeerSrcIp => f.peer_src_ip = ip()?,
                Primitive::PeerDstIp => f.peer_dst_ip = ip()?,
                Primitive::InIface => f.in_iface = value.parse().map_err(|_| bad())?,
                Primitive::OutIface => f.out_iface = value.parse().map_err(|_| bad())?,
                Primitive::SrcHost => f.src_ip = ip()?,
                Primitive::DstHost => f.dst_ip = ip()?,
                Primitive::SrcNet => f.src_net = ip()?,
                Primitive::DstNet => f.dst_net = ip()?,
                Primitive::SrcMask => f.src_mask = value.parse().map_err(|_| bad())?,
                Primitive::DstMask => f.dst_mask = value.parse().map_err(|_| bad())?,
                Primitive::SrcPort => f.src_port = value.parse().map_err(|_| bad())?,
                Primitive::DstPort => f.dst_port = value.parse().map_err(|_| bad())?,
                Primitive::TcpFlags => flags = value.parse().map_err(|_| bad())?,
                Primitive::Proto => f.proto = parse_proto(value).ok_or_else(bad)?,
                Primitive::Tos => f.tos = value.parse().map_err(|_| bad())?,
                Primitive::SamplingRate => f.sampling_rate = value.parse().map_err(|_| bad())?,
                Primitive::SrcHostCountry => f.src_country = country(value).ok_or_else(bad)?,
                Primitive::DstHostCountry => f.dst_country = country(value).ok_or_else(bad)?,
                Primitive::SrcHostPocode => f.src_pocode = crate::enrich::labels::intern(value),
                Primitive::DstHostPocode => f.dst_pocode = crate::enrich::labels::intern(value),
                Primitive::SrcHostCoords | Primitive::DstHostCoords => return Err(bad()),
                Primitive::OutVlan => f.out_vlan = value.parse().map_err(|_| bad())?,
                Primitive::LocalPref => f.local_pref = value.parse().map_err(|_| bad())?,
                Primitive::Med => f.med = value.parse().map_err(|_| bad())?,
                Primitive::PeerSrcAs => f.peer_src_as = value.parse().map_err(|_| bad())?,
                Primitive::PeerDstAs => f.peer_dst_as = value.parse().map_err(|_| bad())?,
                Primitive::SamplingDirection => {
                    f.direction = match value {
                        "i" => 1,
                        "e" => 2,
                        "u" => 0,
                        _ => return Err(bad()),
                    }
                }
                Primitive::PostNatSrcHost => f.post_nat_src_ip = ip()?,
                Primitive::PostNatDstHost => f.post_nat_dst_ip = ip()?,
                Primitive::PostNatSrcPort => {
                    f.post_nat_src_port = value.parse().map_err(|_| bad())?
                }
                Primitive::PostNatDstPort => {
                    f.post_nat_dst_port = value.parse().map_err(|_| bad())?
                }
                Primitive::NatEvent => f.nat_event = value.parse().map_err(|_| bad())?,
                Primitive::FwdStatus => f.fwd_status = value.parse().map_err(|_| bad())?,
                Primitive::Class if value == "unknown" => f.class = 0,
                Primitive::Class => f.class = crate::enrich::labels::intern(value),
                Primitive::MplsVpnRd => {
                    f.mpls_vpn_rd = crate::record::parse_rd(value).ok_or_else(bad)?
                }
                Primitive::MplsPwId => f.mpls_pw_id = value.parse().map_err(|_| bad())?,
                Primitive::MplsLabelTop => f.mpls_label_top = value.parse().map_err(|_| bad())?,
                Primitive::MplsLabelBottom => {
                    f.mpls_label_bottom = value.parse().map_err(|_| bad())?
                }
                Primitive::MplsStackDepth => {
                    f.mpls_stack_depth = value.parse().map_err(|_| bad())?
                }
                Primitive::TunnelSrcMac => f.tunnel_src_mac = parse_mac(value).ok_or_else(bad)?,
                Primitive::TunnelDstMac => f.tunnel_dst_mac = parse_mac(value).ok_or_else(bad)?,
                Primitive::TunnelSrcHost => f.tunnel_src_ip = ip()?,
                Primitive::TunnelDstHost => f.tunnel_dst_ip = ip()?,
                Primitive::TunnelProto => f.tunnel_proto = parse_proto(value).ok_or_else(bad)?,
                Primitive::TunnelTos => f.tunnel_tos = value.parse().map_err(|_| bad())?,
                Primitive::TunnelSrcPort => f.tunnel_src_port = value.parse().map_err(|_| bad())?,
                Primitive::TunnelDstPort => f.tunnel_dst_port = value.parse().map_err(|_| bad())?,
                Primitive::Vxlan => f.vni = value.parse().map_err(|_| bad())?,
                // Timestamps filter on Unix microseconds.
                Primitive::TimestampStart => {
                    f.timestamp_start = value.parse().map_err(|_| bad())?
                }
                Primitive::TimestampEnd => f.timestamp_end = value.parse().map_err(|_| bad())?,
                Primitive::TimestampArrival => {
                    f.timestamp_arrival = value.parse().map_err(|_| bad())?
                }
                Primitive::TimestampExport => {
                    f.timestamp_export = value.parse().map_err(|_| bad())?
                }
                Primitive::ExportProtoSeqno => {
                    f.export_proto_seqno = value.parse().map_err(|_| bad())?
                }
                Primitive::ExportProtoVersion => {
                    f.export_proto_version = value.parse().map_err(|_| bad())?
                }
                Primitive::ExportProtoSysid => {
                    f.export_proto_sysid = value.parse().map_err(|_| bad())?
                }
                Primitive::SumHost => f.src_ip = ip()?,
                Primitive::SumNet => f.src_net = ip()?,
                Primitive::SumAs => f.src_as = value.parse().map_err(|_| bad())?,
                Primitive::SumPort => f.src_port = value.parse().map_err(|_| bad())?,
                Primitive::SumMac => f.src_mac = parse_mac(value).ok_or_else(bad)?,
                // A counter, not a key: nothing to match on.
                Primitive::Flows => return Err(FilterError::Primitive(key.into())),
            }
            terms.push((p, f, flags));
        }
        Ok(Filter { terms })
    }

    /// True when every term equals the aggregate's value.
    pub fn matches(&self, key: &FlowFields, c: &Counters) -> bool {
        self.terms.iter().all(|(p, probe, flags)| {
            if *p == Primitive::TcpFlags {
                return c.tcp_flags == *flags;
            }
            let one: PrimitiveSet = [*p].into_iter().collect();
            one.mask(key) == one.mask(probe)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_and_match() {
        let k = FlowFields {
            src_ip: "10.0.0.1".parse().unwrap(),
            proto: 6,
            src_mac: [2, 0, 0, 0, 0, 0x49],
            ..Default::default()
        };
        let c = Counters::default();
        assert!(Filter::parse("src_host=10.0.0.1, proto=tcp").unwrap().matches(&k, &c));
        assert!(
            Filter::parse("ip_src=10.0.0.1,ip_proto=6,mac_src=02:00:00:00:00:49")
                .unwrap()
                .matches(&k, &c)
        );
        assert!(!Filter::parse("src_host=10.0.0.2").unwrap().matches(&k, &c));
        assert!(Filter::parse("").unwrap().matches(&k, &c));
        assert_eq!(Filter::parse("src_host").unwrap_err(), FilterError::Syntax("src_host".into()));
        assert_eq!(Filter::parse("foo=1").unwrap_err(), FilterError::Primitive("foo".into()));
        assert!(matches!(Filter::parse("proto=zzz"), Err(FilterError::Value { .. })));
    }
}
