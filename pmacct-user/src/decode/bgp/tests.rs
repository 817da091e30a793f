//! Hand-built messages for every BGP message type and path attribute.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use super::*;

/// Wraps a body in a BGP header.
pub(crate) fn msg(t: u8, body: &[u8]) -> Vec<u8> {
    let mut m = vec![0xff; 16];
    m.extend_from_slice(&u16::try_from(19 + body.len()).unwrap_or(0).to_be_bytes());
    m.push(t);
    m.extend_from_slice(body);
    m
}

/// A path attribute (extended length when `data` needs it).
pub(crate) fn attr(flags: u8, code: u8, data: &[u8]) -> Vec<u8> {
    let mut a = vec![flags, code];
    if data.len() > 255 || flags & 0x10 != 0 {
        a[0] |= 0x10;
        a.extend_from_slice(&u16::try_from(data.len()).unwrap_or(0).to_be_bytes());
    } else {
        a.push(u8::try_from(data.len()).unwrap_or(0));
    }
    a.extend_from_slice(data);
    a
}

/// An UPDATE body.
pub(crate) fn update_body(withdrawn: &[u8], attrs: &[u8], nlri: &[u8]) -> Vec<u8> {
    let mut b = u16::try_from(withdrawn.len()).unwrap_or(0).to_be_bytes().to_vec();
    b.extend_from_slice(withdrawn);
    b.extend_from_slice(&u16::try_from(attrs.len()).unwrap_or(0).to_be_bytes());
    b.extend_from_slice(attrs);
    b.extend_from_slice(nlri);
    b
}

/// An OPEN body with AS, id and capability TLVs.
pub(crate) fn open_body(my_as: u16, id: [u8; 4], caps: &[&[u8]]) -> Vec<u8> {
    let mut params = Vec::new();
    for c in caps {
        params.push(2);
        params.push(u8::try_from(c.len()).unwrap_or(0));
        params.extend_from_slice(c);
    }
    let mut b = vec![4];
    b.extend_from_slice(&my_as.to_be_bytes());
    b.extend_from_slice(&180u16.to_be_bytes());
    b.extend_from_slice(&id);
    b.push(u8::try_from(params.len()).unwrap_or(0));
    b.extend_from_slice(&params);
    b
}

fn v4(a: u8, b: u8, c: u8, d: u8) -> IpAddr {
    IpAddr::V4(Ipv4Addr::new(a, b, c, d))
}

fn parse(m: &[u8], ctx: &DecodeContext) -> Message {
    let (msg, n) = parse_message(m, ctx).expect("parse");
    assert_eq!(n, m.len());
    msg
}

/// Every prefix of `body` parses or errors without panicking.
fn cut_everywhere(body: &[u8], f: impl Fn(&[u8])) {
    for i in 0..=body.len() {
        f(body.get(..i).unwrap_or_default());
    }
}

#[test]
fn header_errors() {
    let mut m = msg(4, &[]);
    assert_eq!(parse(&m, &DecodeContext::default()), Message::Keepalive);
    m[0] = 0;
    assert_eq!(parse_header(&m), Err(BgpError::BadMarker));
    let mut m = msg(4, &[]);
    m[17] = 18;
    assert_eq!(parse_header(&m), Err(BgpError::BadLength(18)));
    assert!(matches!(parse_header(&m[..10]), Err(BgpError::Truncated(_))));
    let m = msg(9, &[1, 2]);
    assert_eq!(
        parse(&m, &DecodeContext::default()),
        Message::Unknown { msg_type: 9, body: vec![1, 2] }
    );
}

pub(crate) const CAP_MP_V4: &[u8] = &[1, 4, 0, 1, 0, 1];
pub(crate) const CAP_MP_V6: &[u8] = &[1, 4, 0, 2, 0, 1];
pub(crate) const CAP_AS4_65537: &[u8] = &[65, 4, 0, 1, 0, 1];
pub(crate) const CAP_ADDPATH_V4_BOTH: &[u8] = &[69, 4, 0, 1, 1, 3];

