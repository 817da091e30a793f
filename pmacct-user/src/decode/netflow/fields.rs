//! The elements pmacct maps (src/nfv9_template.h ids, src/pkt_handlers.c `NF_*_handler`s) and
//! how one data record becomes a [`FlowRecord`], with pmacct's precedence between elements.

use std::net::IpAddr;

use super::template::Template;
use super::wire::{ipv4, ipv6, mac, uint};
use crate::record::{Counters, FlowFields, FlowRecord};

macro_rules! slots {
    ($($name:ident = $id:literal,)*) => {
        /// A well-known information element the decoder reads.
        #[allow(non_camel_case_types, clippy::upper_case_acronyms)]
        #[derive(Clone, Copy, Debug, PartialEq, Eq)]
        #[repr(u8)]
        pub enum Slot { $($name),* }

        /// How many [`Slot`]s there are.
        pub const NSLOTS: usize = [$($id),*].len();

        /// The slot of an IANA element id (enterprise 0), if the decoder uses it.
        pub const fn slot_of(id: u16) -> Option<Slot> {
            match id { $($id => Some(Slot::$name),)* _ => None }
        }
    };
}

slots! {
    IN_BYTES = 1, IN_PKTS = 2, FLOWS = 3, PROTO = 4, TOS = 5, TCP_FLAGS = 6, L4_SRC_PORT = 7,
    IPV4_SRC = 8, SRC_MASK = 9, INPUT_SNMP = 10, L4_DST_PORT = 11, IPV4_DST = 12, DST_MASK = 13,
    OUTPUT_SNMP = 14, IPV4_NEXT_HOP = 15, SRC_AS = 16, DST_AS = 17, BGP_IPV4_NEXT_HOP = 18,
    LAST_SWITCHED = 21, FIRST_SWITCHED = 22, OUT_BYTES = 23, OUT_PKTS = 24, IPV6_SRC = 27,
    IPV6_DST = 28, IPV6_SRC_MASK = 29, IPV6_DST_MASK = 30, SAMPLING_INTERVAL = 34,
    SAMPLING_ALGORITHM = 35, IPV4_SRC_PREFIX = 44, IPV4_DST_PREFIX = 45,
    MPLS_TOP_LABEL_ADDR = 47, SAMPLER_ID = 48, SAMPLER_MODE = 49, SAMPLER_INTERVAL = 50,
    IN_SRC_MAC = 56, OUT_DST_MAC = 57, SRC_VLAN = 58, DST_VLAN = 59, IP_VERSION = 60,
    DIRECTION = 61, IPV6_NEXT_HOP = 62, BGP_IPV6_NEXT_HOP = 63, MPLS_1 = 70, MPLS_2 = 71,
    MPLS_3 = 72, MPLS_4 = 73, MPLS_5 = 74, MPLS_6 = 75, MPLS_7 = 76, MPLS_8 = 77, MPLS_9 = 78,
    MPLS_10 = 79, IN_DST_MAC = 80, OUT_SRC_MAC = 81, FLOW_BYTES = 85, FLOW_PKTS = 86,
    FWD_STATUS = 89, MPLS_VPN_RD = 90, APPLICATION_ID = 95, APPLICATION_NAME = 96, MPLS_TOP_LABEL_IPV6 = 140, START_SEC = 150, END_SEC = 151,
    START_MSEC = 152, END_MSEC = 153, START_USEC = 154, END_USEC = 155, START_NSEC = 156,
    END_NSEC = 157, START_DELTA_USEC = 158, END_DELTA_USEC = 159, SYS_INIT_MSEC = 160,
    UDP_SRC_PORT = 180, UDP_DST_PORT = 181, TCP_SRC_PORT = 182, TCP_DST_PORT = 183,
    POST_NAT_IPV4_SRC = 225, POST_NAT_IPV4_DST = 226, POST_NAPT_SRC_PORT = 227,
    POST_NAPT_DST_PORT = 228, NAT_EVENT = 230, INGRESS_VRFID = 234, EGRESS_VRFID = 235, DOT1Q_VLAN = 243, PSEUDOWIREID = 249, IN_PHYSINT = 252,
    OUT_PHYSINT = 253, POST_DOT1Q_VLAN = 254, POST_NAT_IPV6_SRC = 281, POST_NAT_IPV6_DST = 282,
    SELECTOR_ID = 302, SAMPLING_PKT_INTERVAL = 305, SAMPLING_PKT_SPACE = 306,
    SAMPLING_SIZE = 309, SAMPLING_POPULATION = 310, OBSERVATION_MSEC = 323,
    LAYER2_SEGMENT_ID = 351, L2_OCTETS = 352,
    NSEL_XLATE_SRC = 40001, NSEL_XLATE_DST = 40002, NSEL_XLATE_SRC_PORT = 40003,
    NSEL_XLATE_DST_PORT = 40004, NSEL_FW_EVENT = 40005,
}

