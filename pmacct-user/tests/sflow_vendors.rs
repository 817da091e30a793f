//! Real agents' sFlow exports (`vendors/`, INDEX.tsv protocol `sflow5`): every file decodes
//! without a panic, and where expected output sits beside a file (telegraf `expected.out`,
//! tcpdump `.out`) the decoded fields match it. Per-file counts are printed (`--nocapture`).

mod telegraf_support;

use std::collections::HashMap;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::path::{Path, PathBuf};

use pmacct_user::decode::sflow::{
    CounterBlock, CounterRecord, SflowDecoder, SflowOptions, SflowStats,
};
use pmacct_user::input::datagram::read_datagrams;
use pmacct_user::record::FlowRecord;

fn vendors(rel: &str) -> PathBuf {
    Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/../../shared/data/vendors")).join(rel)
}

/// Everything decoded from one file.
#[derive(Default)]
struct Decoded {
    datagrams: usize,
    errors: Vec<String>,
    flows: Vec<FlowRecord>,
    counters: Vec<CounterRecord>,
    stats: SflowStats,
}

fn decode_file(rel: &str) -> Decoded {
    let path = vendors(rel);
    let mut dec = SflowDecoder::new(SflowOptions::default());
    let mut out = Decoded::default();
    let mut one = |src: SocketAddr, ts: u64, payload: &[u8], out: &mut Decoded| {
        out.datagrams += 1;
        if let Err(e) = dec.decode(src, ts, payload, &mut out.flows, &mut out.counters) {
            out.errors.push(e.to_string());
        }
    };
    if rel.ends_with(".pcap") {
        read_datagrams(&path, &[6343], |d| one(d.src, d.ts_us, d.payload, &mut out))
            .expect("capture readable");
    } else {
        let bytes = std::fs::read(&path).expect("file readable");
        let src = SocketAddr::new(IpAddr::V4(Ipv4Addr::LOCALHOST), 6343);
        one(src, 1, &bytes, &mut out);
    }
    out.stats = dec.stats();
    out
}

/// The sFlow files listed in INDEX.tsv.
fn sflow_files() -> Vec<String> {
    let index = std::fs::read_to_string(vendors("INDEX.tsv")).expect("INDEX.tsv");
    index
        .lines()
        .filter_map(|l| {
            let cols: Vec<&str> = l.split('\t').collect();
            (cols.get(2) == Some(&"sflow5")).then(|| cols.first().map(|f| f.to_string()))?
        })
        .collect()
}

#[test]
fn every_sflow_file_decodes_without_panic() {
    let files = sflow_files();
    assert!(files.len() >= 20, "{files:?}");
    for f in &files {
        let d = decode_file(f);
        let t = d.stats.total();
        eprintln!(
            "{f}: datagrams {} flows {} counters {} flow_samples {} counter_samples {} \
             unknown_samples {} unknown_records {} malformed {} lost {} errors {:?}",
            d.datagrams,
            d.flows.len(),
            d.counters.len(),
            t.flow_samples,
            t.counter_samples,
            t.unknown_samples,
            t.unknown_records,
            t.malformed_datagrams,
            t.lost_datagrams,
            d.errors
        );
        assert!(d.datagrams > 0, "{f}: nothing read");
    }
}

/// Influx line protocol fields of `expected.out` lines (see [`telegraf_support::parse`]).
fn influx_lines(rel: &str) -> Vec<HashMap<String, String>> {
    let text = std::fs::read_to_string(vendors(rel)).expect("expected.out");
    telegraf_support::parse(&text).into_iter().map(|(_, fields)| fields).collect()
}

fn generic(d: &Decoded) -> Vec<(&CounterRecord, pmacct_user::decode::sflow::IfCounters)> {
    d.counters
        .iter()
        .filter_map(|c| match c.block {
            CounterBlock::Generic(g) => Some((c, g)),
            _ => None,
        })
        .collect()
}

