//! Custom primitives read at packet offsets (`packet_ptr`), as pmacctd does.

use super::{CustomPrimitive, Layer, Semantics, intern};

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
