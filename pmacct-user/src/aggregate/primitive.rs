//! pmacct's aggregation primitives: the names operators write in `aggregate`, the names pmacct 1.7
//! prints (CSV/formatted headers, JSON keys), and [`PrimitiveSet`], a plugin's aggregate as a
//! bitmask.

use std::fmt;
use std::net::{IpAddr, Ipv4Addr};

use crate::record::FlowFields;

macro_rules! primitives {
    ($($variant:ident => $name:literal, $header:literal, $json:literal;)*) => {
        /// One aggregation primitive. Declaration order is the column order pmacct 1.7's print
        /// plugin uses, whatever order the operator wrote in `aggregate`.
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
        #[repr(u8)]
        pub enum Primitive { $($variant),* }

        impl Primitive {
            /// Every primitive in print order.
            pub const ALL: &'static [Primitive] = &[$(Primitive::$variant),*];

            /// The name used in pmacct's `aggregate` key (`src_host`).
            pub const fn name(self) -> &'static str {
                match self { $(Primitive::$variant => $name),* }
            }

            /// The CSV / formatted column header pmacct 1.7 prints (`SRC_IP`).
            pub const fn header(self) -> &'static str {
                match self { $(Primitive::$variant => $header),* }
            }

            /// The JSON key pmacct 1.7 prints (`ip_src`).
            pub const fn json_key(self) -> &'static str {
                match self { $(Primitive::$variant => $json),* }
            }
        }
    };
}

