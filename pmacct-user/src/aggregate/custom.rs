//! pmacct's custom primitives (`aggregate_primitives`, examples/primitives.lst.example): named
//! NetFlow v9 / IPFIX elements (enterprise ones as `pen:type`) of a given length and semantics,
//! usable in `aggregate` like built-in primitives.
//!
//! A record's values for every defined primitive are interned together into one `u32`
//! ([`FlowFields::custom`](crate::record::FlowFields::custom)), so records and keys stay `Copy`
//! and fixed-size; a plugin keying on some of them interns its projection
//! ([`project`]). Values are stored as pmacct keeps them in its `pcust` buffer (raw bytes, or the
//! dash-separated upper-case hex text for `raw`), and printed as pmacct's
//! `custom_primitive_value_print` does (src/util.c, 1.7.7).

use std::collections::HashMap;
use std::fmt::Write as _;
use std::net::{Ipv4Addr, Ipv6Addr};
use std::path::Path;
use std::sync::{Arc, OnceLock, RwLock};

/// How a custom primitive is presented.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Semantics {
    /// Unsigned integer of 1, 2, 4 or 8 bytes, printed in decimal.
    UInt,
    /// Unsigned integer of 1, 2, 4 or 8 bytes, printed in lower-case hex.
    Hex,
    /// IPv4 (4 bytes) or IPv6 (16 bytes) address.
    Ip,
    /// MAC address (6 bytes).
    Mac,
    /// NUL-terminated string.
    Str,
    /// Any bytes, printed as upper-case hex pairs joined by `-`.
    Raw,
}

/// Where pmacctd reads a custom primitive in a packet (`packet_ptr=<layer>[:<proto>][+<off>]`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PacketPtr {
    pub layer: Layer,
    /// Ethertype for `l3`, IP protocol for `l4`; `None`: any.
    pub proto: Option<u16>,
    pub offset: u16,
}

/// The `packet_ptr` layers supported.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Layer {
    /// Start of the captured frame (`packet`, and `mac` on Ethernet).
    Packet,
    /// Network header.
    L3,
    /// Transport header.
    L4,
}

/// One `aggregate_primitives` entry.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CustomPrimitive {
    /// Lower-case name, used in `aggregate` and as the column header / JSON key.
    pub name: String,
    /// Private enterprise number; 0 for IANA elements.
    pub pen: u32,
    /// Information element id.
    pub field_type: u16,
    /// Length in bytes; `None` for `vlen`.
    pub len: Option<u16>,
    pub semantics: Semantics,
    /// Which occurrence of the same `pen:type` in a template this entry reads (pmacct's
    /// `repeat_id`: the n-th definition of one element reads its n-th occurrence).
    pub repeat: u8,
    /// Packet offsets (pmacctd, packet captures); the last one that applies wins, as in pmacct.
    pub packet_ptrs: Vec<PacketPtr>,
}

/// A problem in an `aggregate_primitives` file, naming the line.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum CustomError {
    #[error("{file}: {reason}")]
    Io { file: String, reason: String },
    #[error("{file}:{line}: {reason}")]
    Entry { file: String, line: usize, reason: String },
}

impl CustomPrimitive {
    /// pmacct's `alloc_len` for fixed lengths: `raw` keeps `3 * len + 1` bytes of hex text.
    fn alloc_len(&self) -> Option<usize> {
        self.len.map(|l| match self.semantics {
            Semantics::Raw => usize::from(l) * 3 + 1,
            _ => usize::from(l),
        })
    }

    /// Reads the primitive from an element's bytes as pmacct's `NF_custom_primitives_handler`
    /// stores it; `None` when pmacct stores nothing.
    pub fn store(&self, bytes: &[u8]) -> Option<Box<[u8]>> {
        match (self.semantics, self.len) {
            (Semantics::Raw, _) => {
                let mut hex = raw_hex(bytes);
                if let Some(alloc) = self.alloc_len()
                    && hex.len() >= alloc
                {
                    hex.truncate(alloc.saturating_sub(1));
                }
                Some(hex.into_bytes().into_boxed_slice())
            }
            // pmacct reads a variable-length string only through its table of elements it does
            // not decode itself (enterprise ones, or ids from 384 up).
            (Semantics::Str, None) if self.pen != 0 || self.field_type >= 384 => Some(bytes.into()),
            (_, Some(l)) if bytes.len() == usize::from(l) => Some(bytes.into()),
            _ => None,
        }
    }

