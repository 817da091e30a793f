//! `pre_tag_map`: rules that set `tag`, `tag2` or `label` on records (pmacct 1.7.7 `pretag.c`,
//! `examples/pretag.map.example`).
//!
//! One rule per line, `key=value` pairs separated by blanks (`filter='...'` quoted), `!`
//! comments. Rules are tried in order; the first full match sets its value and stops, unless it
//! has `jeq=LABEL` (jump forward to the first rule with `label=LABEL`; `next`: the next rule),
//! where `stack=sum|or` combines the tags and labels are appended with `,`. Match keys take a
//! `-` prefix for negation (not `ip`, `filter`). Supported match keys: ip (exporter), in, out,
//! vlan, filter, src_as, dst_as, nexthop, bgp_nexthop, engine_id / source_id / agent_id, src_mac,
//! dst_mac, src_net, dst_net, direction, nat_event, is_multicast, fwdstatus. Others are an error
//! naming the key and line.

use std::net::IpAddr;
use std::path::{Path, PathBuf};

use crate::aggregate::filter::Filter;
use crate::record::FlowFields;

/// A rule's test on a record.
#[derive(Clone, Debug)]
enum Key {
    In(u32),
    Out(u32),
    Vlan(u16),
    SrcAs(u32),
    DstAs(u32),
    Nexthop(IpAddr),
    BgpNexthop(IpAddr),
    EngineId(u32),
    SrcMac([u8; 6]),
    DstMac([u8; 6]),
    SrcNet(u128, u128, bool),
    DstNet(u128, u128, bool),
    Direction(u8),
    NatEvent(u8),
    IsMulticast(bool),
    FwdStatus(u8),
    Filter(Box<Filter>),
}

#[derive(Clone, Debug)]
enum Set {
    Tag(u64),
    Tag2(u64),
    Label(String),
}

#[derive(Clone, Copy, Debug)]
enum Stack {
    Sum,
    Or,
}

#[derive(Clone, Debug)]
struct Rule {
    /// Exporter prefix (`ip=`): bits, mask, IPv6.
    ip: Option<(u128, u128, bool)>,
    keys: Vec<(Key, bool)>,
    set: Option<Set>,
    label: Option<String>,
    /// Resolved `jeq` target index (`next`: the following rule).
    jeq: Option<usize>,
    stack: Option<Stack>,
}

/// A loaded `pre_tag_map`.
#[derive(Clone, Debug, Default)]
pub struct PreTagMap {
    rules: Vec<Rule>,
}

/// What a `pre_tag_map` evaluation yields (0 / empty: unset).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Tags {
    pub tag: u64,
    pub tag2: u64,
    pub label: String,
}

/// A `pre_tag_map` that cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum PreTagError {
    #[error("pre_tag_map {path}: {source}")]
    Io { path: PathBuf, source: std::io::Error },
    #[error("pre_tag_map line {line}: {reason}")]
    Line { line: usize, reason: String },
}

/// Splits a rule into `key=value` pairs; values may be quoted with `'`.
fn pairs(line: &str) -> Result<Vec<(String, String)>, String> {
    let mut out = Vec::new();
    let mut rest = line.trim();
    while !rest.is_empty() {
        let Some((k, v)) = rest.split_once('=') else {
            return Err(format!("expected key=value, found `{rest}`"));
        };
        let key = k.trim().to_ascii_lowercase();
        if key.is_empty() || key.contains(char::is_whitespace) {
            return Err(format!("invalid key `{}`", k.trim()));
        }
        let (value, after) = if let Some(q) = v.strip_prefix('\'') {
            let end = q.find('\'').ok_or_else(|| format!("`{key}`: unterminated quote"))?;
            (&q[..end], &q[end + 1..])
        } else {
            let end = v.find(char::is_whitespace).unwrap_or(v.len());
            (&v[..end], &v[end..])
        };
        out.push((key, value.to_string()));
        rest = after.trim_start();
    }
    Ok(out)
}

/// An address or prefix as (network bits, mask, IPv6); shared with [`super::sampling`].
pub(super) fn prefix(v: &str) -> Option<(u128, u128, bool)> {
    let (a, len) = match v.split_once('/') {
        Some((a, l)) => (a, Some(l.parse::<u8>().ok()?)),
        None => (v, None),
    };
    let ip: IpAddr = a.parse().ok()?;
    let (bits, v6, width) = match ip {
        IpAddr::V4(x) => (u128::from(x.to_bits()), false, 32u8),
        IpAddr::V6(x) => (x.to_bits(), true, 128u8),
    };
    let len = len.unwrap_or(width);
    if len > width {
        return None;
    }
    let all = if width == 128 { u128::MAX } else { (1u128 << width) - 1 };
    let mask = if len == 0 { 0 } else { all & !((1u128 << (width - len)) - 1) };
    Some((bits & mask, mask, v6))
}

