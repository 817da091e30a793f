//! Per-agent decoder statistics and datagram sequence tracking.

use std::net::IpAddr;

use rustc_hash::FxHashMap;

/// Counters of one (agent, sub-agent).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct AgentStats {
    /// Agent address from the datagrams (unspecified for [`SflowStats::untracked`]).
    pub agent: Option<IpAddr>,
    pub sub_agent: u32,
    pub datagrams: u64,
    pub flow_samples: u64,
    pub counter_samples: u64,
    /// Datagrams missing from the sequence (forward jumps; the sum of the gaps).
    pub lost_datagrams: u64,
    /// Sequence went backwards (agent restart or reordering).
    pub sequence_resets: u64,
    /// Datagrams with at least one malformed or truncated part.
    pub malformed_datagrams: u64,
    /// Samples dropped as malformed.
    pub malformed_samples: u64,
    /// Samples of an unknown type, skipped by length.
    pub unknown_samples: u64,
    /// Flow/counter records of an unknown type, skipped by length.
    pub unknown_records: u64,
    /// Last datagram sequence number seen.
    pub last_sequence: u32,
}

/// Decoder statistics.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SflowStats {
    /// One entry per (agent, sub-agent), in order of first appearance.
    pub agents: Vec<AgentStats>,
    /// Agents beyond [`super::SflowOptions::max_agents`], summed.
    pub untracked: AgentStats,
    /// Datagrams rejected before the agent was known (bad version, truncated header).
    pub malformed_unparsed: u64,
}

impl SflowStats {
    /// Sum over all agents (and the untracked ones).
    pub fn total(&self) -> AgentStats {
        let mut t = self.untracked;
        t.agent = None;
        for a in &self.agents {
            t.datagrams += a.datagrams;
            t.flow_samples += a.flow_samples;
            t.counter_samples += a.counter_samples;
            t.lost_datagrams += a.lost_datagrams;
            t.sequence_resets += a.sequence_resets;
            t.malformed_datagrams += a.malformed_datagrams;
            t.malformed_samples += a.malformed_samples;
            t.unknown_samples += a.unknown_samples;
            t.unknown_records += a.unknown_records;
        }
        t.malformed_datagrams += self.malformed_unparsed;
        t
    }
}

/// What one datagram added.
#[derive(Clone, Copy, Debug, Default)]
pub(super) struct Tally {
    pub flow_samples: u64,
    pub counter_samples: u64,
    pub malformed_datagrams: u64,
    pub malformed_samples: u64,
    pub unknown_samples: u64,
    pub unknown_records: u64,
}

/// Where a datagram's statistics go.
#[derive(Clone, Copy, Debug)]
pub(super) enum Slot {
    Tracked(usize),
    Untracked,
}

/// The agents table.
#[derive(Debug)]
pub(super) struct Agents {
    index: FxHashMap<(IpAddr, u32), usize>,
    list: Vec<AgentStats>,
    untracked: AgentStats,
    max: usize,
    pub malformed_unparsed: u64,
}

impl Agents {
    pub(super) fn new(max: usize) -> Self {
        Agents {
            index: FxHashMap::default(),
            list: Vec::new(),
            untracked: AgentStats::default(),
            max,
            malformed_unparsed: 0,
        }
    }

    /// Accounts a datagram header: sequence check (as pmacct's `update_status_table`: the first
    /// datagram is good; then `seq` should be the last + 1).
    pub(super) fn datagram(&mut self, agent: IpAddr, sub_agent: u32, seq: u32) -> Slot {
        let slot = match self.index.get(&(agent, sub_agent)) {
            Some(&i) => Slot::Tracked(i),
            None if self.list.len() < self.max => {
                self.index.insert((agent, sub_agent), self.list.len());
                self.list.push(AgentStats { agent: Some(agent), sub_agent, ..Default::default() });
                Slot::Tracked(self.list.len() - 1)
            }
            None => Slot::Untracked,
        };
        let tracked = matches!(slot, Slot::Tracked(_));
        let a = self.get(slot);
        if tracked && a.datagrams > 0 {
            let expected = a.last_sequence.wrapping_add(1);
            let gap = seq.wrapping_sub(expected);
            if gap != 0 {
                if gap < 0x8000_0000 {
                    a.lost_datagrams += u64::from(gap);
                } else {
                    a.sequence_resets += 1;
                }
            }
        }
        a.datagrams += 1;
        a.last_sequence = seq;
        slot
    }

    fn get(&mut self, slot: Slot) -> &mut AgentStats {
        match slot {
            Slot::Tracked(i) => match self.list.get_mut(i) {
                Some(a) => a,
                None => &mut self.untracked,
            },
            Slot::Untracked => &mut self.untracked,
        }
    }

    /// Adds one datagram's sample counts.
    pub(super) fn add(&mut self, slot: Slot, t: &Tally) {
        let a = self.get(slot);
        a.flow_samples += t.flow_samples;
        a.counter_samples += t.counter_samples;
        a.malformed_datagrams += t.malformed_datagrams;
        a.malformed_samples += t.malformed_samples;
        a.unknown_samples += t.unknown_samples;
        a.unknown_records += t.unknown_records;
    }

    pub(super) fn snapshot(&self) -> SflowStats {
        SflowStats {
            agents: self.list.clone(),
            untracked: self.untracked,
            malformed_unparsed: self.malformed_unparsed,
        }
    }
}
