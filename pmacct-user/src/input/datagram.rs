//! UDP datagrams out of a capture file: how the collectors (NetFlow/IPFIX, sFlow) replay an
//! exporter's traffic as if it arrived live, exporter address taken from the packet.

use std::net::SocketAddr;
use std::path::Path;

use crate::decode::packet::{self, LinkType};
use crate::input::pcap::{CaptureReader, PcapError};

const IPPROTO_UDP: u8 = 17;
const UDP_HEADER: usize = 8;

/// One UDP datagram as captured.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Datagram<'a> {
    /// Capture timestamp, Unix microseconds.
    pub ts_us: u64,
    /// The exporter (source address and port).
    pub src: SocketAddr,
    /// Where it was sent (the collector).
    pub dst: SocketAddr,
    pub payload: &'a [u8],
}

/// What a capture held besides datagrams.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct DatagramStats {
    pub packets: u64,
    /// UDP datagrams passed to the callback (after the port filter).
    pub datagrams: u64,
    /// Not UDP, other ports, or fragments (flow exports on loopback are never fragmented).
    pub skipped: u64,
    /// UDP datagrams whose payload the capture cut short (snap length): skipped.
    pub truncated: u64,
}

/// The UDP datagram in one captured frame, if it holds a whole one.
pub fn udp_datagram(link: LinkType, ts_us: u64, frame: &[u8]) -> Option<Datagram<'_>> {
    let mut pkt = packet::Packet::default();
    packet::parse_into(link, frame, &packet::DecodeOptions::default(), &mut pkt).ok()?;
    let f = &pkt.record.fields;
    if f.proto != IPPROTO_UDP || pkt.fragment.is_some() {
        return None;
    }
    let l4 = pkt.l4_offset?;
    let udp = frame.get(l4..)?;
    let len = usize::from(u16::from_be_bytes([*udp.get(4)?, *udp.get(5)?]));
    let payload = udp.get(UDP_HEADER..len.max(UDP_HEADER))?;
    Some(Datagram {
        ts_us,
        src: SocketAddr::new(f.src_ip, f.src_port),
        dst: SocketAddr::new(f.dst_ip, f.dst_port),
        payload,
    })
}

/// Calls `f` for every UDP datagram in the capture whose destination port is in `ports` (all
/// ports when empty), in capture order.
pub fn read_datagrams(
    path: &Path,
    ports: &[u16],
    mut f: impl FnMut(&Datagram<'_>),
) -> Result<DatagramStats, PcapError> {
    let mut reader = CaptureReader::open(path)?;
    let mut stats = DatagramStats::default();
    while let Some(p) = reader.next_packet()? {
        stats.packets += 1;
        match udp_datagram(p.link_type, p.ts_us, p.data) {
            Some(d) if ports.is_empty() || ports.contains(&d.dst.port()) => {
                stats.datagrams += 1;
                f(&d);
            }
            Some(_) => stats.skipped += 1,
            None => {
                if is_cut_udp(p.link_type, p.data) {
                    stats.truncated += 1;
                } else {
                    stats.skipped += 1;
                }
            }
        }
    }
    Ok(stats)
}

fn is_cut_udp(link: LinkType, frame: &[u8]) -> bool {
    packet::parse(link, frame).is_ok_and(|p| {
        p.record.fields.proto == IPPROTO_UDP && p.fragment.is_none() && p.l4_offset.is_some()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn frame(payload: &[u8], udp_len: u16) -> Vec<u8> {
        let mut f = vec![0u8; 12];
        f.extend_from_slice(&[0x08, 0x00]);
        let total = (20 + 8 + payload.len()) as u16;
        f.extend_from_slice(&[
            0x45,
            0,
            (total >> 8) as u8,
            total as u8,
            0,
            0,
            0x40,
            0,
            64,
            17,
            0,
            0,
        ]);
        f.extend_from_slice(&[127, 0, 0, 2, 127, 0, 0, 1]);
        f.extend_from_slice(&40000u16.to_be_bytes());
        f.extend_from_slice(&2055u16.to_be_bytes());
        f.extend_from_slice(&udp_len.to_be_bytes());
        f.extend_from_slice(&[0, 0]);
        f.extend_from_slice(payload);
        f
    }

    #[test]
    fn extracts_payload_and_addresses() {
        let f = frame(b"hello", 13);
        let d = udp_datagram(LinkType::ETHERNET, 7, &f).expect("datagram");
        assert_eq!(d.payload, b"hello");
        assert_eq!(d.src, "127.0.0.2:40000".parse().unwrap());
        assert_eq!(d.dst, "127.0.0.1:2055".parse().unwrap());
        assert_eq!(d.ts_us, 7);
    }

    #[test]
    fn cut_or_lying_lengths_are_refused() {
        let f = frame(b"hello", 200);
        assert!(udp_datagram(LinkType::ETHERNET, 0, &f).is_none());
        assert!(is_cut_udp(LinkType::ETHERNET, &f));
        for cut in 0..frame(b"hello", 13).len() {
            let _ = udp_datagram(LinkType::ETHERNET, 0, &frame(b"hello", 13)[..cut]);
        }
    }

    #[test]
    fn reads_real_exporter_capture() {
        let path = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../../shared/data/exports/softflowd_v5.pcap");
        let mut n = 0;
        let stats = read_datagrams(&path, &[2055], |d| {
            assert_eq!(d.payload.get(..2), Some(&[0u8, 5][..]), "NetFlow v5 header");
            n += 1;
        })
        .expect("read");
        assert!(n > 0);
        assert_eq!(stats.datagrams, n);
        assert_eq!(stats.truncated, 0);
    }
}
