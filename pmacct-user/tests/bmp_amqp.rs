//! The BMP message log and dumps to AMQP (`bmp_daemon_msglog_amqp_*`, `bmp_dump_amqp_*`,
//! issue 7) against the RabbitMQ on 127.0.0.1:5672: gobgpd's real BMP stream into the daemon
//! with a file and AMQP; a queue bound to the router's routing key (`$bmp_router` expanded as
//! pmacct does) holds exactly the file's lines, in order, each with pmacct's `writer_id`
//! appended; `_routing_key_rr` spreads them over `<key>_<n>`; a dump to AMQP equals the dump
//! file; `pmacct-rs pmbmpd -f` with the pmacct keys moves the `plugin="bmp_msglog"` sink
//! metrics, and a native config's periodic dumps the `plugin="bmp_dump"` ones.

mod bmp_broker_support;
mod daemon;

use std::io::Write;
use std::net::TcpStream;
use std::path::Path;
use std::time::{Duration, Instant};

use bmp_broker_support::{
    Queue, RABBIT, STREAM, lines, replay_and_hold, replay_and_stop, rows_sent, strip_writer,
};
use pmacct_user::config::BmpConfig;
use pmacct_user::sink::amqp::AmqpConfig;

fn unique(tag: &str) -> String {
    format!("pmrs_bmp_{tag}_{}", std::process::id())
}

fn amqp(exchange: &str, key: &str, rr: u32) -> AmqpConfig {
    AmqpConfig {
        exchange: exchange.into(),
        routing_key: key.into(),
        routing_key_rr: rr,
        timeout_secs: 5,
        ..AmqpConfig::default()
    }
}

fn config(dir: &Path, a: AmqpConfig) -> BmpConfig {
    BmpConfig {
        listen: "127.0.0.1:0".into(),
        msglog_file: Some(format!("{}/msglog-$peer_src_ip.json", dir.display())),
        msglog_amqp: Some(a),
        ..BmpConfig::default()
    }
}

/// Replays the stream, stops the daemon: the msglog file's lines, all confirmed.
fn run(cfg: &BmpConfig, dir: &Path) -> Vec<String> {
    let (lines, stats) = replay_and_stop(cfg, dir);
    assert_eq!(stats.iter().map(|s| s.dropped).sum::<u64>(), 0);
    assert_eq!(rows_sent(&stats, "bmp_msglog"), lines.len() as u64, "every line confirmed");
    lines
}

#[test]
fn msglog_lines_to_the_routers_routing_key() {
    let exchange = unique("log");
    let key = format!("{exchange}.127_0_0_1");
    let q = Queue::bind(RABBIT, &exchange, &[&key]);
    let dir = tempfile::tempdir().expect("tmp");
    let cfg = config(dir.path(), amqp(&exchange, &format!("{exchange}.$bmp_router"), 0));
    let lines = run(&cfg, dir.path());
    assert!(lines.len() > 20, "{} msglog lines", lines.len());
    let got = q.drain(Duration::from_secs(1));
    eprintln!("{} msglog lines, {} messages", lines.len(), got.len());
    assert!(got.iter().all(|(k, _)| *k == key));
    let me = std::process::id();
    let bodies: Vec<String> = got.iter().map(|(_, m)| strip_writer(m, me)).collect();
    assert_eq!(bodies, lines);
}

#[test]
fn msglog_routing_key_round_robin() {
    let exchange = unique("rr");
    let keys: Vec<String> = (0..3).map(|n| format!("{exchange}_{n}")).collect();
    let q = Queue::bind(RABBIT, &exchange, &keys.iter().map(String::as_str).collect::<Vec<_>>());
    let dir = tempfile::tempdir().expect("tmp");
    let lines = run(&config(dir.path(), amqp(&exchange, &exchange, 3)), dir.path());
    let got = q.drain(Duration::from_secs(1));
    assert_eq!(got.len(), lines.len());
    let me = std::process::id();
    // One channel, one queue: publishing order kept; line k went to <key>_<k mod 3>.
    for (k, ((key, body), line)) in got.iter().zip(&lines).enumerate() {
        assert_eq!((key, &strip_writer(body, me)), (&keys[k % 3], line), "line {k}");
    }
    let per: Vec<usize> = keys.iter().map(|k| got.iter().filter(|(g, _)| g == k).count()).collect();
    eprintln!("messages per routing key: {per:?}");
}

