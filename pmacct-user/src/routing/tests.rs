//! RIB: announce, withdraw, longest match, tie-break, peer down, interning, memory limit.

use std::net::IpAddr;

use super::*;
use crate::decode::bgp::tests::{attr, update_body};
use crate::decode::bgp::{AfiSafi, DecodeContext, Prefix, RouteDistinguisher, Update};

fn ip(s: &str) -> IpAddr {
    s.parse().unwrap_or(IpAddr::from([0, 0, 0, 0]))
}

fn pfx(s: &str) -> Prefix {
    let (a, l) = s.split_once('/').unwrap_or((s, "32"));
    Prefix::new(ip(a), l.parse().unwrap_or(0)).unwrap_or(Prefix { addr: ip(a), len: 0 })
}

fn peer(a: &str) -> PeerId {
    PeerId { peer_type: 0, view: 0, distinguisher: 0, addr: ip(a) }
}

fn attrs(as_path: &str, lp: Option<u32>, peer_ip: &str) -> RouteAttrs {
    RouteAttrs {
        origin: Some(0),
        as_path: as_path.into(),
        as_path_len: u32::try_from(as_path.split(' ').count()).unwrap_or(0),
        origin_as: as_path.rsplit(' ').next().and_then(|x| x.parse().ok()).unwrap_or(0),
        first_as: 0,
        communities: String::new(),
        ext_communities: String::new(),
        large_communities: String::new(),
        local_pref: lp,
        med: None,
        next_hop: Some(ip(peer_ip)),
        peer_ip: ip(peer_ip),
        peer_as: 1,
    }
}

fn key(p: &str, path_id: u32) -> RouteKey {
    RouteKey { peer: peer(p), afi_safi: AfiSafi::IPV4_UNICAST, rd: None, path_id }
}

#[test]
fn longest_match_and_withdraw() {
    let r = ip("192.0.2.1");
    let mut rib = Rib::new();
    rib.announce(r, key("10.0.0.1", 0), pfx("10.0.0.0/8"), attrs("1 2", None, "10.0.0.1")).unwrap();
    rib.announce(r, key("10.0.0.1", 0), pfx("10.1.0.0/16"), attrs("1 3", None, "10.0.0.1"))
        .unwrap();
    rib.announce(r, key("10.0.0.1", 0), pfx("2001:db8::/32"), attrs("1 6", None, "10.0.0.1"))
        .unwrap();
    assert_eq!(rib.lookup(r, ip("10.1.2.3")).map(|a| a.origin_as), Some(3));
    assert_eq!(rib.lookup(r, ip("10.2.2.3")).map(|a| a.origin_as), Some(2));
    assert_eq!(rib.lookup(r, ip("2001:db8::1")).map(|a| a.origin_as), Some(6));
    assert!(rib.lookup(r, ip("11.0.0.1")).is_none());
    assert!(rib.lookup(ip("192.0.2.99"), ip("10.1.2.3")).is_none());
    assert_eq!(rib.lookup_route(r, ip("10.1.2.3")).map(|m| m.prefix), Some(pfx("10.1.0.0/16")));
    assert!(rib.withdraw(r, &key("10.0.0.1", 0), &pfx("10.1.0.0/16")));
    assert!(!rib.withdraw(r, &key("10.0.0.1", 0), &pfx("10.1.0.0/16")));
    assert_eq!(rib.lookup(r, ip("10.1.2.3")).map(|a| a.origin_as), Some(2));
    assert_eq!(rib.route_count(r), 2);
}

