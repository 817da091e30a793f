//! Unit tests: hand-built datagrams.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};

use super::*;

fn w(v: &mut Vec<u8>, x: u32) {
    v.extend_from_slice(&x.to_be_bytes());
}

fn padded(v: &mut Vec<u8>, b: &[u8]) {
    v.extend_from_slice(b);
    v.resize(v.len() + reader::pad(b.len()), 0);
}

/// `tag, len, body` as a record or sample.
fn tlv(tag: u32, body: &[u8]) -> Vec<u8> {
    let mut v = Vec::new();
    w(&mut v, tag);
    w(&mut v, body.len() as u32);
    v.extend_from_slice(body);
    v
}

fn datagram(agent: IpAddr, sub: u32, seq: u32, samples: &[Vec<u8>]) -> Vec<u8> {
    let mut v = Vec::new();
    w(&mut v, 5);
    match agent {
        IpAddr::V4(a) => {
            w(&mut v, 1);
            v.extend_from_slice(&a.octets());
        }
        IpAddr::V6(a) => {
            w(&mut v, 2);
            v.extend_from_slice(&a.octets());
        }
    }
    w(&mut v, sub);
    w(&mut v, seq);
    w(&mut v, 1000);
    w(&mut v, samples.len() as u32);
    for s in samples {
        v.extend_from_slice(s);
    }
    v
}

/// A compact flow sample (0:1) with `records`.
fn flow_sample(
    seq: u32,
    rate: u32,
    pool: u32,
    input: u32,
    output: u32,
    recs: &[Vec<u8>],
) -> Vec<u8> {
    let mut b = Vec::new();
    for x in [seq, 7, rate, pool, 0, input, output, recs.len() as u32] {
        w(&mut b, x);
    }
    for r in recs {
        b.extend_from_slice(r);
    }
    tlv(1, &b)
}

/// Ethernet + optional 802.1Q tag + IPv4 + TCP frame.
fn eth_ipv4_tcp(vlan: Option<u16>) -> Vec<u8> {
    let mut f = vec![0x02, 0, 0, 0, 0, 0xdd, 0x02, 0, 0, 0, 0, 0x55];
    if let Some(id) = vlan {
        f.extend_from_slice(&[0x81, 0x00]);
        f.extend_from_slice(&((5u16 << 13) | id).to_be_bytes());
    }
    f.extend_from_slice(&[0x08, 0x00]);
    f.extend_from_slice(&[0x45, 0x10, 0x05, 0xdc, 0, 1, 0, 0, 64, 6, 0, 0]);
    f.extend_from_slice(&[10, 0, 0, 1, 192, 0, 2, 9]);
    f.extend_from_slice(&[0x30, 0x39, 0x00, 0x50, 0, 0, 0, 1, 0, 0, 0, 0, 0x50, 0x12, 0xff, 0xff]);
    f.extend_from_slice(&[0, 0, 0, 0]);
    f
}

/// A raw packet header record (0:1) with protocol `proto`.
fn header_rec(proto: u32, frame_len: u32, hdr: &[u8]) -> Vec<u8> {
    let mut b = Vec::new();
    w(&mut b, proto);
    w(&mut b, frame_len);
    w(&mut b, 4);
    w(&mut b, hdr.len() as u32);
    padded(&mut b, hdr);
    tlv(1, &b)
}

fn switch_rec(in_vlan: u32, out_vlan: u32) -> Vec<u8> {
    let mut b = Vec::new();
    for x in [in_vlan, 1, out_vlan, 2] {
        w(&mut b, x);
    }
    tlv(1001, &b)
}

const AGENT: IpAddr = IpAddr::V4(Ipv4Addr::new(198, 51, 100, 1));

fn src() -> SocketAddr {
    SocketAddr::new(IpAddr::V4(Ipv4Addr::new(127, 0, 0, 1)), 40000)
}

fn run(
    dec: &mut SflowDecoder,
    d: &[u8],
) -> (Result<usize, SflowError>, Vec<FlowRecord>, Vec<CounterRecord>) {
    let (mut f, mut c) = (Vec::new(), Vec::new());
    let r = dec.decode(src(), 1_700_000_000_000_000, d, &mut f, &mut c);
    (r, f, c)
}

