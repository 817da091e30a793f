//! [`Entries`]: a flushed bin's aggregates as a sink reads them.
//!
//! A flush hands the live table itself to the sink: keys stay packed as the table held them and
//! are unpacked one at a time while the sink reads them. Unpacking every key into a vector of
//! full records first cost a fresh allocation of ~400 bytes per aggregate on every flush (33 MB
//! for 88 k keys, above glibc's mmap threshold, so mapped, faulted in and unmapped each time).

use std::collections::HashMap;

use super::table::KeyedTable;
use crate::record::{Counters, FlowFields};

/// Distinct aggregates of one time bin, in no particular order.
#[derive(Clone, Debug)]
pub struct Entries(Store);

#[derive(Clone, Debug)]
enum Store {
    /// A plugin's swapped-out table.
    Table(KeyedTable),
    /// Rows built one by one (tests, tools); may repeat a key.
    List(Vec<(FlowFields, Counters)>),
}

impl Default for Entries {
    fn default() -> Self {
        Entries(Store::List(Vec::new()))
    }
}

impl Entries {
    /// Number of rows.
    pub fn len(&self) -> usize {
        match &self.0 {
            Store::Table(t) => t.len(),
            Store::List(l) => l.len(),
        }
    }

    /// True when there is no row.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Every row, its key unpacked.
    pub fn iter(&self) -> impl Iterator<Item = (FlowFields, &Counters)> + '_ {
        let (table, list) = match &self.0 {
            Store::Table(t) => (Some(t), None),
            Store::List(l) => (None, Some(l)),
        };
        table
            .into_iter()
            .flat_map(KeyedTable::iter)
            .chain(list.into_iter().flat_map(|l| l.iter().map(|(k, c)| (*k, c))))
    }

    /// Calls `f` with every row (cheaper than [`Entries::iter`] for a large bin).
    pub fn for_each(&self, mut f: impl FnMut(&FlowFields, &Counters)) {
        match &self.0 {
            Store::Table(t) => t.for_each(f),
            Store::List(l) => l.iter().for_each(|(k, c)| f(k, c)),
        }
    }

    /// Appends a row (turning a table into a list first).
    pub fn push(&mut self, row: (FlowFields, Counters)) {
        if let Store::Table(_) = self.0 {
            self.0 = Store::List(self.to_vec());
        }
        if let Store::List(l) = &mut self.0 {
            l.push(row);
        }
    }

    /// The rows as owned pairs.
    pub fn to_vec(&self) -> Vec<(FlowFields, Counters)> {
        self.iter().map(|(k, c)| (k, *c)).collect()
    }
}

impl From<KeyedTable> for Entries {
    fn from(t: KeyedTable) -> Self {
        Entries(Store::Table(t))
    }
}

impl From<Vec<(FlowFields, Counters)>> for Entries {
    fn from(v: Vec<(FlowFields, Counters)>) -> Self {
        Entries(Store::List(v))
    }
}

/// Equal when both hold the same rows, whatever their order and storage.
impl PartialEq for Entries {
    fn eq(&self, other: &Self) -> bool {
        fn rows(e: &Entries) -> HashMap<FlowFields, Vec<Counters>> {
            let mut m: HashMap<FlowFields, Vec<Counters>> = HashMap::new();
            for (k, c) in e.iter() {
                m.entry(k).or_default().push(*c);
            }
            m
        }
        self.len() == other.len() && rows(self) == rows(other)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::aggregate::PrimitiveSet;

    #[test]
    fn a_table_reads_like_the_list_of_its_rows() {
        let set = PrimitiveSet::parse("src_port,dst_port,proto").unwrap();
        let mut t = KeyedTable::new(set);
        let mut list = Vec::new();
        for p in 0..50u16 {
            let k = FlowFields { src_port: p, dst_port: 80, proto: 6, ..FlowFields::default() };
            let c = Counters { packets: u64::from(p) + 1, ..Counters::default() };
            t.merge(&k, &c);
            list.push((k, c));
        }
        list.reverse();
        let (from_table, from_list) = (Entries::from(t), Entries::from(list.clone()));
        assert_eq!(from_table.len(), 50);
        assert_eq!(from_table, from_list);
        let mut visited = Vec::new();
        from_table.for_each(|k, c| visited.push((*k, *c)));
        assert_eq!(Entries::from(visited.clone()), from_list);
        assert_eq!(visited, from_table.to_vec(), "for_each and iter agree, in order");
        let mut pushed = from_table.clone();
        pushed.push(list[0]);
        assert_eq!(pushed.len(), 51);
        assert_ne!(pushed, from_list);
        assert_eq!(pushed.iter().filter(|(k, _)| *k == list[0].0).count(), 2);
    }
}
