//! RPKI origin validation from `rpki_roas_file` (pmacct 1.7.7 `rpki/rpki_msg.c`,
//! `rpki/rpki_lookup.c`): the ROAs in a prefix map, the validity of one route (prefix, origin
//! AS) and pmacct's "vector" state over a route and its less-specific covering routes.
//!
//! The file is JSON: `{"roas": [{"prefix": "192.0.2.0/24", "asn": "AS64500", "maxLength": 24},
//! ...]}` (the rpki-client / RIPE validator export). As in pmacct, `asn` must be a string (leading
//! non-digits such as `AS` skipped), `maxLength` an integer (stored in a byte); a ROA missing or
//! mangling one of the three is skipped with a warning, one whose `maxLength` is shorter than its
//! prefix (or longer than the family) is kept with a warning.

use std::net::IpAddr;
use std::path::{Path, PathBuf};

use tracing::warn;

use super::trie::PrefixMap;
use crate::decode::bgp::Prefix;

/// `u`: no ROA covers the prefix.
pub const ROA_UNKNOWN: u8 = 0;
/// `i`: ROAs cover the prefix, none matches its origin AS and length (nor any covering route's).
pub const ROA_INVALID: u8 = 1;
/// `v`: a ROA matches.
pub const ROA_VALID: u8 = 2;
/// `V`: the route is invalid, a less-specific covering route is valid.
pub const ROA_OVERLAP_VALID: u8 = 3;
/// `U`: the route is invalid, a less-specific covering route is unknown.
pub const ROA_OVERLAP_UNKNOWN: u8 = 4;

/// pmacct's `rpki_roa[]` strings, indexed by state.
const ROA_STRINGS: [&str; 5] = ["u", "i", "v", "V", "U"];

/// The string pmacct prints for a state (`rpki_roa_print`: out of range prints `u`).
pub fn roa_str(state: u8) -> &'static str {
    ROA_STRINGS.get(usize::from(state)).copied().unwrap_or("u")
}

/// The state a printed string names (the memory table's match values); `None` when unknown.
pub fn roa_from_str(s: &str) -> Option<u8> {
    ROA_STRINGS.iter().position(|x| *x == s).and_then(|i| u8::try_from(i).ok())
}

/// An `rpki_roas_file` that cannot be used at all.
#[derive(Debug, thiserror::Error)]
pub enum RoaError {
    #[error("rpki_roas_file {path}: {source}")]
    Io { path: PathBuf, source: std::io::Error },
    #[error("rpki_roas_file: not JSON: {0}")]
    Json(#[from] serde_json::Error),
    #[error("rpki_roas_file: the top level must be an object with a `roas` array")]
    Shape,
}

/// The ROAs of one file: per prefix, (origin AS, maxLength) pairs.
#[derive(Clone, Debug, Default)]
pub struct RoaTable {
    map: PrefixMap<Vec<(u32, u8)>>,
    roas: usize,
    skipped: usize,
}

impl RoaTable {
    /// Reads `path`.
    pub fn load(path: &Path) -> Result<RoaTable, RoaError> {
        let text = std::fs::read_to_string(path)
            .map_err(|source| RoaError::Io { path: path.to_path_buf(), source })?;
        Self::parse(&text)
    }

    /// Parses the file's text.
    pub fn parse(text: &str) -> Result<RoaTable, RoaError> {
        let v: serde_json::Value = serde_json::from_str(text)?;
        let list = v.get("roas").and_then(|r| r.as_array()).ok_or(RoaError::Shape)?;
        let mut t = RoaTable::default();
        for (i, roa) in list.iter().enumerate() {
            match Self::entry(roa) {
                Ok((p, asn, max_len)) => {
                    let width = if p.addr.is_ipv4() { 32 } else { 128 };
                    if max_len > width || max_len < p.len {
                        warn!(roa = i + 1, prefix = %fmt_prefix(p), max_len, asn,
                            "rpki_roas_file: maxLength < prefix length (kept)");
                    }
                    t.map.get_or_insert_with(&p, Vec::new).push((asn, max_len));
                    t.roas += 1;
                }
                Err(why) => {
                    warn!(roa = i + 1, "rpki_roas_file: {why}; ROA skipped");
                    t.skipped += 1;
                }
            }
        }
        Ok(t)
    }

