//! Hand-built BMP messages of every type, the framer, and truncation at every offset.

use std::net::{IpAddr, Ipv4Addr};

use super::*;
use crate::decode::bgp::tests::{
    CAP_ADDPATH_V4_BOTH, CAP_AS4_65537, CAP_MP_V4, attr, full_update_body, msg, open_body,
    update_body,
};
use crate::decode::bgp::{AfiSafi, PathAttr, format};

fn bmp(version: u8, t: u8, body: &[u8]) -> Vec<u8> {
    let mut m = vec![version];
    m.extend_from_slice(&u32::try_from(6 + body.len()).unwrap_or(0).to_be_bytes());
    m.push(t);
    m.extend_from_slice(body);
    m
}

fn peer_hdr(peer_type: u8, flags: u8, addr: [u8; 16], asn: u32) -> Vec<u8> {
    let mut h = vec![peer_type, flags];
    h.extend_from_slice(&[0, 0, 0xfd, 0xe8, 0, 0, 0, 7]);
    h.extend_from_slice(&addr);
    h.extend_from_slice(&asn.to_be_bytes());
    h.extend_from_slice(&[10, 0, 0, 2]);
    h.extend_from_slice(&1_700_000_000u32.to_be_bytes());
    h.extend_from_slice(&123u32.to_be_bytes());
    h
}

const V4_PEER: [u8; 16] = [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 192, 0, 2, 2];

fn tlv(t: u16, v: &[u8]) -> Vec<u8> {
    let mut x = t.to_be_bytes().to_vec();
    x.extend_from_slice(&u16::try_from(v.len()).unwrap_or(0).to_be_bytes());
    x.extend_from_slice(v);
    x
}

fn peer_up_msg(flags: u8) -> Vec<u8> {
    let mut b = peer_hdr(0, flags, V4_PEER, 65001);
    b.extend_from_slice(&V4_PEER);
    b.extend_from_slice(&179u16.to_be_bytes());
    b.extend_from_slice(&40000u16.to_be_bytes());
    b.extend(msg(
        1,
        &open_body(65000, [10, 0, 0, 1], &[CAP_MP_V4, CAP_AS4_65537, CAP_ADDPATH_V4_BOTH]),
    ));
    b.extend(msg(
        1,
        &open_body(65001, [10, 0, 0, 2], &[CAP_MP_V4, CAP_AS4_65537, &[69, 4, 0, 1, 1, 2]]),
    ));
    b.extend(tlv(0, b"peer one"));
    b.extend(tlv(3, b"global"));
    bmp(3, 3, &b)
}

fn add_path_update() -> Vec<u8> {
    let a = attr(0x40, 1, &[2]);
    msg(2, &update_body(&[], &a, &[0, 0, 0, 9, 24, 10, 9, 9]))
}

fn every_message() -> Vec<Vec<u8>> {
    let mut init = tlv(1, b"router os");
    init.extend(tlv(2, b"r1"));
    init.extend(tlv(0, b"hello"));
    init.extend(tlv(77, b"x"));
    let mut term = tlv(0, b"bye");
    term.extend(tlv(1, &[0, 3]));
    // Adj-RIB-Out view: the Peer Up before it negotiated add-path only towards the router.
    let mut rm = peer_hdr(0, flags::O, V4_PEER, 65001);
    rm.extend(msg(2, &full_update_body()));
    let mut stats = peer_hdr(0, 0, V4_PEER, 65001);
    stats.extend_from_slice(&18u32.to_be_bytes());
    for t in 0u16..=17 {
        let v = match t {
            7 | 8 | 14 | 15 => 1000u64.to_be_bytes().to_vec(),
            9 | 10 | 16 | 17 => [&[0u8, 2, 1][..], &5u64.to_be_bytes()].concat(),
            _ => u32::from(t).to_be_bytes().to_vec(),
        };
        stats.extend(tlv(t, &v));
    }
    let mut down1 = peer_hdr(0, 0, V4_PEER, 65001);
    down1.push(1);
    down1.extend(msg(3, &[6, 4]));
    let mut down2 = peer_hdr(0, 0, V4_PEER, 65001);
    down2.extend_from_slice(&[2, 0, 5]);
    let mut mirror = peer_hdr(0, 0, V4_PEER, 65001);
    mirror.extend(tlv(0, &msg(4, &[])));
    mirror.extend(tlv(1, &[0, 1]));
    vec![
        bmp(3, 4, &init),
        peer_up_msg(0),
        bmp(3, 0, &rm),
        bmp(3, 1, &stats),
        bmp(3, 6, &mirror),
        bmp(3, 2, &down1),
        bmp(3, 2, &down2),
        bmp(3, 5, &term),
        bmp(3, 9, &[1, 2]),
    ]
}

