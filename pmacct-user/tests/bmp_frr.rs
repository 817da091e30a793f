//! A second live BMP exporter: FRR's bgpd (8.4, `-M bmp`, no zebra) streams BMP to
//! `pmacct-rs pmbmpd -f` and, when installed, to pmbmpd 1.7.7 (one `bmp connect` line per
//! collector), while it holds an eBGP session (FRR AS 65001, gobgpd AS 65002, both on
//! 127.0.0.1) with a gobgpd that announces IPv4 and IPv6 routes, withdraws two of them and then
//! goes away. Two more collectors (ours and pmbmpd) start late: FRR sends them the table it
//! holds then. Each of ours must show exactly the expected routes with their attributes, and
//! match its pmbmpd line for line.
//!
//! FRR's framing, as seen here: Initiation with sysDescr "FRRouting <version>" and sysName
//! (the `hostname`); a Peer Down for the neighbour when a collector connects before the BGP
//! session is up (pmbmpd logs it although no Peer Up came before); the Adj-RIB-In pre-policy
//! view only with `soft-reconfiguration inbound` (without it every route is sent as a
//! withdrawal); FRR's own ASN in front of the AS path of that pre-policy view (in the UPDATE
//! itself: pmbmpd decodes the same); Statistics Reports every `bmp stats interval` with types
//! 0, 2, 3, 4, 5, 11 and FRR's 65531 (four bytes; pmbmpd prints types past 17 in hex); its
//! End-of-RIB after a table sync, which neither collector logs. Next hops are set explicitly:
//! FRR refuses 127.0.0.1 as a martian next hop.

mod bmp_support;
mod daemon;

use std::collections::BTreeSet;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use bmp_support::gobgp::{self, Procs, free_port, gobgp, wait_for_long};
use bmp_support::msglog::{comparable, exporter_session, metric, metrics, s, wait_listening};
use daemon::Daemon;
use serde_json::Value;

const BGPD: &str = "/usr/lib/frr/bgpd";
const BMP_MODULE: &str = "/usr/lib/x86_64-linux-gnu/frr/modules/bgpd_bmp.so";
const PMBMPD: &str = "/usr/sbin/pmbmpd";
const HOSTNAME: &str = "frr-bmp-test";

/// Announced by gobgpd: (family, prefix, gobgp attributes).
const ROUTES: &[(&str, &str, &str)] = &[
    ("ipv4", "10.99.0.0/16", "nexthop 192.0.2.254 community 65001:7 med 5"),
    ("ipv4", "192.0.2.128/25", "nexthop 192.0.2.253 aspath 65010,65011 large-community 65002:1:2"),
    ("ipv4", "198.51.100.0/24", "nexthop 192.0.2.254 community 65002:1,no-export med 20"),
    ("ipv6", "2001:db8:99::/48", "nexthop 2001:db8::1 community 65002:6"),
    ("ipv6", "2001:db8:98::/48", "nexthop 2001:db8::2 aspath 65020"),
];

/// Withdrawn by gobgpd afterwards.
const WITHDRAWN: &[(&str, &str)] = &[("ipv4", "10.99.0.0/16"), ("ipv6", "2001:db8:98::/48")];

/// What FRR's pre-policy view carries per prefix: as_path (FRR's 65001 and gobgpd's 65002
/// prepended), bgp_nexthop, comms, lcomms, med (-1: absent).
const EXPECTED: &[(&str, &str, &str, &str, &str, i64)] = &[
    ("10.99.0.0/16", "65001 65002", "192.0.2.254", "65001:7", "", 5),
    ("192.0.2.128/25", "65001 65002 65010 65011", "192.0.2.253", "", "65002:1:2", -1),
    ("198.51.100.0/24", "65001 65002", "192.0.2.254", "65002:1 no-export", "", 20),
    ("2001:db8:99::/48", "65001 65002", "2001:db8::1", "65002:6", "", -1),
    ("2001:db8:98::/48", "65001 65002 65020", "2001:db8::2", "", "", -1),
];

