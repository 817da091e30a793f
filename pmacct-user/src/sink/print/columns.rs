//! The columns a print plugin writes, in pmacct 1.7's order: the aggregate's primitives, a
//! `sum_*` primitive in its `src_` column, `timestamp_min` / `timestamp_max` after
//! `timestamp_arrival` when stitching is on; `flows` is a counter, not a column.

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
        Column::StampMin => at(Primitive::TimestampArrival) + 1,
        Column::StampMax => at(Primitive::TimestampArrival) + 2,
    }
}

/// A plugin's columns and whether it prints the `flows` counter.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Columns {
    pub cols: Vec<Column>,
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
        Columns { cols, flows: set.contains(Primitive::Flows) }
    }

    /// The columns without `label` (pmacct 1.7's formatted output has none).
    pub fn without_label(&self) -> impl Iterator<Item = Column> + '_ {
        self.cols.iter().copied().filter(|c| *c != Column::Prim(Primitive::Label))
    }
}

impl Column {
    /// CSV / formatted header.
    pub fn header(self) -> &'static str {
        match self {
            Column::Prim(p) => p.header(),
            Column::StampMin => "TIMESTAMP_MIN",
            Column::StampMax => "TIMESTAMP_MAX",
        }
    }

    /// JSON key.
    pub fn json_key(self) -> &'static str {
        match self {
            Column::Prim(p) => p.json_key(),
            Column::StampMin => "timestamp_min",
            Column::StampMax => "timestamp_max",
        }
    }

    /// Whether the JSON value is a string.
    pub fn json_is_string(self) -> bool {
        match self {
            Column::Prim(p) => json_is_string(p),
            Column::StampMin | Column::StampMax => true,
        }
    }

    /// Appends the value as pmacct prints it.
    pub fn write(self, out: &mut String, k: &FlowFields, c: &Counters, ts: TimestampFormat) {
        match self {
            Column::Prim(p) => write_value_ts(out, p, k, c, ts),
            // pmacct's compose_timestamp with microseconds, like the timestamp_* primitives.
            Column::StampMin => out.push_str(&ts.format_us(c.first_us)),
            Column::StampMax => out.push_str(&ts.format_us(c.last_us)),
        }
    }

    /// `(value width, spaces after)` in formatted output.
    pub fn formatted_width(self) -> (usize, usize) {
        match self {
            Column::Prim(p) => super::formatted::column(p),
            Column::StampMin | Column::StampMax => (30, 1),
        }
    }

    /// Width of the formatted header cell.
    pub fn header_width(self) -> usize {
        match self {
            Column::Prim(p) => super::formatted::header_width(p),
            Column::StampMin | Column::StampMax => 31,
        }
    }
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