    /// Formatted-output width (pmacct's `cps_flen` for integers, the length for strings).
    pub fn formatted_width(&self) -> usize {
        let w = match self.semantics {
            Semantics::UInt | Semantics::Hex => match self.len {
                Some(1) => 3,
                Some(2) => 5,
                Some(4) => 10,
                Some(8) => 20,
                _ => 0,
            },
            Semantics::Str | Semantics::Raw => self.len.map_or(0, usize::from),
            Semantics::Ip => 46,
            Semantics::Mac => 18,
        };
        w.max(self.name.len())
    }

    /// Appends the value (`None`: pmacct's zeroed buffer) as pmacct prints it.
    pub fn write(&self, out: &mut String, v: Option<&[u8]>) {
        let len = self.len.map_or(0, usize::from);
        match self.semantics {
            Semantics::UInt | Semantics::Hex => {
                if !matches!(len, 1 | 2 | 4 | 8) {
                    return;
                }
                let n = v.map_or(0, |b| b.iter().fold(0u64, |a, x| a << 8 | u64::from(*x)));
                let _ = if self.semantics == Semantics::UInt {
                    write!(out, "{n}")
                } else {
                    write!(out, "{n:x}")
                };
            }
            Semantics::Ip => {
                let zero = [0u8; 16];
                let b = v.unwrap_or(&zero[..len.min(16)]);
                if let Ok(a) = <[u8; 4]>::try_from(b) {
                    let _ = write!(out, "{}", Ipv4Addr::from(a));
                } else if let Ok(a) = <[u8; 16]>::try_from(b) {
                    crate::sink::print::value::write_ip(out, &Ipv6Addr::from(a).into());
                }
            }
            Semantics::Mac => {
                let mut m = [0u8; 6];
                if let Some(b) = v {
                    for (d, s) in m.iter_mut().zip(b) {
                        *d = *s;
                    }
                }
                crate::sink::print::value::write_mac(out, &m);
            }
            Semantics::Str | Semantics::Raw => {
                let b = v.unwrap_or_default();
                let end = b.iter().position(|c| *c == 0).unwrap_or(b.len());
                out.push_str(&String::from_utf8_lossy(&b[..end]));
            }
        }
    }
}

impl CustomPrimitive {
    /// True when a string value is not valid UTF-8: jansson then refuses it and pmacct's JSON
    /// object has no such key.
    pub fn json_invalid(&self, v: Option<&[u8]>) -> bool {
        if self.semantics != Semantics::Str {
            return false;
        }
        let b = v.unwrap_or_default();
        let end = b.iter().position(|c| *c == 0).unwrap_or(b.len());
        std::str::from_utf8(&b[..end]).is_err()
    }
}

/// pmacct's `serialize_hex`: upper-case hex pairs joined by `-`.
fn raw_hex(bytes: &[u8]) -> String {
    let mut s = String::with_capacity(bytes.len() * 3);
    for (i, b) in bytes.iter().enumerate() {
        if i > 0 {
            s.push('-');
        }
        let _ = write!(s, "{b:02X}");
    }
    s
}