#[test]
fn tie_break_and_peer_down() {
    let r = ip("192.0.2.1");
    let mut rib = Rib::new();
    let p = pfx("10.0.0.0/8");
    rib.announce(r, key("10.0.0.2", 0), p, attrs("1 2 3", Some(100), "10.0.0.2")).unwrap();
    rib.announce(r, key("10.0.0.1", 0), p, attrs("1 9", Some(100), "10.0.0.1")).unwrap();
    rib.announce(r, key("10.0.0.3", 0), p, attrs("1 9", Some(100), "10.0.0.3")).unwrap();
    // Shortest path, then lowest peer address.
    assert_eq!(rib.lookup(r, ip("10.9.9.9")).map(|a| a.peer_ip), Some(ip("10.0.0.1")));
    // Higher LOCAL_PREF wins over a shorter path.
    rib.announce(r, key("10.0.0.2", 0), p, attrs("1 2 3", Some(200), "10.0.0.2")).unwrap();
    assert_eq!(rib.lookup(r, ip("10.9.9.9")).map(|a| a.peer_ip), Some(ip("10.0.0.2")));
    assert_eq!(rib.route_count(r), 3);
    assert_eq!(rib.peer_down(r, &peer("10.0.0.2")), 1);
    assert_eq!(rib.lookup(r, ip("10.9.9.9")).map(|a| a.peer_ip), Some(ip("10.0.0.1")));
    assert_eq!(rib.peer_down_addr(r, ip("10.0.0.1"), 0), 1);
    assert_eq!(rib.peer_down_addr(r, ip("10.0.0.3"), 0), 1);
    assert_eq!(rib.route_count(r), 0);
    assert_eq!(rib.prefix_count(r), 0);
    assert_eq!(rib.attr_sets(r), 0);
    assert_eq!(rib.memory_bytes(r), 0);
}

#[test]
fn interning_and_memory_limit() {
    let r = ip("192.0.2.1");
    let mut rib = Rib::new();
    for i in 0..100u8 {
        let p = pfx(&format!("10.{i}.0.0/16"));
        rib.announce(r, key("10.0.0.1", 0), p, attrs("1 2", None, "10.0.0.1")).unwrap();
    }
    assert_eq!(rib.attr_sets(r), 1);
    let full = rib.memory_bytes(r);
    assert!(full > 0);
    let mut small = Rib::with_memory_limit(Some(full / 2));
    let mut stored = 0;
    for i in 0..100u8 {
        let p = pfx(&format!("10.{i}.0.0/16"));
        if small.announce(r, key("10.0.0.1", 0), p, attrs("1 2", None, "10.0.0.1")).is_ok() {
            stored += 1;
        } else {
            break;
        }
    }
    assert!(stored > 0 && stored < 100);
    assert!(small.memory_bytes(r) <= full / 2);
    assert_eq!(rib.router_down(r), 100);
    assert_eq!(rib.route_count(r), 0);
}

#[test]
fn apply_update_with_vpn_and_add_path() {
    let r = ip("192.0.2.1");
    let mut rib = Rib::new();
    let mut ctx = DecodeContext::four_octet();
    ctx.set_add_path(AfiSafi::IPV4_UNICAST, true);
    let mut a = attr(0x40, 1, &[0]);
    a.extend(attr(0x40, 2, &[2, 2, 0, 0, 0xfd, 0xe9, 0, 0, 0xfd, 0xea]));
    a.extend(attr(0x40, 3, &[10, 0, 0, 1]));
    a.extend(attr(0xc0, 8, &[0xfd, 0xe8, 0, 1]));
    // VPNv4 172.16.1.0/24, label 16, RD 0:65000:1.
    let mut mp = vec![0, 1, 128, 12, 0, 0, 0, 0, 0, 0, 0, 0, 192, 0, 2, 9, 0];
    mp.extend_from_slice(&[112, 0, 1, 1, 0, 0, 0xfd, 0xe8, 0, 0, 0, 1, 172, 16, 1]);
    a.extend(attr(0x80, 14, &mp));
    let nlri = [0, 0, 0, 1, 24, 10, 1, 1, 0, 0, 0, 2, 24, 10, 1, 1];
    let body = update_body(&[], &a, &nlri);
    let u = Update::parse_body(&body, &ctx).unwrap();
    let c = rib.apply_update(r, peer("10.0.0.1"), 65001, &u, &ctx).unwrap();
    assert_eq!(c.announced, 3);
    assert_eq!(rib.route_count(r), 3);
    assert_eq!(rib.prefix_count(r), 2);
    let m = rib.lookup_route(r, ip("10.1.1.77")).unwrap();
    assert_eq!(m.key.path_id, 1);
    assert_eq!(m.attrs.as_path, "65001 65002");
    assert_eq!((m.attrs.origin_as, m.attrs.first_as), (65002, 65001));
    assert_eq!(m.attrs.communities, "65000:1");
    assert_eq!(m.attrs.next_hop, Some(ip("10.0.0.1")));
    // VPN routes are not in the global lookup, only in their VRF's.
    assert!(rib.lookup(r, ip("172.16.1.1")).is_none());
    let rd = RouteDistinguisher::As2 { asn: 65000, value: 1 };
    let v = rib.lookup_vpn(r, rd, ip("172.16.1.1")).unwrap();
    assert_eq!(v.attrs.next_hop, Some(ip("192.0.2.9")));
    // Withdraw one path id.
    let w = update_body(&[0, 0, 0, 2, 24, 10, 1, 1], &[], &[]);
    let u = Update::parse_body(&w, &ctx).unwrap();
    let c = rib.apply_update(r, peer("10.0.0.1"), 65001, &u, &ctx).unwrap();
    assert_eq!((c.withdrawn, c.unknown_withdrawn), (1, 0));
    assert_eq!(rib.routes(r).count(), 2);
    assert_eq!(rib.routers().count(), 1);
}

