//! The BMP daemon through the `pmacct-rs` binary: `pmacct-rs pmbmpd -f` beside pmbmpd 1.7.7,
//! both fed live by the same gobgpd (one BMP session to each), write the same msglog; its
//! counters reach Prometheus; SIGTERM closes the sessions (`log_close`). `nfacctd -f` with
//! `bmp_daemon: true` takes NetFlow and BMP at once.

mod bmp_support;
mod daemon;

use std::io::Write;
use std::net::{TcpStream, UdpSocket};
use std::path::Path;
use std::time::Duration;

use bmp_support::gobgp::{self, Pair, free_port, gobgp, wait_for_long};
use bmp_support::msglog::{
    comparable, exporter_session, has, metric, metrics, s, seq_of, wait_listening,
};
use daemon::{Daemon, shared};
use pmacct_user::input::datagram::read_datagrams;
use serde_json::Value;

#[test]
fn pmbmpd_cli_matches_pmbmpd_on_a_live_gobgpd() {
    let pmbmpd = Path::new("/usr/sbin/pmbmpd");
    if !pmbmpd.exists() || !gobgp::installed() {
        eprintln!("pmbmpd or gobgpd not installed; skipped");
        return;
    }
    let dir = tempfile::tempdir().expect("tempdir");
    let d = dir.path();
    let (pm_port, rs_port, metrics_port) = (free_port(), free_port(), free_port());
    let conf = |port: u16, name: &str| {
        format!(
            "daemonize: false\nbmp_daemon_ip: 127.0.0.1\nbmp_daemon_port: {port}\n\
             bmp_daemon_msglog_file: {d}/{name}-$peer_src_ip.json\nbmp_daemon_msglog_output: json\n\
             bmp_daemon_max_peers: 10\n",
            d = d.display()
        )
    };
    let pm_conf = d.join("pmbmpd.conf");
    std::fs::write(&pm_conf, conf(pm_port, "pm") + &format!("logfile: {}/pm.log\n", d.display()))
        .expect("conf");
    let rs_conf = d.join("rs.conf");
    std::fs::write(
        &rs_conf,
        conf(rs_port, "rs") + &format!("metrics_listen: 127.0.0.1:{metrics_port}\n"),
    )
    .expect("conf");
    let pm = std::process::Command::new(pmbmpd)
        .arg("-f")
        .arg(&pm_conf)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("spawn pmbmpd");
    let procs = gobgp::Procs(vec![pm]);
    let rs = Daemon::spawn(None, &["pmbmpd", "-f", &rs_conf.to_string_lossy()], d.join("rs.log"));
    rs.wait_log("BMP daemon listening", 1, Duration::from_secs(20));
    wait_listening(pm_port, "pmbmpd to listen");

    let mut pair = Pair::start(d, &[pm_port, rs_port], None);
    let (pm_log, rs_log) = (d.join("pm-127_0_0_1.json"), d.join("rs-127_0_0_1.json"));
    wait_for_long("peer up at both", Duration::from_secs(40), || {
        has(&exporter_session(&pm_log), "\"peer_up\"")
            && has(&exporter_session(&rs_log), "\"peer_up\"")
    });
    let gb = pair.api_b;
    let v4 = ["global", "rib", "-a", "ipv4", "add"];
    gobgp(gb, &[&v4[..], &["10.99.0.0/16", "community", "65001:7", "local-pref", "150"]].concat());
    gobgp(gb, &[&v4[..], &["192.0.2.128/25", "med", "5", "aspath", "65010,65011"]].concat());
    gobgp(gb, &[&v4[..], &["198.51.100.0/24", "large-community", "65001:1:2"]].concat());
    gobgp(gb, &["global", "rib", "-a", "ipv6", "add", "2001:db8:99::/48", "med", "20"]);
    let prefixes = ["10.99.0.0/16", "192.0.2.128/25", "198.51.100.0/24", "2001:db8:99::/48"];
    wait_for_long("routes at both", Duration::from_secs(30), || {
        let (a, b) = (exporter_session(&pm_log), exporter_session(&rs_log));
        prefixes.iter().all(|p| has(&a, p) && has(&b, p))
    });
    gobgp(gb, &["global", "rib", "-a", "ipv4", "del", "10.99.0.0/16"]);
    wait_for_long("withdrawal at both", Duration::from_secs(30), || {
        has(&exporter_session(&pm_log), "\"withdraw\"")
            && has(&exporter_session(&rs_log), "\"withdraw\"")
    });
    // The counters reach Prometheus at the next drain (every second).
    wait_for_long("metrics", Duration::from_secs(10), || {
        metric(&metrics(metrics_port), "pmacct_bmp_messages_total") >= 7.0
    });
    let m = metrics(metrics_port);
    assert_eq!(metric(&m, "pmacct_bmp_routers"), 1.0, "{m}");
    assert_eq!(metric(&m, "pmacct_bmp_routes"), 3.0, "three routes left, pre-policy: {m}");
    pair.stop_b();
    wait_for_long("peer down at both", Duration::from_secs(30), || {
        has(&exporter_session(&pm_log), "\"peer_down\"")
            && has(&exporter_session(&rs_log), "\"peer_down\"")
    });
    drop(pair);
    wait_for_long("log_close at pmbmpd", Duration::from_secs(20), || {
        has(&exporter_session(&pm_log), "\"log_close\"")
    });
    rs.stop();
    drop(procs);
    let (theirs, ours) = (exporter_session(&pm_log), exporter_session(&rs_log));
    assert!(has(&ours, "\"log_close\""), "SIGTERM closes the session");
    // gobgpd sends statistics on its own timer per collector: not part of the comparison.
    let keep = |v: &[String]| -> Vec<String> {
        v.iter().filter(|l| !l.contains("\"bmp_msg_type\": \"stats\"")).cloned().collect()
    };
    let (theirs, ours) = (keep(&theirs), keep(&ours));
    assert_eq!(
        ours.len(),
        theirs.len(),
        "ours:\n{}\npmbmpd:\n{}",
        ours.join("\n"),
        theirs.join("\n")
    );
    for lines in [&ours, &theirs] {
        let seqs: Vec<i64> = lines.iter().map(|l| seq_of(l)).collect();
        assert!(seqs.windows(2).all(|w| w[0] < w[1]), "seq increases: {seqs:?}");
    }
    for (o, t) in ours.iter().zip(&theirs) {
        assert_eq!(comparable(o), comparable(t), "\nours:   {o}\npmbmpd: {t}");
    }
    for p in prefixes {
        assert!(has(&ours, p), "{p} logged");
    }
}

