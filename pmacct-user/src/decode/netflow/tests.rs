//! Unit tests over hand-built datagrams.

use super::*;

fn exporter() -> SocketAddr {
    "192.0.2.1:9999".parse().unwrap()
}

fn v5_datagram(seq: u32, count: u16) -> Vec<u8> {
    let mut p = vec![0, 5];
    p.extend(count.to_be_bytes());
    p.extend(10_000u32.to_be_bytes()); // sysuptime
    p.extend(1_700_000_000u32.to_be_bytes());
    p.extend(0u32.to_be_bytes());
    p.extend(seq.to_be_bytes());
    p.extend([0, 7, 0x00, 10]); // engine 0/7, sampling 10
    for i in 0..count {
        let mut r = vec![10, 0, 0, 1, 10, 0, 0, 2, 10, 0, 0, 254];
        r.extend([0, 3, 0, 4]);
        r.extend(5u32.to_be_bytes());
        r.extend(500u32.to_be_bytes());
        r.extend(4_000u32.to_be_bytes()); // first: 6 s ago
        r.extend(9_000u32.to_be_bytes()); // last: 1 s ago
        r.extend((1000 + i).to_be_bytes());
        r.extend(80u16.to_be_bytes());
        r.extend([0, 0x12, 6, 0x20, 0, 1, 0, 2, 24, 16, 0, 0]);
        p.extend(r);
    }
    p
}

#[test]
fn v5_records() {
    let mut d = NetflowDecoder::new(NetflowOptions { renormalize: true, ..Default::default() });
    let mut out = Vec::new();
    assert_eq!(d.decode(exporter(), 42, &v5_datagram(100, 2), &mut out), Ok(2));
    let r = out[1];
    assert_eq!(r.fields.src_port, 1001);
    assert_eq!((r.fields.in_iface, r.fields.out_iface, r.fields.src_as), (3, 4, 1));
    // Renormalised by 1:10: packets and bytes only, and the primitive then reads 1 (pmacct).
    assert_eq!((r.counters.packets, r.counters.bytes, r.counters.flows), (50, 5000, 1));
    assert_eq!(r.fields.sampling_rate, 1);
    assert_eq!(r.counters.tcp_flags, 0x12);
    assert_eq!(r.fields.timestamp_start, 1_699_999_994_000_000);
    assert_eq!(r.fields.export_proto_sysid, 7);
    assert_eq!(r.fields.peer_src_ip, exporter().ip());
    // gap of 3 records
    d.decode(exporter(), 42, &v5_datagram(105, 1), &mut out).unwrap();
    assert_eq!(d.stats().total.lost_records, 3);
    let bad = v5_datagram(1, 2);
    assert!(d.decode(exporter(), 0, &bad[..bad.len() - 1], &mut out).is_err());
    assert_eq!(d.stats().total.malformed, 1);
}

fn ipfix(seq: u32, sets: &[Vec<u8>]) -> Vec<u8> {
    let body: Vec<u8> = sets.concat();
    let mut p = vec![0, 10];
    p.extend(((16 + body.len()) as u16).to_be_bytes());
    p.extend(1_700_000_000u32.to_be_bytes());
    p.extend(seq.to_be_bytes());
    p.extend(1u32.to_be_bytes());
    p.extend(body);
    p
}

fn set(id: u16, body: &[u8]) -> Vec<u8> {
    let mut s = id.to_be_bytes().to_vec();
    s.extend(((body.len() + 4) as u16).to_be_bytes());
    s.extend(body);
    s
}

