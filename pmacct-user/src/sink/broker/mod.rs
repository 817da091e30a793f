//! What the message-broker sinks (AMQP, Kafka) share, as pmacct 1.7's amqp and kafka plugins
//! do it: every aggregate one JSON object, the print plugin's JSON (`compose_json`) with
//! `writer_id` (`<plugin name>/<pid>`) added after the counters; one object per message, or
//! newline-terminated objects packed up to `*_multi_values` bytes; names with variables
//! ([`dynname`]); round-robin over `<name>_<n>` (`*_rr`); and the framing of several messages
//! in one delivery item.

pub mod dynname;

use super::print::columns::Columns;
use super::print::json;
use super::print::value::TimestampFormat;
use crate::aggregate::FlushBatch;
use crate::record::{Counters, FlowFields};

pub use dynname::{DynName, NameKind, PostTags};

/// pmacct's `writer_id`: `<plugin name>/<pid>`.
pub fn writer_id(plugin: &str) -> String {
    format!("{plugin}/{}", std::process::id())
}

/// Columns a plugin's JSON objects carry beyond its aggregate: the `*_stitching` stamps and
/// custom primitives (registry indices, `aggregate` order).
#[derive(Clone, Debug, Default)]
pub struct ColumnExtras {
    pub stitching: bool,
    pub custom: Vec<usize>,
}

/// Calls `emit(first key, rows, body)` for every message of `batch`: one JSON object each
/// (`multi_values` 0), or newline-terminated objects packed while they fit in `multi_values`
/// bytes (pmacct's test: an object and its newline must leave room for the C string's NUL).
/// The key is the message's first aggregate (for names with variables).
pub fn for_each_message(
    batch: &FlushBatch,
    writer_id: &str,
    multi_values: usize,
    extras: &ColumnExtras,
    mut emit: impl FnMut(&FlowFields, u64, &str),
) {
    let ts = TimestampFormat::default();
    let cols = Columns::new(batch.primitives, extras.stitching).with_custom(&extras.custom);
    let mut line = String::new();
    let mut multi = String::new();
    let mut multi_key: Option<FlowFields> = None;
    let mut multi_rows = 0u64;
    let mut one = |start: i64, k: &FlowFields, c: &Counters| {
        line.clear();
        let stamps = batch.history.then_some((start, batch.flushed_at));
        json::row_cols(&mut line, &cols, k, c, stamps, ts);
        // pmacct adds the writer after the counters.
        let body = line.trim_end_matches('\n').trim_end_matches('}').len();
        line.truncate(body);
        line.push_str(", \"writer_id\": \"");
        line.push_str(writer_id);
        line.push_str("\"}");
        if multi_values == 0 {
            emit(k, 1, &line);
            return;
        }
        if let Some(first) = &multi_key
            && multi.len() + line.len() + 1 >= multi_values
        {
            emit(first, multi_rows, &multi);
            multi.clear();
            multi_rows = 0;
            multi_key = None;
        }
        if multi_key.is_none() {
            multi_key = Some(*k);
        }
        multi.push_str(&line);
        multi.push('\n');
        multi_rows += 1;
    };
    for bin in &batch.bins {
        bin.entries.for_each(|k, c| one(bin.start, k, c));
    }
    if let Some(first) = &multi_key {
        emit(first, multi_rows, &multi);
    }
}

/// pmacct's `P_handle_table_dyn_rr`: message k goes to `<base>_<k mod max>`.
#[derive(Clone, Debug, Default)]
pub struct RoundRobin {
    max: u32,
    next: u32,
}

impl RoundRobin {
    /// `max` 0: off ([`RoundRobin::name`] returns the base).
    pub fn new(max: u32) -> Self {
        Self { max, next: 0 }
    }

    /// The name for the next message.
    pub fn name(&mut self, base: &str) -> String {
        if self.max == 0 {
            return base.to_string();
        }
        let n = self.next;
        self.next = (self.next + 1) % self.max;
        format!("{base}_{n}")
    }
}

