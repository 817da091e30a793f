//! BMP message bodies (RFC 7854 §4, RFC 9069, draft-ietf-grow-bmp-tlv v4 Route Monitoring).

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use super::tlv::{InfoTlv, Stat, TerminationTlv, read_tlvs};
use super::{BmpError, CommonHeader, PeerHeader, SessionTable};
use crate::decode::bgp::{
    self, Capability, DecodeContext, Message, Notification, Open, Reader, Update, open_capability,
    parse_header,
};

/// A decoded BMP message.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum BmpMessage {
    /// Type 0.
    RouteMonitoring(RouteMonitoring),
    /// Type 1.
    StatisticsReport(StatisticsReport),
    /// Type 2.
    PeerDown(PeerDown),
    /// Type 3.
    PeerUp(PeerUp),
    /// Type 4: information TLVs.
    Initiation(Vec<InfoTlv>),
    /// Type 5.
    Termination(Vec<TerminationTlv>),
    /// Type 6.
    RouteMirroring(RouteMirroring),
    /// Any other type, body raw.
    Unknown {
        /// Message type.
        msg_type: u8,
        /// Body after the common header.
        body: Vec<u8>,
    },
}

/// A v4 Route Monitoring TLV other than the BGP PDU (type, index, value).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RmTlv {
    /// TLV type (1 stateless parsing, 2 group, 3 VRF/table name, 5 path marking, ...).
    pub kind: u16,
    /// Index (which NLRI it applies to).
    pub index: u16,
    /// Value, raw.
    pub value: Vec<u8>,
}

/// Route Monitoring: one UPDATE seen by a peer's RIB view.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RouteMonitoring {
    /// Per-peer header.
    pub peer: PeerHeader,
    /// The UPDATE.
    pub update: Update,
    /// The context it was decoded with (4-byte AS, add-path families).
    pub context: DecodeContext,
    /// v4 TLVs (empty for v3).
    pub tlvs: Vec<RmTlv>,
}

/// Statistics Report.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StatisticsReport {
    /// Per-peer header.
    pub peer: PeerHeader,
    /// Statistics in wire order (the count field is not kept; the TLVs are).
    pub stats: Vec<Stat>,
}

/// Why a peer went down (RFC 7854 §4.9, RFC 9069 §5.4).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum PeerDownReason {
    /// 1: local system closed, with the NOTIFICATION it sent.
    LocalNotification(Notification),
    /// 2: local system closed without a NOTIFICATION; FSM event code.
    LocalNoNotification(u16),
    /// 3: remote system closed, with its NOTIFICATION.
    RemoteNotification(Notification),
    /// 4: remote system closed without data.
    RemoteNoData,
    /// 5: peer de-configured.
    PeerDeconfigured,
    /// 6: Loc-RIB: local system closed, information TLVs follow.
    LocalSystemClosed(Vec<InfoTlv>),
    /// Any other reason (or a malformed NOTIFICATION), raw.
    Other {
        /// Reason code.
        code: u8,
        /// Data.
        data: Vec<u8>,
    },
}

impl PeerDownReason {
    /// The reason code.
    pub fn code(&self) -> u8 {
        match self {
            Self::LocalNotification(_) => 1,
            Self::LocalNoNotification(_) => 2,
            Self::RemoteNotification(_) => 3,
            Self::RemoteNoData => 4,
            Self::PeerDeconfigured => 5,
            Self::LocalSystemClosed(_) => 6,
            Self::Other { code, .. } => *code,
        }
    }
}

/// Peer Down.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PeerDown {
    /// Per-peer header.
    pub peer: PeerHeader,
    /// Reason.
    pub reason: PeerDownReason,
}

/// Peer Up.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PeerUp {
    /// Per-peer header.
    pub peer: PeerHeader,
    /// Local address of the session (IPv4 when the peer is IPv4).
    pub local_addr: IpAddr,
    /// Local TCP port.
    pub local_port: u16,
    /// Remote TCP port.
    pub remote_port: u16,
    /// OPEN the monitored router sent.
    pub sent_open: Open,
    /// OPEN it received from the peer.
    pub received_open: Open,
    /// Information TLVs.
    pub info: Vec<InfoTlv>,
}

/// A Route Mirroring TLV.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum MirrorTlv {
    /// Type 0: a BGP message as received; `decoded` is `None` when it does not parse
    /// (mirroring exists to carry errored PDUs).
    BgpMessage {
        /// The PDU.
        raw: Vec<u8>,
        /// Its decoding, if it parses.
        decoded: Option<Message>,
    },
    /// Type 1: information code (0 errored PDU, 1 messages lost).
    Information(u16),
    /// Any other TLV, raw.
    Other {
        /// Type.
        kind: u16,
        /// Value.
        value: Vec<u8>,
    },
}

/// Route Mirroring.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RouteMirroring {
    /// Per-peer header.
    pub peer: PeerHeader,
    /// TLVs.
    pub tlvs: Vec<MirrorTlv>,
}