/// gobgpd's recorded BMP stream (see `bmp_gobgpd.rs`).
const STREAM: &[u8] = include_bytes!("data/bmp/gobgpd-3.10-loopback.bmp");

#[test]
fn nfacctd_with_bmp_daemon_takes_flows_and_bmp() {
    let dir = tempfile::tempdir().expect("tempdir");
    let d = dir.path();
    let udp = UdpSocket::bind("127.0.0.1:0").and_then(|s| s.local_addr()).expect("udp").port();
    let bmp = free_port();
    let conf = d.join("nfacctd.conf");
    std::fs::write(
        &conf,
        format!(
            "daemonize: false\nplugins: print[hosts]\naggregate[hosts]: src_host, dst_host\n\
             print_output[hosts]: csv\nprint_output_file[hosts]: {d}/hosts.csv\n\
             print_refresh_time[hosts]: 86400\nnfacctd_ip: 127.0.0.1\nnfacctd_port: {udp}\n\
             metrics_listen: none\nbmp_daemon: true\nbmp_daemon_ip: 127.0.0.1\n\
             bmp_daemon_port: {bmp}\nbmp_daemon_msglog_file: {d}/bmp-$peer_src_ip.json\n",
            d = d.display()
        ),
    )
    .expect("conf");
    let nf = Daemon::spawn(None, &["nfacctd", "-f", &conf.to_string_lossy()], d.join("log"));
    nf.wait_log("BMP daemon listening", 1, Duration::from_secs(20));
    nf.wait_log("listening", 2, Duration::from_secs(20));
    // BMP and NetFlow at the same time.
    let sender = std::thread::spawn(move || {
        let mut c = TcpStream::connect(("127.0.0.1", bmp)).expect("bmp connect");
        for chunk in STREAM.chunks(211) {
            c.write_all(chunk).expect("bmp write");
        }
    });
    let sock = UdpSocket::bind("127.0.0.1:0").expect("bind");
    let mut n = 0u64;
    read_datagrams(&shared("exports/softflowd_v5.pcap"), &[], |dg| {
        sock.send_to(dg.payload, ("127.0.0.1", udp)).expect("send");
        n += 1;
        if n.is_multiple_of(16) {
            std::thread::sleep(Duration::from_millis(2));
        }
    })
    .expect("capture");
    sender.join().expect("sender");
    let log = d.join("bmp-127_0_0_1.json");
    wait_for_long("BMP log_close", Duration::from_secs(20), || {
        std::fs::read_to_string(&log).unwrap_or_default().contains("\"log_close\"")
    });
    std::thread::sleep(Duration::from_millis(300));
    nf.stop();
    // The flows: what nfacctd 1.7.7 printed for this capture.
    let got: std::collections::HashSet<String> = std::fs::read_to_string(d.join("hosts.csv"))
        .expect("print output")
        .lines()
        .map(str::to_string)
        .collect();
    let want: std::collections::HashSet<String> =
        std::fs::read_to_string(shared("expected/softflowd_v5.hosts.csv"))
            .expect("expected")
            .lines()
            .map(str::to_string)
            .collect();
    assert_eq!(got, want, "flows as nfacctd 1.7.7 prints them");
    // The BMP events: the stream's Initiation, Peer Up, route monitoring, stats, Peer Down.
    let text = std::fs::read_to_string(&log).expect("msglog");
    let types: Vec<String> = text
        .lines()
        .filter_map(|l| serde_json::from_str::<Value>(l).ok())
        .map(|v| format!("{}{}", s(&v, "event_type"), s(&v, "bmp_msg_type")))
        .collect();
    for t in ["log_init", "loginit", "logpeer_up", "logroute_monitor", "logstats", "logpeer_down"] {
        assert!(types.iter().any(|x| x == t), "{t} missing in {types:?}");
    }
    assert_eq!(types.last().map(String::as_str), Some("log_close"));
}

