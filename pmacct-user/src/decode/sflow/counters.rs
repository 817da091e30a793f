//! Counter samples (0:2 compact, 0:4 expanded) and their counter records, and the JSON lines
//! sfacctd 1.7.7 writes for them (`sfacctd_counter_file`, `sfacctd_counter_output: json`;
//! src/sfacctd.c `sf_cnt_log_msg`, `readCounters_*`).
//!
//! pmacct writes one JSON object per counter *record* (not per sample), keys in this order:
//! `seq` (the collector's running message number), `timestamp` (local time, microseconds),
//! `peer_ip_src` (agent), `event_type: "log"`, `source_id_index`, `sflow_seq` (datagram
//! sequence), `sflow_cnt_seq` (sample sequence), then `sf_cnt_type` and the record's fields.
//! pmacct 1.7.7 knows generic (0:1), Ethernet (0:2) and VLAN (0:5) records; for any other record
//! it writes the common keys only. We decode processor (0:1001) and LAG (0:7) records too and
//! print them as `sflow_cnt_processor` / `sflow_cnt_lag` (an extension).

use std::net::IpAddr;

use serde::ser::{Serialize, Serializer};

use super::SflowError;
use super::reader::Reader;

pub(super) const CNT_GENERIC: u32 = 1;
pub(super) const CNT_ETHERNET: u32 = 2;
pub(super) const CNT_LAG: u32 = 7;
pub(super) const CNT_VLAN: u32 = 5;
pub(super) const CNT_PROCESSOR: u32 = 1001;

/// Generic interface counters (0:1, RFC 2233 names as pmacct prints them).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Serialize)]
#[allow(non_snake_case)]
pub struct IfCounters {
    pub ifIndex: u32,
    pub ifType: u32,
    pub ifSpeed: u64,
    pub ifDirection: u32,
    pub ifStatus: u32,
    pub ifInOctets: u64,
    pub ifInUcastPkts: u32,
    pub ifInMulticastPkts: u32,
    pub ifInBroadcastPkts: u32,
    pub ifInDiscards: u32,
    pub ifInErrors: u32,
    pub ifInUnknownProtos: u32,
    pub ifOutOctets: u64,
    pub ifOutUcastPkts: u32,
    pub ifOutMulticastPkts: u32,
    pub ifOutBroadcastPkts: u32,
    pub ifOutDiscards: u32,
    pub ifOutErrors: u32,
    pub ifPromiscuousMode: u32,
}

/// Ethernet interface counters (0:2, dot3Stats*).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Serialize)]
#[allow(non_snake_case)]
pub struct EthernetCounters {
    pub dot3StatsAlignmentErrors: u32,
    pub dot3StatsFCSErrors: u32,
    pub dot3StatsSingleCollisionFrames: u32,
    pub dot3StatsMultipleCollisionFrames: u32,
    pub dot3StatsSQETestErrors: u32,
    pub dot3StatsDeferredTransmissions: u32,
    pub dot3StatsLateCollisions: u32,
    pub dot3StatsExcessiveCollisions: u32,
    pub dot3StatsInternalMacTransmitErrors: u32,
    pub dot3StatsCarrierSenseErrors: u32,
    pub dot3StatsFrameTooLongs: u32,
    pub dot3StatsInternalMacReceiveErrors: u32,
    pub dot3StatsSymbolErrors: u32,
}

/// VLAN counters (0:5); pmacct prints `vlan` last.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Serialize)]
#[allow(non_snake_case)]
pub struct VlanCounters {
    pub octets: u64,
    pub ucastPkts: u32,
    pub multicastPkts: u32,
    pub broadcastPkts: u32,
    pub discards: u32,
    pub vlan: u32,
}

/// Processor counters (0:1001): CPU load in hundredths of a percent, memory in bytes.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Serialize)]
pub struct ProcessorCounters {
    pub cpu_5s: u32,
    pub cpu_1m: u32,
    pub cpu_5m: u32,
    pub total_memory: u64,
    pub free_memory: u64,
}

/// IEEE 802.3ad LAG port counters (0:7).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Serialize)]
#[allow(non_snake_case)]
pub struct LagCounters {
    #[serde(serialize_with = "ser_mac")]
    pub dot3adAggPortActorSystemID: [u8; 6],
    #[serde(serialize_with = "ser_mac")]
    pub dot3adAggPortPartnerOperSystemID: [u8; 6],
    pub dot3adAggPortAttachedAggID: u32,
    /// actorAdmin, actorOper, partnerAdmin, partnerOper.
    pub dot3adAggPortState: [u8; 4],
    pub dot3adAggPortStatsLACPDUsRx: u32,
    pub dot3adAggPortStatsMarkerPDUsRx: u32,
    pub dot3adAggPortStatsMarkerResponsePDUsRx: u32,
    pub dot3adAggPortStatsUnknownRx: u32,
    pub dot3adAggPortStatsIllegalRx: u32,
    pub dot3adAggPortStatsLACPDUsTx: u32,
    pub dot3adAggPortStatsMarkerPDUsTx: u32,
    pub dot3adAggPortStatsMarkerResponsePDUsTx: u32,
}