#[test]
fn ipfix_templates_options_and_sampling() {
    let mut d = NetflowDecoder::new(NetflowOptions { renormalize: true, ..Default::default() });
    let mut out = Vec::new();
    // data before template: counted, dropped
    let data = set(256, &[10, 0, 0, 1, 0, 0, 0, 7, 1, 0x1c, 0, 0, 0, 0]);
    assert_eq!(d.decode(exporter(), 0, &ipfix(0, std::slice::from_ref(&data)), &mut out), Ok(0));
    assert_eq!(d.stats().total.missing_template, 1);
    let tpl = set(2, &[1, 0, 0, 4, 0, 8, 0, 4, 0, 2, 0, 4, 0, 48, 0, 1, 0, 6, 0, 1]);
    // options template 257: scope 48 (sampler id), 34 (interval)
    let otpl = set(3, &[1, 1, 0, 2, 0, 1, 0, 48, 0, 1, 0, 34, 0, 4]);
    let odata = set(257, &[1, 0, 0, 0, 100, 0, 0, 0]); // + 3 bytes padding
    let n = d.decode(exporter(), 0, &ipfix(1, &[tpl, otpl, odata, data]), &mut out).unwrap();
    assert_eq!(n, 1);
    let r = out[0];
    assert_eq!(r.fields.sampling_rate, 1, "applied (renormalize), then 1 as pmacct prints it");
    assert_eq!((r.counters.packets, r.counters.tcp_flags), (700, 0x1c));
    assert_eq!(r.fields.export_proto_version, 10);
    assert_eq!(r.fields.export_proto_sysid, 1);
    // persistence round trip
    let saved = d.save_templates();
    let mut d2 = NetflowDecoder::new(NetflowOptions { renormalize: true, ..Default::default() });
    assert_eq!(d2.load_templates(&saved).unwrap(), 2);
    let data = set(256, &[10, 0, 0, 1, 0, 0, 0, 7, 1, 0]);
    assert_eq!(d2.decode(exporter(), 0, &ipfix(5, std::slice::from_ref(&data)), &mut out), Ok(1));
    assert_eq!(out[1].counters.packets, 700);
    // withdrawal
    let w = set(2, &[1, 0, 0, 0]);
    assert_eq!(d2.decode(exporter(), 0, &ipfix(6, &[w, data]), &mut out), Ok(0));
    // bad set length keeps earlier sets
    let good = set(2, &[1, 2, 0, 1, 0, 8, 0, 4]);
    let mut bad = ipfix(7, &[good, vec![1, 2, 0, 200]]);
    let l = bad.len() as u16;
    bad[2..4].copy_from_slice(&l.to_be_bytes());
    assert!(matches!(
        d2.decode(exporter(), 0, &bad, &mut out),
        Err(NetflowError::BadSetLength { .. })
    ));
}

#[test]
fn limits_are_counted() {
    let opts =
        NetflowOptions { max_exporters: 1, max_templates_per_exporter: 1, ..Default::default() };
    let mut d = NetflowDecoder::new(opts);
    let mut out = Vec::new();
    let t = set(2, &[1, 0, 0, 1, 0, 8, 0, 4, 1, 1, 0, 1, 0, 8, 0, 4]);
    d.decode(exporter(), 0, &ipfix(0, &[t]), &mut out).unwrap();
    assert_eq!(d.stats().total.refused, 1);
    assert_eq!(d.stats().total.templates, 1);
    let other: SocketAddr = "192.0.2.2:1".parse().unwrap();
    assert!(d.decode(other, 0, &ipfix(0, &[]), &mut out).is_err());
    assert_eq!(d.stats().refused_exporters, 1);
}

#[test]
fn prefixes_and_mutations_never_panic() {
    let tpl = set(2, &[1, 0, 0, 3, 0, 8, 0, 4, 0x80, 1, 0xff, 0xff, 0, 0, 0, 9, 0, 2, 0, 4]);
    let data = set(256, &[10, 0, 0, 1, 2, 1, 2, 0, 0, 0, 7, 255, 0, 1, 9, 0, 0, 0, 1]);
    let dgrams = [ipfix(0, &[tpl, data]), v5_datagram(0, 3)];
    for p in &dgrams {
        let mut d = NetflowDecoder::new(NetflowOptions::default());
        let mut out = Vec::new();
        for n in 0..=p.len() {
            let _ = d.decode(exporter(), 0, &p[..n], &mut out);
        }
        for i in 0..p.len() {
            for v in [0u8, 0xff, 0x80, 1] {
                let mut q = p.clone();
                q[i] = v;
                let _ = d.decode(exporter(), 0, &q, &mut out);
            }
        }
    }
}
