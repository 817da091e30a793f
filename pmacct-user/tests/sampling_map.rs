//! `sampling_map` side by side with nfacctd/sfacctd 1.7.7: the same map and config on the
//! shared export captures, with and without renormalisation; every plugin's rows must equal
//! pmacct's.

mod pmacct_side_by_side;

use pmacct_side_by_side::{PluginSpec, available, compare};

const MAP: &str = "! interface 1 sampled 1:7, everything else from these exporters 1:10\n\
                   id=7 ip=0.0.0.0/0 in=1\n\
                   id=10 ip=0.0.0.0/0\n\
                   id=10 ip=::/0\n";

fn plugins() -> Vec<PluginSpec> {
    vec![
        PluginSpec::new("rate", &[("aggregate", "src_host, dst_host, in_iface, sampling_rate")]),
        PluginSpec::new("proto", &[("aggregate", "proto")]),
    ]
}

fn run(daemon: &str, prefix: &str, captures: &[&str]) {
    if !available(daemon) {
        eprintln!("{daemon} or shared data absent: skipped");
        return;
    }
    let dir = tempfile::tempdir().expect("tmp");
    let map = dir.path().join("sampling.map");
    std::fs::write(&map, MAP).expect("map");
    let mut failures = Vec::new();
    for capture in captures {
        for renormalize in ["true", "false"] {
            let global =
                format!("sampling_map: {}\n{prefix}_renormalize: {renormalize}\n", map.display());
            failures.extend(compare(daemon, capture, &global, &plugins(), 10));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn netflow_sampling_map_matches_nfacctd() {
    run("nfacctd", "nfacctd", &["softflowd_v5", "softflowd_v9", "pmacct_nfprobe_ipfix"]);
}

#[test]
fn sflow_sampling_map_matches_sfacctd() {
    run("sfacctd", "sfacctd", &["pmacct_sfprobe"]);
}
