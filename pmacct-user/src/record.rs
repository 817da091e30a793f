//! The one flat record every decoder fills and every plugin aggregates.

use std::net::{IpAddr, Ipv4Addr};

/// pmacct's `RD_TYPE_VRFID`: a route distinguisher standing for a bare VRF id.
pub const RD_TYPE_VRFID: u16 = 0x1000;

/// A route distinguisher from its 8 wire bytes (type, then value), as [`FlowFields::mpls_vpn_rd`]
/// holds it.
pub fn rd_from_wire(b: [u8; 8]) -> u64 {
    u64::from_be_bytes(b)
}

/// Reads a route distinguisher as [`write_rd`] prints it (`0:65000:1`, `1:192.0.2.1:7`,
/// `2:4200000000:7`, `vrfid:12`).
pub fn parse_rd(s: &str) -> Option<u64> {
    let mut b = [0u8; 8];
    if let Some(id) = s.strip_prefix("vrfid:") {
        b[..2].copy_from_slice(&RD_TYPE_VRFID.to_be_bytes());
        b[4..].copy_from_slice(&id.parse::<u32>().ok()?.to_be_bytes());
        return Some(u64::from_be_bytes(b));
    }
    let mut it = s.splitn(3, ':');
    let (ty, admin, val) = (it.next()?, it.next()?, it.next()?);
    match ty {
        "0" => {
            b[2..4].copy_from_slice(&admin.parse::<u16>().ok()?.to_be_bytes());
            b[4..].copy_from_slice(&val.parse::<u32>().ok()?.to_be_bytes());
        }
        "1" => {
            b[2..6].copy_from_slice(&admin.parse::<Ipv4Addr>().ok()?.octets());
            b[6..].copy_from_slice(&val.parse::<u16>().ok()?.to_be_bytes());
        }
        "2" => {
            b[2..6].copy_from_slice(&admin.parse::<u32>().ok()?.to_be_bytes());
            b[6..].copy_from_slice(&val.parse::<u16>().ok()?.to_be_bytes());
        }
        _ => return None,
    }
    b[1] = ty.parse().ok()?;
    Some(u64::from_be_bytes(b))
}

/// Appends a route distinguisher as pmacct prints it (`bgp_rd2str`): `0:<as>:<value>`,
/// `1:<ip>:<value>`, `2:<as4>:<value>`, `vrfid:<id>`; `unknown` for other types. The top three
/// bits of the type are pmacct's origin flags and do not print.
pub fn write_rd(out: &mut String, rd: u64) {
    use std::fmt::Write;
    let b = rd.to_be_bytes();
    let ty = u16::from_be_bytes([b[0], b[1]]) & 0x1fff;
    let u16_at = |i: usize| u16::from_be_bytes([b[i], b[i + 1]]);
    let u32_at = |i: usize| u32::from_be_bytes([b[i], b[i + 1], b[i + 2], b[i + 3]]);
    let _ = match ty {
        0 => write!(out, "0:{}:{}", u16_at(2), u32_at(4)),
        1 => write!(out, "1:{}:{}", Ipv4Addr::new(b[2], b[3], b[4], b[5]), u16_at(6)),
        2 => write!(out, "2:{}:{}", u32_at(2), u16_at(6)),
        RD_TYPE_VRFID => write!(out, "vrfid:{}", u32_at(4)),
        _ => write!(out, "unknown"),
    };
}

