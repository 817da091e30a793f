//! Types shared by the XDP program (`pmacct-ebpf`) and the userspace daemon (`pmacct-user`).
//!
//! Everything here is `#[repr(C)]`, has explicit padding (so a key built on the BPF stack is fully
//! initialised and hashes the same in the kernel and in userspace) and is `no_std`.
//! Userspace-only trait impls (aya's `Pod`) sit behind the `user` feature.
#![no_std]

/// Names of the maps and globals in the XDP object. Userspace looks them up by these names.
pub mod names {
    /// First of the two pre-aggregation maps (`PERCPU_HASH<FlowKey, FlowCounters>`).
    pub const FLOWS_0: &str = "FLOWS_0";
    /// Second of the two pre-aggregation maps.
    pub const FLOWS_1: &str = "FLOWS_1";
    /// `ARRAY<u32>` of length [`super::control::LEN`]: index of the active flow map and friends.
    pub const CONTROL: &str = "CONTROL";
    /// `PERCPU_ARRAY<u64>` of length [`super::stats::COUNT`].
    pub const STATS: &str = "STATS";
    /// Loader-set global: [`super::ProgramConfig`].
    pub const CONFIG: &str = "CONFIG";
    /// The XDP program's function name.
    pub const PROGRAM: &str = "pmacct_xdp";
    /// A bare `XDP_PASS` program in the same object, used as the benchmark baseline.
    pub const PROGRAM_BARE: &str = "pmacct_xdp_bare";
}

/// Indexes into the `CONTROL` array.
pub mod control {
    /// Which flow map (0 or 1) the program writes into. Userspace flips it to drain the other.
    pub const ACTIVE_MAP: u32 = 0;
    /// Number of entries in `CONTROL`.
    pub const LEN: u32 = 1;
}

/// Indexes into the per-CPU `STATS` array.
pub mod stats {
    /// Every packet the program saw.
    pub const SEEN: u32 = 0;
    /// Packets selected by 1:N sampling (and therefore looked up in the flow map).
    pub const SAMPLED: u32 = 1;
    /// Packets that were not IPv4/IPv6 (after VLAN tags).
    pub const NON_IP: u32 = 2;
    /// Packets too short for the headers they announce, or otherwise unparsable.
    pub const TRUNCATED: u32 = 3;
    /// Flow map insert failures (map full).
    pub const MAP_FULL: u32 = 4;
    /// Number of counters.
    pub const COUNT: u32 = 5;
    /// Counter names, in index order, as exported in metrics.
    pub const NAMES: [&str; COUNT as usize] =
        ["seen", "sampled", "non_ip", "truncated", "map_update_failed"];
}

/// Bits of [`ProgramConfig::field_mask`]: which key fields the XDP program fills.
/// Fields no plugin needs stay zero so that flows collapse and the map stays small.
pub mod field {
    pub const SRC_ADDR: u32 = 1 << 0;
    pub const DST_ADDR: u32 = 1 << 1;
    pub const SRC_PORT: u32 = 1 << 2;
    pub const DST_PORT: u32 = 1 << 3;
    pub const PROTO: u32 = 1 << 4;
    pub const TOS: u32 = 1 << 5;
    pub const VLAN: u32 = 1 << 6;
    pub const SRC_MAC: u32 = 1 << 7;
    pub const DST_MAC: u32 = 1 << 8;
    pub const IFINDEX: u32 = 1 << 9;
    pub const ETYPE: u32 = 1 << 10;
    pub const ALL: u32 = (1 << 11) - 1;
}

/// What to do with a packet after it was counted.
pub mod action {
    /// Mirror port: count, then drop.
    pub const DROP: u32 = 1;
    /// Inline: count, then let the packet through.
    pub const PASS: u32 = 2;
}

