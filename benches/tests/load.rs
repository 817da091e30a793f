//! The built XDP object passes the kernel verifier and counts what it should.
//! Needs root and `cargo xtask build-ebpf`; skipped (with a note) otherwise.

use aya::maps::{Array, PerCpuArray, PerCpuHashMap};
use pmacct_benches::{LoadOptions, Loaded, PROGRAM_BENCH_UPDATE, packet, read_object};
use pmacct_common::{FlowCounters, FlowKey, ProgramConfig, action, field, names, stats};

const XDP_DROP: u32 = 1;
const XDP_PASS: u32 = 2;

fn object_if_runnable() -> Option<Vec<u8>> {
    // SAFETY: geteuid has no preconditions.
    if unsafe { libc::geteuid() } != 0 {
        eprintln!("skipped: loading XDP programs needs root");
        return None;
    }
    match read_object() {
        Ok(o) => Some(o),
        Err(e) => {
            eprintln!("skipped: {e}");
            None
        }
    }
}

fn stat_sum(l: &Loaded, idx: u32) -> u64 {
    let arr: PerCpuArray<_, u64> =
        PerCpuArray::try_from(l.ebpf.map(names::STATS).unwrap()).unwrap();
    arr.get(&idx, 0).unwrap().iter().sum()
}

fn flows(l: &Loaded, name: &str) -> Vec<(FlowKey, FlowCounters)> {
    let map: PerCpuHashMap<_, FlowKey, FlowCounters> =
        PerCpuHashMap::try_from(l.ebpf.map(name).unwrap()).unwrap();
    map.iter()
        .map(|r| {
            let (k, v) = r.unwrap();
            let mut sum = FlowCounters::default();
            for c in v.iter() {
                sum.packets += c.packets;
                sum.bytes += c.bytes;
                sum.tcp_flags |= c.tcp_flags;
                sum.last_seen_ns = sum.last_seen_ns.max(c.last_seen_ns);
                if c.first_seen_ns != 0 {
                    sum.first_seen_ns = c.first_seen_ns;
                }
            }
            (k, sum)
        })
        .collect()
}

#[test]
fn programs_pass_the_verifier_and_count() {
    let Some(object) = object_if_runnable() else { return };
    let pkt = packet::tcp_ipv4();

    let l = Loaded::new(&object, names::PROGRAM, LoadOptions::default()).unwrap();
    assert_eq!(l.run(&pkt, 10).unwrap().retval, XDP_PASS);
    let got = flows(&l, names::FLOWS_0);
    assert_eq!(got.len(), 1);
    let (k, c) = got[0];
    assert_eq!((k.family, k.proto, k.src_port, k.dst_port, k.etype), (4, 6, 40000, 80, 0x0800));
    assert_eq!(&k.src_addr[..4], &[10, 0, 0, 1]);
    assert_eq!((c.packets, c.bytes, c.tcp_flags), (10, 400, 0x02));
    assert!(c.first_seen_ns != 0 && c.first_seen_ns <= c.last_seen_ns);
    assert_eq!(l.run(&packet::arp(), 3).unwrap().retval, XDP_PASS);
    assert_eq!(l.run(&pkt[..30], 2).unwrap().retval, XDP_PASS);
    assert_eq!(stat_sum(&l, stats::SEEN), 15);
    assert_eq!(stat_sum(&l, stats::SAMPLED), 10);
    assert_eq!(stat_sum(&l, stats::NON_IP), 3);
    assert_eq!(stat_sum(&l, stats::TRUNCATED), 2);
    assert_eq!(stat_sum(&l, stats::MAP_FULL), 0);

    // Flip to FLOWS_1 (capacity 1 here): the packet goes there; a second flow cannot fit.
    let mut l = l;
    let mut ctl: Array<_, u32> = Array::try_from(l.ebpf.map_mut(names::CONTROL).unwrap()).unwrap();
    ctl.set(0, &1, 0).unwrap();
    l.run(&pkt, 1).unwrap();
    let mut other = pkt.clone();
    other[34] ^= 1; // source port
    l.run(&other, 1).unwrap();
    assert_eq!(flows(&l, names::FLOWS_1).len(), 1);
    assert_eq!(flows(&l, names::FLOWS_0)[0].1.packets, 10);
    assert_eq!(stat_sum(&l, stats::MAP_FULL), 1);
}

#[test]
fn mask_sampling_and_drop() {
    let Some(object) = object_if_runnable() else { return };
    let pkt = packet::tcp_ipv4();
    let config = ProgramConfig::new(field::DST_PORT | field::PROTO, 100, action::DROP);
    let l = Loaded::new(&object, names::PROGRAM, LoadOptions { config, ..LoadOptions::default() })
        .unwrap();
    assert_eq!(l.run(&pkt, 100_000).unwrap().retval, XDP_DROP);
    let sampled = stat_sum(&l, stats::SAMPLED);
    assert!((700..1300).contains(&sampled), "sampled {sampled} of 100000 at 1:100");
    let got = flows(&l, names::FLOWS_0);
    assert_eq!(got.len(), 1);
    let want = FlowKey { dst_port: 80, proto: 6, ..FlowKey::default() };
    assert_eq!(got[0].0, want);
    assert_eq!(got[0].1.packets, sampled);
}

#[test]
fn baselines_load() {
    let Some(object) = object_if_runnable() else { return };
    let pkt = packet::tcp_ipv4();
    let bare = Loaded::new(&object, names::PROGRAM_BARE, LoadOptions::default()).unwrap();
    assert_eq!(bare.run(&pkt, 1).unwrap().retval, XDP_PASS);
    let opts = LoadOptions { spread: 100, bench_flows: 128, ..LoadOptions::default() };
    let upd = Loaded::new(&object, PROGRAM_BENCH_UPDATE, opts).unwrap();
    assert_eq!(upd.run(&pkt, 1000).unwrap().retval, XDP_PASS);
    assert_eq!(flows(&upd, pmacct_benches::BENCH_FLOWS).len(), 100);
}
