//! Reading the BMP daemon's msglog (pmbmpd 1.7.7's and ours) and our metrics endpoint.

use std::collections::BTreeMap;
use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::Path;
use std::time::Duration;

use serde_json::Value;

use super::gobgp::wait_for_long;

pub fn s<'a>(v: &'a Value, k: &str) -> &'a str {
    v.get(k).and_then(Value::as_str).unwrap_or("")
}

/// The JSON lines of a msglog file, grouped by BMP session (the router's TCP port), in order.
pub fn sessions(path: &Path) -> BTreeMap<i64, Vec<String>> {
    let mut out: BTreeMap<i64, Vec<String>> = BTreeMap::new();
    for l in std::fs::read_to_string(path).unwrap_or_default().lines() {
        let Ok(v) = serde_json::from_str::<Value>(l) else { continue };
        let port = v.get("bmp_router_port").and_then(Value::as_i64).unwrap_or(-1);
        out.entry(port).or_default().push(l.to_string());
    }
    out
}

/// The lines of the one session that carried more than `log_init`/`log_close` (the daemon's
/// readiness probes are sessions too).
pub fn exporter_session(path: &Path) -> Vec<String> {
    sessions(path).into_values().find(|v| v.len() > 2).unwrap_or_default()
}

pub fn has(lines: &[String], needle: &str) -> bool {
    lines.iter().any(|l| l.contains(needle))
}

/// A line without what depends on arrival or on the connection (arrival times, the router's
/// source port, `log_init`/`log_close` times, `seq`, which is shared with other sessions and
/// checked for order separately), keys in file order.
pub fn comparable(line: &str) -> Vec<(String, Value)> {
    comparable_without(line, &["bmp_router_port", "seq"])
}

/// A line's keys in file order with their values, without arrival times, the times of
/// `log_init`/`log_close` (when the collector wrote them, not the router) and the keys `drop`.
pub fn comparable_without(line: &str, drop: &[&str]) -> Vec<(String, Value)> {
    let v: serde_json::Map<String, Value> = serde_json::from_str(line).expect("json");
    let et = v.get("event_type").and_then(Value::as_str).unwrap_or("").to_string();
    let mut keys: Vec<(usize, &str)> =
        v.keys().map(|k| (line.find(&format!("\"{k}\":")).unwrap_or(0), k.as_str())).collect();
    keys.sort_unstable();
    keys.into_iter()
        .filter(|(_, k)| *k != "timestamp_arrival" && !drop.contains(k))
        .filter(|(_, k)| !(*k == "timestamp" && (et == "log_init" || et == "log_close")))
        .map(|(_, k)| (k.to_string(), v.get(k).cloned().unwrap_or(Value::Null)))
        .collect()
}

pub fn seq_of(line: &str) -> i64 {
    serde_json::from_str::<Value>(line)
        .ok()
        .and_then(|v| v.get("seq").and_then(Value::as_i64))
        .unwrap_or(0)
}

/// Waits until something accepts TCP connections on `port`.
pub fn wait_listening(port: u16, what: &str) {
    wait_for_long(what, Duration::from_secs(20), || {
        TcpStream::connect(("127.0.0.1", port)).is_ok()
    });
}

pub fn metrics(port: u16) -> String {
    let mut c = TcpStream::connect(("127.0.0.1", port)).expect("metrics connect");
    c.write_all(b"GET /metrics HTTP/1.0\r\nHost: x\r\n\r\n").expect("metrics request");
    let mut out = String::new();
    c.read_to_string(&mut out).expect("metrics read");
    out
}

pub fn metric(text: &str, name: &str) -> f64 {
    text.lines()
        .find(|l| l.starts_with(name) && l[name.len()..].starts_with(' '))
        .and_then(|l| l.rsplit(' ').next())
        .and_then(|v| v.parse().ok())
        .unwrap_or(-1.0)
}