/// Whether `ip` is inside a [`prefix`].
pub(super) fn in_prefix(ip: &IpAddr, (net, mask, v6): (u128, u128, bool)) -> bool {
    let (bits, is6) = match ip {
        IpAddr::V4(x) => (u128::from(x.to_bits()), false),
        IpAddr::V6(x) => (x.to_bits(), true),
    };
    is6 == v6 && bits & mask == net
}

fn num<T: std::str::FromStr>(key: &str, v: &str) -> Result<T, String> {
    v.parse().map_err(|_| format!("`{key}={v}`: expected a number"))
}

fn parse_key(key: &str, v: &str) -> Result<Key, String> {
    let ip = |v: &str| v.parse::<IpAddr>().map_err(|_| format!("`{key}={v}`: expected an address"));
    let net = |v: &str| prefix(v).ok_or_else(|| format!("`{key}={v}`: expected a prefix"));
    let mac = |v: &str| {
        crate::aggregate::filter::parse_mac(v).ok_or_else(|| format!("`{key}={v}`: expected a MAC"))
    };
    Ok(match key {
        "in" => Key::In(num(key, v)?),
        "out" => Key::Out(num(key, v)?),
        "vlan" => Key::Vlan(num(key, v)?),
        "src_as" => Key::SrcAs(num(key, v)?),
        "dst_as" => Key::DstAs(num(key, v)?),
        "nexthop" => Key::Nexthop(ip(v)?),
        "bgp_nexthop" => Key::BgpNexthop(ip(v)?),
        "engine_id" | "source_id" | "agent_id" => Key::EngineId(num(key, v)?),
        "src_mac" => Key::SrcMac(mac(v)?),
        "dst_mac" => Key::DstMac(mac(v)?),
        "src_net" => {
            let (n, m, v6) = net(v)?;
            Key::SrcNet(n, m, v6)
        }
        "dst_net" => {
            let (n, m, v6) = net(v)?;
            Key::DstNet(n, m, v6)
        }
        "direction" => Key::Direction(num(key, v)?),
        "nat_event" => Key::NatEvent(num(key, v)?),
        "fwdstatus" => Key::FwdStatus(num(key, v)?),
        "is_multicast" => Key::IsMulticast(match v {
            "true" => true,
            "false" => false,
            _ => return Err(format!("`{key}={v}`: expected true or false")),
        }),
        "filter" => {
            Key::Filter(Box::new(Filter::parse(v).map_err(|e| format!("`filter='{v}'`: {e}"))?))
        }
        k => return Err(format!("key `{k}` is not supported")),
    })
}

impl PreTagMap {
    /// Reads and parses a map file.
    pub fn load(path: &Path) -> Result<PreTagMap, PreTagError> {
        let text = std::fs::read_to_string(path)
            .map_err(|source| PreTagError::Io { path: path.to_path_buf(), source })?;
        Self::parse(&text)
    }

    /// Parses map text.
    pub fn parse(text: &str) -> Result<PreTagMap, PreTagError> {
        let mut rules = Vec::new();
        let mut jeqs: Vec<(usize, usize, String)> = Vec::new();
        for (i, raw) in text.lines().enumerate() {
            let line = raw.trim();
            if line.is_empty() || line.starts_with('!') || line.starts_with('#') {
                continue;
            }
            let err = |reason: String| PreTagError::Line { line: i + 1, reason };
            let mut r =
                Rule { ip: None, keys: Vec::new(), set: None, label: None, jeq: None, stack: None };
            for (k, v) in pairs(line).map_err(err)? {
                let set = match k.as_str() {
                    "set_tag" | "id" => Some(Set::Tag(tag_value(&k, &v).map_err(err)?)),
                    "set_tag2" | "id2" => Some(Set::Tag2(tag_value(&k, &v).map_err(err)?)),
                    "set_label" => Some(Set::Label(v.clone())),
                    _ => None,
                };
                if let Some(s) = set {
                    if r.set.is_some() {
                        return Err(err(
                            "set_tag, set_tag2 and set_label exclude each other".into()
                        ));
                    }
                    r.set = Some(s);
                    continue;
                }
                match k.as_str() {
                    "ip" => {
                        r.ip = Some(prefix(&v).ok_or_else(|| {
                            err(format!("`ip={v}`: expected an address or prefix"))
                        })?)
                    }
                    "label" => r.label = Some(v),
                    "jeq" => jeqs.push((rules.len(), i + 1, v)),
                    "stack" => {
                        r.stack = Some(match v.as_str() {
                            "sum" => Stack::Sum,
                            "or" => Stack::Or,
                            _ => return Err(err(format!("`stack={v}`: expected sum or or"))),
                        })
                    }
                    _ => {
                        let (neg, val) = match v.strip_prefix('-') {
                            Some(x) if k != "filter" => (true, x),
                            _ => (false, v.as_str()),
                        };
                        r.keys.push((parse_key(&k, val).map_err(err)?, neg));
                    }
                }
            }
            rules.push(r);
        }
        for (at, line, target) in jeqs {
            let pos = if target == "next" {
                Some(at + 1)
            } else {
                (at + 1..rules.len()).find(|&j| rules[j].label.as_deref() == Some(target.as_str()))
            };
            let Some(pos) = pos else {
                return Err(PreTagError::Line {
                    line,
                    reason: format!("`jeq={target}`: no later rule has label={target}"),
                });
            };
            rules[at].jeq = Some(pos);
        }
        Ok(PreTagMap { rules })
    }

