//! NetFlow v5, v9 (RFC 3954) and IPFIX (RFC 7011/7012) decoding into [`FlowRecord`]s, following
//! pmacct 1.7.7's nfacctd (src/nfacctd.c, src/nfv9_template.c, src/pkt_handlers.c `NF_*`).
//!
//! [`NetflowDecoder`] is pure: bytes and explicit state in, records out. It never panics on wire
//! data; malformed input is a typed [`NetflowError`] and a per-exporter counter.

mod apps;
mod fields;
mod flowset;
mod options;
mod persist;
mod plan;
mod template;
mod v5;
mod wire;

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;

use rustc_hash::FxHashMap;
use serde::Serialize;

pub use fields::HeaderCtx;
pub use persist::TemplatesFileError;
pub use template::{FieldSpec, Template, VARLEN};

use crate::record::FlowRecord;

/// Decoder options (pmacct keys in parentheses).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NetflowOptions {
    /// Timestamps are the arrival time instead of the exporter's (`nfacctd_time_new`).
    pub time_new: bool,
    /// Multiply packets, bytes and flows by the sampling rate (`nfacctd_renormalize`).
    pub renormalize: bool,
    /// Templates (data + options) kept per exporter; more are refused and counted.
    pub max_templates_per_exporter: usize,
    /// Fields per template; longer templates are refused and counted.
    pub max_fields_per_template: usize,
    /// Exporters tracked; datagrams from more are refused and counted.
    pub max_exporters: usize,
    /// Keep enterprise-specific fields of data records (see
    /// [`NetflowDecoder::take_enterprise_fields`]); otherwise they are skipped.
    pub keep_enterprise_fields: bool,
    /// `aggregate_primitives` to read from data records into
    /// [`FlowFields::custom`](crate::record::FlowFields::custom); `None`: none defined.
    pub custom: Option<std::sync::Arc<Vec<crate::aggregate::custom::CustomPrimitive>>>,
}

impl Default for NetflowOptions {
    fn default() -> Self {
        Self {
            time_new: false,
            renormalize: false,
            max_templates_per_exporter: 4096,
            max_fields_per_template: 512,
            max_exporters: 65_536,
            keep_enterprise_fields: false,
            custom: None,
        }
    }
}

/// Why a datagram (or the rest of it) was not decoded.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum NetflowError {
    #[error("{what} truncated ({len} bytes)")]
    Truncated { what: &'static str, len: usize },
    #[error("unsupported export version {0}")]
    UnsupportedVersion(u16),
    #[error("NetFlow v5 datagram of {len} bytes does not hold {count} records")]
    BadV5Length { count: u16, len: usize },
    #[error("IPFIX message length {declared} exceeds the {len}-byte datagram")]
    BadMessageLength { declared: usize, len: usize },
    #[error("set {set_id} at offset {offset}: length {len} out of bounds")]
    BadSetLength { set_id: u16, offset: usize, len: usize },
    #[error("template {id}: {reason}")]
    BadTemplate { id: u16, reason: &'static str },
    #[error("template {id} has {count} fields, over the limit")]
    TooManyFields { id: u16, count: usize },
    #[error("exporter limit reached, {0} refused")]
    TooManyExporters(IpAddr),
}

/// Counters of one exporter (or totals).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub struct ExporterStats {
    pub datagrams: u64,
    /// Flow records produced.
    pub flows: u64,
    /// Malformed datagrams (or trailing parts of datagrams).
    pub malformed: u64,
    /// Templates currently known.
    pub templates: u64,
    /// Template (re)definitions and withdrawals received.
    pub template_updates: u64,
    /// Data sets dropped because their template was unknown (pmacct drops them too).
    pub missing_template: u64,
    /// v9: datagrams lost per sequence gaps.
    pub lost_datagrams: u64,
    /// v5 / IPFIX: records lost per sequence gaps.
    pub lost_records: u64,
    /// Templates refused by a limit.
    pub refused: u64,
    /// Options data records processed.
    pub options_records: u64,
}

impl ExporterStats {
    fn add(&mut self, o: &ExporterStats) {
        self.datagrams += o.datagrams;
        self.flows += o.flows;
        self.malformed += o.malformed;
        self.templates += o.templates;
        self.template_updates += o.template_updates;
        self.missing_template += o.missing_template;
        self.lost_datagrams += o.lost_datagrams;
        self.lost_records += o.lost_records;
        self.refused += o.refused;
        self.options_records += o.options_records;
    }
}

/// A snapshot of the decoder's counters.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct NetflowStats {
    /// Per exporter address, sorted by address.
    pub exporters: Vec<(IpAddr, ExporterStats)>,
    /// Sum over exporters.
    pub total: ExporterStats,
    /// Datagrams refused because `max_exporters` was reached.
    pub refused_exporters: u64,
}

/// An enterprise-specific field of a decoded record, kept for custom primitives.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EnterpriseField {
    /// Index of the record in the `out` vector given to [`NetflowDecoder::decode`].
    pub record: usize,
    pub pen: u32,
    pub id: u16,
    pub value: Vec<u8>,
}

/// Sampler id → sampling rate.
type Samplers = FxHashMap<u64, u32>;

/// Templates, samplers and sequence state of one (version, source id / domain).
#[derive(Debug, Default)]
struct Domain {
    templates: FxHashMap<u16, Arc<Template>>,
    /// Sampler id → rate (id 0: sampling announced without an id).
    samplers: Samplers,
    /// Next expected sequence number.
    next_seq: Option<u32>,
    /// Application names and VRF route distinguishers announced for this domain.
    tables: apps::OptionTables,
}