/// Parses an `aggregate_primitives` file: one entry per line of `key=value` tokens (`name`,
/// `field_type`, `len`, `semantics`, `packet_ptr`), `!` / `#` comments.
pub fn parse(text: &str, file: &str) -> Result<Vec<CustomPrimitive>, CustomError> {
    let mut out: Vec<CustomPrimitive> = Vec::new();
    for (i, raw) in text.lines().enumerate() {
        let line = raw.trim();
        if line.is_empty() || line.starts_with('!') || line.starts_with('#') {
            continue;
        }
        let bad = |reason: String| CustomError::Entry { file: file.into(), line: i + 1, reason };
        let (mut name, mut ft, mut len, mut sem) = (None, None, None, None);
        let mut packet_ptrs = Vec::new();
        for tok in line.split_whitespace() {
            let (k, v) = tok
                .split_once('=')
                .ok_or_else(|| bad(format!("expected key=value, got `{tok}`")))?;
            match k {
                "name" => name = Some(v.to_ascii_lowercase()),
                "field_type" => {
                    let (pen, id) = match v.split_once(':') {
                        Some((p, t)) => (p.parse::<u32>().ok(), t),
                        None => (Some(0), v),
                    };
                    match (pen, id.parse::<u16>()) {
                        (Some(p), Ok(t)) if t != 0 => ft = Some((p, t)),
                        _ => {
                            return Err(bad(format!(
                                "invalid field_type `{v}` (expected <type> or <pen>:<type>)"
                            )));
                        }
                    }
                }
                "len" => {
                    len = Some(if v == "vlen" {
                        None
                    } else {
                        match v.parse::<u16>() {
                            Ok(n) if n > 0 && n < u16::MAX => Some(n),
                            _ => return Err(bad(format!("invalid len `{v}` (bytes, or vlen)"))),
                        }
                    })
                }
                "semantics" => {
                    sem = Some(match v {
                        "u_int" => Semantics::UInt,
                        "hex" => Semantics::Hex,
                        "ip" => Semantics::Ip,
                        "mac" => Semantics::Mac,
                        "str" => Semantics::Str,
                        "raw" => Semantics::Raw,
                        _ => {
                            return Err(bad(format!(
                                "invalid semantics `{v}` (u_int, hex, ip, mac, str, raw)"
                            )));
                        }
                    })
                }
                "packet_ptr" => packet_ptrs
                    .push(parse_packet_ptr(v).map_err(|r| bad(format!("packet_ptr `{v}`: {r}")))?),
                _ => return Err(bad(format!("unknown key `{k}`"))),
            }
        }
        let name = name.filter(|n| !n.is_empty()).ok_or_else(|| bad("missing name".into()))?;
        if ft.is_none() && packet_ptrs.is_empty() {
            return Err(bad(format!("`{name}`: missing field_type or packet_ptr")));
        }
        // A packet-only primitive has no element (type 0 is never in a template).
        let (pen, field_type) = ft.unwrap_or((0, 0));
        let len = len.ok_or_else(|| bad(format!("`{name}`: missing len")))?;
        let semantics = sem.ok_or_else(|| bad(format!("`{name}`: missing semantics")))?;
        if len.is_none() && !matches!(semantics, Semantics::Str | Semantics::Raw) {
            return Err(bad(format!("`{name}`: len vlen needs semantics str or raw")));
        }
        if out.iter().any(|p| p.name == name) {
            return Err(bad(format!("duplicate primitive name `{name}`")));
        }
        if crate::aggregate::Primitive::from_name(&name).is_some() {
            return Err(bad(format!("`{name}` is a built-in primitive")));
        }
        let repeat =
            out.iter().filter(|p| p.pen == pen && p.field_type == field_type).count() as u8;
        out.push(CustomPrimitive { name, pen, field_type, len, semantics, repeat, packet_ptrs });
    }
    Ok(out)
}

/// `<layer>[:<proto>][+<offset>]`, proto in decimal or `0x` hex.
fn parse_packet_ptr(v: &str) -> Result<PacketPtr, String> {
    let (head, offset) = match v.split_once('+') {
        Some((h, o)) => (h, o.parse::<u16>().map_err(|_| format!("bad offset `{o}`"))?),
        None => (v, 0),
    };
    let (layer, proto) = match head.split_once(':') {
        Some((l, p)) => {
            let n = match p.strip_prefix("0x").or_else(|| p.strip_prefix("0X")) {
                Some(h) => u16::from_str_radix(h, 16),
                None => p.parse::<u16>(),
            };
            (l, Some(n.map_err(|_| format!("bad protocol `{p}`"))?))
        }
        None => (head, None),
    };
    let layer = match layer {
        "packet" | "mac" => Layer::Packet,
        "l3" => Layer::L3,
        "l4" => Layer::L4,
        "vlan" | "mpls" | "payload" => {
            return Err(format!("layer `{layer}` is not supported yet (packet, mac, l3, l4)"));
        }
        _ => return Err(format!("unknown layer `{layer}`")),
    };
    if proto.is_some() && layer == Layer::Packet {
        return Err("a protocol applies to l3 and l4 only".into());
    }
    Ok(PacketPtr { layer, proto, offset })
}

