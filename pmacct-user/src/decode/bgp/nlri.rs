//! NLRI encodings: plain prefixes (RFC 4271), add-path path identifiers (RFC 7911), MPLS
//! labels (RFC 8277) and route distinguishers (RFC 4364).

use std::fmt;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use super::{AFI_IPV4, AFI_IPV6, AfiSafi, BgpError, Reader, SAFI_LABELED_UNICAST, SAFI_MPLS_VPN};

/// An IP prefix: address (host bits zero) and length in bits.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Prefix {
    /// Network address.
    pub addr: IpAddr,
    /// Prefix length in bits.
    pub len: u8,
}

impl Prefix {
    /// Builds a prefix, zeroing host bits; `None` when `len` exceeds the family's width.
    pub fn new(addr: IpAddr, len: u8) -> Option<Prefix> {
        let addr = match addr {
            IpAddr::V4(a) if len <= 32 => {
                let m = u32::MAX.checked_shl(32 - u32::from(len)).unwrap_or(0);
                IpAddr::V4(Ipv4Addr::from(u32::from(a) & m))
            }
            IpAddr::V6(a) if len <= 128 => {
                let m = u128::MAX.checked_shl(128 - u32::from(len)).unwrap_or(0);
                IpAddr::V6(Ipv6Addr::from(u128::from(a) & m))
            }
            _ => return None,
        };
        Some(Prefix { addr, len })
    }
}

impl fmt::Display for Prefix {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.addr, self.len)
    }
}

/// A route distinguisher (RFC 4364 §4.2).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum RouteDistinguisher {
    /// Type 0: 2-byte AS administrator, 4-byte number.
    As2 {
        /// Administrator.
        asn: u16,
        /// Assigned number.
        value: u32,
    },
    /// Type 1: IPv4 administrator, 2-byte number.
    Ipv4 {
        /// Administrator.
        addr: Ipv4Addr,
        /// Assigned number.
        value: u16,
    },
    /// Type 2: 4-byte AS administrator, 2-byte number.
    As4 {
        /// Administrator.
        asn: u32,
        /// Assigned number.
        value: u16,
    },
    /// Any other type, raw 8 bytes.
    Other([u8; 8]),
}

impl RouteDistinguisher {
    /// Decodes the 8 wire bytes.
    pub fn from_bytes(b: [u8; 8]) -> Self {
        let [t0, t1, a, c, d, e, g, h] = b;
        match u16::from_be_bytes([t0, t1]) {
            0 => Self::As2 {
                asn: u16::from_be_bytes([a, c]),
                value: u32::from_be_bytes([d, e, g, h]),
            },
            1 => Self::Ipv4 { addr: Ipv4Addr::new(a, c, d, e), value: u16::from_be_bytes([g, h]) },
            2 => Self::As4 {
                asn: u32::from_be_bytes([a, c, d, e]),
                value: u16::from_be_bytes([g, h]),
            },
            _ => Self::Other(b),
        }
    }

    /// Encodes back to the 8 wire bytes.
    pub fn to_bytes(self) -> [u8; 8] {
        let mut o = [0u8; 8];
        match self {
            Self::As2 { asn, value } => {
                o[2..4].copy_from_slice(&asn.to_be_bytes());
                o[4..8].copy_from_slice(&value.to_be_bytes());
            }
            Self::Ipv4 { addr, value } => {
                o[1] = 1;
                o[2..6].copy_from_slice(&addr.octets());
                o[6..8].copy_from_slice(&value.to_be_bytes());
            }
            Self::As4 { asn, value } => {
                o[1] = 2;
                o[2..6].copy_from_slice(&asn.to_be_bytes());
                o[6..8].copy_from_slice(&value.to_be_bytes());
            }
            Self::Other(b) => o = b,
        }
        o
    }
}