fn ser_mac<S: Serializer>(m: &[u8; 6], s: S) -> Result<S::Ok, S::Error> {
    let [a, b, c, d, e, f] = *m;
    s.serialize_str(&format!("{a:02x}:{b:02x}:{c:02x}:{d:02x}:{e:02x}:{f:02x}"))
}

/// One decoded counter record.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CounterBlock {
    Generic(IfCounters),
    Ethernet(EthernetCounters),
    Vlan(VlanCounters),
    Processor(ProcessorCounters),
    Lag(LagCounters),
    /// A record type not decoded (pmacct prints the common keys only): its `enterprise << 12 |
    /// format` tag.
    Other(u32),
}

impl CounterBlock {
    /// pmacct's `sf_cnt_type`, if it has one.
    pub fn type_name(&self) -> Option<&'static str> {
        match self {
            CounterBlock::Generic(_) => Some("sflow_cnt_generic"),
            CounterBlock::Ethernet(_) => Some("sflow_cnt_ethernet"),
            CounterBlock::Vlan(_) => Some("sflow_cnt_vlan"),
            CounterBlock::Processor(_) => Some("sflow_cnt_processor"),
            CounterBlock::Lag(_) => Some("sflow_cnt_lag"),
            CounterBlock::Other(_) => None,
        }
    }
}

/// One counter record with the context sfacctd prints beside it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CounterRecord {
    /// The decoder's running message number (pmacct's `seq`), from 0.
    pub seq: u64,
    /// Datagram arrival, Unix microseconds (pmacct's `timestamp`).
    pub arrival_us: u64,
    /// Agent address from the datagram (pmacct's `peer_ip_src`).
    pub agent: IpAddr,
    pub sub_agent: u32,
    /// Datagram sequence number (`sflow_seq`).
    pub datagram_seq: u32,
    /// Counter sample sequence number (`sflow_cnt_seq`).
    pub sample_seq: u32,
    pub source_id_class: u32,
    /// `source_id_index` (usually the ifIndex).
    pub source_id_index: u32,
    pub block: CounterBlock,
}

impl CounterRecord {
    /// pmacct's `timestamp`: local time `%Y-%m-%d %H:%M:%S.%06u` (its default
    /// `timestamps_utc: false`, `timestamps_since_epoch: false`).
    pub fn timestamp(&self) -> String {
        use chrono::TimeZone;
        let secs = i64::try_from(self.arrival_us / 1_000_000).unwrap_or(0);
        let usec = self.arrival_us % 1_000_000;
        if secs == 0 {
            return format!("0000-00-00 00:00:00.{usec:06}");
        }
        match chrono::Local.timestamp_opt(secs, 0).earliest() {
            Some(t) => format!("{}.{usec:06}", t.format("%Y-%m-%d %H:%M:%S")),
            None => format!("0000-00-00 00:00:00.{usec:06}"),
        }
    }

    /// One JSON line as sfacctd writes it to `sfacctd_counter_file` (jansson's `", "` and
    /// `": "` separators), with a trailing newline.
    pub fn to_json_line(&self) -> String {
        let mut buf = Vec::with_capacity(512);
        let mut ser = serde_json::Serializer::with_formatter(&mut buf, PmacctFormatter);
        // Serializing plain numbers and strings into a Vec cannot fail.
        if self.serialize(&mut ser).is_err() {
            return String::new();
        }
        let mut s = String::from_utf8(buf).unwrap_or_default();
        s.push('\n');
        s
    }
}

/// The JSON shape of a [`CounterRecord`], keys in pmacct's order.
#[derive(serde::Serialize)]
struct Line<'a> {
    seq: u64,
    timestamp: String,
    peer_ip_src: String,
    event_type: &'static str,
    source_id_index: u32,
    sflow_seq: u32,
    sflow_cnt_seq: u32,
    #[serde(skip_serializing_if = "Option::is_none")]
    sf_cnt_type: Option<&'static str>,
    #[serde(flatten)]
    block: Option<BlockRef<'a>>,
}

