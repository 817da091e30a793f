//! `src_roa` / `dst_roa` with `rpki_roas_file`, side by side with nfacctd 1.7.7 on a live BMP
//! feed (see `bmp_flows_support`).
//!
//! The routes and ROAs give every state pmacct knows, for IPv4 and IPv6:
//! - `v`: 10.1.0.0/16 (exact ROA), 203.0.113.0/24 and its /25 (two ROAs on one prefix, one with
//!   a longer maxLength), 2001:db8:2::/48, 2001:db8::/32 (ROA maxLength 48);
//! - `V`: 10.1.128.0/17 (origin not the /16 ROA's, and too long for it) under the valid /16;
//!   2001:db8:1::/48 (wrong origin) under the valid /32;
//! - `U`: 172.16.5.0/24 (ROA with another origin) under 172.16.0.0/12, which no loaded ROA
//!   covers (its ROA has a numeric `asn`, which pmacct skips);
//! - `i`: 198.51.100.0/24, too long for its /22 ROA, nothing covering it;
//! - `u`: 10.2.0.0/16 (no ROA; the covering 10.0.0.0/8 is not consulted) and 192.168.10.0/24
//!   (no route).
//!
//! The BMP msglog's route lines carry `roa` too (each route validated alone: `v`, `i`, `u`);
//! they are compared line by line. Rows are compared in CSV, JSON (its key order differs from the print order) and formatted
//! output.

mod bmp_flows_support;
mod bmp_support;
mod daemon;
mod pmacct_side_by_side;

use std::path::Path;

use std::collections::BTreeMap;

use bmp_support::gobgp;
use bmp_support::msglog::{comparable, exporter_session, s};
use pmacct_side_by_side::{available, rows};

const ROUTES: &[(&str, &str)] = &[
    ("ipv4", "10.0.0.0/8 aspath 65010"),
    ("ipv4", "10.1.0.0/16 aspath 65011"),
    ("ipv4", "10.1.128.0/17 aspath 65011,65013 med 7"),
    ("ipv4", "10.2.0.0/16 aspath 65012"),
    ("ipv4", "172.16.0.0/12 aspath 65020"),
    ("ipv4", "172.16.5.0/24 aspath 65020,65021"),
    ("ipv4", "198.51.100.0/24 aspath 65030,65031"),
    ("ipv4", "203.0.113.0/24 aspath 65040"),
    ("ipv4", "203.0.113.128/25 aspath 65041"),
    ("ipv6", "2001:db8::/32 aspath 65050"),
    ("ipv6", "2001:db8:1::/48 aspath 65051"),
    ("ipv6", "2001:db8:2::/48 aspath 65052"),
];

const ROAS: &str = r#"{"metadata": {"generated": 1}, "roas": [
  {"prefix": "10.1.0.0/16", "asn": "AS65011", "maxLength": 16, "ta": "test"},
  {"prefix": "172.16.0.0/12", "asn": 65020, "maxLength": 12},
  {"prefix": "172.16.5.0/24", "asn": "AS65099", "maxLength": 24},
  {"prefix": "198.51.100.0/22", "asn": "AS65031", "maxLength": 23},
  {"prefix": "203.0.113.0/24", "asn": "AS65040", "maxLength": 24},
  {"prefix": "203.0.113.0/24", "asn": "AS65041", "maxLength": 25},
  {"prefix": "2001:db8::/32", "asn": "AS65050", "maxLength": 48},
  {"prefix": "2001:db8:2::/48", "asn": "65052", "maxLength": 48},
  {"prefix": "10.2.0.0/16", "asn": "AS65012"}
]}"#;