#[test]
fn open_capabilities() {
    let body = open_body(
        23456,
        [10, 0, 0, 1],
        &[
            CAP_MP_V4,
            CAP_MP_V6,
            &[2, 0],
            &[64, 2, 0x80, 120],
            CAP_AS4_65537,
            CAP_ADDPATH_V4_BOTH,
            &[70, 0],
            &[1, 3, 0, 0, 0],
        ],
    );
    let Message::Open(o) = parse(&msg(1, &body), &DecodeContext::default()) else { panic!() };
    assert_eq!((o.version, o.my_as, o.hold_time), (4, 23456, 180));
    assert_eq!(o.bgp_id, Ipv4Addr::new(10, 0, 0, 1));
    assert_eq!(o.asn(), 65537);
    assert_eq!(o.multiprotocol(), vec![AfiSafi::IPV4_UNICAST, AfiSafi::IPV6_UNICAST]);
    assert_eq!(o.add_path(AfiSafi::IPV4_UNICAST), Some(AddPathDir::Both));
    assert_eq!(o.add_path(AfiSafi::IPV6_UNICAST), None);
    let caps: Vec<_> = o.capabilities().cloned().collect();
    assert!(caps.contains(&Capability::RouteRefresh));
    assert!(caps.contains(&Capability::GracefulRestart(vec![0x80, 120])));
    assert!(caps.contains(&Capability::Unknown { code: 70, data: vec![] }));
    // A malformed multiprotocol capability is kept raw.
    assert!(caps.contains(&Capability::Unknown { code: 1, data: vec![0, 0, 0] }));
    cut_everywhere(&body, |b| {
        let _ = Open::parse_body(b);
    });
}

#[test]
fn open_unknown_param_and_extended_length() {
    let mut b = vec![4, 0, 100, 0, 90, 1, 1, 1, 1];
    b.extend_from_slice(&[3, 9, 1, 0xaa]);
    let o = Open::parse_body(&b).expect("open");
    assert_eq!(o.params, vec![OptParam::Unknown { code: 9, data: vec![0xaa] }]);
    assert_eq!(o.asn(), 100);
    // RFC 9072: 255, 255, u16 length, params with u16 lengths.
    let mut b = vec![4, 0, 100, 0, 90, 1, 1, 1, 1, 255, 255, 0, 9, 2, 0, 6];
    b.extend_from_slice(CAP_AS4_65537);
    let o = Open::parse_body(&b).expect("open");
    assert_eq!(o.four_octet_as(), Some(65537));
}

fn aspath4(segs: &[(u8, &[u32])]) -> Vec<u8> {
    let mut v = Vec::new();
    for (t, asns) in segs {
        v.push(*t);
        v.push(u8::try_from(asns.len()).unwrap_or(0));
        for a in *asns {
            v.extend_from_slice(&a.to_be_bytes());
        }
    }
    v
}

fn aspath2(segs: &[(u8, &[u16])]) -> Vec<u8> {
    let mut v = Vec::new();
    for (t, asns) in segs {
        v.push(*t);
        v.push(u8::try_from(asns.len()).unwrap_or(0));
        for a in *asns {
            v.extend_from_slice(&a.to_be_bytes());
        }
    }
    v
}

