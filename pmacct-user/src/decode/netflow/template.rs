//! v9 / IPFIX templates: parsing template and options-template records, and the per-template
//! field index ([`Slots`]) the record decoder reads through.

use serde::{Deserialize, Serialize};

use super::NetflowError;
use super::fields::slot_of;
use super::plan::Plan;
use super::wire::{u16_at, u32_at};

/// The variable-length marker in an IPFIX field specifier (RFC 7011 §7).
pub const VARLEN: u16 = 0xffff;

/// One field specifier of a template.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct FieldSpec {
    /// Information element id (enterprise bit cleared).
    pub id: u16,
    /// Private enterprise number; 0 for IANA elements.
    pub pen: u32,
    /// Length on the wire, [`VARLEN`] for variable length.
    pub len: u16,
}

/// Number of well-known element slots (see [`super::fields::Slot`]).
pub const NSLOTS: usize = super::fields::NSLOTS;

/// Index from a well-known element to its field position in the template (`u16::MAX` =
/// absent); like pmacct's `tpl->tpl[type]`, the last occurrence of a repeated element wins.
pub type Slots = [u16; NSLOTS];

/// A data or options template.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Template {
    pub fields: Vec<FieldSpec>,
    /// Options templates: how many leading fields are scope fields (0 for data templates).
    pub scope_fields: u16,
    pub is_options: bool,
    /// `(offset, length)` of every field when no field is variable-length, plus the record
    /// length.
    pub fixed: Option<(Vec<(u32, u16)>, usize)>,
    /// Smallest possible record length (variable fields counted as 1 byte).
    pub min_len: usize,
    pub slots: Slots,
    /// True when any field has a private enterprise number.
    pub has_enterprise: bool,
    /// Fixed-length data templates: the compiled decoder ([`Plan`]).
    pub(crate) plan: Option<Plan>,
}

impl Template {
    /// Builds a template from its field specifiers.
    pub fn new(fields: Vec<FieldSpec>, scope_fields: u16, is_options: bool) -> Template {
        let mut slots = [u16::MAX; NSLOTS];
        let mut fixed = true;
        let mut offs = Vec::with_capacity(fields.len());
        let mut off = 0usize;
        let mut min_len = 0usize;
        let mut has_enterprise = false;
        for (i, f) in fields.iter().enumerate() {
            if f.pen == 0 {
                if let Some(s) = slot_of(f.id) {
                    slots[s as usize] = i as u16;
                }
            } else {
                has_enterprise = true;
            }
            if f.len == VARLEN {
                fixed = false;
                min_len += 1;
            } else {
                offs.push((off as u32, f.len));
                off += usize::from(f.len);
                min_len += usize::from(f.len);
            }
        }
        // Templates whose records need the options tables take the generic path.
        let plan = if fixed && !is_options && !super::apps::needs_tables(&slots) {
            Plan::compile(&slots, &offs, off)
        } else {
            None
        };
        Template {
            fixed: fixed.then_some((offs, off)),
            plan,
            fields,
            scope_fields,
            is_options,
            min_len,
            slots,
            has_enterprise,
        }
    }

    /// Resolves the `(offset, length)` of every field of the record starting at `data[0]`
    /// into `scratch` and returns the record length; `None` when the record does not fit
    /// (pmacct's `resolve_vlen_template` failing).
    pub fn resolve(&self, data: &[u8], scratch: &mut Vec<(u32, u16)>) -> Option<usize> {
        scratch.clear();
        let mut off = 0usize;
        for f in &self.fields {
            let len = if f.len == VARLEN {
                let first = *data.get(off)?;
                if first < 255 {
                    off += 1;
                    usize::from(first)
                } else {
                    let l = u16_at(data, off + 1)?;
                    off += 3;
                    usize::from(l)
                }
            } else {
                usize::from(f.len)
            };
            if off + len > data.len() {
                return None;
            }
            scratch.push((off as u32, len as u16));
            off += len;
        }
        Some(off)
    }
}

/// What a template record announced.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum TemplateEvent {
    /// A (re)definition of `id` (the template is built only when it differs from the one
    /// known: exporters resend unchanged templates every few datagrams).
    Define { id: u16, fields: Vec<FieldSpec>, scope_fields: u16, options: bool },
    /// IPFIX withdrawal of `id` (field count 0); id 2 or 3 withdraws all of that kind.
    Withdraw { id: u16 },
}

/// Limits applied while parsing.
#[derive(Clone, Copy, Debug)]
pub struct ParseLimits {
    pub max_fields: usize,
}

fn bad(id: u16, reason: &'static str) -> NetflowError {
    NetflowError::BadTemplate { id, reason }
}