/// A dump while the router is connected: the dump file and the dump routing key hold the same
/// lines.
#[test]
fn dump_to_amqp_equals_the_dump_file() {
    let exchange = unique("dump");
    let key = format!("{exchange}.127_0_0_1");
    let q = Queue::bind(RABBIT, &exchange, &[&key]);
    let dir = tempfile::tempdir().expect("tmp");
    let d = dir.path().display();
    let cfg = BmpConfig {
        listen: "127.0.0.1:0".into(),
        dump_file: Some(format!("{d}/dump-$peer_src_ip.json")),
        dump_amqp: Some(amqp(&exchange, &format!("{exchange}.$peer_src_ip"), 0)),
        ..BmpConfig::default()
    };
    let (daemon, conn) = replay_and_hold(&cfg);
    daemon.dump_now();
    let file = lines(&dir.path().join("dump-127_0_0_1.json"));
    let routes = file.iter().filter(|l| l.contains("\"route_monitor\"")).count();
    assert!(routes >= 2, "{routes} routes in the dump");
    let start = Instant::now();
    while rows_sent(&daemon.broker_stats(), "bmp_dump") < file.len() as u64 {
        assert!(start.elapsed() < Duration::from_secs(30), "{:?}", daemon.broker_stats());
        std::thread::sleep(Duration::from_millis(50));
    }
    drop(conn);
    daemon.stop();
    let me = std::process::id();
    let got: Vec<String> =
        q.drain(Duration::from_secs(1)).iter().map(|(_, m)| strip_writer(m, me)).collect();
    eprintln!("dump: {} lines ({routes} routes), {} messages", file.len(), got.len());
    assert_eq!(got, file);
}

/// `pmacct-rs pmbmpd -f` with the `bmp_daemon_msglog_amqp_*` keys: the queue holds the msglog
/// file's lines (with the daemon's `writer_id`), and the Prometheus sink counters
/// (`plugin="bmp_msglog"`) count them as sent.
#[test]
fn pmbmpd_config_keys_and_metrics() {
    let exchange = unique("pmbmpd");
    let key = format!("{exchange}.127_0_0_1");
    let q = Queue::bind(RABBIT, &exchange, &[&key]);
    let dir = tempfile::tempdir().expect("tmp");
    let (bmp, metrics) = (daemon::free_tcp_port(), daemon::free_tcp_port());
    let conf = dir.path().join("pmbmpd.conf");
    std::fs::write(
        &conf,
        format!(
            "bmp_daemon_ip: 127.0.0.1\nbmp_daemon_port: {bmp}\n\
             bmp_daemon_msglog_file: {}/msglog-$peer_src_ip.json\n\
             bmp_daemon_msglog_amqp_routing_key: {exchange}.$peer_src_ip\n\
             bmp_daemon_msglog_amqp_exchange: {exchange}\n\
             bmp_daemon_msglog_amqp_exchange_type: direct\n\
             bmp_daemon_msglog_amqp_host: 127.0.0.1\nbmp_daemon_msglog_amqp_vhost: /\n\
             bmp_daemon_msglog_amqp_user: guest\nbmp_daemon_msglog_amqp_passwd: guest\n\
             bmp_daemon_msglog_amqp_persistent_msg: true\nbmp_daemon_msglog_amqp_retry: 5\n\
             metrics_listen: 127.0.0.1:{metrics}\n",
            dir.path().display(),
        ),
    )
    .expect("conf");
    let d = daemon::Daemon::spawn(
        None,
        &["pmbmpd", "-f", &conf.to_string_lossy()],
        dir.path().join("log"),
    );
    d.wait_log("BMP daemon listening", 1, Duration::from_secs(20));
    TcpStream::connect(("127.0.0.1", bmp)).and_then(|mut c| c.write_all(STREAM)).expect("send");
    let lines = bmp_broker_support::wait_log_close(&dir.path().join("msglog-127_0_0_1.json"));
    wait_metric(metrics, "bmp_msglog", lines.len() as u64);
    d.stop();
    let got = q.drain(Duration::from_secs(1));
    let pid = writer_pid(&got[0].1);
    assert_ne!(pid, std::process::id());
    let bodies: Vec<String> = got.iter().map(|(_, m)| strip_writer(m, pid)).collect();
    eprintln!("{} msglog lines, {} messages", lines.len(), bodies.len());
    assert_eq!(bodies, lines);
}

