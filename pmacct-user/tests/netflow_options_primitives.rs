//! `class`, `mpls_vpn_rd` and `mpls_pw_id` side by side with nfacctd 1.7.7, on a capture built
//! here so every case occurs: application names announced by options data of a domain and of an
//! exporter's system scope (and ids nobody named), VRF ids mapped to route distinguishers by
//! system-scope options (and unmapped ones), the RD element itself, pseudowire ids.

mod pcap_support;
mod pmacct_side_by_side;

use std::net::Ipv4Addr;

use pcap_support::PcapWriter;
use pmacct_side_by_side::{PluginSpec, available, compare};

/// One set: id, then the body padded to 4 bytes.
fn set(id: u16, body: &[u8]) -> Vec<u8> {
    let mut b = body.to_vec();
    while !b.len().is_multiple_of(4) {
        b.push(0);
    }
    let mut s = id.to_be_bytes().to_vec();
    s.extend_from_slice(&u16::try_from(b.len() + 4).expect("small set").to_be_bytes());
    s.extend(b);
    s
}

fn fields(spec: &[(u16, u16)]) -> Vec<u8> {
    spec.iter().flat_map(|(id, len)| [id.to_be_bytes(), len.to_be_bytes()].concat()).collect()
}

fn ipfix(seq: u32, domain: u32, sets: &[Vec<u8>]) -> Vec<u8> {
    let body: Vec<u8> = sets.concat();
    let mut m = 10u16.to_be_bytes().to_vec();
    m.extend_from_slice(&u16::try_from(16 + body.len()).expect("small").to_be_bytes());
    m.extend_from_slice(&1_767_225_600u32.to_be_bytes()); // 2026-01-01
    m.extend_from_slice(&seq.to_be_bytes());
    m.extend_from_slice(&domain.to_be_bytes());
    m.extend(body);
    m
}

fn v9(seq: u32, source: u32, sets: &[Vec<u8>]) -> Vec<u8> {
    let mut m = 9u16.to_be_bytes().to_vec();
    m.extend_from_slice(&u16::try_from(sets.len()).expect("few").to_be_bytes());
    m.extend_from_slice(&100_000u32.to_be_bytes()); // sysUptime ms
    m.extend_from_slice(&1_767_225_600u32.to_be_bytes());
    m.extend_from_slice(&seq.to_be_bytes());
    m.extend_from_slice(&source.to_be_bytes());
    m.extend(sets.concat());
    m
}

/// Data template 256 of both exporters.
const DATA: &[(u16, u16)] = &[
    (8, 4),   // sourceIPv4Address
    (12, 4),  // destinationIPv4Address
    (4, 1),   // protocolIdentifier
    (2, 4),   // packetDeltaCount
    (1, 4),   // octetDeltaCount
    (95, 3),  // applicationId: engine + 2 bytes
    (90, 8),  // mplsVpnRouteDistinguisher
    (249, 4), // pseudoWireId
    (234, 4), // ingressVRFID
    (235, 4), // egressVRFID
    (61, 1),  // flowDirection
];

struct Flow {
    src: [u8; 4],
    app: u16,
    rd: [u8; 8],
    pw: u32,
    vrf_in: u32,
    vrf_out: u32,
    dir: u8,
}

fn record(f: &Flow) -> Vec<u8> {
    let mut r = f.src.to_vec();
    r.extend_from_slice(&[198, 51, 100, 1, 6]);
    r.extend_from_slice(&3u32.to_be_bytes());
    r.extend_from_slice(&1500u32.to_be_bytes());
    r.push(13); // classification engine
    r.extend_from_slice(&f.app.to_be_bytes());
    r.extend_from_slice(&f.rd);
    r.extend_from_slice(&f.pw.to_be_bytes());
    r.extend_from_slice(&f.vrf_in.to_be_bytes());
    r.extend_from_slice(&f.vrf_out.to_be_bytes());
    r.push(f.dir);
    r
}

