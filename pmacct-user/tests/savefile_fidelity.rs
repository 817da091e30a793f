//! `pcap_savefile` fidelity: accounting `traffic/small.pcap` must give exactly the rows pmacctd
//! 1.7.7 printed for the same capture (`expected/traffic_small.pmacctd.*.csv`), compared as sets.

use std::collections::{BTreeSet, HashMap};
use std::net::IpAddr;
use std::path::{Path, PathBuf};

use pmacct_user::aggregate::PrimitiveSet;
use pmacct_user::input::savefile::{SavefileOptions, account_file};
use pmacct_user::record::{Counters, FlowFields};

fn shared(rel: &str) -> PathBuf {
    Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/../../shared/data")).join(rel)
}

/// pmacct's protocol names as the print plugin shows them.
fn proto_name(p: u8) -> String {
    match p {
        1 => "icmp".into(),
        6 => "tcp".into(),
        17 => "udp".into(),
        58 => "ipv6-icmp".into(),
        132 => "sctp".into(),
        other => other.to_string(),
    }
}

fn mac(m: [u8; 6]) -> String {
    m.iter().map(|b| format!("{b:02x}")).collect::<Vec<_>>().join(":")
}

fn ip(a: IpAddr) -> String {
    a.to_string()
}

/// One CSV cell for `header` from an aggregate key.
fn cell(header: &str, k: &FlowFields) -> String {
    match header {
        "SRC_MAC" => mac(k.src_mac),
        "DST_MAC" => mac(k.dst_mac),
        "VLAN" => k.vlan.to_string(),
        "SRC_IP" => ip(k.src_ip),
        "DST_IP" => ip(k.dst_ip),
        "SRC_PORT" => k.src_port.to_string(),
        "DST_PORT" => k.dst_port.to_string(),
        "PROTOCOL" => proto_name(k.proto),
        other => panic!("no formatter for column {other}"),
    }
}

fn check(agg_name: &str, aggregate: &str) {
    let csv =
        std::fs::read_to_string(shared(&format!("expected/traffic_small.pmacctd.{agg_name}.csv")))
            .expect("expected CSV readable");
    let mut lines = csv.lines();
    let header: Vec<&str> = lines.next().expect("header").split(',').collect();
    let expected: BTreeSet<String> =
        lines.filter(|l| !l.trim().is_empty()).map(str::to_string).collect();

    let set = PrimitiveSet::parse(aggregate).expect("aggregate parses");
    let mut table: HashMap<FlowFields, Counters> = HashMap::new();
    let stats = account_file(&shared("traffic/small.pcap"), &SavefileOptions::default(), |r| {
        table.entry(set.mask(&r.fields)).or_default().merge(&r.counters);
    })
    .expect("capture readable");
    assert_eq!(stats.packets_read, 20_000);
    assert_eq!(stats.emitted, 20_000, "{stats:?}");

    let key_cols = header.len() - 2;
    let got: BTreeSet<String> = table
        .iter()
        .map(|(k, c)| {
            let mut row: Vec<String> = header[..key_cols].iter().map(|h| cell(h, k)).collect();
            row.push(c.packets.to_string());
            row.push(c.bytes.to_string());
            row.join(",")
        })
        .collect();
    let missing: Vec<_> = expected.difference(&got).take(10).collect();
    let extra: Vec<_> = got.difference(&expected).take(10).collect();
    assert!(
        missing.is_empty() && extra.is_empty(),
        "{agg_name}: {} expected rows, {} got; missing {missing:?}; extra {extra:?}",
        expected.len(),
        got.len()
    );
}

#[test]
fn five_tuple_matches_pmacctd() {
    check("5tuple", "src_host, dst_host, src_port, dst_port, proto");
}

#[test]
fn hosts_match_pmacctd() {
    check("hosts", "src_host, dst_host");
}

#[test]
fn l2_matches_pmacctd() {
    check("l2", "src_mac, dst_mac, vlan, src_host, dst_host, proto");
}