/// An UPDATE with every attribute, 4-byte ASNs.
pub(crate) fn full_update_body() -> Vec<u8> {
    let mut a = Vec::new();
    a.extend(attr(0x40, 1, &[0]));
    a.extend(attr(0x40, 2, &aspath4(&[(2, &[65001, 65002]), (1, &[65004, 65003, 65004])])));
    a.extend(attr(0x40, 3, &[192, 0, 2, 1]));
    a.extend(attr(0x80, 4, &50u32.to_be_bytes()));
    a.extend(attr(0x40, 5, &200u32.to_be_bytes()));
    a.extend(attr(0x40, 6, &[]));
    a.extend(attr(0xc0, 7, &[0, 0, 0xfd, 0xe9, 10, 0, 0, 9]));
    let comms: Vec<u8> =
        [0xFDE8_0001u32, 0xFFFF_FF01, 0xFDE8_0001].iter().flat_map(|c| c.to_be_bytes()).collect();
    a.extend(attr(0xc0, 8, &comms));
    a.extend(attr(0x80, 9, &[10, 0, 0, 7]));
    a.extend(attr(0x80, 10, &[10, 0, 0, 8, 10, 0, 0, 9]));
    let mut ec = vec![0x00, 0x02, 0xfd, 0xe8, 0, 0, 0, 100]; // RT:65000:100
    ec.extend_from_slice(&[0x01, 0x03, 192, 0, 2, 1, 0, 7]); // SoO:192.0.2.1:7
    ec.extend_from_slice(&[0x02, 0x02, 0, 1, 0, 1, 0, 5]); // RT:65537:5
    ec.extend_from_slice(&[0x80, 0x06, 0, 0, 0, 0, 0, 0]); // flowspec rate: ?
    a.extend(attr(0xc0, 16, &ec));
    let lc: Vec<u8> = [65000u32, 1, 2, 65000, 1, 1].iter().flat_map(|x| x.to_be_bytes()).collect();
    a.extend(attr(0xc0, 32, &lc));
    a.extend(attr(0xc0, 99, &[1, 2, 3]));
    // MP_REACH IPv6 unicast with link-local next hop, extended length.
    let mut mp = vec![0, 2, 1, 32];
    mp.extend_from_slice(
        &"2001:db8::1".parse::<Ipv6Addr>().map(|a| a.octets()).unwrap_or_default(),
    );
    mp.extend_from_slice(&"fe80::1".parse::<Ipv6Addr>().map(|a| a.octets()).unwrap_or_default());
    mp.push(0);
    mp.extend_from_slice(&[32, 0x20, 0x01, 0x0d, 0xb8]);
    a.extend(attr(0x90, 14, &mp));
    a.extend(attr(0x90, 15, &[0, 2, 1, 48, 0x20, 0x01, 0x0d, 0xb8, 0, 1]));
    update_body(&[16, 10, 1], &a, &[24, 192, 0, 2, 32, 198, 51, 100, 7])
}

#[test]
fn update_all_attributes() {
    let ctx = DecodeContext::four_octet();
    let body = full_update_body();
    let Message::Update(u) = parse(&msg(2, &body), &ctx) else { panic!() };
    assert_eq!(u.withdrawn.len(), 1);
    assert_eq!(u.withdrawn[0].prefix, Prefix::new(v4(10, 1, 0, 0), 16).unwrap());
    assert_eq!(u.nlri.len(), 2);
    assert_eq!(u.nlri[1].prefix.to_string(), "198.51.100.7/32");
    let path = u.as_path(&ctx).unwrap();
    assert_eq!(format::as_path(&path), "65001 65002 {65003,65004}");
    assert_eq!(path.origin_as(), 65004);
    assert_eq!(path.first_as(), 65001);
    assert_eq!(path.path_len(), 3);
    assert_eq!(u.aggregator(), Some((65001, Ipv4Addr::new(10, 0, 0, 9))));
    assert_eq!(u.next_hop(AfiSafi::IPV4_UNICAST), Some(v4(192, 0, 2, 1)));
    assert_eq!(u.next_hop(AfiSafi::IPV6_UNICAST), Some("2001:db8::1".parse().unwrap()));
    let get = |code| u.attributes.iter().find(|a| a.code == code).map(|a| a.value.clone());
    assert_eq!(get(4), Some(PathAttr::Med(50)));
    assert_eq!(get(5), Some(PathAttr::LocalPref(200)));
    assert_eq!(get(6), Some(PathAttr::AtomicAggregate));
    assert_eq!(get(9), Some(PathAttr::OriginatorId(Ipv4Addr::new(10, 0, 0, 7))));
    assert_eq!(
        get(10),
        Some(PathAttr::ClusterList(vec![Ipv4Addr::new(10, 0, 0, 8), Ipv4Addr::new(10, 0, 0, 9)]))
    );
    assert_eq!(get(99), Some(PathAttr::Unknown(vec![1, 2, 3])));
    let Some(PathAttr::Communities(c)) = get(8) else { panic!() };
    assert_eq!(format::communities(&c, false), "65000:1 no-export");
    assert_eq!(format::communities(&c, true), "65000:1 65535:65281");
    let Some(PathAttr::ExtCommunities(e)) = get(16) else { panic!() };
    assert_eq!(format::ext_communities(&e, false), "RT:65000:100 SoO:192.0.2.1:7 RT:65537:5 ?");
    assert_eq!(format::ext_community(&e[0], true), "0:2:65000:100");
    let Some(PathAttr::LargeCommunities(l)) = get(32) else { panic!() };
    assert_eq!(format::large_communities(&l), "65000:1:1 65000:1:2");
    let Some(PathAttr::MpReach(r)) = get(14) else { panic!() };
    assert_eq!(r.link_local, Some("fe80::1".parse().unwrap()));
    let ann: Vec<String> = u.announced().iter().map(|(_, n)| n.prefix.to_string()).collect();
    assert_eq!(ann, ["192.0.2.0/24", "198.51.100.7/32", "2001:db8::/32"]);
    let wd: Vec<String> = u.withdrawn_routes().iter().map(|(_, n)| n.prefix.to_string()).collect();
    assert_eq!(wd, ["10.1.0.0/16", "2001:db8:1::/48"]);
    assert_eq!(u.is_end_of_rib(), None);
    cut_everywhere(&body, |b| {
        let _ = Update::parse_body(b, &ctx);
        let _ = Update::parse_body(b, &DecodeContext::default());
    });
}

