//! Compiled decoding of fixed-length data templates.
//!
//! When a data template whose fields all have fixed lengths is learnt, every element the decoder
//! reads is resolved once into an [`Op`]: its offset and length in the record and the
//! [`FlowRecord`] field it sets. pmacct's precedence between elements (which of several
//! elements wins, see [`super::fields::record`]) depends only on which elements the template
//! has and on their lengths, so it is decided here, once, and a record is then decoded by one
//! pass over a flat op list: no slot lookups, no allocation. The few choices that depend on the
//! data (address family, time sources, MPLS bottom-of-stack, sampler ids) keep their own
//! resolved locations.
//!
//! Variable-length templates and options templates keep the generic path in `fields.rs`; the
//! tests check that both paths produce the same records for random fixed templates.

use std::net::IpAddr;

use super::fields::{
    HeaderCtx, RecordSampling, Slot, label, ntp_us, port_bytes as port, vxlan_vni,
};
use super::template::Slots;
use super::wire::{ipv4, ipv6, mac, uint};
use crate::record::{FlowFields, FlowRecord};

/// Where an element sits in a record.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Loc {
    off: u16,
    len: u16,
}

/// The [`FlowRecord`] field an op sets (and how the element's bytes are read).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Set {
    SrcMac,
    DstMac,
    Vlan,
    OutVlan,
    SrcIp4,
    DstIp4,
    SrcIp6,
    DstIp6,
    SrcMask4,
    DstMask4,
    SrcMask6,
    DstMask6,
    SrcPort,
    DstPort,
    Proto,
    Tos,
    InIface,
    OutIface,
    SrcAs,
    DstAs,
    PeerDst4,
    PeerDst6,
    Nexthop4,
    Nexthop6,
    PostNatSrc4,
    PostNatSrc6,
    PostNatDst4,
    PostNatDst6,
    PostNatSrcPort,
    PostNatDstPort,
    NatEvent,
    FwdStatus,
    Vni,
    Direction,
    Bytes,
    Packets,
    Flows,
    TcpFlags,
}

/// One resolved element: read `loc`, store into `set`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Op {
    loc: Loc,
    set: Set,
}

/// The address family decision when `ipVersion` does not settle it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum V6Fallback {
    Const(bool),
    /// Both families present: IPv6 when the first byte of the IPv4 source is 0.
    V4SrcFirstZero(Loc),
}

/// The time sources of a flow start or end, in pmacct's precedence.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
struct TimeRule {
    rel: Option<Loc>,
    ms: Option<Loc>,
    /// An NTP timestamp (µs or ns element) at least 8 bytes long.
    ntp: Option<Loc>,
    sec: Option<Loc>,
    delta: Option<Loc>,
}

/// A fixed-length data template compiled for decoding.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Plan {
    /// Record length in bytes (> 0).
    pub len: usize,
    ops: Vec<Op>,
    ip_version: Option<Loc>,
    v6_fallback: V6Fallback,
    sys_init: Option<Loc>,
    start: TimeRule,
    end: TimeRule,
    sampler_id: Option<Loc>,
    interval: Option<Loc>,
    mpls_top: Option<Loc>,
    /// MPLS label elements 1–9 that hold a 3-byte label, in order.
    mpls: Vec<Loc>,
}

/// Template facts the compiler reads: slot → field, field → `(offset, length)`.
struct Layout<'a> {
    slots: &'a Slots,
    locs: &'a [(u32, u16)],
}