/// A capture job (`pcap_savefile`, no wait) with `bmp_daemon: true` still ends when the capture
/// is accounted, as nfacctd does; the BMP listener ran meanwhile and is closed.
#[test]
fn savefile_job_with_bmp_daemon_still_exits() {
    let dir = tempfile::tempdir().expect("tempdir");
    let d = dir.path();
    let conf = d.join("nfacctd.conf");
    std::fs::write(
        &conf,
        format!(
            "plugins: print[hosts]\naggregate[hosts]: src_host, dst_host\nprint_output[hosts]: csv\n\
             print_output_file[hosts]: {d}/hosts.csv\npcap_savefile: {}\npcap_savefile_wait: false\n\
             metrics_listen: none\nbmp_daemon: true\nbmp_daemon_ip: 127.0.0.1\nbmp_daemon_port: {}\n",
            shared("exports/softflowd_v5.pcap").display(),
            free_port(),
            d = d.display()
        ),
    )
    .expect("conf");
    let mut nf = Daemon::spawn(None, &["nfacctd", "-f", &conf.to_string_lossy()], d.join("log"));
    let child = &mut nf.child;
    let start = std::time::Instant::now();
    let status = loop {
        if let Some(s) = child.try_wait().expect("wait") {
            break s;
        }
        if start.elapsed() > Duration::from_secs(30) {
            let _ = child.kill();
            panic!("the capture job did not exit");
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    assert!(status.success());
    let log = std::fs::read_to_string(d.join("log")).unwrap_or_default();
    assert!(log.contains("BMP daemon listening") && log.contains("BMP daemon stopped"), "{log}");
    let got = std::fs::read_to_string(d.join("hosts.csv")).expect("output");
    let want = std::fs::read_to_string(shared("expected/softflowd_v5.hosts.csv")).expect("want");
    let set = |t: &str| t.lines().map(String::from).collect::<std::collections::HashSet<_>>();
    assert_eq!(set(&got), set(&want));
}
