//! The v9 / IPFIX set loop: headers, template sets, options data, data sets.

use std::net::IpAddr;
use std::sync::{Arc, LazyLock};

use super::apps::{self, OptionTables};
use super::fields::{self, HeaderCtx, RecordSampling, View};
use super::options::{self, DEFAULT_SAMPLER};
use super::plan::Plan;
use super::template::{self, ParseLimits, Template, TemplateEvent};
use super::wire::{slice, u16_at, u32_at};
use super::{Domain, EnterpriseField, Exporter, NetflowError, NetflowOptions, Samplers, track_seq};
use crate::record::FlowRecord;

/// The all-default record every compiled record starts from.
static BLANK: LazyLock<FlowRecord> = LazyLock::new(FlowRecord::default);

/// v9 header length.
const V9_HEADER: usize = 20;
/// IPFIX message header length.
const IPFIX_HEADER: usize = 16;

/// Per-call context.
pub struct Ctx<'a> {
    pub opts: &'a NetflowOptions,
    pub exporter: IpAddr,
    pub arrival_us: u64,
    pub scratch: &'a mut Vec<(u32, u16)>,
    pub enterprise: &'a mut Vec<EnterpriseField>,
}

/// Decodes a v9 (`version` 9) or IPFIX (10) datagram.
pub fn datagram(
    exp: &mut Exporter,
    ctx: &mut Ctx<'_>,
    version: u16,
    p: &[u8],
    out: &mut Vec<FlowRecord>,
) -> Result<(), NetflowError> {
    let (h, body) = if version == 9 {
        let short = || NetflowError::Truncated { what: "v9 header", len: p.len() };
        let h = HeaderCtx {
            version,
            sys_uptime_ms: u32_at(p, 4).ok_or_else(short)?,
            unix_secs: u32_at(p, 8).ok_or_else(short)?,
            sequence: u32_at(p, 12).ok_or_else(short)?,
            domain: u32_at(p, 16).ok_or_else(short)?,
        };
        (h, &p[V9_HEADER..])
    } else {
        let short = || NetflowError::Truncated { what: "IPFIX header", len: p.len() };
        let len = usize::from(u16_at(p, 2).ok_or_else(short)?);
        let h = HeaderCtx {
            version,
            sys_uptime_ms: 0,
            unix_secs: u32_at(p, 4).ok_or_else(short)?,
            sequence: u32_at(p, 8).ok_or_else(short)?,
            domain: u32_at(p, 12).ok_or_else(short)?,
        };
        if len < IPFIX_HEADER || p.len() < IPFIX_HEADER {
            return Err(NetflowError::BadMessageLength { declared: len, len: p.len() });
        }
        // Sets are read up to the end of the datagram, not of the declared message length, as
        // pmacct does: an exporter that miscounts its message length (telegraf issue 14370's
        // capture) loses nothing, and a set running past the datagram is still an error.
        (h, &p[IPFIX_HEADER..])
    };
    let max_templates = ctx.opts.max_templates_per_exporter;
    let mut n_templates = exp.template_count();
    let dom = exp.domains.entry((version, h.domain)).or_default();
    let stats = &mut exp.stats;
    let global = &mut exp.global;
    let mut data_records = 0u32;
    let mut off = 0usize;
    let mut result = Ok(());
    while off + 4 <= body.len() {
        let set_id = u16_at(body, off).unwrap_or(0);
        let set_len = usize::from(u16_at(body, off + 2).unwrap_or(0));
        if set_len == 0 && body.get(off..).is_some_and(|rest| rest.iter().all(|b| *b == 0)) {
            break; // zero fill after the last set
        }
        let Some(set) = slice(body, off + 4, set_len.wrapping_sub(4)).filter(|_| set_len >= 4)
        else {
            result = Err(NetflowError::BadSetLength { set_id, offset: off, len: set_len });
            break;
        };
        off += set_len;
        match set_id {
            0 | 1 if version == 9 => {}
            2 | 3 if version == 10 => {}
            256.. => {
                let Some(tpl) = dom.templates.get(&set_id) else {
                    stats.missing_template += 1;
                    continue;
                };
                let tables =
                    Tables { samplers: &mut dom.samplers, domain: &mut dom.tables, global };
                let n = data_set(tables, ctx, &h, tpl, set, out);
                if tpl.is_options {
                    stats.options_records += u64::from(n);
                }
                data_records = data_records.wrapping_add(n);
                continue;
            }
            _ => continue, // reserved / unknown set ids are skipped, as pmacct does
        }
        let limits = ParseLimits { max_fields: ctx.opts.max_fields_per_template };
        match template::parse_set(set, set_id, limits) {
            Ok(events) => {
                for ev in events {
                    stats.template_updates += 1;
                    apply_template(dom, ev, set_id, &mut n_templates, max_templates, stats);
                }
            }
            Err(NetflowError::TooManyFields { .. }) => stats.refused += 1,
            Err(e) => {
                result = Err(e);
                break;
            }
        }
    }
    let advance = if version == 9 { 1 } else { data_records };
    let lost = track_seq(&mut dom.next_seq, h.sequence, advance);
    if version == 9 {
        stats.lost_datagrams += lost;
    } else {
        stats.lost_records += lost;
    }
    result
}

