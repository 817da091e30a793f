//! [`KeyedTable`]: aggregates keyed on their [`CompactKey`] where the key packs (nearly always),
//! on the full [`FlowFields`] otherwise. Used by the plugins' live tables and the memory table.

use super::PrimitiveSet;
use super::compact::{CompactKey, Layout};
use super::flat::{FlatKey, FlatMap, fold};
use super::plugin::Table;
use crate::record::{Counters, FlowFields, FlowRecord};

/// A packed key whose bytes past the 16th are zero (an IPv4 5-tuple packs in 15): kept in its
/// own map so the entry (key and counters) fills one 64-byte line.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
struct Narrow([u64; 2]);

impl FlatKey for Narrow {
    #[inline]
    fn hash(&self) -> u64 {
        fold(self.0[0] ^ 0x243f_6a88_85a3_08d3, self.0[1] ^ 0x1319_8a2e_0370_7344)
    }
}

/// Any other packed key; compared word by word (the derived array comparison calls `memcmp`).
#[derive(Clone, Copy, Debug, Default)]
struct Wide(CompactKey);

impl PartialEq for Wide {
    #[inline]
    fn eq(&self, o: &Self) -> bool {
        self.0.iter().zip(&o.0).fold(0, |acc, (a, b)| acc | (a ^ b)) == 0
    }
}

impl Eq for Wide {}

impl FlatKey for Wide {
    #[inline]
    fn hash(&self) -> u64 {
        let [a, b, c, d, e, f] = self.0;
        let x = fold(a ^ 0x243f_6a88_85a3_08d3, b ^ 0x1319_8a2e_0370_7344);
        let y = fold(c ^ 0xa409_3822_299f_31d0, d ^ 0x082e_fa98_ec4e_6c89);
        let z = fold(e ^ 0x4528_21e6_38d0_1377, f ^ 0xbe54_66cf_34e9_0c6c);
        fold(x ^ z.rotate_left(32), y ^ 0xc0ac_29b7_c97c_50dd)
    }
}

/// Where a packed key goes: the narrow map when it fits 16 bytes. A key's width depends on its
/// value alone, so the two maps never hold the same key.
#[derive(Clone, Copy)]
enum Packed {
    Narrow(Narrow, u64),
    Wide(Wide, u64),
    /// Does not pack: keyed on the full struct.
    Full,
}

fn packed(k: CompactKey) -> Packed {
    if k[2..].iter().all(|w| *w == 0) {
        let k = Narrow([k[0], k[1]]);
        Packed::Narrow(k, k.hash())
    } else {
        let k = Wide(k);
        Packed::Wide(k, k.hash())
    }
}

fn widen(k: &Narrow) -> CompactKey {
    let mut w = CompactKey::default();
    w[..2].copy_from_slice(&k.0);
    w
}

/// Keys held per map of a [`KeyedTable`] (the whole-struct map is not presized).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct TableSize {
    narrow: usize,
    wide: usize,
}

impl TableSize {
    /// The larger of each count.
    pub fn max(self, o: TableSize) -> TableSize {
        TableSize { narrow: self.narrow.max(o.narrow), wide: self.wide.max(o.wide) }
    }
}

/// Records whose slots are prefetched before they are merged.
const BATCH: usize = 16;

/// Masked keys → counters, stored compactly.
#[derive(Clone, Debug, Default)]
pub struct KeyedTable {
    layout: Layout,
    narrow: FlatMap<Narrow>,
    compact: FlatMap<Wide>,
    full: Table,
}

impl KeyedTable {
    /// An empty table for keys masked to `set`.
    pub fn new(set: PrimitiveSet) -> Self {
        Self::with_layout(Layout::of(set))
    }

    /// An empty table with a known layout (cheaper than [`KeyedTable::new`] per bin).
    pub fn with_layout(layout: Layout) -> Self {
        Self::sized_like(layout, TableSize::default())
    }

    /// An empty table with room for as many keys of each kind as `size` counted, so a table
    /// refilled after a flush does not grow (and rehash) its way back to its usual size.
    pub fn sized_like(layout: Layout, size: TableSize) -> Self {
        Self {
            layout,
            narrow: FlatMap::with_capacity(size.narrow),
            compact: FlatMap::with_capacity(size.wide),
            full: Table::default(),
        }
    }

    /// How many keys each of the table's maps holds.
    pub fn size(&self) -> TableSize {
        TableSize { narrow: self.narrow.len(), wide: self.compact.len() }
    }

    #[inline]
    fn merge_packed(&mut self, p: Packed, key: impl FnOnce() -> FlowFields, c: &Counters) {
        match p {
            Packed::Narrow(k, h) => self.narrow.merge(k, h, c),
            Packed::Wide(k, h) => self.compact.merge(k, h, c),
            Packed::Full => self.full.entry(key()).or_default().merge(c),
        }
    }

    #[inline]
    fn prefetch(&self, p: &Packed) {
        match p {
            Packed::Narrow(_, h) => self.narrow.prefetch(*h),
            Packed::Wide(_, h) => self.compact.prefetch(*h),
            Packed::Full => {}
        }
    }