/// (name, output format, aggregate). nfacctd 1.7.7 hands a plugin the ROA states only with one
/// of `local_pref`, `med`, `peer_*`, `src_med`, `src_local_pref` or `mpls_vpn_rd` in its
/// aggregate: `bare` has none (all `u`).
const PLUGINS: &[(&str, &str, &str)] = &[
    ("hosts", "csv", "src_host, dst_host, src_roa, dst_roa, local_pref"),
    ("json", "json", "src_net, dst_net, src_as, dst_as, med, src_med, src_roa, dst_roa, proto"),
    ("states", "csv", "src_roa, dst_roa, peer_src_ip"),
    ("bare", "csv", "src_roa, dst_roa"),
    ("fmt", "formatted", "src_roa, dst_roa, src_mask, dst_mask, med"),
];

/// Per plugin whose rows differ between nfacctd and us: its name, aggregate and a few of the
/// differing rows.
fn differences(run: &bmp_flows_support::Run, plugins: &[(&str, &str, &str)]) -> Vec<String> {
    let mut failures = Vec::new();
    for (name, _, aggregate) in plugins {
        let (want, got) = (rows(&run.pmacct.join(name)), rows(&run.ours.join(name)));
        eprintln!("{name}: pmacct {} rows, ours {}", want.len(), got.len());
        if want != got {
            let missing: Vec<_> = want.difference(&got).take(6).collect();
            let extra: Vec<_> = got.difference(&want).take(6).collect();
            failures.push(format!("{name} ({aggregate}): missing {missing:?}; extra {extra:?}"));
        }
    }
    failures
}

fn conf(roas: &Path) -> impl Fn(u16, u16, &Path) -> String {
    move |udp, port, out| {
        let mut s = format!(
            "daemonize: false\nnfacctd_ip: 127.0.0.1\nnfacctd_port: {udp}\n\
             bmp_daemon: true\nbmp_daemon_ip: 127.0.0.1\nbmp_daemon_msglog_file: {}\n\
             bmp_daemon_port: {port}\nnfacctd_as: bmp\nnfacctd_net: bmp\n\
             bgp_src_roa_type: bgp\nbgp_src_med_type: bgp\nrpki_roas_file: {}\n\
             nfacctd_pipe_size: 8388608\nplugin_pipe_size: 10240000\nmaps_refresh: true\n\
             print_refresh_time: 86400\nplugins: ",
            out.join("msglog.json").display(),
            roas.display()
        );
        let names: Vec<String> = PLUGINS.iter().map(|(n, _, _)| format!("print[{n}]")).collect();
        s += &names.join(", ");
        s.push('\n');
        for (name, format, aggregate) in PLUGINS {
            s += &format!("aggregate[{name}]: {aggregate}\n");
            s += &format!("print_output[{name}]: {format}\n");
            s += &format!("print_output_file[{name}]: {}\n", out.join(name).display());
        }
        s
    }
}

#[test]
fn roa_states_match_nfacctd() {
    if !available("nfacctd") || !gobgp::installed() {
        eprintln!("skipped: nfacctd, gobgpd or the shared data missing");
        return;
    }
    let dir = bmp_flows_support::workdir();
    let roas = dir.path().join("roas.json");
    std::fs::write(&roas, ROAS).expect("roas");
    let run = bmp_flows_support::run(dir.path(), conf(&roas), ROUTES, PLUGINS.len(), &[]);
    let mut failures = differences(&run, PLUGINS);
    // The comparison covers every state, on both sides of the flows: nfacctd's (src, dst) pairs.
    let states = rows(&run.pmacct.join("states"));
    eprintln!("nfacctd's states: {states:?}");
    for s in ["u", "i", "v", "V", "U"] {
        let as_src = states.iter().any(|l| l.split(',').next() == Some(s));
        let as_dst = states.iter().any(|l| l.split(',').nth(1) == Some(s));
        assert!(as_src && as_dst, "state {s} not seen as both src and dst in {states:?}");
    }
    // Route lines of the msglog, by prefix.
    let routes = |dir: &Path| -> BTreeMap<String, Vec<(String, serde_json::Value)>> {
        exporter_session(&dir.join("msglog.json"))
            .iter()
            .filter(|l| l.contains("\"route_monitor\""))
            .map(|l| {
                let v: serde_json::Value = serde_json::from_str(l).expect("json");
                (s(&v, "ip_prefix").to_string(), comparable(l))
            })
            .collect()
    };
    let (want, got) = (routes(&run.pmacct), routes(&run.ours));
    assert_eq!(want.len(), ROUTES.len(), "nfacctd's route lines: {want:#?}");
    let roas: Vec<String> =
        want.values().flatten().filter(|(k, _)| k == "roa").map(|(_, v)| v.to_string()).collect();
    for state in ["\"v\"", "\"i\"", "\"u\""] {
        assert!(roas.iter().any(|r| r == state), "no {state} in nfacctd's msglog: {roas:?}");
    }
    for (prefix, line) in &want {
        if got.get(prefix) != Some(line) {
            failures.push(format!("msglog {prefix}: nfacctd {line:?}, ours {:?}", got.get(prefix)));
        }
    }
    assert!(failures.is_empty(), "{failures:#?}\nour log:\n{}", run.our_log);
}

