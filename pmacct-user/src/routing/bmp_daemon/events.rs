//! Bodies of the BMP events pmacct 1.7.7 logs (`bmp_logdump.c`: `bmp_log_msg_init`, `_term`,
//! `_peer_up`, `_peer_down`, `_stats`), without the common head [`super::msglog::bmp_event`]
//! adds.

use std::net::IpAddr;

use serde_json::Value;

use super::msglog::{Fields, Stamp};
use crate::decode::bgp::RouteDistinguisher;
use crate::decode::bmp::{
    InfoTlv, PeerDown, PeerDownReason, PeerHeader, PeerType, PeerUp, Stat, StatValue,
    TerminationTlv, flags, peer_down_reason_name, stat_type_name, termination_reason_name,
};

fn ip(a: IpAddr) -> Value {
    Value::String(a.to_string())
}

fn int(v: impl Into<u64>) -> Value {
    Value::from(v.into())
}

/// The per-peer header's time.
pub fn peer_ts(h: &PeerHeader) -> Stamp {
    (u64::from(h.ts_sec), h.ts_usec)
}

/// `is_post`/`is_in`, `is_filtered`/`is_loc` or `is_post`/`is_out` (`bgp_extra_data_print_bmp`).
pub(super) fn rib_view(f: &mut Fields, peer_type: u8, fl: u8) {
    if peer_type == PeerType::LocRib.code() {
        f.push(("is_filtered", int(u8::from(fl & flags::F != 0))));
        f.push(("is_loc", int(1u8)));
    } else if fl & flags::O != 0 {
        f.push(("is_post", int(u8::from(fl & flags::L != 0))));
        f.push(("is_out", int(1u8)));
    } else {
        f.push(("is_post", int(u8::from(fl & flags::L != 0))));
        f.push(("is_in", int(1u8)));
    }
}

fn peer_rd(f: &mut Fields, h: &PeerHeader) {
    if h.distinguisher != [0; 8] {
        let rd = RouteDistinguisher::from_bytes(h.distinguisher);
        f.push(("rd", rd.to_string().into()));
        f.push(("rd_origin", "bmp".into()));
    }
}

fn peer_common(f: &mut Fields, msg: &'static str, h: &PeerHeader) {
    f.push(("bmp_msg_type", msg.into()));
    f.push(("peer_ip", ip(h.addr)));
    f.push(("peer_asn", int(h.asn)));
    f.push(("peer_type", int(h.peer_type.code())));
}

fn hex(v: &[u8]) -> String {
    v.iter().map(|b| format!("{b:02x}")).collect::<Vec<_>>().join("-")
}

fn info_tlvs(f: &mut Fields, prefix: &'static str, std_max: u16, tlvs: &[InfoTlv]) {
    for t in tlvs {
        let (kind, val) = match t {
            InfoTlv::String(s) => (0, Value::String(s.clone())),
            InfoTlv::SysDescr(s) => (1, Value::String(s.clone())),
            InfoTlv::SysName(s) => (2, Value::String(s.clone())),
            InfoTlv::VrfTableName(s) => (3, Value::String(s.clone())),
            InfoTlv::AdminLabel(s) => (4, Value::String(s.clone())),
            InfoTlv::Other { kind, value } if value.is_empty() => (*kind, Value::Null),
            InfoTlv::Other { kind, value } => (*kind, hex(value).into()),
        };
        let name = match kind {
            0 => "string".to_string(),
            1 if std_max >= 1 => "sysdescr".to_string(),
            2 if std_max >= 2 => "sysname".to_string(),
            k => k.to_string(),
        };
        f.push((intern(prefix, &name), val));
    }
}