    /// Merges `c` into the aggregate of `key` (already masked to the table's set).
    pub fn merge(&mut self, key: &FlowFields, c: &Counters) {
        let p = self.layout.encode(key).map_or(Packed::Full, packed);
        self.merge_packed(p, || *key, c);
    }

    /// Merges `c` into the aggregate of `fields` masked to `set` (the set the table's layout
    /// was made from), packing the key straight from the unmasked fields.
    pub fn merge_fields(&mut self, set: PrimitiveSet, fields: &FlowFields, c: &Counters) {
        let p = self.pack_fields(set, fields);
        self.merge_packed(p, || set.mask(fields), c);
    }

    #[inline]
    fn pack_fields(&self, set: PrimitiveSet, fields: &FlowFields) -> Packed {
        let k = self.layout.encode_selected(fields);
        debug_assert_eq!(k, self.layout.encode(&set.mask(fields)));
        let _ = set;
        k.map_or(Packed::Full, packed)
    }

    /// [`KeyedTable::merge_fields`] for every record of `recs` (their TCP flags cleared unless
    /// `keep_tcp_flags`), the table slots of each batch prefetched before it is merged.
    pub fn merge_records(&mut self, set: PrimitiveSet, recs: &[FlowRecord], keep_tcp_flags: bool) {
        let mut keys = [Packed::Full; BATCH];
        for chunk in recs.chunks(BATCH) {
            for (k, r) in keys.iter_mut().zip(chunk) {
                *k = self.pack_fields(set, &r.fields);
                self.prefetch(k);
            }
            for (k, r) in keys.iter().zip(chunk) {
                let mut c = r.counters;
                if !keep_tcp_flags {
                    c.tcp_flags = 0;
                }
                self.merge_packed(*k, || set.mask(&r.fields), &c);
            }
        }
    }

    /// Like [`KeyedTable::merge`], with `combine` instead of [`Counters::merge`] when the key
    /// is already held (a new key takes `c` as it is).
    pub fn merge_with(
        &mut self,
        key: &FlowFields,
        c: &Counters,
        combine: impl FnOnce(&mut Counters, &Counters),
    ) {
        use std::collections::hash_map::Entry;
        match self.layout.encode(key).map_or(Packed::Full, packed) {
            Packed::Narrow(k, h) => self.narrow.merge_with(k, h, c, combine),
            Packed::Wide(k, h) => self.compact.merge_with(k, h, c, combine),
            Packed::Full => match self.full.entry(*key) {
                Entry::Occupied(mut e) => combine(e.get_mut(), c),
                Entry::Vacant(e) => {
                    e.insert(*c);
                }
            },
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

    /// Calls `f` with every aggregate, each key unpacked into the same place (no per-row move
    /// of a whole record through iterator adapters, as [`KeyedTable::iter`] does).
    pub fn for_each(&self, mut f: impl FnMut(&FlowFields, &Counters)) {
        for (k, c) in &self.full {
            f(k, c);
        }
        let layout = self.layout;
        let mut key = FlowFields::default();
        for (k, c) in self.narrow.iter() {
            layout.decode_into(&widen(k), &mut key);
            f(&key, c);
        }
        for (k, c) in self.compact.iter() {
            layout.decode_into(&k.0, &mut key);
            f(&key, c);
        }
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

    /// Every aggregate as an owned pair. A key packs or not (and packs narrow or wide)
    /// depending on its value alone, so the maps are disjoint and the entries stay distinct.
    pub fn into_entries(self) -> Vec<(FlowFields, Counters)> {
        let layout = self.layout;
        let mut v = Vec::with_capacity(self.len());
        v.extend(self.full);
        v.extend(self.narrow.into_pairs().map(|(k, c)| (layout.decode(&widen(&k)), c)));
        v.extend(self.compact.into_pairs().map(|(k, c)| (layout.decode(&k.0), c)));
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
    fn batches_merge_like_single_records() {
        let set = PrimitiveSet::parse("src_host,dst_host,src_port,dst_port,proto").unwrap();
        let recs: Vec<FlowRecord> = (0..5000u32)
            .map(|i| {
                let mut f = key((i % 701) as u16, i % 3 == 0);
                f.dst_port = (i % 5) as u16;
                f.vlan = 9; // outside the set: masked away
                let counters = Counters {
                    packets: 1,
                    bytes: u64::from(i),
                    tcp_flags: 2,
                    first_us: u64::from(i + 1),
                    last_us: u64::from(i + 2),
                    ..Counters::default()
                };
                FlowRecord { fields: f, counters }
            })
            .collect();
        let (mut one, mut batch) = (KeyedTable::new(set), KeyedTable::new(set));
        for r in &recs {
            let mut c = r.counters;
            c.tcp_flags = 0;
            one.merge_fields(set, &r.fields, &c);
        }
        for part in recs.chunks(77) {
            batch.merge_records(set, part, false);
        }
        let sorted = |t: KeyedTable| {
            let mut e = t.into_entries();
            e.sort_by_key(|(k, _)| format!("{k:?}"));
            e
        };
        let (a, b) = (sorted(one), sorted(batch));
        assert!(a.len() > 701, "{} aggregates", a.len());
        assert_eq!(a, b);
        assert!(a.iter().all(|(k, c)| k.vlan == 0 && c.tcp_flags == 0));
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
