//! The collectors end to end, through the `pmacct-rs` binary: every export capture in
//! `../shared/data/exports` (made by softflowd and pmacct's nfprobe/sfprobe from the same
//! traffic) read with the operator's nfacctd/sfacctd config (`pcap_savefile`), replayed with
//! `pmacct-rs replay`, and sent live over loopback UDP; output compared with what nfacctd and
//! sfacctd 1.7.7 printed for the same input (`../shared/data/expected`).

mod daemon;

use std::collections::HashSet;
use std::net::UdpSocket;
use std::path::Path;
use std::process::Command;
use std::time::Duration;

use daemon::{BIN, Daemon, free_tcp_port, free_udp_port, metric_sum, scrape, send_capture, shared};
use pmacct_user::input::datagram::read_datagrams;

/// (capture, daemon, aggregations) as `../shared/scripts/golden.sh` made them.
const CAPTURES: &[(&str, &str, &[&str])] = &[
    ("softflowd_v5", "nfacctd", &["5tuple", "nf_fields", "hosts"]),
    ("softflowd_v9", "nfacctd", &["5tuple", "nf_fields", "hosts"]),
    ("softflowd_v10", "nfacctd", &["5tuple", "nf_fields", "hosts"]),
    ("pmacct_nfprobe_v9", "nfacctd", &["5tuple", "nf_fields", "hosts"]),
    ("pmacct_nfprobe_ipfix", "nfacctd", &["5tuple", "nf_fields", "hosts"]),
    ("pmacct_sfprobe", "sfacctd", &["5tuple", "hosts", "l2"]),
];

fn aggregate(name: &str) -> &'static str {
    match name {
        "5tuple" => "src_host, dst_host, src_port, dst_port, proto",
        "nf_fields" => {
            "src_host, dst_host, src_port, dst_port, proto, tos, in_iface, out_iface, tcpflags"
        }
        "hosts" => "src_host, dst_host",
        "l2" => "src_mac, dst_mac, vlan, src_host, dst_host, proto",
        other => panic!("unknown aggregation {other}"),
    }
}

fn lines(path: &Path) -> HashSet<String> {
    std::fs::read_to_string(path)
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
        .lines()
        .map(str::to_string)
        .collect()
}

fn assert_same(got: &Path, want: &Path, what: &str) {
    let (g, w) = (lines(got), lines(want));
    let missing: Vec<_> = w.difference(&g).take(3).collect();
    let extra: Vec<_> = g.difference(&w).take(3).collect();
    assert!(
        missing.is_empty() && extra.is_empty(),
        "{what}: {} lines vs pmacct's {}; missing {missing:?}; extra {extra:?}",
        g.len(),
        w.len()
    );
}

/// A pmacct config with one print plugin per (aggregation, format), as golden.sh writes them.
fn pmacct_conf(dir: &Path, input: &str, aggs: &[&str]) -> String {
    let mut plugins = Vec::new();
    let mut conf = format!("daemonize: false\n{input}");
    for a in aggs {
        for fmt in ["csv", "json"] {
            let name = format!("{a}_{fmt}");
            conf += &format!(
                "aggregate[{name}]: {}\nprint_output[{name}]: {fmt}\nprint_output_file[{name}]: {}\nprint_refresh_time[{name}]: 86400\n",
                aggregate(a),
                dir.join(format!("{a}.{fmt}")).display()
            );
            plugins.push(format!("print[{name}]"));
        }
    }
    format!("plugins: {}\n{conf}", plugins.join(", "))
}

fn run_ok(args: &[&str]) {
    let out = Command::new(BIN).args(args).output().expect("run pmacct-rs");
    assert!(out.status.success(), "pmacct-rs {args:?}: {}", String::from_utf8_lossy(&out.stderr));
}

fn check_all(dir: &Path, capture: &str, aggs: &[&str], what: &str) {
    for a in aggs {
        for fmt in ["csv", "json"] {
            assert_same(
                &dir.join(format!("{a}.{fmt}")),
                &shared(&format!("expected/{capture}.{a}.{fmt}")),
                &format!("{what}: {capture} {a} {fmt}"),
            );
        }
    }
}

