//! [`KeyedTable`]: aggregates keyed on their [`CompactKey`] where the key packs (nearly always),
//! on the full [`FlowFields`] otherwise. Used by the plugins' live tables and the memory table.

use std::collections::HashMap;
use std::hash::{Hash, Hasher};

use foldhash::fast::FixedState;

use super::PrimitiveSet;
use super::compact::{CompactKey, Layout};
use super::plugin::{Entries, Table};
use crate::record::{Counters, FlowFields};

/// A packed key whose bytes past the 16th are zero (an IPv4 5-tuple packs in 15): kept in its
/// own map so the entry (key and counters) fills one 64-byte line instead of 96 bytes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Narrow([u64; 2]);

impl Hash for Narrow {
    fn hash<H: Hasher>(&self, h: &mut H) {
        h.write_u64(self.0[0]);
        h.write_u64(self.0[1]);
    }
}

/// Any other packed key; compared word by word (the derived array comparison calls `memcmp`).
#[derive(Clone, Copy, Debug)]
struct Wide(CompactKey);

impl PartialEq for Wide {
    fn eq(&self, o: &Self) -> bool {
        self.0.iter().zip(&o.0).fold(0, |acc, (a, b)| acc | (a ^ b)) == 0
    }
}

impl Eq for Wide {}

impl Hash for Wide {
    fn hash<H: Hasher>(&self, h: &mut H) {
        let [a, b, c, d, e, f] = self.0;
        h.write_u64(a ^ d.rotate_left(32));
        h.write_u64(b ^ e.rotate_left(32));
        h.write_u64(c ^ f.rotate_left(32));
    }
}

/// Where a packed key goes: the narrow map when it fits 16 bytes. A key's width depends on its
/// value alone, so the two maps never hold the same key.
enum Packed {
    Narrow(Narrow),
    Wide(Wide),
}

fn packed(k: CompactKey) -> Packed {
    if k[2..].iter().all(|w| *w == 0) {
        Packed::Narrow(Narrow([k[0], k[1]]))
    } else {
        Packed::Wide(Wide(k))
    }
}

fn widen(k: &Narrow) -> CompactKey {
    let mut w = CompactKey::default();
    w[..2].copy_from_slice(&k.0);
    w
}

/// Masked keys → counters, stored compactly.
#[derive(Clone, Debug, Default)]
pub struct KeyedTable {
    layout: Layout,
    narrow: HashMap<Narrow, Counters, FixedState>,
    compact: HashMap<Wide, Counters, FixedState>,
    full: Table,
}

impl KeyedTable {
    /// An empty table for keys masked to `set`.
    pub fn new(set: PrimitiveSet) -> Self {
        Self::with_layout(Layout::of(set))
    }

    /// An empty table with a known layout (cheaper than [`KeyedTable::new`] per bin).
    pub fn with_layout(layout: Layout) -> Self {
        Self {
            layout,
            narrow: HashMap::default(),
            compact: HashMap::default(),
            full: Table::default(),
        }
    }

    fn merge_packed(&mut self, k: CompactKey, c: &Counters) {
        match packed(k) {
            Packed::Narrow(k) => self.narrow.entry(k).or_default().merge(c),
            Packed::Wide(k) => self.compact.entry(k).or_default().merge(c),
        }
    }

    /// Merges `c` into the aggregate of `key` (already masked to the table's set).
    pub fn merge(&mut self, key: &FlowFields, c: &Counters) {
        match self.layout.encode(key) {
            Some(k) => self.merge_packed(k, c),
            None => self.full.entry(*key).or_default().merge(c),
        }
    }

    /// Merges `c` into the aggregate of `fields` masked to `set` (the set the table's layout
    /// was made from), packing the key straight from the unmasked fields.
    pub fn merge_fields(&mut self, set: PrimitiveSet, fields: &FlowFields, c: &Counters) {
        match self.layout.encode_selected(fields) {
            Some(k) => {
                debug_assert_eq!(Some(k), self.layout.encode(&set.mask(fields)));
                self.merge_packed(k, c)
            }
            None => self.full.entry(set.mask(fields)).or_default().merge(c),
        }
    }

    /// Aggregates held.
    pub fn len(&self) -> usize {
        self.narrow.len() + self.compact.len() + self.full.len()
    }

    /// True when no aggregate is held.
    pub fn is_empty(&self) -> bool {
        self.narrow.is_empty() && self.compact.is_empty() && self.full.is_empty()
    }