    /// Number of rules.
    pub fn len(&self) -> usize {
        self.rules.len()
    }

    /// True when the map has no rule.
    pub fn is_empty(&self) -> bool {
        self.rules.is_empty()
    }

    /// Evaluates the map on a record.
    pub fn eval(&self, f: &FlowFields) -> Tags {
        let mut out = Tags::default();
        let mut i = 0;
        while i < self.rules.len() {
            let r = &self.rules[i];
            if r.ip.is_some_and(|p| !in_prefix(&f.peer_src_ip, p))
                || !r.keys.iter().all(|(k, neg)| matches(k, f) != *neg)
            {
                i += 1;
                continue;
            }
            match &r.set {
                Some(Set::Tag(v)) => out.tag = stack(r.stack, *v, out.tag),
                Some(Set::Tag2(v)) => out.tag2 = stack(r.stack, *v, out.tag2),
                Some(Set::Label(l)) if out.label.is_empty() => out.label = l.clone(),
                Some(Set::Label(l)) => {
                    out.label.push(',');
                    out.label.push_str(l);
                }
                None => {}
            }
            match r.jeq {
                Some(j) => i = j,
                None => break,
            }
        }
        out
    }
}

fn tag_value(k: &str, v: &str) -> Result<u64, String> {
    if v.ends_with("++") {
        return Err(format!("`{k}={v}`: auto-increasing tags are not supported"));
    }
    match v.parse::<u64>() {
        Ok(n) if n > 0 => Ok(n),
        _ => Err(format!("`{k}={v}`: expected a tag 1..2^64-1")),
    }
}

fn stack(s: Option<Stack>, v: u64, prev: u64) -> u64 {
    match s {
        None => v,
        Some(Stack::Sum) => v.wrapping_add(prev),
        Some(Stack::Or) => v | prev,
    }
}

fn matches(k: &Key, f: &FlowFields) -> bool {
    match k {
        Key::In(v) => f.in_iface == *v,
        Key::Out(v) => f.out_iface == *v,
        Key::Vlan(v) => f.vlan == *v,
        Key::SrcAs(v) => f.src_as == *v,
        Key::DstAs(v) => f.dst_as == *v,
        Key::Nexthop(a) => f.nexthop == *a,
        Key::BgpNexthop(a) => f.peer_dst_ip == *a,
        Key::EngineId(v) => f.export_proto_sysid == *v,
        Key::SrcMac(m) => f.src_mac == *m,
        Key::DstMac(m) => f.dst_mac == *m,
        Key::SrcNet(n, m, v6) => in_prefix(&f.src_ip, (*n, *m, *v6)),
        Key::DstNet(n, m, v6) => in_prefix(&f.dst_ip, (*n, *m, *v6)),
        // Map values are the wire's (0 ingress, 1 egress); FlowFields stores them + 1.
        Key::Direction(d) => f.direction == d.saturating_add(1),
        Key::NatEvent(v) => f.nat_event == *v,
        Key::IsMulticast(b) => (f.dst_mac[0] & 1 == 1) == *b,
        Key::FwdStatus(v) => f.fwd_status == *v,
        Key::Filter(flt) => flt.matches(f),
    }
}

#[cfg(test)]
#[path = "pretag_tests.rs"]
mod tests;
