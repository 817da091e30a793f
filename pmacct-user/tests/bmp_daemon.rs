//! The BMP daemon end to end: a TCP client replays gobgpd's real BMP stream
//! (`data/bmp/gobgpd-3.10-loopback.bmp`, see `bmp_gobgpd.rs`) into the daemon in odd-sized
//! chunks; the msglog, the dump and the RIB are checked. Also: allow-list, max_peers, a
//! garbage stream, reconnects.

use std::io::Write;
use std::net::{IpAddr, SocketAddr, TcpStream};
use std::path::Path;
use std::time::{Duration, Instant};

use pmacct_user::config::BmpConfig;
use pmacct_user::routing::bmp_daemon::BmpDaemon;
use serde_json::Value;

mod bmp_support;
use bmp_support::gobgp::{self, Pair, gobgp, wait_for_long};

const STREAM: &[u8] = include_bytes!("data/bmp/gobgpd-3.10-loopback.bmp");

fn config(dir: &Path) -> BmpConfig {
    BmpConfig {
        listen: "127.0.0.1:0".into(),
        msglog_file: Some(format!("{}/msglog-$peer_src_ip.json", dir.display())),
        dump_file: Some(format!("{}/dump-$peer_src_ip-%Y%m%d.json", dir.display())),
        ..BmpConfig::default()
    }
}

fn wait_for(what: &str, mut f: impl FnMut() -> bool) {
    let start = Instant::now();
    while !f() {
        assert!(start.elapsed() < Duration::from_secs(10), "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(20));
    }
}

fn send(addr: SocketAddr, data: &[u8]) {
    let mut c = TcpStream::connect(addr).expect("connect");
    let sizes = [1usize, 7, 13, 250, 3, 1500, 41];
    let mut off = 0;
    let mut i = 0;
    while off < data.len() {
        let n = sizes[i % sizes.len()].min(data.len() - off);
        c.write_all(&data[off..off + n]).expect("write");
        off += n;
        i += 1;
    }
}

/// The complete lines of a log the daemon may be writing right now (a last line without its
/// newline is still being written and is left for the next read).
fn read_lines(path: &Path) -> Vec<Value> {
    std::fs::read_to_string(path)
        .unwrap_or_default()
        .split_inclusive('\n')
        .filter(|l| l.ends_with('\n'))
        .map(|l| serde_json::from_str(l.trim_end()).expect("json line"))
        .collect()
}

fn s<'a>(v: &'a Value, k: &str) -> &'a str {
    v.get(k).and_then(Value::as_str).unwrap_or("")
}

fn n(v: &Value, k: &str) -> i64 {
    v.get(k).and_then(Value::as_i64).unwrap_or(-1)
}

fn ip(s: &str) -> IpAddr {
    s.parse().expect("ip")
}

