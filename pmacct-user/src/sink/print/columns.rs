//! The columns a print plugin writes, in pmacct 1.7's order: the aggregate's primitives, a
//! `sum_*` primitive in its `src_` column, `timestamp_min` / `timestamp_max` after
//! `timestamp_arrival` when stitching is on, the custom primitives (`aggregate_primitives`) last
//! in `aggregate` order; `flows` is a counter, not a column.

use std::borrow::Cow;

use super::value::{TimestampFormat, json_is_string, write_value_ts};
use crate::aggregate::{Primitive, PrimitiveSet};
use crate::record::{Counters, FlowFields};

/// One printed column.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Column {
    Prim(Primitive),
    /// `timestamp_min`: start of the first flow of the aggregate (stitching).
    StampMin,
    /// `timestamp_max`: end of the last flow of the aggregate (stitching).
    StampMax,
    /// A custom primitive: its index in [`crate::aggregate::custom`]'s registry.
    Custom(usize),
}

/// Sort key of a column: declaration order, a `sum_*` at its `src_` primitive, the stitching
/// stamps right after `timestamp_arrival`.
fn rank(c: Column) -> u16 {
    let at = |p: Primitive| u16::from(p as u8) * 4;
    match c {
        Column::Prim(Primitive::SumHost) => at(Primitive::SrcHost),
        Column::Prim(Primitive::SumNet) => at(Primitive::SrcNet),
        Column::Prim(Primitive::SumAs) => at(Primitive::SrcAs),
        Column::Prim(Primitive::SumPort) => at(Primitive::SrcPort),
        Column::Prim(Primitive::SumMac) => at(Primitive::SrcMac),
        Column::Prim(p) => at(p),
        Column::StampMin => at(Primitive::TimestampExport) + 1,
        Column::StampMax => at(Primitive::TimestampExport) + 2,
        Column::Custom(_) => u16::MAX,
    }
}

/// pmacct 1.7's JSON order of the BGP block (`compose_json`'s handlers), which differs from
/// the print plugin's: the destination attributes, `roa_dst`, the peers, then the source
/// attributes and `roa_src`.
const JSON_BGP_ORDER: [Primitive; 20] = [
    Primitive::SrcAs,
    Primitive::DstAs,
    Primitive::StdComm,
    Primitive::ExtComm,
    Primitive::LrgComm,
    Primitive::AsPath,
    Primitive::LocalPref,
    Primitive::Med,
    Primitive::DstRoa,
    Primitive::PeerSrcAs,
    Primitive::PeerDstAs,
    Primitive::PeerSrcIp,
    Primitive::PeerDstIp,
    Primitive::SrcStdComm,
    Primitive::SrcExtComm,
    Primitive::SrcLrgComm,
    Primitive::SrcAsPath,
    Primitive::SrcLocalPref,
    Primitive::SrcMed,
    Primitive::SrcRoa,
];

/// Sort key of a column in JSON: [`rank`], with the BGP block (declared contiguously from
/// `src_as`) in [`JSON_BGP_ORDER`].
fn json_rank(c: Column) -> u16 {
    let p = match c {
        Column::Prim(Primitive::SumAs) => Primitive::SrcAs,
        Column::Prim(p) => p,
        _ => return rank(c),
    };
    match JSON_BGP_ORDER.iter().position(|x| *x == p) {
        Some(i) => u16::from(Primitive::SrcAs as u8) * 4 + u16::try_from(i * 4).unwrap_or(0),
        None => rank(c),
    }
}

/// A plugin's columns and whether it prints the `flows` counter.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Columns {
    pub cols: Vec<Column>,
    /// The same columns in JSON order.
    pub json_cols: Vec<Column>,
    pub flows: bool,
}

impl Columns {
    /// The columns of `set`, with the stitching stamps when `stitching`.
    pub fn new(set: PrimitiveSet, stitching: bool) -> Columns {
        let mut cols: Vec<Column> =
            set.iter().filter(|p| *p != Primitive::Flows).map(Column::Prim).collect();
        if stitching {
            cols.extend([Column::StampMin, Column::StampMax]);
        }
        cols.sort_by_key(|c| rank(*c));
        let mut json_cols = cols.clone();
        json_cols.sort_by_key(|c| json_rank(*c));
        Columns { cols, json_cols, flows: set.contains(Primitive::Flows) }
    }