primitives! {
    Tag => "tag", "TAG", "tag";
    Tag2 => "tag2", "TAG2", "tag2";
    Label => "label", "LABEL", "label";
    Class => "class", "CLASS", "class";
    SrcMac => "src_mac", "SRC_MAC", "mac_src";
    DstMac => "dst_mac", "DST_MAC", "mac_dst";
    Vlan => "vlan", "VLAN", "vlan";
    OutVlan => "out_vlan", "OUT_VLAN", "vlan_out";
    Cos => "cos", "COS", "cos";
    Etype => "etype", "ETYPE", "etype";
    SrcAs => "src_as", "SRC_AS", "as_src";
    DstAs => "dst_as", "DST_AS", "as_dst";
    StdComm => "std_comm", "COMMS", "comms";
    ExtComm => "ext_comm", "ECOMMS", "ecomms";
    LrgComm => "lrg_comm", "LCOMMS", "lcomms";
    SrcStdComm => "src_std_comm", "SRC_COMMS", "comms_src";
    SrcExtComm => "src_ext_comm", "SRC_ECOMMS", "ecomms_src";
    SrcLrgComm => "src_lrg_comm", "SRC_LCOMMS", "lcomms_src";
    AsPath => "as_path", "AS_PATH", "as_path";
    SrcAsPath => "src_as_path", "SRC_AS_PATH", "as_path_src";
    LocalPref => "local_pref", "PREF", "local_pref";
    SrcLocalPref => "src_local_pref", "SRC_PREF", "local_pref_src";
    Med => "med", "MED", "med";
    SrcMed => "src_med", "SRC_MED", "med_src";
    SrcRoa => "src_roa", "SRC_ROA", "roa_src";
    DstRoa => "dst_roa", "DST_ROA", "roa_dst";
    PeerSrcAs => "peer_src_as", "PEER_SRC_AS", "peer_as_src";
    PeerDstAs => "peer_dst_as", "PEER_DST_AS", "peer_as_dst";
    PeerSrcIp => "peer_src_ip", "PEER_SRC_IP", "peer_ip_src";
    PeerDstIp => "peer_dst_ip", "PEER_DST_IP", "peer_ip_dst";
    InIface => "in_iface", "IN_IFACE", "iface_in";
    OutIface => "out_iface", "OUT_IFACE", "iface_out";
    MplsVpnRd => "mpls_vpn_rd", "MPLS_VPN_RD", "mpls_vpn_rd";
    MplsPwId => "mpls_pw_id", "MPLS_PW_ID", "mpls_pw_id";
    SrcHost => "src_host", "SRC_IP", "ip_src";
    SrcNet => "src_net", "SRC_NET", "net_src";
    DstHost => "dst_host", "DST_IP", "ip_dst";
    DstNet => "dst_net", "DST_NET", "net_dst";
    SrcMask => "src_mask", "SRC_MASK", "mask_src";
    DstMask => "dst_mask", "DST_MASK", "mask_dst";
    SrcPort => "src_port", "SRC_PORT", "port_src";
    DstPort => "dst_port", "DST_PORT", "port_dst";
    TcpFlags => "tcpflags", "TCP_FLAGS", "tcp_flags";
    Proto => "proto", "PROTOCOL", "ip_proto";
    Tos => "tos", "TOS", "tos";
    // GeoIP v2 (`geoipv2_file`). A coords primitive prints two columns: the latitude under
    // the header and key given here, the longitude under `SH_LON` / `lon_ip_src` (see the
    // print plugin's columns).
    SrcHostCountry => "src_host_country", "SH_COUNTRY", "country_ip_src";
    DstHostCountry => "dst_host_country", "DH_COUNTRY", "country_ip_dst";
    SrcHostPocode => "src_host_pocode", "SH_POCODE", "pocode_ip_src";
    DstHostPocode => "dst_host_pocode", "DH_POCODE", "pocode_ip_dst";
    SrcHostCoords => "src_host_coords", "SH_LAT", "lat_ip_src";
    DstHostCoords => "dst_host_coords", "DH_LAT", "lat_ip_dst";
    SamplingRate => "sampling_rate", "SAMPLING_RATE", "sampling_rate";
    SamplingDirection => "sampling_direction", "SAMPLING_DIRECTION", "sampling_direction";
    PostNatSrcHost => "post_nat_src_host", "POST_NAT_SRC_IP", "post_nat_ip_src";
    PostNatDstHost => "post_nat_dst_host", "POST_NAT_DST_IP", "post_nat_ip_dst";
    PostNatSrcPort => "post_nat_src_port", "POST_NAT_SRC_PORT", "post_nat_port_src";
    PostNatDstPort => "post_nat_dst_port", "POST_NAT_DST_PORT", "post_nat_port_dst";
    NatEvent => "nat_event", "NAT_EVENT", "nat_event";
    FwdStatus => "fwd_status", "FWD_STATUS", "fwd_status";
    MplsLabelTop => "mpls_label_top", "MPLS_LABEL_TOP", "mpls_label_top";
    MplsLabelBottom => "mpls_label_bottom", "MPLS_LABEL_BOTTOM", "mpls_label_bottom";
    MplsStackDepth => "mpls_stack_depth", "MPLS_STACK_DEPTH", "mpls_stack_depth";
    // The tunnelled (inner) packet's headers: pmacctd and sfacctd only (see
    // `FlowFields::tunnel_src_mac`); `vxlan` also from NetFlow v9/IPFIX layer2SegmentId.
    TunnelSrcMac => "tunnel_src_mac", "TUNNEL_SRC_MAC", "tunnel_mac_src";
    TunnelDstMac => "tunnel_dst_mac", "TUNNEL_DST_MAC", "tunnel_mac_dst";
    TunnelSrcHost => "tunnel_src_host", "TUNNEL_SRC_IP", "tunnel_ip_src";
    TunnelDstHost => "tunnel_dst_host", "TUNNEL_DST_IP", "tunnel_ip_dst";
    TunnelProto => "tunnel_proto", "TUNNEL_PROTOCOL", "tunnel_ip_proto";
    TunnelTos => "tunnel_tos", "TUNNEL_TOS", "tunnel_tos";
    TunnelSrcPort => "tunnel_src_port", "TUNNEL_SRC_PORT", "tunnel_port_src";
    TunnelDstPort => "tunnel_dst_port", "TUNNEL_DST_PORT", "tunnel_port_dst";
    Vxlan => "vxlan", "VXLAN", "vxlan";
    TimestampStart => "timestamp_start", "TIMESTAMP_START", "timestamp_start";
    TimestampEnd => "timestamp_end", "TIMESTAMP_END", "timestamp_end";
    TimestampArrival => "timestamp_arrival", "TIMESTAMP_ARRIVAL", "timestamp_arrival";
    TimestampExport => "timestamp_export", "TIMESTAMP_EXPORT", "timestamp_export";
    ExportProtoSeqno => "export_proto_seqno", "EXPORT_PROTO_SEQNO", "export_proto_seqno";
    ExportProtoVersion => "export_proto_version", "EXPORT_PROTO_VERSION", "export_proto_version";
    ExportProtoSysid => "export_proto_sysid", "EXPORT_PROTO_SYSID", "export_proto_sysid";
    // Not a key field: the flow counter, printed between PACKETS and BYTES (pmacct's `flows`).
    Flows => "flows", "FLOWS", "flows";
    // The `sum_*` aggregations: one key field printed in its `src_` column; every record is
    // accounted once for its source and once for its destination value (pmacct's
    // `P_sum_*_insert`). pmacct allows them only alone (plus tag, tag2, flows).
    SumHost => "sum_host", "SRC_IP", "ip_src";
    SumNet => "sum_net", "SRC_NET", "net_src";
    SumAs => "sum_as", "SRC_AS", "as_src";
    SumPort => "sum_port", "SRC_PORT", "port_src";
    SumMac => "sum_mac", "SRC_MAC", "mac_src";
}