#[test]
fn gobgpd_stream_msglog_and_rib() {
    let dir = tempfile::tempdir().expect("tempdir");
    let d = BmpDaemon::start(&config(dir.path()), BmpDaemon::new_rib(&BmpConfig::default()))
        .expect("start");
    let addr = d.local_addr();
    send(addr, STREAM);
    let log = dir.path().join("msglog-127_0_0_1.json");
    wait_for("log_close", || read_lines(&log).iter().any(|l| s(l, "event_type") == "log_close"));
    let lines = read_lines(&log);
    if std::env::var_os("BMP_PRINT").is_some() {
        for l in &lines {
            println!("{l}");
        }
    }
    // Framing and every event type.
    assert_eq!(s(&lines[0], "event_type"), "log_init");
    assert_eq!(s(lines.last().expect("lines"), "event_type"), "log_close");
    let seqs: Vec<i64> = lines.iter().map(|l| n(l, "seq")).collect();
    assert!(seqs.windows(2).all(|w| w[1] == w[0] + 1), "seq increases by one: {seqs:?}");
    let of = |t: &str| lines.iter().filter(|l| s(l, "bmp_msg_type") == t).collect::<Vec<_>>();
    for l in &lines[1..lines.len() - 1] {
        assert_eq!(s(l, "bmp_router"), "127.0.0.1");
        assert!(n(l, "bmp_router_port") > 0);
    }

    let init = of("init");
    assert_eq!(init.len(), 1);
    assert_eq!(s(init[0], "bmp_init_info_sysname"), "GoBGP");
    assert_eq!(s(init[0], "event_type"), "log");

    let up = of("peer_up");
    assert_eq!(up.len(), 1);
    let up = up[0];
    assert_eq!(
        (s(up, "peer_ip"), n(up, "peer_asn"), n(up, "peer_type"), s(up, "bgp_id")),
        ("127.0.0.1", 65001, 0, "10.255.0.2")
    );
    assert_eq!(n(up, "local_port"), 10179);
    assert_eq!(s(up, "peer_type_str"), "Global Instance Peer");
    assert!(up.get("remote_port").is_some() && up.get("local_ip").is_some());

    // gobgpd sends the Loc-RIB view without a Peer Up: pmacct (and we) discard it.
    let rm = of("route_monitor");
    let updates: Vec<_> = rm.iter().filter(|l| s(l, "log_type") == "update").collect();
    let withdraws: Vec<_> = rm.iter().filter(|l| s(l, "log_type") == "withdraw").collect();
    // Six routes in the pre-policy and post-policy views.
    assert_eq!(updates.len(), 12, "{updates:#?}");
    assert!(rm.iter().all(|l| n(l, "is_in") == 1 && s(l, "peer_ip") == "127.0.0.1"));
    let mut prefixes: Vec<&str> = updates.iter().map(|l| s(l, "ip_prefix")).collect();
    prefixes.sort_unstable();
    prefixes.dedup();
    assert_eq!(
        prefixes,
        [
            "10.10.0.0/16",
            "192.0.2.0/24",
            "198.51.100.0/24",
            "2001:db8:1::/48",
            "2001:db8:2::/48",
            "203.0.113.0/25"
        ]
    );
    let r = updates
        .iter()
        .find(|l| s(l, "ip_prefix") == "203.0.113.0/25" && n(l, "is_post") == 0)
        .expect("203.0.113.0/25");
    assert_eq!((s(r, "as_path"), n(r, "local_pref")), ("65002 65010 65011", 150));
    assert_eq!((n(r, "afi"), n(r, "safi"), s(r, "origin")), (1, 1, "u"));
    assert_eq!(s(r, "bgp_nexthop"), "192.0.2.254");
    let r = updates.iter().find(|l| s(l, "ip_prefix") == "192.0.2.0/24").expect("192.0.2");
    assert_eq!((s(r, "as_path"), s(r, "bgp_nexthop")), ("65002 {65021,65022}", "192.0.2.253"));
    let r = updates.iter().find(|l| s(l, "ip_prefix") == "2001:db8:1::/48").expect("v6");
    assert_eq!((s(r, "comms"), s(r, "bgp_nexthop"), n(r, "afi")), ("65002:6", "2001:db8::1", 2));
    let r = updates.iter().find(|l| s(l, "ip_prefix") == "198.51.100.0/24").expect("comms");
    assert_eq!(
        (s(r, "as_path"), s(r, "comms"), s(r, "lcomms"), n(r, "med"), s(r, "origin")),
        ("", "65002:1 no-export", "65002:1:2", 10, "i")
    );
    assert!(updates.iter().any(|l| n(l, "is_post") == 1));
    for l in &rm {
        assert!(l.get("timestamp_arrival").is_some());
        assert_eq!(n(l, "peer_tcp_port"), 0);
    }
    // The two withdrawn prefixes in both views, then gobgpd withdraws the post-policy view
    // of the other four. Without dumps pmacct keeps no RIB: withdrawals carry the prefix only.
    let w: Vec<(&str, i64)> =
        withdraws.iter().map(|l| (s(l, "ip_prefix"), n(l, "is_post"))).collect();
    assert_eq!(
        w,
        [
            ("10.10.0.0/16", 0),
            ("10.10.0.0/16", 1),
            ("2001:db8:2::/48", 0),
            ("2001:db8:2::/48", 1),
            ("198.51.100.0/24", 1),
            ("203.0.113.0/25", 1),
            ("192.0.2.0/24", 1),
            ("2001:db8:1::/48", 1)
        ]
    );
    assert!(withdraws.iter().all(|l| l.get("as_path").is_none()));

    let stats = of("stats");
    assert!(!stats.is_empty());
    let st = stats.iter().find(|l| n(l, "counter_type") == 7).expect("type 7");
    assert_eq!(
        (s(st, "counter_type_str"), n(st, "counter_value")),
        ("Number of routes in Adj-RIBs-In", 4)
    );

    let down = of("peer_down");
    assert!(!down.is_empty());
    assert!(down.iter().all(|l| s(l, "peer_ip") == "127.0.0.1" && n(l, "reason_type") > 0));
    assert!(down.iter().all(|l| l.get("reason_str").is_some()));

    // The session is over: no routes, no routers left.
    wait_for("router gone", || d.stats().routers == 0);
    let st = d.stats();
    assert_eq!((st.connections, st.errors, st.denied, st.rejected), (1, 0, 0, 0));
    assert!(st.messages >= 36, "{st:?}");
    assert!(st.no_peer_up > 0, "Loc-RIB view without Peer Up: {st:?}");
    assert_eq!(d.rib().read().expect("rib").route_count(ip("127.0.0.1")), 0);
    d.stop();
}

