//! Lookups in MaxMind's own test database (`tests/data/geoip/`), against the values its source
//! data (`GeoIP2-City-Test.json` in MaxMind-DB) lists.

use super::*;

fn db_path() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/geoip/GeoIP2-City-Test.mmdb")
}

fn geo(ip: &str) -> Geo {
    GeoDb::open(&db_path()).expect("test db").lookup(ip.parse().expect("ip")).expect("lookup")
}

fn pocode(g: &Geo) -> String {
    crate::enrich::labels::name(g.pocode).to_string()
}

#[test]
fn values_of_the_test_database() {
    let g = geo("2.125.160.216");
    assert_eq!((&g.country, pocode(&g).as_str(), g.lat, g.lon), (b"GB", "OX1", 51.75, -1.25));
    let g = geo("216.160.83.57");
    assert_eq!(
        (&g.country, pocode(&g).as_str(), g.lat, g.lon),
        (b"US", "98354", 47.2513, -122.3149)
    );
    // No postal code.
    let g = geo("81.2.69.142");
    assert_eq!((&g.country, g.pocode, g.lat, g.lon), (b"GB", 0, 51.5142, -0.0931));
    // Found, but only `traits`: everything empty.
    assert_eq!(geo("214.1.1.1"), Geo::default());
    // Not in the database.
    assert_eq!(geo("192.0.2.1"), Geo::default());
    assert_eq!(geo("10.0.0.1"), Geo::default());
    // IPv6.
    let g = geo("2001:218::1");
    assert_eq!((&g.country, g.pocode, g.lat, g.lon), (b"JP", 0, 35.68536, 139.75309));
}

#[test]
fn stage_fills_only_what_the_aggregate_asks_for() {
    let set = PrimitiveSet::parse("src_host_country, dst_host_coords").expect("set");
    let stage = GeoStage::new(Some(&db_path()), set).expect("open").expect("stage");
    let mut f = FlowFields {
        src_ip: "2.125.160.216".parse().expect("ip"),
        dst_ip: "216.160.83.57".parse().expect("ip"),
        ..FlowFields::default()
    };
    stage.apply(&mut f);
    assert_eq!(f.src_country, *b"GB");
    assert_eq!((f.src_pocode, f.src_lat, f.dst_country, f.dst_pocode), (0, 0, [0; 2], 0));
    assert_eq!((f64::from_bits(f.dst_lat), f64::from_bits(f.dst_lon)), (47.2513, -122.3149));
    assert_eq!(stage.errors(), 0);
    // No GeoIP primitive, or no file: no stage.
    let plain = PrimitiveSet::parse("src_host").expect("set");
    assert!(GeoStage::new(Some(&db_path()), plain).expect("ok").is_none());
    assert!(GeoStage::new(None, set).expect("ok").is_none());
}

#[test]
fn one_copy_per_file_and_errors_name_the_key() {
    let a = GeoDb::open(&db_path()).expect("open");
    let b = GeoDb::open(&db_path()).expect("open");
    assert!(Arc::ptr_eq(&a, &b));
    let e = GeoDb::open(Path::new("/nonexistent/geo.mmdb")).expect_err("missing");
    assert!(e.to_string().starts_with("geoipv2_file /nonexistent/geo.mmdb: "), "{e}");
    let dir = tempfile::tempdir().expect("tmp");
    let junk = dir.path().join("junk.mmdb");
    std::fs::write(&junk, b"not a maxmind db").expect("write");
    let e = GeoDb::open(&junk).expect_err("junk");
    assert!(e.to_string().contains("geoipv2_file"), "{e}");
}

#[test]
fn postal_codes_keep_pmacct_length() {
    assert_eq!(truncate("12345678901234", POCODE_MAX), "12345678901");
    assert_eq!(truncate("OX1", POCODE_MAX), "OX1");
    assert_eq!(truncate("ééééééé", POCODE_MAX), "ééééé");
}
