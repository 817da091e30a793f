//! The BMP message log and dumps to Kafka (`bmp_daemon_msglog_kafka_*`, `bmp_dump_kafka_*`,
//! issue 7) against a private `tansu` broker: gobgpd's real BMP stream into the daemon with both
//! a file and Kafka; the topic (`$peer_src_ip` expanded as pmacct does) holds exactly the file's
//! lines, in order, each with pmacct's `writer_id` (`default/<pid>`) appended. Then `_topic_rr`:
//! the same lines spread over `<topic>_<n>`; a dump to Kafka (round-robin, partition key with
//! `$bmp_router`) equal to the dump file; and `pmacct-rs pmbmpd -f` with the pmacct keys, its
//! sink metrics labelled `plugin="bmp_msglog"`.

mod bmp_broker_support;
mod daemon;
mod tansu_support;

use std::io::Write;
use std::net::TcpStream;
use std::path::Path;
use std::time::{Duration, Instant};

use bmp_broker_support::{
    STREAM, lines, replay_and_hold, replay_and_stop, rows_sent, strip_writer,
};
use pmacct_user::config::BmpConfig;
use pmacct_user::sink::kafka::KafkaConfig;
use tansu_support::Tansu;

fn kafka(tansu: &Tansu, topic: &str, rr: u32) -> KafkaConfig {
    KafkaConfig {
        broker_port: tansu.port,
        topic: topic.into(),
        topic_rr: rr,
        timeout_secs: 5,
        ..KafkaConfig::default()
    }
}

fn config(dir: &Path, tansu: &Tansu, topic: &str, rr: u32) -> BmpConfig {
    BmpConfig {
        listen: "127.0.0.1:0".into(),
        msglog_file: Some(format!("{}/msglog-$peer_src_ip.json", dir.display())),
        msglog_kafka: Some(kafka(tansu, topic, rr)),
        ..BmpConfig::default()
    }
}

/// Replays the stream, stops the daemon: the msglog file's lines, all acknowledged.
fn run(cfg: &BmpConfig, dir: &Path) -> Vec<String> {
    let (lines, stats) = replay_and_stop(cfg, dir);
    assert_eq!(stats.iter().map(|s| s.dropped).sum::<u64>(), 0);
    assert_eq!(rows_sent(&stats, "bmp_msglog"), lines.len() as u64, "every line acknowledged");
    lines
}

fn payloads(tansu: &Tansu, topic: &str) -> Vec<String> {
    let me = std::process::id();
    tansu.consume(topic, 1).into_iter().map(|r| strip_writer(&r.payload, me)).collect()
}

#[test]
fn msglog_lines_to_the_routers_topic() {
    let tansu = Tansu::start();
    let topic = format!("pmrs_bmp_{}.127_0_0_1", std::process::id());
    tansu.create_topics(&[&topic], 1);
    let dir = tempfile::tempdir().expect("tmp");
    let template = format!("pmrs_bmp_{}.$peer_src_ip", std::process::id());
    let lines = run(&config(dir.path(), &tansu, &template, 0), dir.path());
    assert!(lines.len() > 20, "{} msglog lines", lines.len());
    let got = payloads(&tansu, &topic);
    eprintln!("{} msglog lines, {} messages", lines.len(), got.len());
    assert_eq!(got, lines);
}

#[test]
fn msglog_topic_round_robin() {
    let tansu = Tansu::start();
    let base = format!("pmrs_bmprr_{}", std::process::id());
    let topics: Vec<String> = (0..2).map(|n| format!("{base}_{n}")).collect();
    tansu.create_topics(&topics.iter().map(String::as_str).collect::<Vec<_>>(), 1);
    let dir = tempfile::tempdir().expect("tmp");
    let lines = run(&config(dir.path(), &tansu, &base, 2), dir.path());
    let per: Vec<Vec<String>> = topics.iter().map(|t| payloads(&tansu, t)).collect();
    eprintln!("messages per topic: {:?}", per.iter().map(Vec::len).collect::<Vec<_>>());
    // Line k went to <topic>_<k mod 2>.
    for (k, line) in lines.iter().enumerate() {
        assert_eq!(per[k % 2].get(k / 2), Some(line), "line {k}");
    }
    assert_eq!(per[0].len() + per[1].len(), lines.len());
}

