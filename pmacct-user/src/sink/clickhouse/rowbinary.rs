//! RowBinary encoding of flushed aggregates for a [`Schema`] (ClickHouse's native row format:
//! little-endian integers, LEB128-prefixed strings, `IPv6` as 16 network-order bytes).

use std::net::IpAddr;

use super::schema::{Kind, Schema};
use crate::aggregate::{FlushBatch, Primitive};
use crate::record::{Counters, FlowFields};
use crate::sink::print::value::write_value;

fn varint(out: &mut Vec<u8>, mut n: u64) {
    loop {
        let byte = (n & 0x7f) as u8;
        n >>= 7;
        if n == 0 {
            out.push(byte);
            return;
        }
        out.push(byte | 0x80);
    }
}

fn string(out: &mut Vec<u8>, s: &str) {
    varint(out, s.len() as u64);
    out.extend_from_slice(s.as_bytes());
}

fn address(p: Primitive, k: &FlowFields) -> IpAddr {
    match p {
        Primitive::SrcHost => k.src_ip,
        Primitive::DstHost => k.dst_ip,
        Primitive::PeerSrcIp => k.peer_src_ip,
        Primitive::PeerDstIp => k.peer_dst_ip,
        Primitive::PostNatSrcHost => k.post_nat_src_ip,
        Primitive::PostNatDstHost => k.post_nat_dst_ip,
        Primitive::SrcNet => k.src_net,
        Primitive::DstNet => k.dst_net,
        Primitive::TunnelSrcHost => k.tunnel_src_ip,
        Primitive::TunnelDstHost => k.tunnel_dst_ip,
        _ => k.src_ip,
    }
}

fn timestamp_us(p: Primitive, k: &FlowFields) -> u64 {
    match p {
        Primitive::TimestampStart => k.timestamp_start,
        Primitive::TimestampEnd => k.timestamp_end,
        Primitive::TimestampExport => k.timestamp_export,
        _ => k.timestamp_arrival,
    }
}

/// Appends one row.
fn row(
    out: &mut Vec<u8>,
    schema: &Schema,
    modern: bool,
    stamps: (i64, i64),
    k: &FlowFields,
    c: &Counters,
    text: &mut String,
) {
    for col in &schema.columns {
        match (col.kind, col.primitive) {
            (Kind::Custom(i), _) => {
                text.clear();
                crate::sink::print::columns::Column::Custom(i).write(
                    text,
                    k,
                    c,
                    Default::default(),
                );
                string(out, text);
            }
            (Kind::Address, Some(p)) if modern => {
                let v6 = match address(p, k) {
                    IpAddr::V4(a) => a.to_ipv6_mapped(),
                    IpAddr::V6(a) => a,
                };
                out.extend_from_slice(&v6.octets());
            }
            (Kind::Timestamp, Some(p)) if modern => {
                let us = i64::try_from(timestamp_us(p, k)).unwrap_or(i64::MAX);
                out.extend_from_slice(&us.to_le_bytes());
            }
            (kind @ (Kind::Lat | Kind::Lon), Some(p)) => {
                let v = crate::sink::print::geo::coord(p, k, kind == Kind::Lon);
                out.extend_from_slice(&v.to_le_bytes());
            }
            (Kind::Number, Some(p)) => {
                text.clear();
                write_value(text, p, k, c);
                out.extend_from_slice(&text.parse::<u64>().unwrap_or(0).to_le_bytes());
            }
            (_, Some(p)) => {
                text.clear();
                write_value(text, p, k, c);
                string(out, text);
            }
            (Kind::Counter, None) => {
                let v = match col.name.as_str() {
                    "packets" => c.packets,
                    "bytes" => c.bytes,
                    _ => c.flows,
                };
                out.extend_from_slice(&v.to_le_bytes());
            }
            (_, None) => {
                let secs = if col.name == "stamp_inserted" { stamps.0 } else { stamps.1 };
                out.extend_from_slice(
                    &u32::try_from(secs.max(0)).unwrap_or(u32::MAX).to_le_bytes(),
                );
            }
        }
    }
}

