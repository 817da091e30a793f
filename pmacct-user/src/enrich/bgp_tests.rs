//! RIB lookups for flows: which router, which route, which fields under which method.

use std::net::IpAddr;
use std::sync::{Arc, RwLock};

use super::*;
use crate::decode::bgp::{AfiSafi, Prefix};
use crate::enrich::netmethod::{FALLBACK, KEEP};
use crate::routing::roa::{ROA_OVERLAP_VALID, ROA_UNKNOWN, ROA_VALID};
use crate::routing::{PeerId, Rib, RouteAttrs, RouteKey};

fn ip(s: &str) -> IpAddr {
    s.parse().expect("address")
}

fn attrs(path: &str, comms: &str, lp: Option<u32>, med: Option<u32>, nh: &str) -> RouteAttrs {
    let asns: Vec<u32> = path.split(' ').filter_map(|x| x.parse().ok()).collect();
    RouteAttrs {
        origin: Some(0),
        as_path: path.into(),
        as_path_len: u32::try_from(asns.len()).unwrap_or(0),
        origin_as: asns.last().copied().unwrap_or(0),
        first_as: asns.first().copied().unwrap_or(0),
        communities: comms.into(),
        ext_communities: "RT:65000:1".into(),
        large_communities: String::new(),
        local_pref: lp,
        med,
        next_hop: Some(ip(nh)),
        peer_ip: ip("192.0.2.2"),
        peer_as: 65001,
    }
}

/// Router 192.0.2.1 with one peer, 192.0.2.2: 10.0.0.0/8 (65001 65010), 10.1.0.0/16
/// (65001 65020 65021), 2001:db8::/32 (empty path).
fn rib() -> Arc<RwLock<Rib>> {
    let mut rib = Rib::new();
    let key = |af| RouteKey {
        peer: PeerId { peer_type: 0, view: 0, distinguisher: 0, addr: ip("192.0.2.2") },
        afi_safi: af,
        rd: None,
        path_id: 0,
    };
    let r = ip("192.0.2.1");
    let p = |a: &str, l| Prefix::new(ip(a), l).expect("prefix");
    let v4 = AfiSafi::IPV4_UNICAST;
    let a8 = attrs("65001 65010", "65001:1", Some(200), None, "192.0.2.2");
    rib.announce(r, key(v4), p("10.0.0.0", 8), a8).expect("route");
    let a16 = attrs("65001 65020 65021", "65001:2 no-export", None, Some(7), "192.0.2.3");
    rib.announce(r, key(v4), p("10.1.0.0", 16), a16).expect("route");
    let v6 = attrs("", "", Some(100), None, "2001:db8::2");
    rib.announce(r, key(AfiSafi::IPV6_UNICAST), p("2001:db8::", 32), v6).expect("route");
    Arc::new(RwLock::new(rib))
}

fn flow(exporter: &str, src: &str, dst: &str) -> FlowFields {
    FlowFields {
        peer_src_ip: ip(exporter),
        src_ip: ip(src),
        dst_ip: ip(dst),
        src_mask: 24,
        dst_mask: 24,
        src_as: 1,
        dst_as: 2,
        ..FlowFields::default()
    }
}

fn stage(aggregate: &str, cfg: &BgpLookupConfig, asm: u32, net: u32) -> BgpStage {
    let set = PrimitiveSet::parse(aggregate).expect("aggregate");
    BgpStage::new(rib(), None, cfg, asm, net, set).expect("stage")
}