#[test]
fn header_sample_counts_frame_length_and_agent() {
    let d = datagram(
        AGENT,
        3,
        10,
        &[flow_sample(
            1,
            100,
            100,
            0x3FFF_FFFF,
            0x4000_0007,
            &[header_rec(1, 1518, &eth_ipv4_tcp(Some(42)))],
        )],
    );
    let mut dec = SflowDecoder::default();
    let (r, f, c) = run(&mut dec, &d);
    assert_eq!(r, Ok(1));
    assert!(c.is_empty());
    let rec = f[0];
    let k = rec.fields;
    assert_eq!(k.src_ip, IpAddr::V4(Ipv4Addr::new(10, 0, 0, 1)));
    assert_eq!(k.dst_ip, IpAddr::V4(Ipv4Addr::new(192, 0, 2, 9)));
    assert_eq!((k.src_port, k.dst_port, k.proto, k.tos), (12345, 80, 6, 0x10));
    assert_eq!((k.vlan, k.cos), (42, 5));
    assert_eq!(k.src_mac, [2, 0, 0, 0, 0, 0x55]);
    assert_eq!(k.dst_mac, [2, 0, 0, 0, 0, 0xdd]);
    // Format bits kept, as sfacctd.
    assert_eq!((k.in_iface, k.out_iface), (0x3FFF_FFFF, 0x4000_0007));
    assert_eq!(k.peer_src_ip, AGENT);
    assert_eq!(k.sampling_rate, 100);
    assert_eq!((k.export_proto_version, k.export_proto_seqno, k.export_proto_sysid), (5, 10, 3));
    assert_eq!(k.timestamp_arrival, 1_700_000_000_000_000);
    assert_eq!((rec.counters.packets, rec.counters.bytes, rec.counters.tcp_flags), (1, 1518, 0x12));
    assert_eq!(rec.counters.first_us, 1_700_000_000_000_000);
}

#[test]
fn switch_record_vlan_wins_over_header_tag() {
    for recs in [
        vec![switch_rec(0, 300), header_rec(1, 100, &eth_ipv4_tcp(Some(42)))],
        vec![header_rec(1, 100, &eth_ipv4_tcp(Some(42))), switch_rec(0, 300)],
    ] {
        let d = datagram(AGENT, 0, 1, &[flow_sample(1, 1, 1, 1, 2, &recs)]);
        let (_, f, _) = run(&mut SflowDecoder::default(), &d);
        assert_eq!(f[0].fields.vlan, 300);
        assert_eq!(f[0].fields.out_vlan, 300);
    }
}

#[test]
fn sampled_ipv4_and_ipv6_records() {
    let mut v4 = Vec::new();
    for x in [1000, 17, 0x0A00_0001, 0x0A00_0002, 53, 5353, 0, 8] {
        w(&mut v4, x);
    }
    let mut v6 = Vec::new();
    w(&mut v6, 1280);
    w(&mut v6, 6);
    v6.extend_from_slice(&Ipv6Addr::LOCALHOST.octets());
    v6.extend_from_slice(
        &"2001:db8::1".parse::<Ipv6Addr>().unwrap_or(Ipv6Addr::LOCALHOST).octets(),
    );
    for x in [443, 50000, 0x18, 0] {
        w(&mut v6, x);
    }
    let d = datagram(
        AGENT,
        0,
        1,
        &[flow_sample(1, 1, 1, 1, 2, &[tlv(3, &v4)]), flow_sample(2, 1, 2, 1, 2, &[tlv(4, &v6)])],
    );
    let (r, f, _) = run(&mut SflowDecoder::default(), &d);
    assert_eq!(r, Ok(2));
    assert_eq!(f[0].fields.dst_ip, IpAddr::V4(Ipv4Addr::new(10, 0, 0, 2)));
    assert_eq!((f[0].fields.src_port, f[0].fields.dst_port, f[0].counters.bytes), (53, 5353, 1000));
    assert_eq!(f[1].fields.src_ip, IpAddr::V6(Ipv6Addr::LOCALHOST));
    assert_eq!((f[1].fields.proto, f[1].counters.bytes), (6, 1280));
}