impl Layout<'_> {
    fn get(&self, s: Slot) -> Option<Loc> {
        let i = *self.slots.get(s as usize)?;
        let (off, len) = *self.locs.get(usize::from(i))?;
        Some(Loc { off: u16::try_from(off).ok()?, len })
    }

    /// Present and readable as an integer (1..=8 bytes), as `View::uint`.
    fn uint(&self, s: Slot) -> Option<Loc> {
        self.get(s).filter(|l| (1..=8).contains(&l.len))
    }

    fn first(&self, slots: &[Slot]) -> Option<Loc> {
        slots.iter().find_map(|s| self.get(*s))
    }

    fn first_uint(&self, slots: &[Slot]) -> Option<Loc> {
        slots.iter().find_map(|s| self.uint(*s))
    }

    fn time(&self, rel: Slot, ms: Slot, us: Slot, ns: Slot, sec: Slot, delta: Slot) -> TimeRule {
        TimeRule {
            rel: self.uint(rel),
            ms: self.uint(ms),
            // `get(us).or_else(get(ns))` then 8 bytes needed: a short µs element hides ns.
            ntp: self.first(&[us, ns]).filter(|l| l.len >= 8),
            sec: self.uint(sec),
            delta: self.uint(delta),
        }
    }
}

impl Plan {
    /// Compiles a data template whose fields are all fixed-length (`locs` = their offsets and
    /// lengths, `len` the record length); `None` when the record is empty or too long for
    /// 16-bit offsets (the generic path decodes those).
    pub fn compile(slots: &Slots, locs: &[(u32, u16)], len: usize) -> Option<Plan> {
        if len == 0 || len > usize::from(u16::MAX) {
            return None;
        }
        let t = Layout { slots, locs };
        use Slot::*;
        let mut ops = Vec::new();
        let mut op = |loc: Option<Loc>, set: Set| {
            if let Some(loc) = loc {
                ops.push(Op { loc, set });
            }
        };
        op(t.first(&[IN_SRC_MAC, OUT_SRC_MAC]), Set::SrcMac);
        op(t.first(&[IN_DST_MAC, OUT_DST_MAC]), Set::DstMac);
        op(t.first_uint(&[SRC_VLAN, DOT1Q_VLAN]), Set::Vlan);
        op(t.first_uint(&[DST_VLAN, POST_DOT1Q_VLAN]), Set::OutVlan);
        op(t.first(&[IPV4_SRC, IPV4_SRC_PREFIX]), Set::SrcIp4);
        op(t.first(&[IPV4_DST, IPV4_DST_PREFIX]), Set::DstIp4);
        op(t.get(IPV6_SRC), Set::SrcIp6);
        op(t.get(IPV6_DST), Set::DstIp6);
        op(t.uint(SRC_MASK), Set::SrcMask4);
        op(t.uint(DST_MASK), Set::DstMask4);
        op(t.uint(IPV6_SRC_MASK), Set::SrcMask6);
        op(t.uint(IPV6_DST_MASK), Set::DstMask6);
        op(t.first(&[L4_SRC_PORT, UDP_SRC_PORT, TCP_SRC_PORT]), Set::SrcPort);
        op(t.first(&[L4_DST_PORT, UDP_DST_PORT, TCP_DST_PORT]), Set::DstPort);
        op(t.uint(PROTO), Set::Proto);
        op(t.uint(TOS), Set::Tos);
        op(t.first_uint(&[INPUT_SNMP, IN_PHYSINT]), Set::InIface);
        op(t.first_uint(&[OUTPUT_SNMP, OUT_PHYSINT]), Set::OutIface);
        op(t.uint(SRC_AS), Set::SrcAs);
        op(t.uint(DST_AS), Set::DstAs);
        match t.first(&[BGP_IPV4_NEXT_HOP, MPLS_TOP_LABEL_ADDR]) {
            Some(l) => op(Some(l), Set::PeerDst4),
            None => op(t.first(&[BGP_IPV6_NEXT_HOP, MPLS_TOP_LABEL_IPV6]), Set::PeerDst6),
        }
        match t.get(IPV4_NEXT_HOP) {
            Some(l) => op(Some(l), Set::Nexthop4),
            None => op(t.get(IPV6_NEXT_HOP), Set::Nexthop6),
        }
        match t.first(&[POST_NAT_IPV4_SRC, NSEL_XLATE_SRC]) {
            Some(l) => op(Some(l), Set::PostNatSrc4),
            None => op(t.get(POST_NAT_IPV6_SRC), Set::PostNatSrc6),
        }
        match t.first(&[POST_NAT_IPV4_DST, NSEL_XLATE_DST]) {
            Some(l) => op(Some(l), Set::PostNatDst4),
            None => op(t.get(POST_NAT_IPV6_DST), Set::PostNatDst6),
        }
        op(t.first(&[POST_NAPT_SRC_PORT, NSEL_XLATE_SRC_PORT]), Set::PostNatSrcPort);
        op(t.first(&[POST_NAPT_DST_PORT, NSEL_XLATE_DST_PORT]), Set::PostNatDstPort);
        let nonempty = |s: Slot| t.get(s).filter(|l| l.len >= 1);
        op(nonempty(NAT_EVENT).or_else(|| nonempty(NSEL_FW_EVENT)), Set::NatEvent);
        op(nonempty(FWD_STATUS), Set::FwdStatus);
        op(t.get(LAYER2_SEGMENT_ID).filter(|l| l.len == 8), Set::Vni);
        op(t.get(DIRECTION).filter(|l| l.len == 1), Set::Direction);
        op(t.first_uint(&[IN_BYTES, FLOW_BYTES, OUT_BYTES, L2_OCTETS]), Set::Bytes);
        op(t.first_uint(&[IN_PKTS, FLOW_PKTS, OUT_PKTS]), Set::Packets);
        op(t.uint(FLOWS), Set::Flows);
        op(t.get(TCP_FLAGS).filter(|l| l.len == 1), Set::TcpFlags);

        let has_v4 = t.get(IPV4_SRC).is_some() || t.get(IPV4_DST).is_some();
        let has_v6 = t.get(IPV6_SRC).is_some() || t.get(IPV6_DST).is_some();
        let v6_fallback = match (has_v4, has_v6) {
            (true, true) => {
                nonempty(IPV4_SRC).map_or(V6Fallback::Const(false), V6Fallback::V4SrcFirstZero)
            }
            (true, false) => V6Fallback::Const(false),
            (false, v6) => V6Fallback::Const(v6),
        };
        let label = |s: Slot| t.get(s).filter(|l| l.len == 3);
        let mpls = [MPLS_1, MPLS_2, MPLS_3, MPLS_4, MPLS_5, MPLS_6, MPLS_7, MPLS_8, MPLS_9]
            .into_iter()
            .filter_map(label)
            .collect();
        Some(Plan {
            len,
            ops,
            ip_version: nonempty(IP_VERSION),
            v6_fallback,
            sys_init: t.uint(SYS_INIT_MSEC),
            start: t.time(
                FIRST_SWITCHED,
                START_MSEC,
                START_USEC,
                START_NSEC,
                START_SEC,
                START_DELTA_USEC,
            ),
            end: t.time(LAST_SWITCHED, END_MSEC, END_USEC, END_NSEC, END_SEC, END_DELTA_USEC),
            sampler_id: t.first_uint(&[SAMPLER_ID, SELECTOR_ID]),
            interval: t.first_uint(&[SAMPLER_INTERVAL, SAMPLING_INTERVAL]),
            mpls_top: label(MPLS_1),
            mpls,
        })
    }