/// Every field that can be part of an aggregation key. Unset fields keep their zero value, which
/// is also what pmacct prints for a primitive the data did not carry (`0.0.0.0`, `0`,
/// `00:00:00:00:00:00`).
///
/// A plugin's key is this struct with the fields outside its aggregate zeroed
/// ([`crate::aggregate::PrimitiveSet::mask`]), so it stays fixed-size and hashable.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FlowFields {
    pub src_mac: [u8; 6],
    pub dst_mac: [u8; 6],
    /// 802.1Q VLAN id (the outer tag for QinQ, as pmacct does).
    pub vlan: u16,
    /// 802.1p priority of that tag.
    pub cos: u8,
    /// Ethertype of the L3 payload.
    pub etype: u16,
    pub src_ip: IpAddr,
    pub dst_ip: IpAddr,
    /// Source network (pmacct `src_net`): `src_ip` masked by the mask the plugin's
    /// `nfacctd_net` method chose; filled per plugin, zero in decoded records.
    pub src_net: IpAddr,
    /// Destination network (pmacct `dst_net`).
    pub dst_net: IpAddr,
    pub src_mask: u8,
    pub dst_mask: u8,
    pub src_port: u16,
    pub dst_port: u16,
    /// IP protocol number.
    pub proto: u8,
    pub tos: u8,
    pub in_iface: u32,
    pub out_iface: u32,
    pub src_as: u32,
    pub dst_as: u32,
    /// Exporter / agent address (pmacct `peer_src_ip`).
    pub peer_src_ip: IpAddr,
    /// BGP next hop (pmacct `peer_dst_ip`).
    pub peer_dst_ip: IpAddr,
    pub sampling_rate: u32,
    pub tag: u64,
    pub tag2: u64,
    /// `set_label` result as an id of [`crate::enrich::labels`] (0: no label).
    pub label: u32,
    /// Source peer ASN (pmacct `peer_src_as`).
    pub peer_src_as: u32,
    /// Destination peer ASN (pmacct `peer_dst_as`).
    pub peer_dst_as: u32,
    /// BGP local preference (pmacct `local_pref`).
    pub local_pref: u32,
    /// BGP multi-exit discriminator (pmacct `med`).
    pub med: u32,
    /// Destination AS path (pmacct `as_path`), an id of [`crate::enrich::labels`]: ASNs
    /// separated by spaces, printed with `_` as pmacct does. 0: none.
    pub as_path: u32,
    /// Destination standard communities (`std_comm`), interned like `as_path`.
    pub std_comm: u32,
    /// Destination extended communities (`ext_comm`), interned.
    pub ext_comm: u32,
    /// Destination large communities (`lrg_comm`), interned.
    pub lrg_comm: u32,
    /// Source AS path (`src_as_path`, from the RIB's route to the source), interned.
    pub src_as_path: u32,
    /// Source standard communities (`src_std_comm`), interned.
    pub src_std_comm: u32,
    /// Source extended communities (`src_ext_comm`), interned.
    pub src_ext_comm: u32,
    /// Source large communities (`src_lrg_comm`), interned.
    pub src_lrg_comm: u32,
    /// Local preference of the route to the source (`src_local_pref`).
    pub src_local_pref: u32,
    /// MED of the route to the source (`src_med`).
    pub src_med: u32,
    /// RPKI state of the route to the source (`src_roa`, [`crate::routing::roa`]).
    pub src_roa: u8,
    /// RPKI state of the route to the destination (`dst_roa`).
    pub dst_roa: u8,
    /// Output 802.1Q VLAN id (NetFlow/IPFIX 59, 254; pmacct 1.7.9 `out_vlan`).
    pub out_vlan: u16,
    /// Top MPLS label (label value only, 20 bits, as pmacct prints it).
    pub mpls_label_top: u32,
    /// Bottom MPLS label.
    pub mpls_label_bottom: u32,
    /// Number of labels in the stack.
    pub mpls_stack_depth: u8,
    /// Source address after NAT translation.
    pub post_nat_src_ip: IpAddr,
    /// Destination address after NAT translation.
    pub post_nat_dst_ip: IpAddr,
    /// Source port after NAT translation.
    pub post_nat_src_port: u16,
    /// Destination port after NAT translation.
    pub post_nat_dst_port: u16,
    /// NAT event id (IPFIX 230 / NSEL 40005 as pmacct maps it).
    pub nat_event: u8,
    /// Forwarding status (IPFIX 89; pmacct 1.7.9 `fwd_status`).
    pub fwd_status: u8,
    /// Flow direction as pmacct's `sampling_direction`: 0 = unknown (printed `u`),
    /// 1 = ingress (`i`, wire value 0), 2 = egress (`e`, wire value 1).
    pub direction: u8,
    /// Flow start, Unix µs (pmacct `timestamp_start`).
    pub timestamp_start: u64,
    /// Flow end, Unix µs (pmacct `timestamp_end`).
    pub timestamp_end: u64,
    /// Arrival at the collector, Unix µs (pmacct `timestamp_arrival`).
    pub timestamp_arrival: u64,
    /// Export time in the NetFlow/IPFIX header, Unix µs (whole seconds; pmacct
    /// `timestamp_export`); 0 for sFlow and packets.
    pub timestamp_export: u64,
    /// Export protocol version: 5, 9, 10 (IPFIX), 5 for sFlow v5.
    pub export_proto_version: u16,
    /// Export protocol sequence number of the datagram.
    pub export_proto_seqno: u32,
    /// Export protocol system id: v5 engine, v9 source id, IPFIX observation domain, sFlow
    /// sub-agent id.
    pub export_proto_sysid: u32,
    /// IP next hop (NetFlow 15/62), not the BGP one; no pmacct primitive prints it.
    pub nexthop: IpAddr,
    /// Application name (NetFlow v9/IPFIX applicationId resolved through the exporter's
    /// options data, pmacct's `class`), interned through [`crate::enrich::labels`]; 0: unknown.
    pub class: u32,
    /// MPLS VPN route distinguisher as pmacct keeps it (`rd_t`): type in the top 16 bits
    /// (0, 1, 2, or [`crate::record::RD_TYPE_VRFID`] for a bare VRF id), then the 6 value bytes
    /// in wire order; 0: none.
    pub mpls_vpn_rd: u64,
    /// MPLS pseudowire id (IPFIX 249).
    pub mpls_pw_id: u32,
    /// The `aggregate_primitives` values of the record, interned
    /// ([`crate::aggregate::custom`]); 0: none.
    pub custom: u32,
    /// `src_host_country`: the `geoipv2_file` country ISO code of `src_ip`, ASCII, zero-padded
    /// (all zero: none); filled per plugin ([`crate::enrich::geoip`]).
    pub src_country: [u8; 2],
    /// `dst_host_country`.
    pub dst_country: [u8; 2],
    /// `src_host_pocode`: the postal code, an id of [`crate::enrich::labels`] (0: none).
    pub src_pocode: u32,
    /// `dst_host_pocode`.
    pub dst_pocode: u32,
    /// `src_host_coords`: latitude and longitude as `f64::to_bits` (so keys hash and compare
    /// bit for bit, as pmacct compares its doubles); 0 is 0.0, pmacct's "none".
    pub src_lat: u64,
    pub src_lon: u64,
    /// `dst_host_coords`.
    pub dst_lat: u64,
    pub dst_lon: u64,
    // The tunnelled (inner) packet's headers, pmacct's `tunnel_*` primitives
    // (`pkt_tunnel_primitives`): pmacctd and sfacctd fill them from the frame inside a VXLAN
    // (UDP port 4789) payload, sfacctd also from an IP-in-IP payload. They stay empty for a
    // packet that is not tunnelled, for NetFlow/IPFIX (which only carry `vxlan`), and on the XDP
    // path: its kernel parser does not look inside tunnels, so a plugin fed by XDP that
    // aggregates on a tunnel primitive sees it unset.
    /// Inner source MAC (`tunnel_src_mac`).
    pub tunnel_src_mac: [u8; 6],
    /// Inner destination MAC (`tunnel_dst_mac`).
    pub tunnel_dst_mac: [u8; 6],
    /// Inner source address (`tunnel_src_host`); `0.0.0.0` stands for pmacct's "no address"
    /// (family 0, printed empty).
    pub tunnel_src_ip: IpAddr,
    /// Inner destination address (`tunnel_dst_host`), likewise.
    pub tunnel_dst_ip: IpAddr,
    /// Inner IP protocol (`tunnel_proto`).
    pub tunnel_proto: u8,
    /// Inner ToS / traffic class (`tunnel_tos`).
    pub tunnel_tos: u8,
    /// Inner TCP/UDP source port (`tunnel_src_port`).
    pub tunnel_src_port: u16,
    /// Inner TCP/UDP destination port (`tunnel_dst_port`).
    pub tunnel_dst_port: u16,
    /// VXLAN network identifier, 24 bits (`vxlan`, pmacct's `tunnel_id`).
    pub vni: u32,
}