/// One UPDATE's prefixes share one interned set; under a memory limit the UPDATE stops at the
/// limit and the accounting matches what is held (nothing left behind after router down).
#[test]
fn update_prefixes_share_attributes_and_respect_the_limit() {
    let r = ip("192.0.2.1");
    let ctx = DecodeContext::four_octet();
    let mut a = attr(0x40, 1, &[0]);
    a.extend(attr(0x40, 2, &[2, 1, 0, 0, 0xfd, 0xe9]));
    a.extend(attr(0x40, 3, &[10, 0, 0, 1]));
    let nlri: Vec<u8> = (0..50u8).flat_map(|i| [24, 10, 7, i]).collect();
    let body = update_body(&[], &a, &nlri);
    let u = Update::parse_body(&body, &ctx).unwrap();
    let mut rib = Rib::new();
    assert_eq!(rib.apply_update(r, peer("10.0.0.1"), 65001, &u, &ctx).unwrap().announced, 50);
    assert_eq!((rib.route_count(r), rib.attr_sets(r)), (50, 1));
    let full = rib.memory_bytes(r);
    let mut one_by_one = Rib::new();
    for (_, n) in u.announced() {
        let at = RouteAttrs::from_update(&u, &ctx, AfiSafi::IPV4_UNICAST, ip("10.0.0.1"), 65001);
        one_by_one.announce(r, key("10.0.0.1", 0), n.prefix, at).unwrap();
    }
    assert_eq!(one_by_one.memory_bytes(r), full, "same accounting either way");
    let mut small = Rib::with_memory_limit(Some(full / 2));
    let err = small.apply_update(r, peer("10.0.0.1"), 65001, &u, &ctx).unwrap_err();
    assert!(matches!(err, RibError::MemoryLimit { .. }));
    let held = small.route_count(r);
    assert!(held > 0 && held < 50, "{held}");
    assert!(small.memory_bytes(r) <= full / 2);
    assert_eq!(small.router_down(r), held);
    assert_eq!((small.memory_bytes(r), small.attr_sets(r)), (0, 0));
    // A limit too small for even the first route leaves no attribute set behind.
    let mut tiny = Rib::with_memory_limit(Some(1));
    assert!(tiny.apply_update(r, peer("10.0.0.1"), 65001, &u, &ctx).is_err());
    assert_eq!((tiny.route_count(r), tiny.attr_sets(r), tiny.memory_bytes(r)), (0, 0, 0));
}

