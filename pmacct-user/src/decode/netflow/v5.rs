//! NetFlow v5: a 24-byte header and up to 30 fixed 48-byte records (pmacct's
//! `process_v5_packet`: the datagram must be exactly `24 + 48 * count` bytes).

use std::net::IpAddr;

use super::wire::{ipv4, slice, u8_at, u16_at, u32_at};
use super::{NetflowError, NetflowOptions};
use crate::record::{Counters, FlowFields, FlowRecord};

/// v5 header length.
pub const HEADER_LEN: usize = 24;
/// v5 record length.
pub const RECORD_LEN: usize = 48;
/// pmacct's `V5_MAXFLOWS`.
pub const MAX_FLOWS: usize = 30;

/// The v5 header fields the decoder uses.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct V5Header {
    pub count: u16,
    pub sys_uptime_ms: u32,
    pub unix_secs: u32,
    pub unix_nsecs: u32,
    pub sequence: u32,
    pub engine_type: u8,
    pub engine_id: u8,
    /// Sampling interval (low 14 bits of the last header field); 0 = not sampled/unknown.
    pub sampling_interval: u16,
}

/// Parses and checks the header of a v5 datagram.
pub fn header(p: &[u8]) -> Result<V5Header, NetflowError> {
    let short = || NetflowError::Truncated { what: "v5 header", len: p.len() };
    let h = V5Header {
        count: u16_at(p, 2).ok_or_else(short)?,
        sys_uptime_ms: u32_at(p, 4).ok_or_else(short)?,
        unix_secs: u32_at(p, 8).ok_or_else(short)?,
        unix_nsecs: u32_at(p, 12).ok_or_else(short)?,
        sequence: u32_at(p, 16).ok_or_else(short)?,
        engine_type: u8_at(p, 20).ok_or_else(short)?,
        engine_id: u8_at(p, 21).ok_or_else(short)?,
        sampling_interval: u16_at(p, 22).ok_or_else(short)? & 0x3fff,
    };
    let count = usize::from(h.count);
    if count > MAX_FLOWS || HEADER_LEN + count * RECORD_LEN != p.len() {
        return Err(NetflowError::BadV5Length { count: h.count, len: p.len() });
    }
    Ok(h)
}

/// Unix µs (second resolution, as pmacct computes it) of a sysUptime-relative time.
fn relative_us(h: &V5Header, t_ms: u32) -> u64 {
    let ago_s = h.sys_uptime_ms.wrapping_sub(t_ms) / 1000;
    u64::from(h.unix_secs.saturating_sub(ago_s)) * 1_000_000
}

/// Unix µs of a sysUptime-relative time as pmacct's `NF_time_msecs_handler` computes the
/// record time behind time bins, stitching and pro rating: `unix_secs - uptime/1000 +
/// t/1000` in 32-bit arithmetic. It differs from the primitives' [`relative_us`] when an
/// exporter stamps a flow after its own uptime (softflowd does).
fn record_time_us(h: &V5Header, t_ms: u32) -> u64 {
    let secs = h.unix_secs.wrapping_sub(h.sys_uptime_ms / 1000).wrapping_add(t_ms / 1000);
    u64::from(secs) * 1_000_000
}

/// Decodes every record of a checked v5 datagram into `out`.
pub fn decode(
    p: &[u8],
    h: &V5Header,
    exporter: IpAddr,
    arrival_us: u64,
    opts: &NetflowOptions,
    out: &mut Vec<FlowRecord>,
) -> usize {
    let mut n = 0;
    for i in 0..usize::from(h.count) {
        let Some(r) = slice(p, HEADER_LEN + i * RECORD_LEN, RECORD_LEN) else { break };
        let Some(rec) = record(r, h, exporter, arrival_us, opts) else { break };
        out.push(rec);
        n += 1;
    }
    n
}

fn record(
    r: &[u8],
    h: &V5Header,
    exporter: IpAddr,
    arrival_us: u64,
    opts: &NetflowOptions,
) -> Option<FlowRecord> {
    let proto = u8_at(r, 38)?;
    // pmacct's NF_src_port_handler keeps the source port for TCP/UDP only; NF_dst_port_handler
    // also keeps the destination port for ICMP/ICMPv6 (type << 8 | code).
    let l4 = proto == 6 || proto == 17;
    let dst_l4 = l4 || proto == 1 || proto == 58;
    let (start, end, first_us, last_us) = if opts.time_new {
        (arrival_us, arrival_us, arrival_us, arrival_us)
    } else {
        let (first, last) = (u32_at(r, 24)?, u32_at(r, 28)?);
        (
            relative_us(h, first),
            relative_us(h, last),
            record_time_us(h, first),
            record_time_us(h, last),
        )
    };
    let rate = u32::from(h.sampling_interval);
    let fields = FlowFields {
        src_ip: ipv4(slice(r, 0, 4)?),
        dst_ip: ipv4(slice(r, 4, 4)?),
        nexthop: ipv4(slice(r, 8, 4)?),
        in_iface: u32::from(u16_at(r, 12)?),
        out_iface: u32::from(u16_at(r, 14)?),
        src_port: if l4 { u16_at(r, 32)? } else { 0 },
        dst_port: if dst_l4 { u16_at(r, 34)? } else { 0 },
        proto,
        tos: u8_at(r, 39)?,
        src_as: u32::from(u16_at(r, 40)?),
        dst_as: u32::from(u16_at(r, 42)?),
        src_mask: u8_at(r, 44)?,
        dst_mask: u8_at(r, 45)?,
        peer_src_ip: exporter,
        sampling_rate: rate,
        timestamp_start: start,
        timestamp_end: end,
        timestamp_arrival: arrival_us,
        export_proto_version: 5,
        export_proto_seqno: h.sequence,
        export_proto_sysid: u32::from(h.engine_id),
        ..FlowFields::default()
    };
    let mut counters = Counters {
        packets: u64::from(u32_at(r, 16)?),
        bytes: u64::from(u32_at(r, 20)?),
        flows: 1,
        tcp_flags: if proto == 6 { u8_at(r, 37)? } else { 0 },
        first_us,
        last_us,
    };
    let mut fields = fields;
    if opts.renormalize && rate > 0 {
        // As pmacct: the rate is applied, the primitive then reads 1.
        counters.renormalize(rate);
        fields.sampling_rate = 1;
    }
    Some(FlowRecord { fields, counters })
}