fn frr_conf(gobgp_port: u16, collectors: &[u16]) -> String {
    let mut c = format!(
        "frr defaults traditional\nhostname {HOSTNAME}\nlog stdout informational\n!\n\
         router bgp 65001\n bgp router-id 10.255.0.1\n no bgp ebgp-requires-policy\n\
         \x20no bgp default ipv4-unicast\n neighbor 127.0.0.1 remote-as 65002\n\
         \x20neighbor 127.0.0.1 port {gobgp_port}\n neighbor 127.0.0.1 timers connect 1\n"
    );
    for af in ["ipv4", "ipv6"] {
        c += &format!(
            " address-family {af} unicast\n  neighbor 127.0.0.1 activate\n  \
             neighbor 127.0.0.1 soft-reconfiguration inbound\n exit-address-family\n"
        );
    }
    c += " bmp targets collectors\n  bmp stats interval 1000\n  \
          bmp monitor ipv4 unicast pre-policy\n  bmp monitor ipv6 unicast pre-policy\n";
    for p in collectors {
        c += &format!("  bmp connect 127.0.0.1 port {p} min-retry 100 max-retry 1000\n");
    }
    c + " exit\nexit\n"
}

fn collector_conf(dir: &Path, port: u16, name: &str) -> String {
    format!(
        "daemonize: false\nbmp_daemon_ip: 127.0.0.1\nbmp_daemon_port: {port}\n\
         bmp_daemon_msglog_file: {d}/{name}-$peer_src_ip.json\nbmp_daemon_msglog_output: json\n\
         bmp_daemon_max_peers: 10\n",
        d = dir.display()
    )
}

fn parse(lines: &[String]) -> Vec<Value> {
    lines.iter().map(|l| serde_json::from_str(l).expect("json line")).collect()
}

fn n(v: &Value, k: &str) -> i64 {
    v.get(k).and_then(Value::as_i64).unwrap_or(-1)
}

fn of<'a>(v: &'a [Value], msg_type: &str) -> Vec<&'a Value> {
    v.iter().filter(|l| s(l, "bmp_msg_type") == msg_type).collect()
}

/// (log_type, ip_prefix) of the route monitoring lines.
fn routes(v: &[Value]) -> BTreeSet<(String, String)> {
    of(v, "route_monitor")
        .iter()
        .map(|l| (s(l, "log_type").to_string(), s(l, "ip_prefix").to_string()))
        .collect()
}

/// Where the session starts for the comparisons: at the first Peer Up. FRR also reports the
/// neighbour down when the collector connects first (a race between the two TCP sessions).
fn first_peer_up(v: &[Value]) -> usize {
    v.iter().position(|l| s(l, "bmp_msg_type") == "peer_up").unwrap_or(v.len())
}

/// The lines without Peer Downs before the first Peer Up.
fn after_first_peer_up(v: &[Value]) -> Vec<Value> {
    let first = first_peer_up(v);
    v.iter()
        .enumerate()
        .filter(|(i, l)| *i >= first || s(l, "bmp_msg_type") != "peer_down")
        .map(|(_, l)| l.clone())
        .collect()
}

/// Starts pmbmpd into `procs` (killed with them) and waits until it listens.
fn spawn_pmbmpd(procs: &mut Procs, d: &Path, port: u16, name: &str) {
    let conf = d.join(format!("{name}.conf"));
    let text = collector_conf(d, port, name) + &format!("logfile: {}/{name}.log\n", d.display());
    std::fs::write(&conf, text).expect("conf");
    let child = Command::new(PMBMPD)
        .arg("-f")
        .arg(&conf)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn pmbmpd");
    procs.0.push(child);
    wait_listening(port, "pmbmpd to listen");
}

fn spawn_ours(d: &Path, port: u16, name: &str, metrics: &str) -> Daemon {
    let conf = d.join(format!("{name}.conf"));
    let text = collector_conf(d, port, name) + &format!("metrics_listen: {metrics}\n");
    std::fs::write(&conf, text).expect("conf");
    let rs = Daemon::spawn(
        None,
        &["pmbmpd", "-f", &conf.to_string_lossy()],
        d.join(format!("{name}.log")),
    );
    rs.wait_log("BMP daemon listening", 1, Duration::from_secs(20));
    rs
}

