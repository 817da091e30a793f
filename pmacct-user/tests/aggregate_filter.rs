//! `aggregate_filter[plugin]` side by side with nfacctd/sfacctd 1.7.7: one config with many print
//! plugins, each with its own pcap-filter expression, on the shared export captures; every
//! plugin's rows must equal pmacct's.

mod pmacct_side_by_side;

use pmacct_side_by_side::{PluginSpec, available, compare};

/// Filters for flow records (nfacctd builds a dummy packet from each flow and runs the filter).
const NF_FILTERS: &[&str] = &[
    "src net 192.168.0.0/16",
    "dst net 203.0.113.0/24 and tcp",
    "udp or tcp and port 22",
    "not (tcp or udp)",
    "ip6 and dst port 22",
    "portrange 1-1024",
    "icmp or icmp6",
    "host 172.16.5.223 or 192.168.10.146",
    "src and dst net 192.168.0.0/16",
    "net 10.0.0.0 mask 255.0.0.0",
    "src or dst net 2001:db8:1::/48",
    "ip proto 17 && !src port 53",
    "dst port 443 || dst port 80",
    "ip6 proto 17 and src portrange 1024-65535",
    "tcp dst port 22",
    "not ip6",
];

/// sFlow carries the sampled packet's headers, VLAN tags included.
const SF_FILTERS: &[&str] = &[
    "vlan",
    "vlan 100 and tcp",
    "vlan 200 and src net 192.168.0.0/16",
    "tcp",
    "not vlan",
    "ether src 02:00:00:00:00:49",
    "vlan and (udp or icmp)",
    "src net 192.168.0.0/16 or dst port 443",
];

fn specs(filters: &[&str], aggregate: &str) -> Vec<PluginSpec> {
    filters
        .iter()
        .enumerate()
        .map(|(i, f)| {
            PluginSpec::new(&format!("f{i}"), &[("aggregate", aggregate), ("aggregate_filter", f)])
        })
        .chain(std::iter::once(PluginSpec::new("all", &[("aggregate", aggregate)])))
        .collect()
}

#[test]
fn netflow_filters_match_nfacctd() {
    if !available("nfacctd") {
        eprintln!("nfacctd or shared data absent: skipped");
        return;
    }
    let agg = "src_host, dst_host, src_port, dst_port, proto";
    let mut failures = Vec::new();
    for capture in [
        "softflowd_v5",
        "softflowd_v9",
        "softflowd_v10",
        "pmacct_nfprobe_v9",
        "pmacct_nfprobe_ipfix",
    ] {
        // A global aggregate_filter is refused by pmacct ("cannot be global"): both ignore it.
        failures.extend(compare(
            "nfacctd",
            capture,
            "aggregate_filter: udp\n",
            &specs(NF_FILTERS, agg),
            500,
        ));
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn sflow_filters_match_sfacctd() {
    if !available("sfacctd") {
        eprintln!("sfacctd or shared data absent: skipped");
        return;
    }
    let agg = "src_mac, vlan, src_host, dst_host, src_port, dst_port, proto";
    let failures = compare("sfacctd", "pmacct_sfprobe", "", &specs(SF_FILTERS, agg), 500);
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