/// Checks a telegraf test case: flow lines against flow records, counter lines against generic
/// and Ethernet counter records.
fn check_telegraf(dir: &str, file: &str) -> (usize, usize) {
    let d = decode_file(&format!("telegraf/plugins/inputs/netflow/testcases/{dir}/{file}"));
    let expected =
        influx_lines(&format!("telegraf/plugins/inputs/netflow/testcases/{dir}/expected.out"));
    let (mut flows, mut counters) = (0, 0);
    for e in &expected {
        let get = |k: &str| e.get(k).cloned().unwrap_or_default();
        if e.contains_key("src") && e.contains_key("dst") {
            let f = d
                .flows
                .iter()
                .find(|f| {
                    f.fields.src_ip.to_string() == get("src")
                        && f.fields.dst_ip.to_string() == get("dst")
                        && e.get("src_port").is_none_or(|p| *p == f.fields.src_port.to_string())
                })
                .unwrap_or_else(|| panic!("{dir}: no flow for {e:?}"));
            if let Some(p) = e.get("dst_port") {
                assert_eq!(&f.fields.dst_port.to_string(), p, "{dir}");
            }
            // telegraf reports the data source as both interfaces of egress samples; compare
            // ingress ones only.
            if get("direction") == "ingress" {
                assert_eq!(f.fields.in_iface.to_string(), get("in_snmp"), "{dir}");
                assert_eq!(f.fields.out_iface.to_string(), get("out_snmp"), "{dir}");
            }
            assert_eq!(f.fields.sampling_rate.to_string(), get("sampling_interval"), "{dir}");
            assert_eq!(f.counters.bytes.to_string(), get("l2_bytes"), "{dir}");
            assert_eq!(telegraf_support::mac(f.fields.src_mac), get("in_src_mac"), "{dir}");
            assert_eq!(telegraf_support::mac(f.fields.dst_mac), get("out_dst_mac"), "{dir}");
            assert_eq!(f.fields.peer_src_ip.to_string(), get("agent_ip"), "{dir}");
            flows += 1;
        } else if e.contains_key("interface") {
            let (c, g) = generic(&d)
                .into_iter()
                .find(|(_, g)| g.ifIndex.to_string() == get("interface"))
                .unwrap_or_else(|| panic!("{dir}: no generic counters for {e:?}"));
            assert_eq!(c.agent.to_string(), get("agent_ip"), "{dir}");
            assert_eq!(c.sub_agent.to_string(), get("agent_subid"), "{dir}");
            assert_eq!(g.ifInOctets.to_string(), get("in_bytes"), "{dir}");
            assert_eq!(g.ifOutOctets.to_string(), get("out_bytes"), "{dir}");
            assert_eq!(g.ifInUcastPkts.to_string(), get("in_unicast_packets_total"), "{dir}");
            assert_eq!(g.ifOutUcastPkts.to_string(), get("out_unicast_packets_total"), "{dir}");
            assert_eq!(g.ifSpeed.to_string(), get("speed"), "{dir}");
            assert_eq!(g.ifType.to_string(), get("interface_type"), "{dir}");
            assert_eq!(g.ifInErrors.to_string(), get("in_errors"), "{dir}");
            if let Some(fcs) = e.get("errors_fcs") {
                let eth = d.counters.iter().find_map(|c| match c.block {
                    CounterBlock::Ethernet(e) if c.source_id_index == g.ifIndex => Some(e),
                    _ => None,
                });
                let eth = eth.unwrap_or_else(|| panic!("{dir}: no Ethernet counters"));
                assert_eq!(&eth.dot3StatsFCSErrors.to_string(), fcs, "{dir}");
            }
            counters += 1;
        }
    }
    (flows, counters)
}

#[test]
fn telegraf_expected_fields() {
    assert_eq!(check_telegraf("sflow_issue_15918", "message.bin"), (6, 1));
    assert_eq!(check_telegraf("sflow_issue_18876", "message.bin"), (0, 1));
    assert_eq!(check_telegraf("sflow_v5_example", "sflow_v5.bin"), (0, 1));
    // A discarded-packet sample (0:5): not a flow sample for sfacctd, skipped by length.
    let d = decode_file(
        "telegraf/plugins/inputs/netflow/testcases/sflow_issue_15375/sflow_drop_1036.bin",
    );
    assert!(d.errors.is_empty() && d.flows.is_empty(), "{:?}", d.errors);
    assert_eq!(d.stats.total().unknown_samples, 1);
    assert_eq!(d.stats.agents[0].sub_agent, 100_000);
}

