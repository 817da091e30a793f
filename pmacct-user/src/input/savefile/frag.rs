//! pmacctd's fragment joining (`ip_frag.c`), used when port primitives are aggregated: later
//! fragments inherit the ports of the first fragment; fragments seen before the first are held
//! and their packets and bytes are added to the first one; fragments whose first never comes are
//! dropped after [`FRAG_TIMEOUT_US`].

use std::collections::HashMap;
use std::net::IpAddr;

use crate::decode::packet::Packet;

/// pmacct's `IPF_TIMEOUT`, 60 s.
pub const FRAG_TIMEOUT_US: u64 = 60_000_000;
const IPPROTO_TCP: u8 = 6;
const IPPROTO_UDP: u8 = 17;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
struct Key {
    src: IpAddr,
    dst: IpAddr,
    proto: u8,
    id: u32,
}

#[derive(Clone, Copy, Debug, Default)]
struct Entry {
    deadline_us: u64,
    ports: Option<(u16, u16)>,
    pending_packets: u64,
    pending_bytes: u64,
}

/// Outcome of [`FragmentTable::process`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FragOutcome {
    /// Account the packet (possibly with ports filled and held fragments added).
    Account,
    /// Held until its first fragment arrives (pmacct does not account it now).
    Held,
}

/// Fragments in flight, keyed like pmacct (src, dst, protocol, id).
#[derive(Debug, Default)]
pub struct FragmentTable {
    map: HashMap<Key, Entry>,
    /// Held fragments dropped because their first fragment never came.
    pub orphans: u64,
}

impl FragmentTable {
    /// Applies pmacct's fragment logic to a TCP/UDP fragment; other packets pass unchanged.
    pub fn process(&mut self, pkt: &mut Packet, now_us: u64) -> FragOutcome {
        let Some(frag) = pkt.fragment else { return FragOutcome::Account };
        let f = &mut pkt.record.fields;
        if f.proto != IPPROTO_TCP && f.proto != IPPROTO_UDP {
            return FragOutcome::Account;
        }
        if self.map.len() > 4096 {
            self.prune(now_us);
        }
        let key = Key { src: f.src_ip, dst: f.dst_ip, proto: f.proto, id: frag.id };
        let fresh =
            Entry { deadline_us: now_us.saturating_add(FRAG_TIMEOUT_US), ..Entry::default() };
        let e = self.map.entry(key).or_insert(fresh);
        if e.deadline_us <= now_us {
            if e.ports.is_none() {
                self.orphans += e.pending_packets;
            }
            *e = fresh;
        }
        if let Some((sp, dp)) = e.ports {
            f.src_port = sp;
            f.dst_port = dp;
            return FragOutcome::Account;
        }
        if frag.is_first() {
            e.ports = Some((f.src_port, f.dst_port));
            pkt.record.counters.packets += e.pending_packets;
            pkt.record.counters.bytes += e.pending_bytes;
            e.pending_packets = 0;
            e.pending_bytes = 0;
            return FragOutcome::Account;
        }
        e.pending_packets += 1;
        e.pending_bytes += pkt.record.counters.bytes;
        FragOutcome::Held
    }

    /// Drops expired entries, counting held fragments as orphans.
    pub fn prune(&mut self, now_us: u64) {
        let mut orphans = 0;
        self.map.retain(|_, e| {
            let keep = e.deadline_us > now_us;
            if !keep && e.ports.is_none() {
                orphans += e.pending_packets;
            }
            keep
        });
        self.orphans += orphans;
    }

    /// Held fragments still waiting for their first fragment.
    pub fn pending(&self) -> u64 {
        self.map.values().filter(|e| e.ports.is_none()).map(|e| e.pending_packets).sum()
    }
}
