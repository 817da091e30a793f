//! sFlow v5 decoder with sfacctd 1.7.7's accounting semantics.
//!
//! [`SflowDecoder::decode`] turns one datagram into [`FlowRecord`]s (flow samples) and
//! [`CounterRecord`]s (counter samples). It is panic-free on any input; a malformed sample is
//! counted and skipped, the good samples around it are kept.
//!
//! sfacctd details followed (src/sfacctd.c, src/sflow.c, src/pkt_handlers.c at v1.7.7):
//! - a flow sample counts 1 packet of `frame_length` bytes (the sampled header record's original
//!   frame length, FCS included, `stripped` not subtracted; a sampled IPv4/IPv6 record's length
//!   overrides it; a sampled Ethernet record's length is used when nothing else is known);
//! - `peer_src_ip` is the agent address carried in the datagram, not the UDP source (sfacctd
//!   overwrites the socket address with it before any processing);
//! - `in_iface`/`out_iface` of compact samples keep the 2 format bits (0x3FFFFFFF = internal,
//!   0x4000_0000 | reason = discarded, 0x8000_0000 | n = sent to n interfaces); expanded
//!   samples carry the format separately and the plain index is used;
//! - VLAN: the extended switch record's input VLAN, else its output VLAN; the header's 802.1Q
//!   tag only when no switch record set one;
//! - `sampling_rate` is the sample's rate, or 1 with renormalisation (already applied);
//! - renormalisation (`sfacctd_renormalize`) multiplies packets and bytes by the effective rate
//!   of the source (sample-pool delta / sequence delta since the previous sample of the same
//!   agent and source id), falling back to the sample's rate, as `SF_counters_renormalize_handler`;
//! - the record's start time is the datagram's arrival (pmacct's `sample->ts`); no end time;
//! - samples that carry neither IPv4 nor IPv6 but a known Ethernet type (ARP, ...) are not
//!   accounted; samples with no L3 type at all are (sfacctd's "VLAN or MPLS accounting case").
//!
//! Sequence numbers are tracked per (agent, sub-agent): a forward jump counts the missing
//! datagrams as lost, a backward jump (restart, reordering) is counted apart.

mod counters;
mod extended;
mod flow;
mod header;
mod reader;
mod stats;
#[cfg(test)]
mod tests;

use std::net::{IpAddr, SocketAddr};

use rustc_hash::FxHashMap;

pub use counters::{
    CounterBlock, CounterRecord, EthernetCounters, IfCounters, LagCounters, ProcessorCounters,
    VlanCounters,
};
pub use extended::ExtendedGateway;
pub use stats::{AgentStats, SflowStats};

use flow::FlowState;
use reader::Reader;
use stats::{Agents, Tally};

use crate::record::FlowRecord;

const SAMPLE_FLOW: u32 = 1;
const SAMPLE_COUNTERS: u32 = 2;
const SAMPLE_FLOW_EXPANDED: u32 = 3;
const SAMPLE_COUNTERS_EXPANDED: u32 = 4;
/// Foundry/Brocade ACL-based sample header (enterprise 1991, format 1): three words, then a
/// regular sample type follows (sfacctd skips them the same way).
const SAMPLE_BROCADE_ACL: u32 = 8_155_137;
/// pmacct's `XFLOW_RESET_BOUNDARY`: a sequence jump beyond this resets the rate estimate.
const RESET_BOUNDARY: u32 = 50;

/// Decoder settings.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SflowOptions {
    /// `sfacctd_renormalize`: scale packets and bytes by the sampling rate.
    pub renormalize: bool,
    /// pmacct `use_ip_next_hop`: an IPv4 extended-router next hop becomes `peer_dst_ip` when no
    /// BGP next hop is known (IPv6 ones always do, as in sfacctd).
    pub use_ip_next_hop: bool,
    /// Fill `as_path` and `std_comm` from extended gateway records (interned strings: only
    /// when a plugin aggregates them).
    pub keep_bgp: bool,
    /// Stop at the first unknown sample type of a datagram, as sfacctd does ("discarding unknown
    /// v5 sample"). Default false: skip it by its length and go on.
    pub abort_on_unknown_sample: bool,
    /// Most samples read from one datagram (a guard against absurd sample counts).
    pub max_samples: u32,
    /// Most (agent, sub-agent) pairs tracked; datagrams of further agents are decoded but their
    /// statistics go to [`SflowStats::untracked`].
    pub max_agents: usize,
}

impl Default for SflowOptions {
    fn default() -> Self {
        SflowOptions {
            renormalize: false,
            use_ip_next_hop: false,
            keep_bgp: false,
            abort_on_unknown_sample: false,
            max_samples: 4096,
            max_agents: 65_536,
        }
    }
}