impl Default for FlowFields {
    fn default() -> Self {
        let zero = IpAddr::V4(Ipv4Addr::UNSPECIFIED);
        Self {
            src_mac: [0; 6],
            dst_mac: [0; 6],
            vlan: 0,
            cos: 0,
            etype: 0,
            src_ip: zero,
            dst_ip: zero,
            src_net: zero,
            dst_net: zero,
            src_mask: 0,
            dst_mask: 0,
            src_port: 0,
            dst_port: 0,
            proto: 0,
            tos: 0,
            in_iface: 0,
            out_iface: 0,
            src_as: 0,
            dst_as: 0,
            peer_src_ip: zero,
            peer_dst_ip: zero,
            sampling_rate: 0,
            tag: 0,
            tag2: 0,
            label: 0,
            peer_src_as: 0,
            peer_dst_as: 0,
            local_pref: 0,
            med: 0,
            as_path: 0,
            std_comm: 0,
            ext_comm: 0,
            lrg_comm: 0,
            src_as_path: 0,
            src_std_comm: 0,
            src_ext_comm: 0,
            src_lrg_comm: 0,
            src_local_pref: 0,
            src_med: 0,
            src_roa: 0,
            dst_roa: 0,
            out_vlan: 0,
            mpls_label_top: 0,
            mpls_label_bottom: 0,
            mpls_stack_depth: 0,
            post_nat_src_ip: zero,
            post_nat_dst_ip: zero,
            post_nat_src_port: 0,
            post_nat_dst_port: 0,
            nat_event: 0,
            fwd_status: 0,
            direction: 0,
            timestamp_start: 0,
            timestamp_end: 0,
            timestamp_arrival: 0,
            timestamp_export: 0,
            export_proto_version: 0,
            export_proto_seqno: 0,
            export_proto_sysid: 0,
            nexthop: zero,
            class: 0,
            mpls_vpn_rd: 0,
            mpls_pw_id: 0,
            custom: 0,
            src_country: [0; 2],
            dst_country: [0; 2],
            src_pocode: 0,
            dst_pocode: 0,
            src_lat: 0,
            src_lon: 0,
            dst_lat: 0,
            dst_lon: 0,
            tunnel_src_mac: [0; 6],
            tunnel_dst_mac: [0; 6],
            tunnel_src_ip: zero,
            tunnel_dst_ip: zero,
            tunnel_proto: 0,
            tunnel_tos: 0,
            tunnel_src_port: 0,
            tunnel_dst_port: 0,
            vni: 0,
        }
    }
}

