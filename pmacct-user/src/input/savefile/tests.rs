//! Sampling, fragment joining and the accounting loop on hand-built frames.

use std::io::Write;

use super::*;
use crate::decode::packet::LinkType;

/// Raw IPv4 UDP packet (link type RAW) with the given id/fragment field and total length.
fn v4_udp(id: u16, flags_off: u16, total: u16, ports: (u16, u16)) -> Vec<u8> {
    let mut v = vec![0x45, 0];
    v.extend_from_slice(&total.to_be_bytes());
    v.extend_from_slice(&id.to_be_bytes());
    v.extend_from_slice(&flags_off.to_be_bytes());
    v.extend_from_slice(&[64, 17, 0, 0, 10, 0, 0, 1, 10, 0, 0, 2]);
    v.extend_from_slice(&ports.0.to_be_bytes());
    v.extend_from_slice(&ports.1.to_be_bytes());
    v.extend_from_slice(&[0, 8, 0, 0]);
    v
}

fn run(opts: SavefileOptions, frames: &[(u64, Vec<u8>)]) -> (Vec<FlowRecord>, SavefileStats) {
    let mut acc = Accountant::new(opts);
    let mut out = Vec::new();
    for (ts, f) in frames {
        acc.packet(LinkType::RAW, *ts, f, &mut |r| out.push(*r));
    }
    (out, acc.stats())
}

#[test]
fn systematic_sampling_takes_every_nth() {
    let mut s = Sampler::new(4, SamplingMethod::Systematic);
    let taken: Vec<bool> = (0..12).map(|_| s.evaluate(1, 100).is_some()).collect();
    let expect: Vec<bool> = (1..=12).map(|i| i % 4 == 0).collect();
    assert_eq!(taken, expect);
    // A 10-packet entry at 1:4: two samples, bytes scaled per packet.
    let mut s = Sampler::new(4, SamplingMethod::Systematic);
    assert_eq!(s.evaluate(10, 1000), Some((2, 200)));
    assert_eq!(Sampler::new(1, SamplingMethod::Systematic).evaluate(3, 30), Some((3, 30)));
}

#[test]
fn random_sampling_has_mean_n_and_bounded_gaps() {
    let mut s = Sampler::new(10, SamplingMethod::Random { seed: 7 });
    let mut taken = 0u64;
    let mut gap = 0u64;
    for _ in 0..200_000 {
        gap += 1;
        if s.evaluate(1, 1).is_some() {
            assert!((1..=19).contains(&gap), "skip {gap} outside 1..=2N-1");
            gap = 0;
            taken += 1;
        }
    }
    assert!((19_000..=21_000).contains(&taken), "took {taken} of 200000 at 1:10");
}

#[test]
fn sampling_renormalises_on_request() {
    let frames: Vec<_> = (0..8).map(|i| (i, v4_udp(i as u16, 0, 100, (1, 2)))).collect();
    let opts = SavefileOptions {
        sampling_rate: 4,
        sampling: SamplingMethod::Systematic,
        ..Default::default()
    };
    let (out, st) = run(opts.clone(), &frames);
    assert_eq!((out.len(), st.sampled_out, st.emitted), (2, 6, 2));
    assert_eq!((out[0].counters.packets, out[0].counters.bytes), (1, 100));
    assert_eq!(out[0].fields.sampling_rate, 4);
    let (out, _) = run(SavefileOptions { renormalize: true, ..opts }, &frames);
    assert_eq!((out[0].counters.packets, out[0].counters.bytes), (4, 400));
    assert_eq!((out[0].fields.sampling_rate, out[1].counters.first_us), (1, 7));
}

