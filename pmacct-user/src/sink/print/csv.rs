//! `print_output: csv` (pmacct's `P_write_stats_header_csv` and the CSV branch of
//! `P_cache_purge`): primitives in print order, then `PACKETS`, `BYTES`; no time stamps in 1.7.

use super::value::{TimestampFormat, push_dec, write_value_ts};
use crate::aggregate::{Primitive, PrimitiveSet};
use crate::record::{Counters, FlowFields};

/// The header line, newline included.
pub fn header(set: PrimitiveSet, sep: &str) -> String {
    let mut out = String::new();
    for p in set.iter() {
        out.push_str(p.header());
        out.push_str(sep);
    }
    out.push_str("PACKETS");
    out.push_str(sep);
    out.push_str("BYTES\n");
    out
}

/// Appends one row, newline included.
pub fn row(
    out: &mut String,
    set: PrimitiveSet,
    k: &FlowFields,
    c: &Counters,
    sep: &str,
    ts: TimestampFormat,
) {
    for p in set.iter() {
        match p {
            // The 5-tuple's integers without `fmt` (the rest through the shared formatter).
            Primitive::SrcPort => push_dec(out, u64::from(k.src_port)),
            Primitive::DstPort => push_dec(out, u64::from(k.dst_port)),
            _ => write_value_ts(out, p, k, c, ts),
        }
        out.push_str(sep);
    }
    push_dec(out, c.packets);
    out.push_str(sep);
    push_dec(out, c.bytes);
    out.push('\n');
}

/// `print_output: event_csv` header: the primitives only, joined by the separator.
pub fn event_header(set: PrimitiveSet, sep: &str) -> String {
    let mut out = set.iter().map(|p| p.header()).collect::<Vec<_>>().join(sep);
    out.push('\n');
    out
}

/// `event_csv` row: the primitives only, no counters.
pub fn event_row(
    out: &mut String,
    set: PrimitiveSet,
    k: &FlowFields,
    c: &Counters,
    sep: &str,
    ts: TimestampFormat,
) {
    for (i, p) in set.iter().enumerate() {
        if i > 0 {
            out.push_str(sep);
        }
        write_value_ts(out, p, k, c, ts);
    }
    out.push('\n');
}