/// `pmacct-rs run` with a native `[bmp]` section dumping every second to a file and AMQP:
/// the `plugin="bmp_dump"` sink counters move, and the last dump in the queue is the dump
/// file (rewritten at each dump).
#[test]
fn periodic_dumps_to_amqp_and_metrics() {
    let exchange = unique("periodic");
    let key = format!("{exchange}.127_0_0_1");
    let q = Queue::bind(RABBIT, &exchange, &[&key]);
    let dir = tempfile::tempdir().expect("tmp");
    let (bmp, metrics) = (daemon::free_tcp_port(), daemon::free_tcp_port());
    let conf = dir.path().join("pmacct-rs.toml");
    std::fs::write(
        &conf,
        format!(
            "[daemon]\nmetrics_listen = \"127.0.0.1:{metrics}\"\n\n[bmp]\n\
             listen = \"127.0.0.1:{bmp}\"\ndump_file = \"{}/dump-$peer_src_ip.json\"\n\
             dump_refresh_time = 1\n[bmp.dump_amqp]\nexchange = \"{exchange}\"\n\
             routing_key = \"{exchange}.$bmp_router\"\n",
            dir.path().display()
        ),
    )
    .expect("conf");
    let d = daemon::Daemon::spawn(
        None,
        &["run", "--config", &conf.to_string_lossy()],
        dir.path().join("log"),
    );
    d.wait_log("BMP daemon listening", 1, Duration::from_secs(20));
    let mut c = TcpStream::connect(("127.0.0.1", bmp)).expect("connect");
    c.write_all(bmp_broker_support::stream_peer_up().0).expect("send");
    // Two dumps after the stream is in: the last one is complete.
    std::thread::sleep(Duration::from_millis(2500));
    let start = Instant::now();
    let file = loop {
        let f = lines(&dir.path().join("dump-127_0_0_1.json"));
        if f.iter().any(|l| l.contains("\"route_monitor\"")) {
            break f;
        }
        assert!(start.elapsed() < Duration::from_secs(20), "no routes dumped:\n{}", d.log());
        std::thread::sleep(Duration::from_millis(100));
    };
    wait_metric(metrics, "bmp_dump", 2 * file.len() as u64);
    d.stop();
    drop(c);
    let file = lines(&dir.path().join("dump-127_0_0_1.json"));
    let got = q.drain(Duration::from_secs(1));
    let pid = writer_pid(&got[0].1);
    let bodies: Vec<String> = got.iter().map(|(_, m)| strip_writer(m, pid)).collect();
    let last = bodies.iter().rposition(|l| l.contains("\"dump_init\"")).expect("a dump_init");
    eprintln!("{} dump messages; the last dump {} lines", bodies.len(), bodies.len() - last);
    assert_eq!(bodies[last..], file[..]);
}