/// The export header values records need.
#[derive(Clone, Copy, Debug, Default)]
pub struct HeaderCtx {
    pub version: u16,
    /// v9 only: sysUptime in ms.
    pub sys_uptime_ms: u32,
    pub unix_secs: u32,
    pub sequence: u32,
    /// v9 source id / IPFIX observation domain.
    pub domain: u32,
}

/// One data record seen through its template.
pub struct View<'a> {
    pub data: &'a [u8],
    pub tpl: &'a Template,
    pub locs: &'a [(u32, u16)],
}

impl<'a> View<'a> {
    /// The bytes of a well-known element, if the template has it.
    #[inline]
    pub fn get(&self, s: Slot) -> Option<&'a [u8]> {
        let i = *self.tpl.slots.get(s as usize)?;
        let (off, len) = *self.locs.get(usize::from(i))?;
        self.data.get(off as usize..off as usize + usize::from(len))
    }

    /// An element as an unsigned integer, when present with a length in `1..=8`.
    #[inline]
    pub fn uint(&self, s: Slot) -> Option<u64> {
        self.get(s).filter(|b| !b.is_empty() && b.len() <= 8).map(uint)
    }

    /// The first of `slots` present, as an unsigned integer.
    fn first_uint(&self, slots: &[Slot]) -> Option<u64> {
        slots.iter().find_map(|s| self.uint(*s))
    }

    fn first_mac(&self, slots: &[Slot]) -> [u8; 6] {
        slots.iter().find_map(|s| self.get(*s)).map(mac).unwrap_or_default()
    }

    /// pmacct's `NF_evaluate_flow_type` address family: explicit IP version, else whichever
    /// address family the template carries (IPv4 when both and the v4 source is non-zero).
    fn is_v6(&self) -> bool {
        match self.get(Slot::IP_VERSION).and_then(|b| b.first()) {
            Some(4) => return false,
            Some(6) => return true,
            _ => {}
        }
        let v4 = self.get(Slot::IPV4_SRC).or_else(|| self.get(Slot::IPV4_DST));
        let v6 = self.get(Slot::IPV6_SRC).is_some() || self.get(Slot::IPV6_DST).is_some();
        match v4 {
            Some(_) if v6 => self.get(Slot::IPV4_SRC).and_then(|b| b.first()) == Some(&0),
            Some(_) => false,
            None => v6,
        }
    }
}

fn addr(v: &View<'_>, v6: bool, s4: Slot, p4: Slot, s6: Slot) -> Option<IpAddr> {
    if v6 { v.get(s6).map(ipv6) } else { v.get(s4).or_else(|| v.get(p4)).map(ipv4) }
}

/// The first of `slots` present, as a port.
fn port(v: &View<'_>, slots: &[Slot]) -> u16 {
    slots.iter().find_map(|s| v.get(*s)).map_or(0, port_bytes)
}

/// A port as pmacct reads it: the first two bytes, big-endian.
#[inline]
pub(super) fn port_bytes(b: &[u8]) -> u16 {
    match b {
        [a, c, ..] => u16::from_be_bytes([*a, *c]),
        [a] => u16::from(*a) << 8,
        [] => 0,
    }
}

