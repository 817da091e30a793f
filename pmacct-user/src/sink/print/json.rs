//! `print_output: json` (pmacct's `compose_json` handlers, jansson `JSON_PRESERVE_ORDER`):
//! `event_type`, columns in print order (the BGP block in pmacct's JSON order),
//! `stamp_inserted`/`stamp_updated` when history is
//! set, then `flows` (with the `flows` primitive), `packets`, `bytes`.

use super::columns::Columns;
use super::value::TimestampFormat;
use crate::aggregate::PrimitiveSet;
use crate::record::{Counters, FlowFields};

/// Appends `s` as a JSON string (values here are plain ASCII, but escape anyway).
fn push_json_str(out: &mut String, s: &str) {
    out.push('"');
    for ch in s.chars() {
        match ch {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c if (c as u32) < 0x20 => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
}

/// Appends one JSON line. `stamps` is `(bin start, flush time)` when the plugin has history.
pub fn row(
    out: &mut String,
    set: PrimitiveSet,
    k: &FlowFields,
    c: &Counters,
    stamps: Option<(i64, i64)>,
    ts: TimestampFormat,
) {
    row_cols(out, &Columns::new(set, false), k, c, stamps, ts);
}

/// [`row`] with the columns computed once by the caller.
pub fn row_cols(
    out: &mut String,
    cols: &Columns,
    k: &FlowFields,
    c: &Counters,
    stamps: Option<(i64, i64)>,
    ts: TimestampFormat,
) {
    out.push_str("{\"event_type\": \"purge\"");
    let mut val = String::with_capacity(48);
    for col in &cols.json_cols {
        if col.json_omitted(k) {
            continue;
        }
        out.push_str(", \"");
        out.push_str(&col.json_key());
        out.push_str("\": ");
        val.clear();
        col.write(&mut val, k, c, ts);
        if col.json_is_string() {
            push_json_str(out, &val);
        } else {
            out.push_str(&val);
        }
    }
    // pmacct's compose_json_history skips an entry whose basetime is 0.
    if let Some((inserted, updated)) = stamps.filter(|s| s.0 != 0) {
        out.push_str(", \"stamp_inserted\": ");
        push_json_str(out, &ts.format(inserted));
        out.push_str(", \"stamp_updated\": ");
        push_json_str(out, &ts.format(updated));
    }
    if cols.flows {
        out.push_str(", \"flows\": ");
        out.push_str(&c.flows.to_string());
    }
    out.push_str(", \"packets\": ");
    out.push_str(&c.packets.to_string());
    out.push_str(", \"bytes\": ");
    out.push_str(&c.bytes.to_string());
    out.push_str("}\n");
}
