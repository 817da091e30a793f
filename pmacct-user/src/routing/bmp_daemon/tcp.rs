//! TCP stream reassembly for captures of BMP sessions: per connection and direction, payload
//! in sequence order; retransmitted and overlapping bytes dropped, segments that arrive early
//! held until the gap is filled; SYN opens, FIN (once every byte before it is in) or RST ends.
//!
//! The reassembler only sees what the capture holds: a connection whose SYN is missing starts
//! at its first segment; a gap that never fills (a segment the capture lost) is skipped when
//! the connection ends, counted in [`TcpStats::gaps`].

use std::collections::{BTreeMap, HashMap};
use std::net::SocketAddr;

use crate::decode::packet;
use crate::decode::packet::LinkType;
#[cfg(test)]
use crate::input::pcap::CaptureReader;

/// Bytes held out of order per direction before the reassembler gives up on the gap.
const MAX_PENDING: usize = 16 << 20;

const FIN: u8 = 0x01;
const SYN: u8 = 0x02;
const RST: u8 = 0x04;
const ACK: u8 = 0x10;

/// One TCP segment out of a captured frame.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Segment<'a> {
    /// Sender.
    pub src: SocketAddr,
    /// Receiver.
    pub dst: SocketAddr,
    /// Sequence number of the first payload byte (of the SYN itself for a SYN).
    pub seq: u32,
    /// TCP flags byte.
    pub flags: u8,
    /// Payload (without Ethernet padding).
    pub payload: &'a [u8],
}

/// The TCP segment in a captured frame, if there is one.
pub fn segment(link: LinkType, frame: &[u8]) -> Option<Segment<'_>> {
    let pkt = packet::parse(link, frame).ok()?;
    let f = &pkt.record.fields;
    if f.proto != 6 || pkt.fragment.is_some() {
        return None;
    }
    let l4 = pkt.l4_offset?;
    let tcp = frame.get(l4..)?;
    let seq = u32::from_be_bytes([*tcp.get(4)?, *tcp.get(5)?, *tcp.get(6)?, *tcp.get(7)?]);
    let doff = usize::from(tcp.get(12)? >> 4) * 4;
    let flags = *tcp.get(13)?;
    let end = ip_end(frame, l4, f.src_ip.is_ipv4()).unwrap_or(frame.len()).min(frame.len());
    let payload = frame.get(l4 + doff..end).unwrap_or_default();
    Some(Segment {
        src: SocketAddr::new(f.src_ip, f.src_port),
        dst: SocketAddr::new(f.dst_ip, f.dst_port),
        seq,
        flags,
        payload,
    })
}

/// Where the IP packet ends, from its length field (short Ethernet frames carry padding).
fn ip_end(d: &[u8], l4: usize, v4: bool) -> Option<usize> {
    let len16 = |o: usize| Some(usize::from(u16::from_be_bytes([*d.get(o)?, *d.get(o + 1)?])));
    if v4 {
        (5..=15).find_map(|ihl| {
            let o = l4.checked_sub(ihl * 4)?;
            (d.get(o)? >> 4 == 4 && usize::from(d.get(o)? & 0xf) == ihl)
                .then(|| len16(o + 2).map(|l| o + l))?
        })
    } else {
        // The fixed header sits right before TCP unless extension headers follow it.
        (40..=l4).step_by(8).find_map(|back| {
            let o = l4 - back;
            (d.get(o)? >> 4 == 6).then(|| len16(o + 4).map(|l| o + 40 + l))?
        })
    }
}

/// What the reassembler reports, in stream order.
#[derive(Debug, PartialEq, Eq)]
pub enum StreamEvent<'a> {
    /// A connection from `router` (the side that sent the SYN, or the first data).
    Open,
    /// The next in-order bytes from `router`.
    Data(&'a [u8]),
    /// The connection ended (FIN, RST, or the end of the capture).
    Close,
}

/// Counters of a reassembly.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct TcpStats {
    /// TCP segments seen.
    pub segments: u64,
    /// Payload bytes delivered in order.
    pub bytes: u64,
    /// Segments whose bytes had all been delivered already (retransmissions).
    pub retransmitted: u64,
    /// Segments held until an earlier one arrived.
    pub out_of_order: u64,
    /// Holes skipped (bytes the capture never had).
    pub gaps: u64,
    /// Connections opened.
    pub connections: u64,
}

#[derive(Debug, Default)]
struct Direction {
    /// Next expected sequence number.
    next: Option<u32>,
    /// Early segments by sequence number.
    pending: BTreeMap<u32, Vec<u8>>,
    pending_bytes: usize,
    /// Sequence number of the FIN, once seen.
    fin: Option<u32>,
    /// Reported as a connection ([`StreamEvent::Open`] sent): the router's side.
    reported: bool,
}

/// Reassembles every connection of a capture; feed it segments in capture order.
#[derive(Debug, Default)]
pub struct Reassembler {
    dirs: HashMap<(SocketAddr, SocketAddr), Direction>,
    /// Counters so far.
    pub stats: TcpStats,
}

impl Reassembler {
    /// A reassembler with no connection.
    pub fn new() -> Self {
        Self::default()
    }