/// The ROAs after the reload: 198.51.100.0/22 now allows /24s (`v`), 172.16.0.0/12's ROA has
/// a string `asn` (172.16.5.0/24 becomes `V`), 10.1.0.0/16's ROA is gone (`u`).
const ROAS_RELOADED: &str = r#"{"roas": [
  {"prefix": "172.16.0.0/12", "asn": "AS65020", "maxLength": 12},
  {"prefix": "172.16.5.0/24", "asn": "AS65099", "maxLength": 24},
  {"prefix": "198.51.100.0/22", "asn": "AS65031", "maxLength": 24},
  {"prefix": "203.0.113.0/24", "asn": "AS65040", "maxLength": 24},
  {"prefix": "2001:db8::/32", "asn": "AS65050", "maxLength": 48}
]}"#;

/// The capture is sent, the ROA file rewritten and re-read (nfacctd: SIGUSR2 with
/// `maps_refresh: true`; ours: SIGHUP), the capture sent again: the rows hold both sends'
/// states.
#[test]
fn reloaded_roas_match_nfacctd() {
    if !available("nfacctd") || !gobgp::installed() {
        eprintln!("skipped: nfacctd, gobgpd or the shared data missing");
        return;
    }
    let dir = bmp_flows_support::workdir();
    let roas = dir.path().join("roas.json");
    std::fs::write(&roas, ROAS).expect("roas");
    let (pm_log, our_log) = (dir.path().join("pmacct.log"), dir.path().join("ours.log"));
    let count = |path: &Path, what: &str| {
        std::fs::read_to_string(path).unwrap_or_default().matches(what).count()
    };
    let reload = |pm: i32, ours: i32| {
        std::fs::write(&roas, ROAS_RELOADED).expect("roas");
        // SAFETY: signalling our own child processes.
        unsafe {
            libc::kill(pm, libc::SIGUSR2);
            libc::kill(ours, libc::SIGHUP);
        }
        gobgp::wait_for_long("both ROA reloads", std::time::Duration::from_secs(30), || {
            count(&pm_log, "map successfully (re)loaded") >= 2
                && count(&our_log, "rpki_roas_file loaded") >= 2
        });
    };
    let plugins = &PLUGINS[..3];
    let run = bmp_flows_support::run(dir.path(), conf(&roas), ROUTES, PLUGINS.len(), &[&reload]);
    let failures = differences(&run, plugins);
    // The reload showed: a 198.51.100.0/24 destination is `i` in some rows (first send) and
    // `v` in others (second). Columns: PREF, SRC_ROA, DST_ROA, SRC_IP, DST_IP, ...
    let states = rows(&run.pmacct.join("hosts"));
    let seen = |state: &str| {
        states.iter().any(|l| {
            let c: Vec<&str> = l.split(',').collect();
            c.get(2) == Some(&state) && c.get(4).is_some_and(|ip| ip.starts_with("198.51.100."))
        })
    };
    assert!(seen("i") && seen("v"), "198.51.100.0/24 not both invalid and valid: {states:?}");
    assert!(failures.is_empty(), "{failures:#?}\nour log:\n{}", run.our_log);
}