/// pmacct's `bgp_rd2str`: `0:65000:100`, `1:192.0.2.1:100`, `2:4200000000:100`.
impl fmt::Display for RouteDistinguisher {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::As2 { asn, value } => write!(f, "0:{asn}:{value}"),
            Self::Ipv4 { addr, value } => write!(f, "1:{addr}:{value}"),
            Self::As4 { asn, value } => write!(f, "2:{asn}:{value}"),
            Self::Other(_) => f.write_str("unknown"),
        }
    }
}

/// One NLRI entry: the prefix plus what add-path, labels and VPNs add to it.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Nlri {
    /// The prefix.
    pub prefix: Prefix,
    /// Add-path identifier, when add-path is in use for the family.
    pub path_id: Option<u32>,
    /// Route distinguisher (VPN families).
    pub rd: Option<RouteDistinguisher>,
    /// MPLS labels (20-bit values), outermost first (labeled and VPN families).
    pub labels: Vec<u32>,
}

/// The NLRI of an MP_REACH/MP_UNREACH attribute.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum MpNlri {
    /// IP families this parser understands (unicast, multicast, labeled, VPN).
    Prefixes(Vec<Nlri>),
    /// Other families (EVPN, flowspec, BGP-LS, ...), raw bytes.
    Raw(Vec<u8>),
}

/// Whether [`parse_nlri`] understands this family's NLRI.
pub fn is_ip_family(af: AfiSafi) -> bool {
    matches!(af.afi, AFI_IPV4 | AFI_IPV6)
        && matches!(af.safi, 1 | 2 | SAFI_LABELED_UNICAST | SAFI_MPLS_VPN)
}

/// Parses a run of NLRI of family `af`, with path ids when `add_path`.
pub fn parse_nlri(
    buf: &[u8],
    af: AfiSafi,
    add_path: bool,
    withdraw: bool,
) -> Result<Vec<Nlri>, BgpError> {
    let mut r = Reader::new(buf);
    let mut out = Vec::new();
    let labeled = matches!(af.safi, SAFI_LABELED_UNICAST | SAFI_MPLS_VPN);
    let vpn = af.safi == SAFI_MPLS_VPN;
    let width: u16 = if af.afi == AFI_IPV6 { 128 } else { 32 };
    while !r.is_empty() {
        let path_id = if add_path { Some(r.u32()?) } else { None };
        let enc_len = r.u8()?;
        let mut bits = u16::from(enc_len);
        let mut labels = Vec::new();
        if labeled {
            loop {
                if bits < 24 {
                    return Err(BgpError::BadPrefixLength { len: enc_len, max: width });
                }
                let l = r.u24()?;
                bits -= 24;
                labels.push(l >> 4);
                // Bottom of stack, or the withdraw compatibility values (RFC 8277 §2.4).
                if l & 1 == 1 || (withdraw && (l == 0x80_0000 || l == 0)) || labels.len() >= 8 {
                    break;
                }
            }
        }
        let rd = if vpn {
            if bits < 64 {
                return Err(BgpError::BadPrefixLength { len: enc_len, max: width });
            }
            bits -= 64;
            Some(RouteDistinguisher::from_bytes(r.array()?))
        } else {
            None
        };
        if bits > width {
            return Err(BgpError::BadPrefixLength { len: enc_len, max: width });
        }
        let bytes = r.take(usize::from(bits).div_ceil(8))?;
        let mut full = [0u8; 16];
        if let Some(dst) = full.get_mut(..bytes.len()) {
            dst.copy_from_slice(bytes);
        }
        let addr = if af.afi == AFI_IPV6 {
            IpAddr::V6(Ipv6Addr::from(full))
        } else {
            let [a, b, c, d, ..] = full;
            IpAddr::V4(Ipv4Addr::new(a, b, c, d))
        };
        let len = u8::try_from(bits).unwrap_or(u8::MAX);
        let prefix =
            Prefix::new(addr, len).ok_or(BgpError::BadPrefixLength { len: enc_len, max: width })?;
        out.push(Nlri { prefix, path_id, rd, labels });
    }
    Ok(out)
}