#[test]
fn decodes_every_message_type() {
    let mut s = SessionTable::new();
    let msgs: Vec<BmpMessage> =
        every_message().iter().map(|m| decode(m, &mut s).expect("decode")).collect();
    let BmpMessage::Initiation(i) = &msgs[0] else { panic!() };
    assert_eq!(i[1], InfoTlv::SysName("r1".into()));
    assert_eq!(i[3], InfoTlv::Other { kind: 77, value: b"x".to_vec() });
    let BmpMessage::PeerUp(up) = &msgs[1] else { panic!() };
    assert_eq!(up.peer.addr, IpAddr::V4(Ipv4Addr::new(192, 0, 2, 2)));
    assert_eq!(up.peer.rd().map(|r| r.to_string()).as_deref(), Some("0:65000:7"));
    assert_eq!((up.local_port, up.remote_port), (179, 40000));
    assert_eq!(up.sent_open.asn(), 65537);
    assert_eq!(up.info[1], InfoTlv::VrfTableName("global".into()));
    let BmpMessage::RouteMonitoring(rm) = &msgs[2] else { panic!() };
    assert!(rm.context.four_octet_as);
    let p = rm.update.as_path(&rm.context).unwrap();
    assert_eq!(format::as_path(&p), "65001 65002 {65003,65004}");
    let BmpMessage::StatisticsReport(st) = &msgs[3] else { panic!() };
    assert_eq!(st.stats.len(), 18);
    assert_eq!(st.stats[7].value, StatValue::Gauge64(1000));
    assert_eq!(st.stats[13].value, StatValue::Counter32(13));
    assert_eq!(
        st.stats[17].value,
        StatValue::AfiSafiGauge64 { afi_safi: AfiSafi::IPV6_UNICAST, value: 5 }
    );
    assert_eq!(st.stats[17].name(), "Number of routes in per-AFI/SAFI Abj-RIB-Out Post-Policy");
    let BmpMessage::RouteMirroring(mi) = &msgs[4] else { panic!() };
    assert!(matches!(
        mi.tlvs[0],
        MirrorTlv::BgpMessage { decoded: Some(crate::decode::bgp::Message::Keepalive), .. }
    ));
    assert_eq!(mi.tlvs[1], MirrorTlv::Information(1));
    let BmpMessage::PeerDown(d) = &msgs[5] else { panic!() };
    let PeerDownReason::LocalNotification(n) = &d.reason else { panic!() };
    assert_eq!(n.subcode_name(), "Administrative Reset");
    assert_eq!(peer_down_reason_name(d.reason.code()), "The local system closed the session");
    let BmpMessage::PeerDown(d) = &msgs[6] else { panic!() };
    assert_eq!(d.reason, PeerDownReason::LocalNoNotification(5));
    let BmpMessage::Termination(t) = &msgs[7] else { panic!() };
    assert_eq!(t[1], TerminationTlv::Reason(3));
    assert_eq!(termination_reason_name(3), "Redundant connection");
    assert!(matches!(msgs[8], BmpMessage::Unknown { msg_type: 9, .. }));
    assert!(s.is_empty());
    assert_eq!(msg_type_name(3), "Peer Up Notification");
}

#[test]
fn peer_up_drives_add_path_and_peer_down_clears_it() {
    let mut s = SessionTable::new();
    decode(&peer_up_msg(0), &mut s).expect("peer up");
    let sess = s.iter().next().map(|(_, v)| v.clone()).unwrap();
    // Received OPEN: send; sent OPEN: both → paths flow peer → router.
    assert_eq!(sess.add_path_in, vec![AfiSafi::IPV4_UNICAST]);
    assert!(sess.add_path_out.is_empty());
    assert!(sess.four_octet_as);
    let mut rm = peer_hdr(0, 0, V4_PEER, 65001);
    rm.extend(add_path_update());
    let BmpMessage::RouteMonitoring(r) = decode(&bmp(3, 0, &rm), &mut s).unwrap() else { panic!() };
    assert_eq!(r.update.nlri[0].path_id, Some(9));
    // Adj-RIB-Out view (O flag): no add-path that way.
    let mut rm = peer_hdr(0, flags::O, V4_PEER, 65001);
    rm.extend(add_path_update());
    assert!(decode(&bmp(3, 0, &rm), &mut s).is_err());
    let mut down = peer_hdr(0, 0, V4_PEER, 65001);
    down.push(4);
    decode(&bmp(3, 2, &down), &mut s).unwrap();
    assert!(s.is_empty());
}

