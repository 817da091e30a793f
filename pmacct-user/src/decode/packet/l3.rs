//! Network layer: IPv4 and IPv6 (with extension headers). Mirrors pmacct's `nl.c` and the
//! counters handler of `pkt_handlers.c`.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use super::{DecodeError, DecodeOptions, Fragment, Layer, Packet, be16, be32, l4};

const IPV4_MIN_HDR: usize = 20;
const IPV6_HDR: usize = 40;
const IPPROTO_HOPOPTS: u8 = 0;
const IPPROTO_ROUTING: u8 = 43;
const IPPROTO_FRAGMENT: u8 = 44;
const IPPROTO_AH: u8 = 51;
const IPPROTO_DSTOPTS: u8 = 60;
const IPPROTO_MOBILITY: u8 = 135;

/// Parses an IPv4 header at the start of `ip` (`base` = its offset in the frame, for errors).
pub(super) fn parse_ipv4(
    ip: &[u8],
    base: usize,
    opts: &DecodeOptions,
    pkt: &mut Packet,
) -> Result<(), DecodeError> {
    let hdr: &[u8; IPV4_MIN_HDR] = ip
        .get(..IPV4_MIN_HDR)
        .and_then(|h| h.try_into().ok())
        .ok_or(DecodeError::Truncated { layer: Layer::Ipv4, offset: base })?;
    let [vihl, tos, len_hi, len_lo, id_hi, id_lo, off_hi, off_lo, _ttl, proto, ..] = *hdr;
    let ihl = usize::from(vihl & 0x0F) * 4;
    if ihl < IPV4_MIN_HDR {
        return Err(DecodeError::BadIpHeader("IPv4 header length below 20 bytes"));
    }
    let l4_data =
        ip.get(ihl..).ok_or(DecodeError::Truncated { layer: Layer::Ipv4, offset: base })?;
    let src: [u8; 4] = [hdr[12], hdr[13], hdr[14], hdr[15]];
    let dst: [u8; 4] = [hdr[16], hdr[17], hdr[18], hdr[19]];

    let f = &mut pkt.record.fields;
    f.src_ip = IpAddr::V4(Ipv4Addr::from(src));
    f.dst_ip = IpAddr::V4(Ipv4Addr::from(dst));
    f.tos = tos;
    f.proto = proto;
    pkt.record.counters.bytes = u64::from(u16::from_be_bytes([len_hi, len_lo]));

    let flags_off = u16::from_be_bytes([off_hi, off_lo]);
    let offset = flags_off & 0x1FFF;
    let more = flags_off & 0x2000 != 0;
    if more || offset != 0 {
        let id = u32::from(u16::from_be_bytes([id_hi, id_lo]));
        pkt.fragment = Some(Fragment { id, offset, more });
    }
    if offset == 0 {
        pkt.l4_offset = Some(base + ihl);
        pkt.l4_truncated = !l4::parse_l4(proto, l4_data, opts, &mut pkt.record);
    }
    Ok(())
}

/// Parses an IPv6 header and its extension-header chain at the start of `ip`.
pub(super) fn parse_ipv6(
    ip: &[u8],
    base: usize,
    opts: &DecodeOptions,
    pkt: &mut Packet,
) -> Result<(), DecodeError> {
    let hdr: &[u8; IPV6_HDR] = ip
        .get(..IPV6_HDR)
        .and_then(|h| h.try_into().ok())
        .ok_or(DecodeError::Truncated { layer: Layer::Ipv6, offset: base })?;
    let flow = u32::from_be_bytes([hdr[0], hdr[1], hdr[2], hdr[3]]);
    let plen = u16::from_be_bytes([hdr[4], hdr[5]]);
    let mut nh = hdr[6];
    if plen == 0 && nh == IPPROTO_HOPOPTS {
        return Err(DecodeError::Jumbogram);
    }
    let mut src = [0u8; 16];
    let mut dst = [0u8; 16];
    src.copy_from_slice(&hdr[8..24]);
    dst.copy_from_slice(&hdr[24..40]);

    let f = &mut pkt.record.fields;
    f.src_ip = IpAddr::V6(Ipv6Addr::from(src));
    f.dst_ip = IpAddr::V6(Ipv6Addr::from(dst));
    f.tos = ((flow >> 20) & 0xFF) as u8;
    pkt.record.counters.bytes = u64::from(plen) + IPV6_HDR as u64;

    let mut off = IPV6_HDR;
    loop {
        let advance = match nh {
            IPPROTO_HOPOPTS | IPPROTO_DSTOPTS | IPPROTO_ROUTING | IPPROTO_MOBILITY => {
                ip.get(off + 1).map(|l| (usize::from(*l) + 1) * 8)
            }
            IPPROTO_AH => ip.get(off + 1).map(|l| (usize::from(*l) + 2) * 4),
            IPPROTO_FRAGMENT => {
                if let (Some(offlg), Some(id)) = (be16(ip, off + 2), be32(ip, off + 4)) {
                    pkt.fragment = Some(Fragment { id, offset: offlg >> 3, more: offlg & 1 != 0 });
                    Some(8)
                } else {
                    None
                }
            }
            _ => break,
        };
        let next = ip.get(off).copied();
        match (advance, next) {
            (Some(adv), Some(next)) if off + adv <= ip.len() => {
                nh = next;
                off += adv;
            }
            _ => {
                // pmacct stops at a truncated extension header and accounts the packet with
                // protocol 0.
                pkt.record.fields.proto = 0;
                pkt.l4_truncated = true;
                return Ok(());
            }
        }
    }
    pkt.record.fields.proto = nh;
    if pkt.fragment.is_none_or(|fr| fr.offset == 0) {
        pkt.l4_offset = Some(base + off);
        let l4_data = ip.get(off..).unwrap_or_default();
        pkt.l4_truncated = !l4::parse_l4(nh, l4_data, opts, &mut pkt.record);
    }
    Ok(())
}