/// A dump while the router is connected: the dump file and the dump topics (round-robin over
/// `<topic>_0`, `<topic>_1`, keyed by the router) hold the same lines; the msglog goes only to
/// its file.
#[test]
fn dump_to_kafka_equals_the_dump_file() {
    let tansu = Tansu::start();
    let base = format!("pmrs_bmpdump_{}.127_0_0_1", std::process::id());
    let topics: Vec<String> = (0..2).map(|n| format!("{base}_{n}")).collect();
    tansu.create_topics(&topics.iter().map(String::as_str).collect::<Vec<_>>(), 1);
    let dir = tempfile::tempdir().expect("tmp");
    let d = dir.path().display();
    let cfg = BmpConfig {
        listen: "127.0.0.1:0".into(),
        msglog_file: Some(format!("{d}/msglog-$peer_src_ip.json")),
        dump_file: Some(format!("{d}/dump-$bmp_router.json")),
        dump_kafka: Some(KafkaConfig {
            partition_key: Some("$bmp_router:$bmp_router_port".into()),
            ..kafka(&tansu, &format!("pmrs_bmpdump_{}.$bmp_router", std::process::id()), 2)
        }),
        ..BmpConfig::default()
    };
    let (daemon, conn) = replay_and_hold(&cfg);
    let router_port = conn.local_addr().expect("local").port();
    daemon.dump_now();
    let file = lines(&dir.path().join("dump-127_0_0_1.json"));
    let routes = file.iter().filter(|l| l.contains("\"route_monitor\"")).count();
    assert!(routes >= 2, "{routes} routes in the dump");
    assert!(
        file[0].contains("\"dump_init\"") && file.last().is_some_and(|l| l.contains("dump_close"))
    );
    let start = Instant::now();
    while rows_sent(&daemon.broker_stats(), "bmp_dump") < file.len() as u64 {
        assert!(start.elapsed() < Duration::from_secs(30), "{:?}", daemon.broker_stats());
        std::thread::sleep(Duration::from_millis(50));
    }
    drop(conn);
    daemon.stop();
    let me = std::process::id();
    let per: Vec<Vec<tansu_support::Record>> = topics.iter().map(|t| tansu.consume(t, 1)).collect();
    eprintln!(
        "dump: {} lines, messages per topic {:?}",
        file.len(),
        per.iter().map(Vec::len).collect::<Vec<_>>()
    );
    assert_eq!(per[0].len() + per[1].len(), file.len());
    for (k, line) in file.iter().enumerate() {
        let r = per[k % 2].get(k / 2).unwrap_or_else(|| panic!("dump line {k} missing"));
        assert_eq!(&strip_writer(&r.payload, me), line, "line {k}");
        assert_eq!(r.key.as_deref(), Some(format!("127_0_0_1:{router_port}").as_str()));
    }
}

/// `pmacct-rs pmbmpd -f` with `bmp_daemon_msglog_kafka_*`: the topic holds the msglog file's
/// lines, and the Prometheus sink counters (`plugin="bmp_msglog"`) count them as sent.
#[test]
fn pmbmpd_config_keys_and_metrics() {
    let tansu = Tansu::start();
    let base = format!("pmrs_pmbmpd_{}", std::process::id());
    let topic = format!("{base}.127_0_0_1");
    tansu.create_topics(&[&topic], 1);
    let dir = tempfile::tempdir().expect("tmp");
    let (bmp, metrics) = (daemon::free_tcp_port(), daemon::free_tcp_port());
    let conf = dir.path().join("pmbmpd.conf");
    std::fs::write(
        &conf,
        format!(
            "bmp_daemon_ip: 127.0.0.1\nbmp_daemon_port: {bmp}\n\
             bmp_daemon_msglog_file: {}/msglog-$peer_src_ip.json\n\
             bmp_daemon_msglog_kafka_topic: {base}.$peer_src_ip\n\
             bmp_daemon_msglog_kafka_broker_host: 127.0.0.1\n\
             bmp_daemon_msglog_kafka_broker_port: {}\nmetrics_listen: 127.0.0.1:{metrics}\n",
            dir.path().display(),
            tansu.port
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
    let log = dir.path().join("msglog-127_0_0_1.json");
    let lines = bmp_broker_support::wait_log_close(&log);
    let start = Instant::now();
    let label = "plugin=\"bmp_msglog\"";
    loop {
        let text = daemon::scrape(metrics);
        if daemon::metric_sum(&text, "pmacct_sink_rows_sent_total", label) == lines.len() as u64 {
            break;
        }
        assert!(start.elapsed() < Duration::from_secs(30), "sink metrics:\n{text}");
        std::thread::sleep(Duration::from_millis(100));
    }
    d.stop();
    let recs = tansu.consume(&topic, 1);
    let pid = writer_pid(&recs[0].payload);
    let got: Vec<String> = recs.iter().map(|r| strip_writer(&r.payload, pid)).collect();
    eprintln!("{} msglog lines, {} messages", lines.len(), got.len());
    assert_eq!(got, lines);
}

/// The pid in a message's `writer_id` (`default/<pid>`).
fn writer_pid(msg: &str) -> u32 {
    let v: serde_json::Value = serde_json::from_str(msg).expect("json");
    let w = v["writer_id"].as_str().expect("writer_id");
    w.strip_prefix("default/").and_then(|p| p.parse().ok()).expect("default/<pid>")
}
