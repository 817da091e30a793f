//! The BMP message log to Kafka (`bmp_daemon_msglog_kafka_topic`, issue 7) against a private
//! `tansu` broker: gobgpd's real BMP stream into the daemon with both a msglog file and Kafka;
//! the topic (`$peer_src_ip` expanded as pmacct does) holds exactly the file's lines, in order.
//! Then `_topic_rr`: the same lines spread over `<topic>_<n>`; and `pmacct-rs pmbmpd -f` with
//! the pmacct keys, its sink metrics labelled `plugin="bmp_msglog"`.

mod daemon;
mod tansu_support;

use std::io::Write;
use std::net::{SocketAddr, TcpStream};
use std::path::Path;
use std::time::{Duration, Instant};

use pmacct_user::config::BmpConfig;
use pmacct_user::routing::bmp_daemon::BmpDaemon;
use pmacct_user::sink::kafka::KafkaConfig;
use tansu_support::Tansu;

const STREAM: &[u8] = include_bytes!("data/bmp/gobgpd-3.10-loopback.bmp");

fn config(dir: &Path, tansu: &Tansu, topic: &str, rr: u32) -> BmpConfig {
    BmpConfig {
        listen: "127.0.0.1:0".into(),
        msglog_file: Some(format!("{}/msglog-$peer_src_ip.json", dir.display())),
        msglog_kafka: Some(KafkaConfig {
            broker_port: tansu.port,
            topic: topic.into(),
            topic_rr: rr,
            timeout_secs: 5,
            ..KafkaConfig::default()
        }),
        ..BmpConfig::default()
    }
}

/// Replays the stream, waits for the router's `log_close`, stops the daemon (which sends what
/// is queued): the msglog file's lines.
fn run(cfg: &BmpConfig, dir: &Path) -> Vec<String> {
    let d = BmpDaemon::start(cfg, BmpDaemon::new_rib(cfg)).expect("start");
    let addr: SocketAddr = d.local_addr();
    TcpStream::connect(addr).and_then(|mut c| c.write_all(STREAM)).expect("send the stream");
    let log = dir.join("msglog-127_0_0_1.json");
    let start = Instant::now();
    while !std::fs::read_to_string(&log).unwrap_or_default().contains("\"log_close\"") {
        assert!(start.elapsed() < Duration::from_secs(20), "no log_close");
        std::thread::sleep(Duration::from_millis(20));
    }
    let (stats, dropped) = d.kafka_stats().expect("kafka configured");
    d.stop();
    assert_eq!(dropped, 0);
    let sent = stats.rows_sent.load(std::sync::atomic::Ordering::Relaxed);
    let lines: Vec<String> =
        std::fs::read_to_string(&log).expect("msglog").lines().map(str::to_string).collect();
    assert_eq!(sent, lines.len() as u64, "every line acknowledged by the broker");
    lines
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
    let got: Vec<String> = tansu.consume(&topic, 1).into_iter().map(|r| r.payload).collect();
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
    let per: Vec<Vec<String>> = topics
        .iter()
        .map(|t| tansu.consume(t, 1).into_iter().map(|r| r.payload).collect())
        .collect();
    eprintln!("messages per topic: {:?}", per.iter().map(Vec::len).collect::<Vec<_>>());
    // Line k went to <topic>_<k mod 2>.
    for (k, line) in lines.iter().enumerate() {
        assert_eq!(per[k % 2].get(k / 2), Some(line), "line {k}");
    }
    assert_eq!(per[0].len() + per[1].len(), lines.len());
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
    let start = Instant::now();
    let lines = loop {
        let text = std::fs::read_to_string(&log).unwrap_or_default();
        if text.contains("\"log_close\"") {
            break text.lines().map(str::to_string).collect::<Vec<_>>();
        }
        assert!(start.elapsed() < Duration::from_secs(20), "no log_close:\n{}", d.log());
        std::thread::sleep(Duration::from_millis(20));
    };
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
    let got: Vec<String> = tansu.consume(&topic, 1).into_iter().map(|r| r.payload).collect();
    eprintln!("{} msglog lines, {} messages", lines.len(), got.len());
    assert_eq!(got, lines);
}