/// Why a datagram (or part of it) was not decoded.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum SflowError {
    /// The data ended inside a structure.
    #[error("truncated {what}")]
    Truncated { what: &'static str },
    /// Not sFlow v5 (sFlow v2/v4 are not decoded).
    #[error("unsupported sFlow version {0}")]
    UnsupportedVersion(u32),
    /// An address type other than 0 (unknown), 1 (IPv4), 2 (IPv6).
    #[error("bad address type {0}")]
    BadAddressType(u32),
    /// A known flow record whose declared length differs from its content (sfacctd's
    /// `lengthCheck`): the sample is dropped.
    #[error("flow record {tag:#x}: length {declared} but {parsed} bytes parsed")]
    LengthMismatch { tag: u32, declared: usize, parsed: usize },
    /// An unknown sample type with [`SflowOptions::abort_on_unknown_sample`].
    #[error("unknown sample type {0:#x}")]
    UnknownSampleType(u32),
    /// More samples than [`SflowOptions::max_samples`].
    #[error("{0} samples in one datagram")]
    TooManySamples(u32),
}

/// Last sample of one source (agent, sub-agent, source id) for the effective sampling rate.
#[derive(Clone, Copy, Debug)]
struct RateState {
    seq: u32,
    pool: u32,
}

/// A stateful sFlow v5 decoder: one per socket thread (state is per agent).
#[derive(Debug)]
pub struct SflowDecoder {
    opts: SflowOptions,
    agents: Agents,
    rates: FxHashMap<(IpAddr, u32, u32), RateState>,
    counter_seq: u64,
    state: FlowState,
}

impl SflowDecoder {
    /// A decoder with `opts`.
    pub fn new(opts: SflowOptions) -> Self {
        SflowDecoder {
            agents: Agents::new(opts.max_agents),
            opts,
            rates: FxHashMap::default(),
            counter_seq: 0,
            state: FlowState::default(),
        }
    }

    /// Decodes one datagram from `src` (UDP source), arrived at `arrival_us` (Unix µs): flow
    /// samples become [`FlowRecord`]s in `flows`, counter records [`CounterRecord`]s in
    /// `counters`. Returns the number of samples decoded. On an error the records of the
    /// datagram's good samples stay appended; the error is the first one met.
    pub fn decode(
        &mut self,
        src: SocketAddr,
        arrival_us: u64,
        payload: &[u8],
        flows: &mut Vec<FlowRecord>,
        counters: &mut Vec<CounterRecord>,
    ) -> Result<usize, SflowError> {
        let _ = src; // sfacctd identifies the exporter by the agent address in the datagram.
        let mut r = Reader::new(payload);
        let head = match read_datagram_header(&mut r) {
            Ok(h) => h,
            Err(e) => {
                self.agents.malformed_unparsed += 1;
                return Err(e);
            }
        };
        let slot = self.agents.datagram(head.agent, head.sub_agent, head.seq);
        let mut tally = Tally::default();
        let mut first_err = None;
        if head.samples > self.opts.max_samples {
            first_err = Some(SflowError::TooManySamples(head.samples));
        }
        for _ in 0..head.samples.min(self.opts.max_samples) {
            let Some(mut kind) = r.u32() else {
                first_err.get_or_insert(SflowError::Truncated { what: "sample tag" });
                break;
            };
            if kind == SAMPLE_BROCADE_ACL {
                // length, FoundryFlags, FoundryGroupID; then the real sample type.
                match r.skip(12).and_then(|_| r.u32()) {
                    Some(k) => kind = k,
                    None => {
                        first_err.get_or_insert(SflowError::Truncated { what: "Brocade sample" });
                        break;
                    }
                }
            }
            let body = r.u32().and_then(|l| usize::try_from(l).ok()).and_then(|l| r.sub(l));
            let Some(mut body) = body else {
                first_err.get_or_insert(SflowError::Truncated { what: "sample" });
                break;
            };
            let res = match kind {
                SAMPLE_FLOW | SAMPLE_FLOW_EXPANDED => {
                    let expanded = kind == SAMPLE_FLOW_EXPANDED;
                    let r = self.flow_sample(&head, &mut body, expanded, arrival_us, flows);
                    tally.flow_samples += u64::from(r.is_ok());
                    r
                }
                SAMPLE_COUNTERS | SAMPLE_COUNTERS_EXPANDED => {
                    let expanded = kind == SAMPLE_COUNTERS_EXPANDED;
                    let r = self.counter_sample(&head, &mut body, expanded, arrival_us, counters);
                    tally.counter_samples += u64::from(r.is_ok());
                    r
                }
                other => {
                    tally.unknown_samples += 1;
                    if self.opts.abort_on_unknown_sample {
                        first_err.get_or_insert(SflowError::UnknownSampleType(other));
                        break;
                    }
                    continue;
                }
            };
            match res {
                Ok(unknown) => tally.unknown_records += u64::from(unknown),
                Err(e) => {
                    tally.malformed_samples += 1;
                    first_err.get_or_insert(e);
                }
            }
        }
        tally.malformed_datagrams = u64::from(first_err.is_some());
        self.agents.add(slot, &tally);
        match first_err {
            Some(e) => Err(e),
            None => Ok((tally.flow_samples + tally.counter_samples) as usize),
        }
    }

    /// Per-agent statistics.
    pub fn stats(&self) -> SflowStats {
        self.agents.snapshot()
    }

