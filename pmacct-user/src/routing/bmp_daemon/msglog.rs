//! pmacct's BMP message log: one JSON object per line, field names and value forms of pmacct
//! 1.7.7 (`bmp_logdump.c` `bmp_log_msg*`, `bgp_logdump.c` `bgp_peer_log_msg`,
//! `bgp_peer_log_init`/`_close`, `bmp_util.c` `bgp_peer_log_msg_extras_bmp`).
//!
//! An event is built as an ordered list of fields ([`Fields`]) so that lines keep pmacct's key
//! order; the common head (`event_type`, `seq`, timestamps, `bmp_router`) is added when the
//! event is written, as a `log` (real time) or as a `dump` (periodic) line.

use std::fmt::Write as _;
use std::fs::{File, OpenOptions};
use std::io::Write as _;
use std::net::{IpAddr, SocketAddr};
use std::path::Path;
use std::time::{SystemTime, UNIX_EPOCH};

use serde_json::Value;

use super::events::rib_view;
use crate::decode::bgp::{AfiSafi, Nlri, Prefix, RouteDistinguisher, format};
use crate::routing::{RouteAttrs, RouteKey};

/// An ordered list of JSON fields.
pub type Fields = Vec<(&'static str, Value)>;

/// A (seconds, microseconds) time; (0, 0) prints as pmacct's zero time.
pub type Stamp = (u64, u32);

/// Now, as a [`Stamp`].
pub fn now() -> Stamp {
    let d = SystemTime::now().duration_since(UNIX_EPOCH).unwrap_or_default();
    (d.as_secs(), d.subsec_micros())
}

/// pmacct's `compose_timestamp` with its defaults (local time, not RFC 3339, not epoch):
/// `%Y-%m-%d %H:%M:%S` plus `.%06u` when `usec`; a zero time prints as zeros.
pub fn timestamp(t: Stamp, usec: bool) -> String {
    let mut s = match i64::try_from(t.0).ok().filter(|&s| s != 0).and_then(|s| {
        chrono::DateTime::from_timestamp(s, 0).map(|d| d.with_timezone(&chrono::Local))
    }) {
        Some(d) => d.format("%Y-%m-%d %H:%M:%S").to_string(),
        None => "0000-00-00 00:00:00".to_string(),
    };
    if usec {
        let _ = write!(s, ".{:06}", t.1);
    }
    s
}

/// Renders fields as one JSON object (keys in order).
pub fn to_line(fields: &[(&'static str, Value)]) -> String {
    let mut s = String::from("{");
    for (i, (k, v)) in fields.iter().enumerate() {
        if i > 0 {
            s.push_str(", ");
        }
        let _ = write!(s, "\"{k}\": {v}");
    }
    s.push('}');
    s
}

/// `$peer_src_ip` / `$bmp_router` and `$peer_tcp_port` / `$bmp_router_port` replaced
/// (pmacct's `bgp_peer_log_dynname`: the address with `.` and `:` turned into `_`, as
/// `escape_ip_uscores` does, so 127.0.0.1 gives `127_0_0_1`).
pub fn expand(template: &str, router: SocketAddr) -> String {
    let ip = router.ip().to_string().replace(['.', ':'], "_");
    let port = router.port().to_string();
    template
        .replace("$peer_src_ip", &ip)
        .replace("$bmp_router_port", &port)
        .replace("$peer_tcp_port", &port)
        .replace("$bmp_router", &ip)
}

/// An append-mode per-router log file.
#[derive(Debug)]
pub struct LogFile {
    file: File,
}

impl LogFile {
    /// Opens (creating parent directories) `path` for appending.
    pub fn open(path: &Path) -> std::io::Result<Self> {
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir)?;
        }
        let file = OpenOptions::new().create(true).append(true).open(path)?;
        Ok(Self { file })
    }

    /// Writes one line (a single `write` so concurrent writers do not interleave).
    pub fn write_line(&mut self, fields: &[(&'static str, Value)]) -> std::io::Result<()> {
        let mut line = to_line(fields);
        line.push('\n');
        self.file.write_all(line.as_bytes())
    }
}

fn ip(a: IpAddr) -> Value {
    Value::String(a.to_string())
}

fn int(v: impl Into<u64>) -> Value {
    Value::from(v.into())
}

/// `log_init` / `log_close` (`bgp_peer_log_init` / `_close`).
pub fn init_close(event_type: &'static str, seq: u64, router: SocketAddr) -> Fields {
    vec![
        ("seq", int(seq)),
        ("timestamp", Value::String(timestamp(now(), true))),
        ("bmp_router", ip(router.ip())),
        ("bmp_router_port", int(router.port())),
        ("event_type", Value::String(event_type.into())),
    ]
}

/// How a BMP (non route-monitoring) event is framed.
pub enum Head {
    /// Real time: `seq`, the event's `timestamp` and `timestamp_arrival`.
    Log {
        /// Sequence number.
        seq: u64,
        /// Arrival time.
        arrival: Stamp,
    },
    /// A dump: `seq`, the dump's `timestamp`, the event's `timestamp_event`.
    Dump {
        /// Sequence number (the daemon's current one).
        seq: u64,
        /// The dump's time (printed without microseconds).
        at: Stamp,
    },
}

/// A BMP event (init, term, peer up/down, stats) with pmacct's head (`bmp_log_msg`).
pub fn bmp_event(
    head: &Head,
    router: SocketAddr,
    event_ts: Stamp,
    body: &[(&'static str, Value)],
) -> Fields {
    let mut f: Fields = Vec::with_capacity(body.len() + 6);
    match head {
        Head::Log { seq, arrival } => {
            f.push(("event_type", "log".into()));
            f.push(("seq", int(*seq)));
            f.push(("timestamp", timestamp(event_ts, true).into()));
            f.push(("timestamp_arrival", timestamp(*arrival, true).into()));
        }
        Head::Dump { seq, at } => {
            f.push(("event_type", "dump".into()));
            f.push(("seq", int(*seq)));
            f.push(("timestamp", timestamp(*at, false).into()));
            f.push(("timestamp_event", timestamp(event_ts, true).into()));
        }
    }
    f.push(("bmp_router", ip(router.ip())));
    f.push(("bmp_router_port", int(router.port())));
    f.extend(body.iter().cloned());
    f
}

/// What a route line says beside its attributes.
pub struct RouteLine<'a> {
    /// `log` (with `log_type`) or `dump`.
    pub head: Head,
    /// `update` or `withdraw` (logs only).
    pub log_type: &'static str,
    /// The router.
    pub router: SocketAddr,
    /// The per-peer header's time (logs) — `timestamp` of the line.
    pub event_ts: Stamp,
    /// The path.
    pub key: &'a RouteKey,
    /// Its per-peer header flags (for `is_post`/`is_loc`/...).
    pub peer_flags: u8,
    /// The prefix.
    pub prefix: Prefix,
    /// Path id, printed when the family uses add-path.
    pub path_id: Option<u32>,
    /// MPLS labels, when known.
    pub labels: &'a [u32],
    /// RPKI state (`roa`, with `rpki_roas_file`), printed with the attributes.
    pub roa: Option<u8>,
}

/// A route line (`bgp_peer_log_msg` with the BMP extras).
///
/// `a` is `None` for a withdrawal when no RIB is consulted: pmacct's standalone `pmbmpd`
/// without dumps (`skip_rib`) prints withdrawals with the prefix only.
pub fn route_line(r: &RouteLine<'_>, a: Option<&RouteAttrs>) -> Fields {
    let mut f = Fields::new();
    let af: AfiSafi = r.key.afi_safi;
    match r.head {
        Head::Log { seq, .. } => {
            f.push(("seq", int(seq)));
            f.push(("log_type", r.log_type.into()));
            f.push(("timestamp", timestamp(r.event_ts, true).into()));
        }
        Head::Dump { seq, at } => {
            f.push(("seq", int(seq)));
            f.push(("timestamp", timestamp(at, false).into()));
        }
    }
    rib_view(&mut f, r.key.peer.peer_type, r.peer_flags);
    if r.key.peer.distinguisher != 0 {
        let rd = RouteDistinguisher::from_bytes(r.key.peer.distinguisher.to_be_bytes());
        f.push(("rd", rd.to_string().into()));
        f.push(("rd_origin", "bmp".into()));
    }
    f.push(("event_type", if matches!(r.head, Head::Log { .. }) { "log" } else { "dump" }.into()));
    f.push(("afi", int(af.afi)));
    f.push(("safi", int(af.safi)));
    f.push(("ip_prefix", r.prefix.to_string().into()));
    if let Some(id) = r.path_id {
        f.push(("as_path_id", int(id)));
    }
    if let Some(a) = a {
        let nh = a.next_hop.map_or_else(|| "0.0.0.0".to_string(), |n| n.to_string());
        f.push(("bgp_nexthop", nh.into()));
        f.push(("as_path", a.as_path.clone().into()));
        if !a.communities.is_empty() {
            f.push(("comms", a.communities.clone().into()));
        }
        if !a.ext_communities.is_empty() {
            f.push(("ecomms", a.ext_communities.clone().into()));
        }
        if !a.large_communities.is_empty() {
            f.push(("lcomms", a.large_communities.clone().into()));
        }
        f.push(("origin", format::origin(a.origin.unwrap_or(0)).into()));
        if let Some(lp) = a.local_pref {
            f.push(("local_pref", int(lp)));
        }
        if let Some(med) = a.med {
            f.push(("med", int(med)));
        }
        if let Some(roa) = r.roa {
            f.push(("roa", crate::routing::roa::roa_str(roa).into()));
        }
    }
    if af.safi == 128
        && let Some(rd) = r.key.rd
    {
        f.push(("rd", rd.to_string().into()));
        f.push(("rd_origin", "bgp".into()));
    }
    if matches!(af.safi, 4 | 128) && !r.labels.is_empty() {
        f.push(("label", format::mpls_label(r.labels).into()));
    }
    if let Head::Log { arrival, .. } = r.head {
        f.push(("timestamp_arrival", timestamp(arrival, true).into()));
    }
    f.push(("bmp_router", ip(r.router.ip())));
    f.push(("bmp_router_port", int(r.router.port())));
    f.push(("peer_ip", ip(r.key.peer.addr)));
    f.push(("peer_tcp_port", int(0u16)));
    f.push(("bmp_msg_type", "route_monitor".into()));
    f
}

/// The path id printed for `n` (only for add-path families).
pub fn path_id_of(n: &Nlri, add_path: bool) -> Option<u32> {
    if add_path { Some(n.path_id.unwrap_or(0)) } else { None }
}

/// `dump_init` (`bgp_peer_dump_init`).
pub fn dump_init(seq: u64, at: Stamp, router: SocketAddr, period: u64) -> Fields {
    vec![
        ("timestamp", timestamp(at, false).into()),
        ("bmp_router", ip(router.ip())),
        ("bmp_router_port", int(router.port())),
        ("event_type", "dump_init".into()),
        ("dump_period", int(period)),
        ("seq", int(seq)),
    ]
}

/// `dump_close` (`bgp_peer_dump_close`; the BMP dumper passes no table statistics in 1.7.7,
/// we add `entries` and `tables` as the BGP dumper writes them).
pub fn dump_close(
    seq: u64,
    at: Stamp,
    router: SocketAddr,
    entries: usize,
    tables: usize,
) -> Fields {
    vec![
        ("timestamp", timestamp(at, false).into()),
        ("bmp_router", ip(router.ip())),
        ("bmp_router_port", int(router.port())),
        ("event_type", "dump_close".into()),
        ("entries", Value::from(entries)),
        ("tables", Value::from(tables)),
        ("seq", int(seq)),
    ]
}