#[test]
fn two_byte_as_path_with_as4_path_merge() {
    let ctx = DecodeContext::default();
    let mut a = attr(0x40, 2, &aspath2(&[(3, &[64512]), (2, &[65001, 23456, 23456])]));
    a.extend(attr(0xc0, 17, &aspath4(&[(2, &[4_200_000_001, 4_200_000_002])])));
    a.extend(attr(0xc0, 7, &[0x5b, 0xa0, 10, 0, 0, 1])); // AGGREGATOR AS_TRANS
    a.extend(attr(0xc0, 18, &[0xfa, 0x56, 0xea, 0x01, 10, 0, 0, 1]));
    let u = Update::parse_body(&update_body(&[], &a, &[]), &ctx).expect("update");
    let p = u.as_path(&ctx).unwrap();
    assert_eq!(format::as_path(&p), "(64512) 65001 4200000001 4200000002");
    assert_eq!(p.origin_as(), 4_200_000_002);
    assert_eq!(p.first_as(), 65001);
    assert_eq!(u.aggregator().map(|a| a.0), Some(4_200_000_001));
    // AS4_PATH longer than AS_PATH is ignored.
    let mut a = attr(0x40, 2, &aspath2(&[(2, &[23456])]));
    a.extend(attr(0xc0, 17, &aspath4(&[(2, &[1, 2])])));
    let u = Update::parse_body(&update_body(&[], &a, &[]), &ctx).expect("update");
    assert_eq!(format::as_path(&u.as_path(&ctx).unwrap()), "23456");
    // On 4-byte sessions AS4_PATH is ignored; a 2-byte path is still read via the fallback.
    let u = Update::parse_body(
        &update_body(&[], &attr(0x40, 2, &aspath2(&[(2, &[1, 2, 3])])), &[]),
        &DecodeContext::four_octet(),
    )
    .expect("update");
    assert_eq!(format::as_path(&u.as_path(&DecodeContext::four_octet()).unwrap()), "1 2 3");
}