    /// The sampling a record carries (`fields::record_sampling`).
    pub fn sampling(&self, rec: &[u8]) -> RecordSampling {
        if let Some(id) = self.sampler_id.and_then(|l| at(rec, l)) {
            return RecordSampling::SamplerId(uint(id));
        }
        match self.interval.and_then(|l| at(rec, l)) {
            Some(i) => RecordSampling::Interval(uint(i).min(u64::from(u32::MAX)) as u32),
            None => RecordSampling::None,
        }
    }

    fn is_v6(&self, rec: &[u8]) -> bool {
        match self.ip_version.and_then(|l| at(rec, l)).and_then(|b| b.first()) {
            Some(4) => return false,
            Some(6) => return true,
            _ => {}
        }
        match self.v6_fallback {
            V6Fallback::Const(v6) => v6,
            V6Fallback::V4SrcFirstZero(l) => at(rec, l).and_then(|b| b.first()) == Some(&0),
        }
    }

    /// Flow start or end (`fields::flow_time`).
    fn time(&self, rec: &[u8], h: &HeaderCtx, r: &TimeRule) -> u64 {
        let get = |l: Option<Loc>| l.and_then(|l| at(rec, l)).map(uint);
        if let Some(t) = get(r.rel) {
            if h.version == 9 {
                let ago = h.sys_uptime_ms.wrapping_sub(t as u32) / 1000;
                return u64::from(h.unix_secs.wrapping_sub(ago)) * 1_000_000;
            }
            if let Some(init) = get(self.sys_init) {
                // Wraps like pmacct's u_int64 arithmetic (and never panics on hostile values).
                return (init / 1000).wrapping_add(t / 1000).wrapping_mul(1_000_000);
            }
        }
        if let Some(t) = get(r.ms) {
            return t.saturating_mul(1000);
        }
        if let Some(t) = r.ntp.and_then(|l| at(rec, l)).and_then(ntp_us) {
            return t;
        }
        if let Some(t) = get(r.sec) {
            return t.saturating_mul(1_000_000);
        }
        if h.version == 10
            && let Some(d) = get(r.delta)
        {
            return (u64::from(h.unix_secs) * 1_000_000).saturating_sub(d);
        }
        0
    }