/// bgpd (BGP on `frr_port`, no zebra, no vty port) peering with gobgpd on `gobgp_port`.
fn spawn_frr(d: &Path, frr_port: u16, gobgp_port: u16, collectors: &[u16]) -> Child {
    let conf = d.join("bgpd.conf");
    std::fs::write(&conf, frr_conf(gobgp_port, collectors)).expect("conf");
    std::fs::set_permissions(&conf, std::fs::Permissions::from_mode(0o644)).expect("chmod");
    Command::new(BGPD)
        .arg("-f")
        .arg(&conf)
        .args(["-M", "bmp", "-Z", "-P", "0", "-l", "127.0.0.1", "-u", "frr", "-g", "frr"])
        .arg("-i")
        .arg(d.join("bgpd.pid"))
        .arg("--vty_socket")
        .arg(d)
        .args(["-p", &frr_port.to_string()])
        .stdout(std::fs::File::create(d.join("bgpd.out")).expect("out"))
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn bgpd")
}

#[test]
fn frr_bmp_into_pmbmpd_cli() {
    if !Path::new(BGPD).exists() || !Path::new(BMP_MODULE).exists() || !gobgp::installed() {
        eprintln!("FRR's bgpd, its bmp module or gobgpd not installed; skipped");
        return;
    }
    let with_pmbmpd = Path::new(PMBMPD).exists();
    let tmp = tempfile::tempdir().expect("tempdir");
    let d = tmp.path();
    // bgpd drops to the frr user: it must read its config and write its pid file here.
    std::fs::set_permissions(d, std::fs::Permissions::from_mode(0o777)).expect("chmod");
    let (rs_port, pm_port, metrics_port) = (free_port(), free_port(), free_port());
    let (late_port, pm_late_port) = (free_port(), free_port());
    let (frr_port, gobgp_port, gobgp_api) = (free_port(), free_port(), free_port());
    // FRR retries the collectors that are not listening yet (the late ones) every second.
    let mut collectors = vec![rs_port, late_port];
    let mut procs = Procs(Vec::new());
    if with_pmbmpd {
        spawn_pmbmpd(&mut procs, d, pm_port, "pm");
        collectors.extend([pm_port, pm_late_port]);
    }
    let rs = spawn_ours(d, rs_port, "rs", &format!("127.0.0.1:{metrics_port}"));
    // gobgpd waits for FRR to connect (peer-as 65001 is FRR).
    let g_conf = d.join("gobgpd.toml");
    let text = gobgp::gobgpd_conf(65002, "10.255.0.2", gobgp_port, frr_port, true, &[], None);
    std::fs::write(&g_conf, text).expect("conf");
    let gobgpd = Procs(vec![gobgp::spawn_gobgpd(d, &g_conf, gobgp_api, "gobgpd")]);
    let frr = spawn_frr(d, frr_port, gobgp_port, &collectors);
    let frr_pid = i32::try_from(frr.id()).expect("pid");
    procs.0.insert(0, frr);

    let log = |name: &str| d.join(format!("{name}-127_0_0_1.json"));
    let (early, late) = if with_pmbmpd {
        (vec![log("rs"), log("pm")], vec![log("late"), log("pmlate")])
    } else {
        (vec![log("rs")], vec![log("late")])
    };
    let at = |logs: &[PathBuf], what: &str, f: &dyn Fn(&[Value]) -> bool| {
        wait_for_long(what, Duration::from_secs(40), || {
            logs.iter().all(|l| f(&parse(&exporter_session(l))))
        });
    };
    let routes_in_rib = |want: usize| {
        wait_for_long(&format!("{want} routes in the RIB"), Duration::from_secs(10), || {
            metric(&metrics(metrics_port), "pmacct_bmp_routes") == want as f64
        });
    };
    at(&early, "peer up", &|v| !of(v, "peer_up").is_empty());

    gobgp::wait_api(gobgp_api);
    for (family, prefix, attrs) in ROUTES {
        let mut args = vec!["global", "rib", "-a", family, "add", prefix];
        args.extend(attrs.split(' '));
        gobgp(gobgp_api, &args);
    }
    let announced = route_set("update", ROUTES.iter().map(|r| r.1));
    at(&early, "the routes", &|v| routes(v).is_superset(&announced));
    // FRR sends the pre-policy view only: one route per prefix.
    routes_in_rib(ROUTES.len());
    for (family, prefix) in WITHDRAWN {
        gobgp(gobgp_api, &["global", "rib", "-a", family, "del", prefix]);
    }
    let withdrawn = route_set("withdraw", WITHDRAWN.iter().map(|w| w.1));
    at(&early, "the withdrawals", &|v| routes(v).is_superset(&withdrawn));
    routes_in_rib(ROUTES.len() - WITHDRAWN.len());
    // Statistics every second while the neighbour is up.
    at(&early, "statistics", &|v| of(v, "stats").len() >= 7);

    // Late collectors get the table FRR holds now, then End-of-RIB.
    let remaining = route_set(
        "update",
        ROUTES.iter().map(|r| r.1).filter(|p| !WITHDRAWN.iter().any(|w| w.1 == *p)),
    );
    let rs_late = spawn_ours(d, late_port, "late", "none");
    if with_pmbmpd {
        spawn_pmbmpd(&mut procs, d, pm_late_port, "pmlate");
    }
    at(&late, "the table at the late collectors", &|v| routes(v).is_superset(&remaining));
    at(&late, "statistics at the late collectors", &|v| !of(v, "stats").is_empty());

    // The neighbour goes away, then FRR stops.
    drop(gobgpd);
    let all_logs = [&early[..], &late[..]].concat();
    at(&all_logs, "peer down", &|v| !of(&after_first_peer_up(v), "peer_down").is_empty());
    routes_in_rib(0);
    // SAFETY: signalling our own child process.
    unsafe { libc::kill(frr_pid, libc::SIGTERM) };
    at(&all_logs, "log_close", &|v| v.last().is_some_and(|l| s(l, "event_type") == "log_close"));
    rs.stop();
    rs_late.stop();
    drop(procs);

    let ours = exporter_session(&early[0]);
    let ours_late = exporter_session(&late[0]);
    if std::env::var_os("BMP_PRINT").is_some() {
        println!("{}\n\nlate:\n{}", ours.join("\n"), ours_late.join("\n"));
    }
    let all = announced.union(&withdrawn).cloned().collect();
    check_session(&parse(&ours), gobgp_port, &all);
    check_session(&parse(&ours_late), gobgp_port, &remaining);
    if with_pmbmpd {
        compare_with_pmbmpd(&ours, &exporter_session(&early[1]));
        compare_with_pmbmpd(&ours_late, &exporter_session(&late[1]));
    }
}

