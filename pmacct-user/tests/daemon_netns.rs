//! The `pmacct-rs` binary end to end: attached to a veth in a namespace, fed known frames and a
//! replay of `../shared/data/traffic/small.pcap`, compared with what pmacctd 1.7.7 printed for the
//! same packets. Needs root and `tcpreplay` (`cargo xtask setup` installs it).

mod netns;

mod daemon;

use std::collections::{BTreeMap, HashSet};
use std::io::{Read, Write};
use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use daemon::{Daemon, shared};
use netns::{Frame, L4, VethPair};

/// Starts `pmacct-rs <args>` inside `ns` and waits until XDP is attached.
fn start_in(ns: &str, args: &[&str], dir: &Path) -> Daemon {
    let d = Daemon::spawn(Some(ns), args, dir.join("daemon.log"));
    d.wait_log("XDP attached", 1, Duration::from_secs(30));
    d
}

fn scrape(ns: &str, port: u16) -> String {
    VethPair::in_ns(ns, move || {
        let mut s = std::net::TcpStream::connect(("127.0.0.1", port)).expect("metrics connect");
        s.write_all(b"GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n").expect("write");
        let mut out = String::new();
        s.read_to_string(&mut out).expect("read");
        out
    })
}

fn metric_sum(text: &str, name: &str) -> f64 {
    text.lines()
        .filter(|l| {
            l.starts_with(name)
                && (l.as_bytes().get(name.len()) == Some(&b'{')
                    || l.as_bytes().get(name.len()) == Some(&b' '))
        })
        .filter_map(|l| l.rsplit(' ').next()?.parse::<f64>().ok())
        .sum()
}

#[test]
fn daemon_counts_known_frames_and_exports_metrics() {
    let pair = VethPair::new();
    let dir = tempfile::tempdir().expect("tmp");
    let out = dir.path().join("flows.json");
    let cfg = dir.path().join("pmacct-rs.toml");
    std::fs::write(
        &cfg,
        format!(
            r#"
[daemon]
metrics_listen = "127.0.0.1:19464"
drain_interval_ms = 100

[[interface]]
name = "{iface}"
action = "drop"

[[plugin]]
name = "flows"
type = "print"
aggregate = ["src_host", "dst_host", "src_port", "dst_port", "proto", "vlan"]
refresh_time = 3600
output = "json"
output_file = "{out}"
"#,
            iface = pair.rx_if,
            out = out.display()
        ),
    )
    .expect("config");
    let daemon = start_in(&pair.rx_ns, &["run", "--config", &cfg.to_string_lossy()], dir.path());

    let flows = vec![
        (
            Frame::new(
                "10.5.0.1",
                "10.5.0.2",
                L4::Tcp { sport: 1111, dport: 443, flags: 0x18 },
                300,
            ),
            2500u64,
        ),
        (
            Frame::new("2001:db8:5::1", "2001:db8:5::2", L4::Udp { sport: 53, dport: 5353 }, 80),
            1200,
        ),
        (Frame::new("10.5.0.3", "10.5.0.4", L4::Icmp, 20).vlan(&[42]), 900),
    ];
    let sender = pair.sender();
    let start = Instant::now();
    // Spread the traffic over > 0.5 s so several 100 ms drains happen during it.
    for round in 0..10u64 {
        for (f, n) in &flows {
            let bytes = f.bytes();
            for _ in 0..(n / 10) {
                sender.send(&bytes);
            }
        }
        std::thread::sleep(Duration::from_millis(60));
        let _ = round;
    }
    assert!(start.elapsed() >= Duration::from_millis(500));
    std::thread::sleep(Duration::from_millis(300));
    let metrics = scrape(&pair.rx_ns, 19464);
    daemon.stop();

    assert!(metric_sum(&metrics, "pmacct_xdp_drains_total") >= 3.0, "{metrics}");
    let seen = metrics
        .lines()
        .filter(|l| l.starts_with("pmacct_xdp_packets_total{") && l.contains("counter=\"seen\""))
        .filter_map(|l| l.rsplit(' ').next()?.parse::<f64>().ok())
        .sum::<f64>();
    assert_eq!(seen as u64, 4600, "{metrics}");
    assert!(metrics.contains("pmacct_xdp_attach_mode{"), "{metrics}");

    let text = std::fs::read_to_string(&out).expect("print output");
    let mut rows: BTreeMap<String, (u64, u64)> = BTreeMap::new();
    for line in text.lines().filter(|l| !l.trim().is_empty()) {
        let v: serde_json::Value = serde_json::from_str(line).expect("json line");
        assert_eq!(v["event_type"], "purge");
        let key = format!(
            "{} {} {} {} {} {}",
            v["ip_src"], v["ip_dst"], v["port_src"], v["port_dst"], v["ip_proto"], v["vlan"]
        );
        let e = rows.entry(key).or_default();
        e.0 += v["packets"].as_u64().expect("packets");
        e.1 += v["bytes"].as_u64().expect("bytes");
    }
    let want: BTreeMap<String, (u64, u64)> = [
        ("\"10.5.0.1\" \"10.5.0.2\" 1111 443 \"tcp\" 0", &flows[0]),
        ("\"2001:db8:5::1\" \"2001:db8:5::2\" 53 5353 \"udp\" 0", &flows[1]),
        ("\"10.5.0.3\" \"10.5.0.4\" 0 0 \"icmp\" 42", &flows[2]),
    ]
    .into_iter()
    .map(|(k, (f, n))| (k.to_string(), (*n, n * f.ip_len())))
    .collect();
    assert_eq!(rows, want, "output:\n{text}");
}