#[test]
fn gateway_router_and_unknown_records() {
    let mut gw = Vec::new();
    w(&mut gw, 1);
    gw.extend_from_slice(&[203, 0, 113, 1]);
    for x in [64500, 64501, 64502] {
        w(&mut gw, x);
    }
    w(&mut gw, 2); // segments
    for x in [2, 2, 64502, 64510, 1, 1, 64520] {
        w(&mut gw, x);
    }
    for x in [2, 0xFFFF_FF01, (64500 << 16) | 7, 150] {
        w(&mut gw, x);
    }
    let mut rt = Vec::new();
    for x in [1, 0x0A00_00FE, 24, 16] {
        w(&mut rt, x);
    }
    let recs = [
        header_rec(1, 64, &eth_ipv4_tcp(None)),
        tlv(1003, &gw),
        tlv(1002, &rt),
        tlv(0xABCD, &[1, 2, 3, 4]),
    ];
    let d = datagram(AGENT, 0, 1, &[flow_sample(1, 1, 1, 1, 2, &recs)]);
    let mut dec = SflowDecoder::new(SflowOptions { keep_bgp: true, ..Default::default() });
    let (r, f, _) = run(&mut dec, &d);
    assert_eq!(r, Ok(1));
    let k = f[0].fields;
    assert_eq!(
        (k.src_as, k.dst_as, k.peer_src_as, k.peer_dst_as, k.local_pref),
        (64501, 64520, 64502, 64502, 150)
    );
    assert_eq!(k.peer_dst_ip, IpAddr::V4(Ipv4Addr::new(203, 0, 113, 1)));
    assert_eq!(k.nexthop, IpAddr::V4(Ipv4Addr::new(10, 0, 0, 254)));
    assert_eq!((k.src_mask, k.dst_mask), (24, 16));
    let name = crate::enrich::labels::name;
    assert_eq!(&*name(k.as_path), "64502 64510 64520");
    assert_eq!(&*name(k.std_comm), "no-export 64500:7");
    // Without keep_bgp the strings are not built.
    let mut plain = SflowDecoder::new(SflowOptions::default());
    let (_, f, _) = run(&mut plain, &d);
    assert_eq!((f[0].fields.as_path, f[0].fields.std_comm, f[0].fields.dst_as), (0, 0, 64520));
    assert_eq!(dec.stats().agents[0].unknown_records, 1);
}

#[test]
fn renormalize_uses_effective_rate() {
    let hdr = || header_rec(1, 100, &eth_ipv4_tcp(None));
    let mut dec = SflowDecoder::new(SflowOptions { renormalize: true, ..Default::default() });
    // First sample: the advertised rate; then pool delta / sequence delta.
    let d1 = datagram(AGENT, 0, 1, &[flow_sample(10, 100, 1000, 1, 2, &[hdr()])]);
    let d2 = datagram(AGENT, 0, 2, &[flow_sample(12, 100, 1500, 1, 2, &[hdr()])]);
    let (_, f1, _) = run(&mut dec, &d1);
    let (_, f2, _) = run(&mut dec, &d2);
    assert_eq!((f1[0].counters.packets, f1[0].counters.bytes), (100, 10_000));
    assert_eq!((f2[0].counters.packets, f2[0].counters.bytes), (250, 25_000));
    assert_eq!(f2[0].fields.sampling_rate, 1);
}

#[test]
fn sequence_gaps_are_lost_datagrams() {
    let mut dec = SflowDecoder::default();
    for seq in [1, 2, 5, 6, 1] {
        let _ = run(&mut dec, &datagram(AGENT, 0, seq, &[]));
    }
    let _ = run(&mut dec, &datagram(AGENT, 1, 100, &[]));
    let s = dec.stats();
    assert_eq!(s.agents.len(), 2);
    assert_eq!(
        (s.agents[0].datagrams, s.agents[0].lost_datagrams, s.agents[0].sequence_resets),
        (5, 2, 1)
    );
    assert_eq!(s.agents[1].lost_datagrams, 0);
}

#[test]
fn malformed_sample_keeps_good_ones() {
    let good = flow_sample(1, 1, 1, 1, 2, &[header_rec(1, 100, &eth_ipv4_tcp(None))]);
    // A switch record declared 8 bytes long: sfacctd's lengthCheck drops the sample.
    let bad = flow_sample(2, 1, 2, 1, 2, &[tlv(1001, &[0; 8])]);
    let d = datagram(AGENT, 0, 1, &[good.clone(), bad, good]);
    let mut dec = SflowDecoder::default();
    let (r, f, _) = run(&mut dec, &d);
    assert!(matches!(r, Err(SflowError::Truncated { .. })), "{r:?}");
    assert_eq!(f.len(), 2);
    let a = dec.stats().agents[0];
    assert_eq!((a.malformed_samples, a.malformed_datagrams, a.flow_samples), (1, 1, 2));
    // Cut anywhere: never a panic, records of complete samples kept.
    let full = datagram(
        AGENT,
        0,
        2,
        &[flow_sample(1, 1, 1, 1, 2, &[header_rec(1, 100, &eth_ipv4_tcp(None))])],
    );
    for cut in 0..full.len() {
        let (r, _, _) = run(&mut dec, &full[..cut]);
        assert!(r.is_err(), "cut at {cut}");
    }
    assert_eq!(run(&mut dec, &[0, 0, 0, 4]).0, Err(SflowError::UnsupportedVersion(4)));
}