#[derive(Debug, Default)]
struct Exporter {
    domains: FxHashMap<(u16, u32), Domain>,
    /// What options of system scope announced (pmacct's global entry of the exporter).
    global: apps::OptionTables,
    stats: ExporterStats,
}

impl Exporter {
    fn template_count(&self) -> usize {
        self.domains.values().map(|d| d.templates.len()).sum()
    }
}

/// The NetFlow/IPFIX decoder with its per-exporter state.
#[derive(Debug)]
pub struct NetflowDecoder {
    opts: NetflowOptions,
    exporters: FxHashMap<IpAddr, Exporter>,
    refused_exporters: u64,
    scratch: Vec<(u32, u16)>,
    enterprise: Vec<EnterpriseField>,
}

impl NetflowDecoder {
    /// A decoder with no templates.
    pub fn new(opts: NetflowOptions) -> Self {
        NetflowDecoder {
            opts,
            exporters: FxHashMap::default(),
            refused_exporters: 0,
            scratch: Vec::new(),
            enterprise: Vec::new(),
        }
    }

    /// The options in force.
    pub fn options(&self) -> &NetflowOptions {
        &self.opts
    }

    /// Decodes one export datagram from `exporter`, arrived at `arrival_us` (Unix µs),
    /// appending one [`FlowRecord`] per flow to `out`; returns how many were appended. On a
    /// malformed datagram the records of the sets before the bad part are kept, nothing of the
    /// bad part is appended, and the error is returned (and counted).
    pub fn decode(
        &mut self,
        exporter: SocketAddr,
        arrival_us: u64,
        payload: &[u8],
        out: &mut Vec<FlowRecord>,
    ) -> Result<usize, NetflowError> {
        let ip = exporter.ip();
        let full = self.exporters.len() >= self.opts.max_exporters;
        let exp = match self.exporters.entry(ip) {
            std::collections::hash_map::Entry::Occupied(e) => e.into_mut(),
            std::collections::hash_map::Entry::Vacant(_) if full => {
                self.refused_exporters += 1;
                return Err(NetflowError::TooManyExporters(ip));
            }
            std::collections::hash_map::Entry::Vacant(e) => {
                if payload.len() < 2 {
                    // As before: a datagram too short for a version creates no exporter.
                    return Err(NetflowError::Truncated {
                        what: "export header",
                        len: payload.len(),
                    });
                }
                e.insert(Exporter::default())
            }
        };
        let before = out.len();
        let version = wire::u16_at(payload, 0)
            .ok_or(NetflowError::Truncated { what: "export header", len: payload.len() })?;
        exp.stats.datagrams += 1;
        let res = match version {
            5 => v5_datagram(exp, &self.opts, ip, arrival_us, payload, out),
            9 | 10 => {
                let mut ctx = flowset::Ctx {
                    opts: &self.opts,
                    exporter: ip,
                    arrival_us,
                    scratch: &mut self.scratch,
                    enterprise: &mut self.enterprise,
                };
                flowset::datagram(exp, &mut ctx, version, payload, out)
            }
            v => Err(NetflowError::UnsupportedVersion(v)),
        };
        let n = out.len() - before;
        exp.stats.flows += n as u64;
        if res.is_err() {
            exp.stats.malformed += 1;
        }
        res.map(|()| n)
    }

    /// Per-exporter and total counters.
    pub fn stats(&self) -> NetflowStats {
        let mut exporters: Vec<(IpAddr, ExporterStats)> = self
            .exporters
            .iter()
            .map(|(ip, e)| {
                let mut s = e.stats;
                s.templates = e.template_count() as u64;
                (*ip, s)
            })
            .collect();
        exporters.sort_by_key(|(ip, _)| *ip);
        let mut total = ExporterStats::default();
        for (_, s) in &exporters {
            total.add(s);
        }
        NetflowStats { exporters, total, refused_exporters: self.refused_exporters }
    }

    /// Enterprise fields kept since the last call (only with `keep_enterprise_fields`).
    pub fn take_enterprise_fields(&mut self) -> Vec<EnterpriseField> {
        std::mem::take(&mut self.enterprise)
    }

    /// Serialises every template and sampler table (JSON) for `nfacctd_templates_file`.
    pub fn save_templates(&self) -> Vec<u8> {
        persist::save(self)
    }

    /// Loads what [`NetflowDecoder::save_templates`] wrote; returns how many templates were
    /// loaded (limits apply). Existing templates with the same key are replaced.
    pub fn load_templates(&mut self, data: &[u8]) -> Result<usize, TemplatesFileError> {
        persist::load(self, data)
    }
}

/// Tracks a sequence number; returns how many units were lost before `seq`.
fn track_seq(next: &mut Option<u32>, seq: u32, advance: u32) -> u64 {
    let lost = match *next {
        Some(exp) if seq != exp => {
            let gap = seq.wrapping_sub(exp);
            if gap < 1 << 31 { u64::from(gap) } else { 0 } // behind: reordered or reset
        }
        _ => 0,
    };
    *next = Some(seq.wrapping_add(advance));
    lost
}

fn v5_datagram(
    exp: &mut Exporter,
    opts: &NetflowOptions,
    ip: IpAddr,
    arrival_us: u64,
    payload: &[u8],
    out: &mut Vec<FlowRecord>,
) -> Result<(), NetflowError> {
    let h = v5::header(payload)?;
    let dom =
        exp.domains.entry((5, u32::from(h.engine_type) << 8 | u32::from(h.engine_id))).or_default();
    exp.stats.lost_records += track_seq(&mut dom.next_seq, h.sequence, u32::from(h.count));
    v5::decode(payload, &h, ip, arrival_us, opts, out);
    Ok(())
}

#[cfg(test)]
mod tests;
