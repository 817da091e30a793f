//! Loads the XDP program, attaches it to an interface, and drains its pre-aggregation maps.
//!
//! One [`XdpDatapath`] per interface: each has its own maps and its own [`ProgramConfig`]
//! (sampling rate, action), so counters are renormalised per interface.
//!
//! ## Draining loses no increment
//! The program writes into `FLOWS_<CONTROL[ACTIVE_MAP]>`. [`XdpDatapath::drain`] flips the
//! index, then waits for an RCU grace period (`membarrier(MEMBARRIER_CMD_GLOBAL)` runs
//! `synchronize_rcu()` in the kernel; XDP programs run inside an RCU read-side section), so every
//! program run that read the old index has finished. Only then is the idle map read and cleared:
//! nothing can write into it any more.

mod batch;

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::time::{Duration, Instant};

use aya::maps::{Array, MapData, PerCpuArray, PerCpuHashMap};
use aya::programs::{Xdp, XdpMode};
use aya::{Ebpf, EbpfLoader};
use pmacct_common::{FlowCounters, FlowKey, ProgramConfig, action, control, field, names, stats};
use tracing::{debug, info, warn};

use crate::aggregate::{Primitive, PrimitiveSet};
use crate::config::{AttachMode, XdpAction};
use crate::record::{Counters, FlowFields, FlowRecord};