    /// Every aggregate, keys unpacked.
    pub fn iter(&self) -> impl Iterator<Item = (FlowFields, &Counters)> + '_ {
        let layout = self.layout;
        self.full
            .iter()
            .map(|(k, c)| (*k, c))
            .chain(self.narrow.iter().map(move |(k, c)| (layout.decode(&widen(k)), c)))
            .chain(self.compact.iter().map(move |(k, c)| (layout.decode(&k.0), c)))
    }

    /// Every aggregate's counters.
    pub fn values(&self) -> impl Iterator<Item = &Counters> + '_ {
        self.full.values().chain(self.narrow.values()).chain(self.compact.values())
    }

    /// Keeps the aggregates `keep` accepts.
    pub fn retain(&mut self, mut keep: impl FnMut(&FlowFields, &Counters) -> bool) {
        let layout = self.layout;
        self.full.retain(|k, c| keep(k, c));
        self.narrow.retain(|k, c| keep(&layout.decode(&widen(k)), c));
        self.compact.retain(|k, c| keep(&layout.decode(&k.0), c));
    }

    /// The aggregates as a sink sees them. A key packs or not (and packs narrow or wide)
    /// depending on its value alone, so the maps are disjoint and the entries stay distinct.
    pub fn into_entries(self) -> Entries {
        let layout = self.layout;
        let mut v = Vec::with_capacity(self.len());
        v.extend(self.full);
        v.extend(self.narrow.into_iter().map(|(k, c)| (layout.decode(&widen(&k)), c)));
        v.extend(self.compact.into_iter().map(|(k, c)| (layout.decode(&k.0), c)));
        v
    }

    /// The same aggregates keyed for another set (a reload changed the aggregate); keys are
    /// re-masked to `set`, merging those that become equal.
    pub fn rekey(self, set: PrimitiveSet) -> KeyedTable {
        let mut t = KeyedTable::new(set);
        for (k, c) in self.into_entries() {
            t.merge(&set.mask(&k), &c);
        }
        t
    }
}

#[cfg(test)]
mod tests {
    use std::net::{IpAddr, Ipv6Addr};

    use super::*;

    fn key(port: u16, v6: bool) -> FlowFields {
        let mut f = FlowFields { src_port: port, dst_port: 443, proto: 6, ..FlowFields::default() };
        if v6 {
            f.src_ip = IpAddr::V6(Ipv6Addr::from([port as u8; 16]));
        }
        f
    }

    #[test]
    fn merges_iterates_retains_and_rekeys() {
        let set = PrimitiveSet::parse("src_host,src_port,dst_port,proto").unwrap();
        let mut t = KeyedTable::new(set);
        let one = Counters { packets: 1, bytes: 10, ..Counters::default() };
        for p in 0..100u16 {
            t.merge(&key(p, p % 2 == 0), &one);
            t.merge(&key(p, p % 2 == 0), &one);
        }
        assert_eq!(t.len(), 100);
        assert!(t.iter().all(|(_, c)| c.packets == 2 && c.bytes == 20));
        assert_eq!(t.values().map(|c| c.packets).sum::<u64>(), 200);
        t.retain(|k, _| k.src_port < 10);
        assert_eq!(t.len(), 10);
        let by_proto = t.clone().rekey(PrimitiveSet::parse("proto").unwrap());
        assert_eq!(by_proto.len(), 1);
        assert_eq!(by_proto.iter().next().map(|(_, c)| c.packets), Some(20));
        let mut entries = t.into_entries();
        entries.sort_by_key(|(k, _)| k.src_port);
        assert_eq!(
            entries.iter().map(|(k, _)| k.src_port).collect::<Vec<_>>(),
            (0..10).collect::<Vec<_>>()
        );
        assert_eq!(entries[2].0, key(2, true));
    }

    #[test]
    fn keys_too_wide_for_a_compact_key_are_kept_whole() {
        let set = PrimitiveSet::parse("src_host,dst_host,peer_src_ip,peer_dst_ip,src_mac,dst_mac")
            .unwrap();
        let mut t = KeyedTable::new(set);
        let mut k = FlowFields::default();
        for ip in [&mut k.src_ip, &mut k.dst_ip, &mut k.peer_src_ip, &mut k.peer_dst_ip] {
            *ip = IpAddr::V6(Ipv6Addr::LOCALHOST);
        }
        t.merge(&k, &Counters { packets: 3, ..Counters::default() });
        assert_eq!(t.full.len(), 1);
        assert_eq!(t.iter().next().map(|(f, c)| (f, c.packets)), Some((k, 3)));
    }
}
