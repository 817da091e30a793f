//! NetFlow/IPFIX decode cost: `bench/big_pmacct_nfprobe_ipfix.pcap.xz` (~183 k flow records),
//! `big_pmacct_nfprobe_v9.pcap.xz` and `big_softflowd_v5.pcap.xz`, each decompressed once into
//! the target directory, its datagrams held in memory; per iteration every datagram decoded
//! (`decode`) or decoded and aggregated by a 5-tuple print plugin (`decode+aggregate`).
//! Throughput is in flow records (criterion "elements").
//!
//! Run: `cargo bench -p pmacct-benches --bench netflow`.

use std::net::SocketAddr;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use pmacct_benches::data::capture;
use pmacct_user::aggregate::Aggregator;
use pmacct_user::config::PluginConfig;
use pmacct_user::decode::netflow::{NetflowDecoder, NetflowOptions};
use pmacct_user::input::datagram::read_datagrams;

type Datagrams = Vec<(SocketAddr, u64, Vec<u8>)>;

/// Records per aggregation batch (the daemon's capture replay uses 512).
const BATCH: usize = 512;

fn datagrams(name: &str) -> Datagrams {
    let mut v = Vec::new();
    read_datagrams(&capture(name), &[], |d| v.push((d.src, d.ts_us, d.payload.to_vec())))
        .expect("capture readable");
    v
}

fn five_tuple() -> PluginConfig {
    serde_json::from_value(serde_json::json!({
        "name": "p", "type": "print", "output": "csv", "refresh_time": 86400,
        "aggregate": "src_host, dst_host, src_port, dst_port, proto",
    }))
    .expect("plugin config")
}

fn decode_all(dgrams: &Datagrams, out: &mut Vec<pmacct_user::record::FlowRecord>) -> usize {
    let mut dec = NetflowDecoder::new(NetflowOptions::default());
    let mut n = 0;
    for (src, ts, p) in dgrams {
        out.clear();
        n += dec.decode(*src, *ts, p, out).unwrap_or(0);
    }
    n
}

fn bench(c: &mut Criterion) {
    let cfg = five_tuple();
    for (label, file) in [
        ("ipfix", "big_pmacct_nfprobe_ipfix.pcap"),
        ("v9", "big_pmacct_nfprobe_v9.pcap"),
        ("v5", "big_softflowd_v5.pcap"),
    ] {
        let dgrams = datagrams(file);
        let mut out = Vec::with_capacity(BATCH + 64);
        let records = decode_all(&dgrams, &mut out) as u64;
        eprintln!("netflow bench {label}: {} datagrams, {records} flow records", dgrams.len());
        let mut g = c.benchmark_group(format!("netflow_{label}"));
        g.throughput(Throughput::Elements(records));
        g.sample_size(10);
        g.bench_function("decode", |b| b.iter(|| decode_all(&dgrams, &mut out)));
        g.bench_function("decode+aggregate", |b| {
            b.iter(|| {
                let mut dec = NetflowDecoder::new(NetflowOptions::default());
                let mut agg =
                    Aggregator::with_options(std::slice::from_ref(&cfg), 0, false).expect("agg");
                // As the daemon replays a capture: records handed over in batches.
                out.clear();
                for (src, ts, p) in &dgrams {
                    let _ = dec.decode(*src, *ts, p, &mut out);
                    if out.len() >= BATCH {
                        agg.ingest_batch(&out, 0);
                        out.clear();
                    }
                }
                agg.ingest_batch(&out, 0);
                agg.flush_all(1).len()
            })
        });
        g.finish();
    }
}

criterion_group!(benches, bench);
criterion_main!(benches);
