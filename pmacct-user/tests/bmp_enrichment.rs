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

mod bmp_support;
mod daemon;
mod pmacct_side_by_side;

use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use bmp_support::gobgp::{self, Pair, free_port, gobgp};
use pmacct_side_by_side::{BIN, OURS_ONLY, available, rows};

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

/// Waits for `child` to exit; kills it after `limit`.
fn wait(mut child: Child, what: &str, limit: Duration) {
    let start = Instant::now();
    loop {
        if let Ok(Some(status)) = child.try_wait() {
            assert!(status.success(), "{what} failed: {status}");
            return;
        }
        if start.elapsed() > limit {
            let _ = child.kill();
            panic!("{what} did not finish in {limit:?}");
        }
        std::thread::sleep(Duration::from_millis(100));
    }
}

#[test]
fn flows_enriched_from_bmp_match_nfacctd() {
    if !available("nfacctd") || !gobgp::installed() {
        eprintln!("skipped: nfacctd, gobgpd or the shared data missing");
        return;
    }
    let dir = tempfile::tempdir().expect("tmp");
    eprintln!("working in {}", dir.path().display());
    let (pm, ours) = (dir.path().join("pmacct"), dir.path().join("ours"));
    std::fs::create_dir_all(&pm).expect("dir");
    std::fs::create_dir_all(&ours).expect("dir");
    let (pm_port, our_port) = (free_port(), free_port());
    let (pm_udp, our_udp) = (daemon::free_udp_port(), daemon::free_udp_port());
    let pm_conf = dir.path().join("pmacct.conf");
    let our_conf = dir.path().join("ours.conf");
    std::fs::write(&pm_conf, conf(pm_udp, pm_port, &pm)).expect("conf");
    std::fs::write(&our_conf, conf(our_udp, our_port, &ours) + OURS_ONLY).expect("conf");
    let pm_log = dir.path().join("pmacct.log");
    let nfacctd = Command::new("nfacctd")
        .arg("-f")
        .arg(&pm_conf)
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(&pm_log).expect("log"))
        .spawn()
        .expect("nfacctd");
    let our_log = dir.path().join("ours.log");
    let ours_proc = Command::new(BIN)
        .args(["nfacctd", "-f"])
        .arg(&our_conf)
        .env("PMACCT_LOG", "info")
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(&our_log).expect("log"))
        .spawn()
        .expect("pmacct-rs");
    // Both listen for BMP before gobgpd starts; gobgpd connects to both.
    std::thread::sleep(Duration::from_secs(1));
    let pair = Pair::start(dir.path(), &[pm_port, our_port], None);
    let started = Instant::now();
    let add = |family: &str, route: &str| {
        let mut args = vec!["global", "rib", "-a", family, "add"];
        args.extend(route.split(' '));
        gobgp(pair.api_b, &args);
    };
    gobgp::wait_api(pair.api_b);
    for r in ROUTES_V4 {
        add("ipv4", r);
    }
    for r in ROUTES_V6 {
        add("ipv6", r);
    }
    // Flows go out once both collectors logged every route.
    let prefixes: Vec<&str> =
        ROUTES_V4.iter().chain(ROUTES_V6).filter_map(|r| r.split(' ').next()).collect();
    gobgp::wait_for_long("the routes in both msglogs", Duration::from_secs(60), || {
        [&pm, &ours].iter().all(|d| {
            let log = std::fs::read_to_string(d.join("msglog.json")).unwrap_or_default();
            prefixes.iter().all(|p| log.contains(&format!("\"{p}\"")))
        })
    });
    eprintln!("routes in both RIBs after {:?}", started.elapsed());
    let sent = daemon::send_capture("pmacct_nfprobe_ipfix", pm_udp);
    assert_eq!(daemon::send_capture("pmacct_nfprobe_ipfix", our_udp), sent);
    std::thread::sleep(Duration::from_secs(1));
    for child in [&nfacctd, &ours_proc] {
        let pid = i32::try_from(child.id()).expect("pid");
        // SAFETY: signalling our own child process.
        unsafe { libc::kill(pid, libc::SIGINT) };
    }
    wait(nfacctd, "nfacctd", Duration::from_secs(60));
    wait(ours_proc, "pmacct-rs nfacctd", Duration::from_secs(60));
    drop(pair);
    // nfacctd's plugins are child processes that may still be writing.
    gobgp::wait_for_long("nfacctd's plugins", Duration::from_secs(60), || {
        let text = std::fs::read_to_string(&pm_log).unwrap_or_default();
        text.matches("Purging cache - END").count() >= PLUGINS.len()
    });
    let our_text = std::fs::read_to_string(&our_log).unwrap_or_default();
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
    if !failures.is_empty() && std::env::var_os("KEEP_SIDE_BY_SIDE").is_some() {
        let _ = dir.keep();
    }
    assert!(failures.is_empty(), "{failures:#?}\nour log:\n{our_text}");
}
