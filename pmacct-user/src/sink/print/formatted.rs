//! `print_output: formatted` (pmacct's `P_write_stats_header_formatted` and the formatted
//! branch of `P_cache_purge`): fixed-width left-aligned columns, then `PACKETS` (20 wide + 2)
//! `FLOWS` with the `flows` primitive, and `BYTES`; no time stamps in 1.7.

use super::columns::Columns;
use super::value::TimestampFormat;
use crate::aggregate::Primitive;
use crate::record::{Counters, FlowFields};

/// `(value width, spaces after)` of each column, from pmacct's `fprintf` formats
/// (`"%-45s  "` for addresses, `"%-5u     "` for ports, ...). The header is the column name
/// left-aligned in `width + spaces`.
pub const fn column(p: Primitive) -> (usize, usize) {
    match p {
        Primitive::Tag | Primitive::Tag2 => (10, 2),
        // Variable-length primitives (`Primitive::is_variable_length`): refused with formatted
        // output, as pmacct does (see `Config::validate`). Listed so a new primitive cannot be
        // forgotten here.
        Primitive::Label
        | Primitive::AsPath
        | Primitive::SrcAsPath
        | Primitive::StdComm
        | Primitive::ExtComm
        | Primitive::LrgComm
        | Primitive::SrcStdComm
        | Primitive::SrcExtComm
        | Primitive::SrcLrgComm => (0, 0),
        Primitive::SrcMac | Primitive::DstMac => (17, 2),
        Primitive::Vlan => (5, 2),
        Primitive::Cos => (2, 2),
        Primitive::Etype => (5, 2),
        Primitive::SrcAs | Primitive::DstAs => (10, 2),
        Primitive::PeerSrcIp | Primitive::PeerDstIp => (45, 2),
        Primitive::InIface | Primitive::OutIface => (10, 2),
        Primitive::SrcHost | Primitive::DstHost => (45, 2),
        Primitive::SrcNet | Primitive::DstNet => (45, 2),
        Primitive::SrcMask | Primitive::DstMask => (3, 7),
        Primitive::SrcPort | Primitive::DstPort => (5, 5),
        Primitive::TcpFlags => (3, 8),
        Primitive::Proto => (10, 2),
        Primitive::Tos => (3, 4),
        Primitive::SrcHostCountry | Primitive::DstHostCountry => (5, 7),
        Primitive::SrcHostPocode | Primitive::DstHostPocode => (12, 2),
        // "%-8f  " per coordinate (latitude and longitude columns alike).
        Primitive::SrcHostCoords | Primitive::DstHostCoords => (8, 2),
        Primitive::SamplingRate => (7, 7),
        Primitive::OutVlan => (8, 2),
        Primitive::LocalPref | Primitive::SrcLocalPref => (7, 2),
        Primitive::Med | Primitive::SrcMed => (6, 2),
        Primitive::SrcRoa | Primitive::DstRoa => (6, 2),
        Primitive::PeerSrcAs | Primitive::PeerDstAs => (10, 2),
        Primitive::SamplingDirection => (1, 19),
        Primitive::PostNatSrcHost | Primitive::PostNatDstHost => (45, 2),
        Primitive::PostNatSrcPort | Primitive::PostNatDstPort => (5, 14),
        Primitive::NatEvent => (3, 7),
        Primitive::FwdStatus => (3, 8),
        Primitive::Class => (16, 2),
        Primitive::MplsVpnRd => (18, 2),
        Primitive::MplsPwId => (10, 2),
        Primitive::MplsLabelTop => (7, 9),
        Primitive::MplsLabelBottom => (7, 12),
        Primitive::MplsStackDepth => (2, 16),
        Primitive::TunnelSrcMac | Primitive::TunnelDstMac => (17, 2),
        Primitive::TunnelSrcHost | Primitive::TunnelDstHost => (45, 2),
        Primitive::TunnelProto => (10, 7),
        Primitive::TunnelTos => (3, 9),
        Primitive::TunnelSrcPort | Primitive::TunnelDstPort => (5, 12),
        Primitive::Vxlan => (8, 2),
        Primitive::TimestampStart
        | Primitive::TimestampEnd
        | Primitive::TimestampArrival
        | Primitive::TimestampExport => (30, 1),
        Primitive::ExportProtoSeqno | Primitive::ExportProtoSysid => (18, 2),
        Primitive::ExportProtoVersion => (20, 2),
        Primitive::Flows => (20, 2),
        Primitive::SumHost | Primitive::SumNet => (45, 2),
        Primitive::SumAs => (10, 2),
        Primitive::SumPort => (5, 5),
        Primitive::SumMac => (17, 2),
    }
}

