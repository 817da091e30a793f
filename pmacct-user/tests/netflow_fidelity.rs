//! nfacctd fidelity: each NetFlow/IPFIX capture in `shared/data/exports/`, decoded by
//! `decode::netflow`, aggregated and printed, must give exactly the rows nfacctd 1.7.7 printed
//! (`shared/data/expected/<capture>.<aggregation>.<csv|json>`, made by `scripts/golden.sh`),
//! compared as sets of lines.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use pmacct_user::aggregate::Aggregator;
use pmacct_user::config::{PluginConfig, PluginKind, PrintFormat};
use pmacct_user::decode::netflow::{NetflowDecoder, NetflowOptions};
use pmacct_user::input::datagram::read_datagrams;
use pmacct_user::record::FlowRecord;
use pmacct_user::sink::print::{PrintOptions, PrintSink};

fn shared(rel: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/data").join(rel)
}

/// golden.sh's aggregations.
const AGGS: [(&str, &str); 3] = [
    ("5tuple", "src_host, dst_host, src_port, dst_port, proto"),
    (
        "nf_fields",
        "src_host, dst_host, src_port, dst_port, proto, tos, in_iface, out_iface, tcpflags",
    ),
    ("hosts", "src_host, dst_host"),
];

const CAPTURES: [&str; 5] =
    ["softflowd_v5", "softflowd_v9", "softflowd_v10", "pmacct_nfprobe_v9", "pmacct_nfprobe_ipfix"];

/// Decodes a whole capture as nfacctd would with `pcap_savefile` and default options.
fn decode(capture: &str) -> Vec<FlowRecord> {
    let mut dec = NetflowDecoder::new(NetflowOptions::default());
    let mut recs = Vec::new();
    read_datagrams(&shared(&format!("exports/{capture}.pcap")), &[], |d| {
        let _ = dec.decode(d.src, d.ts_us, d.payload, &mut recs);
    })
    .expect("capture readable");
    let s = dec.stats();
    assert_eq!(s.total.malformed, 0, "{capture}: {s:?}");
    eprintln!("{capture}: {} records, {:?}", recs.len(), s.total);
    recs
}

fn render(recs: &[FlowRecord], aggregate: &str, output: PrintFormat) -> String {
    let cfg = PluginConfig {
        name: "p".into(),
        kind: PluginKind::Print,
        aggregate: aggregate.split(',').map(|s| s.trim().to_string()).collect(),
        refresh_time: 86_400,
        history: None,
        history_roundoff: None,
        output,
        output_file: None,
        imt_path: None,
        aggregate_filter: None,
        networks: Default::default(),
        pretag: Default::default(),
        print: Default::default(),
    };
    let mut agg = Aggregator::with_options(std::slice::from_ref(&cfg), 0, false).expect("plugin");
    for r in recs {
        agg.ingest_at(r, 0);
    }
    let mut sink = PrintSink::with_writer(&cfg, PrintOptions::default(), Box::new(std::io::sink()));
    agg.flush_all(0).iter().map(|(_, b)| sink.render(b)).collect()
}

fn lines(s: &str) -> (Option<String>, BTreeSet<String>) {
    let mut it = s.lines().filter(|l| !l.trim().is_empty()).peekable();
    let header = it.peek().filter(|l| !l.starts_with('{')).map(|l| l.to_string());
    if header.is_some() {
        it.next();
    }
    (header, it.map(str::to_string).collect())
}

fn check(capture: &str, recs: &[FlowRecord]) -> Vec<String> {
    let mut failures = Vec::new();
    for (name, aggregate) in AGGS {
        for (ext, fmt) in [("csv", PrintFormat::Csv), ("json", PrintFormat::Json)] {
            let path = shared(&format!("expected/{capture}.{name}.{ext}"));
            let Ok(expected) = std::fs::read_to_string(&path) else {
                failures.push(format!("{} missing", path.display()));
                continue;
            };
            let (eh, erows) = lines(&expected);
            let (gh, grows) = lines(&render(recs, aggregate, fmt));
            let missing: Vec<_> = erows.difference(&grows).take(3).collect();
            let extra: Vec<_> = grows.difference(&erows).take(3).collect();
            eprintln!(
                "{capture}.{name}.{ext}: expected {} rows, got {}, missing {}, extra {}",
                erows.len(),
                grows.len(),
                erows.difference(&grows).count(),
                grows.difference(&erows).count()
            );
            if eh != gh || !missing.is_empty() || !extra.is_empty() {
                failures.push(format!(
                    "{capture}.{name}.{ext}: header {eh:?} vs {gh:?}; missing {missing:?}; extra {extra:?}"
                ));
            }
        }
    }
    failures
}

#[test]
fn exports_match_nfacctd() {
    if !shared("exports").exists() {
        eprintln!("shared data absent: skipped");
        return;
    }
    let mut failures = Vec::new();
    for c in CAPTURES {
        let recs = decode(c);
        failures.extend(check(c, &recs));
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
