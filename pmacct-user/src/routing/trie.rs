//! A longest-prefix-match map: one hash table per prefix length in use, probed from the
//! longest length down. Lookups cost at most one probe per length present (typically ~25 for
//! a full IPv4 table); memory is one hash entry per prefix.

use std::collections::BTreeMap;
use std::net::IpAddr;

use rustc_hash::FxHashMap;

use crate::decode::bgp::Prefix;

/// The family-independent key: address bits left-aligned in a u128 (IPv4 in the top 32).
fn key(addr: IpAddr, len: u8) -> u128 {
    let bits = match addr {
        IpAddr::V4(a) => u128::from(u32::from(a)) << 96,
        IpAddr::V6(a) => u128::from(a),
    };
    bits & u128::MAX.checked_shl(128 - u32::from(len)).unwrap_or(0)
}

#[derive(Clone, Debug)]
struct Family<V> {
    by_len: BTreeMap<u8, FxHashMap<u128, V>>,
}

impl<V> Default for Family<V> {
    fn default() -> Self {
        Self { by_len: BTreeMap::new() }
    }
}

/// Maps prefixes (IPv4 and IPv6 kept apart) to values with longest-prefix-match lookup.
#[derive(Clone, Debug)]
pub struct PrefixMap<V> {
    v4: Family<V>,
    v6: Family<V>,
    len: usize,
}

impl<V> Default for PrefixMap<V> {
    fn default() -> Self {
        Self { v4: Family::default(), v6: Family::default(), len: 0 }
    }
}

impl<V> PrefixMap<V> {
    /// An empty map.
    pub fn new() -> Self {
        Self::default()
    }

    fn fam(&self, a: IpAddr) -> &Family<V> {
        if a.is_ipv4() { &self.v4 } else { &self.v6 }
    }

    fn fam_mut(&mut self, a: IpAddr) -> &mut Family<V> {
        if a.is_ipv4() { &mut self.v4 } else { &mut self.v6 }
    }

    /// Number of prefixes.
    pub fn len(&self) -> usize {
        self.len
    }

    /// True when empty.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// The value at exactly `p`.
    pub fn get(&self, p: &Prefix) -> Option<&V> {
        self.fam(p.addr).by_len.get(&p.len)?.get(&key(p.addr, p.len))
    }

    /// The value at exactly `p`, inserting `f()` when absent.
    pub fn get_or_insert_with(&mut self, p: &Prefix, f: impl FnOnce() -> V) -> &mut V {
        let k = key(p.addr, p.len);
        let fam = if p.addr.is_ipv4() { &mut self.v4 } else { &mut self.v6 };
        let table = fam.by_len.entry(p.len).or_default();
        let mut added = false;
        let v = table.entry(k).or_insert_with(|| {
            added = true;
            f()
        });
        if added {
            self.len += 1;
        }
        v
    }

    /// The value at exactly `p`, mutably.
    pub fn get_mut(&mut self, p: &Prefix) -> Option<&mut V> {
        let k = key(p.addr, p.len);
        self.fam_mut(p.addr).by_len.get_mut(&p.len)?.get_mut(&k)
    }

    /// Removes `p`.
    pub fn remove(&mut self, p: &Prefix) -> Option<V> {
        let k = key(p.addr, p.len);
        let fam = self.fam_mut(p.addr);
        let table = fam.by_len.get_mut(&p.len)?;
        let v = table.remove(&k)?;
        if table.is_empty() {
            fam.by_len.remove(&p.len);
        }
        self.len -= 1;
        Some(v)
    }

    /// The longest prefix containing `ip` whose value satisfies `accept`.
    pub fn longest_match_by(
        &self,
        ip: IpAddr,
        mut accept: impl FnMut(&V) -> bool,
    ) -> Option<(Prefix, &V)> {
        for (len, table) in self.fam(ip).by_len.iter().rev() {
            if let Some(v) = table.get(&key(ip, *len))
                && accept(v)
            {
                let p = Prefix::new(ip, *len)?;
                return Some((p, v));
            }
        }
        None
    }

    /// Every prefix containing `ip` no longer than `max_len`, longest first.
    pub fn covering(&self, ip: IpAddr, max_len: u8) -> impl Iterator<Item = (Prefix, &V)> {
        self.fam(ip).by_len.range(..=max_len).rev().filter_map(move |(len, table)| {
            let v = table.get(&key(ip, *len))?;
            Some((Prefix::new(ip, *len)?, v))
        })
    }

    /// The longest prefix containing `ip`.
    pub fn longest_match(&self, ip: IpAddr) -> Option<(Prefix, &V)> {
        self.longest_match_by(ip, |_| true)
    }

    /// Keeps only the entries for which `f` returns true (values may be edited in place).
    pub fn retain(&mut self, mut f: impl FnMut(&mut V) -> bool) {
        let mut removed = 0;
        for fam in [&mut self.v4, &mut self.v6] {
            for table in fam.by_len.values_mut() {
                let before = table.len();
                table.retain(|_, v| f(v));
                removed += before - table.len();
            }
            fam.by_len.retain(|_, t| !t.is_empty());
        }
        self.len -= removed;
    }

    /// Every (prefix, value).
    pub fn iter(&self) -> impl Iterator<Item = (Prefix, &V)> {
        let fams = [(&self.v4, true), (&self.v6, false)];
        fams.into_iter().flat_map(|(fam, v4)| {
            fam.by_len.iter().flat_map(move |(len, t)| {
                t.iter().filter_map(move |(k, v)| {
                    let addr = if v4 {
                        IpAddr::V4(u32::try_from(k >> 96).unwrap_or_default().into())
                    } else {
                        IpAddr::V6((*k).into())
                    };
                    Some((Prefix::new(addr, *len)?, v))
                })
            })
        })
    }
}