/// Sends the stream up to (not including) the Peer Down, keeping the session open.
fn stream_before_peer_down() -> &'static [u8] {
    let mut off = 0;
    while off + 6 <= STREAM.len() {
        let len = u32::from_be_bytes([
            STREAM[off + 1],
            STREAM[off + 2],
            STREAM[off + 3],
            STREAM[off + 4],
        ]);
        if STREAM[off + 5] == 2 {
            return &STREAM[..off];
        }
        off += len as usize;
    }
    STREAM
}

#[test]
fn live_rib_dump_and_stop() {
    let dir = tempfile::tempdir().expect("tempdir");
    let d = BmpDaemon::start(&config(dir.path()), BmpDaemon::new_rib(&BmpConfig::default()))
        .expect("start");
    let mut c = TcpStream::connect(d.local_addr()).expect("connect");
    c.write_all(stream_before_peer_down()).expect("write");
    let router = ip("127.0.0.1");
    wait_for("routes", || {
        d.rib().read().expect("rib").lookup(router, ip("203.0.113.9")).is_some()
            && d.stats().messages >= 30
    });
    // gobgpd withdrew the post-policy and Loc-RIB views before its Peer Down: 4 routes left.
    assert_eq!(d.rib().read().expect("rib").route_count(router), 4);
    d.dump_now();
    let dumps: Vec<_> = std::fs::read_dir(dir.path())
        .expect("dir")
        .filter_map(|e| e.ok())
        .filter(|e| e.file_name().to_string_lossy().starts_with("dump-127_0_0_1-"))
        .collect();
    assert_eq!(dumps.len(), 1);
    let lines = read_lines(&dumps[0].path());
    assert_eq!(s(&lines[0], "event_type"), "dump_init");
    assert_eq!(s(lines.last().expect("lines"), "event_type"), "dump_close");
    let routes: Vec<_> = lines.iter().filter(|l| s(l, "bmp_msg_type") == "route_monitor").collect();
    assert_eq!(routes.len(), 4);
    assert!(routes.iter().all(|l| s(l, "event_type") == "dump"));
    assert_eq!(n(lines.last().expect("close"), "entries"), 4);
    assert!(
        lines.iter().any(|l| s(l, "bmp_msg_type") == "peer_up" && s(l, "event_type") == "dump")
    );
    assert!(lines.iter().any(|l| s(l, "bmp_msg_type") == "init"));
    assert!(lines.iter().any(|l| s(l, "bmp_msg_type") == "stats"));
    // stop() ends the open session: log_close, routes flushed.
    d.stop();
    let log = read_lines(&dir.path().join("msglog-127_0_0_1.json"));
    assert_eq!(s(log.last().expect("log"), "event_type"), "log_close");
    drop(c);
}

#[test]
fn denied_router_is_dropped_and_counted() {
    let dir = tempfile::tempdir().expect("tempdir");
    let cfg = BmpConfig { allow: vec!["192.0.2.0/24".into()], ..config(dir.path()) };
    let d = BmpDaemon::start(&cfg, BmpDaemon::new_rib(&cfg)).expect("start");
    let mut c = TcpStream::connect(d.local_addr()).expect("connect");
    let _ = c.write_all(&STREAM[..100]);
    wait_for("denied", || d.stats().denied == 1);
    assert_eq!(d.stats().connections, 0);
    assert!(!dir.path().join("msglog-127_0_0_1.json").exists());
    d.stop();
}

#[test]
fn max_peers_rejects_the_second_router() {
    let dir = tempfile::tempdir().expect("tempdir");
    let cfg = BmpConfig { max_peers: 1, ..config(dir.path()) };
    let d = BmpDaemon::start(&cfg, BmpDaemon::new_rib(&cfg)).expect("start");
    let mut a = TcpStream::connect(d.local_addr()).expect("connect a");
    a.write_all(&STREAM[..50]).expect("write");
    wait_for("first router", || d.stats().routers == 1);
    let b = TcpStream::connect(d.local_addr()).expect("connect b");
    wait_for("rejected", || d.stats().rejected == 1);
    assert_eq!(d.stats().routers, 1);
    drop(b);
    drop(a);
    wait_for("first gone", || d.stats().routers == 0);
    // A slot is free again.
    send(d.local_addr(), STREAM);
    wait_for("second session", || d.stats().connections == 2 && d.stats().routers == 0);
    assert_eq!(d.stats().rejected, 1);
    d.stop();
}

