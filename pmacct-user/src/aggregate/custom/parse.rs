//! The `aggregate_primitives` file syntax (pmacct's `custom_primitives_map_*_handler`s).

use std::path::Path;

use super::{CustomError, CustomPrimitive, Layer, PacketPtr, Semantics};

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
        "vlan" => Layer::Vlan,
        "mpls" => Layer::Mpls,
        "payload" => Layer::Payload,
        _ => return Err(format!("unknown layer `{layer}`")),
    };
    if proto.is_some() && !matches!(layer, Layer::L3 | Layer::L4) {
        return Err("a protocol applies to l3 and l4 only".into());
    }
    Ok(PacketPtr { layer, proto, offset })
}

/// Reads and parses an `aggregate_primitives` file.
pub fn load(path: &Path) -> Result<Vec<CustomPrimitive>, CustomError> {
    let file = path.display().to_string();
    let text = std::fs::read_to_string(path)
        .map_err(|e| CustomError::Io { file: file.clone(), reason: e.to_string() })?;
    parse(&text, &file)
}