/// Errors of the XDP data path.
#[derive(Debug, thiserror::Error)]
pub enum XdpError {
    #[error("loading the XDP object: {0}")]
    Load(#[from] aya::EbpfError),
    #[error("XDP program '{name}': {source}")]
    Program { name: &'static str, source: aya::programs::ProgramError },
    #[error("map '{name}': {source}")]
    Map { name: &'static str, source: aya::maps::MapError },
    #[error("map or program '{0}' missing from the XDP object")]
    Missing(&'static str),
    #[error("attaching XDP to '{iface}' in {mode} mode: {source}")]
    Attach { iface: String, mode: &'static str, source: aya::programs::ProgramError },
    #[error("interface name '{0}' contains a NUL byte")]
    BadName(String),
}

/// Settings for one interface's program.
#[derive(Clone, Copy, Debug)]
pub struct XdpOptions {
    /// Capacity of each of the two flow maps.
    pub max_flows: u32,
    /// Bits from [`pmacct_common::field`].
    pub field_mask: u32,
    /// 1:N, N ≥ 1.
    pub sampling_rate: u32,
    pub action: XdpAction,
}

/// The attach mode actually in use.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AttachedMode {
    Native,
    Skb,
}

impl AttachedMode {
    pub const fn as_str(self) -> &'static str {
        match self {
            AttachedMode::Native => "native",
            AttachedMode::Skb => "skb",
        }
    }
}

/// The XDP field mask that fills every field any of `set`'s primitives needs.
/// Primitives the packet path cannot provide (ASNs, tags...) need no field.
pub fn field_mask_for(set: PrimitiveSet) -> u32 {
    let mut mask = 0;
    for p in set.iter() {
        mask |= match p {
            Primitive::SrcHost => field::SRC_ADDR,
            Primitive::DstHost => field::DST_ADDR,
            Primitive::SrcPort => field::SRC_PORT,
            Primitive::DstPort => field::DST_PORT,
            Primitive::Proto => field::PROTO,
            Primitive::Tos => field::TOS,
            Primitive::Vlan | Primitive::Cos => field::VLAN,
            Primitive::SrcMac => field::SRC_MAC,
            Primitive::DstMac => field::DST_MAC,
            Primitive::InIface => field::IFINDEX,
            Primitive::Etype => field::ETYPE,
            _ => 0,
        };
    }
    mask
}

/// Converts a kernel key into record fields. The kernel parser does not look inside tunnels:
/// the `tunnel_*` fields and `vni` stay empty, so a plugin fed by XDP that aggregates on a
/// tunnel primitive or `vxlan` prints them unset.
pub fn key_to_fields(key: &FlowKey) -> FlowFields {
    let addr = |b: &[u8; 16]| match key.family {
        4 => IpAddr::V4(Ipv4Addr::new(b[0], b[1], b[2], b[3])),
        6 => IpAddr::V6(Ipv6Addr::from(*b)),
        _ => IpAddr::V4(Ipv4Addr::UNSPECIFIED),
    };
    FlowFields {
        src_mac: key.src_mac,
        dst_mac: key.dst_mac,
        vlan: key.vlan,
        etype: key.etype,
        src_ip: addr(&key.src_addr),
        dst_ip: addr(&key.dst_addr),
        src_port: key.src_port,
        dst_port: key.dst_port,
        proto: key.proto,
        tos: key.tos,
        in_iface: key.ifindex,
        ..FlowFields::default()
    }
}

/// Maps `CLOCK_MONOTONIC` nanoseconds (`bpf_ktime_get_ns`) to Unix microseconds.
#[derive(Clone, Copy, Debug)]
pub struct MonoToUnix {
    offset_ns: i128,
}

impl MonoToUnix {
    /// Samples both clocks now.
    pub fn now() -> Self {
        let read = |clock| {
            let mut ts = libc::timespec { tv_sec: 0, tv_nsec: 0 };
            // SAFETY: valid pointer to a timespec; both clocks always exist on Linux.
            unsafe { libc::clock_gettime(clock, &mut ts) };
            i128::from(ts.tv_sec) * 1_000_000_000 + i128::from(ts.tv_nsec)
        };
        let mono = read(libc::CLOCK_MONOTONIC);
        let real = read(libc::CLOCK_REALTIME);
        Self { offset_ns: real - mono }
    }

    /// Unix microseconds for a monotonic timestamp; 0 stays 0 (unknown).
    pub fn to_unix_us(self, mono_ns: u64) -> u64 {
        if mono_ns == 0 {
            return 0;
        }
        let us = (i128::from(mono_ns) + self.offset_ns) / 1000;
        u64::try_from(us).unwrap_or(0)
    }
}

/// Sums per-CPU counters into one record's counters.
pub fn sum_counters(values: &[FlowCounters], clock: MonoToUnix) -> Counters {
    let mut c = Counters::default();
    for v in values {
        c.merge(&Counters {
            packets: v.packets,
            bytes: v.bytes,
            flows: 0,
            tcp_flags: v.tcp_flags,
            first_us: clock.to_unix_us(v.first_seen_ns),
            last_us: clock.to_unix_us(v.last_seen_ns),
        });
    }
    c
}

/// What one drain produced.
#[derive(Debug, Default)]
pub struct DrainResult {
    /// Renormalised records, one per distinct key.
    pub records: Vec<FlowRecord>,
    /// Entries read from the idle map (= `records.len()`).
    pub entries: usize,
    pub duration: Duration,
}

/// The XDP program loaded and attached on one interface.
pub struct XdpDatapath {
    ebpf: Ebpf,
    iface: String,
    mode: Option<AttachedMode>,
    active: u32,
    sampling_rate: u32,
    /// Set once the kernel refused a batch drain (then per-key calls are used).
    batch_unsupported: bool,
    /// Never try batch calls (tests of the per-key path, very old kernels).
    per_key_only: bool,
}

impl XdpDatapath {
    /// Loads `object` (the built `pmacct-ebpf` ELF) with `opts`; does not attach.
    pub fn load(object: &[u8], iface: &str, opts: XdpOptions) -> Result<Self, XdpError> {
        let act = match opts.action {
            XdpAction::Drop => action::DROP,
            XdpAction::Pass => action::PASS,
        };
        let cfg = ProgramConfig::new(opts.field_mask, opts.sampling_rate, act);
        let max = opts.max_flows.max(1);
        let mut ebpf = EbpfLoader::new()
            .override_global(names::CONFIG, &cfg, true)
            .map_max_entries(names::FLOWS_0, max)
            .map_max_entries(names::FLOWS_1, max)
            .load(object)?;
        let prog: &mut Xdp = ebpf
            .program_mut(names::PROGRAM)
            .ok_or(XdpError::Missing(names::PROGRAM))?
            .try_into()
            .map_err(|source| XdpError::Program { name: names::PROGRAM, source })?;
        prog.load().map_err(|source| XdpError::Program { name: names::PROGRAM, source })?;
        let mut dp = Self {
            ebpf,
            iface: iface.to_string(),
            mode: None,
            active: 0,
            sampling_rate: cfg.sampling_rate,
            batch_unsupported: false,
            per_key_only: false,
        };
        dp.set_active(0)?;
        Ok(dp)
    }

    /// Attaches to the interface (resolved in the calling thread's network namespace).
    pub fn attach(&mut self, mode: AttachMode) -> Result<AttachedMode, XdpError> {
        let name = std::ffi::CString::new(self.iface.clone())
            .map_err(|_| XdpError::BadName(self.iface.clone()))?;
        let iface = self.iface.clone();
        let prog: &mut Xdp = self
            .ebpf
            .program_mut(names::PROGRAM)
            .ok_or(XdpError::Missing(names::PROGRAM))?
            .try_into()
            .map_err(|source| XdpError::Program { name: names::PROGRAM, source })?;
        let mut try_mode = |m: XdpMode, label: &'static str| {
            prog.attach(name.as_c_str(), m).map(|_| ()).map_err(|source| XdpError::Attach {
                iface: iface.clone(),
                mode: label,
                source,
            })
        };
        let used = match mode {
            AttachMode::Native => {
                try_mode(XdpMode::Driver, "native")?;
                AttachedMode::Native
            }
            AttachMode::Skb => {
                try_mode(XdpMode::Skb, "skb")?;
                AttachedMode::Skb
            }
            AttachMode::Auto => match try_mode(XdpMode::Driver, "native") {
                Ok(()) => AttachedMode::Native,
                Err(e) => {
                    warn!(interface = %self.iface, error = %e, "native XDP failed, falling back to skb mode");
                    try_mode(XdpMode::Skb, "skb")?;
                    AttachedMode::Skb
                }
            },
        };
        info!(interface = %self.iface, mode = used.as_str(), "XDP attached");
        self.mode = Some(used);
        Ok(used)
    }

    pub fn interface(&self) -> &str {
        &self.iface
    }

    pub fn attached_mode(&self) -> Option<AttachedMode> {
        self.mode
    }

    /// Drain with per-key syscalls only, never `BPF_MAP_LOOKUP_AND_DELETE_BATCH`.
    pub fn set_per_key_drain(&mut self, on: bool) {
        self.per_key_only = on;
    }

    /// True while drains use `BPF_MAP_LOOKUP_AND_DELETE_BATCH`.
    pub fn uses_batch_drain(&self) -> bool {
        !self.per_key_only && !self.batch_unsupported
    }

    pub fn sampling_rate(&self) -> u32 {
        self.sampling_rate
    }

    fn set_active(&mut self, idx: u32) -> Result<(), XdpError> {
        let map = self.ebpf.map_mut(names::CONTROL).ok_or(XdpError::Missing(names::CONTROL))?;
        let mut ctl: Array<&mut MapData, u32> = Array::try_from(map)
            .map_err(|source| XdpError::Map { name: names::CONTROL, source })?;
        ctl.set(control::ACTIVE_MAP, &idx, 0)
            .map_err(|source| XdpError::Map { name: names::CONTROL, source })?;
        self.active = idx;
        Ok(())
    }

    /// Flips the active map, waits until no program run can still write the old one, then reads
    /// and clears it. Counters are renormalised by the sampling rate.
    pub fn drain(&mut self) -> Result<DrainResult, XdpError> {
        let start = Instant::now();
        let idle = self.active;
        self.set_active(1 - idle)?;
        wait_for_rcu_grace_period();
        let clock = MonoToUnix::now();
        let name = if idle == 0 { names::FLOWS_0 } else { names::FLOWS_1 };
        let map = match self.ebpf.map(name).ok_or(XdpError::Missing(name))? {
            aya::maps::Map::PerCpuHashMap(data) => data,
            _ => return Err(XdpError::Missing(name)),
        };
        let mut entries = Vec::new();
        let ncpus = aya::util::nr_cpus().map(|n| n.get() as usize).unwrap_or(1);
        let batched = if self.per_key_only {
            Err(std::io::Error::from_raw_os_error(libc::EOPNOTSUPP))
        } else {
            batch::drain_percpu(map, ncpus, |key, values| {
                entries.push((*key, sum_counters(values, clock)));
            })
        };
        if let Err(e) = batched {
            if !self.batch_unsupported && !self.per_key_only {
                debug!(error = %e, "batch drain unavailable, using per-key calls");
                self.batch_unsupported = true;
            }
            let map = self.ebpf.map_mut(name).ok_or(XdpError::Missing(name))?;
            let mut flows: PerCpuHashMap<&mut MapData, FlowKey, FlowCounters> =
                PerCpuHashMap::try_from(map).map_err(|source| XdpError::Map { name, source })?;
            let mut rest = Vec::new();
            for item in flows.iter() {
                let (key, values) = item.map_err(|source| XdpError::Map { name, source })?;
                rest.push((key, sum_counters(&values, clock)));
            }
            for (key, _) in &rest {
                match flows.remove(key) {
                    Ok(()) | Err(aya::maps::MapError::KeyNotFound) => {}
                    Err(source) => return Err(XdpError::Map { name, source }),
                }
            }
            entries.extend(rest);
        }
        let records: Vec<FlowRecord> = entries
            .into_iter()
            .map(|(key, mut counters)| {
                counters.renormalize(self.sampling_rate);
                let mut fields = key_to_fields(&key);
                fields.sampling_rate = self.sampling_rate;
                FlowRecord { fields, counters }
            })
            .collect();
        Ok(DrainResult { entries: records.len(), records, duration: start.elapsed() })
    }

    /// Per-CPU program counters: `result[counter][cpu]`, counters indexed by
    /// [`pmacct_common::stats`].
    pub fn stats(&self) -> Result<Vec<Vec<u64>>, XdpError> {
        let map = self.ebpf.map(names::STATS).ok_or(XdpError::Missing(names::STATS))?;
        let arr: PerCpuArray<&MapData, u64> = PerCpuArray::try_from(map)
            .map_err(|source| XdpError::Map { name: names::STATS, source })?;
        (0..stats::COUNT)
            .map(|i| {
                arr.get(&i, 0)
                    .map(|v| v.iter().copied().collect())
                    .map_err(|source| XdpError::Map { name: names::STATS, source })
            })
            .collect()
    }
}

/// Blocks until every CPU has passed an RCU quiescent state, so any XDP program that started
/// before the call has returned. Falls back to a sleep far longer than any program run where
/// `membarrier` is unavailable (nohz_full kernels).
fn wait_for_rcu_grace_period() {
    const MEMBARRIER_CMD_GLOBAL: libc::c_int = 1;
    // SAFETY: membarrier takes two ints (and a cpu id for newer commands) and touches no memory.
    let rc = unsafe { libc::syscall(libc::SYS_membarrier, MEMBARRIER_CMD_GLOBAL, 0, 0) };
    // The kernel skips synchronize_rcu() with one CPU online; on a preemptible (RT) kernel a
    // program could still be mid-run in a softirq thread there, so sleep as well.
    // SAFETY: sysconf has no preconditions.
    let one_cpu = unsafe { libc::sysconf(libc::_SC_NPROCESSORS_ONLN) } <= 1;
    if rc != 0 || one_cpu {
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mask_follows_primitives() {
        let set = PrimitiveSet::parse("src_host, dst_port, vlan, tcpflags, src_as").unwrap();
        assert_eq!(field_mask_for(set), field::SRC_ADDR | field::DST_PORT | field::VLAN);
        assert_eq!(field_mask_for(PrimitiveSet::EMPTY), 0);
    }

    #[test]
    fn key_conversion_v4_v6() {
        let mut k =
            FlowKey { family: 4, proto: 6, src_port: 1234, dst_port: 80, ..Default::default() };
        k.src_addr[..4].copy_from_slice(&[10, 0, 0, 1]);
        k.dst_addr[..4].copy_from_slice(&[192, 168, 1, 2]);
        let f = key_to_fields(&k);
        assert_eq!(f.src_ip, "10.0.0.1".parse::<IpAddr>().unwrap());
        assert_eq!(f.dst_ip, "192.168.1.2".parse::<IpAddr>().unwrap());
        assert_eq!((f.src_port, f.dst_port, f.proto), (1234, 80, 6));
        k.family = 6;
        k.src_addr = "2001:db8::1".parse::<Ipv6Addr>().unwrap().octets();
        assert_eq!(key_to_fields(&k).src_ip, "2001:db8::1".parse::<IpAddr>().unwrap());
        k.family = 0;
        assert_eq!(key_to_fields(&k).src_ip, IpAddr::V4(Ipv4Addr::UNSPECIFIED));
    }

    #[test]
    fn counters_sum_across_cpus() {
        let clock = MonoToUnix { offset_ns: 1_000_000_000_000 };
        let a = FlowCounters {
            packets: 2,
            bytes: 200,
            first_seen_ns: 5_000,
            last_seen_ns: 9_000,
            tcp_flags: 2,
            _pad: [0; 7],
        };
        let b = FlowCounters {
            packets: 1,
            bytes: 60,
            first_seen_ns: 3_000,
            last_seen_ns: 4_000,
            tcp_flags: 16,
            _pad: [0; 7],
        };
        let idle = FlowCounters::default();
        let c = sum_counters(&[a, idle, b], clock);
        assert_eq!((c.packets, c.bytes, c.tcp_flags), (3, 260, 18));
        assert_eq!(c.first_us, 1_000_000_003);
        assert_eq!(c.last_us, 1_000_000_009);
    }
}