#[test]
fn as_path_formats() {
    let p = AsPath::parse(&aspath4(&[(3, &[1, 2]), (4, &[9, 8, 9]), (2, &[3])]), 4).unwrap();
    assert_eq!(format::as_path(&p), "(1 2) [8,9] 3");
    assert_eq!(p.path_len(), 1);
    assert_eq!(format::as_path(&AsPath::default()), "");
    assert_eq!(AsPath::default().origin_as(), 0);
    let set_last = AsPath::parse(&aspath4(&[(2, &[7]), (1, &[65005, 65003])]), 4).unwrap();
    assert_eq!(set_last.origin_as(), 65005);
    assert_eq!(format::as_path(&set_last), "7 {65003,65005}");
    assert_eq!(AsPath::parse(&[5, 0], 4), Err(BgpError::BadSegmentType(5)));
}

fn mp_reach(afi: u16, safi: u8, nh: &[u8], nlri: &[u8]) -> Vec<u8> {
    let mut mp = afi.to_be_bytes().to_vec();
    mp.push(safi);
    mp.push(u8::try_from(nh.len()).unwrap_or(0));
    mp.extend_from_slice(nh);
    mp.push(0);
    mp.extend_from_slice(nlri);
    attr(0x80, 14, &mp)
}

#[test]
fn labeled_and_vpn_nlri() {
    let ctx = DecodeContext::four_octet();
    // Labeled unicast 10.0.0.0/8 label 100 (BoS).
    let lu = [24 + 8, 0x00, 0x06, 0x41, 10];
    let a = mp_reach(1, 4, &[192, 0, 2, 1], &lu);
    let u = Update::parse_body(&update_body(&[], &a, &[]), &ctx).unwrap();
    let ann = u.announced();
    assert_eq!(ann[0].1.labels, vec![100]);
    assert_eq!(ann[0].1.prefix.to_string(), "10.0.0.0/8");
    // VPNv4: label 16, RD type 0/1/2, next hop RD + IPv4.
    let mut nl = Vec::new();
    for rd in [[0, 0, 0xfd, 0xe8, 0, 0, 0, 1], [0, 1, 192, 0, 2, 1, 0, 2], [0, 2, 0, 1, 0, 1, 0, 3]]
    {
        nl.extend_from_slice(&[24 + 64 + 24, 0x00, 0x01, 0x01]);
        nl.extend_from_slice(&rd);
        nl.extend_from_slice(&[172, 16, 1]);
    }
    let a = mp_reach(1, 128, &[0, 0, 0, 0, 0, 0, 0, 0, 192, 0, 2, 9], &nl);
    let u = Update::parse_body(&update_body(&[], &a, &[]), &ctx).unwrap();
    let rds: Vec<String> =
        u.announced().iter().filter_map(|(_, n)| n.rd.map(|r| r.to_string())).collect();
    assert_eq!(rds, ["0:65000:1", "1:192.0.2.1:2", "2:65537:3"]);
    assert_eq!(u.announced()[0].1.labels, vec![16]);
    assert_eq!(u.next_hop(AfiSafi::new(1, 128)), Some(v4(192, 0, 2, 9)));
    for (_, n) in u.announced() {
        assert_eq!(n.rd.map(|r| RouteDistinguisher::from_bytes(r.to_bytes())), n.rd);
    }
    // VPNv6 withdraw with the 0x800000 compatibility label.
    let mut w = vec![0, 2, 128, 24 + 64 + 32, 0x80, 0, 0];
    w.extend_from_slice(&[0, 0, 0, 1, 0, 0, 0, 1, 0x20, 0x01, 0x0d, 0xb8]);
    let u = Update::parse_body(&update_body(&[], &attr(0x80, 15, &w), &[]), &ctx).unwrap();
    let wd = u.withdrawn_routes();
    assert_eq!(wd[0].1.prefix.to_string(), "2001:db8::/32");
    assert_eq!(wd[0].1.rd.map(|r| r.to_string()).as_deref(), Some("0:1:1"));
    // EVPN stays raw.
    let u = Update::parse_body(
        &update_body(&[], &mp_reach(25, 70, &[192, 0, 2, 1], &[1, 2, 3]), &[]),
        &ctx,
    )
    .unwrap();
    assert!(u.announced().is_empty());
}