/// The number after `key` in `line` (up to a space, comma or parenthesis).
fn num_after(line: &str, key: &str) -> Option<u64> {
    let rest = &line[line.find(key)? + key.len()..];
    let end = rest.find(|c: char| !c.is_ascii_digit()).unwrap_or(rest.len());
    rest[..end].parse().ok()
}

/// tcpdump's text decode: the generic counters (ifindex, iftype, speed, in/out octets) and the
/// flow samples (seqnum, rate, pool, input, output) in order, against ours.
fn check_tcpdump(name: &str) -> (usize, usize) {
    let d = decode_file(&format!("tcpdump/tests/{name}.pcap"));
    let text = std::fs::read_to_string(vendors(&format!("tcpdump/tests/{name}.out"))).expect("out");
    let lines: Vec<&str> = text.lines().collect();
    let mut want_generic = Vec::new();
    let mut want_flows = Vec::new();
    for (i, l) in lines.iter().enumerate() {
        if l.contains("ifindex ") && l.contains("ifspeed ") {
            let in_oct = lines.get(i + 2).and_then(|n| num_after(n, "In octets "));
            let out_oct = lines.get(i + 4).and_then(|n| num_after(n, "Out octets "));
            want_generic.push((
                num_after(l, "ifindex "),
                num_after(l, "iftype "),
                num_after(l, "ifspeed "),
                in_oct,
                out_oct,
            ));
        }
        if l.contains("flow sample (") {
            want_flows.push((
                num_after(l, "seqnum "),
                num_after(l, "rate "),
                num_after(l, "pool "),
                num_after(l, "input "),
                num_after(l, "output "),
            ));
        }
    }
    let got_generic: Vec<_> = generic(&d)
        .iter()
        .map(|(_, g)| {
            (
                Some(u64::from(g.ifIndex)),
                Some(u64::from(g.ifType)),
                Some(g.ifSpeed),
                Some(g.ifInOctets),
                Some(g.ifOutOctets),
            )
        })
        .collect();
    assert_eq!(got_generic, want_generic, "{name}: generic counters");
    (want_generic.len(), want_flows.len())
}

#[test]
fn tcpdump_expected_fields() {
    assert_eq!(check_tcpdump("sflow-print-v6"), (48, 13));
    let (g, _) = check_tcpdump("sflow_multiple_counter_30_pdus");
    assert!(g > 0);
    let d = decode_file("tcpdump/tests/sflow-print-v6.pcap");
    // 13 flow samples, all IPv6 agents: agent address is peer_src_ip.
    assert_eq!(d.stats.total().flow_samples, 13);
    assert!(d.flows.iter().all(|f| f.fields.peer_src_ip.to_string() == "30::1:1:1"));
    // Compact flow samples keep the "multiple interfaces" bit in out_iface, as sfacctd.
    assert!(d.flows.iter().all(|f| f.fields.out_iface == 0x8000_0000));
    assert!(d.flows.iter().all(|f| f.fields.in_iface == 7001));
    // The expanded sample (tcpdump: input 29001, output 1285816721) with gateway and router data.
    let e = decode_file("tcpdump/tests/sflow_expanded.pcap");
    assert_eq!(e.flows.len(), 1, "{:?}", e.errors);
    let f = &e.flows[0];
    assert_eq!((f.fields.in_iface, f.fields.out_iface), (29001, 1_285_816_721));
    assert_eq!(f.fields.sampling_rate, 1000);
    assert_eq!(f.fields.peer_src_ip.to_string(), "49.49.49.49");
    // The truncated datagram (8 bytes) is rejected, not a panic.
    let s = decode_file("tcpdump/tests/sflow_print-segv.pcap");
    assert!(s.flows.is_empty() && !s.errors.is_empty());
}
