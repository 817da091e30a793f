//! BGP-4 message parsing (RFC 4271 and extensions): pure, panic-free parsers over byte slices.
//!
//! Used by the BMP collector (BGP PDUs inside BMP messages) and by the future BGP daemon.
//! [`parse_message`] reads one message (header + body); UPDATEs need a [`DecodeContext`]
//! (4-byte AS, add-path per AFI/SAFI) that the caller derives from the session's OPENs.
//! [`format`](mod@format) renders values the way pmacct prints them in its JSON output.

mod attrs;
pub mod format;
mod nlri;
mod notification;
mod open;
pub mod reader;
#[cfg(test)]
pub(crate) mod tests;
mod update;

pub use attrs::{
    AsPath, AsSegment, AsSegmentType, ExtCommunity, LargeCommunity, MpReach, MpUnreach, PathAttr,
    PathAttribute, attr_code,
};
pub use nlri::{MpNlri, Nlri, Prefix, RouteDistinguisher};
pub use notification::{Notification, RouteRefresh, error_code_name, error_subcode_name};
pub use open::{AddPathDir, Capability, Open, OptParam, parse_capability as open_capability};
pub use reader::{Reader, Truncated};
pub use update::{DecodeContext, Update};

/// Length of the fixed BGP header (marker, length, type).
pub const HEADER_LEN: usize = 19;
/// Largest BGP message (RFC 8654 extended messages).
pub const MAX_MESSAGE_LEN: usize = 65535;

/// Errors from the BGP parsers.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum BgpError {
    /// The input ended early.
    #[error(transparent)]
    Truncated(#[from] Truncated),
    /// The 16-byte marker is not all ones.
    #[error("BGP marker is not all ones")]
    BadMarker,
    /// The header's length is below 19 or beyond the bytes given.
    #[error("bad BGP message length {0}")]
    BadLength(u16),
    /// A message of one type was expected and another came.
    #[error("expected BGP message type {expected}, got {got}")]
    UnexpectedType {
        /// Wanted type.
        expected: u8,
        /// Received type.
        got: u8,
    },
    /// A prefix length beyond the address family's maximum.
    #[error("bad prefix length {len} (max {max})")]
    BadPrefixLength {
        /// Length in bits as encoded (labels and RD included).
        len: u8,
        /// Maximum for the family.
        max: u16,
    },
    /// A path attribute whose length does not fit its type.
    #[error("bad length {len} for path attribute {code}")]
    BadAttributeLength {
        /// Attribute type code.
        code: u8,
        /// Its length.
        len: usize,
    },
    /// An AS_PATH segment type outside 1–4.
    #[error("bad AS_PATH segment type {0}")]
    BadSegmentType(u8),
    /// A next hop length MP_REACH_NLRI does not define.
    #[error("bad next hop length {0}")]
    BadNextHopLength(u8),
    /// A field that must be consumed exactly was not.
    #[error("{what}: {left} trailing bytes")]
    Trailing {
        /// Which field.
        what: &'static str,
        /// Bytes left over.
        left: usize,
    },
}

/// An address family / subsequent address family pair (IANA AFI and SAFI numbers).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct AfiSafi {
    /// Address family (1 IPv4, 2 IPv6, 25 L2VPN, ...).
    pub afi: u16,
    /// Subsequent address family (1 unicast, 2 multicast, 4 labeled, 128 VPN, ...).
    pub safi: u8,
}

impl AfiSafi {
    /// IPv4 unicast.
    pub const IPV4_UNICAST: AfiSafi = AfiSafi::new(AFI_IPV4, SAFI_UNICAST);
    /// IPv6 unicast.
    pub const IPV6_UNICAST: AfiSafi = AfiSafi::new(AFI_IPV6, SAFI_UNICAST);

    /// Builds a pair.
    pub const fn new(afi: u16, safi: u8) -> Self {
        Self { afi, safi }
    }
}

/// AFI IPv4.
pub const AFI_IPV4: u16 = 1;
/// AFI IPv6.
pub const AFI_IPV6: u16 = 2;
/// SAFI unicast.
pub const SAFI_UNICAST: u8 = 1;
/// SAFI multicast.
pub const SAFI_MULTICAST: u8 = 2;
/// SAFI labeled unicast (RFC 8277).
pub const SAFI_LABELED_UNICAST: u8 = 4;
/// SAFI MPLS-labeled VPN (RFC 4364).
pub const SAFI_MPLS_VPN: u8 = 128;

/// BGP message type codes.
pub mod msg_type {
    /// OPEN.
    pub const OPEN: u8 = 1;
    /// UPDATE.
    pub const UPDATE: u8 = 2;
    /// NOTIFICATION.
    pub const NOTIFICATION: u8 = 3;
    /// KEEPALIVE.
    pub const KEEPALIVE: u8 = 4;
    /// ROUTE-REFRESH (RFC 2918).
    pub const ROUTE_REFRESH: u8 = 5;
}

/// The fixed header of a BGP message.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Header {
    /// Total message length, header included.
    pub length: u16,
    /// Message type.
    pub msg_type: u8,
}

/// Reads the 19-byte header and checks the marker and that `length` fits in `buf`.
pub fn parse_header(buf: &[u8]) -> Result<Header, BgpError> {
    let mut r = Reader::new(buf);
    let marker = r.take(16)?;
    if marker.iter().any(|&b| b != 0xff) {
        return Err(BgpError::BadMarker);
    }
    let length = r.u16()?;
    let msg_type = r.u8()?;
    if usize::from(length) < HEADER_LEN || usize::from(length) > buf.len() {
        return Err(BgpError::BadLength(length));
    }
    Ok(Header { length, msg_type })
}

/// One decoded BGP message.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Message {
    /// OPEN.
    Open(Open),
    /// UPDATE.
    Update(Update),
    /// NOTIFICATION.
    Notification(Notification),
    /// KEEPALIVE.
    Keepalive,
    /// ROUTE-REFRESH.
    RouteRefresh(RouteRefresh),
    /// A type this parser does not know, body kept raw.
    Unknown {
        /// Message type.
        msg_type: u8,
        /// Body after the header.
        body: Vec<u8>,
    },
}

/// Parses one message at the start of `buf`; returns it and the bytes it used.
pub fn parse_message(buf: &[u8], ctx: &DecodeContext) -> Result<(Message, usize), BgpError> {
    let h = parse_header(buf)?;
    let len = usize::from(h.length);
    let body = buf.get(HEADER_LEN..len).unwrap_or_default();
    let msg = match h.msg_type {
        msg_type::OPEN => Message::Open(Open::parse_body(body)?),
        msg_type::UPDATE => Message::Update(Update::parse_body(body, ctx)?),
        msg_type::NOTIFICATION => Message::Notification(Notification::parse_body(body)?),
        msg_type::KEEPALIVE => Message::Keepalive,
        msg_type::ROUTE_REFRESH => Message::RouteRefresh(RouteRefresh::parse_body(body)?),
        t => Message::Unknown { msg_type: t, body: body.to_vec() },
    };
    Ok((msg, len))
}

/// Parses a message that must be an OPEN (e.g. in a BMP Peer Up).
pub fn parse_open(buf: &[u8]) -> Result<(Open, usize), BgpError> {
    let h = parse_header(buf)?;
    if h.msg_type != msg_type::OPEN {
        return Err(BgpError::UnexpectedType { expected: msg_type::OPEN, got: h.msg_type });
    }
    let len = usize::from(h.length);
    Ok((Open::parse_body(buf.get(HEADER_LEN..len).unwrap_or_default())?, len))
}