/// Options record: application id (engine 13 + 2 bytes) and a 16-byte name.
fn app_name(scope: &[u8], app: u16, name: &str) -> Vec<u8> {
    let mut r = scope.to_vec();
    r.push(13);
    r.extend_from_slice(&app.to_be_bytes());
    let mut n = name.as_bytes().to_vec();
    n.resize(16, 0);
    r.extend(n);
    r
}

fn flows() -> Vec<Flow> {
    let rd0 = [0u8; 8];
    let rd_as = [0, 0, 0xfd, 0xe8, 0, 0, 0, 42]; // 0:65000:42
    let rd_ip = [0, 1, 192, 0, 2, 1, 0, 9]; // 1:192.0.2.1:9
    let f = |src: u8, app: u16, rd, pw, vrf_in, vrf_out, dir| Flow {
        src: [10, 0, 0, src],
        app,
        rd,
        pw,
        vrf_in,
        vrf_out,
        dir,
    };
    vec![
        f(1, 80, rd0, 0, 0, 0, 0),      // named by the domain's options
        f(2, 443, rd0, 0, 0, 0, 0),     // named by the system scope (v9 only)
        f(3, 999, rd0, 0, 0, 0, 0),     // named by nobody
        f(4, 80, rd_as, 7, 0, 0, 0),    // the RD element, a pseudowire
        f(5, 80, rd_ip, 0, 0, 0, 0),    // RD of type 1
        f(6, 80, rd0, 0, 7, 0, 0),      // ingress VRF 7, mapped
        f(7, 80, rd0, 0, 0, 8, 1),      // egress VRF 8, mapped
        f(8, 80, rd_as, 0, 9, 0, 0),    // ingress VRF 9, unmapped: the RD element counts
        f(9, 80, rd0, 70_000, 7, 8, 1), // both VRFs, egress direction
    ]
}

fn capture(path: &std::path::Path) {
    let mut pcap = PcapWriter::default();
    let recs: Vec<u8> = flows().iter().flat_map(record).collect();
    // IPFIX exporter: options scoped to its observation domain name application 80.
    let tpl = set(
        2,
        &[256u16.to_be_bytes().to_vec(), (DATA.len() as u16).to_be_bytes().to_vec(), fields(DATA)]
            .concat(),
    );
    let opt_fields = fields(&[(149, 4), (95, 3), (96, 16)]);
    let opt_tpl = set(3, &[vec![1, 1, 0, 3, 0, 1], opt_fields].concat());
    let names = set(257, &app_name(&7u32.to_be_bytes(), 80, "http"));
    let a = Ipv4Addr::new(192, 0, 2, 10);
    pcap.datagram(a, 4739, &ipfix(1, 7, &[tpl, opt_tpl, names]));
    pcap.datagram(a, 4739, &ipfix(3, 7, &[set(256, &recs)]));
    // v9 exporter: options of System scope map VRFs to RDs and name application 443; options of
    // its source id name application 80.
    let b = Ipv4Addr::new(192, 0, 2, 20);
    let v9_tpl = set(
        0,
        &[256u16.to_be_bytes().to_vec(), (DATA.len() as u16).to_be_bytes().to_vec(), fields(DATA)]
            .concat(),
    );
    // v9 options template: id, scope length, option length, scope fields, option fields.
    let v9_opt = |id: u16, scope: &[(u16, u16)], opts: &[(u16, u16)]| {
        let (s, o) = (fields(scope), fields(opts));
        let mut b = id.to_be_bytes().to_vec();
        b.extend_from_slice(&(s.len() as u16).to_be_bytes());
        b.extend_from_slice(&(o.len() as u16).to_be_bytes());
        b.extend(s);
        b.extend(o);
        set(1, &b)
    };
    let vrf_tpl = v9_opt(258, &[(1, 4)], &[(234, 4), (235, 4), (90, 8)]);
    let sys_names = v9_opt(259, &[(1, 4)], &[(95, 3), (96, 16)]);
    let dom_names = v9_opt(260, &[(2, 4)], &[(95, 3), (96, 16)]);
    let vrf = |vin: u32, vout: u32, rd: [u8; 8]| {
        [0u32.to_be_bytes(), vin.to_be_bytes(), vout.to_be_bytes()]
            .concat()
            .into_iter()
            .chain(rd)
            .collect::<Vec<u8>>()
    };
    let vrfs = set(
        258,
        &[vrf(7, 0, [0, 0, 0xfd, 0xe8, 0, 0, 0, 5]), vrf(0, 8, [0, 2, 0, 1, 0x11, 0x70, 0, 3])]
            .concat(),
    );
    let sys = set(259, &app_name(&0u32.to_be_bytes(), 443, "https-global"));
    let dom = set(260, &app_name(&1u32.to_be_bytes(), 80, "http-domain"));
    pcap.datagram(b, 2055, &v9(1, 3, &[v9_tpl, vrf_tpl, sys_names, dom_names]));
    pcap.datagram(b, 2055, &v9(2, 3, &[vrfs, sys, dom]));
    pcap.datagram(b, 2055, &v9(3, 3, &[set(256, &recs)]));
    pcap.write(path);
}