/// `(label, bottom-of-stack)` of a 3-byte MPLS label stack entry.
pub(super) fn label(b: &[u8]) -> Option<(u32, bool)> {
    match b {
        [a, c, d] => {
            Some(((u32::from(*a) << 12) | (u32::from(*c) << 4) | (u32::from(*d) >> 4), d & 1 == 1))
        }
        _ => None,
    }
}

const MPLS: [Slot; 10] = [
    Slot::MPLS_1,
    Slot::MPLS_2,
    Slot::MPLS_3,
    Slot::MPLS_4,
    Slot::MPLS_5,
    Slot::MPLS_6,
    Slot::MPLS_7,
    Slot::MPLS_8,
    Slot::MPLS_9,
    Slot::MPLS_10,
];

/// pmacct's `NF_mpls_label_*` and `NF_mpls_stack_depth` handlers (labels 1–9).
fn mpls(v: &View<'_>, f: &mut FlowFields) {
    f.mpls_label_top = v.get(Slot::MPLS_1).and_then(label).map_or(0, |l| l.0);
    let mut depth = 0u8;
    let mut last = 0;
    let mut bos = false;
    for s in &MPLS[..9] {
        if let Some((l, b)) = v.get(*s).and_then(label) {
            depth += 1;
            last = l;
            if b {
                bos = true;
                f.mpls_label_bottom = l;
                break;
            }
        }
    }
    if last != 0 || bos {
        f.mpls_stack_depth = depth;
    }
}

/// NTP 64-bit timestamp (dateTimeMicroseconds/Nanoseconds) to Unix µs.
pub(super) fn ntp_us(b: &[u8]) -> Option<u64> {
    let t = uint(b.get(..8)?);
    let secs = (t >> 32).checked_sub(2_208_988_800)?;
    let frac = ((t & 0xffff_ffff) * 1_000_000) >> 32;
    Some(secs * 1_000_000 + frac)
}

/// Flow start or end in Unix µs, with pmacct's element precedence
/// (`NF_timestamp_start_handler`): sysUptime-relative (v9: whole seconds, as pmacct), ms,
/// µs, s, delta µs; 0 when none.
#[allow(clippy::too_many_arguments)]
fn flow_time(
    v: &View<'_>,
    h: &HeaderCtx,
    rel: Slot,
    ms: Slot,
    us: Slot,
    ns: Slot,
    sec: Slot,
    delta: Slot,
) -> u64 {
    if let Some(t) = v.uint(rel) {
        if h.version == 9 {
            let ago = h.sys_uptime_ms.wrapping_sub(t as u32) / 1000;
            return u64::from(h.unix_secs.wrapping_sub(ago)) * 1_000_000;
        }
        if let Some(init) = v.uint(Slot::SYS_INIT_MSEC) {
            // Wraps like pmacct's u_int64 arithmetic (and never panics on hostile values).
            return (init / 1000).wrapping_add(t / 1000).wrapping_mul(1_000_000);
        }
    }
    if let Some(t) = v.uint(ms) {
        return t.saturating_mul(1000);
    }
    if let Some(t) = v.get(us).or_else(|| v.get(ns)).and_then(ntp_us) {
        return t;
    }
    if let Some(t) = v.uint(sec) {
        return t.saturating_mul(1_000_000);
    }
    if h.version == 10
        && let Some(d) = v.uint(delta)
    {
        return (u64::from(h.unix_secs) * 1_000_000).saturating_sub(d);
    }
    0
}

/// The sampling interval a record itself carries, or the sampler id it refers to.
pub enum RecordSampling {
    Interval(u32),
    SamplerId(u64),
    None,
}

/// pmacct's `NF_sampling_rate_handler` sources, in its order.
pub fn record_sampling(v: &View<'_>) -> RecordSampling {
    if let Some(id) = v.first_uint(&[Slot::SAMPLER_ID, Slot::SELECTOR_ID]) {
        return RecordSampling::SamplerId(id);
    }
    match v.first_uint(&[Slot::SAMPLER_INTERVAL, Slot::SAMPLING_INTERVAL]) {
        Some(i) => RecordSampling::Interval(i.min(u64::from(u32::MAX)) as u32),
        None => RecordSampling::None,
    }
}

