//! `pmacct-rs query` against a running daemon's memory plugin: the daemon accounts
//! `../shared/data/traffic/small.pcap` (pcap_savefile with wait) and keeps its table live; the
//! client asks for top-N, matches and erases, as `pmacct -T/-c/-M/-e` would.

mod daemon;

use std::process::Command;
use std::time::{Duration, Instant};

use daemon::{BIN, Daemon, query, shared};

/// (src, dst, packets, bytes) rows of pmacctd's output for the same packets.
fn expected_hosts() -> Vec<(String, String, u64, u64)> {
    let text = std::fs::read_to_string(shared("expected/traffic_small.pmacctd.hosts.csv"))
        .expect("expected");
    text.lines()
        .skip(1)
        .filter_map(|l| {
            let f: Vec<&str> = l.split(',').collect();
            Some((
                f[0].to_string(),
                f[1].to_string(),
                f.get(2)?.parse().ok()?,
                f.get(3)?.parse().ok()?,
            ))
        })
        .collect()
}

#[test]
fn query_top_match_erase_against_live_daemon() {
    let dir = tempfile::tempdir().expect("tmp");
    let sock = dir.path().join("collect.pipe");
    let cfg = dir.path().join("mem.toml");
    std::fs::write(
        &cfg,
        format!(
            "[daemon]\nmetrics_listen = \"127.0.0.1:0\"\ndrain_interval_ms = 100\n\n[savefile]\npath = \"{}\"\nwait = true\n\n[[plugin]]\nname = \"mem\"\ntype = \"memory\"\naggregate = [\"src_host\", \"dst_host\"]\nimt_path = \"{}\"\n",
            shared("traffic/small.pcap").display(),
            sock.display()
        ),
    )
    .expect("config");
    let cfg_arg = cfg.to_string_lossy().into_owned();
    let daemon = Daemon::spawn(None, &["run", "--config", &cfg_arg], dir.path().join("daemon.log"));

    let want = expected_hosts();
    let total_bytes: u64 = want.iter().map(|r| r.3).sum();
    // Wait until the whole capture is in the table.
    let start = Instant::now();
    loop {
        if sock.exists() {
            let stats =
                Command::new(BIN).args(["query", "--json", "--stats", "-p"]).arg(&sock).output();
            if let Ok(o) = stats
                && o.status.success()
            {
                let all = query(&sock, &[]);
                let sum: u64 = all["entries"]
                    .as_array()
                    .map(|a| a.iter().filter_map(|e| e["bytes"].as_u64()).sum())
                    .unwrap_or(0);
                if sum == total_bytes {
                    break;
                }
            }
        }
        assert!(
            start.elapsed() < Duration::from_secs(60),
            "table never complete:\n{}",
            daemon.log()
        );
        std::thread::sleep(Duration::from_millis(100));
    }

    // Top 3 by bytes equals pmacctd's three largest aggregates.
    let mut by_bytes = want.clone();
    by_bytes.sort_by_key(|r| std::cmp::Reverse(r.3));
    let top = query(&sock, &["-T", "3"]);
    let entries = top["entries"].as_array().expect("entries");
    assert_eq!(entries.len(), 3, "{top}");
    for (e, w) in entries.iter().zip(&by_bytes) {
        assert_eq!(e["ip_src"], w.0.as_str(), "{top}");
        assert_eq!(e["ip_dst"], w.1.as_str(), "{top}");
        assert_eq!(e["bytes"], w.3, "{top}");
        assert_eq!(e["packets"], w.2, "{top}");
    }

    // Match on a primitive: every aggregate from that source, and only those.
    let src = by_bytes[0].0.clone();
    let m = query(&sock, &["-M", &format!("src_host={src}")]);
    let got: u64 =
        m["entries"].as_array().expect("entries").iter().filter_map(|e| e["bytes"].as_u64()).sum();
    let expect: u64 = want.iter().filter(|r| r.0 == src).map(|r| r.3).sum();
    assert_eq!(got, expect, "{m}");

    // Erase that source; the rest stays.
    query(&sock, &["-e", "-M", &format!("src_host={src}")]);
    let after = query(&sock, &[]);
    let rest: u64 = after["entries"]
        .as_array()
        .expect("entries")
        .iter()
        .filter_map(|e| e["bytes"].as_u64())
        .sum();
    assert_eq!(rest, total_bytes - expect);

    // The table view renders too.
    let table =
        Command::new(BIN).args(["query", "-T", "2", "-p"]).arg(&sock).output().expect("table");
    let text = String::from_utf8_lossy(&table.stdout);
    assert!(text.contains("SRC_IP") && text.contains("BYTES"), "{text}");

    daemon.stop();
}