/// The `&'static str` key for `<prefix>_<name>`; unknown types share a generic key.
fn intern(prefix: &'static str, name: &str) -> &'static str {
    match (prefix, name) {
        ("bmp_init_info", "string") => "bmp_init_info_string",
        ("bmp_init_info", "sysdescr") => "bmp_init_info_sysdescr",
        ("bmp_init_info", "sysname") => "bmp_init_info_sysname",
        ("bmp_init_info", "3") => "bmp_init_info_3",
        ("bmp_init_info", "4") => "bmp_init_info_4",
        ("bmp_init_info", _) => "bmp_init_info_other",
        ("bmp_term_info", "string") => "bmp_term_info_string",
        ("bmp_term_info", "reason") => "bmp_term_info_reason",
        ("bmp_term_info", _) => "bmp_term_info_other",
        ("bmp_peer_up_info", "string") => "bmp_peer_up_info_string",
        ("bmp_peer_up_info", "3") => "bmp_peer_up_info_3",
        ("bmp_peer_up_info", "4") => "bmp_peer_up_info_4",
        ("bmp_peer_up_info", _) => "bmp_peer_up_info_other",
        ("bmp_peer_down_info", "3") => "bmp_peer_down_info_3",
        _ => "bmp_peer_down_info_other",
    }
}

/// Initiation body (`bmp_log_msg_init`).
pub fn init_body(tlvs: &[InfoTlv]) -> Fields {
    let mut f = vec![("bmp_msg_type", "init".into())];
    info_tlvs(&mut f, "bmp_init_info", 2, tlvs);
    f
}

/// Termination body (`bmp_log_msg_term`).
pub fn term_body(tlvs: &[TerminationTlv]) -> Fields {
    let mut f = vec![("bmp_msg_type", "term".into())];
    for t in tlvs {
        match t {
            TerminationTlv::String(s) => f.push(("bmp_term_info_string", s.clone().into())),
            TerminationTlv::Reason(r) => {
                f.push(("bmp_term_info_reason", termination_reason_name(*r).into()))
            }
            TerminationTlv::Other { value, .. } => {
                f.push(("bmp_term_info_other", hex(value).into()))
            }
        }
    }
    f
}

/// Peer Up body (`bmp_log_msg_peer_up`).
pub fn peer_up_body(up: &PeerUp) -> Fields {
    let h = &up.peer;
    let mut f = Fields::new();
    peer_common(&mut f, "peer_up", h);
    if h.peer_type.code() <= 3 {
        f.push(("peer_type_str", h.peer_type.name().into()));
    }
    rib_view(&mut f, h.peer_type.code(), h.flags);
    f.push(("bgp_id", h.bgp_id.to_string().into()));
    f.push(("local_port", int(up.local_port)));
    f.push(("remote_port", int(up.remote_port)));
    f.push(("local_ip", ip(up.local_addr)));
    peer_rd(&mut f, h);
    info_tlvs(&mut f, "bmp_peer_up_info", 0, &up.info);
    f
}

/// Peer Down body (`bmp_log_msg_peer_down`).
pub fn peer_down_body(down: &PeerDown) -> Fields {
    let h = &down.peer;
    let mut f = Fields::new();
    peer_common(&mut f, "peer_down", h);
    if h.peer_type.code() <= 3 {
        f.push(("peer_type_str", h.peer_type.name().into()));
    }
    peer_rd(&mut f, h);
    let code = down.reason.code();
    f.push(("reason_type", int(code)));
    if code <= 5 {
        f.push(("reason_str", peer_down_reason_name(code).into()));
    }
    if let PeerDownReason::LocalNoNotification(fsm) = down.reason {
        f.push(("reason_loc_code", int(fsm)));
    }
    f
}

/// One Statistics Report counter (`bmp_log_msg_stats`): pmacct writes a line per counter.
pub fn stat_body(h: &PeerHeader, s: &Stat) -> Fields {
    let mut f = Fields::new();
    peer_common(&mut f, "stats", h);
    rib_view(&mut f, h.peer_type.code(), h.flags);
    peer_rd(&mut f, h);
    f.push(("counter_type", int(s.kind)));
    f.push(("counter_type_str", stat_type_name(s.kind).into()));
    if let (9 | 10, StatValue::AfiSafiGauge64 { afi_safi, .. }) = (s.kind, &s.value) {
        f.push(("afi", int(afi_safi.afi)));
        f.push(("safi", int(afi_safi.safi)));
    }
    let v = match &s.value {
        // pmbmpd prints a raw value in hex, an empty one as null.
        StatValue::Raw(r) if r.is_empty() => Value::Null,
        StatValue::Raw(r) => hex(r).into(),
        v => int(v.value().unwrap_or(0)),
    };
    f.push(("counter_value", v));
    f
}

#[cfg(test)]
mod tests {
    use std::net::Ipv4Addr;

    use super::*;

    /// `counter_value` as pmbmpd prints it: a number, raw bytes in hex, nothing as null.
    #[test]
    fn stat_values_print_as_pmbmpd() {
        let h = PeerHeader {
            peer_type: PeerType::from_u8(0),
            flags: 0,
            distinguisher: [0; 8],
            addr: IpAddr::V4(Ipv4Addr::LOCALHOST),
            asn: 65002,
            bgp_id: Ipv4Addr::new(10, 255, 0, 2),
            ts_sec: 0,
            ts_usec: 0,
        };
        let value = |kind, value| {
            let f = stat_body(&h, &Stat { kind, value });
            f.into_iter().find(|(k, _)| *k == "counter_value").map(|(_, v)| v)
        };
        assert_eq!(value(0, StatValue::Counter32(3)), Some(Value::from(3)));
        assert_eq!(
            value(65531, StatValue::Raw(vec![0, 0, 0, 7])),
            Some(Value::from("00-00-00-07"))
        );
        assert_eq!(value(40, StatValue::Raw(vec![])), Some(Value::Null));
    }
}
