//! Cuts a BMP TCP byte stream into whole messages.

use super::COMMON_HEADER_LEN;

/// Largest message accepted (16 MiB); anything larger means a desynchronised stream.
pub const MAX_MESSAGE_LEN: usize = 16 << 20;

/// A stream that cannot be framed any further: the connection should be dropped.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum FrameError {
    /// A version without a length field (1, 2) or unknown.
    #[error("unsupported BMP version {0} in stream")]
    UnsupportedVersion(u8),
    /// A length below the common header or above [`MAX_MESSAGE_LEN`].
    #[error("absurd BMP message length {0}")]
    BadLength(u32),
}

/// Accumulates TCP chunks and yields whole messages. Half messages wait for more bytes; after
/// an error the framer stays failed (the stream has lost sync).
#[derive(Debug, Default)]
pub struct BmpFramer {
    buf: Vec<u8>,
    start: usize,
    failed: Option<FrameError>,
}

impl BmpFramer {
    /// An empty framer.
    pub fn new() -> Self {
        Self::default()
    }

    /// Appends a chunk of the stream.
    pub fn push(&mut self, chunk: &[u8]) {
        if self.start > 0 {
            self.buf.drain(..self.start);
            self.start = 0;
        }
        self.buf.extend_from_slice(chunk);
    }

    /// Bytes held that are not yet a whole message.
    pub fn pending(&self) -> usize {
        self.buf.len().saturating_sub(self.start)
    }

    /// The next whole message, `Ok(None)` when more bytes are needed.
    pub fn next_frame(&mut self) -> Result<Option<&[u8]>, FrameError> {
        if let Some(e) = self.failed {
            return Err(e);
        }
        let rest = self.buf.get(self.start..).unwrap_or_default();
        let Some(&version) = rest.first() else {
            return Ok(None);
        };
        if !matches!(version, 3 | 4) {
            return Err(*self.failed.insert(FrameError::UnsupportedVersion(version)));
        }
        let Some(len_bytes) = rest.get(1..5) else {
            return Ok(None);
        };
        let mut lb = [0u8; 4];
        lb.copy_from_slice(len_bytes);
        let len32 = u32::from_be_bytes(lb);
        let len = usize::try_from(len32).unwrap_or(usize::MAX);
        if !(COMMON_HEADER_LEN..=MAX_MESSAGE_LEN).contains(&len) {
            return Err(*self.failed.insert(FrameError::BadLength(len32)));
        }
        if rest.len() < len {
            return Ok(None);
        }
        let s = self.start;
        self.start += len;
        Ok(self.buf.get(s..s + len))
    }
}