fn read_rows(path: &Path) -> (String, HashSet<String>) {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let mut lines = text.lines();
    let header = lines.next().unwrap_or_default().to_string();
    (header, lines.filter(|l| !l.is_empty()).map(str::to_string).collect())
}

const AGGS: [(&str, &str); 3] = [
    ("5tuple", "src_host, dst_host, src_port, dst_port, proto"),
    ("hosts", "src_host, dst_host"),
    ("l2", "src_mac, dst_mac, vlan, src_host, dst_host, proto"),
];

fn assert_matches_pmacctd(dir: &Path, what: &str) {
    for (name, _) in AGGS {
        let (h_got, got) = read_rows(&dir.join(format!("{name}.csv")));
        let (h_want, want) =
            read_rows(&shared(&format!("expected/traffic_small.pmacctd.{name}.csv")));
        assert_eq!(h_got, h_want, "{what}: {name} header");
        let missing: Vec<_> = want.difference(&got).take(5).collect();
        let extra: Vec<_> = got.difference(&want).take(5).collect();
        assert!(
            missing.is_empty() && extra.is_empty(),
            "{what}: {name}: {} rows vs pmacctd's {}; missing {missing:?}, extra {extra:?}",
            got.len(),
            want.len()
        );
    }
}

#[test]
fn tcpreplay_of_small_pcap_matches_pmacctd() {
    let pair = VethPair::new();
    let dir = tempfile::tempdir().expect("tmp");
    let mut plugins = String::new();
    for (name, agg) in AGGS {
        let list: Vec<String> = agg.split(", ").map(|p| format!("\"{p}\"")).collect();
        plugins += &format!(
            "[[plugin]]\nname = \"{name}\"\ntype = \"print\"\naggregate = [{}]\nrefresh_time = 3600\noutput = \"csv\"\noutput_file = \"{}\"\n\n",
            list.join(", "),
            dir.path().join(format!("{name}.csv")).display()
        );
    }
    let cfg = dir.path().join("pmacct-rs.toml");
    std::fs::write(
        &cfg,
        format!(
            "[daemon]\nmetrics_listen = \"127.0.0.1:19465\"\ndrain_interval_ms = 200\n\n[xdp]\nmax_flows = 65536\n\n[[interface]]\nname = \"{}\"\naction = \"drop\"\n\n{plugins}",
            pair.rx_if
        ),
    )
    .expect("config");
    let daemon = start_in(&pair.rx_ns, &["run", "--config", &cfg.to_string_lossy()], dir.path());
    let pcap = shared("traffic/small.pcap");
    // Paced: a veth queue holds 256 frames; 5,000 packets/s never fills it.
    let out = Command::new("ip")
        .args(["netns", "exec", &pair.tx_ns, "tcpreplay", "--pps=5000", "-i", &pair.tx_if])
        .arg(&pcap)
        .output()
        .expect("tcpreplay (install it: cargo xtask setup)");
    assert!(out.status.success(), "tcpreplay: {}", String::from_utf8_lossy(&out.stderr));
    std::thread::sleep(Duration::from_millis(500));
    daemon.stop();
    assert_matches_pmacctd(dir.path(), "XDP + tcpreplay");
}

