//! sFlow v5 decode cost: `bench/big_pmacct_sfprobe.pcap.xz` (300 k flow samples) decompressed
//! once into the target directory, its datagrams held in memory, then per iteration every
//! datagram decoded (`decode`) or decoded and aggregated by a 5-tuple print plugin
//! (`decode+aggregate`). Throughput is reported in samples (criterion "elements").
//!
//! Run: `cargo bench -p pmacct-benches --bench sflow` (or `cargo xtask bench sflow`).

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use pmacct_benches::data::capture;
use pmacct_user::aggregate::Aggregator;
use pmacct_user::config::PluginConfig;
use pmacct_user::decode::sflow::{SflowDecoder, SflowOptions};
use pmacct_user::input::datagram::read_datagrams;

/// Datagrams (source, arrival, payload) of the capture, in memory.
fn datagrams() -> Vec<(std::net::SocketAddr, u64, Vec<u8>)> {
    let mut v = Vec::new();
    read_datagrams(&capture("big_pmacct_sfprobe.pcap"), &[], |d| {
        v.push((d.src, d.ts_us, d.payload.to_vec()))
    })
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

fn bench(c: &mut Criterion) {
    let dgrams = datagrams();
    // Count the samples once (the throughput unit).
    let mut dec = SflowDecoder::new(SflowOptions::default());
    let (mut flows, mut counters) = (Vec::with_capacity(1024), Vec::new());
    let mut samples = 0u64;
    for (src, ts, p) in &dgrams {
        flows.clear();
        samples += dec.decode(*src, *ts, p, &mut flows, &mut counters).unwrap_or(0) as u64;
    }
    eprintln!("sflow bench: {} datagrams, {samples} samples", dgrams.len());

    let mut g = c.benchmark_group("sflow");
    g.throughput(Throughput::Elements(samples));
    g.sample_size(10);
    g.bench_function("decode", |b| {
        b.iter(|| {
            let mut dec = SflowDecoder::new(SflowOptions::default());
            let mut n = 0usize;
            for (src, ts, p) in &dgrams {
                flows.clear();
                n += dec.decode(*src, *ts, p, &mut flows, &mut counters).unwrap_or(0);
                counters.clear();
            }
            n
        })
    });
    let cfg = five_tuple();
    g.bench_function("decode+aggregate", |b| {
        b.iter(|| {
            let mut dec = SflowDecoder::new(SflowOptions::default());
            let mut agg =
                Aggregator::with_options(std::slice::from_ref(&cfg), 0, false).expect("agg");
            // As the daemon replays a capture: records handed over in batches of 512.
            flows.clear();
            for (src, ts, p) in &dgrams {
                let _ = dec.decode(*src, *ts, p, &mut flows, &mut counters);
                counters.clear();
                if flows.len() >= 512 {
                    agg.ingest_batch(&flows, 0);
                    flows.clear();
                }
            }
            agg.ingest_batch(&flows, 0);
            agg.flush_all(1).len()
        })
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