pub(super) fn parse_body(
    h: CommonHeader,
    body: &[u8],
    sessions: &SessionTable,
) -> Result<BmpMessage, BmpError> {
    let mut r = Reader::new(body);
    Ok(match h.msg_type {
        0 => {
            let peer = PeerHeader::parse(&mut r)?;
            let ctx = sessions.context_for(&peer);
            BmpMessage::RouteMonitoring(route_monitoring(h.version, peer, ctx, r.rest())?)
        }
        1 => {
            let peer = PeerHeader::parse(&mut r)?;
            let _count = r.u32()?;
            let stats = read_tlvs(r.rest())?;
            BmpMessage::StatisticsReport(StatisticsReport {
                peer,
                stats: stats.into_iter().map(|(t, v)| Stat::from_tlv(t, v)).collect(),
            })
        }
        2 => {
            let peer = PeerHeader::parse(&mut r)?;
            BmpMessage::PeerDown(PeerDown { peer, reason: peer_down_reason(r.u8()?, r.rest())? })
        }
        3 => BmpMessage::PeerUp(peer_up(&mut r)?),
        4 => BmpMessage::Initiation(info_tlvs(r.rest())?),
        5 => BmpMessage::Termination(
            read_tlvs(r.rest())?.into_iter().map(|(t, v)| TerminationTlv::from_tlv(t, v)).collect(),
        ),
        6 => {
            let peer = PeerHeader::parse(&mut r)?;
            let ctx = sessions.context_for(&peer);
            let tlvs = read_tlvs(r.rest())?
                .into_iter()
                .map(|(t, v)| match (t, <[u8; 2]>::try_from(v)) {
                    (0, _) => MirrorTlv::BgpMessage {
                        raw: v.to_vec(),
                        decoded: bgp::parse_message(v, &ctx).ok().map(|(m, _)| m),
                    },
                    (1, Ok(b)) => MirrorTlv::Information(u16::from_be_bytes(b)),
                    _ => MirrorTlv::Other { kind: t, value: v.to_vec() },
                })
                .collect();
            BmpMessage::RouteMirroring(RouteMirroring { peer, tlvs })
        }
        t => BmpMessage::Unknown { msg_type: t, body: body.to_vec() },
    })
}

fn info_tlvs(buf: &[u8]) -> Result<Vec<InfoTlv>, BmpError> {
    Ok(read_tlvs(buf)?.into_iter().map(|(t, v)| InfoTlv::from_tlv(t, v)).collect())
}

fn update_pdu(pdu: &[u8], ctx: &DecodeContext) -> Result<Update, BmpError> {
    match bgp::parse_message(pdu, ctx)? {
        (Message::Update(u), _) => Ok(u),
        _ => Err(BmpError::UnexpectedBgpType(parse_header(pdu)?.msg_type)),
    }
}

fn route_monitoring(
    version: u8,
    peer: PeerHeader,
    mut context: DecodeContext,
    rest: &[u8],
) -> Result<RouteMonitoring, BmpError> {
    if version == 3 {
        let update = update_pdu(rest, &context)?;
        return Ok(RouteMonitoring { peer, update, context, tlvs: Vec::new() });
    }
    // v4: type(2) length(2) index(2) value(length); the index is not counted in length.
    let mut r = Reader::new(rest);
    let mut pdu = None;
    let mut tlvs = Vec::new();
    while !r.is_empty() {
        let kind = r.u16()?;
        let len = usize::from(r.u16()?);
        let index = r.u16()?;
        let value = r.take(len)?;
        match kind {
            4 => pdu = Some(value),
            1 => {
                // Stateless parsing: a capability that overrides the session's for this PDU.
                if let Ok(Capability::AddPath(v)) = open_capability(value) {
                    for (af, dir) in v {
                        let on =
                            if peer.adj_rib_out() { dir.can_send() } else { dir.can_receive() };
                        context.set_add_path(af, on);
                    }
                } else if let Ok(Capability::FourOctetAs(_)) = open_capability(value) {
                    context.four_octet_as = true;
                }
                tlvs.push(RmTlv { kind, index, value: value.to_vec() });
            }
            _ => tlvs.push(RmTlv { kind, index, value: value.to_vec() }),
        }
    }
    let update = update_pdu(pdu.ok_or(BmpError::MissingBgpPdu)?, &context)?;
    Ok(RouteMonitoring { peer, update, context, tlvs })
}

fn notification(code: u8, data: &[u8]) -> Result<PeerDownReason, BmpError> {
    let n = match bgp::parse_message(data, &DecodeContext::default()) {
        Ok((Message::Notification(n), _)) => n,
        _ => {
            return Ok(PeerDownReason::Other { code, data: data.to_vec() });
        }
    };
    Ok(if code == 1 {
        PeerDownReason::LocalNotification(n)
    } else {
        PeerDownReason::RemoteNotification(n)
    })
}

fn peer_down_reason(code: u8, data: &[u8]) -> Result<PeerDownReason, BmpError> {
    Ok(match code {
        1 | 3 => notification(code, data)?,
        2 if data.len() >= 2 => PeerDownReason::LocalNoNotification(Reader::new(data).u16()?),
        4 => PeerDownReason::RemoteNoData,
        5 => PeerDownReason::PeerDeconfigured,
        6 => PeerDownReason::LocalSystemClosed(info_tlvs(data)?),
        _ => PeerDownReason::Other { code, data: data.to_vec() },
    })
}

fn peer_up(r: &mut Reader<'_>) -> Result<PeerUp, BmpError> {
    let peer = PeerHeader::parse(r)?;
    let raw = r.array::<16>()?;
    let local_addr = if peer.is_ipv6() {
        IpAddr::V6(Ipv6Addr::from(raw))
    } else {
        let [.., a, b, c, d] = raw;
        IpAddr::V4(Ipv4Addr::new(a, b, c, d))
    };
    let local_port = r.u16()?;
    let remote_port = r.u16()?;
    let rest = r.rest();
    let (sent_open, n1) = bgp::parse_open(rest)?;
    let rest = rest.get(n1..).unwrap_or_default();
    let (received_open, n2) = bgp::parse_open(rest)?;
    let info = info_tlvs(rest.get(n2..).unwrap_or_default())?;
    Ok(PeerUp { peer, local_addr, local_port, remote_port, sent_open, received_open, info })
}