/// Counters and non-key values that accumulate per aggregate.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Counters {
    pub packets: u64,
    pub bytes: u64,
    pub flows: u64,
    /// OR of TCP flags (pmacct's `tcpflags` primitive is accumulated, not keyed).
    pub tcp_flags: u8,
    /// Unix time in microseconds of the first packet/flow start; 0 = unknown.
    pub first_us: u64,
    /// Unix time in microseconds of the last packet/flow end; 0 = unknown.
    pub last_us: u64,
}

impl Counters {
    /// Adds `other` into `self`: sums counters, ORs flags, widens the time span.
    pub fn merge(&mut self, other: &Counters) {
        self.packets += other.packets;
        self.bytes += other.bytes;
        self.flows += other.flows;
        self.tcp_flags |= other.tcp_flags;
        if other.first_us != 0 && (self.first_us == 0 || other.first_us < self.first_us) {
            self.first_us = other.first_us;
        }
        if other.last_us > self.last_us {
            self.last_us = other.last_us;
        }
    }

    /// Multiplies packets, bytes and flows by a sampling rate (pmacct's renormalisation).
    pub fn renormalize(&mut self, rate: u32) {
        if rate > 1 {
            let r = u64::from(rate);
            // Packets and bytes only, as pmacct's renormalize handlers (flows stay counted).
            self.packets = self.packets.saturating_mul(r);
            self.bytes = self.bytes.saturating_mul(r);
        }
    }
}

/// One decoded flow (or packet, or pre-aggregated XDP entry) on its way to the plugins.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct FlowRecord {
    pub fields: FlowFields,
    pub counters: Counters,
}

/// An address as 128 bits plus its family (so `10.0.0.1` and `::ffff:10.0.0.1` differ, as `Eq`
/// says they do).
fn ip_word(ip: &IpAddr) -> (u128, u64) {
    match ip {
        IpAddr::V4(a) => (u128::from(a.to_bits()), 4),
        IpAddr::V6(a) => (a.to_bits(), 6),
    }
}

fn mac_word(mac: &[u8; 6]) -> u64 {
    let [a, b, c, d, e, f] = *mac;
    u64::from_be_bytes([0, 0, a, b, c, d, e, f])
}

