use super::*;

fn rec(exporter: &str, src: &str, inif: u32, out: u32) -> FlowFields {
    FlowFields {
        peer_src_ip: exporter.parse().unwrap(),
        src_ip: src.parse().unwrap(),
        dst_ip: "192.0.2.9".parse().unwrap(),
        in_iface: inif,
        out_iface: out,
        proto: 6,
        ..Default::default()
    }
}

#[test]
fn first_match_wins_with_negation_and_filter() {
    let m = PreTagMap::parse(
        "! comment\nset_tag=1 ip=10.0.0.1 in=4\nset_tag=2 ip=10.0.0.0/8 in=-4 filter='src net 172.16.0.0/12 and tcp'\n\
         set_tag=3 ip=0.0.0.0/0\nset_tag=4\n",
    )
    .unwrap();
    assert_eq!(m.eval(&rec("10.0.0.1", "1.1.1.1", 4, 0)).tag, 1);
    assert_eq!(m.eval(&rec("10.0.0.2", "172.16.1.1", 5, 0)).tag, 2);
    assert_eq!(m.eval(&rec("10.0.0.2", "172.16.1.1", 4, 0)).tag, 3);
    assert_eq!(m.eval(&rec("2001:db8::1", "2001:db8::2", 4, 0)).tag, 4);
}

#[test]
fn jeq_stack_and_labels() {
    let m = PreTagMap::parse(
        "set_tag=11000 in=1 jeq=eval_out\nset_tag=12000 in=2 jeq=eval_out\n\
         set_tag=100 out=1 label=eval_out stack=sum\nset_tag=101 out=2 stack=sum\n\
         set_label=blue in=1 jeq=next\nset_label=red\n",
    )
    .unwrap();
    assert_eq!(m.eval(&rec("10.0.0.1", "1.1.1.1", 2, 2)).tag, 12101);
    assert_eq!(m.eval(&rec("10.0.0.1", "1.1.1.1", 1, 1)).tag, 11100);
    let m =
        PreTagMap::parse("set_label=blue in=1 jeq=next\nset_label=red\nset_tag2=7 in=9\n").unwrap();
    assert_eq!(m.eval(&rec("10.0.0.1", "1.1.1.1", 1, 0)).label, "blue,red");
    assert_eq!(m.eval(&rec("10.0.0.1", "1.1.1.1", 3, 0)).label, "red");
}

#[test]
fn errors_name_the_line() {
    let e = |s: &str| PreTagMap::parse(s).unwrap_err().to_string();
    assert!(e("set_tag=1\nset_tag=2 bogus_key=3\n").contains("line 2: key `bogus_key`"));
    assert!(e("set_tag=1 set_label=x\n").contains("line 1"));
    assert!(e("set_tag=1 jeq=nowhere\n").contains("jeq=nowhere"));
    assert!(e("set_tag=1 filter='tcp[13] & 2'\n").contains("filter"));
    assert!(e("set_tag=1++\n").contains("auto-increasing"));
    assert!(e("set_tag=1 filter='tcp\n").contains("unterminated"));
}
