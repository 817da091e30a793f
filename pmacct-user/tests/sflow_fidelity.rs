//! sFlow fidelity: `exports/pmacct_sfprobe.pcap` decoded, aggregated and printed must give exactly
//! the rows sfacctd 1.7.7 printed for it (`expected/pmacct_sfprobe.{5tuple,hosts,l2}.{csv,json}`,
//! made by `scripts/golden.sh`), compared as sets of lines.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use pmacct_user::aggregate::Aggregator;
use pmacct_user::config::PluginConfig;
use pmacct_user::decode::sflow::{SflowDecoder, SflowOptions};
use pmacct_user::input::datagram::read_datagrams;
use pmacct_user::sink::print::{PrintOptions, PrintSink};

fn shared(rel: &str) -> PathBuf {
    Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/../../shared/data")).join(rel)
}

fn check(agg_name: &str, aggregate: &str, format: &str) {
    let expected_text =
        std::fs::read_to_string(shared(&format!("expected/pmacct_sfprobe.{agg_name}.{format}")))
            .expect("expected output readable");
    let expected: BTreeSet<String> =
        expected_text.lines().filter(|l| !l.trim().is_empty()).map(str::to_string).collect();

    let cfg: PluginConfig = serde_json::from_value(serde_json::json!({
        "name": "p", "type": "print", "aggregate": aggregate, "output": format,
        "refresh_time": 86400,
    }))
    .expect("plugin config");
    let mut agg = Aggregator::with_options(std::slice::from_ref(&cfg), 0, false).expect("agg");
    let mut dec = SflowDecoder::new(SflowOptions::default());
    let (mut flows, mut counters) = (Vec::new(), Vec::new());
    let stats = read_datagrams(&shared("exports/pmacct_sfprobe.pcap"), &[], |d| {
        flows.clear();
        dec.decode(d.src, d.ts_us, d.payload, &mut flows, &mut counters).expect("decodes");
        for f in &flows {
            agg.ingest_at(f, 0);
        }
    })
    .expect("capture readable");
    assert_eq!(stats.datagrams, 3134);
    let total = dec.stats().total();
    assert_eq!(total.flow_samples, 19_995, "{total:?}");
    assert_eq!(total.lost_datagrams, 0);
    assert!(counters.is_empty());

    let mut sink = PrintSink::with_writer(&cfg, PrintOptions::default(), Box::new(std::io::sink()));
    let mut text = String::new();
    for (_, batch) in agg.flush_all(1) {
        text.push_str(&sink.render(&batch));
    }
    let got: BTreeSet<String> =
        text.lines().filter(|l| !l.trim().is_empty()).map(str::to_string).collect();
    let missing: Vec<_> = expected.difference(&got).take(5).collect();
    let extra: Vec<_> = got.difference(&expected).take(5).collect();
    assert!(
        missing.is_empty() && extra.is_empty(),
        "{agg_name}.{format}: {} expected lines, {} got; missing {missing:?}; extra {extra:?}",
        expected.len(),
        got.len()
    );
}

const FIVE_TUPLE: &str = "src_host, dst_host, src_port, dst_port, proto";
const HOSTS: &str = "src_host, dst_host";
const L2: &str = "src_mac, dst_mac, vlan, src_host, dst_host, proto";

#[test]
fn five_tuple_csv() {
    check("5tuple", FIVE_TUPLE, "csv");
}

#[test]
fn five_tuple_json() {
    check("5tuple", FIVE_TUPLE, "json");
}

#[test]
fn hosts_csv() {
    check("hosts", HOSTS, "csv");
}

#[test]
fn hosts_json() {
    check("hosts", HOSTS, "json");
}

#[test]
fn l2_csv() {
    check("l2", L2, "csv");
}

#[test]
fn l2_json() {
    check("l2", L2, "json");
}
