//! Flows enriched from the BMP daemon's RIB, side by side with nfacctd 1.7.7.
//!
//! A real BMP exporter: gobgpd (AS 65001) streams BMP to both collectors at once while a
//! second gobgpd announces routes over iBGP covering most of the flows' addresses (AS paths,
//! communities, large communities, MED, LOCAL_PREF, IPv4 and IPv6, one more-specific prefix,
//! one address range left unrouted). nfacctd 1.7.7 and `pmacct-rs nfacctd` run the same config:
//! `bmp_daemon: true`, `nfacctd_as: bmp`, `nfacctd_net: bmp`, the `bgp_src_*_type: bgp` keys and
//! `bgp_peer_src_as_type: bgp`. Once the routes are announced, the datagrams of
//! `exports/pmacct_nfprobe_ipfix.pcap` are sent to both over UDP from 127.0.0.1 (the BMP
//! router's address; nfacctd refuses `bmp_daemon` with `pcap_savefile`), then both are stopped
//! with SIGINT and print what they hold. The rows must be equal as sets.

mod bmp_flows_support;
mod bmp_support;
mod daemon;
mod pmacct_side_by_side;

use std::path::Path;

use bmp_support::gobgp;
use pmacct_side_by_side::{available, rows};

const ROUTES_V4: &[&str] = &[
    "10.0.0.0/8 aspath 65010 community 65001:10 local-pref 150",
    "10.1.0.0/16 aspath 65011,65012 med 20 community 65001:11,no-export",
    "172.16.0.0/12 aspath 65020 large-community 65001:1:2",
    "198.51.100.0/24 aspath 65030,65031,65032 community 65001:30 med 5",
    "203.0.113.0/24",
];

const ROUTES_V6: &[&str] =
    &["2001:db8::/32 aspath 65041", "2001:db8:1::/48 aspath 65040 community 65001:40"];

const PLUGINS: &[(&str, &str)] = &[
    (
        "dst",
        "src_host, dst_host, src_as, dst_as, as_path, std_comm, lrg_comm, local_pref, med, \
         peer_dst_as, peer_dst_ip, src_mask, dst_mask",
    ),
    ("src", "src_as_path, src_std_comm, src_lrg_comm, src_local_pref, src_med, peer_src_as"),
    ("nets", "src_net, dst_net, src_as, dst_as"),
    // JSON puts the source-side BGP keys after peer_ip_dst (pmacct's compose_json order).
    (
        "json",
        "src_host, dst_host, std_comm, as_path, med, peer_dst_ip, src_std_comm, src_as_path, \
         src_med, peer_src_as",
    ),
];

fn conf(udp: u16, port: u16, out: &Path) -> String {
    let mut s = format!(
        "daemonize: false\nnfacctd_ip: 127.0.0.1\nnfacctd_port: {udp}\n\
         bmp_daemon: true\nbmp_daemon_ip: 127.0.0.1\nbmp_daemon_msglog_file: {}\n\
         bmp_daemon_port: {port}\nnfacctd_as: bmp\nnfacctd_net: bmp\n\
         bgp_peer_src_as_type: bgp\nbgp_src_std_comm_type: bgp\nbgp_src_lrg_comm_type: bgp\n\
         bgp_src_as_path_type: bgp\nbgp_src_local_pref_type: bgp\nbgp_src_med_type: bgp\n\
         print_output: csv\nprint_refresh_time: 86400\nplugins: ",
        out.join("msglog.json").display()
    );
    let names: Vec<String> = PLUGINS.iter().map(|(n, _)| format!("print[{n}]")).collect();
    s += &names.join(", ");
    s.push('\n');
    for (name, aggregate) in PLUGINS {
        s += &format!("aggregate[{name}]: {aggregate}\n");
        s += &format!("print_output_file[{name}]: {}\n", out.join(name).display());
        if *name == "json" {
            s += "print_output[json]: json\n";
        }
    }
    s
}

#[test]
fn flows_enriched_from_bmp_match_nfacctd() {
    if !available("nfacctd") || !gobgp::installed() {
        eprintln!("skipped: nfacctd, gobgpd or the shared data missing");
        return;
    }
    let dir = bmp_flows_support::workdir();
    let routes: Vec<(&str, &str)> = ROUTES_V4
        .iter()
        .map(|r| ("ipv4", *r))
        .chain(ROUTES_V6.iter().map(|r| ("ipv6", *r)))
        .collect();
    let run = bmp_flows_support::run(dir.path(), conf, &routes, PLUGINS.len(), &[]);
    let (pm, ours) = (&run.pmacct, &run.ours);
    let our_text = &run.our_log;
    let mut failures = Vec::new();
    for (name, aggregate) in PLUGINS {
        let (want, got) = (rows(&pm.join(name)), rows(&ours.join(name)));
        eprintln!("{name}: pmacct {} rows, ours {}", want.len(), got.len());
        // Enrichment happened: some row carries a path or community from the routes.
        let enriched = want.iter().any(|l| l.contains("65001:") || l.contains("65012"));
        assert!(enriched, "{name}: nfacctd printed no BGP data; is the RIB empty?");
        if want != got {
            let missing: Vec<_> = want.difference(&got).take(4).collect();
            let extra: Vec<_> = got.difference(&want).take(4).collect();
            failures.push(format!("{name} ({aggregate}): missing {missing:?}; extra {extra:?}"));
        }
    }
    assert!(failures.is_empty(), "{failures:#?}\nour log:\n{our_text}");
}