#[test]
fn fragments_inherit_first_fragment_ports() {
    let frames = vec![
        // Non-first fragment before its first: held, then added to the first.
        (1, v4_udp(7, 185, 500, (0xAAAA, 0xBBBB))),
        (2, v4_udp(7, 0x2000, 1500, (5000, 53))),
        (3, v4_udp(7, 370, 300, (0xCCCC, 0xDDDD))),
        // Orphan: first fragment never arrives.
        (4, v4_udp(8, 185, 200, (0, 0))),
    ];
    let (out, st) = run(SavefileOptions::default(), &frames);
    assert_eq!(out.len(), 2);
    assert_eq!((out[0].counters.packets, out[0].counters.bytes), (2, 2000));
    assert_eq!((out[0].fields.src_port, out[0].fields.dst_port), (5000, 53));
    assert_eq!((out[1].fields.src_port, out[1].fields.dst_port), (5000, 53));
    assert_eq!((out[1].counters.packets, out[1].counters.bytes), (1, 300));
    assert_eq!((st.fragments_held, st.parsed, st.emitted), (2, 4, 2));

    let (out, _) = run(SavefileOptions { join_fragments: false, ..Default::default() }, &frames);
    assert_eq!(out.len(), 4);
    assert_eq!((out[0].fields.src_port, out[2].fields.src_port), (0, 0));
}

#[test]
fn fragment_table_expires_orphans() {
    let mut t = FragmentTable::default();
    let mut p = crate::decode::packet::parse(LinkType::RAW, &v4_udp(9, 185, 100, (0, 0))).unwrap();
    assert_eq!(t.process(&mut p, 0), FragOutcome::Held);
    assert_eq!(t.pending(), 1);
    t.prune(FRAG_TIMEOUT_US + 1);
    assert_eq!((t.pending(), t.orphans), (0, 1));
}

#[test]
fn stats_count_what_is_not_accounted() {
    let frames = vec![
        (1, vec![0x45, 0, 0]),                        // truncated IPv4
        (2, vec![0x10, 0, 0, 0]),                     // bad version
        (3, v4_udp(1, 0, 28, (1, 2))[..22].to_vec()), // UDP without full ports
    ];
    let (out, st) = run(SavefileOptions::default(), &frames);
    assert_eq!((st.packets_read, st.truncated, st.malformed, st.parsed), (3, 1, 1, 1));
    assert_eq!(out.len(), 1);
    let opts = SavefileOptions { drop_l4_truncated: true, ..Default::default() };
    let (out, st) = run(opts, &frames);
    assert_eq!((out.len(), st.truncated), (0, 2));

    let mut acc = Accountant::new(SavefileOptions::default());
    let mut eth = vec![0u8; 12];
    eth.extend_from_slice(&[0x08, 0x06]);
    eth.extend_from_slice(&[0; 28]);
    acc.packet(LinkType::ETHERNET, 0, &eth, &mut |_| panic!("ARP must not be emitted"));
    assert_eq!(acc.stats().non_ip, 1);
}

#[test]
fn account_file_replays() {
    let mut file = tempfile::NamedTempFile::new().unwrap();
    let mut bytes = Vec::new();
    for x in [0xA1B2_C3D4u32, 0x0004_0002, 0, 0, 65535, 101] {
        bytes.extend_from_slice(&x.to_le_bytes());
    }
    for i in 0..3u32 {
        let pkt = v4_udp(i as u16, 0, 28, (1, 2));
        for x in [100 + i, 5, pkt.len() as u32, 28] {
            bytes.extend_from_slice(&x.to_le_bytes());
        }
        bytes.extend_from_slice(&pkt);
    }
    file.write_all(&bytes).unwrap();
    let mut n = 0;
    let mut last = 0;
    let opts = SavefileOptions { replay: 2, ..Default::default() };
    let st = account_file(file.path(), &opts, |r| {
        n += 1;
        last = r.counters.last_us;
    })
    .unwrap();
    assert_eq!((n, st.packets_read, st.emitted), (6, 6, 6));
    assert_eq!(last, 102_000_005);

    bytes.truncate(bytes.len() - 3);
    let mut f2 = tempfile::NamedTempFile::new().unwrap();
    f2.write_all(&bytes).unwrap();
    let err = account_file(f2.path(), &SavefileOptions::default(), |_| {}).unwrap_err();
    assert!(matches!(err, SavefileError::Pcap { source: PcapError::Truncated(_), .. }));
}

#[test]
fn options_from_config() {
    let cfg = SavefileConfig {
        path: "x.pcap".into(),
        kind: Default::default(),
        wait: false,
        replay: 3,
        sampling_rate: 10,
        delay_secs: 0,
    };
    let o = SavefileOptions::from_config(&cfg);
    assert_eq!((o.replay, o.sampling_rate, o.renormalize), (3, 10, false));
}