/// Appends one length-prefixed frame to a delivery item's payload.
pub fn push_frame(payload: &mut Vec<u8>, frame: &[u8]) {
    payload.extend_from_slice(&(frame.len() as u32).to_le_bytes());
    payload.extend_from_slice(frame);
}

/// The frames of a payload, in order (a truncated tail is ignored).
pub fn frames(payload: &[u8]) -> impl Iterator<Item = &[u8]> {
    let mut rest = payload;
    std::iter::from_fn(move || {
        let len = u32::from_le_bytes(rest.get(..4)?.try_into().ok()?) as usize;
        let frame = rest.get(4..4 + len)?;
        rest = rest.get(4 + len..)?;
        Some(frame)
    })
}

/// Items for one flush are cut at this many payload bytes.
pub const ITEM_BYTES: usize = 4 << 20;

#[cfg(test)]
pub(crate) mod tests {
    use std::net::IpAddr;

    use super::*;
    use crate::aggregate::{Bin, PrimitiveSet};
    use crate::record::Counters;

    pub(crate) fn batch(n: u8) -> FlushBatch {
        let set = PrimitiveSet::parse("peer_src_ip,src_host").unwrap();
        let entries = (0..n)
            .map(|i| {
                let k = FlowFields {
                    peer_src_ip: IpAddr::from([192, 0, 2, i % 2]),
                    src_ip: IpAddr::from([10, 0, 0, i]),
                    ..FlowFields::default()
                };
                (k, Counters { packets: 1, bytes: 40, ..Counters::default() })
            })
            .collect::<Vec<_>>()
            .into();
        FlushBatch {
            primitives: set,
            bins: vec![Bin { start: 0, entries }],
            ..FlushBatch::default()
        }
    }

    #[test]
    fn one_object_per_message_with_the_writer() {
        let mut got = Vec::new();
        for_each_message(&batch(3), "k/1", 0, &ColumnExtras::default(), |k, rows, body| {
            got.push((k.src_ip, rows, body.to_string()));
        });
        assert_eq!(got.len(), 3);
        assert_eq!(
            got[1].2,
            "{\"event_type\": \"purge\", \"peer_ip_src\": \"192.0.2.1\", \"ip_src\": \"10.0.0.1\", \
             \"packets\": 1, \"bytes\": 40, \"writer_id\": \"k/1\"}"
        );
        assert_eq!((got[1].0, got[1].1), (IpAddr::from([10, 0, 0, 1]), 1));
    }

    #[test]
    fn multi_values_pack_newline_terminated_objects_under_the_bound() {
        let mut msgs = Vec::new();
        for_each_message(&batch(10), "k/1", 300, &ColumnExtras::default(), |k, rows, body| {
            msgs.push((k.src_ip, rows, body.to_string()));
        });
        assert!(msgs.len() > 1);
        let mut objects = 0;
        for (first, rows, m) in &msgs {
            assert!(m.len() < 300, "{}", m.len());
            assert!(m.ends_with('\n'));
            let lines: Vec<&str> = m.lines().collect();
            assert_eq!(lines.len() as u64, *rows);
            let v: serde_json::Value = serde_json::from_str(lines[0]).unwrap();
            assert_eq!(v["ip_src"], first.to_string());
            objects += lines.len();
        }
        assert_eq!(objects, 10);
    }

    #[test]
    fn round_robin_and_frames() {
        let mut rr = RoundRobin::new(3);
        let names: Vec<String> = (0..4).map(|_| rr.name("t")).collect();
        assert_eq!(names, ["t_0", "t_1", "t_2", "t_0"]);
        assert_eq!(RoundRobin::new(0).name("t"), "t");
        let mut p = Vec::new();
        push_frame(&mut p, b"ab");
        push_frame(&mut p, b"");
        push_frame(&mut p, b"xyz");
        let f: Vec<&[u8]> = frames(&p).collect();
        assert_eq!(f, [&b"ab"[..], b"", b"xyz"]);
    }
}
