//! Unit tests for key building, bins and the flush schedule.

use super::*;
use crate::config::PluginKind;
use crate::record::{Counters, FlowFields};

fn cfg(name: &str, agg: &[&str]) -> PluginConfig {
    let mut c = PluginConfig::new(name, PluginKind::Print);
    c.aggregate = agg.iter().map(|s| s.to_string()).collect();
    c
}

fn rec(src: &str, dst: &str, sport: u16, bytes: u64, first_s: u64) -> FlowRecord {
    FlowRecord {
        fields: FlowFields {
            src_ip: src.parse().unwrap(),
            dst_ip: dst.parse().unwrap(),
            src_port: sport,
            dst_port: 80,
            proto: 6,
            ..Default::default()
        },
        counters: Counters {
            packets: 1,
            bytes,
            flows: 1,
            tcp_flags: 0x10,
            first_us: first_s * 1_000_000,
            last_us: first_s * 1_000_000,
        },
    }
}

#[test]
fn keys_merge_on_masked_fields() {
    let mut agg =
        Aggregator::with_options(&[cfg("hosts", &["src_host", "dst_host"])], 1000, true).unwrap();
    agg.ingest_at(&rec("10.0.0.1", "10.0.0.2", 1000, 100, 0), 1000);
    agg.ingest_at(&rec("10.0.0.1", "10.0.0.2", 2000, 50, 0), 1000);
    agg.ingest_at(&rec("10.0.0.3", "10.0.0.2", 2000, 7, 0), 1000);
    assert_eq!(agg.plugins()[0].stats().entries, 2);
    let out = agg.flush_all(2000);
    let b = &out[0].1;
    assert_eq!(b.len(), 2);
    assert!(!b.history);
    let k = PrimitiveSet::parse("src_host,dst_host")
        .unwrap()
        .mask(&rec("10.0.0.1", "10.0.0.2", 0, 0, 0).fields);
    let c = b.bins[0].entries.iter().find(|(key, _)| *key == k).map(|(_, c)| *c).unwrap();
    assert_eq!((c.packets, c.bytes, c.tcp_flags), (2, 150, 0));
    assert_eq!(agg.plugins()[0].stats().entries, 0);
    assert_eq!(agg.plugins()[0].stats().records_in, 3);
}

#[test]
fn batches_account_like_single_records() {
    let recs = [
        rec("10.0.0.1", "10.0.0.2", 1000, 100, 0),
        rec("10.0.0.1", "10.0.0.2", 2000, 50, 0),
        rec("10.0.0.3", "10.0.0.2", 2000, 7, 0),
    ];
    let plugins = [cfg("hosts", &["src_host", "dst_host"]), cfg("ports", &["src_port"])];
    let mut one = Aggregator::with_options(&plugins, 1000, true).unwrap();
    let mut batch = Aggregator::with_options(&plugins, 1000, true).unwrap();
    for r in &recs {
        one.ingest_at(r, 1000);
    }
    batch.ingest_batch(&recs, 1000);
    for (a, b) in one.plugins().iter().zip(batch.plugins()) {
        assert_eq!(a.stats(), b.stats());
    }
    // Entries compare as sets of rows.
    assert_eq!(one.flush_all(2000), batch.flush_all(2000));
}

#[test]
fn union_and_errors() {
    let agg = Aggregator::with_options(
        &[cfg("a", &["src_host"]), cfg("b", &["dst_port", "proto"])],
        0,
        true,
    )
    .unwrap();
    assert_eq!(agg.union_set(), PrimitiveSet::parse("src_host,dst_port,proto").unwrap());

    let err = Aggregator::with_options(&[cfg("x", &["src_host", "nope"])], 0, true).unwrap_err();
    assert_eq!(err, AggregateError::Aggregate { plugin: "x".into(), value: "nope".into() });
    assert!(err.to_string().contains("'x'"));
    let mut c = cfg("y", &["src_host"]);
    c.history = Some("5q".into());
    let err = Aggregator::with_options(&[c], 0, true).unwrap_err();
    assert_eq!(err, AggregateError::History { plugin: "y".into(), value: "5q".into() });
    let mut c = cfg("z", &["src_host"]);
    c.history_roundoff = Some("wd".into());
    assert!(matches!(
        Aggregator::with_options(&[c], 0, true),
        Err(AggregateError::Roundoff { .. })
    ));
    let mut c = cfg("r", &["src_host"]);
    c.refresh_time = 0;
    assert!(matches!(
        Aggregator::with_options(&[c], 0, true),
        Err(AggregateError::RefreshTime { .. })
    ));
    assert!(matches!(
        Aggregator::with_options(&[cfg("d", &[]), cfg("d", &[])], 0, true),
        Err(AggregateError::Duplicate { .. })
    ));
}