    /// Takes one segment; `out(sender, event)` receives what it completes.
    pub fn push(&mut self, s: &Segment<'_>, out: &mut impl FnMut(SocketAddr, StreamEvent<'_>)) {
        self.stats.segments += 1;
        let key = (s.src, s.dst);
        if s.flags & RST != 0 {
            for k in [key, (s.dst, s.src)] {
                if let Some(d) = self.dirs.remove(&k) {
                    self.close(k.0, d, out);
                }
            }
            return;
        }
        if s.flags & SYN != 0 {
            if let Some(old) = self.dirs.remove(&key) {
                self.close(s.src, old, out);
            }
            // The answering SYN+ACK is the collector's side: tracked, never reported.
            let reported = s.flags & ACK == 0;
            let d =
                Direction { next: Some(s.seq.wrapping_add(1)), reported, ..Direction::default() };
            if reported {
                self.stats.connections += 1;
                out(s.src, StreamEvent::Open);
            }
            self.dirs.insert(key, d);
            return;
        }
        if !self.dirs.contains_key(&key) {
            if s.payload.is_empty() {
                return; // A bare ACK or FIN of a connection we never saw carry data.
            }
            self.stats.connections += 1;
            out(s.src, StreamEvent::Open);
            let d = Direction { next: Some(s.seq), reported: true, ..Direction::default() };
            self.dirs.insert(key, d);
        }
        let Some(mut d) = self.dirs.remove(&key) else { return };
        if s.flags & FIN != 0 {
            d.fin = Some(s.seq.wrapping_add(s.payload.len() as u32));
        }
        self.data(&mut d, s.src, s.seq, s.payload, out);
        let done = d.fin.is_some_and(|f| d.next == Some(f));
        if done {
            self.close(s.src, d, out);
        } else {
            self.dirs.insert(key, d);
        }
    }

    fn data(
        &mut self,
        d: &mut Direction,
        src: SocketAddr,
        seq: u32,
        payload: &[u8],
        out: &mut impl FnMut(SocketAddr, StreamEvent<'_>),
    ) {
        if payload.is_empty() {
            return;
        }
        let next = *d.next.get_or_insert(seq);
        let ahead = seq.wrapping_sub(next) as i32;
        if ahead > 0 {
            self.stats.out_of_order += 1;
            if let std::collections::btree_map::Entry::Vacant(e) = d.pending.entry(seq) {
                d.pending_bytes += payload.len();
                e.insert(payload.to_vec());
            }
            if d.pending_bytes > MAX_PENDING {
                self.skip_gap(d, src, out);
            }
            return;
        }
        let skip = ahead.unsigned_abs() as usize;
        if skip >= payload.len() {
            self.stats.retransmitted += 1;
            return;
        }
        self.deliver(d, src, payload.get(skip..).unwrap_or_default(), out);
        self.drain_pending(d, src, out);
    }

    fn deliver(
        &mut self,
        d: &mut Direction,
        src: SocketAddr,
        bytes: &[u8],
        out: &mut impl FnMut(SocketAddr, StreamEvent<'_>),
    ) {
        self.stats.bytes += bytes.len() as u64;
        d.next = d.next.map(|n| n.wrapping_add(bytes.len() as u32));
        out(src, StreamEvent::Data(bytes));
    }

    /// Delivers the held segments that are now in order.
    fn drain_pending(
        &mut self,
        d: &mut Direction,
        src: SocketAddr,
        out: &mut impl FnMut(SocketAddr, StreamEvent<'_>),
    ) {
        while let Some(next) = d.next {
            let Some((&seq, _)) = d.pending.iter().min_by_key(|(s, _)| s.wrapping_sub(next)) else {
                return;
            };
            let ahead = seq.wrapping_sub(next) as i32;
            if ahead > 0 {
                return;
            }
            let Some(bytes) = d.pending.remove(&seq) else { return };
            d.pending_bytes -= bytes.len();
            let skip = ahead.unsigned_abs() as usize;
            if skip < bytes.len() {
                self.deliver(d, src, bytes.get(skip..).unwrap_or_default(), out);
            }
        }
    }

    /// Jumps over a hole to the earliest held segment.
    fn skip_gap(
        &mut self,
        d: &mut Direction,
        src: SocketAddr,
        out: &mut impl FnMut(SocketAddr, StreamEvent<'_>),
    ) {
        let Some(next) = d.next else { return };
        if let Some(&first) = d.pending.keys().min_by_key(|s| s.wrapping_sub(next)) {
            self.stats.gaps += 1;
            d.next = Some(first);
            self.drain_pending(d, src, out);
        }
    }

    fn close(
        &mut self,
        src: SocketAddr,
        mut d: Direction,
        out: &mut impl FnMut(SocketAddr, StreamEvent<'_>),
    ) {
        while !d.pending.is_empty() {
            self.skip_gap(&mut d, src, out);
        }
        if d.reported {
            out(src, StreamEvent::Close);
        }
    }

    /// Ends every connection still open (the capture is over).
    pub fn finish(&mut self, out: &mut impl FnMut(SocketAddr, StreamEvent<'_>)) {
        let mut open: Vec<_> = self.dirs.drain().collect();
        open.sort_by_key(|(k, _)| *k);
        for ((src, _), d) in open {
            self.close(src, d, out);
        }
    }
}

#[cfg(test)]
mod tests;
