//! Scale check of BMP dumps to the brokers (ignored by default; run with
//! `-- --ignored --nocapture`, `BMP_SCALE_ROUTES` to change N, default 100 000): gobgpd's
//! Initiation and Peer Up from the capture, then N generated IPv4 Route Monitoring messages
//! for that peer; one dump to a file, to a private `tansu` and to the RabbitMQ on :5672; prints
//! lines, seconds and lines/s until every line is acknowledged / confirmed, and checks the
//! counts.

mod bmp_broker_support;
mod daemon;
mod tansu_support;

use std::io::Write;
use std::net::TcpStream;
use std::time::{Duration, Instant};

use bmp_broker_support::{Queue, RABBIT, STREAM, lines, rows_sent};
use pmacct_user::config::BmpConfig;
use pmacct_user::routing::bmp_daemon::BmpDaemon;
use pmacct_user::sink::amqp::AmqpConfig;
use pmacct_user::sink::kafka::KafkaConfig;
use tansu_support::Tansu;

/// The first `n` BMP messages of the capture.
fn head(n: usize) -> (&'static [u8], [u8; 42]) {
    let mut at = 0usize;
    let mut peer = [0u8; 42];
    for _ in 0..n {
        let len = u32::from_be_bytes(STREAM[at + 1..at + 5].try_into().expect("4")) as usize;
        if STREAM[at + 5] == 3 {
            peer.copy_from_slice(&STREAM[at + 6..at + 48]); // the Peer Up's per-peer header
        }
        at += len;
    }
    (&STREAM[..at], peer)
}

/// Route Monitoring of 10.x.y.0/24 (route `i`) with origin, AS path, next hop, a community.
fn rm_frame(peer: &[u8; 42], i: u32) -> Vec<u8> {
    let mut attrs = vec![0x40, 1, 1, 0];
    attrs.extend_from_slice(&[0x40, 2, 14, 2, 3]);
    for asn in [65001u32, 65002, 64512 + i % 1000] {
        attrs.extend_from_slice(&asn.to_be_bytes());
    }
    attrs.extend_from_slice(&[0x40, 3, 4, 192, 0, 2, 1]);
    attrs.extend_from_slice(&[0xc0, 8, 4, 0xfd, 0xe9, 0, 1]);
    let p = (0x0a00_0000u32 + (i << 8)).to_be_bytes();
    let mut body = vec![0, 0];
    body.extend_from_slice(&u16::try_from(attrs.len()).unwrap_or(0).to_be_bytes());
    body.extend_from_slice(&attrs);
    body.extend_from_slice(&[24, p[0], p[1], p[2]]);
    let mut bgp = vec![0xff; 16];
    bgp.extend_from_slice(&u16::try_from(19 + body.len()).unwrap_or(0).to_be_bytes());
    bgp.push(2);
    bgp.extend_from_slice(&body);
    let mut m = vec![3];
    m.extend_from_slice(&u32::try_from(6 + peer.len() + bgp.len()).unwrap_or(0).to_be_bytes());
    m.push(0);
    m.extend_from_slice(peer);
    m.extend_from_slice(&bgp);
    m
}

#[test]
#[ignore]
fn dump_a_large_rib_to_kafka_and_amqp() {
    let n: u32 =
        std::env::var("BMP_SCALE_ROUTES").ok().and_then(|v| v.parse().ok()).unwrap_or(100_000);
    let tansu = Tansu::start();
    let topic = format!("pmrs_bmpscale_{}", std::process::id());
    tansu.create_topics(&[&topic], 1);
    let exchange = format!("pmrs_bmpscale_{}", std::process::id());
    let q = Queue::bind(RABBIT, &exchange, &["scale"]);
    let dir = tempfile::tempdir().expect("tmp");
    let cfg = BmpConfig {
        listen: "127.0.0.1:0".into(),
        dump_file: Some(format!("{}/dump.json", dir.path().display())),
        dump_kafka: Some(KafkaConfig {
            broker_port: tansu.port,
            topic: topic.clone(),
            ..Default::default()
        }),
        dump_amqp: Some(AmqpConfig {
            exchange: exchange.clone(),
            routing_key: "scale".into(),
            ..Default::default()
        }),
        ..BmpConfig::default()
    };
    let d = BmpDaemon::start(&cfg, BmpDaemon::new_rib(&cfg)).expect("start");
    let (start_msgs, peer) = head(2);
    let mut stream = start_msgs.to_vec();
    for i in 0..n {
        stream.extend_from_slice(&rm_frame(&peer, i));
    }
    let mut c = TcpStream::connect(d.local_addr()).expect("connect");
    c.write_all(&stream).expect("send");
    let t = Instant::now();
    while d.stats().messages < u64::from(n) + 2 {
        assert!(t.elapsed() < Duration::from_secs(300), "{:?}", d.stats());
        std::thread::sleep(Duration::from_millis(20));
    }
    eprintln!("{n} routes loaded in {:.2} s", t.elapsed().as_secs_f64());
    let t = Instant::now();
    d.dump_now();
    let file = lines(&dir.path().join("dump.json"));
    let rendered = t.elapsed();
    let want = file.len() as u64;
    assert!(want > u64::from(n), "{want} dump lines");
    let (mut kafka_done, mut amqp_done) = (None, None);
    while kafka_done.is_none() || amqp_done.is_none() {
        let stats = d.broker_stats();
        let sent = |b: &str| {
            stats
                .iter()
                .filter(|s| s.broker == b)
                .map(|s| s.stats.rows_sent.load(std::sync::atomic::Ordering::Relaxed))
                .sum::<u64>()
        };
        if kafka_done.is_none() && sent("kafka") >= want {
            kafka_done = Some(t.elapsed());
        }
        if amqp_done.is_none() && sent("amqp") >= want {
            amqp_done = Some(t.elapsed());
        }
        assert!(t.elapsed() < Duration::from_secs(600), "{stats:?}");
        std::thread::sleep(Duration::from_millis(20));
    }
    assert_eq!(rows_sent(&d.broker_stats(), "bmp_dump"), 2 * want);
    assert!(
        d.broker_stats().iter().all(|s| s
            .stats
            .rows_dropped
            .load(std::sync::atomic::Ordering::Relaxed)
            == 0)
    );
    drop(c);
    d.stop();
    let rate = |e: Duration| want as f64 / e.as_secs_f64();
    let (k, a) = (kafka_done.unwrap_or_default(), amqp_done.unwrap_or_default());
    eprintln!(
        "dump of {want} lines: dump_now returned in {:.2} s (file written, lines handed to both producers); Kafka (tansu) acknowledged all in {:.2} s ({:.0} lines/s); RabbitMQ confirmed all in {:.2} s ({:.0} lines/s)",
        rendered.as_secs_f64(),
        k.as_secs_f64(),
        rate(k),
        a.as_secs_f64(),
        rate(a)
    );
    let got = q.drain(Duration::from_secs(1)).len() as u64;
    assert_eq!(got, want, "messages in the queue");
    let stored = tansu.consume(&topic, 1).len() as u64;
    assert_eq!(stored, want, "messages in the topic");
}
