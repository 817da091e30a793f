//! Custom primitives read at packet offsets (`packet_ptr`), as pmacctd does.

use super::{CustomPrimitive, Layer, Semantics, intern};

/// Where each `packet_ptr` layer starts in a captured frame (pmacct's `pkt_data_ptrs`), with
/// the protocol of the l3 (ethertype) and l4 (IP protocol) layers.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Layers {
    pub l3: Option<(usize, u16)>,
    pub l4: Option<(usize, u8)>,
    pub vlan: Option<usize>,
    pub mpls: Option<usize>,
    pub payload: Option<usize>,
}

impl Layers {
    /// The layers of an Ethernet frame whose network header starts at `l3` and transport
    /// header (if any) at `l4`, found as pmacct's `eth_handler` and `ip_handler` find them: the
    /// first 802.1Q tag, the first MPLS label, the payload after a TCP/UDP header (and after a
    /// VXLAN header on UDP port 4789), or right after the IP header for other protocols. (A
    /// non-first fragment has no `l4` here, so no payload either; pmacct points both at the
    /// fragment's data.)
    pub fn ethernet(frame: &[u8], l3: Option<(usize, u16)>, l4: Option<(usize, u8)>) -> Layers {
        let be16 = |at: usize| frame.get(at..at + 2).map(|b| u16::from_be_bytes([b[0], b[1]]));
        let (mut vlan, mut mpls) = (None, None);
        let mut at = 12;
        while let Some(et) = be16(at) {
            match et {
                0x8100 | 0x88a8 if frame.len() >= at + 6 => {
                    // pmacct keeps the first tag only, and only when it opens the frame.
                    if at == 12 && et == 0x8100 {
                        vlan = Some(at + 2);
                    }
                    at += 4;
                }
                0x8847 | 0x8848 => {
                    mpls = Some(at + 2);
                    break;
                }
                _ => break,
            }
        }
        let payload = l4.and_then(|(o, proto)| {
            let at = match proto {
                6 => o + usize::from(frame.get(o + 12)? >> 4) * 4,
                17 => {
                    let vxlan = be16(o + 2) == Some(4789) && o + 16 <= frame.len();
                    o + 8 + if vxlan { 8 } else { 0 }
                }
                _ => o,
            };
            (at < frame.len()).then_some(at)
        });
        Layers { l3, l4, vlan, mpls, payload }
    }
}

/// The values of every primitive with `packet_ptr`s in a captured frame, as pmacct's
/// `custom_primitives_handler` reads them: each pointer at its layer's start (`l3` and `l4`
/// checked against their protocol when the pointer names one); `None` for a primitive no
/// pointer reaches.
pub fn from_packet(defs: &[CustomPrimitive], frame: &[u8], layers: &Layers) -> u32 {
    let vals = defs
        .iter()
        .map(|d| {
            let mut v = None;
            for p in &d.packet_ptrs {
                let base = match p.layer {
                    Layer::Packet => Some((0, None)),
                    Layer::L3 => layers.l3.map(|(o, e)| (o, Some(e))),
                    Layer::L4 => layers.l4.map(|(o, n)| (o, Some(u16::from(n)))),
                    Layer::Vlan => layers.vlan.map(|o| (o, None)),
                    Layer::Mpls => layers.mpls.map(|o| (o, None)),
                    Layer::Payload => layers.payload.map(|o| (o, None)),
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
