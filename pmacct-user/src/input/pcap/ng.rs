//! pcapng: section header, interface description, enhanced / simple / obsolete packet blocks.
//! Other block types are skipped.

use std::io::Read;

use super::{PcapError, RecordMeta, read_body, read_full, read_required, u16_at, u32_at};
use crate::decode::packet::LinkType;

/// Section header block type (the same in both byte orders).
pub(super) const SHB_TYPE: u32 = 0x0A0D_0D0A;
const BYTE_ORDER_MAGIC: u32 = 0x1A2B_3C4D;
const IDB_TYPE: u32 = 1;
const OPB_TYPE: u32 = 2;
const SPB_TYPE: u32 = 3;
const EPB_TYPE: u32 = 6;
const OPT_IF_TSRESOL: u16 = 9;
const OPT_IF_TSOFFSET: u16 = 14;

/// One interface description.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Interface {
    link_type: LinkType,
    snaplen: u32,
    /// Raw `if_tsresol`: bit 7 clear → 10^-n s, set → 2^-n s. Default 6 (µs).
    tsresol: u8,
    /// `if_tsoffset`, seconds added to every timestamp.
    tsoffset: i64,
}

impl Interface {
    /// Converts a 64-bit tick count to Unix microseconds.
    fn ts_us(&self, ticks: u64) -> u64 {
        let n = u32::from(self.tsresol & 0x7F);
        let us = if self.tsresol & 0x80 != 0 {
            u64::try_from((u128::from(ticks) * 1_000_000).checked_shr(n).unwrap_or(0))
                .unwrap_or(u64::MAX)
        } else if n <= 6 {
            ticks.saturating_mul(10u64.pow(6 - n))
        } else {
            10u64.checked_pow(n - 6).map_or(0, |d| ticks / d)
        };
        us.saturating_add_signed(self.tsoffset.saturating_mul(1_000_000))
    }
}

/// State of the current section.
#[derive(Debug)]
pub(super) struct Section {
    big_endian: bool,
    interfaces: Vec<Interface>,
}

impl Section {
    /// Reads a section header block whose 4-byte type has already been consumed.
    pub(super) fn read_after_type<R: Read>(r: &mut R) -> Result<Self, PcapError> {
        let mut head = [0u8; 8];
        read_required(r, &mut head, "section header")?;
        let big_endian = match u32_at(&head, 4, false) {
            BYTE_ORDER_MAGIC => false,
            m if m.swap_bytes() == BYTE_ORDER_MAGIC => true,
            m => return Err(PcapError::BadMagic(m)),
        };
        let total = u64::from(u32_at(&head, 0, big_endian));
        if total < 28 || !total.is_multiple_of(4) {
            return Err(PcapError::BadBlock("section header length"));
        }
        let mut rest = Vec::new();
        read_body(r, &mut rest, total - 12, "section header")?;
        Ok(Self { big_endian, interfaces: Vec::new() })
    }

    /// Reads blocks until the next packet; its bytes are left in `buf`.
    pub(super) fn next_packet<R: Read>(
        &mut self,
        r: &mut R,
        buf: &mut Vec<u8>,
    ) -> Result<Option<RecordMeta>, PcapError> {
        loop {
            let mut ty = [0u8; 4];
            if !read_full(r, &mut ty, "block header")? {
                return Ok(None);
            }
            let block_type = u32_at(&ty, 0, self.big_endian);
            if block_type == SHB_TYPE {
                *self = Section::read_after_type(r)?;
                continue;
            }
            let mut len = [0u8; 4];
            read_required(r, &mut len, "block header")?;
            let total = u64::from(u32_at(&len, 0, self.big_endian));
            if total < 12 {
                return Err(PcapError::BadBlock("block shorter than 12 bytes"));
            }
            // Body plus the trailing length copy.
            read_body(r, buf, total - 8, "block body")?;
            let body_len = buf.len().saturating_sub(4);
            let body = buf.get(..body_len).unwrap_or_default();
            let meta = match block_type {
                IDB_TYPE => {
                    self.interfaces.push(self.parse_idb(body)?);
                    continue;
                }
                EPB_TYPE => self.packet(body, false)?,
                OPB_TYPE => self.packet(body, true)?,
                SPB_TYPE => self.simple_packet(body)?,
                _ => continue,
            };
            return Ok(Some(meta));
        }
    }

    fn parse_idb(&self, body: &[u8]) -> Result<Interface, PcapError> {
        if body.len() < 8 {
            return Err(PcapError::BadBlock("interface description too short"));
        }
        let be = self.big_endian;
        let mut iface = Interface {
            link_type: LinkType(u32::from(u16_at(body, 0, be))),
            snaplen: u32_at(body, 4, be),
            tsresol: 6,
            tsoffset: 0,
        };
        let mut off = 8;
        while off + 4 <= body.len() {
            let code = u16_at(body, off, be);
            let len = usize::from(u16_at(body, off + 2, be));
            let val = body.get(off + 4..off + 4 + len).unwrap_or_default();
            match code {
                0 => break,
                OPT_IF_TSRESOL => iface.tsresol = val.first().copied().unwrap_or(6),
                OPT_IF_TSOFFSET if len == 8 => {
                    let lo = u64::from(u32_at(val, 0, be));
                    let hi = u64::from(u32_at(val, 4, be));
                    let v = if be { (lo << 32) | hi } else { (hi << 32) | lo };
                    iface.tsoffset = v as i64;
                }
                _ => {}
            }
            off += 4 + len.div_ceil(4) * 4;
        }
        Ok(iface)
    }

    fn interface(&self, id: u32) -> Result<&Interface, PcapError> {
        usize::try_from(id)
            .ok()
            .and_then(|i| self.interfaces.get(i))
            .ok_or(PcapError::UnknownInterface(id))
    }

    /// Enhanced (`obsolete = false`) or obsolete packet block: iface, ts high/low, caplen,
    /// orig len, data at offset 20.
    fn packet(&self, body: &[u8], obsolete: bool) -> Result<RecordMeta, PcapError> {
        if body.len() < 20 {
            return Err(PcapError::BadBlock("packet block too short"));
        }
        let be = self.big_endian;
        let id = if obsolete { u32::from(u16_at(body, 0, be)) } else { u32_at(body, 0, be) };
        let iface = self.interface(id)?;
        let ticks = (u64::from(u32_at(body, 4, be)) << 32) | u64::from(u32_at(body, 8, be));
        let caplen = usize::try_from(u32_at(body, 12, be)).unwrap_or(usize::MAX);
        let end = 20usize.saturating_add(caplen);
        if end > body.len() {
            return Err(PcapError::BadBlock("captured length exceeds block"));
        }
        Ok(RecordMeta {
            ts_us: iface.ts_us(ticks),
            link_type: iface.link_type,
            data: 20..end,
            orig_len: u32_at(body, 16, be),
        })
    }

    /// Simple packet block: orig len, data; interface 0, no timestamp.
    fn simple_packet(&self, body: &[u8]) -> Result<RecordMeta, PcapError> {
        if body.len() < 4 {
            return Err(PcapError::BadBlock("simple packet block too short"));
        }
        let iface = self.interface(0)?;
        let orig_len = u32_at(body, 0, self.big_endian);
        let mut cap = usize::try_from(orig_len).unwrap_or(usize::MAX);
        if iface.snaplen != 0 {
            cap = cap.min(usize::try_from(iface.snaplen).unwrap_or(usize::MAX));
        }
        let end = 4usize.saturating_add(cap).min(body.len());
        Ok(RecordMeta { ts_us: 0, link_type: iface.link_type, data: 4..end, orig_len })
    }
}
