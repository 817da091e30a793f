//! Capture file reader: classic pcap (either byte order, micro- or nanosecond timestamps) and
//! pcapng (any number of sections and interfaces, per-interface link type, timestamp resolution
//! and offset). Packets come out one at a time, borrowing the reader's buffer, so reading a file
//! allocates once per size class, not per packet.
//!
//! A file that ends cleanly between records ends the iteration; a file that ends inside a header
//! or record is a [`PcapError::Truncated`] error, never a panic.

mod classic;
mod ng;
#[cfg(test)]
mod tests;

use std::fs::File;
use std::io::{BufReader, ErrorKind, Read};
use std::path::Path;

use crate::decode::packet::LinkType;

/// Records bigger than this are treated as corruption rather than allocated.
pub const MAX_RECORD: usize = 16 * 1024 * 1024;

/// Why a capture file could not be read.
#[derive(Debug, thiserror::Error)]
pub enum PcapError {
    #[error("I/O error: {0}")]
    Io(#[from] std::io::Error),
    /// Neither a classic pcap magic nor a pcapng section header.
    #[error("not a pcap or pcapng file (magic {0:#010x})")]
    BadMagic(u32),
    /// The file ends inside a header or record.
    #[error("capture truncated in {0}")]
    Truncated(&'static str),
    /// A record claims more than [`MAX_RECORD`] bytes.
    #[error("record of {0} bytes exceeds the {MAX_RECORD}-byte limit")]
    TooLarge(u64),
    /// A pcapng block whose lengths or fields do not add up.
    #[error("malformed pcapng block: {0}")]
    BadBlock(&'static str),
    /// A pcapng packet names an interface no description block declared.
    #[error("packet refers to undeclared interface {0}")]
    UnknownInterface(u32),
}

/// One captured packet.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CapturedPacket<'a> {
    /// Unix time in microseconds.
    pub ts_us: u64,
    /// Link type of the interface the packet was captured on.
    pub link_type: LinkType,
    /// The captured bytes (possibly cut at the snap length).
    pub data: &'a [u8],
    /// The packet's length on the wire.
    pub orig_len: u32,
}

/// Which container the file uses.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CaptureFormat {
    Pcap,
    PcapNg,
}

enum State {
    Classic(classic::Header),
    Ng(ng::Section),
}

/// Reads packets from a classic pcap or pcapng stream.
pub struct CaptureReader<R> {
    inner: R,
    state: State,
    buf: Vec<u8>,
}

impl CaptureReader<BufReader<File>> {
    /// Opens a capture file.
    pub fn open(path: impl AsRef<Path>) -> Result<Self, PcapError> {
        Self::new(BufReader::with_capacity(1 << 16, File::open(path)?))
    }
}

impl<R: Read> CaptureReader<R> {
    /// Reads the file header (classic) or first section header (pcapng).
    pub fn new(mut inner: R) -> Result<Self, PcapError> {
        let mut magic = [0u8; 4];
        if !read_full(&mut inner, &mut magic, "file header")? {
            return Err(PcapError::Truncated("file header"));
        }
        let state = if u32::from_le_bytes(magic) == ng::SHB_TYPE {
            State::Ng(ng::Section::read_after_type(&mut inner)?)
        } else {
            State::Classic(classic::Header::read_after_magic(&mut inner, magic)?)
        };
        Ok(Self { inner, state, buf: Vec::new() })
    }

    /// The container format.
    pub fn format(&self) -> CaptureFormat {
        match self.state {
            State::Classic(_) => CaptureFormat::Pcap,
            State::Ng(_) => CaptureFormat::PcapNg,
        }
    }

    /// The next packet, `Ok(None)` at a clean end of file.
    pub fn next_packet(&mut self) -> Result<Option<CapturedPacket<'_>>, PcapError> {
        let meta = match &mut self.state {
            State::Classic(h) => h.next_record(&mut self.inner, &mut self.buf)?,
            State::Ng(s) => s.next_packet(&mut self.inner, &mut self.buf)?,
        };
        Ok(meta.map(|m| CapturedPacket {
            ts_us: m.ts_us,
            link_type: m.link_type,
            data: self.buf.get(m.data.clone()).unwrap_or_default(),
            orig_len: m.orig_len,
        }))
    }
}

/// A packet's metadata with its bytes as a range of the reader's buffer.
struct RecordMeta {
    ts_us: u64,
    link_type: LinkType,
    data: std::ops::Range<usize>,
    orig_len: u32,
}

/// Fills `buf` completely. `Ok(false)` if the stream was already at its end; a partial fill is a
/// [`PcapError::Truncated`] naming `what`.
fn read_full<R: Read>(r: &mut R, buf: &mut [u8], what: &'static str) -> Result<bool, PcapError> {
    let mut filled = 0;
    while filled < buf.len() {
        let Some(rest) = buf.get_mut(filled..) else { break };
        match r.read(rest) {
            Ok(0) if filled == 0 => return Ok(false),
            Ok(0) => return Err(PcapError::Truncated(what)),
            Ok(n) => filled += n,
            Err(e) if e.kind() == ErrorKind::Interrupted => {}
            Err(e) => return Err(e.into()),
        }
    }
    Ok(true)
}

/// Like [`read_full`] but end of file is an error too.
fn read_required<R: Read>(r: &mut R, buf: &mut [u8], what: &'static str) -> Result<(), PcapError> {
    if read_full(r, buf, what)? { Ok(()) } else { Err(PcapError::Truncated(what)) }
}

/// Resizes `buf` to `len` (checked against [`MAX_RECORD`]) and fills it.
fn read_body<R: Read>(
    r: &mut R,
    buf: &mut Vec<u8>,
    len: u64,
    what: &'static str,
) -> Result<(), PcapError> {
    let n =
        usize::try_from(len).ok().filter(|n| *n <= MAX_RECORD).ok_or(PcapError::TooLarge(len))?;
    buf.resize(n, 0);
    read_required(r, buf, what)
}

/// A u32 from 4 bytes of `b` at `off` in the given byte order (0 if out of range; callers check
/// lengths first).
fn u32_at(b: &[u8], off: usize, big_endian: bool) -> u32 {
    let bytes: [u8; 4] = b.get(off..off + 4).and_then(|s| s.try_into().ok()).unwrap_or_default();
    if big_endian { u32::from_be_bytes(bytes) } else { u32::from_le_bytes(bytes) }
}

/// A u16 from 2 bytes of `b` at `off` in the given byte order (0 if out of range).
fn u16_at(b: &[u8], off: usize, big_endian: bool) -> u16 {
    let bytes: [u8; 2] = b.get(off..off + 2).and_then(|s| s.try_into().ok()).unwrap_or_default();
    if big_endian { u16::from_be_bytes(bytes) } else { u16::from_le_bytes(bytes) }
}