fn route_set<'a>(
    log_type: &str,
    prefixes: impl Iterator<Item = &'a str>,
) -> BTreeSet<(String, String)> {
    prefixes.map(|p| (log_type.to_string(), p.to_string())).collect()
}

/// One collector's view of the FRR session: Initiation, one Peer Up, exactly `routes` as
/// (log_type, prefix), the attributes of the updates, statistics, the Peer Down and the close.
fn check_session(v: &[Value], gobgp_port: u16, want: &BTreeSet<(String, String)>) {
    let init = of(v, "init");
    assert_eq!(init.len(), 1, "{v:#?}");
    assert!(s(init[0], "bmp_init_info_sysdescr").starts_with("FRRouting "), "{:?}", init[0]);
    assert_eq!(s(init[0], "bmp_init_info_sysname"), HOSTNAME);
    let main = after_first_peer_up(v);
    let up = of(&main, "peer_up");
    assert_eq!(up.len(), 1, "one session: {main:#?}");
    let up = up[0];
    assert_eq!(
        (s(up, "peer_ip"), n(up, "peer_asn"), n(up, "peer_type"), s(up, "bgp_id")),
        ("127.0.0.1", 65002, 0, "10.255.0.2")
    );
    assert_eq!((n(up, "remote_port"), s(up, "local_ip")), (i64::from(gobgp_port), "127.0.0.1"));

    assert_eq!(&routes(&main), want);
    let rm = of(&main, "route_monitor");
    assert!(rm.iter().all(|l| n(l, "is_post") == 0 && n(l, "is_in") == 1));
    assert!(rm.iter().all(|l| s(l, "peer_ip") == "127.0.0.1"));
    for (prefix, as_path, nh, comms, lcomms, med) in EXPECTED {
        let Some(l) =
            rm.iter().find(|l| s(l, "ip_prefix") == *prefix && s(l, "log_type") == "update")
        else {
            continue;
        };
        let afi = if prefix.contains(':') { 2 } else { 1 };
        assert_eq!(
            (s(l, "as_path"), s(l, "bgp_nexthop"), s(l, "comms"), s(l, "lcomms"), n(l, "med")),
            (*as_path, *nh, *comms, *lcomms, *med),
            "{prefix}: {l}"
        );
        assert_eq!((n(l, "afi"), n(l, "safi")), (afi, 1), "{prefix}");
    }
    for l in rm.iter().filter(|l| s(l, "log_type") == "withdraw") {
        assert!(l.get("as_path").is_none(), "no RIB kept without dumps: {l}");
    }

    let stats = of(&main, "stats");
    let kinds: BTreeSet<i64> = stats.iter().map(|l| n(l, "counter_type")).collect();
    assert_eq!(kinds, BTreeSet::from([0, 2, 3, 4, 5, 11, 65531]));
    assert!(stats.iter().all(|l| n(l, "peer_asn") == 65002 && s(l, "peer_ip") == "127.0.0.1"));
    let odd = stats.iter().find(|l| n(l, "counter_type") == 65531).expect("65531");
    assert_eq!((s(odd, "counter_type_str"), s(odd, "counter_value")), ("Unknown", "00-00-00-00"));

    let down = of(&main, "peer_down");
    assert_eq!(down.len(), 1, "{main:#?}");
    // gobgpd was killed: no NOTIFICATION.
    assert_eq!(
        (s(down[0], "peer_ip"), n(down[0], "reason_type"), s(down[0], "reason_str")),
        ("127.0.0.1", 4, "The remote system closed the session without a notification message")
    );
    assert_eq!(s(main.last().expect("lines"), "event_type"), "log_close");
}