    /// Reads a flow sample and appends its record; returns the unknown records skipped.
    fn flow_sample(
        &mut self,
        head: &DatagramHeader,
        body: &mut Reader<'_>,
        expanded: bool,
        arrival_us: u64,
        flows: &mut Vec<FlowRecord>,
    ) -> Result<u32, SflowError> {
        let st = &mut self.state;
        *st = FlowState::default();
        flow::read_flow_sample(body, expanded, self.opts.keep_bgp, st)?;
        let unknown = st.unknown_records;
        if !st.accounted() {
            return Ok(unknown);
        }
        let cx = flow::RecordContext {
            agent: head.agent,
            sub_agent: head.sub_agent,
            seq: head.seq,
            arrival_us,
            use_ip_next_hop: self.opts.use_ip_next_hop,
        };
        let mut rec = st.to_record(&cx);
        if self.opts.renormalize {
            let key = (head.agent, head.sub_agent, st.ds_class << 24 | st.ds_index);
            let rate = effective_rate(&mut self.rates, key, st);
            rec.counters.packets = rec.counters.packets.saturating_mul(u64::from(rate));
            rec.counters.bytes = rec.counters.bytes.saturating_mul(u64::from(rate));
            if rec.fields.sampling_rate != 0 {
                rec.fields.sampling_rate = 1;
            }
        }
        flows.push(rec);
        Ok(unknown)
    }

    /// Reads a counter sample, one [`CounterRecord`] per counter record (unknown ones too, as
    /// [`CounterBlock::Other`]); returns the unknown records.
    fn counter_sample(
        &mut self,
        head: &DatagramHeader,
        body: &mut Reader<'_>,
        expanded: bool,
        arrival_us: u64,
        out: &mut Vec<CounterRecord>,
    ) -> Result<u32, SflowError> {
        let t = || SflowError::Truncated { what: "counter sample header" };
        let sample_seq = body.u32().ok_or_else(t)?;
        let (class, index) = if expanded {
            (body.u32().ok_or_else(t)?, body.u32().ok_or_else(t)?)
        } else {
            let id = body.u32().ok_or_else(t)?;
            (id >> 24, id & 0x00FF_FFFF)
        };
        let n = body.u32().ok_or_else(t)?;
        let mut unknown = 0;
        for _ in 0..n {
            let tag = body.u32().ok_or(SflowError::Truncated { what: "counter tag" })?;
            let len = body.u32().and_then(|l| usize::try_from(l).ok());
            let mut rec = len
                .and_then(|l| body.sub(l))
                .ok_or(SflowError::Truncated { what: "counter record" })?;
            let block = match counters::read_counter_record(tag, &mut rec)? {
                Some(b) => b,
                None => {
                    unknown += 1;
                    CounterBlock::Other(tag)
                }
            };
            out.push(CounterRecord {
                seq: self.counter_seq,
                arrival_us,
                agent: head.agent,
                sub_agent: head.sub_agent,
                datagram_seq: head.seq,
                sample_seq,
                source_id_class: class,
                source_id_index: index,
                block,
            });
            self.counter_seq += 1;
        }
        Ok(unknown)
    }
}

impl Default for SflowDecoder {
    fn default() -> Self {
        SflowDecoder::new(SflowOptions::default())
    }
}

/// sfacctd's effective sampling rate for a sample (`SF_counters_renormalize_handler`).
fn effective_rate(
    rates: &mut FxHashMap<(IpAddr, u32, u32), RateState>,
    key: (IpAddr, u32, u32),
    st: &FlowState,
) -> u32 {
    match rates.get_mut(&key) {
        Some(prev) => {
            if st.seq > prev.seq && st.sample_pool > prev.pool {
                let rate = (st.sample_pool - prev.pool) / (st.seq - prev.seq);
                *prev = RateState { seq: st.seq, pool: st.sample_pool };
                return rate;
            }
            let (hi, lo) = (st.seq.max(prev.seq), st.seq.min(prev.seq));
            if hi > lo.saturating_add(RESET_BOUNDARY) {
                *prev = RateState { seq: st.seq, pool: st.sample_pool };
            }
        }
        None => {
            rates.insert(key, RateState { seq: st.seq, pool: st.sample_pool });
        }
    }
    st.sampling_rate
}

/// The fixed part of an sFlow v5 datagram.
#[derive(Clone, Copy, Debug)]
struct DatagramHeader {
    agent: IpAddr,
    sub_agent: u32,
    seq: u32,
    samples: u32,
}

fn read_datagram_header(r: &mut Reader<'_>) -> Result<DatagramHeader, SflowError> {
    let t = || SflowError::Truncated { what: "datagram header" };
    let version = r.u32().ok_or_else(t)?;
    if version != 5 {
        return Err(SflowError::UnsupportedVersion(version));
    }
    let agent = extended::address(r)?.unwrap_or(IpAddr::V4(std::net::Ipv4Addr::UNSPECIFIED));
    let sub_agent = r.u32().ok_or_else(t)?;
    let seq = r.u32().ok_or_else(t)?;
    let _uptime = r.u32().ok_or_else(t)?;
    let samples = r.u32().ok_or_else(t)?;
    Ok(DatagramHeader { agent, sub_agent, seq, samples })
}
