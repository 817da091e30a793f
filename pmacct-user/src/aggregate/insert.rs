//! pmacct's variants of inserting a record into a plugin's cache (src/plugin_common.c, 1.7.7):
//! the `sum_*` aggregations (`P_sum_*_insert`), flow stitching (`nfacctd_stitching`:
//! `timestamp_min` / `timestamp_max`) and pro rating over time bins (`nfacctd_pro_rating`).

use super::{Primitive, PrimitiveSet};
use crate::record::{Counters, FlowFields};

/// The `sum_*` primitives, in the order pmacct's `evaluate_sums` lets one win over the others
/// (`sum_mac` first, then host, net, as, port).
const SUMS: [Primitive; 5] = [
    Primitive::SumMac,
    Primitive::SumHost,
    Primitive::SumNet,
    Primitive::SumAs,
    Primitive::SumPort,
];

/// pmacct's `what_to_count` primitives (its first registry): a `sum_*` aggregation resets them,
/// `tag`, `tag2` and `flows` aside.
const REGISTRY_1: [Primitive; 26] = [
    Primitive::SrcMac,
    Primitive::DstMac,
    Primitive::Vlan,
    Primitive::OutVlan,
    Primitive::Cos,
    Primitive::Etype,
    Primitive::SrcAs,
    Primitive::DstAs,
    Primitive::LocalPref,
    Primitive::Med,
    Primitive::PeerSrcAs,
    Primitive::PeerDstAs,
    Primitive::PeerSrcIp,
    Primitive::PeerDstIp,
    Primitive::InIface,
    Primitive::OutIface,
    Primitive::SrcHost,
    Primitive::SrcNet,
    Primitive::DstHost,
    Primitive::DstNet,
    Primitive::SrcMask,
    Primitive::DstMask,
    Primitive::SrcPort,
    Primitive::DstPort,
    Primitive::TcpFlags,
    Primitive::Proto,
];

/// The `sum_*` primitive of a set, if any.
pub fn sum_of(set: PrimitiveSet) -> Option<Primitive> {
    SUMS.into_iter().find(|p| set.contains(*p))
}

/// pmacct's `evaluate_sums`: a `sum_*` aggregation "is to be used alone", so the other
/// `sum_*` and every L2–L4 / routing primitive are dropped (`tag`, `tag2`, `flows` and the
/// second-registry primitives such as `label` or the timestamps stay). Returns the set and the
/// primitives dropped (pmacct warns; so does the caller).
pub fn normalize_sum(set: PrimitiveSet) -> (PrimitiveSet, Vec<Primitive>) {
    let Some(sum) = sum_of(set) else { return (set, Vec::new()) };
    let mut out = PrimitiveSet::EMPTY;
    let mut dropped = Vec::new();
    for p in set.iter() {
        if p == sum || !(SUMS.contains(&p) || REGISTRY_1.contains(&p)) {
            out.insert(p);
        } else {
            dropped.push(p);
        }
    }
    (out, dropped)
}

/// `set` with its `sum_*` primitive replaced by the `src_` and `dst_` primitives it reads (for
/// the stages that fill fields: networks, the XDP key).
pub fn expand_sums(set: PrimitiveSet) -> PrimitiveSet {
    let mut s = set;
    for (sum, src, dst) in [
        (Primitive::SumHost, Primitive::SrcHost, Primitive::DstHost),
        (Primitive::SumNet, Primitive::SrcNet, Primitive::DstNet),
        (Primitive::SumAs, Primitive::SrcAs, Primitive::DstAs),
        (Primitive::SumPort, Primitive::SrcPort, Primitive::DstPort),
        (Primitive::SumMac, Primitive::SrcMac, Primitive::DstMac),
    ] {
        if set.contains(sum) {
            s.insert(src);
            s.insert(dst);
        }
    }
    s
}

/// The record as pmacct's second `P_sum_*_insert` call sees it: the destination value moved
/// into the source field (the key keeps only the source field).
pub fn sum_swap(sum: Primitive, f: &mut FlowFields) {
    match sum {
        Primitive::SumHost => f.src_ip = f.dst_ip,
        Primitive::SumNet => f.src_net = f.dst_net,
        Primitive::SumAs => f.src_as = f.dst_as,
        Primitive::SumPort => f.src_port = f.dst_port,
        Primitive::SumMac => f.src_mac = f.dst_mac,
        _ => {}
    }
}