#[test]
fn garbage_stream_is_closed_and_the_daemon_keeps_serving() {
    let dir = tempfile::tempdir().expect("tempdir");
    let d = BmpDaemon::start(&config(dir.path()), BmpDaemon::new_rib(&BmpConfig::default()))
        .expect("start");
    let log = dir.path().join("msglog-127_0_0_1.json");
    // Version 1 has no length field: the stream cannot be framed.
    let mut c = TcpStream::connect(d.local_addr()).expect("connect");
    c.write_all(&[1, 0, 0, 0, 20, 4, 0, 0, 0, 0]).expect("write");
    wait_for("log_close", || {
        read_lines(&log).iter().filter(|l| s(l, "event_type") == "log_close").count() == 1
    });
    assert_eq!(d.stats().errors, 1);
    drop(c);
    // A well-behaved router afterwards (a reconnect: fresh state).
    send(d.local_addr(), STREAM);
    wait_for("second log_close", || {
        read_lines(&log).iter().filter(|l| s(l, "event_type") == "log_close").count() == 2
    });
    let lines = read_lines(&log);
    assert_eq!(lines.iter().filter(|l| s(l, "event_type") == "log_init").count(), 2);
    assert_eq!(lines.iter().filter(|l| s(l, "bmp_msg_type") == "peer_up").count(), 1);
    assert_eq!(d.stats().errors, 1);
    d.stop();
}

/// Drops what depends on arrival or on the connection: arrival times, the router's source
/// port, and the times of `log_init`/`log_close`.
fn comparable(line: &str) -> Vec<(String, Value)> {
    bmp_support::msglog::comparable_without(line, &["bmp_router_port"])
}

/// The same stream into pmbmpd 1.7.7 (when installed) and into us: the same lines, keys in
/// the same order, the same values (arrival times and the router's port left out).
#[test]
fn same_msglog_as_pmbmpd() {
    same_msglog_as_pmbmpd_on(STREAM);
}

/// The stream without its Peer Up: Route Monitoring is dropped, the Peer Down still logged
/// (FRR sends such a Peer Down when a collector connects before the BGP session is up).
#[test]
fn same_msglog_as_pmbmpd_without_peer_up() {
    let mut stream = Vec::new();
    let mut off = 0;
    while let Some(head) = STREAM.get(off..off + 6) {
        let len = u32::from_be_bytes([head[1], head[2], head[3], head[4]]) as usize;
        if head[5] != 3 {
            stream.extend_from_slice(&STREAM[off..off + len]);
        }
        off += len;
    }
    assert!(stream.len() < STREAM.len(), "a Peer Up removed");
    same_msglog_as_pmbmpd_on(&stream);
}