/// Decodes one data record. `rate` is the sampling rate already resolved (0 = unknown).
pub fn record(
    v: &View<'_>,
    h: &HeaderCtx,
    exporter: IpAddr,
    arrival_us: u64,
    time_new: bool,
) -> FlowRecord {
    let v6 = v.is_v6();
    let zero = FlowFields::default();
    let proto = v.uint(Slot::PROTO).unwrap_or(0) as u8;
    let (start, end) = if time_new {
        (arrival_us, arrival_us)
    } else {
        use Slot::*;
        let s = flow_time(
            v,
            h,
            FIRST_SWITCHED,
            START_MSEC,
            START_USEC,
            START_NSEC,
            START_SEC,
            START_DELTA_USEC,
        );
        let e =
            flow_time(v, h, LAST_SWITCHED, END_MSEC, END_USEC, END_NSEC, END_SEC, END_DELTA_USEC);
        let hdr_us = u64::from(h.unix_secs) * 1_000_000;
        (if s == 0 { hdr_us } else { s }, e)
    };
    let direction = match v.get(Slot::DIRECTION) {
        Some([0]) => 1,
        Some([1]) => 2,
        _ => 0,
    };
    let mut f = FlowFields {
        src_mac: v.first_mac(&[Slot::IN_SRC_MAC, Slot::OUT_SRC_MAC]),
        dst_mac: v.first_mac(&[Slot::IN_DST_MAC, Slot::OUT_DST_MAC]),
        vlan: v.first_uint(&[Slot::SRC_VLAN, Slot::DOT1Q_VLAN]).unwrap_or(0) as u16,
        out_vlan: v.first_uint(&[Slot::DST_VLAN, Slot::POST_DOT1Q_VLAN]).unwrap_or(0) as u16,
        src_ip: addr(v, v6, Slot::IPV4_SRC, Slot::IPV4_SRC_PREFIX, Slot::IPV6_SRC)
            .unwrap_or(zero.src_ip),
        dst_ip: addr(v, v6, Slot::IPV4_DST, Slot::IPV4_DST_PREFIX, Slot::IPV6_DST)
            .unwrap_or(zero.dst_ip),
        src_mask: v.uint(if v6 { Slot::IPV6_SRC_MASK } else { Slot::SRC_MASK }).unwrap_or(0) as u8,
        dst_mask: v.uint(if v6 { Slot::IPV6_DST_MASK } else { Slot::DST_MASK }).unwrap_or(0) as u8,
        src_port: port(v, &[Slot::L4_SRC_PORT, Slot::UDP_SRC_PORT, Slot::TCP_SRC_PORT]),
        dst_port: port(v, &[Slot::L4_DST_PORT, Slot::UDP_DST_PORT, Slot::TCP_DST_PORT]),
        proto,
        tos: v.uint(Slot::TOS).unwrap_or(0) as u8,
        in_iface: v.first_uint(&[Slot::INPUT_SNMP, Slot::IN_PHYSINT]).unwrap_or(0) as u32,
        out_iface: v.first_uint(&[Slot::OUTPUT_SNMP, Slot::OUT_PHYSINT]).unwrap_or(0) as u32,
        src_as: v.uint(Slot::SRC_AS).unwrap_or(0) as u32,
        dst_as: v.uint(Slot::DST_AS).unwrap_or(0) as u32,
        peer_src_ip: exporter,
        peer_dst_ip: v
            .get(Slot::BGP_IPV4_NEXT_HOP)
            .or_else(|| v.get(Slot::MPLS_TOP_LABEL_ADDR))
            .map(ipv4)
            .or_else(|| {
                v.get(Slot::BGP_IPV6_NEXT_HOP)
                    .or_else(|| v.get(Slot::MPLS_TOP_LABEL_IPV6))
                    .map(ipv6)
            })
            .unwrap_or(zero.peer_dst_ip),
        nexthop: v
            .get(Slot::IPV4_NEXT_HOP)
            .map(ipv4)
            .or_else(|| v.get(Slot::IPV6_NEXT_HOP).map(ipv6))
            .unwrap_or(zero.nexthop),
        post_nat_src_ip: v
            .get(Slot::POST_NAT_IPV4_SRC)
            .or_else(|| v.get(Slot::NSEL_XLATE_SRC))
            .map(ipv4)
            .or_else(|| v.get(Slot::POST_NAT_IPV6_SRC).map(ipv6))
            .unwrap_or(zero.post_nat_src_ip),
        post_nat_dst_ip: v
            .get(Slot::POST_NAT_IPV4_DST)
            .or_else(|| v.get(Slot::NSEL_XLATE_DST))
            .map(ipv4)
            .or_else(|| v.get(Slot::POST_NAT_IPV6_DST).map(ipv6))
            .unwrap_or(zero.post_nat_dst_ip),
        post_nat_src_port: port(v, &[Slot::POST_NAPT_SRC_PORT, Slot::NSEL_XLATE_SRC_PORT]),
        post_nat_dst_port: port(v, &[Slot::POST_NAPT_DST_PORT, Slot::NSEL_XLATE_DST_PORT]),
        nat_event: [Slot::NAT_EVENT, Slot::NSEL_FW_EVENT]
            .iter()
            .find_map(|s| v.get(*s).and_then(|b| b.first().copied()))
            .unwrap_or(0),
        fwd_status: v.get(Slot::FWD_STATUS).and_then(|b| b.first().copied()).unwrap_or(0),
        direction,
        timestamp_start: start,
        timestamp_end: if end == 0 { u64::from(h.unix_secs) * 1_000_000 } else { end },
        timestamp_arrival: arrival_us,
        timestamp_export: u64::from(h.unix_secs) * 1_000_000,
        vni: v.get(Slot::LAYER2_SEGMENT_ID).map_or(0, vxlan_vni),
        export_proto_version: h.version,
        export_proto_seqno: h.sequence,
        export_proto_sysid: h.domain,
        ..zero
    };
    mpls(v, &mut f);
    let bytes = v.first_uint(&[Slot::IN_BYTES, Slot::FLOW_BYTES, Slot::OUT_BYTES, Slot::L2_OCTETS]);
    let packets = v.first_uint(&[Slot::IN_PKTS, Slot::FLOW_PKTS, Slot::OUT_PKTS]);
    let counters = Counters {
        packets: packets.unwrap_or(0),
        bytes: bytes.unwrap_or(0),
        flows: v.uint(Slot::FLOWS).filter(|n| *n != 0).unwrap_or(1),
        // pmacct reads tcpControlBits only when 1 byte long (NF_tcp_flags_handler).
        tcp_flags: match v.get(Slot::TCP_FLAGS) {
            Some([b]) => *b,
            _ => 0,
        },
        first_us: start,
        // pmacct's record time has no end when the template carries none (its header fallback
        // is for the start only): stitching then takes the current time, pro rating skips.
        last_us: end,
    };
    FlowRecord { fields: f, counters }
}

/// pmacct's `NF_vxlan_handler`: the VNI of a layer2SegmentId (351) of 8 bytes whose first
/// byte says VXLAN (`NF9_L2_SID_VXLAN`, 1); 0 otherwise (other segment types, other lengths).
///
/// The VNI is the low 24 bits (bytes 5..8, RFC 7133). pmacct 1.7.7 reads bytes 6..9 of its
/// 8-byte copy, one past the end: it prints `(byte6 << 16) | (byte7 << 8) | <a stack byte>`,
/// a value no collector can reproduce, so we read the field as the RFC lays it out.
pub fn vxlan_vni(b: &[u8]) -> u32 {
    match *b {
        [1, _, _, _, _, x, y, z] => u32::from_be_bytes([0, x, y, z]),
        _ => 0,
    }
}
