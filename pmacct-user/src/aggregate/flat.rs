//! [`FlatMap`]: the open-addressing map behind [`super::KeyedTable`]'s packed keys.
//!
//! Aggregating a stream with many distinct keys is bound by cache misses on the table: one on
//! the probe, one on the entry. This map keeps one tag byte per slot (7 bits of the hash) in a
//! small array and each key with its counters in one cache-line-aligned slot, and lets the
//! caller [`FlatMap::prefetch`] the slots of a batch of keys before merging them, so the
//! misses of a batch overlap instead of following one another.

use crate::record::Counters;

/// A packed key: cheap to copy and compare, hashed by itself.
pub(super) trait FlatKey: Copy + Eq + Default {
    fn hash(&self) -> u64;
}

/// A key with its counters, on its own cache line(s).
#[derive(Clone, Copy, Debug, Default)]
#[repr(C, align(64))]
struct Slot<K> {
    key: K,
    counters: Counters,
}

/// Tag of an empty slot; occupied slots have the high bit set.
const EMPTY: u8 = 0;
const MIN_SLOTS: usize = 64;

/// The 64-bit product of two words folded into one (foldhash's mixing step).
#[inline]
pub(super) fn fold(a: u64, b: u64) -> u64 {
    let m = u128::from(a) * u128::from(b);
    (m as u64) ^ ((m >> 64) as u64)
}

#[inline]
fn tag(h: u64) -> u8 {
    (h >> 57) as u8 | 0x80
}

/// Hints the CPU to load `r`'s cache line.
#[inline(always)]
fn prefetch<T>(r: &T) {
    #[cfg(target_arch = "x86_64")]
    // SAFETY: a prefetch is a hint: it never faults and reads nothing into the program; the
    // pointer comes from a reference anyway.
    unsafe {
        use std::arch::x86_64::{_MM_HINT_T0, _mm_prefetch};
        _mm_prefetch::<_MM_HINT_T0>((r as *const T).cast());
    }
    #[cfg(not(target_arch = "x86_64"))]
    let _ = r;
}

/// Packed key → counters, linear probing, at most 3/4 full.
#[derive(Clone, Debug, Default)]
pub(super) struct FlatMap<K> {
    tags: Vec<u8>,
    slots: Vec<Slot<K>>,
    len: usize,
}

impl<K: FlatKey> FlatMap<K> {
    /// An empty map that holds `n` keys without growing.
    pub fn with_capacity(n: usize) -> Self {
        if n == 0 {
            return Self::default();
        }
        let slots = (n * 4 / 3 + 1).next_power_of_two().max(MIN_SLOTS);
        FlatMap { tags: vec![EMPTY; slots], slots: vec![Slot::default(); slots], len: 0 }
    }

    pub fn len(&self) -> usize {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Starts loading the slot a key of hash `h` probes first.
    #[inline]
    pub fn prefetch(&self, h: u64) {
        let mask = self.tags.len().wrapping_sub(1);
        if let (Some(t), Some(s)) =
            (self.tags.get(h as usize & mask), self.slots.get(h as usize & mask))
        {
            prefetch(t);
            prefetch(s);
        }
    }

    /// Merges `c` into the counters of `key` (hash `h` = `key.hash()`), inserting it if new.
    #[inline]
    pub fn merge(&mut self, key: K, h: u64, c: &Counters) {
        self.merge_with(key, h, c, Counters::merge);
    }

    /// Like [`FlatMap::merge`] with `combine` for a key already held (a new key takes `c`).
    #[inline]
    pub fn merge_with(
        &mut self,
        key: K,
        h: u64,
        c: &Counters,
        combine: impl FnOnce(&mut Counters, &Counters),
    ) {
        if (self.len + 1) * 4 > self.tags.len() * 3 {
            self.grow();
        }
        let mask = self.tags.len() - 1;
        let t = tag(h);
        let mut i = h as usize & mask;
        // The map is never full, so the probe ends at an empty slot at the latest.
        while let (Some(tg), Some(slot)) = (self.tags.get_mut(i), self.slots.get_mut(i)) {
            if *tg == EMPTY {
                *tg = t;
                *slot = Slot { key, counters: *c };
                self.len += 1;
                return;
            }
            if *tg == t && slot.key == key {
                combine(&mut slot.counters, c);
                return;
            }
            i = (i + 1) & mask;
        }
    }

    fn grow(&mut self) {
        let n = (self.tags.len() * 2).max(MIN_SLOTS);
        let old = std::mem::replace(
            self,
            FlatMap { tags: vec![EMPTY; n], slots: vec![Slot::default(); n], len: 0 },
        );
        for (k, c) in old.into_pairs() {
            self.merge(k, k.hash(), &c);
        }
    }

    /// Every key and its counters.
    pub fn iter(&self) -> impl Iterator<Item = (&K, &Counters)> + '_ {
        self.tags
            .iter()
            .zip(&self.slots)
            .filter(|(t, _)| **t != EMPTY)
            .map(|(_, s)| (&s.key, &s.counters))
    }

    /// Every aggregate's counters.
    pub fn values(&self) -> impl Iterator<Item = &Counters> + '_ {
        self.iter().map(|(_, c)| c)
    }

    /// Keeps the entries `keep` accepts (rebuilds the map: linear probing has no cheap delete).
    pub fn retain(&mut self, mut keep: impl FnMut(&K, &Counters) -> bool) {
        let old = std::mem::take(self);
        for (k, c) in old.into_pairs().filter(|(k, c)| keep(k, c)) {
            self.merge(k, k.hash(), &c);
        }
    }

    /// The entries, consumed.
    pub fn into_pairs(self) -> impl Iterator<Item = (K, Counters)> {
        self.tags
            .into_iter()
            .zip(self.slots)
            .filter(|(t, _)| *t != EMPTY)
            .map(|(_, s)| (s.key, s.counters))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
    struct K(u64);

    impl FlatKey for K {
        fn hash(&self) -> u64 {
            // A poor hash on purpose: long probe runs must still work.
            self.0 % 7
        }
    }

    #[test]
    fn merges_grows_iterates_and_retains() {
        let mut m = FlatMap::<K>::default();
        let one =
            Counters { packets: 1, bytes: 10, first_us: 5, last_us: 9, ..Counters::default() };
        for round in 0..3 {
            for k in 0..1000u64 {
                m.prefetch(K(k).hash());
                m.merge(K(k), K(k).hash(), &one);
            }
            assert_eq!(m.len(), 1000, "round {round}");
        }
        assert!(m.iter().all(|(_, c)| c.packets == 3 && c.bytes == 30 && c.first_us == 5));
        assert_eq!(m.values().map(|c| c.packets).sum::<u64>(), 3000);
        m.retain(|k, _| k.0 % 2 == 0);
        assert_eq!(m.len(), 500);
        let mut keys: Vec<u64> = m.into_pairs().map(|(k, _)| k.0).collect();
        keys.sort_unstable();
        assert_eq!(keys, (0..1000).step_by(2).collect::<Vec<_>>());
    }
}
