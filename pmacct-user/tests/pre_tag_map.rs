//! `pre_tag_map` (set_tag, set_tag2, set_label; ip, in, vlan, filter, src_net, dst_net, negation,
//! jeq, stack), `pre_tag_filter`, `pre_tag2_filter`, `pre_tag_label_filter`, `post_tag`,
//! `post_tag2` side by side with
//! nfacctd/sfacctd 1.7.7: same config, same capture, same rows per plugin.

mod pmacct_side_by_side;

use pmacct_side_by_side::{PluginSpec, available, compare};

const TAGS: &str = "\
! tags
set_tag=1 ip=127.0.0.1 filter='src net 192.168.0.0/16 and tcp'
set_tag=2 ip=127.0.0.0/8 src_net=10.1.0.0/16
set_tag=5 ip=10.9.9.9
set_tag=6 dst_net=203.0.113.0/24 jeq=second
set_tag=7 filter='udp' jeq=second
set_tag=8 vlan=100 jeq=second
set_tag=9 src_net=-172.16.0.0/12 filter='icmp or icmp6'
set_tag2=20 filter='port 53' label=second
set_tag2=21 dst_net=172.16.0.0/12
set_tag2=22 in=-0 stack=sum
";

const LABELS: &str = "\
set_label=inside filter='src net 192.168.0.0/16' jeq=next
set_label=web filter='dst port 80 or dst port 443'
set_label=v6 filter='ip6'
set_label=other
";

fn tag_plugins() -> Vec<PluginSpec> {
    vec![
        PluginSpec::new("tags", &[("aggregate", "tag, tag2, src_host, dst_host")]),
        PluginSpec::new("tag13", &[("aggregate", "tag, src_host"), ("pre_tag_filter", "1,3")]),
        PluginSpec::new("not6", &[("aggregate", "tag, dst_host"), ("pre_tag_filter", "-6")]),
        PluginSpec::new(
            "range",
            &[
                ("aggregate", "tag, tag2, dst_port"),
                ("pre_tag_filter", "0,2-7"),
                ("pre_tag2_filter", "20-21"),
            ],
        ),
        // post_tag / post_tag2: set after the filters, over the map's values.
        PluginSpec::new(
            "post",
            &[("aggregate", "tag, tag2, src_host"), ("pre_tag_filter", "1,2"), ("post_tag", "42")],
        ),
        PluginSpec::new("post2", &[("aggregate", "tag, tag2, dst_host"), ("post_tag2", "9")]),
    ]
}

fn label_plugins() -> Vec<PluginSpec> {
    vec![
        PluginSpec::new("labels", &[("aggregate", "label, src_host, dst_host")]),
        PluginSpec::new(
            "web",
            &[("aggregate", "label, dst_port"), ("pre_tag_label_filter", "web,inside")],
        ),
        PluginSpec::new("notother", &[("aggregate", "label"), ("pre_tag_label_filter", "-other")]),
    ]
}

fn global(dir: &std::path::Path, name: &str, map: &str) -> String {
    let path = dir.join(name);
    std::fs::write(&path, map).expect("map");
    format!("pre_tag_map: {}\n", path.display())
}

#[test]
fn pre_tag_map_matches_nfacctd() {
    if !available("nfacctd") {
        eprintln!("nfacctd or shared data absent: skipped");
        return;
    }
    let dir = tempfile::tempdir().expect("tmp");
    let mut failures = Vec::new();
    for capture in ["softflowd_v9", "pmacct_nfprobe_ipfix", "softflowd_v5"] {
        let g = global(dir.path(), "tags.map", TAGS);
        failures.extend(compare("nfacctd", capture, &g, &tag_plugins(), 300));
        let g = global(dir.path(), "labels.map", LABELS);
        failures.extend(compare("nfacctd", capture, &g, &label_plugins(), 300));
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn pre_tag_map_matches_sfacctd() {
    if !available("sfacctd") {
        eprintln!("sfacctd or shared data absent: skipped");
        return;
    }
    let dir = tempfile::tempdir().expect("tmp");
    let mut failures = Vec::new();
    let g = global(dir.path(), "tags.map", TAGS);
    failures.extend(compare("sfacctd", "pmacct_sfprobe", &g, &tag_plugins(), 300));
    let g = global(dir.path(), "labels.map", LABELS);
    failures.extend(compare("sfacctd", "pmacct_sfprobe", &g, &label_plugins(), 300));
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