#[test]
fn destination_route_fills_path_communities_and_bgp_fields() {
    let agg = "src_as, dst_as, as_path, std_comm, ext_comm, local_pref, med, peer_dst_as, \
               peer_dst_ip, dst_mask";
    let mut s = stage(agg, &BgpLookupConfig::default(), BGP, BGP);
    let mut f = flow("192.0.2.1", "10.9.9.9", "10.1.2.3");
    s.apply(&mut f);
    assert_eq!(&*labels::name(f.as_path), "65001 65020 65021");
    assert_eq!(&*labels::name(f.std_comm), "65001:2 no-export");
    assert_eq!(&*labels::name(f.ext_comm), "RT:65000:1");
    assert_eq!((f.src_as, f.dst_as, f.peer_dst_as), (65010, 65021, 65001));
    assert_eq!((f.local_pref, f.med, f.dst_mask), (0, 7, 16));
    assert_eq!(f.peer_dst_ip, ip("192.0.2.3"));
    assert_eq!(f.dst_net, ip("10.1.0.0"));
    // Source-side strings only with their bgp_src_*_type.
    assert_eq!((f.src_as_path, f.src_local_pref, f.peer_src_as), (0, 0, 0));
    // An empty path (iBGP-local route) gives AS 0, as evaluate_last_asn does.
    let mut g = flow("192.0.2.1", "2001:db8::1", "2001:db8::2");
    s.apply(&mut g);
    assert_eq!((g.src_as, g.dst_as, g.local_pref), (0, 0, 100));
}

#[test]
fn source_primitives_follow_their_type_keys() {
    let cfg = BgpLookupConfig {
        peer_src_as: true,
        src_as_path: true,
        src_std_comm: true,
        src_local_pref: true,
        src_med: true,
        ..Default::default()
    };
    let agg = "src_as_path, src_std_comm, src_local_pref, src_med, peer_src_as, src_as";
    let mut s = stage(agg, &cfg, KEEP, KEEP);
    let mut f = flow("192.0.2.1", "10.200.0.1", "11.0.0.1");
    s.apply(&mut f);
    assert_eq!(&*labels::name(f.src_as_path), "65001 65010");
    assert_eq!(&*labels::name(f.src_std_comm), "65001:1");
    assert_eq!((f.src_local_pref, f.src_med, f.peer_src_as), (200, 0, 65001));
    // nfacctd_as: netflow keeps the exporter's src_as.
    assert_eq!(f.src_as, 1);
}

#[test]
fn router_found_by_agent_map_or_as_a_peer_of_a_monitored_router() {
    let set = PrimitiveSet::parse("dst_as").expect("aggregate");
    let cfg = BgpLookupConfig::default();
    // Unknown exporter: nothing changes.
    let mut s = BgpStage::new(rib(), None, &cfg, BGP, KEEP, set).expect("stage");
    let mut f = flow("203.0.113.9", "10.9.9.9", "10.1.2.3");
    s.apply(&mut f);
    assert_eq!(f.dst_as, 2);
    // Mapped to the router.
    let map = AgentMap::parse("! comment\nbgp_ip=192.0.2.1 ip=203.0.113.0/24\n").expect("map");
    assert_eq!(map.len(), 1);
    let mut s = BgpStage::new(rib(), Some(Arc::new(map)), &cfg, BGP, KEEP, set).expect("stage");
    s.apply(&mut f);
    assert_eq!(f.dst_as, 65021);
    // The exporter is the router's BGP peer (route reflector case).
    let mut s = BgpStage::new(rib(), None, &cfg, BGP, KEEP, set).expect("stage");
    let mut g = flow("192.0.2.2", "10.9.9.9", "10.5.0.1");
    s.apply(&mut g);
    assert_eq!(g.dst_as, 65010);
}

#[test]
fn longest_prefers_the_more_specific_source() {
    let set = PrimitiveSet::parse("dst_as, dst_mask").expect("aggregate");
    let cfg = BgpLookupConfig::default();
    let bits = FALLBACK | KEEP | BGP;
    let mut s = BgpStage::new(rib(), None, &cfg, bits, bits, set).expect("stage");
    // The exporter's /24 beats the RIB's /16: its values stay.
    let mut f = flow("192.0.2.1", "10.9.9.9", "10.1.2.3");
    s.apply(&mut f);
    assert_eq!((f.dst_as, f.dst_mask), (2, 24));
    // A /8 from the exporter loses to the RIB's /16.
    f.dst_mask = 8;
    s.apply(&mut f);
    assert_eq!((f.dst_as, f.dst_mask), (65021, 16));
}

