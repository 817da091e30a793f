//! The `sum_*` aggregations (every flow accounted for its source and for its destination value)
//! and the `flows` counter, side by side with nfacctd / sfacctd 1.7.7 in CSV, JSON and formatted
//! output.

mod pmacct_side_by_side;

use pmacct_side_by_side::{PluginSpec, available, compare};

fn netflow_plugins() -> Vec<PluginSpec> {
    vec![
        PluginSpec::new("sum_host", &[("aggregate", "sum_host")]),
        // Other primitives beside a sum are dropped, as pmacct does (with a warning).
        PluginSpec::new(
            "sum_host_json",
            &[("aggregate", "sum_host, proto, tag"), ("print_output", "json")],
        ),
        PluginSpec::new("sum_port_flows", &[("aggregate", "sum_port, flows")]),
        PluginSpec::new("sum_as", &[("aggregate", "sum_as, tag2"), ("print_output", "formatted")]),
        PluginSpec::new(
            "sum_net",
            &[("aggregate", "sum_net"), ("networks_mask", "16"), ("nfacctd_net", "mask")],
        ),
        PluginSpec::new("flows_csv", &[("aggregate", "src_host, dst_port, flows")]),
        PluginSpec::new("flows_json", &[("aggregate", "proto, flows"), ("print_output", "json")]),
        PluginSpec::new(
            "flows_formatted",
            &[("aggregate", "dst_host, flows"), ("print_output", "formatted")],
        ),
        PluginSpec::new(
            "flows_event",
            &[("aggregate", "proto, flows"), ("print_output", "event_csv")],
        ),
    ]
}

#[test]
fn netflow_sums_and_flows_match_nfacctd() {
    if !available("nfacctd") {
        eprintln!("nfacctd or shared data absent: skipped");
        return;
    }
    let mut failures = Vec::new();
    for capture in ["softflowd_v5", "softflowd_v9", "pmacct_nfprobe_ipfix"] {
        failures.extend(compare("nfacctd", capture, "", &netflow_plugins(), 1000));
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn sflow_sums_and_flows_match_sfacctd() {
    if !available("sfacctd") {
        eprintln!("sfacctd or shared data absent: skipped");
        return;
    }
    let plugins = vec![
        PluginSpec::new("sum_mac", &[("aggregate", "sum_mac")]),
        PluginSpec::new(
            "sum_mac_json",
            &[("aggregate", "sum_mac, vlan"), ("print_output", "json")],
        ),
        PluginSpec::new("sum_host", &[("aggregate", "sum_host"), ("print_output", "formatted")]),
        PluginSpec::new("sum_port", &[("aggregate", "sum_port, flows")]),
        PluginSpec::new("flows", &[("aggregate", "src_host, flows"), ("print_output", "json")]),
    ];
    let failures = compare("sfacctd", "pmacct_sfprobe", "", &plugins, 1000);
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