    /// `fields::mpls`.
    fn mpls(&self, rec: &[u8], f: &mut FlowFields) {
        f.mpls_label_top =
            self.mpls_top.and_then(|l| at(rec, l)).and_then(label).map_or(0, |l| l.0);
        let mut depth = 0u8;
        let mut last = 0;
        let mut bos = false;
        for l in &self.mpls {
            if let Some((l, b)) = at(rec, *l).and_then(label) {
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

    /// What every record of a datagram starts from: the header's and the exporter's values.
    #[cfg(test)]
    pub fn base(h: &HeaderCtx, exporter: IpAddr, arrival_us: u64) -> FlowRecord {
        let mut r = FlowRecord::default();
        Self::stamp(&mut r, h, exporter, arrival_us);
        r
    }

    /// Sets the header's and the exporter's values of a blank record.
    #[inline]
    pub fn stamp(r: &mut FlowRecord, h: &HeaderCtx, exporter: IpAddr, arrival_us: u64) {
        let f = &mut r.fields;
        f.peer_src_ip = exporter;
        f.timestamp_arrival = arrival_us;
        f.timestamp_export = u64::from(h.unix_secs) * 1_000_000;
        f.export_proto_version = h.version;
        f.export_proto_seqno = h.sequence;
        f.export_proto_sysid = h.domain;
        r.counters.flows = 1;
    }

    /// Decodes one record of exactly [`Plan::len`] bytes, as `fields::record` does.
    #[cfg(test)]
    pub fn record(
        &self,
        rec: &[u8],
        h: &HeaderCtx,
        exporter: IpAddr,
        arrival_us: u64,
        time_new: bool,
    ) -> FlowRecord {
        let mut r = Self::base(h, exporter, arrival_us);
        self.fill(rec, h, time_new, &mut r);
        r
    }

    /// Decodes `rec` into `r`, which holds [`Plan::base`] (so records are built in place).
    pub fn fill(&self, rec: &[u8], h: &HeaderCtx, time_new: bool, r: &mut FlowRecord) {
        let v6 = self.is_v6(rec);
        let FlowRecord { fields: f, counters: c } = r;
        for op in &self.ops {
            let Some(b) = at(rec, op.loc) else { continue };
            match op.set {
                Set::SrcMac => f.src_mac = mac(b),
                Set::DstMac => f.dst_mac = mac(b),
                Set::Vlan => f.vlan = uint(b) as u16,
                Set::OutVlan => f.out_vlan = uint(b) as u16,
                Set::SrcIp4 if !v6 => f.src_ip = ipv4(b),
                Set::DstIp4 if !v6 => f.dst_ip = ipv4(b),
                Set::SrcIp6 if v6 => f.src_ip = ipv6(b),
                Set::DstIp6 if v6 => f.dst_ip = ipv6(b),
                Set::SrcMask4 if !v6 => f.src_mask = uint(b) as u8,
                Set::DstMask4 if !v6 => f.dst_mask = uint(b) as u8,
                Set::SrcMask6 if v6 => f.src_mask = uint(b) as u8,
                Set::DstMask6 if v6 => f.dst_mask = uint(b) as u8,
                Set::SrcIp4
                | Set::DstIp4
                | Set::SrcIp6
                | Set::DstIp6
                | Set::SrcMask4
                | Set::DstMask4
                | Set::SrcMask6
                | Set::DstMask6 => {}
                Set::SrcPort => f.src_port = port(b),
                Set::DstPort => f.dst_port = port(b),
                Set::Proto => f.proto = uint(b) as u8,
                Set::Tos => f.tos = uint(b) as u8,
                Set::InIface => f.in_iface = uint(b) as u32,
                Set::OutIface => f.out_iface = uint(b) as u32,
                Set::SrcAs => f.src_as = uint(b) as u32,
                Set::DstAs => f.dst_as = uint(b) as u32,
                Set::PeerDst4 => f.peer_dst_ip = ipv4(b),
                Set::PeerDst6 => f.peer_dst_ip = ipv6(b),
                Set::Nexthop4 => f.nexthop = ipv4(b),
                Set::Nexthop6 => f.nexthop = ipv6(b),
                Set::PostNatSrc4 => f.post_nat_src_ip = ipv4(b),
                Set::PostNatSrc6 => f.post_nat_src_ip = ipv6(b),
                Set::PostNatDst4 => f.post_nat_dst_ip = ipv4(b),
                Set::PostNatDst6 => f.post_nat_dst_ip = ipv6(b),
                Set::PostNatSrcPort => f.post_nat_src_port = port(b),
                Set::PostNatDstPort => f.post_nat_dst_port = port(b),
                Set::NatEvent => f.nat_event = b.first().copied().unwrap_or(0),
                Set::FwdStatus => f.fwd_status = b.first().copied().unwrap_or(0),
                Set::Vni => f.vni = vxlan_vni(b),
                Set::Direction => {
                    f.direction = match b {
                        [0] => 1,
                        [1] => 2,
                        _ => 0,
                    }
                }
                Set::Bytes => c.bytes = uint(b),
                Set::Packets => c.packets = uint(b),
                Set::Flows => {
                    let n = uint(b);
                    if n != 0 {
                        c.flows = n;
                    }
                }
                Set::TcpFlags => c.tcp_flags = b.first().copied().unwrap_or(0),
            }
        }
        let (start, end) = if time_new {
            (f.timestamp_arrival, f.timestamp_arrival)
        } else {
            let hdr_us = u64::from(h.unix_secs) * 1_000_000;
            let s = self.time(rec, h, &self.start);
            let e = self.time(rec, h, &self.end);
            (if s == 0 { hdr_us } else { s }, e)
        };
        f.timestamp_start = start;
        // The header time stands in for a missing end in `timestamp_end` only: the record time
        // has no end then (as fields::record, pmacct's).
        f.timestamp_end = if end == 0 { u64::from(h.unix_secs) * 1_000_000 } else { end };
        c.first_us = start;
        c.last_us = end;
        if !self.mpls.is_empty() || self.mpls_top.is_some() {
            self.mpls(rec, f);
        }
    }
}

/// The bytes of `l` in `rec` (always inside a record of the plan's length).
#[inline(always)]
fn at(rec: &[u8], l: Loc) -> Option<&[u8]> {
    let off = usize::from(l.off);
    rec.get(off..off + usize::from(l.len))
}

#[cfg(test)]
mod tests;