/// Updates an existing aggregate with `c` under flow stitching, as pmacct 1.7 does:
/// counters summed, `timestamp_min` (kept in `first_us`) stays the first record's start, and
/// `timestamp_max` (`last_us`) takes the record's end only when both its seconds and its
/// microseconds are larger (pmacct compares the two `timeval` members separately), or always
/// when the record had no end time of its own (`assign`: pmacct then uses the current time).
pub fn stitch(e: &mut Counters, c: &Counters, assign: bool) {
    let (first, last) = (e.first_us, e.last_us);
    e.merge(c);
    e.first_us = first;
    let split = |us: u64| (us / 1_000_000, us % 1_000_000);
    let ((cs, cu), (ls, lu)) = (split(c.last_us), split(last));
    e.last_us = if assign || (cs > ls && cu > lu) { c.last_us } else { last };
}

/// pmacct's pro rating of one time bin `[base, base + slot)` for a flow from `start` to `end`
/// (Unix seconds): when the flow overlaps the bin only partly, packets, bytes and flows become
/// `max(total / (duration / overlap), 1)` computed in single precision and truncated, as
/// pmacct's `P_cache_insert` does; otherwise `cur` is left as it was (pmacct keeps the value
/// of the previous bin then).
pub fn pro_rate(cur: &mut Counters, total: &Counters, start: i64, end: i64, base: i64, next: i64) {
    if end <= start {
        return;
    }
    let time_total = end - start;
    let time_delta = end.min(next) - start.max(base);
    if time_delta > 0 && time_delta < time_total {
        let ratio = time_total as f32 / time_delta as f32;
        let share = |v: u64| ((v as f32) / ratio).max(1.0) as u64;
        if total.bytes != 0 {
            cur.bytes = share(total.bytes);
        }
        if total.packets != 0 {
            cur.packets = share(total.packets);
        }
        if total.flows != 0 {
            cur.flows = share(total.flows);
        }
    }
}

/// Most bins one flow is pro-rated over; a flow claiming to span more (an exporter's clock
/// gone wrong) is accounted whole in the bin of its start instead of costing a table per bin.
/// pmacct has no such bound.
pub const MAX_PRO_RATED_BINS: i64 = 4096;

/// Whether a flow from bin `base` to `end` (Unix seconds) spans at most
/// [`MAX_PRO_RATED_BINS`] bins of `history` (months counted as 28 days).
pub fn pro_rating_span_ok(history: super::History, base: i64, end: i64) -> bool {
    let slot = history.fixed_secs().unwrap_or(28 * 86_400 * i64::from(history.howmany));
    slot > 0 && (end - base) / slot <= MAX_PRO_RATED_BINS
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sums_are_used_alone() {
        let set = PrimitiveSet::parse("tag, src_host, sum_port, sum_host, flows, label").unwrap();
        let (s, dropped) = normalize_sum(set);
        let names: Vec<_> = s.iter().map(Primitive::name).collect();
        assert_eq!(names, ["tag", "label", "flows", "sum_host"]);
        assert_eq!(dropped, [Primitive::SrcHost, Primitive::SumPort]);
        let mut f = FlowFields { dst_port: 443, src_port: 5, ..FlowFields::default() };
        sum_swap(Primitive::SumPort, &mut f);
        assert_eq!(f.src_port, 443);
    }

    #[test]
    fn stitching_keeps_pmacct_comparison() {
        let c =
            |first_us, last_us| Counters { packets: 1, first_us, last_us, ..Counters::default() };
        let mut e = c(10_000_000, 20_000_000);
        // Later end, same microseconds: pmacct does not move timestamp_max.
        stitch(&mut e, &c(5_000_000, 30_000_000), false);
        assert_eq!((e.packets, e.first_us, e.last_us), (2, 10_000_000, 20_000_000));
        stitch(&mut e, &c(5_000_000, 31_000_001), false);
        assert_eq!((e.first_us, e.last_us), (10_000_000, 31_000_001));
        stitch(&mut e, &c(5_000_000, 25_000_000), true);
        assert_eq!(e.last_us, 25_000_000);
    }

    #[test]
    fn pro_rating_splits_like_the_config_keys_example() {
        // CONFIG-KEYS: 5m bins, a 1000 s flow of 1000 bytes from t0: 300, 300, 300, 100.
        let total = Counters { packets: 10, bytes: 1000, flows: 1, ..Counters::default() };
        let mut cur = total;
        let mut got = Vec::new();
        for base in [0, 300, 600, 900] {
            pro_rate(&mut cur, &total, 0, 1000, base, base + 300);
            got.push((cur.bytes, cur.packets, cur.flows));
        }
        assert_eq!(got, [(300, 3, 1), (300, 3, 1), (300, 3, 1), (100, 1, 1)]);
        let five_min = super::super::History::parse("5m").unwrap();
        assert!(pro_rating_span_ok(five_min, 0, 1000));
        assert!(!pro_rating_span_ok(five_min, 0, 300 * (MAX_PRO_RATED_BINS + 1)));
    }
}
