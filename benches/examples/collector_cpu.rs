//! Thread CPU time per record of decode and of decode + 5-tuple aggregation + reading every
//! flushed row (as the print sink does) for the bench captures: the minimum over `ROUNDS`
//! passes, so other load on a shared machine (which stretches criterion's wall-clock figures)
//! mostly drops out. One aggregator serves every pass and is flushed after each, as a daemon's
//! plugin is every refresh.
//!
//! Run: `cargo run --release -p pmacct-benches --example collector_cpu [ROUNDS]`.

use std::net::SocketAddr;

use pmacct_benches::data::capture;
use pmacct_user::aggregate::Aggregator;
use pmacct_user::config::PluginConfig;
use pmacct_user::decode::netflow::{NetflowDecoder, NetflowOptions};
use pmacct_user::decode::sflow::{SflowDecoder, SflowOptions};
use pmacct_user::input::datagram::read_datagrams;
use pmacct_user::record::FlowRecord;

const BATCH: usize = 512;

fn thread_cpu_ns() -> u64 {
    // SAFETY: clock_gettime writes the zeroed timespec it is given.
    let ts = unsafe {
        let mut ts: libc::timespec = std::mem::zeroed();
        libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &mut ts);
        ts
    };
    ts.tv_sec as u64 * 1_000_000_000 + ts.tv_nsec as u64
}

fn five_tuple() -> PluginConfig {
    serde_json::from_value(serde_json::json!({
        "name": "p", "type": "print", "output": "csv", "refresh_time": 86400,
        "aggregate": "src_host, dst_host, src_port, dst_port, proto",
    }))
    .expect("plugin config")
}

enum Dec {
    Nf(NetflowDecoder),
    Sf(Box<SflowDecoder>, Vec<pmacct_user::decode::sflow::CounterRecord>),
}

impl Dec {
    fn new(sflow: bool) -> Dec {
        if sflow {
            Dec::Sf(Box::new(SflowDecoder::new(SflowOptions::default())), Vec::new())
        } else {
            Dec::Nf(NetflowDecoder::new(NetflowOptions::default()))
        }
    }

    fn decode(&mut self, src: SocketAddr, ts: u64, p: &[u8], out: &mut Vec<FlowRecord>) {
        match self {
            Dec::Nf(d) => {
                let _ = d.decode(src, ts, p, out);
            }
            Dec::Sf(d, c) => {
                let _ = d.decode(src, ts, p, out, c);
                c.clear();
            }
        }
    }
}

fn main() {
    let rounds: usize = std::env::args().nth(1).and_then(|a| a.parse().ok()).unwrap_or(15);
    let cfg = five_tuple();
    eprintln!("FlowRecord: {} bytes", std::mem::size_of::<FlowRecord>());
    println!(
        "| capture | records | decode ns/record | decode+aggregate ns/record | decode+aggregate M records/CPU-s |"
    );
    println!("|---|---:|---:|---:|---:|");
    for (file, sflow) in [
        ("big_pmacct_nfprobe_ipfix.pcap", false),
        ("big_pmacct_nfprobe_v9.pcap", false),
        ("big_softflowd_v5.pcap", false),
        ("big_pmacct_sfprobe.pcap", true),
    ] {
        let mut dgrams = Vec::new();
        read_datagrams(&capture(file), &[], |d| dgrams.push((d.src, d.ts_us, d.payload.to_vec())))
            .expect("capture readable");
        let mut out = Vec::with_capacity(BATCH + 64);
        let (mut best_dec, mut best_agg, mut records) = (u64::MAX, u64::MAX, 0);
        // One aggregator for every pass, flushed at the end of each, as a daemon's plugin is
        // flushed every refresh (its tables then start at the size of the last flush).
        let mut agg = Aggregator::with_options(std::slice::from_ref(&cfg), 0, false).expect("agg");
        for _ in 0..rounds {
            let mut dec = Dec::new(sflow);
            let t = thread_cpu_ns();
            let mut n = 0;
            for (src, ts, p) in &dgrams {
                out.clear();
                dec.decode(*src, *ts, p, &mut out);
                n += out.len();
            }
            best_dec = best_dec.min(thread_cpu_ns() - t);
            records = n;

            let mut dec = Dec::new(sflow);
            let t = thread_cpu_ns();
            out.clear();
            for (src, ts, p) in &dgrams {
                dec.decode(*src, *ts, p, &mut out);
                if out.len() >= BATCH {
                    agg.ingest_batch(&out, 0);
                    out.clear();
                }
            }
            agg.ingest_batch(&out, 0);
            // Read every flushed row, key unpacked, as the print sink does.
            let mut rows = 0u64;
            for (_, b) in agg.flush_all(1) {
                for bin in &b.bins {
                    bin.entries.for_each(|k, c| rows += u64::from(k.src_port) + c.packets);
                }
            }
            best_agg = best_agg.min(thread_cpu_ns() - t);
            std::hint::black_box(rows);
        }
        let per = |ns: u64| ns as f64 / records.max(1) as f64;
        println!(
            "| {file} | {records} | {:.1} | {:.1} | {:.2} |",
            per(best_dec),
            per(best_agg),
            1e3 / per(best_agg)
        );
    }
}
