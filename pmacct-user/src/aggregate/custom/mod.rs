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

mod intern;
mod packet;
mod parse;

use std::fmt::Write as _;
use std::net::{Ipv4Addr, Ipv6Addr};

pub use intern::{Values, defined, install, intern, lookup, project, values};
pub use packet::{Layers, from_packet};
pub use parse::{load, parse};

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
    /// The first 802.1Q tag of an Ethernet frame (its TCI).
    Vlan,
    /// The first MPLS label stack entry.
    Mpls,
    /// What follows the TCP/UDP header (past a VXLAN header on UDP port 4789); for other
    /// protocols and non-first fragments, what follows the IP header.
    Payload,
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

    /// Width a formatted value is padded to: [`CustomPrimitive::formatted_width`], except for
    /// an integer of a length pmacct cannot print (not 1, 2, 4 or 8 bytes): its value printer
    /// then writes nothing, padding included, while the header keeps its width.
    pub fn formatted_value_width(&self) -> usize {
        match (self.semantics, self.len) {
            (Semantics::UInt | Semantics::Hex, Some(1 | 2 | 4 | 8)) => self.formatted_width(),
            (Semantics::UInt | Semantics::Hex, _) => 0,
            _ => self.formatted_width(),
        }
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

/// The registry indices of a plugin's custom primitives, loading its `aggregate_primitives`
/// file into the registry; a name the file does not define is an unknown primitive.
pub fn select(
    cfg: &crate::config::PluginConfig,
    names: &[&String],
) -> Result<Vec<usize>, crate::aggregate::AggregateError> {
    use crate::aggregate::AggregateError;
    if names.is_empty() {
        return Ok(Vec::new());
    }
    let unknown = |n: &str| AggregateError::Aggregate { plugin: cfg.name.clone(), value: n.into() };
    let Some(path) = &cfg.aggregate_primitives else { return Err(unknown(names[0])) };
    let defs = load(path)
        .map_err(|e| AggregateError::Custom { plugin: cfg.name.clone(), error: e.to_string() })?;
    let idx = install(&defs);
    names
        .iter()
        .map(|n| {
            defs.iter()
                .position(|d| d.name.eq_ignore_ascii_case(n.trim()))
                .map(|i| idx[i])
                .ok_or_else(|| unknown(n))
        })
        .collect()
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
        let pl = parse("name=x packet_ptr=payload+2 len=2 semantics=u_int\n", "f").unwrap();
        assert_eq!(
            pl[0].packet_ptrs,
            [PacketPtr { layer: Layer::Payload, proto: None, offset: 2 }]
        );
        let err = parse("name=x packet_ptr=vlan:6 len=2 semantics=u_int\n", "f").unwrap_err();
        assert!(err.to_string().contains("protocol"), "{err}");
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
