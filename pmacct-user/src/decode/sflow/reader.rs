//! A bounds-checked XDR reader: big-endian 32/64-bit words, opaque data padded to 4 bytes,
//! sFlow addresses. Every read returns `None` past the end instead of panicking.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// A cursor over one XDR-encoded slice (a datagram, a sample or a record).
#[derive(Clone, Copy, Debug)]
pub(super) struct Reader<'a> {
    data: &'a [u8],
    pos: usize,
}

impl<'a> Reader<'a> {
    pub(super) fn new(data: &'a [u8]) -> Self {
        Reader { data, pos: 0 }
    }

    /// Bytes consumed so far.
    pub(super) fn pos(&self) -> usize {
        self.pos
    }

    /// Bytes left.
    pub(super) fn remaining(&self) -> usize {
        self.data.len().saturating_sub(self.pos)
    }

    /// The next `n` bytes, unpadded.
    pub(super) fn bytes(&mut self, n: usize) -> Option<&'a [u8]> {
        let end = self.pos.checked_add(n)?;
        let b = self.data.get(self.pos..end)?;
        self.pos = end;
        Some(b)
    }

    /// The next `n` bytes, then skips the XDR padding to the next 4-byte boundary.
    pub(super) fn opaque(&mut self, n: usize) -> Option<&'a [u8]> {
        let b = self.bytes(n)?;
        self.skip(pad(n))?;
        Some(b)
    }

    /// Skips `n` bytes.
    pub(super) fn skip(&mut self, n: usize) -> Option<()> {
        self.bytes(n).map(|_| ())
    }

    pub(super) fn u32(&mut self) -> Option<u32> {
        let b: [u8; 4] = self.bytes(4)?.try_into().ok()?;
        Some(u32::from_be_bytes(b))
    }

    pub(super) fn u64(&mut self) -> Option<u64> {
        let b: [u8; 8] = self.bytes(8)?.try_into().ok()?;
        Some(u64::from_be_bytes(b))
    }

    /// A length-prefixed XDR opaque/string (`len` then the padded bytes).
    pub(super) fn var_opaque(&mut self) -> Option<&'a [u8]> {
        let len = usize::try_from(self.u32()?).ok()?;
        self.opaque(len)
    }

    /// An sFlow `address`: type 1 = IPv4 (4 bytes), 2 = IPv6 (16 bytes). Type 0 (unknown) carries
    /// no address and yields `Ok(None)`; any other type is an error (its length is unknown).
    pub(super) fn address(&mut self) -> Option<Result<Option<IpAddr>, u32>> {
        match self.u32()? {
            0 => Some(Ok(None)),
            1 => {
                let b: [u8; 4] = self.bytes(4)?.try_into().ok()?;
                Some(Ok(Some(IpAddr::V4(Ipv4Addr::from(b)))))
            }
            2 => {
                let b: [u8; 16] = self.bytes(16)?.try_into().ok()?;
                Some(Ok(Some(IpAddr::V6(Ipv6Addr::from(b)))))
            }
            other => Some(Err(other)),
        }
    }

    /// Splits off the next `len` bytes as their own reader (a length-delimited sample or record).
    pub(super) fn sub(&mut self, len: usize) -> Option<Reader<'a>> {
        self.bytes(len).map(Reader::new)
    }
}

/// XDR padding after `n` bytes of opaque data.
pub(super) fn pad(n: usize) -> usize {
    (4 - n % 4) % 4
}