#[test]
fn legacy_as_path_flag_and_v4_tlvs() {
    let mut s = SessionTable::new();
    let a = attr(0x40, 2, &[2, 2, 0xfd, 0xe9, 0xfd, 0xea]);
    let mut rm = peer_hdr(0, flags::A, V4_PEER, 65001);
    rm.extend(msg(2, &update_body(&[], &a, &[])));
    let BmpMessage::RouteMonitoring(r) = decode(&bmp(3, 0, &rm), &mut s).unwrap() else { panic!() };
    assert!(!r.context.four_octet_as);
    assert_eq!(
        r.update.find(|a| match a {
            PathAttr::AsPath(p) => Some(p.origin_as()),
            _ => None,
        }),
        Some(65002)
    );
    // v4: stateless parsing TLV turns add-path on for this message; index after length.
    let mut b = peer_hdr(3, 0x80, [0; 16], 65000);
    let cap = [69, 4, 0, 1, 1, 1];
    for (t, v) in [(1u16, &cap[..]), (3, b"vrf"), (4, &add_path_update()[..])] {
        b.extend_from_slice(&t.to_be_bytes());
        b.extend_from_slice(&u16::try_from(v.len()).unwrap_or(0).to_be_bytes());
        b.extend_from_slice(&0u16.to_be_bytes());
        b.extend_from_slice(v);
    }
    let BmpMessage::RouteMonitoring(r) = decode(&bmp(4, 0, &b), &mut s).unwrap() else { panic!() };
    assert!(r.peer.loc_rib_filtered());
    assert_eq!(r.update.nlri[0].path_id, Some(9));
    assert_eq!(r.tlvs.len(), 2);
    // v4 without a PDU TLV.
    let b = peer_hdr(3, 0, [0; 16], 65000);
    assert_eq!(decode(&bmp(4, 0, &b), &mut s), Err(BmpError::MissingBgpPdu));
    // Loc-RIB peer down reason 6 with TLVs.
    let mut d = peer_hdr(3, 0, [0; 16], 65000);
    d.push(6);
    d.extend(tlv(3, b"global"));
    let BmpMessage::PeerDown(pd) = decode(&bmp(4, 2, &d), &mut s).unwrap() else { panic!() };
    assert_eq!(
        pd.reason,
        PeerDownReason::LocalSystemClosed(vec![InfoTlv::VrfTableName("global".into())])
    );
}

#[test]
fn header_errors() {
    let mut s = SessionTable::new();
    assert_eq!(decode(&[1, 0, 0], &mut s), Err(BmpError::UnsupportedVersion(1)));
    let mut m = bmp(3, 4, &[]);
    m.push(0);
    assert_eq!(decode(&m, &mut s), Err(BmpError::BadLength(6)));
}

#[test]
fn truncation_at_every_offset_never_panics() {
    let mut all = every_message();
    let mut rm4 = peer_hdr(3, 0, [0; 16], 1);
    rm4.extend_from_slice(&[0, 4, 0, 23, 0, 0]);
    rm4.extend(msg(4, &[]));
    all.push(bmp(4, 0, &rm4));
    for m in all {
        for i in 0..m.len() {
            let mut t = m.get(..i).unwrap_or_default().to_vec();
            let _ = decode(&t, &mut SessionTable::new());
            if t.len() >= 6 {
                if let Ok(l) = u32::try_from(i) {
                    t[1..5].copy_from_slice(&l.to_be_bytes());
                }
                let _ = decode(&t, &mut SessionTable::new());
            }
        }
    }
}

#[test]
fn framer_handles_half_messages_and_absurd_lengths() {
    let stream: Vec<u8> = every_message().concat();
    let want = every_message();
    for chunk in [1usize, 2, 5, 64, 4096] {
        let mut f = BmpFramer::new();
        let mut got = Vec::new();
        for c in stream.chunks(chunk) {
            f.push(c);
            while let Some(m) = f.next_frame().expect("frame") {
                got.push(m.to_vec());
            }
        }
        assert_eq!(got, want, "chunk {chunk}");
        assert_eq!(f.pending(), 0);
    }
    let mut f = BmpFramer::new();
    f.push(&[3, 0, 0, 0, 5, 4]);
    assert_eq!(f.next_frame(), Err(FrameError::BadLength(5)));
    assert_eq!(f.next_frame(), Err(FrameError::BadLength(5)));
    let mut f = BmpFramer::new();
    f.push(&[3, 2, 0, 0, 0]);
    assert_eq!(f.next_frame(), Err(FrameError::BadLength(0x0200_0000)));
    let mut f = BmpFramer::new();
    f.push(&[2]);
    assert_eq!(f.next_frame(), Err(FrameError::UnsupportedVersion(2)));
    let mut f = BmpFramer::new();
    f.push(&[3, 0, 0]);
    assert_eq!(f.next_frame(), Ok(None));
}

/// FRR 8.4's Statistics Report: RFC types with their lengths, and its experimental 65531
/// (four bytes). Types past 17 stay raw whatever their length, as pmbmpd 1.7.7 prints them.
#[test]
fn stats_past_type_17_stay_raw() {
    let mut body = peer_hdr(0, 0, V4_PEER, 65002);
    body.extend_from_slice(&4u32.to_be_bytes());
    body.extend(tlv(0, &3u32.to_be_bytes()));
    body.extend(tlv(65531, &[0, 0, 0, 7]));
    body.extend(tlv(18, &9u64.to_be_bytes()));
    body.extend(tlv(40, &[]));
    let m = decode(&bmp(3, 1, &body), &mut SessionTable::new()).expect("decode");
    let BmpMessage::StatisticsReport(st) = m else { panic!("stats") };
    let values: Vec<(u16, StatValue)> = st.stats.into_iter().map(|s| (s.kind, s.value)).collect();
    assert_eq!(
        values,
        [
            (0, StatValue::Counter32(3)),
            (65531, StatValue::Raw(vec![0, 0, 0, 7])),
            (18, StatValue::Raw(9u64.to_be_bytes().to_vec())),
            (40, StatValue::Raw(vec![])),
        ]
    );
}
