//! The GeoIP v2 primitives (`src_host_country`, `dst_host_country`, `src_host_pocode`,
//! `dst_host_pocode`, `src_host_coords`, `dst_host_coords`) with `geoipv2_file` side by side
//! with nfacctd and pmacctd 1.7.7, on MaxMind's own test database (`tests/data/geoip/`) and
//! captures built here whose addresses are in it (with postal codes or without, with an
//! entry holding no location at all, IPv6) and not in it.

mod pcap_support;
mod pmacct_side_by_side;

use std::net::{IpAddr, Ipv4Addr};
use std::path::{Path, PathBuf};

use pcap_support::PcapWriter;
use pmacct_side_by_side::{PluginSpec, available, compare};

const ALL: &str = "src_host, dst_host, src_host_country, dst_host_country, src_host_pocode, \
                   dst_host_pocode, src_host_coords, dst_host_coords";

fn db() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/geoip/GeoIP2-City-Test.mmdb")
}

/// Source, destination, packets, bytes. Addresses and what the test database says of them:
/// 2.125.160.216/29 GB OX1 (51.75, -1.25); 216.160.83.56/29 US 98354; 81.2.69.142 GB without
/// postal code; 214.1.1.0/24 an entry with no country, postal code nor location; 2.3.3.0/24 a
/// continent only; 214.0.0.0/24 SG "59"; 214.0.1.0/24 AU 3000; 202.196.224.0/20 PH 34021;
/// 89.160.20.112/28 SE; 175.16.199.0/24 CN; 67.43.156.0/24 BT; 149.101.100.0/28 US;
/// 214.78.120.0/22 US 92105; 2001:218::/32 JP; 2a02:d3c0::/29 GB; 2001:250::/31 CN. The
/// 10/8, 192.0.2/24 and 2001:db8::/32 addresses are not in it.
const FLOWS: &[(&str, &str, u64, u64)] = &[
    ("2.125.160.216", "216.160.83.57", 3, 300),
    ("2.125.160.217", "216.160.83.58", 2, 200),
    ("81.2.69.142", "192.0.2.10", 1, 100),
    ("214.1.1.5", "2.125.160.218", 4, 400),
    ("10.0.0.1", "202.196.224.5", 5, 500),
    ("89.160.20.115", "175.16.199.3", 6, 600),
    ("2.3.3.4", "214.0.0.7", 7, 700),
    ("67.43.156.1", "149.101.100.2", 8, 800),
    ("214.78.120.1", "214.0.1.9", 9, 900),
    ("192.0.2.20", "10.1.2.3", 10, 1000),
    ("2.125.160.216", "216.160.83.57", 11, 1100),
    ("2001:218::1", "2a02:d3c0::5", 12, 1200),
    ("2001:db8::1", "2001:250::7", 13, 1300),
    ("2a02:d3c0::9", "2001:db8::2", 14, 1400),
];

/// IPFIX element ids.
const SRC4: u16 = 8;
const DST4: u16 = 12;
const SRC6: u16 = 27;
const DST6: u16 = 28;
const PROTO: u16 = 4;
const PACKETS: u16 = 2;
const OCTETS: u16 = 1;

/// One IPFIX message: header, then the sets.
fn message(seq: u32, sets: &[Vec<u8>]) -> Vec<u8> {
    let len: usize = 16 + sets.iter().map(Vec::len).sum::<usize>();
    let mut m = Vec::with_capacity(len);
    m.extend_from_slice(&10u16.to_be_bytes());
    m.extend_from_slice(&u16::try_from(len).expect("small message").to_be_bytes());
    m.extend_from_slice(&1_700_000_000u32.to_be_bytes());
    m.extend_from_slice(&seq.to_be_bytes());
    m.extend_from_slice(&7u32.to_be_bytes());
    for s in sets {
        m.extend_from_slice(s);
    }
    m
}

fn set(id: u16, body: &[u8]) -> Vec<u8> {
    let mut s = Vec::with_capacity(4 + body.len());
    s.extend_from_slice(&id.to_be_bytes());
    s.extend_from_slice(&u16::try_from(4 + body.len()).expect("small set").to_be_bytes());
    s.extend_from_slice(body);
    s
}

fn template(id: u16, fields: &[(u16, u16)]) -> Vec<u8> {
    let mut t = Vec::new();
    t.extend_from_slice(&id.to_be_bytes());
    t.extend_from_slice(&u16::try_from(fields.len()).expect("few fields").to_be_bytes());
    for (ie, len) in fields {
        t.extend_from_slice(&ie.to_be_bytes());
        t.extend_from_slice(&len.to_be_bytes());
    }
    t
}

/// An IPFIX export of [`FLOWS`] (templates 256 for IPv4 and 257 for IPv6, one flow per data
/// set) as a capture.
fn ipfix_capture(out: &Path) {
    let v4 = [(SRC4, 4), (DST4, 4), (PROTO, 1), (PACKETS, 8), (OCTETS, 8)];
    let v6 = [(SRC6, 16), (DST6, 16), (PROTO, 1), (PACKETS, 8), (OCTETS, 8)];
    let mut tpl = template(256, &v4);
    tpl.extend(template(257, &v6));
    let mut sets = vec![set(2, &tpl)];
    for (src, dst, packets, bytes) in FLOWS {
        let (src, dst): (IpAddr, IpAddr) = (src.parse().expect("ip"), dst.parse().expect("ip"));
        let mut rec = Vec::new();
        let id = match (src, dst) {
            (IpAddr::V4(s), IpAddr::V4(d)) => {
                rec.extend_from_slice(&s.octets());
                rec.extend_from_slice(&d.octets());
                256
            }
            (IpAddr::V6(s), IpAddr::V6(d)) => {
                rec.extend_from_slice(&s.octets());
                rec.extend_from_slice(&d.octets());
                257
            }
            _ => panic!("mixed families"),
        };
        rec.push(17);
        rec.extend_from_slice(&packets.to_be_bytes());
        rec.extend_from_slice(&bytes.to_be_bytes());
        sets.push(set(id, &rec));
    }
    let mut pcap = PcapWriter::default();
    // Three messages: the templates with the first flows, then the rest.
    let rest = sets.split_off(6);
    pcap.datagram(Ipv4Addr::new(192, 0, 2, 99), 2100, &message(1, &sets));
    let (a, b) = rest.split_at(rest.len() / 2);
    pcap.datagram(Ipv4Addr::new(192, 0, 2, 99), 2100, &message(2, a));
    pcap.datagram(Ipv4Addr::new(192, 0, 2, 99), 2100, &message(3, b));
    pcap.write(out);
}