#[derive(serde::Serialize)]
#[serde(untagged)]
enum BlockRef<'a> {
    Generic(&'a IfCounters),
    Ethernet(&'a EthernetCounters),
    Vlan(&'a VlanCounters),
    Processor(&'a ProcessorCounters),
    Lag(&'a LagCounters),
}

impl Serialize for CounterRecord {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let block = match &self.block {
            CounterBlock::Generic(c) => Some(BlockRef::Generic(c)),
            CounterBlock::Ethernet(c) => Some(BlockRef::Ethernet(c)),
            CounterBlock::Vlan(c) => Some(BlockRef::Vlan(c)),
            CounterBlock::Processor(c) => Some(BlockRef::Processor(c)),
            CounterBlock::Lag(c) => Some(BlockRef::Lag(c)),
            CounterBlock::Other(_) => None,
        };
        Line {
            seq: self.seq,
            timestamp: self.timestamp(),
            peer_ip_src: self.agent.to_string(),
            event_type: "log",
            source_id_index: self.source_id_index,
            sflow_seq: self.datagram_seq,
            sflow_cnt_seq: self.sample_seq,
            sf_cnt_type: self.block.type_name(),
            block,
        }
        .serialize(s)
    }
}

/// serde_json formatter with jansson's default separators (`{"a": 1, "b": 2}`).
struct PmacctFormatter;

impl serde_json::ser::Formatter for PmacctFormatter {
    fn begin_object_key<W: ?Sized + std::io::Write>(
        &mut self,
        w: &mut W,
        first: bool,
    ) -> std::io::Result<()> {
        if first { Ok(()) } else { w.write_all(b", ") }
    }

    fn begin_object_value<W: ?Sized + std::io::Write>(&mut self, w: &mut W) -> std::io::Result<()> {
        w.write_all(b": ")
    }

    fn begin_array_value<W: ?Sized + std::io::Write>(
        &mut self,
        w: &mut W,
        first: bool,
    ) -> std::io::Result<()> {
        if first { Ok(()) } else { w.write_all(b", ") }
    }
}

fn truncated(what: &'static str) -> SflowError {
    SflowError::Truncated { what }
}

/// Reads one counter record body of type `tag`; `None` for a type skipped by length.
pub(super) fn read_counter_record(
    tag: u32,
    r: &mut Reader<'_>,
) -> Result<Option<CounterBlock>, SflowError> {
    let t = || truncated("counter record");
    let u = |r: &mut Reader<'_>| r.u32().ok_or_else(t);
    let w = |r: &mut Reader<'_>| r.u64().ok_or_else(t);
    Ok(Some(match tag {
        CNT_GENERIC => CounterBlock::Generic(IfCounters {
            ifIndex: u(r)?,
            ifType: u(r)?,
            ifSpeed: w(r)?,
            ifDirection: u(r)?,
            ifStatus: u(r)?,
            ifInOctets: w(r)?,
            ifInUcastPkts: u(r)?,
            ifInMulticastPkts: u(r)?,
            ifInBroadcastPkts: u(r)?,
            ifInDiscards: u(r)?,
            ifInErrors: u(r)?,
            ifInUnknownProtos: u(r)?,
            ifOutOctets: w(r)?,
            ifOutUcastPkts: u(r)?,
            ifOutMulticastPkts: u(r)?,
            ifOutBroadcastPkts: u(r)?,
            ifOutDiscards: u(r)?,
            ifOutErrors: u(r)?,
            ifPromiscuousMode: u(r)?,
        }),
        CNT_ETHERNET => CounterBlock::Ethernet(EthernetCounters {
            dot3StatsAlignmentErrors: u(r)?,
            dot3StatsFCSErrors: u(r)?,
            dot3StatsSingleCollisionFrames: u(r)?,
            dot3StatsMultipleCollisionFrames: u(r)?,
            dot3StatsSQETestErrors: u(r)?,
            dot3StatsDeferredTransmissions: u(r)?,
            dot3StatsLateCollisions: u(r)?,
            dot3StatsExcessiveCollisions: u(r)?,
            dot3StatsInternalMacTransmitErrors: u(r)?,
            dot3StatsCarrierSenseErrors: u(r)?,
            dot3StatsFrameTooLongs: u(r)?,
            dot3StatsInternalMacReceiveErrors: u(r)?,
            dot3StatsSymbolErrors: u(r)?,
        }),
        CNT_VLAN => {
            let vlan = u(r)?;
            CounterBlock::Vlan(VlanCounters {
                octets: w(r)?,
                ucastPkts: u(r)?,
                multicastPkts: u(r)?,
                broadcastPkts: u(r)?,
                discards: u(r)?,
                vlan,
            })
        }
        CNT_PROCESSOR => CounterBlock::Processor(ProcessorCounters {
            cpu_5s: u(r)?,
            cpu_1m: u(r)?,
            cpu_5m: u(r)?,
            total_memory: w(r)?,
            free_memory: w(r)?,
        }),
        CNT_LAG => {
            let mac = |r: &mut Reader<'_>| -> Result<[u8; 6], SflowError> {
                r.opaque(6).and_then(|b| b.try_into().ok()).ok_or_else(t)
            };
            CounterBlock::Lag(LagCounters {
                dot3adAggPortActorSystemID: mac(r)?,
                dot3adAggPortPartnerOperSystemID: mac(r)?,
                dot3adAggPortAttachedAggID: u(r)?,
                dot3adAggPortState: u(r)?.to_be_bytes(),
                dot3adAggPortStatsLACPDUsRx: u(r)?,
                dot3adAggPortStatsMarkerPDUsRx: u(r)?,
                dot3adAggPortStatsMarkerResponsePDUsRx: u(r)?,
                dot3adAggPortStatsUnknownRx: u(r)?,
                dot3adAggPortStatsIllegalRx: u(r)?,
                dot3adAggPortStatsLACPDUsTx: u(r)?,
                dot3adAggPortStatsMarkerPDUsTx: u(r)?,
                dot3adAggPortStatsMarkerResponsePDUsTx: u(r)?,
            })
        }
        _ => return Ok(None),
    }))
}