impl Primitive {
    /// Looks a primitive up by its `aggregate` name (case-insensitive, as pmacct is).
    pub fn from_name(name: &str) -> Option<Primitive> {
        // pmacct 1.7 takes `fw_event` as another name of `nat_event` (cfg_handlers.c).
        if name.eq_ignore_ascii_case("fw_event") {
            return Some(Primitive::NatEvent);
        }
        Primitive::ALL.iter().copied().find(|p| p.name().eq_ignore_ascii_case(name))
    }

    /// Strings of any length (pmacct's "vlen" primitives): the label and the BGP paths and
    /// communities. pmacct's formatted output cannot print them.
    pub const fn is_variable_length(self) -> bool {
        matches!(
            self,
            Primitive::Label
                | Primitive::AsPath
                | Primitive::SrcAsPath
                | Primitive::StdComm
                | Primitive::ExtComm
                | Primitive::LrgComm
                | Primitive::SrcStdComm
                | Primitive::SrcExtComm
                | Primitive::SrcLrgComm
        )
    }

    /// The GeoIP v2 primitives (filled from `geoipv2_file`).
    pub const fn is_geoip(self) -> bool {
        matches!(
            self,
            Primitive::SrcHostCountry
                | Primitive::DstHostCountry
                | Primitive::SrcHostPocode
                | Primitive::DstHostPocode
                | Primitive::SrcHostCoords
                | Primitive::DstHostCoords
        )
    }

    const fn bit(self) -> u128 {
        1u128 << (self as u8)
    }
}

impl fmt::Display for Primitive {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// Error for an `aggregate` value naming a primitive we do not know.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("unknown aggregate primitive '{0}'")]
pub struct UnknownPrimitive(pub String);

/// A plugin's aggregate: a set of primitives as a bitmask.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct PrimitiveSet(u128);

impl PrimitiveSet {
    pub const EMPTY: PrimitiveSet = PrimitiveSet(0);

    /// Parses pmacct's comma-separated `aggregate` value (`src_host, dst_host, proto`).
    pub fn parse(list: &str) -> Result<PrimitiveSet, UnknownPrimitive> {
        let mut set = PrimitiveSet::EMPTY;
        // `none` selects nothing: one grand total, as in pmacct.
        for name in list.split(',').map(str::trim).filter(|s| !s.is_empty() && *s != "none") {
            let p = Primitive::from_name(name).ok_or_else(|| UnknownPrimitive(name.to_string()))?;
            set.insert(p);
        }
        Ok(set)
    }

    pub fn insert(&mut self, p: Primitive) {
        self.0 |= p.bit();
    }

    pub const fn contains(self, p: Primitive) -> bool {
        self.0 & p.bit() != 0
    }

    pub fn union(self, other: PrimitiveSet) -> PrimitiveSet {
        PrimitiveSet(self.0 | other.0)
    }

    pub const fn is_empty(self) -> bool {
        self.0 == 0
    }

    /// The primitives in the set, in pmacct's print order.
    pub fn iter(self) -> impl Iterator<Item = Primitive> {
        Primitive::ALL.iter().copied().filter(move |p| self.contains(*p))
    }