#[test]
fn pmacctd_savefile_matches_pmacctd() {
    let dir = tempfile::tempdir().expect("tmp");
    let mut conf = format!(
        "! same keys as ../shared/scripts/golden.sh\ndaemonize: false\npcap_savefile: {}\npcap_savefile_wait: false\nplugins: {}\n",
        shared("traffic/small.pcap").display(),
        AGGS.iter().map(|(n, _)| format!("print[{n}]")).collect::<Vec<_>>().join(", ")
    );
    for (name, agg) in AGGS {
        conf += &format!(
            "aggregate[{name}]: {agg}\nprint_output[{name}]: csv\nprint_output_file[{name}]: {}\nprint_refresh_time[{name}]: 86400\n",
            dir.path().join(format!("{name}.csv")).display()
        );
    }
    let path = dir.path().join("pmacctd.conf");
    std::fs::write(&path, conf).expect("conf");
    let out = Command::new(daemon::BIN).args(["pmacctd", "-f"]).arg(&path).output().expect("run");
    assert!(out.status.success(), "pmacct-rs pmacctd: {}", String::from_utf8_lossy(&out.stderr));
    assert_matches_pmacctd(dir.path(), "pmacctd -f with pcap_savefile");
}

#[test]
fn pmacctd_conf_with_pcap_interface_attaches_xdp() {
    let pair = VethPair::new();
    let dir = tempfile::tempdir().expect("tmp");
    let out = dir.path().join("out.csv");
    let conf = dir.path().join("pmacctd.conf");
    std::fs::write(
        &conf,
        format!(
            "! an operator's pmacctd.conf, unchanged but for the interface\n\
             daemonize: false\n\
             pcap_interface: {}\n\
             plugins: print[out]\n\
             aggregate[out]: src_host, dst_host, proto, tos\n\
             print_output[out]: csv\n\
             print_output_file[out]: {}\n\
             print_refresh_time[out]: 3600\n\
             plugin_pipe_size: 10240000\n\
             metrics_listen: 127.0.0.1:19466\n",
            pair.rx_if,
            out.display()
        ),
    )
    .expect("conf");
    let daemon = start_in(&pair.rx_ns, &["pmacctd", "-f", &conf.to_string_lossy()], dir.path());
    let mut frame = Frame::new("10.6.0.1", "10.6.0.2", L4::Udp { sport: 9, dport: 9 }, 100);
    frame.tos = 0x10;
    let sender = pair.sender();
    for _ in 0..321 {
        sender.send(&frame.bytes());
    }
    std::thread::sleep(Duration::from_millis(1500));
    daemon.stop();
    let text = std::fs::read_to_string(&out).expect("output");
    assert_eq!(
        text,
        format!(
            "SRC_IP,DST_IP,PROTOCOL,TOS,PACKETS,BYTES\n10.6.0.1,10.6.0.2,udp,16,321,{}\n",
            321 * frame.ip_len()
        )
    );
}