#[test]
fn history_bins_and_schedule() {
    // Start 2026-01-01 00:03:10 UTC, 5-minute bins rounded to the hour, 60 s refresh.
    let start = 1_767_225_790;
    let mut c = cfg("p", &["src_host", "tcpflags"]);
    c.history = Some("5m".into());
    c.history_roundoff = Some("m".into());
    let mut agg = Aggregator::with_options(&[c], start, true).unwrap();
    let d0 = agg.plugins()[0].deadline();
    assert_eq!(d0, 1_767_225_840); // 00:04:00
    agg.ingest_at(&rec("10.0.0.1", "10.0.0.2", 1, 10, 1_767_225_500), start); // 23:58:20 prev day
    agg.ingest_at(&rec("10.0.0.1", "10.0.0.2", 1, 10, 0), start); // no time: clock → 00:00 bin
    agg.ingest_at(&rec("10.0.0.1", "10.0.0.2", 1, 10, 1_767_226_000), start); // 00:06:40 future
    assert!(agg.tick(d0).is_empty());
    let out = agg.tick(d0 + 1);
    assert_eq!(out.len(), 1);
    let b = &out[0].1;
    assert!(b.history);
    assert_eq!(b.flushed_at, d0 + 1);
    let starts: Vec<i64> = b.bins.iter().map(|b| b.start).collect();
    assert_eq!(starts, vec![1_767_225_300, 1_767_225_600]); // 23:55, 00:00
    assert_eq!(b.rows().next().unwrap().2.tcp_flags, 0x10);
    assert_eq!(agg.plugins()[0].deadline(), d0 + 60);
    assert_eq!(agg.plugins()[0].stats().entries, 1); // the future bin stays
    let rest = agg.flush_all(d0 + 2);
    assert_eq!(rest[0].1.bins[0].start, 1_767_225_900); // 00:05
    assert_eq!(agg.plugins()[0].stats().flushes, 2);
}

#[test]
fn union_includes_what_nets_and_filters_read() {
    let mut f = cfg("f", &["tag"]);
    f.aggregate_filter = Some("dst port 53".into());
    let agg = Aggregator::with_options(&[cfg("n", &["src_net"]), f], 0, true).unwrap();
    let u = agg.union_set();
    assert!(u.contains(Primitive::SrcHost) && u.contains(Primitive::SrcNet));
    assert!(u.contains(Primitive::DstPort) && u.contains(Primitive::Proto));
    let mut bad = cfg("b", &["src_host"]);
    bad.aggregate_filter = Some("less 64".into());
    let err = Aggregator::with_options(&[bad], 0, true).unwrap_err();
    assert!(err.to_string().contains("aggregate_filter") && err.to_string().contains("less"));
}