/// Aggregation key built by the XDP program. Addresses are 16 bytes; an IPv4 address sits in the
/// first four bytes with `family == 4`. `family == 0` means "not IP" (never stored) or "address
/// fields masked out".
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct FlowKey {
    pub src_addr: [u8; 16],
    pub dst_addr: [u8; 16],
    pub src_mac: [u8; 6],
    pub dst_mac: [u8; 6],
    /// Innermost-first: the outer (S-)tag's VLAN id for 802.1ad, else the 802.1Q id, else 0.
    pub vlan: u16,
    /// Host byte order.
    pub src_port: u16,
    /// Host byte order. For ICMP/ICMPv6 pmacct puts type/code nowhere: ports stay 0.
    pub dst_port: u16,
    /// Ethertype of the L3 payload, host byte order (0x0800 / 0x86dd).
    pub etype: u16,
    /// Ingress ifindex (`ctx->ingress_ifindex`).
    pub ifindex: u32,
    /// 4, 6 or 0.
    pub family: u8,
    pub proto: u8,
    pub tos: u8,
    pub _pad: u8,
}

/// Per-CPU counters for one [`FlowKey`].
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct FlowCounters {
    pub packets: u64,
    /// Bytes as pmacctd counts them: IPv4 total length, IPv6 payload length + 40.
    pub bytes: u64,
    /// CLOCK_MONOTONIC ns of the first sampled packet (`bpf_ktime_get_coarse_ns()`: same
    /// timeline as `bpf_ktime_get_ns()`, at most one tick behind, far cheaper).
    pub first_seen_ns: u64,
    /// CLOCK_MONOTONIC ns (coarse) of the last sampled packet.
    pub last_seen_ns: u64,
    /// OR of the TCP flags seen.
    pub tcp_flags: u8,
    pub _pad: [u8; 7],
}

/// Loader-set configuration, a global in the object's `.rodata`/`.data`.
#[repr(C)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ProgramConfig {
    /// Bits from [`field`].
    pub field_mask: u32,
    /// 1:N sampling rate, N ≥ 1.
    pub sampling_rate: u32,
    /// A packet is sampled when `bpf_get_prandom_u32() < sample_threshold` (ignored when
    /// `sampling_rate == 1`). See [`ProgramConfig::new`].
    pub sample_threshold: u32,
    /// One of [`action`].
    pub action: u32,
}

impl ProgramConfig {
    /// A config for the given mask, 1:N rate (0 is treated as 1) and action.
    pub const fn new(field_mask: u32, sampling_rate: u32, action: u32) -> Self {
        let n = if sampling_rate == 0 { 1 } else { sampling_rate };
        // P(prandom < t) = t / 2^32 = 1/N.
        let sample_threshold = ((1u64 << 32) / n as u64) as u32;
        Self { field_mask, sampling_rate: n, sample_threshold, action }
    }
}

impl Default for ProgramConfig {
    fn default() -> Self {
        Self::new(field::ALL, 1, action::PASS)
    }
}

#[cfg(feature = "user")]
mod pod {
    // SAFETY: repr(C), no implicit padding (checked by the size asserts below), all fields
    // plain integers or byte arrays, every bit pattern valid.
    unsafe impl aya::Pod for super::FlowKey {}
    unsafe impl aya::Pod for super::FlowCounters {}
    unsafe impl aya::Pod for super::ProgramConfig {}
}

// No implicit padding anywhere: the kernel hashes every byte of a key.
const _: () = assert!(core::mem::size_of::<FlowKey>() == 16 + 16 + 6 + 6 + 2 * 4 + 4 + 4);
const _: () = assert!(core::mem::size_of::<FlowCounters>() == 40);
const _: () = assert!(core::mem::size_of::<ProgramConfig>() == 16);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn threshold_matches_rate() {
        assert_eq!(ProgramConfig::new(0, 1, action::PASS).sample_threshold, 0); // 2^32 wraps; rate 1 bypasses it
        assert_eq!(ProgramConfig::new(0, 0, action::PASS).sampling_rate, 1);
        assert_eq!(ProgramConfig::new(0, 2, action::PASS).sample_threshold, 1 << 31);
        let t = ProgramConfig::new(0, 100, action::PASS).sample_threshold as f64;
        assert!((t / 4294967296.0 - 0.01).abs() < 1e-9);
    }
}