#[test]
fn arp_is_not_accounted_mpls_is() {
    let mut arp = vec![0xff; 6];
    arp.extend_from_slice(&[2, 0, 0, 0, 0, 1, 0x08, 0x06]);
    arp.extend_from_slice(&[0; 28]);
    let mut mpls = vec![0x02, 0, 0, 0, 0, 1, 0x02, 0, 0, 0, 0, 2, 0x88, 0x47];
    mpls.extend_from_slice(&((100u32 << 12) | 64).to_be_bytes());
    mpls.extend_from_slice(&((200u32 << 12) | 0x100 | 64).to_be_bytes());
    mpls.extend_from_slice(&eth_ipv4_tcp(None)[14..]);
    let d = datagram(
        AGENT,
        0,
        1,
        &[
            flow_sample(1, 1, 1, 1, 2, &[header_rec(1, 64, &arp)]),
            flow_sample(2, 1, 2, 1, 2, &[header_rec(1, 64, &mpls)]),
        ],
    );
    let (r, f, _) = run(&mut SflowDecoder::default(), &d);
    assert_eq!(r, Ok(2));
    assert_eq!(f.len(), 1);
    let k = f[0].fields;
    assert_eq!((k.mpls_label_top, k.mpls_label_bottom, k.mpls_stack_depth), (100, 200, 2));
    assert_eq!((k.src_port, k.dst_port), (12345, 80));
}

#[test]
fn counters_serialize_like_sfacctd() {
    let mut generic = Vec::new();
    for x in [7, 6, 0, 1_000_000_000, 1, 3, 0, 5000] {
        w(&mut generic, x);
    }
    for _ in 0..6 {
        w(&mut generic, 1);
    }
    w(&mut generic, 0);
    w(&mut generic, 6000);
    for _ in 0..7 {
        w(&mut generic, 2);
    }
    let mut vlan = Vec::new();
    for x in [10, 0, 99, 1, 2, 3, 4] {
        w(&mut vlan, x);
    }
    let mut body = Vec::new();
    for x in [55, 7, 3] {
        w(&mut body, x);
    }
    body.extend_from_slice(&tlv(1, &generic));
    body.extend_from_slice(&tlv(5, &vlan));
    body.extend_from_slice(&tlv(2000, &[0; 4]));
    let d = datagram(AGENT, 0, 9, &[tlv(2, &body)]);
    let mut dec = SflowDecoder::default();
    let (r, f, c) = run(&mut dec, &d);
    assert_eq!(r, Ok(1));
    assert!(f.is_empty());
    assert_eq!(c.len(), 3);
    let line = c[1].to_json_line();
    let ts = c[1].timestamp();
    assert_eq!(
        line,
        format!(
            "{{\"seq\": 1, \"timestamp\": \"{ts}\", \"peer_ip_src\": \"198.51.100.1\", \
             \"event_type\": \"log\", \"source_id_index\": 7, \"sflow_seq\": 9, \
             \"sflow_cnt_seq\": 55, \"sf_cnt_type\": \"sflow_cnt_vlan\", \"octets\": 99, \
             \"ucastPkts\": 1, \"multicastPkts\": 2, \"broadcastPkts\": 3, \"discards\": 4, \
             \"vlan\": 10}}\n"
        )
    );
    assert!(ts.ends_with(".000000"));
    let g = c[0].to_json_line();
    assert!(g.contains("\"sf_cnt_type\": \"sflow_cnt_generic\", \"ifIndex\": 7, \"ifType\": 6, \"ifSpeed\": 1000000000"), "{g}");
    assert!(g.contains("\"ifInOctets\": 5000") && g.contains("\"ifOutOctets\": 6000"), "{g}");
    // Unknown record: the common keys only.
    assert!(c[2].to_json_line().ends_with("\"sflow_cnt_seq\": 55}\n"));
    assert_eq!(dec.stats().agents[0].unknown_records, 1);
}

#[test]
fn ipv6_agent_brocade_and_unknown_samples() {
    let agent = IpAddr::V6("2001:db8::a".parse().unwrap_or(Ipv6Addr::LOCALHOST));
    let mut brocade = Vec::new();
    for x in [super::SAMPLE_BROCADE_ACL, 8, 0, 0] {
        w(&mut brocade, x);
    }
    brocade.extend_from_slice(&flow_sample(
        1,
        1,
        1,
        1,
        2,
        &[header_rec(1, 80, &eth_ipv4_tcp(None))],
    ));
    let d = datagram(agent, 0, 1, &[tlv(5, &[0; 12]), brocade]);
    let mut dec = SflowDecoder::default();
    let (r, f, _) = run(&mut dec, &d);
    assert_eq!(r, Ok(1));
    assert_eq!(f[0].fields.peer_src_ip, agent);
    assert_eq!(dec.stats().agents[0].unknown_samples, 1);
    let mut strict =
        SflowDecoder::new(SflowOptions { abort_on_unknown_sample: true, ..Default::default() });
    let (r, f, _) = run(&mut strict, &d);
    assert_eq!((r, f.len()), (Err(SflowError::UnknownSampleType(5)), 0));
}