#[test]
fn pcap_savefile_matches_nfacctd_and_sfacctd() {
    for (capture, daemon, aggs) in CAPTURES {
        let dir = tempfile::tempdir().expect("tmp");
        let pcap = shared(&format!("exports/{capture}.pcap"));
        let input = format!("pcap_savefile: {}\npcap_savefile_wait: false\n", pcap.display());
        let conf = dir.path().join("daemon.conf");
        std::fs::write(&conf, pmacct_conf(dir.path(), &input, aggs)).expect("conf");
        run_ok(&[daemon, "-f", &conf.to_string_lossy()]);
        check_all(dir.path(), capture, aggs, &format!("{daemon} -f"));
    }
}

#[test]
fn replay_command_matches() {
    for (capture, _, aggs) in CAPTURES {
        let dir = tempfile::tempdir().expect("tmp");
        let conf = dir.path().join("plugins.conf");
        std::fs::write(&conf, pmacct_conf(dir.path(), "", aggs)).expect("conf");
        let pcap = shared(&format!("exports/{capture}.pcap"));
        run_ok(&[
            "replay",
            "--pcap",
            &pcap.to_string_lossy(),
            "--pmacct-config",
            &conf.to_string_lossy(),
        ]);
        check_all(dir.path(), capture, aggs, "replay");
    }
}

#[test]
fn live_udp_matches() {
    for (capture, daemon, aggs) in CAPTURES {
        let dir = tempfile::tempdir().expect("tmp");
        let port = free_udp_port();
        let metrics = free_tcp_port();
        let prefix = if *daemon == "nfacctd" { "nfacctd" } else { "sfacctd" };
        let input = format!(
            "{prefix}_ip: 127.0.0.1\n{prefix}_port: {port}\nmetrics_listen: 127.0.0.1:{metrics}\n"
        );
        let conf = dir.path().join("daemon.conf");
        std::fs::write(&conf, pmacct_conf(dir.path(), &input, aggs)).expect("conf");
        let d =
            Daemon::spawn(None, &[daemon, "-f", &conf.to_string_lossy()], dir.path().join("log"));
        d.wait_log("listening", 1, Duration::from_secs(20));
        let sent = send_capture(capture, port);
        assert!(sent > 0);
        // Socket threads publish per-exporter counters every second; the loop exports them.
        std::thread::sleep(Duration::from_millis(2500));
        let text = scrape(metrics);
        d.stop();
        check_all(dir.path(), capture, aggs, "live UDP");
        // Per-exporter counters add up to the collector's, and count every datagram sent.
        let collector = if *daemon == "nfacctd" { "netflow" } else { "sflow" };
        let c = format!("collector=\"{collector}\"");
        let flows = metric_sum(&text, "pmacct_collector_flows_total", &c);
        assert!(flows > 0, "{capture}: {text}");
        assert_eq!(metric_sum(&text, "pmacct_exporter_records_total", &c), flows, "{capture}");
        assert_eq!(metric_sum(&text, "pmacct_exporter_datagrams_total", &c), sent, "{capture}");
        assert_eq!(metric_sum(&text, "pmacct_exporter_malformed_total", &c), 0, "{capture}");
        if *daemon == "nfacctd" {
            // The exporter is the sending socket's address.
            let one = format!("{c},exporter=\"127.0.0.1\"");
            assert_eq!(metric_sum(&text, "pmacct_exporter_records_total", &one), flows);
        }
        if capture.ends_with("v9") || capture.ends_with("v10") || capture.ends_with("ipfix") {
            assert!(metric_sum(&text, "pmacct_exporter_templates", &c) > 0, "{capture}: {text}");
        }
    }
}

