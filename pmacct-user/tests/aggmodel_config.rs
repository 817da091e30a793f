//! The aggregation-model keys (aggregate_filter, networks_file & co, pre_tag_map & filters,
//! print options) give the same internal config from a pmacct `.conf` and from native TOML.

use pmacct_user::config::{self, load::load_any};

#[test]
fn pmacct_conf_and_toml_agree_on_aggregation_model_keys() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    std::fs::write(d.join("nets.lst"), "65000,10.0.0.0/8\n").unwrap();
    std::fs::write(d.join("tags.map"), "set_tag=1 ip=10.0.0.1\n").unwrap();
    let conf = d.join("p.conf");
    std::fs::write(
        &conf,
        format!(
            "plugins: print[a], memory[b]\naggregate: src_net, dst_net, tag, label\n\
             aggregate_filter[a]: src net 10.0.0.0/8 and not port 22\n\
             networks_file: {d}/nets.lst\nnfacctd_net[a]: longest\nnfacctd_as: file\nnetworks_mask[b]: 16\n\
             networks_file_no_lpm[a]: true\npre_tag_map: {d}/tags.map\npre_tag_filter[a]: 1,5-9\n\
             pre_tag2_filter[b]: -3\npre_tag_label_filter[a]: red,-blue\nprint_output[a]: event_csv\n\
             print_output_separator[a]: ;\nprint_output_file_append[a]: true\nprint_markers[a]: true\n\
             print_latest_file[a]: {d}/latest\ntimestamps_since_epoch[a]: true\ntimestamps_utc: true\n\
             timestamps_secs[a]: true\nimt_path[b]: {d}/b.pipe\npcap_interface: lo\n",
            d = d.display()
        ),
    )
    .unwrap();
    let toml = d.join("p.toml");
    std::fs::write(
        &toml,
        format!(
            r#"[[interface]]
name = "lo"

[[plugin]]
name = "a"
type = "print"
aggregate = "src_net, dst_net, tag, label"
aggregate_filter = "src net 10.0.0.0/8 and not port 22"
output = "csv"
[plugin.networks]
file = "{d}/nets.lst"
net = "longest"
as = "file"
no_lpm = true
[plugin.pretag]
map = "{d}/tags.map"
tag_filter = "1,5-9"
label_filter = "red,-blue"
[plugin.print]
separator = ";"
append = true
markers = true
latest_file = "{d}/latest"
timestamps_since_epoch = true
timestamps_utc = true
timestamps_secs = true
event = true

[[plugin]]
name = "b"
type = "memory"
aggregate = ["src_net", "dst_net", "tag", "label"]
imt_path = "{d}/b.pipe"
[plugin.networks]
file = "{d}/nets.lst"
mask = 16
as = "file"
[plugin.pretag]
map = "{d}/tags.map"
tag2_filter = "-3"
"#,
            d = d.display()
        ),
    )
    .unwrap();
    let (from_conf, _) = load_any(Some(&conf), &[]).unwrap();
    let from_toml = config::load(Some(&toml), &[]).unwrap();
    assert_eq!(from_conf.plugins, from_toml.plugins);
}

/// Stitching, pro rating, `sum_*` and `flows`: pmacct syntax, native TOML and the TOML
/// `convert-config`'s serialisation gives all load to the same plugins.
#[test]
fn stitching_pro_rating_sums_agree_in_both_syntaxes() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let conf = d.join("p.conf");
    std::fs::write(
        &conf,
        "plugins: print[a], print[b], print[c]\naggregate[a]: src_host, flows\n\
         nfacctd_stitching[a]: true\naggregate[b]: dst_host\nprint_history[b]: 5m\n\
         nfacctd_pro_rating[b]: true\naggregate[c]: sum_port, flows\nsfacctd_stitching[c]: true\n\
         pcap_interface: lo\n",
    )
    .unwrap();
    let toml = d.join("p.toml");
    std::fs::write(
        &toml,
        r#"[[interface]]
name = "lo"

[[plugin]]
name = "a"
type = "print"
aggregate = ["src_host", "flows"]
stitching = true

[[plugin]]
name = "b"
type = "print"
aggregate = "dst_host"
history = "5m"
pro_rating = true

[[plugin]]
name = "c"
type = "print"
aggregate = "sum_port, flows"
stitching = true
"#,
    )
    .unwrap();
    let (from_conf, _) = load_any(Some(&conf), &[]).unwrap();
    let from_toml = config::load(Some(&toml), &[]).unwrap();
    assert_eq!(from_conf.plugins, from_toml.plugins);
    assert!(from_conf.plugins[0].stitching && from_conf.plugins[1].pro_rating);
    let converted = d.join("converted.toml");
    std::fs::write(&converted, toml::to_string_pretty(&from_conf).unwrap()).unwrap();
    assert_eq!(config::load(Some(&converted), &[]).unwrap().plugins, from_conf.plugins);

    // Both on one plugin: refused, as pmacct refuses them.
    std::fs::write(&conf, "plugins: print[a]\naggregate: proto\nnfacctd_stitching: true\nnfacctd_pro_rating: true\npcap_interface: lo\n").unwrap();
    let err = load_any(Some(&conf), &[]).and_then(|(c, _)| c.validate().map(|_| c));
    assert!(err.is_err(), "stitching with pro rating must be refused");
}

/// `aggregate_primitives`: the pmacct key (global, given after `aggregate`) and the native
/// per-plugin key give the same plugins; a name neither built in nor defined is an error naming
/// the line, and a bad entry in the file an error naming the file's line.
#[test]
fn aggregate_primitives_in_both_syntaxes() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    std::fs::write(
        d.join("prims.lst"),
        "name=l7\tfield_type=35632:118\tlen=2\tsemantics=u_int\nname=host\tfield_type=35632:188\tlen=vlen\tsemantics=str\n",
    )
    .unwrap();
    let conf = d.join("p.conf");
    std::fs::write(
        &conf,
        "plugins: print[a]\naggregate: src_host, l7, host\naggregate_primitives: prims.lst\npcap_interface: lo\n",
    )
    .unwrap();
    let toml = d.join("p.toml");
    std::fs::write(
        &toml,
        format!(
            "[[interface]]\nname = \"lo\"\n\n[[plugin]]\nname = \"a\"\ntype = \"print\"\n\
             aggregate = \"src_host, l7, host\"\naggregate_primitives = \"{}/prims.lst\"\n",
            d.display()
        ),
    )
    .unwrap();
    let (from_conf, _) = load_any(Some(&conf), &[]).unwrap();
    let from_toml = config::load(Some(&toml), &[]).unwrap();
    assert_eq!(from_conf.plugins, from_toml.plugins);
    from_toml.validate().unwrap();

    std::fs::write(&conf, "plugins: print[a]\naggregate: src_host, nope\naggregate_primitives: prims.lst\npcap_interface: lo\n").unwrap();
    let err = load_any(Some(&conf), &[]).unwrap_err().to_string();
    assert!(err.contains("p.conf:2") && err.contains("`nope`"), "{err}");

    std::fs::write(d.join("bad.lst"), "! x\nname=x field_type=1 len=3 semantics=nonsense\n")
        .unwrap();
    std::fs::write(&conf, "plugins: print[a]\naggregate: src_host\naggregate_primitives: bad.lst\npcap_interface: lo\n").unwrap();
    let err = load_any(Some(&conf), &[]).unwrap_err().to_string();
    assert!(err.contains("bad.lst:2") && err.contains("nonsense"), "{err}");
}
