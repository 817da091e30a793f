//! The pmacct-rs XDP programs.
//!
//! * `pmacct_xdp` parses every packet, samples 1:N, and pre-aggregates the sampled ones per CPU
//!   into `FLOWS_<CONTROL[ACTIVE_MAP]>` (see `pmacct_common` for the contract with the loader).
//! * `pmacct_xdp_bare` returns `XDP_PASS`: the benchmark's baseline for the fixed cost of a run.
//! * `pmacct_bench_update` does one bare `PERCPU_HASH` update per run into `BENCH_FLOWS`: the
//!   benchmark's baseline for the map cost.
//!
//! Configuration comes from read-only globals the loader overrides (`CONFIG`, and the bench-only
//! `BENCH_SPREAD`). They live in `.rodata`, which the loader freezes, so the verifier sees them
//! as constants and removes the branches they make dead: the field mask, the sampling test with
//! `sampling_rate == 1` and the bench-only spreading cost nothing at run time.
#![no_std]
#![no_main]

use core::ptr::{addr_of, read_volatile};

use aya_ebpf::bindings::xdp_action::{XDP_DROP, XDP_PASS};
use aya_ebpf::helpers::{bpf_get_prandom_u32, bpf_ktime_get_coarse_ns};
use aya_ebpf::macros::{map, xdp};
use aya_ebpf::maps::{Array, PerCpuArray, PerCpuHashMap};
use aya_ebpf::programs::XdpContext;
use pmacct_common::{FlowCounters, FlowKey, ProgramConfig, action, control, field, stats};
use pmacct_ebpf::parse::{Packet, ParseError, parse};

/// `BPF_NOEXIST`: insert only if the key is absent.
const BPF_NOEXIST: u64 = 1;
/// `BPF_ANY`: insert or replace.
const BPF_ANY: u64 = 0;
/// `EEXIST`, returned negated by an insert that lost a race.
const EEXIST: i32 = 17;

/// Loader-set configuration (`EbpfLoader::override_global(names::CONFIG, ..)`).
#[unsafe(no_mangle)]
static CONFIG: ProgramConfig = ProgramConfig::new(field::ALL, 1, action::PASS);

/// Bench-only: when non-zero, the key's ports are XORed with `SEEN % BENCH_SPREAD` so that
/// repeated test runs of one packet hit `BENCH_SPREAD` distinct keys. Always 0 in production
/// (then the verifier removes the code, it is a constant in frozen `.rodata`).
#[unsafe(no_mangle)]
#[unsafe(link_section = ".rodata")]
static BENCH_SPREAD: u32 = 0;

/// Pre-aggregation map written while `CONTROL[ACTIVE_MAP] == 0`. Sized by the loader.
#[map]
static FLOWS_0: PerCpuHashMap<FlowKey, FlowCounters> = PerCpuHashMap::with_max_entries(1024, 0);

/// Pre-aggregation map written while `CONTROL[ACTIVE_MAP] == 1`. Sized by the loader.
#[map]
static FLOWS_1: PerCpuHashMap<FlowKey, FlowCounters> = PerCpuHashMap::with_max_entries(1024, 0);

/// `CONTROL[ACTIVE_MAP]` selects the flow map; written by userspace.
#[map]
static CONTROL: Array<u32> = Array::with_max_entries(control::LEN, 0);

/// Per-CPU program counters, indexed by `pmacct_common::stats`.
#[map]
static STATS: PerCpuArray<u64> = PerCpuArray::with_max_entries(stats::COUNT, 0);

/// Bench-only target of `pmacct_bench_update` (tiny unless the benchmark sizes it).
#[map]
static BENCH_FLOWS: PerCpuHashMap<FlowKey, FlowCounters> = PerCpuHashMap::with_max_entries(1, 0);

/// Reads a loader-set global without letting the compiler fold its initial value.
macro_rules! global {
    ($e:expr) => {
        // SAFETY: a plain integer inside a static; volatile keeps the load in the program.
        unsafe { read_volatile(addr_of!($e)) }
    };
}

/// Adds one to per-CPU counter `idx`, returning the new value (0 if the slot is missing).
#[inline(always)]
fn bump(idx: u32) -> u64 {
    match STATS.get_ptr_mut(idx) {
        // SAFETY: per-CPU slot, only this CPU's program runs touch it (no preemption in XDP).
        Some(p) => unsafe {
            *p += 1;
            *p
        },
        None => 0,
    }
}