/// Reads `count` field specifiers at `off`; returns them and the offset after them.
fn read_fields(
    b: &[u8],
    mut off: usize,
    count: usize,
    ipfix: bool,
    id: u16,
) -> Result<(Vec<FieldSpec>, usize), NetflowError> {
    let mut fields = Vec::with_capacity(count.min(512));
    for _ in 0..count {
        let ty = u16_at(b, off).ok_or_else(|| bad(id, "truncated field specifier"))?;
        let len = u16_at(b, off + 2).ok_or_else(|| bad(id, "truncated field specifier"))?;
        off += 4;
        let (id_, pen) = if ipfix && ty & 0x8000 != 0 {
            let pen = u32_at(b, off).ok_or_else(|| bad(id, "truncated enterprise number"))?;
            off += 4;
            (ty & 0x7fff, pen)
        } else {
            (ty, 0)
        };
        // RFC 3954 has no variable-length fields, but H3C NetStream v9 exports them with
        // IPFIX's encoding (length 65535, then a 1- or 3-byte length per record), and pmacct
        // reads them so in v9 too.
        fields.push(FieldSpec { id: id_, pen, len });
    }
    Ok((fields, off))
}

/// Parses the records of a template flowset body (`b` = the flowset after its 4-byte
/// header). `set_id` is 0/1 (v9 template/options) or 2/3 (IPFIX). Stops at padding.
pub fn parse_set(
    b: &[u8],
    set_id: u16,
    limits: ParseLimits,
) -> Result<Vec<TemplateEvent>, NetflowError> {
    let ipfix = set_id >= 2;
    let options = set_id == 1 || set_id == 3;
    let mut ev = Vec::new();
    let mut off = 0usize;
    // A record needs at least its 4-byte header (6 for options); less is padding.
    while off + if options { 6 } else { 4 } <= b.len() {
        let id = u16_at(b, off).unwrap_or(0);
        let count = u16_at(b, off + 2).unwrap_or(0);
        if id == 0 && count == 0 {
            break; // padding
        }
        if ipfix && count == 0 {
            ev.push(TemplateEvent::Withdraw { id });
            off += 4;
            continue;
        }
        let (fields, scope, next) = if !options {
            if id < 256 {
                return Err(bad(id, "template id below 256"));
            }
            if usize::from(count) > limits.max_fields {
                return Err(NetflowError::TooManyFields { id, count: usize::from(count) });
            }
            let (f, n) = read_fields(b, off + 4, usize::from(count), ipfix, id)?;
            (f, 0u16, n)
        } else if ipfix {
            let scope = u16_at(b, off + 4).ok_or_else(|| bad(id, "truncated"))?;
            if scope == 0 || scope > count {
                return Err(bad(id, "bad scope field count"));
            }
            if usize::from(count) > limits.max_fields {
                return Err(NetflowError::TooManyFields { id, count: usize::from(count) });
            }
            let (f, n) = read_fields(b, off + 6, usize::from(count), true, id)?;
            (f, scope, n)
        } else {
            // v9 options: scope length and option length in bytes.
            let scope_len = usize::from(count);
            let opt_len = usize::from(u16_at(b, off + 4).ok_or_else(|| bad(id, "truncated"))?);
            if scope_len % 4 != 0 || opt_len % 4 != 0 {
                return Err(bad(id, "options lengths not multiples of 4"));
            }
            let n = (scope_len + opt_len) / 4;
            if n > limits.max_fields {
                return Err(NetflowError::TooManyFields { id, count: n });
            }
            let (f, next) = read_fields(b, off + 6, n, false, id)?;
            let next = next.max(off + 6);
            (f, (scope_len / 4) as u16, next)
        };
        if id < 256 {
            return Err(bad(id, "template id below 256"));
        }
        ev.push(TemplateEvent::Define { id, fields, scope_fields: scope, options });
        off = next;
        if !ipfix && options {
            break; // a v9 options flowset holds one template, then padding
        }
    }
    Ok(ev)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_ipfix_template_with_enterprise_and_varlen() {
        let b = [
            1, 0, 0, 3, // id 256, 3 fields
            0, 8, 0, 4, // sourceIPv4Address
            0x80, 1, 0xff, 0xff, 0, 0, 0x12, 0x34, // PEN field, varlen
            0, 2, 0, 8, // packetDeltaCount
        ];
        let ev = parse_set(&b, 2, ParseLimits { max_fields: 64 }).unwrap();
        let TemplateEvent::Define { id, fields, scope_fields, options } = &ev[0] else { panic!() };
        assert_eq!(*id, 256);
        let template = Template::new(fields.clone(), *scope_fields, *options);
        assert_eq!(template.fields[1], FieldSpec { id: 1, pen: 0x1234, len: VARLEN });
        assert!(template.fixed.is_none() && template.has_enterprise);
        let mut s = Vec::new();
        let data = [10, 0, 0, 1, 2, 0xaa, 0xbb, 0, 0, 0, 0, 0, 0, 0, 5];
        assert_eq!(template.resolve(&data, &mut s), Some(15));
        assert_eq!(s[1], (5, 2));
        assert_eq!(template.resolve(&data[..10], &mut s), None);
    }

    #[test]
    fn limits_and_withdrawal() {
        let b = [1, 0, 0, 2, 0, 8, 0, 4, 0, 12, 0, 4];
        assert!(matches!(
            parse_set(&b, 0, ParseLimits { max_fields: 1 }),
            Err(NetflowError::TooManyFields { .. })
        ));
        let w = [1, 1, 0, 0];
        assert_eq!(
            parse_set(&w, 2, ParseLimits { max_fields: 8 }).unwrap(),
            vec![TemplateEvent::Withdraw { id: 257 }]
        );
    }
}