fn apply_template(
    dom: &mut Domain,
    ev: TemplateEvent,
    set_id: u16,
    count: &mut usize,
    max: usize,
    stats: &mut super::ExporterStats,
) {
    match ev {
        TemplateEvent::Define { id, fields, scope_fields, options } => {
            match dom.templates.get(&id) {
                Some(t)
                    if t.fields == fields
                        && t.scope_fields == scope_fields
                        && t.is_options == options =>
                {
                    return; // a refresh of the template known: nothing to rebuild
                }
                Some(_) => {}
                None => {
                    if *count >= max {
                        stats.refused += 1;
                        return;
                    }
                    *count += 1;
                }
            }
            dom.templates.insert(id, Arc::new(Template::new(fields, scope_fields, options)));
        }
        TemplateEvent::Withdraw { id } if id == set_id => {
            // Withdraw every template of this kind (RFC 7011 §8.1).
            let options = set_id == 3;
            let before = dom.templates.len();
            dom.templates.retain(|_, t| t.is_options != options);
            *count -= before - dom.templates.len();
        }
        TemplateEvent::Withdraw { id } => {
            if dom.templates.remove(&id).is_some() {
                *count -= 1;
            }
        }
    }
}

/// The sampling rate of a record: its own interval, or its sampler's (0 = unknown).
fn rate_of(samplers: &Samplers, s: RecordSampling) -> u32 {
    match s {
        RecordSampling::SamplerId(id) => samplers.get(&id).copied().unwrap_or(0),
        RecordSampling::Interval(i) => i,
        RecordSampling::None => samplers.get(&DEFAULT_SAMPLER).copied().unwrap_or(0),
    }
}

/// Sets the record's sampling rate, renormalising its counters if asked (as pmacct: the rate
/// is applied, the primitive then reads 1).
#[inline]
fn apply_rate(rec: &mut FlowRecord, rate: u32, renormalize: bool) {
    rec.fields.sampling_rate = rate;
    if renormalize && rate > 0 {
        rec.counters.renormalize(rate);
        rec.fields.sampling_rate = 1;
    }
}

/// Decodes the records of a data set of a compiled (fixed-length data) template.
fn planned_set(
    plan: &Plan,
    samplers: &Samplers,
    ctx: &mut Ctx<'_>,
    h: &HeaderCtx,
    tpl: &Template,
    set: &[u8],
    out: &mut Vec<FlowRecord>,
) -> u32 {
    let mut n = 0u32;
    let default_rate = samplers.get(&DEFAULT_SAMPLER).copied().unwrap_or(0);
    // Every record starts as a copy of this one (copied from a blank record made long ago,
    // not assembled field by field here: the first copy would stall on store forwarding).
    let mut base = *BLANK;
    Plan::stamp(&mut base, h, ctx.exporter, ctx.arrival_us);
    let mut rest = set;
    while let Some((data, next)) = rest.split_at_checked(plan.len) {
        rest = next;
        if ctx.opts.keep_enterprise_fields
            && tpl.has_enterprise
            && let Some((locs, _)) = &tpl.fixed
        {
            keep_enterprise(ctx.enterprise, out.len(), &View { data, tpl, locs });
        }
        out.push(base);
        let Some(rec) = out.last_mut() else { break };
        plan.fill(data, h, ctx.opts.time_new, rec);
        let rate = match plan.sampling(data) {
            RecordSampling::None => default_rate,
            s => rate_of(samplers, s),
        };
        apply_rate(rec, rate, ctx.opts.renormalize);
        n += 1;
    }
    n
}

