//! Cost of the aggregation-model stages on real flow records: the IPFIX records of
//! `bench/big_pmacct_nfprobe_ipfix.pcap.xz` (~183 k), decoded once, then aggregated per
//! iteration by one 5-tuple print plugin, plain or with an `aggregate_filter`, a networks_file
//! (`nfacctd_net`/`nfacctd_as: longest`, src_net/dst_net/src_as/dst_as) or a 10-rule
//! `pre_tag_map`; and with stitching (`timestamp_min`/`timestamp_max`), pro rating over 1-minute
//! bins, or `sum_host`. Throughput is in flow records.
//!
//! Run: `cargo bench -p pmacct-benches --bench aggmodel`.

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use pmacct_benches::data::capture;
use pmacct_user::aggregate::Aggregator;
use pmacct_user::config::PluginConfig;
use pmacct_user::decode::netflow::{NetflowDecoder, NetflowOptions};
use pmacct_user::input::datagram::read_datagrams;
use pmacct_user::record::FlowRecord;

fn records() -> Vec<FlowRecord> {
    let mut dec = NetflowDecoder::new(NetflowOptions::default());
    let mut out = Vec::new();
    read_datagrams(&capture("big_pmacct_nfprobe_ipfix.pcap"), &[], |d| {
        let _ = dec.decode(d.src, d.ts_us, d.payload, &mut out);
    })
    .expect("capture readable");
    out
}

fn plugin(extra: serde_json::Value) -> PluginConfig {
    let mut v = serde_json::json!({
        "name": "p", "type": "print", "output": "csv", "refresh_time": 86400,
        "aggregate": "src_host, dst_host, src_port, dst_port, proto",
    });
    if let (Some(o), Some(e)) = (v.as_object_mut(), extra.as_object()) {
        o.extend(e.clone());
    }
    serde_json::from_value(v).expect("plugin config")
}

fn bench(c: &mut Criterion) {
    let recs = records();
    let dir = std::env::temp_dir().join(format!("aggmodel-bench-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("tmp");
    let nets = dir.join("nets.lst");
    std::fs::write(
        &nets,
        "65100,10.0.0.0/8\n65101,10.1.0.0/16\n192.0.2.1,64512_65102,10.2.0.0/16\n65200,192.168.0.0/16\n\
         65201,192.168.10.0/24\n65300,203.0.113.0/24\n65301,203.0.113.128/25\n172.16.0.0/12\n\
         65400,2001:db8::/32\n65401,2001:db8:1::/48\n",
    )
    .expect("nets");
    let map = dir.join("tags.map");
    std::fs::write(
        &map,
        "set_tag=1 ip=10.9.9.9\nset_tag=2 in=77\nset_tag=3 src_net=198.51.100.0/24\nset_tag=4 vlan=999\n\
         set_tag=5 filter='src net 192.168.0.0/16 and tcp'\nset_tag=6 dst_net=203.0.113.0/24 jeq=t2\n\
         set_tag=7 filter='udp' jeq=t2\nset_tag=8\nset_tag2=20 filter='port 53' label=t2\nset_tag2=21\n",
    )
    .expect("map");
    let variants = [
        ("plain", serde_json::json!({})),
        (
            "aggregate_filter",
            serde_json::json!({"aggregate_filter": "(src net 10.0.0.0/8 or dst net 192.168.0.0/16) and not port 22"}),
        ),
        (
            "networks_file",
            serde_json::json!({
                "aggregate": "src_net, dst_net, src_as, dst_as, src_port, dst_port, proto",
                "networks": {"file": nets, "net": "longest", "as": "longest"}
            }),
        ),
        (
            "pre_tag_map",
            serde_json::json!({"pretag": {"map": map}, "aggregate": "tag, tag2, src_host, dst_host, src_port, dst_port, proto"}),
        ),
        ("stitching", serde_json::json!({"stitching": true})),
        ("pro_rating_1m", serde_json::json!({"history": "1m", "pro_rating": true})),
        ("bins_1m", serde_json::json!({"history": "1m"})),
        ("sum_host", serde_json::json!({"aggregate": "sum_host"})),
    ];
    let mut g = c.benchmark_group("aggmodel_ipfix");
    g.throughput(Throughput::Elements(recs.len() as u64));
    g.sample_size(10);
    for (name, extra) in variants {
        let cfg = plugin(extra);
        g.bench_function(name, |b| {
            b.iter(|| {
                let mut agg =
                    Aggregator::with_options(std::slice::from_ref(&cfg), 0, false).expect("agg");
                for r in &recs {
                    agg.ingest_at(r, 0);
                }
                agg.flush_all(1).len()
            })
        });
    }
    g.finish();
    let _ = std::fs::remove_dir_all(&dir);
}

criterion_group!(benches, bench);
criterion_main!(benches);