    /// The aggregation key: `fields` with every primitive outside the set zeroed.
    /// `tcpflags` is accumulated in the counters, not keyed.
    pub fn mask(self, fields: &FlowFields) -> FlowFields {
        let zero_ip = IpAddr::V4(Ipv4Addr::UNSPECIFIED);
        let has = |p| self.contains(p);
        FlowFields {
            src_mac: if has(Primitive::SrcMac) || has(Primitive::SumMac) {
                fields.src_mac
            } else {
                [0; 6]
            },
            dst_mac: if has(Primitive::DstMac) { fields.dst_mac } else { [0; 6] },
            vlan: if has(Primitive::Vlan) { fields.vlan } else { 0 },
            cos: if has(Primitive::Cos) { fields.cos } else { 0 },
            etype: if has(Primitive::Etype) { fields.etype } else { 0 },
            src_ip: if has(Primitive::SrcHost) || has(Primitive::SumHost) {
                fields.src_ip
            } else {
                zero_ip
            },
            dst_ip: if has(Primitive::DstHost) { fields.dst_ip } else { zero_ip },
            src_net: if has(Primitive::SrcNet) || has(Primitive::SumNet) {
                fields.src_net
            } else {
                zero_ip
            },
            dst_net: if has(Primitive::DstNet) { fields.dst_net } else { zero_ip },
            src_mask: if has(Primitive::SrcMask) { fields.src_mask } else { 0 },
            dst_mask: if has(Primitive::DstMask) { fields.dst_mask } else { 0 },
            src_port: if has(Primitive::SrcPort) || has(Primitive::SumPort) {
                fields.src_port
            } else {
                0
            },
            dst_port: if has(Primitive::DstPort) { fields.dst_port } else { 0 },
            proto: if has(Primitive::Proto) { fields.proto } else { 0 },
            tos: if has(Primitive::Tos) { fields.tos } else { 0 },
            in_iface: if has(Primitive::InIface) { fields.in_iface } else { 0 },
            out_iface: if has(Primitive::OutIface) { fields.out_iface } else { 0 },
            src_as: if has(Primitive::SrcAs) || has(Primitive::SumAs) { fields.src_as } else { 0 },
            dst_as: if has(Primitive::DstAs) { fields.dst_as } else { 0 },
            peer_src_ip: if has(Primitive::PeerSrcIp) { fields.peer_src_ip } else { zero_ip },
            peer_dst_ip: if has(Primitive::PeerDstIp) { fields.peer_dst_ip } else { zero_ip },
            sampling_rate: if has(Primitive::SamplingRate) { fields.sampling_rate } else { 0 },
            tag: if has(Primitive::Tag) { fields.tag } else { 0 },
            tag2: if has(Primitive::Tag2) { fields.tag2 } else { 0 },
            label: if has(Primitive::Label) { fields.label } else { 0 },
            peer_src_as: if has(Primitive::PeerSrcAs) { fields.peer_src_as } else { 0 },
            peer_dst_as: if has(Primitive::PeerDstAs) { fields.peer_dst_as } else { 0 },
            local_pref: if has(Primitive::LocalPref) { fields.local_pref } else { 0 },
            med: if has(Primitive::Med) { fields.med } else { 0 },
            as_path: if has(Primitive::AsPath) { fields.as_path } else { 0 },
            std_comm: if has(Primitive::StdComm) { fields.std_comm } else { 0 },
            ext_comm: if has(Primitive::ExtComm) { fields.ext_comm } else { 0 },
            lrg_comm: if has(Primitive::LrgComm) { fields.lrg_comm } else { 0 },
            src_as_path: if has(Primitive::SrcAsPath) { fields.src_as_path } else { 0 },
            src_std_comm: if has(Primitive::SrcStdComm) { fields.src_std_comm } else { 0 },
            src_ext_comm: if has(Primitive::SrcExtComm) { fields.src_ext_comm } else { 0 },
            src_lrg_comm: if has(Primitive::SrcLrgComm) { fields.src_lrg_comm } else { 0 },
            src_local_pref: if has(Primitive::SrcLocalPref) { fields.src_local_pref } else { 0 },
            src_med: if has(Primitive::SrcMed) { fields.src_med } else { 0 },
            src_roa: if has(Primitive::SrcRoa) { fields.src_roa } else { 0 },
            dst_roa: if has(Primitive::DstRoa) { fields.dst_roa } else { 0 },
            out_vlan: if has(Primitive::OutVlan) { fields.out_vlan } else { 0 },
            mpls_label_top: if has(Primitive::MplsLabelTop) { fields.mpls_label_top } else { 0 },
            mpls_label_bottom: if has(Primitive::MplsLabelBottom) {
                fields.mpls_label_bottom
            } else {
                0
            },
            mpls_stack_depth: if has(Primitive::MplsStackDepth) {
                fields.mpls_stack_depth
            } else {
                0
            },
            post_nat_src_ip: if has(Primitive::PostNatSrcHost) {
                fields.post_nat_src_ip
            } else {
                zero_ip
            },
            post_nat_dst_ip: if has(Primitive::PostNatDstHost) {
                fields.post_nat_dst_ip
            } else {
                zero_ip
            },
            post_nat_src_port: if has(Primitive::PostNatSrcPort) {
                fields.post_nat_src_port
            } else {
                0
            },
            post_nat_dst_port: if has(Primitive::PostNatDstPort) {
                fields.post_nat_dst_port
            } else {
                0
            },
            nat_event: if has(Primitive::NatEvent) { fields.nat_event } else { 0 },
            fwd_status: if has(Primitive::FwdStatus) { fields.fwd_status } else { 0 },
            direction: if has(Primitive::SamplingDirection) { fields.direction } else { 0 },
            timestamp_start: if has(Primitive::TimestampStart) {
                fields.timestamp_start
            } else {
                0
            },
            timestamp_end: if has(Primitive::TimestampEnd) { fields.timestamp_end } else { 0 },
            timestamp_arrival: if has(Primitive::TimestampArrival) {
                fields.timestamp_arrival
            } else {
                0
            },
            timestamp_export: if has(Primitive::TimestampExport) {
                fields.timestamp_export
            } else {
                0
            },
            export_proto_version: if has(Primitive::ExportProtoVersion) {
                fields.export_proto_version
            } else {
                0
            },
            export_proto_seqno: if has(Primitive::ExportProtoSeqno) {
                fields.export_proto_seqno
            } else {
                0
            },
            export_proto_sysid: if has(Primitive::ExportProtoSysid) {
                fields.export_proto_sysid
            } else {
                0
            },
            class: if has(Primitive::Class) { fields.class } else { 0 },
            mpls_vpn_rd: if has(Primitive::MplsVpnRd) { fields.mpls_vpn_rd } else { 0 },
            mpls_pw_id: if has(Primitive::MplsPwId) { fields.mpls_pw_id } else { 0 },
            // No pmacct primitive prints the IP next hop: never part of a key.
            nexthop: zero_ip,
            // Custom primitives are a plugin's own selection: it sets the projection.
            custom: 0,
            src_country: if has(Primitive::SrcHostCountry) { fields.src_country } else { [0; 2] },
            dst_country: if has(Primitive::DstHostCountry) { fields.dst_country } else { [0; 2] },
            src_pocode: if has(Primitive::SrcHostPocode) { fields.src_pocode } else { 0 },
            dst_pocode: if has(Primitive::DstHostPocode) { fields.dst_pocode } else { 0 },
            src_lat: if has(Primitive::SrcHostCoords) { fields.src_lat } else { 0 },
            src_lon: if has(Primitive::SrcHostCoords) { fields.src_lon } else { 0 },
            dst_lat: if has(Primitive::DstHostCoords) { fields.dst_lat } else { 0 },
            dst_lon: if has(Primitive::DstHostCoords) { fields.dst_lon } else { 0 },
            tunnel_src_mac: if has(Primitive::TunnelSrcMac) {
                fields.tunnel_src_mac
            } else {
                [0; 6]
            },
            tunnel_dst_mac: if has(Primitive::TunnelDstMac) {
                fields.tunnel_dst_mac
            } else {
                [0; 6]
            },
            tunnel_src_ip: if has(Primitive::TunnelSrcHost) {
                fields.tunnel_src_ip
            } else {
                zero_ip
            },
            tunnel_dst_ip: if has(Primitive::TunnelDstHost) {
                fields.tunnel_dst_ip
            } else {
                zero_ip
            },
            tunnel_proto: if has(Primitive::TunnelProto) { fields.tunnel_proto } else { 0 },
            tunnel_tos: if has(Primitive::TunnelTos) { fields.tunnel_tos } else { 0 },
            tunnel_src_port: if has(Primitive::TunnelSrcPort) { fields.tunnel_src_port } else { 0 },
            tunnel_dst_port: if has(Primitive::TunnelDstPort) { fields.tunnel_dst_port } else { 0 },
            vni: if has(Primitive::Vxlan) { fields.vni } else { 0 },
        }
    }
}

impl FromIterator<Primitive> for PrimitiveSet {
    fn from_iter<I: IntoIterator<Item = Primitive>>(iter: I) -> Self {
        let mut s = PrimitiveSet::EMPTY;
        for p in iter {
            s.insert(p);
        }
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_and_order() {
        let s = PrimitiveSet::parse("proto, dst_host,src_host , SRC_PORT").unwrap();
        let names: Vec<_> = s.iter().map(Primitive::name).collect();
        assert_eq!(names, ["src_host", "dst_host", "src_port", "proto"]);
        assert_eq!(PrimitiveSet::parse("src_host, bogus"), Err(UnknownPrimitive("bogus".into())));
    }

    #[test]
    fn mask_zeroes_unselected() {
        let f = FlowFields {
            src_ip: "10.0.0.1".parse().unwrap(),
            dst_ip: "10.0.0.2".parse().unwrap(),
            src_port: 1234,
            dst_port: 80,
            proto: 6,
            vlan: 7,
            ..Default::default()
        };
        let k = PrimitiveSet::parse("src_host,dst_port").unwrap().mask(&f);
        assert_eq!(k.src_ip, f.src_ip);
        assert_eq!(k.dst_port, 80);
        assert_eq!(k.dst_ip, IpAddr::V4(Ipv4Addr::UNSPECIFIED));
        assert_eq!((k.src_port, k.proto, k.vlan), (0, 0, 0));
    }
}
