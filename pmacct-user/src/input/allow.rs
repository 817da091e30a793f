//! Exporter allow-lists (pmacct's `nfacctd_allow_file` / `sfacctd_allow_file`): addresses or
//! prefixes, one per line, `!`/`#` comments. Datagrams from anyone else are counted and dropped.

use std::net::IpAddr;
use std::path::Path;

/// One allowed address or prefix.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct AllowEntry {
    addr: IpAddr,
    len: u8,
}

impl AllowEntry {
    fn contains(&self, ip: IpAddr) -> bool {
        let ip = match (self.addr, ip) {
            (IpAddr::V4(_), IpAddr::V6(v6)) => match v6.to_ipv4_mapped() {
                Some(v4) => IpAddr::V4(v4),
                None => return false,
            },
            (_, ip) => ip,
        };
        match (self.addr, ip) {
            (IpAddr::V4(a), IpAddr::V4(b)) => prefix_eq(&a.octets(), &b.octets(), self.len),
            (IpAddr::V6(a), IpAddr::V6(b)) => prefix_eq(&a.octets(), &b.octets(), self.len),
            _ => false,
        }
    }
}

fn prefix_eq(a: &[u8], b: &[u8], len: u8) -> bool {
    let full = usize::from(len / 8);
    let rest = len % 8;
    if a.get(..full) != b.get(..full) {
        return false;
    }
    if rest == 0 {
        return true;
    }
    let mask = 0xffu8 << (8 - rest);
    match (a.get(full), b.get(full)) {
        (Some(x), Some(y)) => x & mask == y & mask,
        _ => false,
    }
}

/// Parses `10.0.0.1`, `10.0.0.0/8`, `2001:db8::/32`.
pub fn parse_entry(s: &str) -> Option<AllowEntry> {
    let s = s.trim();
    let (addr, len) = match s.split_once('/') {
        Some((a, l)) => (a.parse::<IpAddr>().ok()?, l.parse::<u8>().ok()?),
        None => {
            let a = s.parse::<IpAddr>().ok()?;
            (a, if a.is_ipv4() { 32 } else { 128 })
        }
    };
    let max = if addr.is_ipv4() { 32 } else { 128 };
    (len <= max).then_some(AllowEntry { addr, len })
}

/// An allow-list; empty allows everyone.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct AllowList {
    entries: Vec<AllowEntry>,
}

/// A bad allow-list line.
#[derive(Debug, thiserror::Error)]
pub enum AllowError {
    #[error("{path}: {source}")]
    Io { path: String, source: std::io::Error },
    #[error("{path}:{line}: '{value}' is not an IP address or prefix")]
    Bad { path: String, line: usize, value: String },
}

impl AllowList {
    /// From config entries (already validated) plus an optional file.
    pub fn load(entries: &[String], file: Option<&Path>) -> Result<Self, AllowError> {
        let mut list =
            AllowList { entries: entries.iter().filter_map(|e| parse_entry(e)).collect() };
        if let Some(path) = file {
            let text = std::fs::read_to_string(path)
                .map_err(|source| AllowError::Io { path: path.display().to_string(), source })?;
            for (i, line) in text.lines().enumerate() {
                let line = line.trim();
                if line.is_empty() || line.starts_with('!') || line.starts_with('#') {
                    continue;
                }
                let e = parse_entry(line).ok_or_else(|| AllowError::Bad {
                    path: path.display().to_string(),
                    line: i + 1,
                    value: line.to_string(),
                })?;
                list.entries.push(e);
            }
        }
        Ok(list)
    }

    /// True when `ip` may send (everyone, when the list is empty).
    pub fn allows(&self, ip: IpAddr) -> bool {
        self.entries.is_empty() || self.entries.iter().any(|e| e.contains(ip))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prefixes_and_addresses() {
        let l = AllowList::load(
            &["10.0.0.0/8".into(), "192.0.2.7".into(), "2001:db8::/32".into()],
            None,
        )
        .unwrap();
        for ok in ["10.1.2.3", "192.0.2.7", "2001:db8:1::1", "::ffff:10.9.9.9"] {
            assert!(l.allows(ok.parse().unwrap()), "{ok}");
        }
        for no in ["11.0.0.1", "192.0.2.8", "2001:db9::1"] {
            assert!(!l.allows(no.parse().unwrap()), "{no}");
        }
        assert!(AllowList::default().allows("1.2.3.4".parse().unwrap()));
        assert!(parse_entry("10.0.0.0/33").is_none());
        assert!(parse_entry("bogus").is_none());
        assert_eq!(
            parse_entry("10.1.0.0/12").map(|e| e.contains("10.15.0.1".parse().unwrap())),
            Some(true)
        );
    }

    #[test]
    fn file_errors_name_the_line() {
        let dir = std::env::temp_dir().join(format!("pmrs-allow-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let f = dir.join("allow");
        std::fs::write(&f, "! exporters\n10.0.0.1\nnot-an-ip\n").unwrap();
        let e = AllowList::load(&[], Some(&f)).unwrap_err().to_string();
        assert!(e.contains(":3:") && e.contains("not-an-ip"), "{e}");
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
