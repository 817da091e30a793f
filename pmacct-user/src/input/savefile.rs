//! pmacctd-style accounting of a capture file (`pcap_savefile`): read the capture, parse every
//! packet with [`crate::decode::packet`], join fragments and sample 1:N as pmacctd does, and hand
//! each accounted packet to a callback as a [`FlowRecord`].
//!
//! Packets pmacctd would not account (non-IP, truncated network headers, unknown link types) are
//! counted in [`SavefileStats`] and not emitted.

mod frag;
mod sampler;
#[cfg(test)]
mod tests;

use std::io::Read;
use std::path::{Path, PathBuf};

pub use frag::{FRAG_TIMEOUT_US, FragOutcome, FragmentTable};
pub use sampler::{Sampler, SamplingMethod};

use crate::config::SavefileConfig;
use crate::decode::packet::{DecodeError, DecodeOptions, parse_with};
use crate::input::pcap::{CaptureReader, PcapError};
use crate::record::FlowRecord;

/// How to account a capture.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SavefileOptions {
    /// Play the file this many times (pmacct `pcap_savefile_replay`); 0 is treated as 1.
    pub replay: u32,
    /// 1:N sampling (pmacct `sampling_rate`); 0 or 1 disables it.
    pub sampling_rate: u32,
    /// How samples are drawn; pmacctd uses [`SamplingMethod::Random`].
    pub sampling: SamplingMethod,
    /// Multiply sampled packets and bytes by the rate. pmacctd does not (it leaves that to
    /// `sql_preprocess` `usrf`); sfacctd/nfacctd's `*_renormalize` do the equivalent.
    pub renormalize: bool,
    /// Join IP fragments to their first fragment (pmacctd does when a port primitive is
    /// aggregated, or with `pmacctd_force_frag_handling`).
    pub join_fragments: bool,
    /// Drop TCP/UDP packets whose captured L4 header is too short for ports (pmacctd does when
    /// port primitives are aggregated: "Snaplen issue?").
    pub drop_l4_truncated: bool,
    /// Parser switches.
    pub decode: DecodeOptions,
    /// `aggregate_primitives` read from packets (`packet_ptr`); `None`: none.
    pub custom: Option<std::sync::Arc<Vec<crate::aggregate::custom::CustomPrimitive>>>,
    /// pmacctd's `handle_fragments`, on when a plugin aggregates ports, `tcpflags`, `flows` or
    /// `class`: only then does it find the payload of TCP and UDP packets (and of any other IP
    /// packet), so `packet_ptr=payload` primitives read nothing without it.
    pub payload_ptrs: bool,
}

impl Default for SavefileOptions {
    fn default() -> Self {
        Self {
            replay: 1,
            sampling_rate: 1,
            sampling: SamplingMethod::Random { seed: 0x706D_6163_6374 },
            renormalize: false,
            join_fragments: true,
            drop_l4_truncated: false,
            decode: DecodeOptions::default(),
            custom: None,
            payload_ptrs: true,
        }
    }
}

impl SavefileOptions {
    /// Options from the `[savefile]` config section; the rest keeps its defaults.
    pub fn from_config(cfg: &SavefileConfig) -> Self {
        // The plugins, built before the inputs, installed the custom primitives they use.
        let custom = Some(crate::aggregate::custom::defined())
            .filter(|d| d.iter().any(|p| !p.packet_ptrs.is_empty()));
        Self { replay: cfg.replay, sampling_rate: cfg.sampling_rate, custom, ..Self::default() }
    }
}

/// What happened to the packets of a run (summed over replays).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct SavefileStats {
    /// Packets read from the capture.
    pub packets_read: u64,
    /// Packets parsed as IP (before fragment holding and sampling).
    pub parsed: u64,
    /// Non-IP frames (ARP, LLDP, ...), not accounted.
    pub non_ip: u64,
    /// Frames cut before the network header ends (plus TCP/UDP without ports when
    /// [`SavefileOptions::drop_l4_truncated`]), not accounted.
    pub truncated: u64,
    /// Malformed IP headers, jumbograms, unsupported link types; not accounted.
    pub malformed: u64,
    /// Fragments held for a first fragment that had not arrived (added to it later if it does).
    pub fragments_held: u64,
    /// Accounted packets the sampler skipped.
    pub sampled_out: u64,
    /// Records handed to the callback.
    pub emitted: u64,
}