    /// These columns and the custom primitives `custom` (registry indices), in that order.
    pub fn with_custom(mut self, custom: &[usize]) -> Columns {
        self.cols.extend(custom.iter().map(|i| Column::Custom(*i)));
        self.json_cols.extend(custom.iter().map(|i| Column::Custom(*i)));
        self
    }

    /// The columns without `label` (pmacct 1.7's formatted output has none).
    pub fn without_label(&self) -> impl Iterator<Item = Column> + '_ {
        self.cols.iter().copied().filter(|c| *c != Column::Prim(Primitive::Label))
    }
}

impl Column {
    /// CSV / formatted header (a custom primitive's name as defined, as pmacct prints it).
    pub fn header(self) -> Cow<'static, str> {
        match self {
            Column::Prim(p) => Cow::Borrowed(p.header()),
            Column::StampMin => Cow::Borrowed("TIMESTAMP_MIN"),
            Column::StampMax => Cow::Borrowed("TIMESTAMP_MAX"),
            Column::Custom(i) => Cow::Owned(custom_name(i)),
        }
    }

    /// JSON key.
    pub fn json_key(self) -> Cow<'static, str> {
        match self {
            Column::Prim(p) => Cow::Borrowed(p.json_key()),
            Column::StampMin => Cow::Borrowed("timestamp_min"),
            Column::StampMax => Cow::Borrowed("timestamp_max"),
            Column::Custom(i) => Cow::Owned(custom_name(i)),
        }
    }

    /// Whether the JSON value is a string (custom primitives always are, in pmacct).
    pub fn json_is_string(self) -> bool {
        match self {
            Column::Prim(p) => json_is_string(p),
            Column::StampMin | Column::StampMax | Column::Custom(_) => true,
        }
    }

    /// Appends the value as pmacct prints it.
    pub fn write(self, out: &mut String, k: &FlowFields, c: &Counters, ts: TimestampFormat) {
        match self {
            Column::Prim(p) => write_value_ts(out, p, k, c, ts),
            // pmacct's compose_timestamp with microseconds, like the timestamp_* primitives.
            Column::StampMin => out.push_str(&ts.format_us(c.first_us)),
            Column::StampMax => out.push_str(&ts.format_us(c.last_us)),
            Column::Custom(i) => {
                let defs = crate::aggregate::custom::defined();
                let vals = crate::aggregate::custom::values(k.custom);
                if let Some(d) = defs.get(i) {
                    d.write(out, vals.get(i).and_then(|v| v.as_deref()));
                }
            }
        }
    }

    /// True when pmacct's JSON leaves this column out for key `k` (a custom string that is not
    /// valid UTF-8).
    pub fn json_omitted(self, k: &FlowFields) -> bool {
        let Column::Custom(i) = self else { return false };
        let vals = crate::aggregate::custom::values(k.custom);
        crate::aggregate::custom::defined()
            .get(i)
            .is_some_and(|d| d.json_invalid(vals.get(i).and_then(|v| v.as_deref())))
    }

    /// `(value width, spaces after)` in formatted output.
    pub fn formatted_width(self) -> (usize, usize) {
        match self {
            Column::Prim(p) => super::formatted::column(p),
            Column::StampMin | Column::StampMax => (30, 1),
            Column::Custom(i) => (custom_width(i), 2),
        }
    }

    /// Width of the formatted header cell.
    pub fn header_width(self) -> usize {
        match self {
            Column::Prim(p) => super::formatted::header_width(p),
            Column::StampMin | Column::StampMax => 31,
            Column::Custom(i) => custom_width(i) + 2,
        }
    }
}

fn custom_name(i: usize) -> String {
    crate::aggregate::custom::defined().get(i).map(|d| d.name.clone()).unwrap_or_default()
}

fn custom_width(i: usize) -> usize {
    crate::aggregate::custom::defined().get(i).map_or(0, |d| d.formatted_width())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn order_follows_pmacct() {
        let set = PrimitiveSet::parse(
            "export_proto_seqno, timestamp_start, sum_host, tag, flows, timestamp_arrival",
        )
        .unwrap();
        let c = Columns::new(set, true);
        let names: Vec<_> = c.cols.iter().map(|c| c.header()).collect();
        assert_eq!(
            names,
            [
                "TAG",
                "SRC_IP",
                "TIMESTAMP_START",
                "TIMESTAMP_ARRIVAL",
                "TIMESTAMP_MIN",
                "TIMESTAMP_MAX",
                "EXPORT_PROTO_SEQNO"
            ]
        );
        assert!(c.flows);
    }
}