/// The values of every primitive with `packet_ptr`s in a captured frame of `caplen` bytes,
/// as pmacct's `custom_primitives_handler` reads them: `l3` at `l3_offset` (the ethertype is
/// its protocol), `l4` at `l4_offset` (the IP protocol); `None` for a primitive no pointer
/// reaches.
pub fn from_packet(
    defs: &[CustomPrimitive],
    frame: &[u8],
    l3: Option<(usize, u16)>,
    l4: Option<(usize, u8)>,
) -> u32 {
    let vals = defs
        .iter()
        .map(|d| {
            let mut v = None;
            for p in &d.packet_ptrs {
                let base = match p.layer {
                    Layer::Packet => Some((0, None)),
                    Layer::L3 => l3.map(|(o, e)| (o, Some(e))),
                    Layer::L4 => l4.map(|(o, n)| (o, Some(u16::from(n)))),
                };
                let Some((base, proto)) = base else { continue };
                if p.proto.is_some() && p.proto != proto {
                    continue;
                }
                let at = base + usize::from(p.offset);
                let fixed = d.len.map_or(0, usize::from);
                if at + fixed >= frame.len() {
                    continue;
                }
                v = match d.len {
                    Some(l) => frame.get(at..at + usize::from(l)).and_then(|b| d.store(b)),
                    None => {
                        // pmacct cuts the string at the end of the capture, minus one byte.
                        let rest = frame.get(at..frame.len().saturating_sub(1)).unwrap_or_default();
                        let end = rest.iter().position(|c| *c == 0).unwrap_or(rest.len());
                        match d.semantics {
                            Semantics::Str if end > 0 => Some(rest[..end].into()),
                            _ => v,
                        }
                    }
                };
            }
            v
        })
        .collect();
    intern(vals)
}

/// Reads and parses an `aggregate_primitives` file.
pub fn load(path: &Path) -> Result<Vec<CustomPrimitive>, CustomError> {
    let file = path.display().to_string();
    let text = std::fs::read_to_string(path)
        .map_err(|e| CustomError::Io { file: file.clone(), reason: e.to_string() })?;
    parse(&text, &file)
}

/// The process-wide registry: every primitive defined, in definition order (a record's
/// interned values follow this order).
fn registry() -> &'static RwLock<Arc<Vec<CustomPrimitive>>> {
    static R: OnceLock<RwLock<Arc<Vec<CustomPrimitive>>>> = OnceLock::new();
    R.get_or_init(Default::default)
}

/// Adds `defs` to the registry (an entry of the same name is replaced in place) and returns
/// the registry index of each.
pub fn install(defs: &[CustomPrimitive]) -> Vec<usize> {
    let mut w = registry().write().unwrap_or_else(|e| e.into_inner());
    let mut v: Vec<CustomPrimitive> = (**w).clone();
    let idx = defs
        .iter()
        .map(|d| match v.iter().position(|p| p.name == d.name) {
            Some(i) => {
                v[i] = d.clone();
                i
            }
            None => {
                v.push(d.clone());
                v.len() - 1
            }
        })
        .collect();
    *w = Arc::new(v);
    idx
}

/// The registry as it is now.
pub fn defined() -> Arc<Vec<CustomPrimitive>> {
    registry().read().unwrap_or_else(|e| e.into_inner()).clone()
}

/// The registry index of `name`.
pub fn lookup(name: &str) -> Option<usize> {
    defined().iter().position(|p| p.name.eq_ignore_ascii_case(name))
}

/// One record's values, in registry order (`None`: not in the record).
pub type Values = Arc<[Option<Box<[u8]>>]>;

#[derive(Default)]
struct Interner {
    ids: HashMap<Values, u32>,
    values: Vec<Values>,
}

fn interner() -> &'static RwLock<Interner> {
    static I: OnceLock<RwLock<Interner>> = OnceLock::new();
    I.get_or_init(|| {
        let empty: Values = Arc::from(Vec::new());
        RwLock::new(Interner { ids: HashMap::new(), values: vec![empty] })
    })
}

/// The id of `values`; 0 when none is set.
pub fn intern(values: Vec<Option<Box<[u8]>>>) -> u32 {
    if values.iter().all(Option::is_none) {
        return 0;
    }
    let v: Values = Arc::from(values);
    if let Ok(r) = interner().read()
        && let Some(&id) = r.ids.get(&v)
    {
        return id;
    }
    let mut w = interner().write().unwrap_or_else(|e| e.into_inner());
    if let Some(&id) = w.ids.get(&v) {
        return id;
    }
    let id = u32::try_from(w.values.len()).unwrap_or(u32::MAX);
    w.values.push(v.clone());
    w.ids.insert(v, id);
    id
}

