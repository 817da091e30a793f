use super::*;

fn rec(src: &str, dst: &str, proto: u8, sport: u16, dport: u16) -> FlowFields {
    FlowFields {
        src_ip: src.parse().unwrap(),
        dst_ip: dst.parse().unwrap(),
        proto,
        src_port: sport,
        dst_port: dport,
        ..Default::default()
    }
}

fn m(filter: &str, f: &FlowFields) -> bool {
    Filter::parse(filter).unwrap_or_else(|e| panic!("{filter}: {e}")).matches(f)
}

#[test]
fn hosts_nets_and_directions() {
    let r = rec("10.1.2.3", "192.168.7.9", 6, 1234, 80);
    assert!(m("host 10.1.2.3", &r));
    assert!(m("src host 10.1.2.3", &r));
    assert!(!m("dst host 10.1.2.3", &r));
    assert!(m("src 10.1.2.3", &r));
    assert!(m("src or dst host 192.168.7.9", &r));
    assert!(!m("src and dst host 192.168.7.9", &r));
    assert!(m("net 10.0.0.0/8", &r));
    assert!(m("src net 10.1", &r));
    assert!(m("dst net 192.168.0.0 mask 255.255.0.0", &r));
    assert!(!m("dst net 10.0.0.0/8", &r));
    assert!(m("dst 192.168.0.0/16", &r));
    assert!(m("ip host 10.1.2.3", &r));
    assert!(!m("ip6", &r));
    let v6 = rec("2001:db8::1", "2001:db8:1::2", 17, 53, 5353);
    assert!(m("ip6 and src net 2001:db8::/32", &v6));
    assert!(m("host 2001:db8:1::2", &v6));
    assert!(!m("net 10.0.0.0/8", &v6));
    assert!(!m("ip", &v6));
}

#[test]
fn ports_and_protocols() {
    let r = rec("10.1.2.3", "192.168.7.9", 6, 1234, 80);
    assert!(m("port 80", &r));
    assert!(m("tcp dst port http", &r));
    assert!(!m("udp port 80", &r));
    assert!(!m("src port 80", &r));
    assert!(m("portrange 1000-2000", &r));
    assert!(m("tcp", &r) && m("ip proto 6", &r) && m("proto \\tcp", &r) && m("proto tcp", &r));
    assert!(!m("ip6 proto 6", &r));
    // An ICMP flow's type/code in the port fields is not a port to pcap-filter.
    let icmp = rec("10.0.0.1", "10.0.0.2", 1, 0, 2048);
    assert!(m("icmp", &icmp) && !m("port 2048", &icmp) && !m("icmp6", &icmp));
    let icmp6 = rec("fe80::1", "ff02::1", 58, 0, 0);
    assert!(m("icmp6", &icmp6) && !m("icmp", &icmp6));
}

#[test]
fn boolean_operators_have_pcap_precedence() {
    let r = rec("10.1.2.3", "192.168.7.9", 6, 1234, 80);
    // `and` and `or` are equal and left-associative: (udp or tcp) and port 22 -> false.
    assert!(!m("udp or tcp and port 22", &r));
    assert!(m("udp or (tcp and port 80)", &r));
    assert!(m("not udp && !port 22", &r));
    assert!(m("! (udp || port 22)", &r));
    // Qualifiers carry over to a bare value.
    assert!(m("host 1.1.1.1 or 10.1.2.3", &r));
    assert!(m("dst port 22 or 80", &r));
    assert!(!m("src port 22 or 80", &r));
}

#[test]
fn vlan_shifts_later_tests_as_pcap_does() {
    let mut r = rec("10.1.2.3", "192.168.7.9", 17, 53, 53);
    assert!(!m("vlan", &r));
    assert!(m("udp", &r));
    r.vlan = 100;
    assert!(m("vlan", &r) && m("vlan 100", &r) && !m("vlan 101", &r));
    assert!(m("vlan and udp", &r));
    // Before any `vlan`, L3 tests look at the untagged layout: no match on tagged traffic.
    assert!(!m("udp", &r));
    assert!(!m("udp and vlan", &r));
    assert!(m("ether src 00:00:00:00:00:00", &r));
}

#[test]
fn errors_name_the_token() {
    let err = |s: &str| Filter::parse(s).unwrap_err();
    assert_eq!(err(""), FilterError::Empty);
    assert_eq!(err("less 100"), FilterError::Unsupported { token: "less".into(), pos: 0 });
    assert_eq!(err("tcp[13] & 2 != 0"), FilterError::Unsupported { token: "[".into(), pos: 3 });
    assert_eq!(
        err("src host 10.0.0.1 and arp"),
        FilterError::Unsupported { token: "arp".into(), pos: 22 }
    );
    assert!(matches!(err("host example.com"), FilterError::Invalid { pos: 5, .. }));
    assert!(matches!(err("net 10.0.0.1/8"), FilterError::Invalid { pos: 4, .. }));
    assert!(matches!(err("port 70000"), FilterError::Invalid { pos: 5, .. }));
    assert!(matches!(err("(tcp"), FilterError::Expected { what: "`)`", pos: 4, .. }));
    assert!(matches!(err("tcp udp"), FilterError::Expected { pos: 4, .. }));
    assert!(matches!(err("host"), FilterError::Expected { pos: 4, .. }));
    assert!(matches!(err("ip host ::1"), FilterError::Invalid { .. }));
    assert!(matches!(err("tcp host 1.2.3.4"), FilterError::Invalid { .. }));
    assert!(matches!(err("10.0.0.1"), FilterError::Unsupported { pos: 0, .. }));
    assert!(matches!(err("vlan 1 and vlan 2"), FilterError::Unsupported { pos: 11, .. }));
    assert!(matches!(err("tcp and"), FilterError::Expected { pos: 7, .. }));
}

#[test]
fn netflow_v9_vlans_below_256_look_untagged_as_in_nfacctd() {
    let mut r = rec("10.1.2.3", "192.168.7.9", 17, 53, 53);
    r.export_proto_version = 10;
    r.vlan = 100;
    assert!(m("udp", &r) && !m("vlan", &r));
    r.vlan = 300;
    assert!(!m("udp", &r) && m("vlan 300 and udp", &r));
}