#[test]
fn prefix_map_basics() {
    let mut m: PrefixMap<u32> = PrefixMap::new();
    *m.get_or_insert_with(&pfx("0.0.0.0/0"), || 0) = 1;
    *m.get_or_insert_with(&pfx("10.0.0.0/8"), || 0) = 2;
    *m.get_or_insert_with(&pfx("::/0"), || 0) = 3;
    assert_eq!(m.len(), 3);
    assert_eq!(m.longest_match(ip("11.0.0.1")).map(|x| *x.1), Some(1));
    assert_eq!(m.longest_match(ip("10.0.0.1")).map(|x| x.0), Some(pfx("10.0.0.0/8")));
    assert_eq!(m.longest_match(ip("::1")).map(|x| *x.1), Some(3));
    let mut all: Vec<String> = m.iter().map(|(p, _)| p.to_string()).collect();
    all.sort();
    assert_eq!(all, ["0.0.0.0/0", "10.0.0.0/8", "::/0"]);
    m.retain(|v| *v != 2);
    assert_eq!(m.remove(&pfx("::/0")), Some(3));
    assert_eq!(m.len(), 1);
    assert!(!m.is_empty());
}

#[test]
fn covering_routes_most_specific_first_best_path_first() {
    let r = ip("192.0.2.1");
    let mut rib = Rib::new();
    rib.announce(r, key("10.0.0.1", 0), pfx("10.0.0.0/8"), attrs("1 2", None, "10.0.0.1")).unwrap();
    rib.announce(r, key("10.0.0.1", 0), pfx("10.1.0.0/16"), attrs("1 3", None, "10.0.0.1"))
        .unwrap();
    // A second path to the /16, preferred (higher LOCAL_PREF).
    rib.announce(r, key("10.0.0.2", 0), pfx("10.1.0.0/16"), attrs("4 5", Some(200), "10.0.0.2"))
        .unwrap();
    rib.announce(r, key("10.0.0.1", 0), pfx("10.1.2.0/24"), attrs("1 7", None, "10.0.0.1"))
        .unwrap();
    let mut out = Vec::new();
    rib.covering_for(r, ip("10.1.9.9"), &mut out);
    assert_eq!(out, [(pfx("10.1.0.0/16"), 5), (pfx("10.1.0.0/16"), 3), (pfx("10.0.0.0/8"), 2)]);
    rib.covering_for(r, ip("10.1.2.3"), &mut out);
    assert_eq!(out.len(), 4);
    assert_eq!(out.first(), Some(&(pfx("10.1.2.0/24"), 7)));
    // A BGP peer of the router as the target: only its paths.
    rib.covering_for(ip("10.0.0.2"), ip("10.1.9.9"), &mut out);
    assert_eq!(out, [(pfx("10.1.0.0/16"), 5)]);
    rib.covering_for(ip("10.9.9.9"), ip("10.1.9.9"), &mut out);
    assert!(out.is_empty());
}

#[test]
fn covering_routes_of_one_peer_for_a_prefix() {
    let r = ip("192.0.2.1");
    let mut rib = Rib::new();
    rib.announce(r, key("10.0.0.1", 0), pfx("10.0.0.0/8"), attrs("1 2", None, "10.0.0.1")).unwrap();
    rib.announce(r, key("10.0.0.2", 0), pfx("10.1.0.0/16"), attrs("4 5", None, "10.0.0.2"))
        .unwrap();
    rib.announce(r, key("10.0.0.1", 0), pfx("10.1.2.0/24"), attrs("1 7", None, "10.0.0.1"))
        .unwrap();
    let mut out = Vec::new();
    rib.covering_of_peer(r, pfx("10.1.2.0/24"), ip("10.0.0.1"), &mut out);
    assert_eq!(out, [(pfx("10.1.2.0/24"), 7), (pfx("10.0.0.0/8"), 2)]);
    // Nothing more specific than the prefix itself.
    rib.covering_of_peer(r, pfx("10.1.0.0/16"), ip("10.0.0.2"), &mut out);
    assert_eq!(out, [(pfx("10.1.0.0/16"), 5)]);
}
