//! BMP parsing: RFC 7854 (v3, which pmacct 1.5.1's draft-ietf-grow-bmp-07 became), RFC 8671
//! (Adj-RIB-Out), RFC 9069 (Loc-RIB) and draft-ietf-grow-bmp-tlv's v4 Route Monitoring TLVs.
//!
//! [`BmpFramer`] cuts a TCP stream into messages; [`decode`] parses one message, using and
//! updating the per-router [`SessionTable`] (Peer Up records each peer's OPENs, which decide
//! 4-byte AS and add-path for its Route Monitoring; Peer Down forgets the peer).
//! BMP v1/v2 (no length in the common header) are refused: they cannot be framed safely.

mod framer;
mod msgs;
mod peer;
mod session;
#[cfg(test)]
mod tests;
mod tlv;

pub use framer::{BmpFramer, FrameError, MAX_MESSAGE_LEN};
pub use msgs::{
    BmpMessage, MirrorTlv, PeerDown, PeerDownReason, PeerUp, RmTlv, RouteMirroring,
    RouteMonitoring, StatisticsReport,
};
pub use peer::{PEER_HEADER_LEN, PeerHeader, PeerType, flags};
pub use session::{PeerKey, PeerSession, SessionTable};
pub use tlv::{
    InfoTlv, Stat, StatValue, TerminationTlv, msg_type_name, peer_down_reason_name, stat_type_name,
    termination_reason_name,
};

use crate::decode::bgp::{BgpError, Reader, Truncated};

/// Length of the v3/v4 common header.
pub const COMMON_HEADER_LEN: usize = 6;

/// Errors from the BMP parsers.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum BmpError {
    /// The message ended early.
    #[error(transparent)]
    Truncated(#[from] Truncated),
    /// Not version 3 or 4.
    #[error("unsupported BMP version {0}")]
    UnsupportedVersion(u8),
    /// The common header's length is below 6 or differs from the bytes given.
    #[error("bad BMP message length {0}")]
    BadLength(u32),
    /// A BGP PDU inside the message failed to parse.
    #[error("in BGP PDU: {0}")]
    Bgp(#[from] BgpError),
    /// A v4 Route Monitoring message without its BGP PDU TLV.
    #[error("route monitoring without a BGP PDU")]
    MissingBgpPdu,
    /// A BGP PDU of the wrong type (e.g. not an UPDATE in Route Monitoring).
    #[error("unexpected BGP message type {0}")]
    UnexpectedBgpType(u8),
}

/// The common header.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CommonHeader {
    /// Version (3 or 4).
    pub version: u8,
    /// Total length including this header.
    pub length: u32,
    /// Message type (see [`msg_type_name`]).
    pub msg_type: u8,
}

/// Parses the common header and checks it against the frame length.
pub fn parse_common_header(frame: &[u8]) -> Result<CommonHeader, BmpError> {
    let mut r = Reader::new(frame);
    let version = r.u8()?;
    if !matches!(version, 3 | 4) {
        return Err(BmpError::UnsupportedVersion(version));
    }
    let length = r.u32()?;
    let msg_type = r.u8()?;
    if usize::try_from(length).ok() != Some(frame.len()) {
        return Err(BmpError::BadLength(length));
    }
    Ok(CommonHeader { version, length, msg_type })
}

/// Decodes one whole BMP message (as [`BmpFramer`] yields it), updating `sessions` on Peer Up
/// and Peer Down and decoding Route Monitoring with the peer's negotiated context.
pub fn decode(frame: &[u8], sessions: &mut SessionTable) -> Result<BmpMessage, BmpError> {
    let h = parse_common_header(frame)?;
    let body = frame.get(COMMON_HEADER_LEN..).unwrap_or_default();
    let msg = msgs::parse_body(h, body, sessions)?;
    match &msg {
        BmpMessage::PeerUp(up) => sessions.peer_up(up),
        BmpMessage::PeerDown(down) => {
            sessions.peer_down(&down.peer);
        }
        _ => {}
    }
    Ok(msg)
}