#[test]
fn exporters_outside_the_allow_list_are_dropped() {
    let dir = tempfile::tempdir().expect("tmp");
    let port = free_udp_port();
    let allow = dir.path().join("allow.lst");
    std::fs::write(&allow, "! only this router\n192.0.2.1\n").expect("allow");
    let out = dir.path().join("out.csv");
    let conf = dir.path().join("nfacctd.conf");
    std::fs::write(
        &conf,
        format!(
            "plugins: print[p]\naggregate[p]: src_host, dst_host\nprint_output[p]: csv\nprint_output_file[p]: {}\n\
             print_refresh_time[p]: 86400\nnfacctd_ip: 127.0.0.1\nnfacctd_port: {port}\nnfacctd_allow_file: {}\n\
             metrics_listen: 127.0.0.1:19467\n",
            out.display(),
            allow.display()
        ),
    )
    .expect("conf");
    let d =
        Daemon::spawn(None, &["nfacctd", "-f", &conf.to_string_lossy()], dir.path().join("log"));
    d.wait_log("listening", 1, Duration::from_secs(20));
    let sent = send_capture("softflowd_v5", port);
    std::thread::sleep(Duration::from_millis(1500));
    let mut s = std::net::TcpStream::connect("127.0.0.1:19467").expect("metrics");
    std::io::Write::write_all(&mut s, b"GET /metrics HTTP/1.1\r\n\r\n").expect("get");
    let mut text = String::new();
    std::io::Read::read_to_string(&mut s, &mut text).expect("read");
    d.stop();
    assert!(
        text.contains(&format!("pmacct_collector_denied_total{{collector=\"netflow\"}} {sent}")),
        "{text}"
    );
    assert!(!out.exists() || lines(&out).len() <= 1, "nothing accounted from a denied exporter");
}

/// True when a NetFlow v9 datagram carries only data flowsets (ids ≥ 256).
fn v9_data_only(p: &[u8]) -> bool {
    let mut off = 20;
    while off + 4 <= p.len() {
        let id = u16::from_be_bytes([p[off], p[off + 1]]);
        let len = usize::from(u16::from_be_bytes([p[off + 2], p[off + 3]]));
        if id < 256 || len < 4 {
            return false;
        }
        off += len;
    }
    true
}

/// Runs nfacctd on loopback with `templates_file`, sends the datagrams `keep` selects, stops,
/// and returns the 5-tuple rows printed.
fn run_with_templates(
    dir: &Path,
    templates: &Path,
    keep: impl Fn(&[u8]) -> bool,
) -> HashSet<String> {
    let port = free_udp_port();
    let out = dir.join("out.csv");
    let _ = std::fs::remove_file(&out);
    let conf = dir.join("nfacctd.conf");
    std::fs::write(
        &conf,
        format!(
            "plugins: print[p]\naggregate[p]: {}\nprint_output[p]: csv\nprint_output_file[p]: {}\n\
             print_refresh_time[p]: 86400\nnfacctd_ip: 127.0.0.1\nnfacctd_port: {port}\n\
             nfacctd_templates_file: {}\nmetrics_listen: none\n",
            aggregate("5tuple"),
            out.display(),
            templates.display()
        ),
    )
    .expect("conf");
    let d = Daemon::spawn(None, &["nfacctd", "-f", &conf.to_string_lossy()], dir.join("log"));
    d.wait_log("listening", 1, Duration::from_secs(20));
    let sock = UdpSocket::bind("127.0.0.1:0").expect("bind");
    let mut n = 0u32;
    read_datagrams(&shared("exports/softflowd_v9.pcap"), &[], |d| {
        if keep(d.payload) {
            sock.send_to(d.payload, ("127.0.0.1", port)).expect("send");
            n += 1;
            if n.is_multiple_of(16) {
                std::thread::sleep(Duration::from_millis(2));
            }
        }
    })
    .expect("read");
    std::thread::sleep(Duration::from_millis(500));
    d.stop();
    if out.exists() { lines(&out) } else { HashSet::new() }
}

#[test]
fn templates_file_survives_a_restart() {
    let dir = tempfile::tempdir().expect("tmp");
    let templates = dir.path().join("templates.json");
    // Without saved templates, data-only datagrams decode to nothing.
    let cold = run_with_templates(dir.path(), &dir.path().join("none.json"), v9_data_only);
    std::fs::remove_file(dir.path().join("none.json"))
        .expect("an empty template file is saved too");
    assert!(cold.len() <= 1, "no templates, no flows: {cold:?}");
    // A first run learns and saves the templates; a restart decodes data-only datagrams with them.
    let first = run_with_templates(dir.path(), &templates, |_| true);
    assert!(first.len() > 100, "first run decoded only {} rows", first.len());
    assert!(templates.exists(), "templates saved at stop");
    let second = run_with_templates(dir.path(), &templates, v9_data_only);
    assert!(second.len() > 100, "restart decoded only {} rows", second.len());
}