/// Why a run stopped.
#[derive(Debug, thiserror::Error)]
pub enum SavefileError {
    #[error("{path}: {source}")]
    Pcap {
        path: PathBuf,
        #[source]
        source: PcapError,
    },
}

/// Accounting state that survives replays: sampler and fragment table.
#[derive(Debug)]
pub struct Accountant {
    opts: SavefileOptions,
    sampler: Sampler,
    frags: FragmentTable,
    stats: SavefileStats,
}

impl Accountant {
    pub fn new(opts: SavefileOptions) -> Self {
        Self {
            sampler: Sampler::new(opts.sampling_rate, opts.sampling),
            opts,
            frags: FragmentTable::default(),
            stats: SavefileStats::default(),
        }
    }

    /// Statistics so far.
    pub fn stats(&self) -> SavefileStats {
        self.stats
    }

    /// Accounts one captured frame, calling `emit` if pmacctd would account it.
    pub fn packet(
        &mut self,
        link: crate::decode::packet::LinkType,
        ts_us: u64,
        data: &[u8],
        emit: &mut impl FnMut(&FlowRecord),
    ) {
        self.stats.packets_read += 1;
        let mut pkt = match parse_with(link, data, &self.opts.decode) {
            Ok(p) => p,
            Err(DecodeError::NotIp { .. }) => return self.stats.non_ip += 1,
            Err(DecodeError::Truncated { .. }) => return self.stats.truncated += 1,
            Err(_) => return self.stats.malformed += 1,
        };
        self.stats.parsed += 1;
        if pkt.l4_truncated
            && self.opts.drop_l4_truncated
            && matches!(pkt.record.fields.proto, 6 | 17)
        {
            self.stats.truncated += 1;
            return;
        }
        if self.opts.join_fragments && self.frags.process(&mut pkt, ts_us) == FragOutcome::Held {
            self.stats.fragments_held += 1;
            return;
        }
        let c = &mut pkt.record.counters;
        let Some((packets, bytes)) = self.sampler.evaluate(c.packets, c.bytes) else {
            self.stats.sampled_out += 1;
            return;
        };
        c.packets = packets;
        c.bytes = bytes;
        c.first_us = ts_us;
        c.last_us = ts_us;
        if let Some(defs) = &self.opts.custom {
            let f = &pkt.record.fields;
            let l4 = pkt.l4_offset.map(|o| (o, f.proto));
            let mut layers = crate::aggregate::custom::Layers::ethernet(
                data,
                Some((pkt.l3_offset, f.etype)),
                l4,
            );
            if !self.opts.payload_ptrs {
                layers.payload = None;
            }
            if link != crate::decode::packet::LinkType::ETHERNET {
                // No Ethernet header: no VLAN tag or MPLS label where eth_handler looks.
                (layers.vlan, layers.mpls) = (None, None);
            }
            pkt.record.fields.custom = crate::aggregate::custom::from_packet(defs, data, &layers);
        }
        let f = &mut pkt.record.fields;
        f.sampling_rate = 1;
        if self.sampler.is_active() {
            if self.opts.renormalize {
                c.renormalize(self.opts.sampling_rate);
            } else {
                f.sampling_rate = self.opts.sampling_rate;
            }
        }
        self.stats.emitted += 1;
        emit(&pkt.record);
    }

    /// Accounts every packet of `reader`.
    pub fn run<R: Read>(
        &mut self,
        reader: &mut CaptureReader<R>,
        emit: &mut impl FnMut(&FlowRecord),
    ) -> Result<(), PcapError> {
        while let Some(p) = reader.next_packet()? {
            self.packet(p.link_type, p.ts_us, p.data, emit);
        }
        Ok(())
    }
}

/// Accounts the capture at `path` (`opts.replay` times), calling `emit` for every accounted
/// packet, and returns the statistics.
pub fn account_file(
    path: &Path,
    opts: &SavefileOptions,
    mut emit: impl FnMut(&FlowRecord),
) -> Result<SavefileStats, SavefileError> {
    let err = |source| SavefileError::Pcap { path: path.to_path_buf(), source };
    let mut acc = Accountant::new(opts.clone());
    for _ in 0..opts.replay.max(1) {
        let mut reader = CaptureReader::open(path).map_err(err)?;
        acc.run(&mut reader, &mut emit).map_err(err)?;
    }
    Ok(acc.stats())
}
