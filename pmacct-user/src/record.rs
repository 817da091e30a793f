//! The one flat record every decoder fills and every plugin aggregates.

use std::net::{IpAddr, Ipv4Addr};

/// Every field that can be part of an aggregation key. Unset fields keep their zero value, which
/// is also what pmacct prints for a primitive the data did not carry (`0.0.0.0`, `0`,
/// `00:00:00:00:00:00`).
///
/// A plugin's key is this struct with the fields outside its aggregate zeroed
/// ([`crate::aggregate::PrimitiveSet::mask`]), so it stays fixed-size and hashable.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
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
    /// Source peer ASN (pmacct `peer_src_as`).
    pub peer_src_as: u32,
    /// Destination peer ASN (pmacct `peer_dst_as`).
    pub peer_dst_as: u32,
    /// BGP local preference (pmacct `local_pref`).
    pub local_pref: u32,
    /// BGP multi-exit discriminator (pmacct `med`).
    pub med: u32,
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
    /// Export protocol version: 5, 9, 10 (IPFIX), 5 for sFlow v5.
    pub export_proto_version: u16,
    /// Export protocol sequence number of the datagram.
    pub export_proto_seqno: u32,
    /// Export protocol system id: v5 engine, v9 source id, IPFIX observation domain, sFlow
    /// sub-agent id.
    pub export_proto_sysid: u32,
    /// IP next hop (NetFlow 15/62), not the BGP one; no pmacct primitive prints it.
    pub nexthop: IpAddr,
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
            peer_src_as: 0,
            peer_dst_as: 0,
            local_pref: 0,
            med: 0,
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
            export_proto_version: 0,
            export_proto_seqno: 0,
            export_proto_sysid: 0,
            nexthop: zero,
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
            self.packets = self.packets.saturating_mul(r);
            self.bytes = self.bytes.saturating_mul(r);
            self.flows = self.flows.saturating_mul(r);
        }
    }
}

/// One decoded flow (or packet, or pre-aggregated XDP entry) on its way to the plugins.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct FlowRecord {
    pub fields: FlowFields,
    pub counters: Counters,
}

#[cfg(test)]
mod tests {
    use super::*;

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
        assert_eq!((c.packets, c.bytes, c.flows), (30, 3000, 10));
        c.renormalize(1);
        assert_eq!(c.packets, 30);
    }
}