#[test]
fn nothing_to_do_without_bgp_primitives() {
    let set = PrimitiveSet::parse("src_host, dst_as").expect("aggregate");
    assert!(BgpStage::new(rib(), None, &BgpLookupConfig::default(), KEEP, KEEP, set).is_none());
}

#[test]
fn agent_map_errors_name_the_line() {
    let e = AgentMap::parse("bgp_ip=192.0.2.1\n").expect_err("no ip");
    assert!(e.to_string().contains("line 1") && e.to_string().contains("ip"), "{e}");
    let e = AgentMap::parse("\nbgp_ip=x ip=10.0.0.1\n").expect_err("bad address");
    assert!(e.to_string().contains("line 2"), "{e}");
    let e = AgentMap::parse("bgp_ip=192.0.2.1 ip=10.0.0.1 filter=tcp\n").expect_err("key");
    assert!(e.to_string().contains("filter"), "{e}");
}

/// ROAs for [`rib`]: 10.0.0.0/8 by AS65010 (so 10.0.0.0/8 is valid and 10.1.0.0/16, origin
/// 65021, too long for it, is invalid under it).
const ROAS: &str = r#"{"roas": [{"prefix": "10.0.0.0/8", "asn": "AS65010", "maxLength": 8}]}"#;

#[test]
fn roa_states_from_the_route_and_its_covering_routes() {
    let roas = Arc::new(RoaTable::parse(ROAS).expect("roas"));
    let on = BgpLookupConfig { src_roa: true, ..BgpLookupConfig::default() };
    let agg = "src_roa, dst_roa, med";
    let mut s = stage(agg, &on, KEEP, KEEP);
    s.set_roas(Some(roas.clone()));
    let mut f = flow("192.0.2.1", "10.9.9.9", "10.1.2.3");
    s.apply(&mut f);
    // Source: the valid /8. Destination: the invalid /16 under the valid /8.
    assert_eq!((f.src_roa, f.dst_roa), (ROA_VALID, ROA_OVERLAP_VALID));
    // No ROA covers 2001:db8::/32; no route for 192.168.0.1.
    let mut f = flow("192.0.2.1", "2001:db8::1", "192.168.0.1");
    s.apply(&mut f);
    assert_eq!((f.src_roa, f.dst_roa), (ROA_UNKNOWN, ROA_UNKNOWN));

    // src_roa only with bgp_src_roa_type: bgp.
    let mut s = stage(agg, &BgpLookupConfig::default(), KEEP, KEEP);
    s.set_roas(Some(roas.clone()));
    let mut f = flow("192.0.2.1", "10.9.9.9", "10.1.2.3");
    s.apply(&mut f);
    assert_eq!((f.src_roa, f.dst_roa), (ROA_UNKNOWN, ROA_OVERLAP_VALID));

    // nfacctd 1.7.7 hands the states only to plugins that also aggregate a BGP-block primitive.
    let mut s = stage("src_roa, dst_roa, src_host", &on, KEEP, KEEP);
    s.set_roas(Some(roas));
    let mut f = flow("192.0.2.1", "10.9.9.9", "10.1.2.3");
    s.apply(&mut f);
    assert_eq!((f.src_roa, f.dst_roa), (ROA_UNKNOWN, ROA_UNKNOWN));

    // New ROAs (a reload) apply to the next record: AS65021 may now announce the /16.
    let mut s = stage(agg, &on, KEEP, KEEP);
    let more = r#"{"roas": [{"prefix": "10.0.0.0/8", "asn": "AS65010", "maxLength": 8},
        {"prefix": "10.1.0.0/16", "asn": "AS65021", "maxLength": 24}]}"#;
    s.set_roas(Some(Arc::new(RoaTable::parse(more).expect("roas"))));
    let mut f = flow("192.0.2.1", "10.9.9.9", "10.1.2.3");
    s.apply(&mut f);
    assert_eq!((f.src_roa, f.dst_roa), (ROA_VALID, ROA_VALID));
}