fn same_msglog_as_pmbmpd_on(stream: &[u8]) {
    let pmbmpd = Path::new("/usr/sbin/pmbmpd");
    if !pmbmpd.exists() {
        eprintln!("pmbmpd not installed; skipped");
        return;
    }
    let dir = tempfile::tempdir().expect("tempdir");
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("free port")
        .port();
    let conf = dir.path().join("pmbmpd.conf");
    std::fs::write(
        &conf,
        format!(
            "daemonize: false\nbmp_daemon_ip: 127.0.0.1\nbmp_daemon_port: {port}\n\
             bmp_daemon_msglog_file: {d}/pm-$peer_src_ip.json\nbmp_daemon_msglog_output: json\n\
             logfile: {d}/pmbmpd.log\n",
            d = dir.path().display()
        ),
    )
    .expect("conf");
    let mut child = std::process::Command::new(pmbmpd)
        .arg("-f")
        .arg(&conf)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("spawn pmbmpd");
    let pm_addr: SocketAddr = format!("127.0.0.1:{port}").parse().expect("addr");
    let start = Instant::now();
    while TcpStream::connect(pm_addr).is_err() {
        assert!(start.elapsed() < Duration::from_secs(10), "pmbmpd did not listen");
        std::thread::sleep(Duration::from_millis(50));
    }
    // That probe connection was a router too; its log lines go to the same file. Send the
    // stream on a fresh connection and compare only that connection's lines.
    std::thread::sleep(Duration::from_millis(300));
    let mut c = TcpStream::connect(pm_addr).expect("connect pmbmpd");
    for chunk in stream.chunks(97) {
        c.write_all(chunk).expect("write");
        std::thread::sleep(Duration::from_millis(1));
    }
    std::thread::sleep(Duration::from_millis(500));
    let our_port = c.local_addr().expect("local").port();
    drop(c);
    let pm_log = dir.path().join("pm-127_0_0_1.json");
    let of_conn = |text: &str| -> Vec<String> {
        text.lines()
            .filter(|l| {
                serde_json::from_str::<Value>(l)
                    .map(|v| n(&v, "bmp_router_port") == i64::from(our_port))
                    .unwrap_or(false)
            })
            .map(str::to_string)
            .collect()
    };
    wait_for("pmbmpd log_close", || {
        of_conn(&std::fs::read_to_string(&pm_log).unwrap_or_default())
            .iter()
            .any(|l| l.contains("\"log_close\""))
    });
    let _ = child.kill();
    let _ = child.wait();
    let theirs = of_conn(&std::fs::read_to_string(&pm_log).expect("pmbmpd log"));

    let d = BmpDaemon::start(&config(dir.path()), BmpDaemon::new_rib(&BmpConfig::default()))
        .expect("start");
    send(d.local_addr(), stream);
    let log = dir.path().join("msglog-127_0_0_1.json");
    wait_for("log_close", || read_lines(&log).iter().any(|l| s(l, "event_type") == "log_close"));
    d.stop();
    let ours: Vec<String> =
        std::fs::read_to_string(&log).expect("our log").lines().map(str::to_string).collect();
    assert_eq!(
        ours.len(),
        theirs.len(),
        "ours:\n{}\npmbmpd:\n{}",
        ours.join("\n"),
        theirs.join("\n")
    );
    // Sequence numbers relative to each log's first line (pmbmpd also counted the probe).
    let rel = |lines: &[String]| -> Vec<Vec<(String, Value)>> {
        let base = lines
            .first()
            .map(|l| comparable(l))
            .and_then(|f| f.iter().find(|(k, _)| k == "seq").and_then(|(_, v)| v.as_i64()));
        lines
            .iter()
            .map(|l| {
                let mut c = comparable(l);
                for (k, v) in &mut c {
                    if k == "seq" {
                        *v = Value::from(v.as_i64().unwrap_or(0) - base.unwrap_or(0));
                    }
                }
                c
            })
            .collect()
    };
    for ((o, t), (ol, tl)) in
        rel(&ours).iter().zip(rel(&theirs).iter()).zip(ours.iter().zip(&theirs))
    {
        assert_eq!(o, t, "\nours:   {ol}\npmbmpd: {tl}");
    }
}

/// With periodic dumps pmacct keeps a RIB, and withdrawals are logged with the attributes
/// the route was held with; the dump thread writes on its own.
#[test]
fn periodic_dump_and_withdrawals_with_attributes() {
    let dir = tempfile::tempdir().expect("tempdir");
    let cfg = BmpConfig { dump_refresh_time: 1, ..config(dir.path()) };
    let d = BmpDaemon::start(&cfg, BmpDaemon::new_rib(&cfg)).expect("start");
    let mut c = TcpStream::connect(d.local_addr()).expect("connect");
    c.write_all(stream_before_peer_down()).expect("write");
    wait_for("a periodic dump", || d.stats().dumps >= 1);
    let dump = std::fs::read_dir(dir.path())
        .expect("dir")
        .filter_map(|e| e.ok())
        .find(|e| e.file_name().to_string_lossy().starts_with("dump-127_0_0_1-"))
        .expect("dump file");
    wait_for("a complete dump", || {
        read_lines(&dump.path()).last().is_some_and(|l| s(l, "event_type") == "dump_close")
    });
    let lines = read_lines(&dump.path());
    assert_eq!(s(&lines[0], "event_type"), "dump_init");
    assert_eq!(n(&lines[0], "dump_period"), 1);
    drop(c);
    let log = dir.path().join("msglog-127_0_0_1.json");
    wait_for("log_close", || read_lines(&log).iter().any(|l| s(l, "event_type") == "log_close"));
    let w: Vec<_> =
        read_lines(&log).into_iter().filter(|l| s(l, "log_type") == "withdraw").collect();
    assert_eq!(w.len(), 8);
    let w0 = &w[0];
    assert_eq!(
        (s(w0, "ip_prefix"), s(w0, "as_path"), s(w0, "bgp_nexthop"), s(w0, "origin")),
        ("10.10.0.0/16", "65002", "192.0.2.254", "u")
    );
    d.stop();
}

