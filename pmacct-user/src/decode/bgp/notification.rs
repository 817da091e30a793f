//! NOTIFICATION (RFC 4271 §4.5, 4486, 8203, 9003) and ROUTE-REFRESH (RFC 2918, 7313).

use super::{BgpError, Reader};

/// A decoded NOTIFICATION.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Notification {
    /// Error code.
    pub code: u8,
    /// Error subcode.
    pub subcode: u8,
    /// Data.
    pub data: Vec<u8>,
}

impl Notification {
    /// Parses a NOTIFICATION body.
    pub fn parse_body(body: &[u8]) -> Result<Notification, BgpError> {
        let mut r = Reader::new(body);
        Ok(Notification { code: r.u8()?, subcode: r.u8()?, data: r.rest().to_vec() })
    }

    /// The error code's name.
    pub fn code_name(&self) -> &'static str {
        error_code_name(self.code)
    }

    /// The subcode's name.
    pub fn subcode_name(&self) -> &'static str {
        error_subcode_name(self.code, self.subcode)
    }

    /// The shutdown communication of a Cease / Administrative Shutdown or Reset (RFC 9003).
    pub fn shutdown_message(&self) -> Option<String> {
        if self.code != 6 || !matches!(self.subcode, 2 | 4) {
            return None;
        }
        let (len, rest) = self.data.split_first()?;
        let msg = rest.get(..usize::from(*len))?;
        Some(String::from_utf8_lossy(msg).into_owned())
    }
}

/// RFC 4271 error code names (IANA "BGP Error (Notification) Codes").
pub fn error_code_name(code: u8) -> &'static str {
    match code {
        1 => "Message Header Error",
        2 => "OPEN Message Error",
        3 => "UPDATE Message Error",
        4 => "Hold Timer Expired",
        5 => "Finite State Machine Error",
        6 => "Cease",
        7 => "ROUTE-REFRESH Message Error",
        _ => "Unknown",
    }
}

/// Subcode names per error code (IANA registries).
pub fn error_subcode_name(code: u8, subcode: u8) -> &'static str {
    match (code, subcode) {
        (_, 0) => "Unspecific",
        (1, 1) => "Connection Not Synchronized",
        (1, 2) => "Bad Message Length",
        (1, 3) => "Bad Message Type",
        (2, 1) => "Unsupported Version Number",
        (2, 2) => "Bad Peer AS",
        (2, 3) => "Bad BGP Identifier",
        (2, 4) => "Unsupported Optional Parameter",
        (2, 6) => "Unacceptable Hold Time",
        (2, 7) => "Unsupported Capability",
        (2, 11) => "Role Mismatch",
        (3, 1) => "Malformed Attribute List",
        (3, 2) => "Unrecognized Well-known Attribute",
        (3, 3) => "Missing Well-known Attribute",
        (3, 4) => "Attribute Flags Error",
        (3, 5) => "Attribute Length Error",
        (3, 6) => "Invalid ORIGIN Attribute",
        (3, 8) => "Invalid NEXT_HOP Attribute",
        (3, 9) => "Optional Attribute Error",
        (3, 10) => "Invalid Network Field",
        (3, 11) => "Malformed AS_PATH",
        (5, 1) => "Receive Unexpected Message in OpenSent State",
        (5, 2) => "Receive Unexpected Message in OpenConfirm State",
        (5, 3) => "Receive Unexpected Message in Established State",
        (6, 1) => "Maximum Number of Prefixes Reached",
        (6, 2) => "Administrative Shutdown",
        (6, 3) => "Peer De-configured",
        (6, 4) => "Administrative Reset",
        (6, 5) => "Connection Rejected",
        (6, 6) => "Other Configuration Change",
        (6, 7) => "Connection Collision Resolution",
        (6, 8) => "Out of Resources",
        (6, 9) => "Hard Reset",
        (6, 10) => "BFD Down",
        (7, 1) => "Invalid Message Length",
        _ => "Unknown",
    }
}

/// A decoded ROUTE-REFRESH.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RouteRefresh {
    /// Address family.
    pub afi: u16,
    /// Message subtype (RFC 7313: 0 normal, 1 BoRR, 2 EoRR).
    pub subtype: u8,
    /// Subsequent address family.
    pub safi: u8,
}

impl RouteRefresh {
    /// Parses a ROUTE-REFRESH body.
    pub fn parse_body(body: &[u8]) -> Result<RouteRefresh, BgpError> {
        let mut r = Reader::new(body);
        Ok(RouteRefresh { afi: r.u16()?, subtype: r.u8()?, safi: r.u8()? })
    }
}
