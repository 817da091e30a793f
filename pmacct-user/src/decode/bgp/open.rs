//! OPEN messages: optional parameters and capabilities (RFC 5492, 4760, 6793, 7911, 2918,
//! 4724, 9072 extended optional parameters length).

use std::net::Ipv4Addr;

use super::{AfiSafi, BgpError, Reader};

/// The add-path direction a speaker advertises for one AFI/SAFI (RFC 7911).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum AddPathDir {
    /// Able to receive multiple paths (1).
    Receive,
    /// Able to send multiple paths (2).
    Send,
    /// Both (3).
    Both,
    /// Any other value, kept.
    Other(u8),
}

impl AddPathDir {
    fn from_u8(v: u8) -> Self {
        match v {
            1 => Self::Receive,
            2 => Self::Send,
            3 => Self::Both,
            o => Self::Other(o),
        }
    }
    /// Whether the speaker can send multiple paths.
    pub fn can_send(self) -> bool {
        matches!(self, Self::Send | Self::Both)
    }
    /// Whether the speaker can receive multiple paths.
    pub fn can_receive(self) -> bool {
        matches!(self, Self::Receive | Self::Both)
    }
}

/// One capability (optional parameter type 2).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Capability {
    /// Multiprotocol extensions (code 1).
    Multiprotocol(AfiSafi),
    /// Route refresh (code 2).
    RouteRefresh,
    /// Graceful restart (code 64), kept raw.
    GracefulRestart(Vec<u8>),
    /// 4-octet AS number (code 65).
    FourOctetAs(u32),
    /// Add-path (code 69): per AFI/SAFI direction.
    AddPath(Vec<(AfiSafi, AddPathDir)>),
    /// Any other capability (or a known one with a malformed value), kept raw.
    Unknown {
        /// Capability code.
        code: u8,
        /// Value bytes.
        data: Vec<u8>,
    },
}

impl Capability {
    fn parse(code: u8, data: &[u8]) -> Capability {
        let mut r = Reader::new(data);
        let known = match code {
            1 if data.len() == 4 => (|| {
                let afi = r.u16()?;
                let _reserved = r.u8()?;
                Ok::<_, BgpError>(Capability::Multiprotocol(AfiSafi::new(afi, r.u8()?)))
            })()
            .ok(),
            2 if data.is_empty() => Some(Capability::RouteRefresh),
            64 => Some(Capability::GracefulRestart(data.to_vec())),
            65 if data.len() == 4 => r.u32().ok().map(Capability::FourOctetAs),
            69 if data.len().is_multiple_of(4) => Some(Capability::AddPath(
                data.as_chunks::<4>()
                    .0
                    .iter()
                    .map(|&[a, b, safi, dir]| {
                        let af = AfiSafi::new(u16::from_be_bytes([a, b]), safi);
                        (af, AddPathDir::from_u8(dir))
                    })
                    .collect(),
            )),
            _ => None,
        };
        known.unwrap_or_else(|| Capability::Unknown { code, data: data.to_vec() })
    }
}

/// One optional parameter of an OPEN.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum OptParam {
    /// Capabilities (parameter type 2); one parameter may carry several.
    Capabilities(Vec<Capability>),
    /// Any other parameter type, kept raw.
    Unknown {
        /// Parameter type.
        code: u8,
        /// Value bytes.
        data: Vec<u8>,
    },
}

/// A decoded OPEN message.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Open {
    /// BGP version (4).
    pub version: u8,
    /// "My Autonomous System" (23456 when the real AS is in the 4-octet capability).
    pub my_as: u16,
    /// Hold time in seconds.
    pub hold_time: u16,
    /// BGP identifier.
    pub bgp_id: Ipv4Addr,
    /// Optional parameters in wire order.
    pub params: Vec<OptParam>,
}

impl Open {
    /// Parses an OPEN body (after the 19-byte header).
    pub fn parse_body(body: &[u8]) -> Result<Open, BgpError> {
        let mut r = Reader::new(body);
        let version = r.u8()?;
        let my_as = r.u16()?;
        let hold_time = r.u16()?;
        let bgp_id = r.ipv4()?;
        let mut opt_len = usize::from(r.u8()?);
        // RFC 9072: non-extended length 255 followed by type 255 means a 2-byte length follows,
        // and each parameter has a 2-byte length.
        let mut extended = false;
        if opt_len == 255 && body.get(10) == Some(&255) {
            let _marker = r.u8()?;
            opt_len = usize::from(r.u16()?);
            extended = true;
        }
        let mut pr = Reader::new(r.take(opt_len)?);
        let mut params = Vec::new();
        while !pr.is_empty() {
            let code = pr.u8()?;
            let len = if extended { usize::from(pr.u16()?) } else { usize::from(pr.u8()?) };
            let data = pr.take(len)?;
            params.push(if code == 2 {
                OptParam::Capabilities(parse_capabilities(data)?)
            } else {
                OptParam::Unknown { code, data: data.to_vec() }
            });
        }
        Ok(Open { version, my_as, hold_time, bgp_id, params })
    }

    /// Every capability, across all capability parameters.
    pub fn capabilities(&self) -> impl Iterator<Item = &Capability> {
        self.params.iter().flat_map(|p| match p {
            OptParam::Capabilities(c) => c.as_slice(),
            OptParam::Unknown { .. } => &[],
        })
    }

    /// The 4-octet AS capability's value, if advertised.
    pub fn four_octet_as(&self) -> Option<u32> {
        self.capabilities().find_map(|c| match c {
            Capability::FourOctetAs(a) => Some(*a),
            _ => None,
        })
    }

    /// The speaker's AS: the 4-octet capability's value, else `my_as`.
    pub fn asn(&self) -> u32 {
        self.four_octet_as().unwrap_or(u32::from(self.my_as))
    }

    /// The AFI/SAFIs advertised with the multiprotocol capability.
    pub fn multiprotocol(&self) -> Vec<AfiSafi> {
        self.capabilities()
            .filter_map(|c| match c {
                Capability::Multiprotocol(a) => Some(*a),
                _ => None,
            })
            .collect()
    }

    /// The add-path direction advertised for `afi_safi`, if any.
    pub fn add_path(&self, afi_safi: AfiSafi) -> Option<AddPathDir> {
        self.capabilities().find_map(|c| match c {
            Capability::AddPath(v) => v.iter().find(|(a, _)| *a == afi_safi).map(|(_, d)| *d),
            _ => None,
        })
    }

    /// Every (AFI/SAFI, direction) the add-path capability lists.
    pub fn add_paths(&self) -> Vec<(AfiSafi, AddPathDir)> {
        self.capabilities()
            .filter_map(|c| match c {
                Capability::AddPath(v) => Some(v.iter().copied()),
                _ => None,
            })
            .flatten()
            .collect()
    }
}

/// Parses the capabilities inside one optional parameter of type 2.
fn parse_capabilities(data: &[u8]) -> Result<Vec<Capability>, BgpError> {
    let mut r = Reader::new(data);
    let mut caps = Vec::new();
    while !r.is_empty() {
        let code = r.u8()?;
        let len = usize::from(r.u8()?);
        caps.push(Capability::parse(code, r.take(len)?));
    }
    Ok(caps)
}

/// Parses one capability TLV (code, length, value) on its own, as BMP v4's stateless-parsing
/// TLV carries it.
pub fn parse_capability(data: &[u8]) -> Result<Capability, BgpError> {
    let mut r = Reader::new(data);
    let code = r.u8()?;
    let len = usize::from(r.u8()?);
    Ok(Capability::parse(code, r.take(len)?))
}