/// Waits until `pmacct_sink_rows_sent_total{plugin=name}` reaches `at_least`.
fn wait_metric(port: u16, name: &str, at_least: u64) {
    let label = format!("plugin=\"{name}\"");
    let start = Instant::now();
    loop {
        let text = daemon::scrape(port);
        let n = daemon::metric_sum(&text, "pmacct_sink_rows_sent_total", &label);
        if n >= at_least {
            eprintln!("pmacct_sink_rows_sent_total{{{label}}} {n}");
            return;
        }
        assert!(start.elapsed() < Duration::from_secs(30), "sink metrics:\n{text}");
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// The pid in a message's `writer_id` (`default/<pid>`).
fn writer_pid(msg: &str) -> u32 {
    let v: serde_json::Value = serde_json::from_str(msg).expect("json");
    let w = v["writer_id"].as_str().expect("writer_id");
    w.strip_prefix("default/").and_then(|p| p.parse().ok()).expect("default/<pid>")
}

/// A message without what depends on arrival, the connection or the process (arrival times,
/// the router's source port, `log_init`/`log_close` times, `seq`, `writer_id`), keys in order.
fn comparable(msg: &str) -> Vec<(String, serde_json::Value)> {
    let v: serde_json::Map<String, serde_json::Value> = serde_json::from_str(msg).expect("json");
    let et = v.get("event_type").and_then(|e| e.as_str()).unwrap_or("").to_string();
    let mut keys: Vec<(usize, &String)> =
        v.keys().map(|k| (msg.find(&format!("\"{k}\":")).unwrap_or(0), k)).collect();
    keys.sort_unstable();
    keys.into_iter()
        .filter(|(_, k)| {
            !matches!(k.as_str(), "timestamp_arrival" | "bmp_router_port" | "seq" | "writer_id")
        })
        .filter(|(_, k)| !(*k == "timestamp" && (et == "log_init" || et == "log_close")))
        .map(|(_, k)| (k.clone(), v[k].clone()))
        .collect()
}

/// pmbmpd 1.7.7 (Debian, built with `--enable-rabbitmq`) and `pmacct-rs pmbmpd` with the same
/// `bmp_daemon_msglog_amqp_*` keys, fed the same BMP stream: the same messages to the same
/// routing key, `writer_id` `default/<pid>` in both.
#[test]
fn pmbmpd_amqp_messages_match_ours() {
    let pmbmpd = Path::new("/usr/sbin/pmbmpd");
    if !pmbmpd.exists() {
        eprintln!("pmbmpd not installed; skipped");
        return;
    }
    let ex = unique("side");
    let key = "bmp.127_0_0_1";
    let (q_pm, q_rs) = (
        Queue::bind(RABBIT, &format!("{ex}_pm"), &[key]),
        Queue::bind(RABBIT, &format!("{ex}_rs"), &[key]),
    );
    let dir = tempfile::tempdir().expect("tmp");
    let d = dir.path();
    let (pm_port, rs_port) = (daemon::free_tcp_port(), daemon::free_tcp_port());
    let conf = |port: u16, name: &str| {
        format!(
            "daemonize: false\nbmp_daemon_ip: 127.0.0.1\nbmp_daemon_port: {port}\n\
             bmp_daemon_msglog_amqp_routing_key: bmp.$bmp_router\n\
             bmp_daemon_msglog_amqp_exchange: {ex}_{name}\nbmp_daemon_msglog_output: json\n\
             bmp_daemon_max_peers: 10\n"
        )
    };
    std::fs::write(
        d.join("pm.conf"),
        conf(pm_port, "pm") + &format!("logfile: {}/pm.log\n", d.display()),
    )
    .expect("conf");
    std::fs::write(d.join("rs.conf"), conf(rs_port, "rs") + "metrics_listen: none\n")
        .expect("conf");
    let mut pm = std::process::Command::new(pmbmpd)
        .arg("-f")
        .arg(d.join("pm.conf"))
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("spawn pmbmpd");
    let rs = daemon::Daemon::spawn(
        None,
        &["pmbmpd", "-f", &d.join("rs.conf").to_string_lossy()],
        d.join("rs.log"),
    );
    rs.wait_log("BMP daemon listening", 1, Duration::from_secs(20));
    let start = Instant::now();
    while TcpStream::connect(("127.0.0.1", pm_port)).is_err() {
        assert!(start.elapsed() < Duration::from_secs(20), "pmbmpd not listening");
        std::thread::sleep(Duration::from_millis(50));
    }
    // (pmbmpd saw the probe connection above open and close: its log_init / log_close.)
    std::thread::sleep(Duration::from_millis(500));
    let _ = q_pm.drain(Duration::from_millis(500));
    for port in [pm_port, rs_port] {
        TcpStream::connect(("127.0.0.1", port))
            .and_then(|mut c| c.write_all(STREAM))
            .expect("send");
    }
    let (mut got_pm, mut got_rs) = (Vec::new(), Vec::new());
    let start = Instant::now();
    while !(got_pm
        .iter()
        .chain(&got_rs)
        .filter(|(_, m): &&(String, String)| m.contains("\"log_close\""))
        .count()
        == 2)
    {
        assert!(
            start.elapsed() < Duration::from_secs(30),
            "pmbmpd {} / ours {} messages",
            got_pm.len(),
            got_rs.len()
        );
        got_pm.extend(q_pm.drain(Duration::from_millis(300)));
        got_rs.extend(q_rs.drain(Duration::from_millis(300)));
    }
    rs.stop();
    let _ = pm.kill();
    let _ = pm.wait();
    eprintln!("pmbmpd {} messages, ours {}", got_pm.len(), got_rs.len());
    for (k, m) in got_pm.iter().chain(&got_rs) {
        assert_eq!(k, key);
        let v: serde_json::Value = serde_json::from_str(m).expect("json");
        let w = v["writer_id"].as_str().unwrap_or_default();
        assert!(w.strip_prefix("default/").is_some_and(|p| p.parse::<u32>().is_ok()), "{m}");
    }
    assert_eq!(got_pm.len(), got_rs.len());
    for ((_, p), (_, r)) in got_pm.iter().zip(&got_rs) {
        assert_eq!(comparable(r), comparable(p), "\nours:   {r}\npmbmpd: {p}");
    }
}