/// Width of the header cell: `width + spaces` of [`column`], except where pmacct's header
/// string is not as wide as its value format (`"SAMPLING_DIRECTION "` is 19, the value 20).
pub const fn header_width(p: Primitive) -> usize {
    match p {
        Primitive::SamplingDirection => 19,
        // "SH_LAT        ", "SH_LON        "...
        Primitive::SrcHostCoords | Primitive::DstHostCoords => 14,
        _ => {
            let (w, s) = column(p);
            w + s
        }
    }
}

fn pad(out: &mut String, used: usize, width: usize, spaces: usize) {
    let n = width.saturating_sub(used) + spaces;
    for _ in 0..n {
        out.push(' ');
    }
}

/// The counter headers: `PACKETS`, `FLOWS` with the `flows` primitive, `BYTES`.
fn counters_header(cols: &Columns) -> &'static str {
    if cols.flows {
        "PACKETS               FLOWS                 BYTES\n"
    } else {
        "PACKETS               BYTES\n"
    }
}

fn columns_header(out: &mut String, cols: &Columns) {
    // pmacct 1.7's formatted output has no LABEL column.
    for c in cols.without_label() {
        let h = c.header();
        out.push_str(&h);
        pad(out, h.len(), c.header_width(), 0);
    }
}

fn columns_row(
    out: &mut String,
    cols: &Columns,
    k: &FlowFields,
    c: &Counters,
    ts: TimestampFormat,
) {
    for col in cols.without_label() {
        let (w, s) = col.formatted_width();
        let before = out.len();
        col.write(out, k, c, ts);
        // pmacct prints an address it does not have (family 0) as `::` here, empty in CSV.
        if out.len() == before && col.is_tunnel_host() {
            out.push_str("::");
        }
        let used = out.len() - before;
        pad(out, used, w, s);
    }
}

fn counter(out: &mut String, v: u64) {
    let before = out.len();
    out.push_str(&v.to_string());
    let used = out.len() - before;
    pad(out, used, 20, 2);
}

/// The header line, newline included.
pub fn header(cols: &Columns) -> String {
    let mut out = String::new();
    columns_header(&mut out, cols);
    out.push_str(counters_header(cols));
    out
}

/// Appends one row, newline included.
pub fn row(out: &mut String, cols: &Columns, k: &FlowFields, c: &Counters, ts: TimestampFormat) {
    columns_row(out, cols, k, c, ts);
    counter(out, c.packets);
    if cols.flows {
        counter(out, c.flows);
    }
    out.push_str(&c.bytes.to_string());
    out.push('\n');
}

/// `print_output: event_formatted` header: the padded columns, no counters.
pub fn event_header(cols: &Columns) -> String {
    let mut out = String::new();
    columns_header(&mut out, cols);
    out.push('\n');
    out
}

/// `event_formatted` row: the padded columns, no counters.
pub fn event_row(
    out: &mut String,
    cols: &Columns,
    k: &FlowFields,
    c: &Counters,
    ts: TimestampFormat,
) {
    columns_row(out, cols, k, c, ts);
    out.push('\n');
}