/// pmbmpd 1.7.7 fed by the same FRR: the same lines in the same order, statistics aside (FRR
/// times them per collector), and the same statistics counters.
fn compare_with_pmbmpd(ours: &[String], theirs: &[String]) {
    let split = |raw: &[String]| -> (Vec<String>, BTreeSet<String>) {
        let v = parse(raw);
        let first = first_peer_up(&v);
        let (mut rest, mut stats) = (Vec::new(), BTreeSet::new());
        for (i, (line, l)) in raw.iter().zip(&v).enumerate() {
            match s(l, "bmp_msg_type") {
                "peer_down" if i < first => {}
                "stats" => {
                    stats.insert(format!(
                        "{} {} {}",
                        l["counter_type"], l["counter_type_str"], l["counter_value"]
                    ));
                }
                _ => rest.push(line.clone()),
            }
        }
        (rest, stats)
    };
    let ((o, o_stats), (t, t_stats)) = (split(ours), split(theirs));
    assert_eq!(o_stats, t_stats, "statistics counters");
    assert_eq!(o.len(), t.len(), "ours:\n{}\npmbmpd:\n{}", o.join("\n"), t.join("\n"));
    for (a, b) in o.iter().zip(&t) {
        let (mut ca, mut cb) = (comparable(a), comparable(b));
        let (ta, tb) = (take_timestamp(&mut ca), take_timestamp(&mut cb));
        assert_eq!(ca, cb, "\nours:   {a}\npmbmpd: {b}");
        // FRR stamps each collector's copy on its own: they may differ by a microsecond.
        let apart = ta.zip(tb).map(|(x, y)| (x - y).num_microseconds().unwrap_or(i64::MAX).abs());
        assert!(apart.is_none_or(|us| us <= 1000), "timestamps:\nours:   {a}\npmbmpd: {b}");
        assert_eq!(ta.is_some(), tb.is_some(), "\nours:   {a}\npmbmpd: {b}");
    }
}

/// Removes the `timestamp` field if it is a time (Initiation carries zeros), parsed.
fn take_timestamp(fields: &mut Vec<(String, Value)>) -> Option<chrono::NaiveDateTime> {
    let i = fields.iter().position(|(k, _)| k == "timestamp")?;
    let text = fields[i].1.as_str().unwrap_or("");
    let t = chrono::NaiveDateTime::parse_from_str(text, "%Y-%m-%d %H:%M:%S%.6f").ok()?;
    fields.remove(i);
    Some(t)
}
