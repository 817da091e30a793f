//! `pmacct-rs replay --pcap` of a real capture of a BMP session (`data/bmp/gobgpd-3.10-live.pcap`,
//! made by `data/bmp/make-gobgpd-capture.sh`: tcpdump on loopback while gobgpd 3.10 streamed
//! BMP to pmbmpd 1.7.7) writes the msglog pmbmpd wrote during that live run
//! (`data/bmp/gobgpd-3.10-live.pmbmpd.json`), arrival times aside.

use std::path::Path;
use std::process::Command;

use serde_json::Value;

mod bmp_support;

const BIN: &str = env!("CARGO_BIN_EXE_pmacct-rs");

fn data(name: &str) -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/bmp").join(name)
}

/// Keys in file order with their values, without arrival times and `log_init`/`log_close`
/// times (when the collector wrote them, not the router).
fn comparable(line: &str) -> Vec<(String, Value)> {
    bmp_support::msglog::comparable_without(line, &[])
}

fn replay(dir: &Path, extra: &[&str]) -> Vec<String> {
    let conf = dir.join("pmbmpd.conf");
    std::fs::write(
        &conf,
        format!(
            "daemonize: false\nbmp_daemon_msglog_file: {}/replay-$peer_src_ip-$bmp_router_port.json\n",
            dir.display()
        ),
    )
    .expect("conf");
    let pcap = data("gobgpd-3.10-live.pcap");
    let out = Command::new(BIN)
        .args(["replay", "--pcap", &pcap.to_string_lossy(), "--pmacct-config"])
        .arg(&conf)
        .args(extra)
        .output()
        .expect("run");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let files: Vec<_> = std::fs::read_dir(dir)
        .expect("dir")
        .filter_map(|e| e.ok())
        .filter(|e| e.file_name().to_string_lossy().starts_with("replay-127_0_0_1-"))
        .collect();
    assert_eq!(files.len(), 1, "one router session");
    std::fs::read_to_string(files[0].path()).expect("msglog").lines().map(String::from).collect()
}

#[test]
fn replayed_capture_logs_what_pmbmpd_logged_live() {
    let dir = tempfile::tempdir().expect("tempdir");
    let ours = replay(dir.path(), &[]);
    let theirs: Vec<String> = std::fs::read_to_string(data("gobgpd-3.10-live.pmbmpd.json"))
        .expect("expected")
        .lines()
        .map(String::from)
        .collect();
    assert_eq!(
        ours.len(),
        theirs.len(),
        "ours:\n{}\npmbmpd:\n{}",
        ours.join("\n"),
        theirs.join("\n")
    );
    for (o, t) in ours.iter().zip(&theirs) {
        assert_eq!(comparable(o), comparable(t), "\nours:   {o}\npmbmpd: {t}");
    }
    // The arrival times are the capture's: within the live run's second.
    let arrival = |l: &str| -> String {
        serde_json::from_str::<Value>(l).expect("json")["timestamp_arrival"]
            .as_str()
            .unwrap_or("")
            .chars()
            .take(19)
            .collect()
    };
    assert_eq!(arrival(&ours[1]), arrival(&theirs[1]));
    let kinds: Vec<&str> = ["init", "peer_up", "route_monitor", "peer_down"]
        .into_iter()
        .filter(|k| ours.iter().any(|l| l.contains(&format!("\"bmp_msg_type\": \"{k}\""))))
        .collect();
    assert_eq!(kinds.len(), 4, "{kinds:?}");
    assert!(ours.iter().any(|l| l.contains("\"withdraw\"")));
}

#[test]
fn a_repeated_replay_is_a_reconnect() {
    let dir = tempfile::tempdir().expect("tempdir");
    let lines = replay(dir.path(), &["--repeat", "2"]);
    let count = |t: &str| lines.iter().filter(|l| l.contains(&format!("\"{t}\""))).count();
    assert_eq!((count("log_init"), count("log_close"), count("peer_up")), (2, 2, 2));
    let seqs: Vec<i64> = lines
        .iter()
        .map(|l| serde_json::from_str::<Value>(l).expect("json")["seq"].as_i64().unwrap_or(-1))
        .collect();
    assert!(seqs.windows(2).all(|w| w[0] < w[1]), "{seqs:?}");
}

#[test]
fn a_capture_that_is_neither_bmp_nor_exports_is_an_error() {
    let dir = tempfile::tempdir().expect("tempdir");
    let bogus = dir.path().join("x.pcap");
    std::fs::write(&bogus, b"not a capture at all").expect("write");
    let out = Command::new(BIN)
        .args(["replay", "--pcap", &bogus.to_string_lossy()])
        .output()
        .expect("run");
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("x.pcap"));
}