#[test]
fn geoip_lookups_and_reload() {
    let data = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/geoip");
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("geo.mmdb");
    std::fs::copy(data.join("GeoIP2-City-Test.mmdb"), &db).unwrap();
    let mut c = cfg("geo", &["src_host_country", "src_host_pocode"]);
    c.geoipv2_file = Some(db.clone());
    let mut agg = Aggregator::with_options(&[c], 1000, true).unwrap();
    // GeoIP needs the addresses whatever else is aggregated.
    assert!(agg.union_set().contains(Primitive::SrcHost));
    let city =
        [rec("2.125.160.216", "10.0.0.2", 1, 10, 0), rec("2.125.160.217", "10.0.0.2", 2, 5, 0)];
    agg.ingest_batch(&city, 1000);
    // The country database has no postal codes: after a reload, the same address keys GB alone.
    std::fs::copy(data.join("GeoIP2-Country-Test.mmdb"), &db).unwrap();
    assert!(agg.reload_maps().is_empty());
    agg.ingest_at(&rec("2.125.160.216", "10.0.0.2", 3, 1, 0), 1000);
    // A broken file keeps the database loaded.
    std::fs::write(&db, b"junk").unwrap();
    let errors = agg.reload_maps();
    assert!(errors.len() == 1 && errors[0].to_string().contains("geoipv2_file"), "{errors:?}");
    agg.ingest_at(&rec("2.125.160.216", "10.0.0.2", 4, 2, 0), 1000);
    let out = agg.flush_all(2000);
    let mut rows: Vec<(String, String, u64)> = out[0]
        .1
        .rows()
        .map(|(_, k, c)| {
            let cc = String::from_utf8_lossy(&k.src_country).into_owned();
            (cc, crate::enrich::labels::name(k.src_pocode).to_string(), c.bytes)
        })
        .collect();
    rows.sort();
    assert_eq!(rows, [("GB".into(), "".into(), 3), ("GB".into(), "OX1".into(), 15)]);
}

#[test]
fn rpki_roas_file_is_loaded_with_the_rib_and_reloaded() {
    use crate::decode::bgp::{AfiSafi, Prefix};
    use crate::routing::{PeerId, Rib, RouteAttrs, RouteKey, roa};
    let router: std::net::IpAddr = "192.0.2.1".parse().unwrap();
    let mut rib = Rib::new();
    let peer =
        PeerId { peer_type: 0, view: 0, distinguisher: 0, addr: "192.0.2.2".parse().unwrap() };
    let key = RouteKey { peer, afi_safi: AfiSafi::IPV4_UNICAST, rd: None, path_id: 0 };
    let attrs = RouteAttrs {
        origin: Some(0),
        as_path: "65001 65021".into(),
        as_path_len: 2,
        origin_as: 65021,
        first_as: 65001,
        communities: String::new(),
        ext_communities: String::new(),
        large_communities: String::new(),
        local_pref: None,
        med: None,
        next_hop: None,
        peer_ip: peer.addr,
        peer_as: 65001,
    };
    let prefix = Prefix::new("10.1.0.0".parse().unwrap(), 16).unwrap();
    rib.announce(router, key, prefix, attrs).unwrap();
    let rib = std::sync::Arc::new(std::sync::RwLock::new(rib));

    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("roas.json");
    let write = |asn: &str| {
        let text =
            format!(r#"{{"roas": [{{"prefix": "10.0.0.0/8", "asn": "{asn}", "maxLength": 24}}]}}"#);
        std::fs::write(&file, text).unwrap();
    };
    write("AS65021");
    let mut c = cfg("roa", &["dst_roa", "med"]);
    c.bgp.roas_file = Some(file.clone());
    let mut agg = Aggregator::with_options(&[c], 1000, true).unwrap();
    agg.attach_rib(&rib).unwrap();
    let mut r = rec("10.9.9.9", "10.1.2.3", 1, 10, 0);
    r.fields.peer_src_ip = router;
    let state = |agg: &mut Aggregator| {
        agg.ingest_at(&r, 1000);
        let out = agg.flush_all(2000);
        out[0].1.rows().next().map(|(_, k, _)| k.dst_roa)
    };
    assert_eq!(state(&mut agg), Some(roa::ROA_VALID));
    // Another origin: invalid after the reload.
    write("AS65099");
    assert!(agg.reload_maps().is_empty());
    assert_eq!(state(&mut agg), Some(roa::ROA_INVALID));
    // A broken file keeps the ROAs in use.
    std::fs::write(&file, "{").unwrap();
    assert_eq!(agg.reload_maps().len(), 1);
    assert_eq!(state(&mut agg), Some(roa::ROA_INVALID));
}
