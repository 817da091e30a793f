//! UDP listeners on loopback: SO_REUSEPORT sockets, allow-list, batching to the aggregator queue.
//! The decoder here is a toy (one record per datagram, its source in `peer_src_ip`) so that the
//! socket plumbing is tested on its own; the collectors' real decoders are tested end to end in
//! the collector tests.

use std::net::{SocketAddr, UdpSocket};
use std::sync::Arc;
use std::sync::mpsc::sync_channel;
use std::time::{Duration, Instant};

use pmacct_user::config::{CollectorConfig, CollectorKind};
use pmacct_user::input::allow::AllowList;
use pmacct_user::input::collector::{CollectorStats, ExportDecoder};
use pmacct_user::input::udp::UdpListeners;
use pmacct_user::record::FlowRecord;

struct Toy;

impl ExportDecoder for Toy {
    fn decode(
        &mut self,
        src: SocketAddr,
        arrival_us: u64,
        payload: &[u8],
        out: &mut Vec<FlowRecord>,
    ) -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
        if payload.first() == Some(&0xff) {
            return Err("malformed".into());
        }
        let mut r = FlowRecord::default();
        r.fields.peer_src_ip = src.ip();
        r.counters.packets = 1;
        r.counters.bytes = payload.len() as u64;
        r.counters.first_us = arrival_us;
        out.push(r);
        Ok(())
    }
}

#[test]
fn reuseport_sockets_allow_list_and_batches() {
    let mut cfg = CollectorConfig::new(CollectorKind::Netflow);
    cfg.listen = vec!["127.0.0.1:0".into()];
    cfg.sockets = 3;
    let allow = Arc::new(AllowList::load(&["127.0.0.1".into()], None).expect("allow"));
    let (tx, rx) = sync_channel(64);
    let stats = Arc::new(CollectorStats::default());
    let listeners =
        UdpListeners::start("test", &cfg, Arc::new(|| Box::new(Toy)), allow, tx, stats.clone())
            .expect("start");
    assert_eq!(listeners.local.len(), 3);
    let port = listeners.local[0].port();
    assert!(listeners.local.iter().all(|a| a.port() == port), "one port shared by every socket");

    // 40 exporters (source ports) so the kernel spreads them over the sockets.
    let mut sent_bytes = 0u64;
    for i in 0..40u8 {
        let s = UdpSocket::bind("127.0.0.1:0").expect("bind");
        for _ in 0..5 {
            let payload = vec![i; 10 + usize::from(i)];
            s.send_to(&payload, ("127.0.0.1", port)).expect("send");
            sent_bytes += payload.len() as u64;
        }
    }
    // A malformed datagram and one from a denied address (127.0.0.2 is loopback too).
    UdpSocket::bind("127.0.0.1:0")
        .expect("bind")
        .send_to(&[0xff, 1], ("127.0.0.1", port))
        .expect("send");
    UdpSocket::bind("127.0.0.2:0")
        .expect("bind")
        .send_to(&[1, 2, 3], ("127.0.0.1", port))
        .expect("send");

    let mut got = Vec::new();
    let start = Instant::now();
    while got.len() < 200 && start.elapsed() < Duration::from_secs(10) {
        if let Ok(batch) = rx.recv_timeout(Duration::from_millis(100)) {
            got.extend(batch);
        }
    }
    listeners.stop();
    got.extend(rx.try_iter().flatten());
    assert_eq!(got.len(), 200);
    assert_eq!(got.iter().map(|r| r.counters.bytes).sum::<u64>(), sent_bytes);
    assert!(
        got.iter()
            .all(|r| r.fields.peer_src_ip == "127.0.0.1".parse::<std::net::IpAddr>().unwrap())
    );
    assert_eq!(CollectorStats::get(&stats.datagrams), 202);
    assert_eq!(CollectorStats::get(&stats.denied), 1);
    assert_eq!(CollectorStats::get(&stats.malformed), 1);
    assert_eq!(CollectorStats::get(&stats.flows), 200);
    assert_eq!(CollectorStats::get(&stats.queue_dropped), 0);
}