#[test]
fn class_and_vpn_primitives_print_what_nfacctd_prints() {
    if !available("nfacctd") {
        eprintln!("nfacctd 1.7.7 or the shared data missing: skipped");
        return;
    }
    let dir = tempfile::tempdir().expect("tmp");
    let pcap = dir.path().join("apps.pcap");
    capture(&pcap);
    let agg = "class, peer_src_ip, mpls_vpn_rd, mpls_pw_id, src_host, dst_host, proto";
    let plugins = [
        PluginSpec::new("csv", &[("aggregate", agg)]),
        PluginSpec::new("json", &[("aggregate", agg), ("print_output", "json")]),
        PluginSpec::new(
            "fmt",
            &[
                ("aggregate", "class, mpls_vpn_rd, mpls_pw_id, src_host"),
                ("print_output", "formatted"),
            ],
        ),
    ];
    let path = pcap.to_str().expect("utf-8 path");
    let diffs = compare("nfacctd", path, "", &plugins, 30);
    assert!(diffs.is_empty(), "{}", diffs.join("\n"));
    // What the capture is built to show, in our own output.
    let out = dir.path().join("out");
    std::fs::create_dir_all(&out).expect("dir");
    let conf = dir.path().join("ours.conf");
    let text = pmacct_side_by_side::conf(&pcap, "", &plugins[..1], &out);
    std::fs::write(&conf, text + pmacct_side_by_side::OURS_ONLY).expect("conf");
    pmacct_side_by_side::run_ours("nfacctd", &conf);
    let ours = pmacct_side_by_side::rows(&out.join("csv"));
    for want in [
        "http,192.0.2.10,0:0:0,0,10.0.0.1,",
        "unknown,192.0.2.10,0:0:0,0,10.0.0.2,",
        "https-global,192.0.2.20,0:0:0,0,10.0.0.2,",
        "http-domain,192.0.2.20,0:65000:42,7,10.0.0.4,",
        "http-domain,192.0.2.20,1:192.0.2.1:9,0,10.0.0.5,",
        "http-domain,192.0.2.20,0:65000:5,0,10.0.0.6,",
        "http-domain,192.0.2.20,2:70000:3,0,10.0.0.7,",
        "http-domain,192.0.2.20,2:70000:3,70000,10.0.0.9,",
        "http-domain,192.0.2.20,0:65000:42,0,10.0.0.8,",
        "http,192.0.2.10,vrfid:9,0,10.0.0.8,",
        "vrfid:7",
    ] {
        assert!(ours.iter().any(|r| r.contains(want)), "no row with {want}: {ours:?}");
    }
}
