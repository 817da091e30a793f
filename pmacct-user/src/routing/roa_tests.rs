use super::*;

fn p(s: &str) -> Prefix {
    parse_prefix(s).expect("prefix")
}

const FILE: &str = r#"{"roas": [
    {"prefix": "10.0.0.0/8", "asn": "AS65001", "maxLength": 16},
    {"prefix": "10.1.0.0/16", "asn": "AS65002", "maxLength": 24},
    {"prefix": "10.1.0.0/16", "asn": "65003", "maxLength": 16},
    {"prefix": "2001:db8::/32", "asn": "AS65001", "maxLength": 48},
    {"prefix": "192.0.2.0/24", "asn": "AS65009", "maxLength": 20},
    {"prefix": "198.51.100.0/24", "asn": 65001, "maxLength": 24},
    {"prefix": "198.51.100.0/24", "asn": "AS65001"},
    {"prefix": "not-a-prefix", "asn": "AS65001", "maxLength": 24},
    {"asn": "AS65001", "maxLength": 24},
    {"prefix": "203.0.113.0/24", "asn": "AS", "maxLength": 24},
    {"prefix": "203.0.113.0/24", "asn": "AS65001", "maxLength": 24.0}
]}"#;

#[test]
fn loads_like_pmacct_and_skips_malformed_roas() {
    let t = RoaTable::parse(FILE).unwrap();
    // Numeric asn, missing maxLength, bad prefix, missing prefix, asn without digits and a
    // real maxLength are skipped; maxLength < prefix length is kept.
    assert_eq!((t.len(), t.skipped()), (5, 6));
    assert!(matches!(RoaTable::parse("[]"), Err(RoaError::Shape)));
    assert!(matches!(RoaTable::parse(r#"{"roas": {}}"#), Err(RoaError::Shape)));
    assert!(matches!(RoaTable::parse("{"), Err(RoaError::Json(_))));
    assert_eq!(parse_asn("AS4200000000"), Some(4_200_000_000));
    assert_eq!(parse_asn("as-65000"), Some(65000));
    assert_eq!(parse_asn("AS65000x"), None);
}

#[test]
fn origin_validation_of_one_route() {
    let t = RoaTable::parse(FILE).unwrap();
    // Matching ASN within maxLength.
    assert_eq!(t.validate(p("10.0.0.0/8"), 65001), ROA_VALID);
    assert_eq!(t.validate(p("10.200.0.0/16"), 65001), ROA_VALID);
    // Too long for the /8's maxLength 16.
    assert_eq!(t.validate(p("10.200.1.0/24"), 65001), ROA_INVALID);
    // Wrong origin.
    assert_eq!(t.validate(p("10.200.0.0/16"), 65099), ROA_INVALID);
    // Any covering ROA may validate: the /16's ROAs or the /8's.
    assert_eq!(t.validate(p("10.1.2.0/24"), 65002), ROA_VALID);
    assert_eq!(t.validate(p("10.1.0.0/16"), 65003), ROA_VALID);
    assert_eq!(t.validate(p("10.1.0.0/16"), 65001), ROA_VALID);
    assert_eq!(t.validate(p("10.1.2.0/24"), 65003), ROA_INVALID);
    // A ROA more specific than the route does not cover it.
    assert_eq!(t.validate(p("10.0.0.0/7"), 65001), ROA_UNKNOWN);
    assert_eq!(t.validate(p("172.16.0.0/12"), 65001), ROA_UNKNOWN);
    // maxLength shorter than the prefix: kept, never valid.
    assert_eq!(t.validate(p("192.0.2.0/24"), 65009), ROA_INVALID);
    // IPv6 apart from IPv4.
    assert_eq!(t.validate(p("2001:db8:1::/48"), 65001), ROA_VALID);
    assert_eq!(t.validate(p("2001:db8:1:2::/64"), 65001), ROA_INVALID);
    assert_eq!(t.validate(p("2001:db9::/32"), 65001), ROA_UNKNOWN);
    assert_eq!(t.validate(p("::/0"), 65001), ROA_UNKNOWN);
}

#[test]
fn vector_states_over_covering_routes() {
    let t = RoaTable::parse(FILE).unwrap();
    let v = |routes: &[(&str, u32)]| t.vector(routes.iter().map(|(s, a)| (p(s), *a)));
    assert_eq!(v(&[]), ROA_UNKNOWN);
    assert_eq!(v(&[("10.1.2.0/24", 65002)]), ROA_VALID);
    assert_eq!(v(&[("10.1.2.0/24", 65099)]), ROA_INVALID);
    assert_eq!(v(&[("172.16.0.0/12", 65001)]), ROA_UNKNOWN);
    // Invalid, then a valid covering route.
    assert_eq!(v(&[("10.1.2.0/24", 65099), ("10.1.0.0/16", 65002)]), ROA_OVERLAP_VALID);
    // Invalid, then a covering route no ROA covers.
    assert_eq!(v(&[("10.1.2.0/24", 65099), ("10.0.0.0/7", 65001)]), ROA_OVERLAP_UNKNOWN);
    // Every route invalid.
    assert_eq!(v(&[("10.1.2.0/24", 65099), ("10.1.0.0/16", 65099)]), ROA_INVALID);
    // The first route that is not invalid decides, whatever follows.
    assert_eq!(v(&[("10.1.2.0/24", 65002), ("10.0.0.0/7", 65001)]), ROA_VALID);
    assert_eq!(
        v(&[("10.1.2.0/24", 65099), ("10.0.0.0/7", 65001), ("10.0.0.0/8", 65001)]),
        ROA_OVERLAP_UNKNOWN
    );
}

#[test]
fn printed_strings() {
    let all: Vec<&str> = (0..=5).map(roa_str).collect();
    assert_eq!(all, ["u", "i", "v", "V", "U", "u"]);
    assert_eq!(roa_from_str("V"), Some(ROA_OVERLAP_VALID));
    assert_eq!(roa_from_str("x"), None);
}