/// A live exporter: gobgpd A (iBGP AS 65001 on 127.0.0.1) sends BMP to us while gobgpd B
/// announces two IPv4 and one IPv6 route, withdraws one, then stops (Peer Down).
#[test]
fn live_gobgpd_exporter() {
    if !gobgp::installed() {
        eprintln!("gobgpd not installed; skipped");
        return;
    }
    let dir = tempfile::tempdir().expect("tempdir");
    let cfg = config(dir.path());
    let d = BmpDaemon::start(&cfg, BmpDaemon::new_rib(&cfg)).expect("start");
    let mut pair = Pair::start(dir.path(), &[d.local_addr().port()], Some(15));
    let gb = pair.api_b;
    let router = ip("127.0.0.1");
    wait_for_long("BMP session", Duration::from_secs(20), || d.stats().routers == 1);
    let log = dir.path().join("msglog-127_0_0_1.json");
    wait_for_long("peer up", Duration::from_secs(30), || {
        read_lines(&log).iter().any(|l| s(l, "bmp_msg_type") == "peer_up")
    });
    let ipv4 = ["-a", "ipv4"];
    gobgp(
        gb,
        &[&["global", "rib"][..], &ipv4, &["add", "10.99.0.0/16", "community", "65001:7"]].concat(),
    );
    gobgp(gb, &[&["global", "rib"][..], &ipv4, &["add", "192.0.2.128/25", "med", "5"]].concat());
    gobgp(gb, &["global", "rib", "-a", "ipv6", "add", "2001:db8:99::/48"]);
    wait_for_long("routes in the RIB", Duration::from_secs(20), || {
        let rib = d.rib().read().expect("rib");
        rib.lookup(router, ip("10.99.1.1")).is_some()
            && rib.lookup(router, ip("192.0.2.200")).is_some()
            && rib.lookup(router, ip("2001:db8:99::1")).is_some()
    });
    {
        let rib = d.rib().read().expect("rib");
        let a = rib.lookup(router, ip("10.99.1.1")).expect("10.99/16");
        assert_eq!((a.communities.as_str(), a.local_pref), ("65001:7", Some(100)));
        assert_eq!(rib.lookup(router, ip("192.0.2.200")).expect("192.0.2.128/25").med, Some(5));
    }
    gobgp(gb, &[&["global", "rib"][..], &ipv4, &["del", "10.99.0.0/16"]].concat());
    wait_for_long("withdrawal", Duration::from_secs(20), || {
        d.rib().read().expect("rib").lookup(router, ip("10.99.1.1")).is_none()
    });
    // gobgpd reports statistics every statistics-timeout (15 s, its minimum) while a peer is up.
    wait_for_long("stats", Duration::from_secs(20), || {
        read_lines(&log).iter().any(|l| s(l, "bmp_msg_type") == "stats")
    });
    // Stop B: A reports Peer Down.
    pair.stop_b();
    wait_for_long("peer down", Duration::from_secs(30), || {
        read_lines(&log).iter().any(|l| s(l, "bmp_msg_type") == "peer_down")
    });
    assert_eq!(d.rib().read().expect("rib").route_count(router), 0);
    let lines = read_lines(&log);
    let rm: Vec<(&str, &str)> = lines
        .iter()
        .filter(|l| s(l, "bmp_msg_type") == "route_monitor")
        .map(|l| (s(l, "log_type"), s(l, "ip_prefix")))
        .collect();
    for want in [
        ("update", "10.99.0.0/16"),
        ("update", "192.0.2.128/25"),
        ("update", "2001:db8:99::/48"),
        ("withdraw", "10.99.0.0/16"),
    ] {
        assert!(rm.contains(&want), "{want:?} not in {rm:?}");
    }
    let up = lines.iter().find(|l| s(l, "bmp_msg_type") == "peer_up").expect("peer up");
    assert_eq!(
        (s(up, "peer_ip"), n(up, "peer_asn"), s(up, "bgp_id")),
        ("127.0.0.1", 65001, "10.255.0.2")
    );
    drop(pair);
    wait_for_long("log_close", Duration::from_secs(20), || {
        read_lines(&log).iter().any(|l| s(l, "event_type") == "log_close")
    });
    d.stop();
}
