//! Classic libpcap format: a 24-byte file header, then 16-byte record headers and data.

use std::io::Read;

use super::{PcapError, RecordMeta, read_body, read_full, read_required, u32_at};
use crate::decode::packet::LinkType;

const MAGIC_US: u32 = 0xA1B2_C3D4;
const MAGIC_NS: u32 = 0xA1B2_3C4D;

/// What the file header says.
#[derive(Clone, Copy, Debug)]
pub(super) struct Header {
    big_endian: bool,
    nanos: bool,
    link_type: LinkType,
}

impl Header {
    /// Reads the 20 header bytes after the 4-byte `magic`.
    pub(super) fn read_after_magic<R: Read>(r: &mut R, magic: [u8; 4]) -> Result<Self, PcapError> {
        let le = u32::from_le_bytes(magic);
        let be = u32::from_be_bytes(magic);
        let (big_endian, nanos) = match (le, be) {
            (MAGIC_US, _) => (false, false),
            (MAGIC_NS, _) => (false, true),
            (_, MAGIC_US) => (true, false),
            (_, MAGIC_NS) => (true, true),
            _ => return Err(PcapError::BadMagic(le)),
        };
        let mut rest = [0u8; 20];
        read_required(r, &mut rest, "file header")?;
        // The link type's upper bits carry FCS information; the type is the low 16 bits.
        let link_type = LinkType(u32_at(&rest, 16, big_endian) & 0xFFFF);
        Ok(Self { big_endian, nanos, link_type })
    }

    /// Reads the next record into `buf`.
    pub(super) fn next_record<R: Read>(
        &self,
        r: &mut R,
        buf: &mut Vec<u8>,
    ) -> Result<Option<RecordMeta>, PcapError> {
        let mut hdr = [0u8; 16];
        if !read_full(r, &mut hdr, "record header")? {
            return Ok(None);
        }
        let be = self.big_endian;
        let (sec, frac) = (u64::from(u32_at(&hdr, 0, be)), u64::from(u32_at(&hdr, 4, be)));
        let incl = u32_at(&hdr, 8, be);
        let orig_len = u32_at(&hdr, 12, be);
        read_body(r, buf, u64::from(incl), "packet data")?;
        let frac_us = if self.nanos { frac / 1000 } else { frac };
        Ok(Some(RecordMeta {
            ts_us: sec * 1_000_000 + frac_us,
            link_type: self.link_type,
            data: 0..buf.len(),
            orig_len,
        }))
    }
}
