//! pmacct's `networks_file`: a list of prefixes, each optionally with origin AS, peer AS and BGP
//! next hop, looked up longest-prefix-first (pmacct 1.7.7 `net_aggr.c`).
//!
//! Line format (`examples/networks.lst.example`), `!` or `#` start a comment:
//! `[<label>,][<next hop>,][[<peer AS>_]<origin AS>,]<network>/<mask>` — the number of commas
//! decides which fields are present: 0 → prefix; 1 → AS, prefix; 2 → next hop, AS, prefix;
//! 3 or more → the first field (a label) is skipped. As in pmacct, an AS that does not parse
//! counts as 0, a next hop that does not parse as unset, and a prefix that does not parse
//! skips the line (with a warning here).

use std::net::{IpAddr, Ipv4Addr};
use std::path::{Path, PathBuf};

use crate::decode::bgp::Prefix;
use crate::routing::trie::PrefixMap;

/// What a `networks_file` line says about a prefix.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct NetEntry {
    /// Prefix length (pmacct's `masknum`).
    pub len: u8,
    /// Origin AS (`src_as` / `dst_as`).
    pub asn: u32,
    /// Peer AS (`peer_src_as` / `peer_dst_as`).
    pub peer_as: u32,
    /// BGP next hop (`peer_dst_ip`); unspecified when absent.
    pub nh: IpAddr,
}

/// A loaded `networks_file`.
#[derive(Clone, Debug, Default)]
pub struct NetworksTable {
    map: PrefixMap<NetEntry>,
}

/// A `networks_file` that cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum NetworksError {
    #[error("networks_file {path}: {source}")]
    Io { path: PathBuf, source: std::io::Error },
}

/// `strtoul(s, NULL, 10)`: leading digits, 0 when there are none.
fn strtoul(s: &str) -> u32 {
    let s = s.trim_start();
    let digits: &str = &s[..s.bytes().take_while(u8::is_ascii_digit).count()];
    digits.parse::<u64>().map_or(0, |v| v.min(u64::from(u32::MAX)) as u32)
}

impl NetworksTable {
    /// Reads and parses a file; returns the table and one warning per skipped line.
    pub fn load(path: &Path) -> Result<(NetworksTable, Vec<String>), NetworksError> {
        let text = std::fs::read_to_string(path)
            .map_err(|source| NetworksError::Io { path: path.to_path_buf(), source })?;
        let (t, w) = Self::parse(&text);
        let w = w.into_iter().map(|w| format!("networks_file {}: {w}", path.display())).collect();
        Ok((t, w))
    }

    /// Parses the file text.
    pub fn parse(text: &str) -> (NetworksTable, Vec<String>) {
        let mut map = PrefixMap::new();
        let mut warnings = Vec::new();
        for (i, raw) in text.lines().enumerate() {
            let line = raw.trim();
            if line.is_empty() || line.starts_with('!') || line.starts_with('#') {
                continue;
            }
            let parts: Vec<&str> = line.split(',').map(str::trim).collect();
            let n = parts.len();
            let net = parts[n - 1];
            let (nh, asf) = match n {
                1 => (None, None),
                2 => (None, Some(parts[0])),
                _ => (Some(parts[n - 3]), Some(parts[n - 2])),
            };
            let (peer_as, asn) = match asf.map(|a| a.split_once('_').unwrap_or(("", a))) {
                Some((p, a)) => (strtoul(p), strtoul(a)),
                None => (0, 0),
            };
            let nh = nh
                .and_then(|s| s.parse::<IpAddr>().ok())
                .unwrap_or(IpAddr::V4(Ipv4Addr::UNSPECIFIED));
            let Some(prefix) = parse_prefix(net) else {
                warnings.push(format!("line {}: invalid network `{net}`, skipped", i + 1));
                continue;
            };
            // pmacct sorts and drops duplicates keeping the first.
            map.get_or_insert_with(&prefix, || NetEntry { len: prefix.len, asn, peer_as, nh });
        }
        (NetworksTable { map }, warnings)
    }

    /// Longest-prefix match for `ip`.
    pub fn lookup(&self, ip: IpAddr) -> Option<&NetEntry> {
        self.map.longest_match(ip).map(|(_, e)| e)
    }

    /// Number of prefixes.
    pub fn len(&self) -> usize {
        self.map.len()
    }

    /// True when no prefix was loaded.
    pub fn is_empty(&self) -> bool {
        self.map.is_empty()
    }
}

/// `a.b.c.d/len` or `v6::/len` (the mask is required, host bits are cleared as pmacct does).
fn parse_prefix(s: &str) -> Option<Prefix> {
    let (addr, len) = s.split_once('/')?;
    if len.is_empty() || !len.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let addr: IpAddr = addr.trim().parse().ok()?;
    Prefix::new(addr, len.parse().ok()?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_and_longest_match() {
        let (t, w) = NetworksTable::parse(
            "! comment\n192.168.0.0/16\n65501,192.168.2.0/25\n64512_65502,192.168.4.0/23\n\
             10.0.0.3,65503,10.0.0.0/8\nlabel,10.0.0.4,65504,10.1.0.0/16\n2001:db8::/32\n\
             65505,2001:db8:1::/48\nbogus\n10.2.0.0/40\n192.168.9.1/24\n",
        );
        assert_eq!(w.len(), 2, "{w:?}");
        let get = |s: &str| t.lookup(s.parse().unwrap()).copied();
        let e = get("192.168.2.5").unwrap();
        assert_eq!((e.len, e.asn, e.peer_as), (25, 65501, 0));
        assert_eq!(get("192.168.2.200").unwrap().len, 16);
        let e = get("192.168.5.1").unwrap();
        assert_eq!((e.len, e.asn, e.peer_as), (23, 65502, 64512));
        let e = get("10.9.9.9").unwrap();
        assert_eq!((e.len, e.asn, e.nh), (8, 65503, "10.0.0.3".parse::<IpAddr>().unwrap()));
        let e = get("10.1.2.3").unwrap();
        assert_eq!((e.len, e.asn, e.nh), (16, 65504, "10.0.0.4".parse::<IpAddr>().unwrap()));
        assert_eq!(get("2001:db8:1::9").unwrap().asn, 65505);
        assert_eq!(get("2001:db8:2::9").unwrap().len, 32);
        assert_eq!(get("172.16.0.1"), None);
        // Host bits are cleared: 192.168.9.1/24 is 192.168.9.0/24.
        assert_eq!(get("192.168.9.77").unwrap().len, 24);
    }

    #[test]
    fn loose_numbers_as_strtoul() {
        assert_eq!(strtoul("65000x"), 65000);
        assert_eq!(strtoul("x"), 0);
        assert_eq!(strtoul(""), 0);
    }
}
