//! A real BMP stream: gobgpd 3.10 (Debian) exporting BMP to a listener on 127.0.0.1, while it
//! held an iBGP session (AS 65001) on 127.0.0.1 with a second gobgpd that announced four IPv4
//! and two IPv6 routes, then withdrew 10.10.0.0/16 and 2001:db8:2::/48, then shut down (Peer
//! Down), after which the exporter stopped. BMP config: `route-monitoring-policy = "all"`,
//! `statistics-timeout = 15`. The raw TCP payload is `tests/data/bmp/gobgpd-3.10-loopback.bmp`.

use std::net::IpAddr;

use pmacct_user::decode::bmp::{self, BmpFramer, BmpMessage, SessionTable};
use pmacct_user::routing::{PeerId, Rib};

const STREAM: &[u8] = include_bytes!("data/bmp/gobgpd-3.10-loopback.bmp");

fn decode_all() -> Vec<BmpMessage> {
    let mut f = BmpFramer::new();
    let mut s = SessionTable::new();
    let mut out = Vec::new();
    for chunk in STREAM.chunks(13) {
        f.push(chunk);
        while let Some(m) = f.next_frame().expect("frame") {
            let m = m.to_vec();
            out.push(bmp::decode(&m, &mut s).expect("decode"));
        }
    }
    assert_eq!(f.pending(), 0);
    out
}

fn ip(s: &str) -> IpAddr {
    s.parse().expect("ip")
}

#[test]
fn gobgpd_stream_messages() {
    let msgs = decode_all();
    let count = |f: fn(&BmpMessage) -> bool| msgs.iter().filter(|m| f(m)).count();
    assert_eq!(count(|m| matches!(m, BmpMessage::Initiation(_))), 1);
    assert_eq!(count(|m| matches!(m, BmpMessage::PeerUp(_))), 1);
    assert_eq!(count(|m| matches!(m, BmpMessage::RouteMonitoring(_))), 32);
    assert_eq!(count(|m| matches!(m, BmpMessage::StatisticsReport(_))), 1);
    assert_eq!(count(|m| matches!(m, BmpMessage::PeerDown(_))), 1);
    let BmpMessage::Initiation(init) = &msgs[0] else { panic!("initiation first") };
    assert_eq!(init[0], bmp::InfoTlv::SysName("GoBGP".into()));
    let BmpMessage::PeerUp(up) = &msgs[1] else { panic!("peer up second") };
    assert_eq!((up.peer.addr, up.peer.asn, up.local_port), (ip("127.0.0.1"), 65001, 10179));
    assert_eq!(up.peer.bgp_id.to_string(), "10.255.0.2");
    assert_eq!(up.sent_open.asn(), 65001);
    assert_eq!(up.received_open.bgp_id.to_string(), "10.255.0.2");
    assert_eq!(up.received_open.multiprotocol().len(), 2);
    // Pre-policy, post-policy and Loc-RIB views of every route.
    let views: Vec<(u8, u8)> = msgs
        .iter()
        .filter_map(|m| match m {
            BmpMessage::RouteMonitoring(r) => Some((r.peer.peer_type.code(), r.peer.flags)),
            _ => None,
        })
        .take(3)
        .collect();
    assert_eq!(views, [(0, 0), (0, 0x40), (3, 0)]);
    let BmpMessage::RouteMonitoring(rm) = &msgs[2] else { panic!() };
    let mut rib = Rib::new();
    rib.apply_update(ip("127.0.0.1"), PeerId::from_bmp(&rm.peer), 65001, &rm.update, &rm.context)
        .expect("rib");
    let a = rib.lookup(ip("127.0.0.1"), ip("198.51.100.77")).expect("route");
    assert_eq!(a.origin, Some(0));
    assert_eq!(a.med, Some(10));
    assert_eq!(a.local_pref, Some(100));
    assert_eq!(a.communities, "65002:1 no-export");
    assert_eq!(a.large_communities, "65002:1:2");
    assert_eq!(a.next_hop, Some(ip("192.0.2.254")));
    assert_eq!(a.as_path, "");
    assert_eq!(a.origin_as, 0, "empty path: 0, as pmacct");
    let BmpMessage::PeerDown(down) = msgs.last().expect("last") else { panic!("peer down last") };
    assert!(
        matches!(&down.reason, bmp::PeerDownReason::RemoteNotification(n) if n.subcode_name() == "Peer De-configured")
    );
    let BmpMessage::StatisticsReport(st) = &msgs[msgs.len() - 10] else { panic!("stats") };
    assert!(st.stats.iter().any(|s| s.kind == 7 && s.value.value() == Some(4)));
}

#[test]
fn gobgpd_stream_into_rib() {
    let router = ip("127.0.0.1");
    let mut rib = Rib::new();
    let mut before_down = None;
    for m in decode_all() {
        match &m {
            BmpMessage::RouteMonitoring(r) => {
                rib.apply_update(
                    router,
                    PeerId::from_bmp(&r.peer),
                    r.peer.asn,
                    &r.update,
                    &r.context,
                )
                .expect("rib");
            }
            BmpMessage::StatisticsReport(_) => {
                // Announced minus withdrawn: 4 routes in 3 views.
                assert_eq!(rib.route_count(router), 12);
                let a = rib.lookup(router, ip("203.0.113.9")).expect("route");
                assert_eq!(
                    (a.as_path.as_str(), a.origin_as, a.first_as),
                    ("65002 65010 65011", 65011, 65002)
                );
                assert_eq!(a.local_pref, Some(150));
                let a = rib.lookup(router, ip("192.0.2.1")).expect("route");
                assert_eq!(a.as_path, "65002 {65021,65022}");
                assert_eq!(a.next_hop, Some(ip("192.0.2.253")));
                let a = rib.lookup(router, ip("2001:db8:1::5")).expect("v6 route");
                assert_eq!(
                    (a.communities.as_str(), a.next_hop),
                    ("65002:6", Some(ip("2001:db8::1")))
                );
                assert!(rib.lookup(router, ip("10.10.1.1")).is_none(), "withdrawn");
                assert!(rib.lookup(router, ip("2001:db8:2::1")).is_none(), "withdrawn");
                // The Loc-RIB view wins the tie-break.
                let m = rib.lookup_route(router, ip("203.0.113.9")).expect("route");
                assert_eq!(m.key.peer.peer_type, 3);
            }
            BmpMessage::PeerDown(d) => {
                before_down = Some(rib.route_count(router));
                rib.peer_down_addr(router, d.peer.addr, d.peer.distinguisher_u64());
            }
            _ => {}
        }
    }
    // gobgpd withdrew the post-policy and Loc-RIB views itself; Peer Down removes the rest.
    assert_eq!(before_down, Some(4));
    assert_eq!(rib.route_count(router), 0);
    assert_eq!(rib.memory_bytes(router), 0);
}