/// The values of `id` (empty for 0 or an unknown id).
pub fn values(id: u32) -> Values {
    let r = interner().read().unwrap_or_else(|e| e.into_inner());
    r.values.get(id as usize).cloned().unwrap_or_else(|| Arc::from(Vec::new()))
}

/// The id of `id`'s values with only the registry entries in `keep` left (a plugin's key).
pub fn project(id: u32, keep: &[usize]) -> u32 {
    if id == 0 {
        return 0;
    }
    let v = values(id);
    if (0..v.len()).all(|i| keep.contains(&i) || v[i].is_none()) {
        return id;
    }
    intern(
        v.iter()
            .enumerate()
            .map(|(i, x)| if keep.contains(&i) { x.clone() } else { None })
            .collect(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    const EXAMPLE: &str = "! comment\nname=mtla\tfield_type=47\tlen=4\tsemantics=ip\n\
        name=MTLPL field_type=91 len=1 semantics=u_int\n\
        name=alu_91 field_type=637:91 len=2 semantics=hex\n\
        name=app field_type=35632:118 len=vlen semantics=str\n\
        name=raw2 field_type=8 len=2 semantics=raw\n\
        name=ttl_nf packet_ptr=l3:0x800+8 len=1 semantics=u_int field_type=192\n";

    #[test]
    fn parses_pmacct_example_entries() {
        let p = parse(EXAMPLE, "f").unwrap();
        let names: Vec<_> = p.iter().map(|p| p.name.as_str()).collect();
        assert_eq!(names, ["mtla", "mtlpl", "alu_91", "app", "raw2", "ttl_nf"]);
        assert_eq!((p[2].pen, p[2].field_type, p[2].len), (637, 91, Some(2)));
        assert_eq!((p[3].len, p[3].semantics), (None, Semantics::Str));
        let win = parse("name=w packet_ptr=l4:6+14 len=2 semantics=u_int\n", "f").unwrap();
        assert_eq!(
            win[0].packet_ptrs,
            [PacketPtr { layer: Layer::L4, proto: Some(6), offset: 14 }]
        );
        let err = parse("name=x packet_ptr=payload+2 len=2 semantics=u_int\n", "f").unwrap_err();
        assert!(err.to_string().contains("payload"), "{err}");
        assert!(parse("name=x field_type=1 len=vlen semantics=u_int\n", "f").is_err());
        assert!(parse("name=src_host field_type=8 len=4 semantics=ip\n", "f").is_err());
    }

    #[test]
    fn stores_and_prints_like_pmacct() {
        let p = parse(EXAMPLE, "f").unwrap();
        let show = |i: usize, b: Option<&[u8]>| {
            let mut s = String::new();
            let stored = b.and_then(|b| p[i].store(b));
            p[i].write(&mut s, stored.as_deref());
            s
        };
        assert_eq!(show(0, Some(&[10, 0, 0, 1])), "10.0.0.1");
        assert_eq!(show(0, None), "0.0.0.0");
        assert_eq!(show(1, Some(&[24])), "24");
        assert_eq!(show(1, Some(&[24, 1])), "0", "length mismatch: pmacct stores nothing");
        assert_eq!(show(2, Some(&[0x1f, 0xa0])), "1fa0");
        assert_eq!(show(3, Some(b"http\0")), "http");
        assert_eq!(show(4, Some(&[0x0a, 0xb1])), "0A-B1");
        assert_eq!(show(4, Some(&[0x0a, 0xb1, 0xff])), "0A-B1-", "truncated as pmacct does");
        assert_eq!(show(4, None), "");
    }

    #[test]
    fn interning_and_projection() {
        let a = intern(vec![Some(Box::from(&b"x"[..])), Some(Box::from(&b"y"[..]))]);
        assert_eq!(intern(vec![Some(Box::from(&b"x"[..])), Some(Box::from(&b"y"[..]))]), a);
        assert_eq!(intern(vec![None, None]), 0);
        let only_first = project(a, &[0]);
        assert_ne!(only_first, a);
        assert_eq!(values(only_first)[1], None);
        assert_eq!(project(a, &[0, 1]), a);
    }
}
