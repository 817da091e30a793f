//! The per-peer header (RFC 7854 §4.2, RFC 8671 O flag, RFC 9069 Loc-RIB peer type).

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use crate::decode::bgp::{Reader, RouteDistinguisher, Truncated};

/// Length of the per-peer header.
pub const PEER_HEADER_LEN: usize = 42;

/// BMP peer types.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum PeerType {
    /// Global instance peer (0).
    Global,
    /// RD instance peer (1).
    Rd,
    /// Local instance peer (2).
    Local,
    /// Loc-RIB instance peer (3, RFC 9069).
    LocRib,
    /// Any other value.
    Other(u8),
}

impl PeerType {
    /// From the wire value.
    pub fn from_u8(v: u8) -> Self {
        match v {
            0 => Self::Global,
            1 => Self::Rd,
            2 => Self::Local,
            3 => Self::LocRib,
            o => Self::Other(o),
        }
    }
    /// The wire value (pmacct prints it as `peer_type`).
    pub fn code(self) -> u8 {
        match self {
            Self::Global => 0,
            Self::Rd => 1,
            Self::Local => 2,
            Self::LocRib => 3,
            Self::Other(o) => o,
        }
    }
    /// A name, as pmacct's `bmp_peer_types` prints in `peer_type_str`.
    pub fn name(self) -> &'static str {
        match self {
            Self::Global => "Global Instance Peer",
            Self::Rd => "RD Instance Peer",
            Self::Local => "Local Instance Peer",
            Self::LocRib => "Loc-RIB Instance Peer",
            Self::Other(_) => "Unknown",
        }
    }
}

/// Per-peer header flag bits.
pub mod flags {
    /// V: the peer address is IPv6.
    pub const V: u8 = 0x80;
    /// L: post-policy Adj-RIB-In.
    pub const L: u8 = 0x40;
    /// A: legacy 2-byte AS_PATH format.
    pub const A: u8 = 0x20;
    /// O: Adj-RIB-Out (RFC 8671).
    pub const O: u8 = 0x10;
    /// F: Loc-RIB is filtered (RFC 9069, peer type 3 only; same bit as V).
    pub const F: u8 = 0x80;
}

/// A decoded per-peer header.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct PeerHeader {
    /// Peer type.
    pub peer_type: PeerType,
    /// Flags octet (see [`flags`]).
    pub flags: u8,
    /// Peer distinguisher (the RD for RD instance peers), raw.
    pub distinguisher: [u8; 8],
    /// Peer address (IPv4 when the V flag is clear; unspecified for Loc-RIB).
    pub addr: IpAddr,
    /// Peer AS.
    pub asn: u32,
    /// Peer BGP identifier.
    pub bgp_id: Ipv4Addr,
    /// Timestamp, seconds.
    pub ts_sec: u32,
    /// Timestamp, microseconds.
    pub ts_usec: u32,
}

impl PeerHeader {
    /// Parses the 42-byte header.
    pub fn parse(r: &mut Reader<'_>) -> Result<PeerHeader, Truncated> {
        let peer_type = PeerType::from_u8(r.u8()?);
        let flags = r.u8()?;
        let distinguisher = r.array::<8>()?;
        let raw = r.array::<16>()?;
        let v6 = flags & flags::V != 0 && peer_type != PeerType::LocRib;
        let addr = if v6 {
            IpAddr::V6(Ipv6Addr::from(raw))
        } else {
            let [.., a, b, c, d] = raw;
            IpAddr::V4(Ipv4Addr::new(a, b, c, d))
        };
        Ok(PeerHeader {
            peer_type,
            flags,
            distinguisher,
            addr,
            asn: r.u32()?,
            bgp_id: r.ipv4()?,
            ts_sec: r.u32()?,
            ts_usec: r.u32()?,
        })
    }

    /// V flag (IPv6 peer address).
    pub fn is_ipv6(&self) -> bool {
        self.addr.is_ipv6()
    }
    /// L flag: post-policy (not for Loc-RIB).
    pub fn post_policy(&self) -> bool {
        self.peer_type != PeerType::LocRib && self.flags & flags::L != 0
    }
    /// A flag: legacy 2-byte AS_PATH (never for Loc-RIB).
    pub fn legacy_as_path(&self) -> bool {
        self.peer_type != PeerType::LocRib && self.flags & flags::A != 0
    }
    /// O flag: Adj-RIB-Out (RFC 8671).
    pub fn adj_rib_out(&self) -> bool {
        self.peer_type != PeerType::LocRib && self.flags & flags::O != 0
    }
    /// F flag: filtered Loc-RIB (RFC 9069).
    pub fn loc_rib_filtered(&self) -> bool {
        self.peer_type == PeerType::LocRib && self.flags & flags::F != 0
    }
    /// The distinguisher as a route distinguisher, when non-zero.
    pub fn rd(&self) -> Option<RouteDistinguisher> {
        (self.distinguisher != [0; 8]).then(|| RouteDistinguisher::from_bytes(self.distinguisher))
    }
    /// The distinguisher as a number (for keys).
    pub fn distinguisher_u64(&self) -> u64 {
        u64::from_be_bytes(self.distinguisher)
    }
}
