//! BMP TLVs: Initiation/Peer Up information, Termination, Statistics, Route Mirroring, and
//! the names pmacct prints for their codes (`bmp.h`).

use crate::decode::bgp::{AfiSafi, Reader, Truncated};

/// Reads `type(2) length(2) value` TLVs until the end of `buf`.
pub(super) fn read_tlvs(buf: &[u8]) -> Result<Vec<(u16, &[u8])>, Truncated> {
    let mut r = Reader::new(buf);
    let mut v = Vec::new();
    while !r.is_empty() {
        let t = r.u16()?;
        let l = usize::from(r.u16()?);
        v.push((t, r.take(l)?));
    }
    Ok(v)
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

/// An information TLV (Initiation, Peer Up, Loc-RIB Peer Down).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum InfoTlv {
    /// Type 0: free-form string.
    String(String),
    /// Type 1: sysDescr (Initiation).
    SysDescr(String),
    /// Type 2: sysName (Initiation).
    SysName(String),
    /// Type 3: VRF/table name (RFC 9069).
    VrfTableName(String),
    /// Type 4: admin label (RFC 8671).
    AdminLabel(String),
    /// Any other type, raw.
    Other {
        /// TLV type.
        kind: u16,
        /// Value.
        value: Vec<u8>,
    },
}

impl InfoTlv {
    pub(super) fn from_tlv(kind: u16, v: &[u8]) -> Self {
        match kind {
            0 => Self::String(text(v)),
            1 => Self::SysDescr(text(v)),
            2 => Self::SysName(text(v)),
            3 => Self::VrfTableName(text(v)),
            4 => Self::AdminLabel(text(v)),
            _ => Self::Other { kind, value: v.to_vec() },
        }
    }
}

/// A Termination TLV.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum TerminationTlv {
    /// Type 0: string.
    String(String),
    /// Type 1: reason code (see [`termination_reason_name`]).
    Reason(u16),
    /// Any other type (or a reason of the wrong length), raw.
    Other {
        /// TLV type.
        kind: u16,
        /// Value.
        value: Vec<u8>,
    },
}

impl TerminationTlv {
    pub(super) fn from_tlv(kind: u16, v: &[u8]) -> Self {
        match (kind, <[u8; 2]>::try_from(v)) {
            (0, _) => Self::String(text(v)),
            (1, Ok(b)) => Self::Reason(u16::from_be_bytes(b)),
            _ => Self::Other { kind, value: v.to_vec() },
        }
    }
}

/// pmacct's `bmp_term_reason_types`.
pub fn termination_reason_name(code: u16) -> &'static str {
    match code {
        0 => "Session administratively closed",
        1 => "Unspecified reason",
        2 => "Out of resources",
        3 => "Redundant connection",
        4 => "Session permanently administratively closed",
        _ => "Unknown",
    }
}

/// A statistic's value.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum StatValue {
    /// 32-bit counter.
    Counter32(u32),
    /// 64-bit gauge.
    Gauge64(u64),
    /// Per-AFI/SAFI 64-bit gauge (types 9, 10, 16, 17).
    AfiSafiGauge64 {
        /// Family.
        afi_safi: AfiSafi,
        /// Value.
        value: u64,
    },
    /// A type beyond 17 (pmacct 1.7.7's `BMP_STATS_MAX`) or a length the type does not
    /// define, raw.
    Raw(Vec<u8>),
}

impl StatValue {
    /// The numeric value, if any.
    pub fn value(&self) -> Option<u64> {
        match self {
            Self::Counter32(v) => Some(u64::from(*v)),
            Self::Gauge64(v) | Self::AfiSafiGauge64 { value: v, .. } => Some(*v),
            Self::Raw(_) => None,
        }
    }
}

/// One statistic of a Statistics Report.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Stat {
    /// Stat type (IANA "BMP Statistics Types").
    pub kind: u16,
    /// Value.
    pub value: StatValue,
}

impl Stat {
    pub(super) fn from_tlv(kind: u16, v: &[u8]) -> Self {
        let mut r = Reader::new(v);
        let value = match (kind, v.len()) {
            (9 | 10 | 16 | 17, 11) => (|| {
                Ok::<_, Truncated>(StatValue::AfiSafiGauge64 {
                    afi_safi: AfiSafi::new(r.u16()?, r.u8()?),
                    value: r.u64()?,
                })
            })()
            .ok(),
            // Types past the registry pmacct knows (FRR sends its experimental 65531 with
            // four bytes) stay raw, whatever their length: pmbmpd prints them in hex.
            (18.., _) => None,
            (_, 4) => r.u32().ok().map(StatValue::Counter32),
            (_, 8) => r.u64().ok().map(StatValue::Gauge64),
            _ => None,
        };
        Stat { kind, value: value.unwrap_or_else(|| StatValue::Raw(v.to_vec())) }
    }

    /// The type's name.
    pub fn name(&self) -> &'static str {
        stat_type_name(self.kind)
    }
}

/// pmacct's `bmp_stats_cnt_types`: RFC 7854 §4.8 and the IANA registry to type 17; later
/// types are "Unknown" (their values stay raw).
pub fn stat_type_name(kind: u16) -> &'static str {
    match kind {
        0 => "Number of prefixes rejected by inbound policy",
        1 => "Number of (known) duplicate prefix advertisements",
        2 => "Number of (known) duplicate withdraws",
        3 => "Number of updates invalidated due to CLUSTER_LIST loop",
        4 => "Number of updates invalidated due to AS_PATH loop",
        5 => "Number of updates invalidated due to ORIGINATOR_ID",
        6 => "Number of updates invalidated due to AS_CONFED loop",
        7 => "Number of routes in Adj-RIBs-In",
        8 => "Number of routes in Loc-RIB",
        9 => "Number of routes in per-AFI/SAFI Abj-RIB-In",
        10 => "Number of routes in per-AFI/SAFI Loc-RIB",
        11 => "Number of updates subjected to treat-as-withdraw",
        12 => "Number of prefixes subjected to treat-as-withdraw",
        13 => "Number of duplicate update messages received",
        14 => "Number of routes in Adj-RIBs-Out Pre-Policy",
        15 => "Number of routes in Adj-RIBs-Out Post-Policy",
        16 => "Number of routes in per-AFI/SAFI Abj-RIB-Out Pre-Policy",
        17 => "Number of routes in per-AFI/SAFI Abj-RIB-Out Post-Policy",
        _ => "Unknown",
    }
}

/// pmacct's `bmp_peer_down_reason_types` (1–5) and RFC 9069's 6.
pub fn peer_down_reason_name(code: u8) -> &'static str {
    match code {
        0 => "Reserved",
        1 => "The local system closed the session",
        2 => "The local system closed the session without a notification message",
        3 => "The remote system closed the session",
        4 => "The remote system closed the session without a notification message",
        5 => "Info for this peer will no longer be sent for configuration reasons",
        6 => "The local system closed the session, TLV data follows",
        _ => "Unknown",
    }
}

/// pmacct's `bmp_msg_types`.
pub fn msg_type_name(t: u8) -> &'static str {
    match t {
        0 => "Route Monitoring",
        1 => "Statistics Report",
        2 => "Peer Down Notification",
        3 => "Peer Up Notification",
        4 => "Initiation Message",
        5 => "Termination Message",
        6 => "Route Mirroring",
        _ => "Unknown",
    }
}
