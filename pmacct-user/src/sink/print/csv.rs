//! `print_output: csv` (pmacct's `P_write_stats_header_csv` and the CSV branch of
//! `P_cache_purge`): columns in print order, then `PACKETS`, `FLOWS` (with the `flows`
//! primitive), `BYTES`; no time stamps in 1.7.

use super::columns::Columns;
use super::value::{TimestampFormat, push_dec};
use crate::record::{Counters, FlowFields};

/// The header line, newline included.
pub fn header(cols: &Columns, sep: &str) -> String {
    let mut out = String::new();
    for c in &cols.cols {
        out.push_str(&c.header());
        out.push_str(sep);
    }
    out.push_str("PACKETS");
    out.push_str(sep);
    if cols.flows {
        out.push_str("FLOWS");
        out.push_str(sep);
    }
    out.push_str("BYTES\n");
    out
}

/// Appends one row, newline included.
pub fn row(
    out: &mut String,
    cols: &Columns,
    k: &FlowFields,
    c: &Counters,
    sep: &str,
    ts: TimestampFormat,
) {
    for col in &cols.cols {
        col.write(out, k, c, ts);
        out.push_str(sep);
    }
    push_dec(out, c.packets);
    out.push_str(sep);
    if cols.flows {
        push_dec(out, c.flows);
        out.push_str(sep);
    }
    push_dec(out, c.bytes);
    out.push('\n');
}

/// `print_output: event_csv` header: the columns only, joined by the separator.
pub fn event_header(cols: &Columns, sep: &str) -> String {
    let mut out = cols.cols.iter().map(|c| c.header()).collect::<Vec<_>>().join(sep);
    out.push('\n');
    out
}

/// `event_csv` row: the columns only, no counters.
pub fn event_row(
    out: &mut String,
    cols: &Columns,
    k: &FlowFields,
    c: &Counters,
    sep: &str,
    ts: TimestampFormat,
) {
    for (i, col) in cols.cols.iter().enumerate() {
        if i > 0 {
            out.push_str(sep);
        }
        col.write(out, k, c, ts);
    }
    out.push('\n');
}