fn plugins() -> Vec<PluginSpec> {
    let mut specs = Vec::new();
    for (fmt, out) in [("csv", "csv"), ("json", "json"), ("fmt", "formatted")] {
        specs.push(PluginSpec::new(fmt, &[("aggregate", ALL), ("print_output", out)]));
    }
    specs.extend([
        // Different addresses merge under one country / postal code / location.
        PluginSpec::new("country", &[("aggregate", "src_host_country, dst_host_country")]),
        PluginSpec::new("pocode", &[("aggregate", "dst_host_pocode, proto")]),
        PluginSpec::new(
            "coords_json",
            &[("aggregate", "src_host_coords, dst_host_country"), ("print_output", "json")],
        ),
    ]);
    specs
}

fn global() -> String {
    format!("geoipv2_file: {}\n", db().display())
}

#[test]
fn geoip_primitives_match_nfacctd() {
    if !available("nfacctd") {
        eprintln!("nfacctd absent: skipped");
        return;
    }
    let dir = tempfile::tempdir().expect("tmp");
    let cap = dir.path().join("geoip-ipfix.pcap");
    ipfix_capture(&cap);
    let cap = cap.display().to_string();
    let failures = compare("nfacctd", &cap, &global(), &plugins(), 40);
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn geoip_primitives_match_pmacctd() {
    if !available("pmacctd") {
        eprintln!("pmacctd absent: skipped");
        return;
    }
    let dir = tempfile::tempdir().expect("tmp");
    let cap = dir.path().join("geoip-packets.pcap");
    // UDP packets from the IPv4 sources above (to 192.0.2.1, not in the database).
    let mut pcap = PcapWriter::default();
    for (i, (src, _, packets, _)) in FLOWS.iter().enumerate() {
        let Ok(IpAddr::V4(src)) = src.parse::<IpAddr>() else { continue };
        for _ in 0..*packets {
            pcap.datagram(src, 5000 + u16::try_from(i).expect("few flows"), &[0u8; 32]);
        }
    }
    pcap.write(&cap);
    let cap = cap.display().to_string();
    let failures = compare("pmacctd", &cap, &global(), &plugins(), 30);
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn a_missing_geoipv2_file_is_a_config_error() {
    let dir = tempfile::tempdir().expect("tmp");
    let conf = dir.path().join("nf.conf");
    std::fs::write(
        &conf,
        format!(
            "plugins: print[p]\naggregate[p]: src_host_country\ngeoipv2_file: {}\n",
            dir.path().join("absent.mmdb").display()
        ),
    )
    .expect("conf");
    let out = std::process::Command::new(pmacct_side_by_side::BIN)
        .args(["nfacctd", "-f"])
        .arg(&conf)
        .output()
        .expect("run");
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "accepted a missing geoipv2_file:\n{err}");
    assert!(err.contains("geoipv2_file"), "error does not name the key:\n{err}");
}

#[test]
fn native_config_takes_geoipv2_file_per_plugin() {
    let dir = tempfile::tempdir().expect("tmp");
    let conf = dir.path().join("nf.conf");
    std::fs::write(
        &conf,
        format!(
            "plugins: print[p]\naggregate: src_host_coords\ngeoipv2_file: {}\n",
            db().display()
        ),
    )
    .expect("conf");
    let toml = dir.path().join("c.toml");
    let native = |file: &Path| {
        format!(
            "[[plugin]]\nname = \"p\"\ntype = \"print\"\naggregate = \"src_host_coords\"\n\
             geoipv2_file = \"{}\"\n",
            file.display()
        )
    };
    std::fs::write(&toml, native(&db())).expect("toml");
    let (from_conf, _) = pmacct_user::config::read_pmacct(&conf).expect("conf loads");
    let from_toml = pmacct_user::config::load(Some(&toml), &[]).expect("toml loads");
    assert_eq!(from_conf, from_toml);
    std::fs::write(&toml, native(&dir.path().join("absent.mmdb"))).expect("toml");
    let e = pmacct_user::config::load(Some(&toml), &[]).expect_err("missing file refused");
    assert!(e.to_string().contains("geoipv2_file"), "{e}");
}

/// sFlow: the shared sfprobe capture's addresses are not in the test database, so this checks
/// the empty values (and that lookups run on sFlow samples) rather than found ones.
#[test]
fn geoip_primitives_match_sfacctd_on_addresses_not_found() {
    if !available("sfacctd") {
        eprintln!("sfacctd or shared data absent: skipped");
        return;
    }
    let specs = [
        PluginSpec::new("csv", &[("aggregate", ALL)]),
        PluginSpec::new("json", &[("aggregate", ALL), ("print_output", "json")]),
    ];
    let failures = compare("sfacctd", "pmacct_sfprobe", &global(), &specs, 20);
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