/// The pre-aggregating program.
#[xdp]
pub fn pmacct_xdp(ctx: XdpContext) -> u32 {
    let verdict = if global!(CONFIG.action) == action::DROP { XDP_DROP } else { XDP_PASS };
    let seen = bump(stats::SEEN);
    let headers = match parse(ctx.data(), ctx.data_end()) {
        Ok(h) => h,
        Err(ParseError::NonIp) => {
            bump(stats::NON_IP);
            return verdict;
        }
        Err(ParseError::Truncated) => {
            bump(stats::TRUNCATED);
            return verdict;
        }
    };
    // Sampled out: only the bounds checks above were paid for.
    if global!(CONFIG.sampling_rate) > 1
        // SAFETY: a helper without arguments.
        && unsafe { bpf_get_prandom_u32() } >= global!(CONFIG.sample_threshold)
    {
        return verdict;
    }
    bump(stats::SAMPLED);
    let mut pkt = headers.packet(global!(CONFIG.field_mask), ctx.ingress_ifindex() as u32);
    let spread = global!(BENCH_SPREAD);
    if spread != 0 {
        let n = seen % u64::from(spread);
        pkt.key.src_port ^= n as u16;
        pkt.key.dst_port ^= (n >> 16) as u16;
    }
    let active = CONTROL.get(control::ACTIVE_MAP).map_or(0, |v| global!(*v));
    if active == 0 {
        account(&FLOWS_0, &pkt);
    } else {
        account(&FLOWS_1, &pkt);
    }
    verdict
}

/// Adds `pkt` to its flow in `map` (this CPU's slot), inserting the flow if it is new.
#[inline(always)]
fn account(map: &PerCpuHashMap<FlowKey, FlowCounters>, pkt: &Packet) {
    // CLOCK_MONOTONIC_COARSE: the same timeline as `bpf_ktime_get_ns()` (userspace converts it
    // with CLOCK_MONOTONIC), lagging it by at most one tick, and a plain memory read instead of a
    // clocksource read; in this VM `bpf_ktime_get_ns()` alone cost ~70 ns per packet.
    // SAFETY: a helper without arguments.
    let now = unsafe { bpf_ktime_get_coarse_ns() };
    if let Some(v) = map.get_ptr_mut(&pkt.key) {
        add(v, pkt, now);
        return;
    }
    let init = FlowCounters {
        packets: 1,
        bytes: pkt.bytes,
        first_seen_ns: now,
        last_seen_ns: now,
        tcp_flags: pkt.tcp_flags,
        _pad: [0; 7],
    };
    match map.insert(&pkt.key, &init, BPF_NOEXIST) {
        Ok(()) => {}
        // Another CPU inserted it meanwhile: our slot exists now (zeroed).
        Err(e) if e == -EEXIST => match map.get_ptr_mut(&pkt.key) {
            Some(v) => add(v, pkt, now),
            None => {
                bump(stats::MAP_FULL);
            }
        },
        Err(_) => {
            bump(stats::MAP_FULL);
        }
    }
}

/// Adds one packet to this CPU's counters of a flow.
#[inline(always)]
fn add(v: *mut FlowCounters, pkt: &Packet, now: u64) {
    // SAFETY: `v` is this CPU's value of a live element; XDP runs are not preempted on a CPU,
    // so nothing else writes it concurrently.
    unsafe {
        let c = &mut *v;
        if c.packets == 0 {
            // First packet on this CPU of a flow another CPU inserted.
            c.first_seen_ns = now;
        }
        c.packets += 1;
        c.bytes += pkt.bytes;
        c.last_seen_ns = now;
        c.tcp_flags |= pkt.tcp_flags;
    }
}

/// Baseline: the cost of an XDP run that does nothing.
#[xdp]
pub fn pmacct_xdp_bare(_ctx: XdpContext) -> u32 {
    XDP_PASS
}

/// Baseline: one bare `PERCPU_HASH` update per run, its key spread like `pmacct_xdp`'s over
/// `BENCH_SPREAD` distinct keys.
#[xdp]
pub fn pmacct_bench_update(_ctx: XdpContext) -> u32 {
    let seen = bump(stats::SEEN);
    let spread = global!(BENCH_SPREAD);
    let n = if spread != 0 { seen % u64::from(spread) } else { 0 };
    let key = FlowKey {
        src_port: n as u16,
        dst_port: (n >> 16) as u16,
        family: 4,
        proto: 6,
        ..FlowKey::default()
    };
    let value = FlowCounters { packets: 1, bytes: 40, ..FlowCounters::default() };
    if BENCH_FLOWS.insert(&key, &value, BPF_ANY).is_err() {
        bump(stats::MAP_FULL);
    }
    XDP_PASS
}

#[cfg(not(test))]
#[panic_handler]
fn panic(_info: &core::panic::PanicInfo) -> ! {
    // SAFETY: the verifier rejects any program in which a panic path survives optimisation.
    unsafe { core::hint::unreachable_unchecked() }
}