/// Every aggregate of `batch` as RowBinary rows of `schema`, in chunks of at most `max_rows`
/// rows (one INSERT each): the bytes and the rows of each. `stamp_inserted` is the bin start
/// (the flush time for plugins without history), `stamp_updated` the flush time.
pub fn encode_chunks(
    batch: &FlushBatch,
    schema: &Schema,
    modern: bool,
    max_rows: usize,
) -> Vec<(Vec<u8>, usize)> {
    let max_rows = max_rows.max(1);
    let mut chunks = Vec::new();
    let mut out = Vec::with_capacity(batch.len().min(max_rows) * 64);
    let mut text = String::new();
    let mut rows = 0;
    for bin in &batch.bins {
        let inserted = if batch.history { bin.start } else { batch.flushed_at };
        bin.entries.for_each(|k, c| {
            row(&mut out, schema, modern, (inserted, batch.flushed_at), k, c, &mut text);
            rows += 1;
            if rows == max_rows {
                chunks.push((std::mem::take(&mut out), rows));
                rows = 0;
            }
        });
    }
    if rows > 0 || chunks.is_empty() {
        chunks.push((out, rows));
    }
    chunks
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::aggregate::{Bin, PrimitiveSet};
    use crate::sink::clickhouse::config::Profile;

    #[test]
    fn varints_and_a_legacy_row() {
        let mut v = Vec::new();
        varint(&mut v, 300);
        assert_eq!(v, [0xac, 0x02]);
        let set = PrimitiveSet::parse("src_host,dst_port,proto").unwrap();
        let schema = Schema::new("t", set, Profile::Legacy);
        let k = FlowFields {
            src_ip: "10.0.0.1".parse().unwrap(),
            dst_port: 443,
            proto: 6,
            ..FlowFields::default()
        };
        let c = Counters { packets: 2, bytes: 120, flows: 1, ..Counters::default() };
        let batch = FlushBatch {
            plugin: "p".into(),
            primitives: set,
            history: false,
            flushed_at: 1_700_000_000,
            bins: vec![Bin { start: 0, entries: vec![(k, c)].into() }],
        };
        let (bytes, rows) = encode_chunks(&batch, &schema, false, usize::MAX).remove(0);
        assert_eq!(rows, 1);
        let mut two = batch.clone();
        two.bins[0].entries.push((k, c));
        two.bins[0].entries.push((k, c));
        let chunks = encode_chunks(&two, &schema, false, 2);
        assert_eq!(chunks.iter().map(|c| c.1).collect::<Vec<_>>(), [2, 1]);
        assert_eq!(chunks[1].0, bytes);
        let mut want = vec![8u8];
        want.extend_from_slice(b"10.0.0.1");
        want.extend_from_slice(&443u64.to_le_bytes());
        want.push(3);
        want.extend_from_slice(b"tcp");
        for n in [2u64, 120, 1] {
            want.extend_from_slice(&n.to_le_bytes());
        }
        for _ in 0..2 {
            want.extend_from_slice(&1_700_000_000u32.to_le_bytes());
        }
        assert_eq!(bytes, want);
    }

    #[test]
    fn coords_are_two_doubles() {
        let set = PrimitiveSet::parse("src_host_coords").unwrap();
        let schema = Schema::new("t", set, Profile::Modern);
        let k = FlowFields {
            src_lat: 51.75f64.to_bits(),
            src_lon: (-1.25f64).to_bits(),
            ..FlowFields::default()
        };
        let batch = FlushBatch {
            plugin: "p".into(),
            primitives: set,
            history: false,
            flushed_at: 0,
            bins: vec![Bin { start: 0, entries: vec![(k, Counters::default())].into() }],
        };
        let (bytes, _) = encode_chunks(&batch, &schema, true, usize::MAX).remove(0);
        assert_eq!(bytes[..8], 51.75f64.to_le_bytes());
        assert_eq!(bytes[8..16], (-1.25f64).to_le_bytes());
    }
}