/// Hashes the fields packed into a few machine words: aggregation hashes every record's key, and
/// a field-by-field derive made hashing the largest single cost of the aggregation path.
/// The destructuring is exhaustive, so a new field cannot be forgotten here.
impl std::hash::Hash for FlowFields {
    fn hash<H: std::hash::Hasher>(&self, h: &mut H) {
        let FlowFields {
            src_mac,
            dst_mac,
            vlan,
            cos,
            etype,
            src_ip,
            dst_ip,
            src_net,
            dst_net,
            src_mask,
            dst_mask,
            src_port,
            dst_port,
            proto,
            tos,
            in_iface,
            out_iface,
            src_as,
            dst_as,
            peer_src_ip,
            peer_dst_ip,
            sampling_rate,
            tag,
            tag2,
            label,
            peer_src_as,
            peer_dst_as,
            local_pref,
            med,
            as_path,
            std_comm,
            ext_comm,
            lrg_comm,
            src_as_path,
            src_std_comm,
            src_ext_comm,
            src_lrg_comm,
            src_local_pref,
            src_med,
            src_roa,
            dst_roa,
            out_vlan,
            mpls_label_top,
            mpls_label_bottom,
            mpls_stack_depth,
            post_nat_src_ip,
            post_nat_dst_ip,
            post_nat_src_port,
            post_nat_dst_port,
            nat_event,
            fwd_status,
            direction,
            timestamp_start,
            timestamp_end,
            timestamp_arrival,
            timestamp_export,
            export_proto_version,
            export_proto_seqno,
            export_proto_sysid,
            nexthop,
            class,
            mpls_vpn_rd,
            mpls_pw_id,
            custom,
            src_country,
            dst_country,
            src_pocode,
            dst_pocode,
            src_lat,
            src_lon,
            dst_lat,
            dst_lon,
            tunnel_src_mac,
            tunnel_dst_mac,
            tunnel_src_ip,
            tunnel_dst_ip,
            tunnel_proto,
            tunnel_tos,
            tunnel_src_port,
            tunnel_dst_port,
            vni,
        } = self;
        // The fields most aggregates use get a word each; the rest are folded (xor of rotated
        // words: cheap ALU work instead of a multiply per field). Equality is still decided by
        // `Eq`, so folding only affects how well keys spread.
        let (s, sf) = ip_word(src_ip);
        let (d, df) = ip_word(dst_ip);
        h.write_u128(s);
        h.write_u128(d);
        h.write_u64(
            u64::from(*src_port)
                | u64::from(*dst_port) << 16
                | u64::from(*proto) << 32
                | u64::from(*tos) << 40
                | u64::from(*src_mask) << 48
                | u64::from(*dst_mask) << 56,
        );
        h.write_u64(mac_word(src_mac) ^ (mac_word(dst_mac) << 11) ^ sf << 56 ^ df << 60);
        let mut fold = u64::from(*vlan)
            | u64::from(*etype) << 16
            | u64::from(*out_vlan) << 32
            | u64::from(*cos) << 48
            | u64::from(*mpls_stack_depth) << 56
                ^ (u64::from(*src_roa) | u64::from(*dst_roa) << 4) << 40;
        let mut mix = |w: u64, r: u32| fold ^= w.rotate_left(r);
        mix(u64::from(*in_iface) | u64::from(*out_iface) << 32, 7);
        mix(u64::from(*src_as) | u64::from(*dst_as) << 32, 13);
        mix(u64::from(*peer_src_as) | u64::from(*peer_dst_as) << 32, 19);
        mix(u64::from(*local_pref) | u64::from(*med) << 32, 23);
        mix(u64::from(*as_path) | u64::from(*std_comm) << 32, 25);
        mix(u64::from(*ext_comm) | u64::from(*lrg_comm) << 32, 27);
        mix(u64::from(*src_as_path) | u64::from(*src_std_comm) << 32, 33);
        mix(u64::from(*src_ext_comm) | u64::from(*src_lrg_comm) << 32, 35);
        mix(u64::from(*src_local_pref) | u64::from(*src_med) << 32, 39);
        mix(u64::from(*sampling_rate) | u64::from(*mpls_label_top) << 32, 29);
        mix(
            u64::from(*mpls_label_bottom)
                | u64::from(*nat_event) << 32
                | u64::from(*fwd_status) << 40
                | u64::from(*direction) << 48,
            31,
        );
        mix(*tag, 37);
        mix(*tag2 ^ u64::from(*label).rotate_left(32), 41);
        mix(u64::from(*post_nat_src_port) | u64::from(*post_nat_dst_port) << 16, 43);
        mix(*timestamp_start, 47);
        mix(*timestamp_end, 53);
        mix(*timestamp_arrival ^ timestamp_export.rotate_left(29), 59);
        mix(u64::from(*export_proto_version) | u64::from(*export_proto_seqno) << 16, 3);
        mix(u64::from(*export_proto_sysid) | u64::from(*custom) << 32, 5);
        mix(*mpls_vpn_rd ^ (u64::from(*class) | u64::from(*mpls_pw_id) << 32).rotate_left(21), 21);
        mix(
            u64::from(u16::from_le_bytes(*src_country))
                | u64::from(u16::from_le_bytes(*dst_country)) << 16
                | u64::from(*src_pocode ^ dst_pocode.rotate_left(16)) << 32,
            11,
        );
        mix(*src_lat ^ src_lon.rotate_left(32), 15);
        mix(*dst_lat ^ dst_lon.rotate_left(32), 17);
        mix(mac_word(tunnel_src_mac) ^ mac_word(tunnel_dst_mac).rotate_left(24), 45);
        mix(
            u64::from(*tunnel_proto)
                | u64::from(*tunnel_tos) << 8
                | u64::from(*tunnel_src_port) << 16
                | u64::from(*tunnel_dst_port) << 32
                | u64::from(*vni) << 40,
            51,
        );
        for (i, ip) in [
            peer_src_ip,
            peer_dst_ip,
            post_nat_src_ip,
            post_nat_dst_ip,
            nexthop,
            src_net,
            dst_net,
            tunnel_src_ip,
            tunnel_dst_ip,
        ]
        .into_iter()
        .enumerate()
        {
            let (w, f) = ip_word(ip);
            let r = 9 + 10 * i as u32;
            mix((w as u64) ^ ((w >> 64) as u64).rotate_left(17) ^ f, r);
        }
        h.write_u64(fold);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn route_distinguishers_print_as_pmacct_and_read_back() {
        let show = |rd: u64| {
            let mut s = String::new();
            write_rd(&mut s, rd);
            s
        };
        for (wire, text) in [
            ([0, 0, 0xfd, 0xe8, 0, 0, 0, 100], "0:65000:100"),
            ([0, 1, 192, 0, 2, 1, 0, 7], "1:192.0.2.1:7"),
            ([0, 2, 0xfa, 0x56, 0xea, 0, 0, 9], "2:4200000000:9"),
            ([0x10, 0, 0, 0, 0, 0, 0, 12], "vrfid:12"),
            ([0, 0, 0, 0, 0, 0, 0, 0], "0:0:0"),
        ] {
            let rd = rd_from_wire(wire);
            assert_eq!(show(rd), text);
            assert_eq!(parse_rd(text), Some(rd), "{text}");
        }
        // pmacct's origin flags (top three bits of the type) do not print.
        assert_eq!(show(rd_from_wire([0x20, 0, 0, 1, 0, 0, 0, 2])), "0:1:2");
        assert_eq!(show(rd_from_wire([0, 3, 0, 0, 0, 0, 0, 0])), "unknown");
        assert_eq!(parse_rd("3:1:1"), None);
        assert_eq!(parse_rd("0:70000:1"), None);
    }

    #[test]
    fn merge_sums_and_widens() {
        let mut a = Counters {
            packets: 1,
            bytes: 100,
            flows: 1,
            tcp_flags: 0x02,
            first_us: 50,
            last_us: 60,
        };
        let b = Counters {
            packets: 2,
            bytes: 40,
            flows: 0,
            tcp_flags: 0x10,
            first_us: 40,
            last_us: 55,
        };
        a.merge(&b);
        assert_eq!(
            a,
            Counters {
                packets: 3,
                bytes: 140,
                flows: 1,
                tcp_flags: 0x12,
                first_us: 40,
                last_us: 60
            }
        );
        let mut z = Counters::default();
        z.merge(&b);
        assert_eq!(z.first_us, 40);
    }

    #[test]
    fn renormalize_scales_counters() {
        let mut c = Counters { packets: 3, bytes: 300, flows: 1, ..Default::default() };
        c.renormalize(10);
        assert_eq!((c.packets, c.bytes, c.flows), (30, 3000, 1));
        c.renormalize(1);
        assert_eq!(c.packets, 30);
    }
}