/// The options-announced state a data set reads and (options records) updates.
struct Tables<'a> {
    samplers: &'a mut Samplers,
    domain: &'a mut OptionTables,
    global: &'a mut OptionTables,
}

/// Decodes the records of one data set; returns how many records it held.
fn data_set(
    t: Tables<'_>,
    ctx: &mut Ctx<'_>,
    h: &HeaderCtx,
    tpl: &Template,
    set: &[u8],
    out: &mut Vec<FlowRecord>,
) -> u32 {
    // Custom primitives read the record through the generic view.
    if let Some(plan) = &tpl.plan
        && ctx.opts.custom.is_none()
    {
        return planned_set(plan, t.samplers, ctx, h, tpl, set, out);
    }
    let Tables { samplers, domain, global } = t;
    let mut off = 0usize;
    let mut n = 0u32;
    // A record of the template's minimum length must fit; what is left is padding.
    while tpl.min_len > 0 && off + tpl.min_len <= set.len() {
        let rest = &set[off..];
        let (locs, len): (&[(u32, u16)], usize) = match &tpl.fixed {
            Some((locs, len)) => (locs, *len),
            None => match tpl.resolve(rest, ctx.scratch) {
                Some(len) => (ctx.scratch.as_slice(), len),
                None => break,
            },
        };
        if len == 0 || len > rest.len() {
            break;
        }
        let view = View { data: &rest[..len], tpl, locs };
        if tpl.is_options {
            if let Some((id, rate)) = options::sampler_announcement(&view) {
                samplers.insert(id, rate);
            }
            if apps::system_scope(&view) { &mut *global } else { &mut *domain }.learn(&view);
        } else {
            let mut rec = fields::record(&view, h, ctx.exporter, ctx.arrival_us, ctx.opts.time_new);
            let rate = rate_of(samplers, fields::record_sampling(&view));
            apply_rate(&mut rec, rate, ctx.opts.renormalize);
            apps::resolve(&view, domain, global, &mut rec.fields);
            if let Some(defs) = &ctx.opts.custom {
                rec.fields.custom = custom_values(&view, defs);
            }
            if ctx.opts.keep_enterprise_fields && tpl.has_enterprise {
                keep_enterprise(ctx.enterprise, out.len(), &view);
            }
            out.push(rec);
        }
        n += 1;
        off += len;
    }
    n
}

/// pmacct's `NF_custom_primitives_handler`: every defined primitive's value in the record,
/// interned. IANA elements below 384 are read at their (first) place in the template; the others
/// at the n-th occurrence the definition's `repeat` names.
fn custom_values(v: &View<'_>, defs: &[crate::aggregate::custom::CustomPrimitive]) -> u32 {
    let vals = defs
        .iter()
        .map(|d| {
            if d.field_type == 0 {
                return None; // packet_ptr only
            }
            let std = d.pen == 0 && d.field_type < 384;
            let mut seen = 0u8;
            v.tpl
                .fields
                .iter()
                .zip(v.locs)
                .find_map(|(f, (o, l))| {
                    if f.pen != d.pen || f.id != d.field_type {
                        return None;
                    }
                    if !std && seen != d.repeat {
                        seen += 1;
                        return None;
                    }
                    slice(v.data, *o as usize, usize::from(*l))
                })
                .and_then(|b| d.store(b))
        })
        .collect();
    crate::aggregate::custom::intern(vals)
}

fn keep_enterprise(dst: &mut Vec<EnterpriseField>, record: usize, v: &View<'_>) {
    for (f, (o, l)) in v.tpl.fields.iter().zip(v.locs) {
        if f.pen != 0
            && let Some(b) = slice(v.data, *o as usize, usize::from(*l))
        {
            dst.push(EnterpriseField { record, pen: f.pen, id: f.id, value: b.to_vec() });
        }
    }
}