    fn entry(roa: &serde_json::Value) -> Result<(Prefix, u32, u8), &'static str> {
        let prefix = roa.get("prefix").and_then(|p| p.as_str()).ok_or("no 'prefix' element")?;
        let prefix = parse_prefix(prefix).ok_or("invalid 'prefix' element")?;
        let asn = roa.get("asn").and_then(|a| a.as_str()).ok_or("no 'asn' element")?;
        let asn = parse_asn(asn).ok_or("invalid 'asn' element")?;
        let max_len = roa
            .get("maxLength")
            .and_then(|m| m.as_i64().or_else(|| m.as_u64().map(|u| u as i64)))
            .ok_or("no 'maxLength' element")?;
        // pmacct keeps the integer in a u_int8_t.
        let max_len = (max_len & 0xff) as u8;
        Ok((prefix, asn, max_len))
    }

    /// ROAs loaded.
    pub fn len(&self) -> usize {
        self.roas
    }

    /// True when no ROA was loaded.
    pub fn is_empty(&self) -> bool {
        self.roas == 0
    }

    /// ROAs skipped as malformed.
    pub fn skipped(&self) -> usize {
        self.skipped
    }

    /// Origin validation of one route (`rpki_prefix_lookup`): valid when a ROA covering
    /// `prefix` has its origin AS and a maxLength at least the prefix length, invalid when ROAs
    /// cover it but none does, unknown when none covers it.
    pub fn validate(&self, prefix: Prefix, origin_as: u32) -> u8 {
        let mut state = ROA_UNKNOWN;
        for (_, roas) in self.map.covering(prefix.addr, prefix.len) {
            for &(asn, max_len) in roas {
                if max_len >= prefix.len && asn == origin_as {
                    return ROA_VALID;
                }
                state = ROA_INVALID;
            }
        }
        state
    }

    /// pmacct's `rpki_vector_prefix_lookup`: `routes` are the RIB routes covering the flow's
    /// address, most specific (the one the flow matched) first, each with its origin AS. The
    /// first route that is not invalid decides; when it is not the first one the state becomes
    /// `V` (valid) or `U` (unknown); all invalid is `i`; no route is `u`.
    pub fn vector(&self, routes: impl IntoIterator<Item = (Prefix, u32)>) -> u8 {
        let mut state = ROA_UNKNOWN;
        let mut level = 0usize;
        for (prefix, origin_as) in routes {
            level += 1;
            state = self.validate(prefix, origin_as);
            if state != ROA_INVALID {
                break;
            }
        }
        match state {
            ROA_UNKNOWN if level > 1 => ROA_OVERLAP_UNKNOWN,
            ROA_VALID if level > 1 => ROA_OVERLAP_VALID,
            s => s,
        }
    }
}

fn fmt_prefix(p: Prefix) -> String {
    format!("{}/{}", p.addr, p.len)
}

/// `a.b.c.d/len`, `x::/len` or a bare address (a host prefix).
fn parse_prefix(s: &str) -> Option<Prefix> {
    let (addr, len) = match s.trim().split_once('/') {
        Some((a, l)) => (a.parse::<IpAddr>().ok()?, Some(l.parse::<u8>().ok()?)),
        None => (s.trim().parse::<IpAddr>().ok()?, None),
    };
    let len = len.unwrap_or(if addr.is_ipv4() { 32 } else { 128 });
    Prefix::new(addr, len)
}

/// pmacct's `bgp_str2asn`: leading non-digits skipped, then a decimal number to the end.
fn parse_asn(s: &str) -> Option<u32> {
    let digits = s.trim_start_matches(|c: char| !c.is_ascii_digit());
    if digits.is_empty() {
        return None;
    }
    digits.parse().ok()
}

#[cfg(test)]
#[path = "roa_tests.rs"]
mod tests;