#[test]
fn add_path_nlri_and_errors() {
    let mut ctx = DecodeContext::four_octet();
    ctx.set_add_path(AfiSafi::IPV4_UNICAST, true);
    let nlri = [0, 0, 0, 7, 24, 10, 0, 0, 0, 0, 0, 8, 24, 10, 0, 0];
    let u = Update::parse_body(&update_body(&[], &[], &nlri), &ctx).unwrap();
    assert_eq!(u.nlri.iter().map(|n| n.path_id).collect::<Vec<_>>(), [Some(7), Some(8)]);
    assert!(ctx.add_path(AfiSafi::IPV4_UNICAST));
    ctx.set_add_path(AfiSafi::IPV4_UNICAST, false);
    // Without add-path the same bytes mean something else (or nothing valid).
    let plain = Update::parse_body(&update_body(&[], &[], &nlri), &ctx);
    assert!(plain.map_or(true, |p| p.nlri.iter().all(|n| n.path_id.is_none())));
    assert!(matches!(
        Update::parse_body(&update_body(&[], &[], &[33, 1, 2, 3, 4, 5]), &ctx),
        Err(BgpError::BadPrefixLength { len: 33, max: 32 })
    ));
    assert!(matches!(
        Update::parse_body(&update_body(&[], &attr(0x40, 1, &[0, 0]), &[]), &ctx),
        Err(BgpError::BadAttributeLength { code: 1, len: 2 })
    ));
    assert!(matches!(
        Update::parse_body(&update_body(&[], &mp_reach(2, 1, &[1, 2, 3], &[]), &[]), &ctx),
        Err(BgpError::BadNextHopLength(3))
    ));
    // End-of-RIB markers.
    assert_eq!(
        Update::parse_body(&update_body(&[], &[], &[]), &ctx).unwrap().is_end_of_rib(),
        Some(AfiSafi::IPV4_UNICAST)
    );
    let eor =
        Update::parse_body(&update_body(&[], &attr(0x80, 15, &[0, 2, 1]), &[]), &ctx).unwrap();
    assert_eq!(eor.is_end_of_rib(), Some(AfiSafi::IPV6_UNICAST));
}

#[test]
fn notification_keepalive_route_refresh() {
    let ctx = DecodeContext::default();
    let Message::Notification(n) = parse(&msg(3, &[6, 2, 3, b'b', b'y', b'e']), &ctx) else {
        panic!()
    };
    assert_eq!((n.code_name(), n.subcode_name()), ("Cease", "Administrative Shutdown"));
    assert_eq!(n.shutdown_message().as_deref(), Some("bye"));
    assert_eq!(error_subcode_name(3, 11), "Malformed AS_PATH");
    assert_eq!(error_code_name(42), "Unknown");
    assert!(matches!(parse_message(&msg(3, &[6]), &ctx), Err(BgpError::Truncated(_))));
    assert_eq!(parse(&msg(4, &[]), &ctx), Message::Keepalive);
    assert_eq!(
        parse(&msg(5, &[0, 2, 1, 1]), &ctx),
        Message::RouteRefresh(RouteRefresh { afi: 2, subtype: 1, safi: 1 })
    );
    assert_eq!(format::origin(2), "u");
    assert_eq!(format::mpls_label(&[16, 17]), "16");
}

#[test]
fn truncated_whole_messages_never_panic() {
    let ctx = DecodeContext::four_octet();
    let open = msg(1, &open_body(1, [1, 1, 1, 1], &[CAP_MP_V4, CAP_ADDPATH_V4_BOTH]));
    for m in [open, msg(2, &full_update_body()), msg(3, &[6, 2, 0]), msg(5, &[0, 1, 0, 1])] {
        cut_everywhere(&m, |b| {
            let _ = parse_message(b, &ctx);
        });
        // Truncated bodies behind a consistent header.
        for i in HEADER_LEN..m.len() {
            let mut t = m.get(..i).unwrap_or_default().to_vec();
            if let Ok(l) = u16::try_from(i) {
                t[16..18].copy_from_slice(&l.to_be_bytes());
            }
            let _ = parse_message(&t, &ctx);
        }
    }
}
