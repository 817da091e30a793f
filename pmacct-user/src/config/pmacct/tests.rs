//! Unit tests of the pmacct reader.

use std::path::Path;

use super::*;
use crate::config::{AttachMode, InterfaceConfig, PrintFormat, SavefileConfig, XdpAction};

fn parse(text: &str) -> Result<(Config, Vec<String>), ConfigError> {
    parse_pmacct(text, Path::new("."))
}

fn err(text: &str) -> String {
    match parse(text) {
        Ok(c) => panic!("expected an error, got {c:?}"),
        Err(e) => e.to_string(),
    }
}

#[test]
fn comments_blanks_case_and_colons_in_values() {
    let (cfg, warnings) = parse(
        "! comment\n# another\n\n  PLUGINS : print[a]\nAggregate: SRC_HOST, dst_host\n\
         print_output_file[a]: /var/log/x:%Y.json\npcap_interface: eth0\n",
    )
    .unwrap();
    assert!(warnings.is_empty(), "{warnings:?}");
    let p = &cfg.plugins[0];
    assert_eq!(p.name, "a");
    assert_eq!(p.aggregate, vec!["src_host", "dst_host"]);
    assert_eq!(p.output_file.as_deref(), Some("/var/log/x:%Y.json"));
    assert_eq!(cfg.interfaces[0].name, "eth0");
}

#[test]
fn unnamed_plugins_are_default_type() {
    let (cfg, _) = parse("plugins: print, memory\npcap_interface: lo\n").unwrap();
    let names: Vec<_> = cfg.plugins.iter().map(|p| p.name.as_str()).collect();
    assert_eq!(names, ["default_print", "default_memory"]);
}

#[test]
fn no_plugins_line_defaults_to_memory() {
    let (cfg, warnings) = parse("pcap_interface: lo\n").unwrap();
    assert_eq!(cfg.plugins, vec![PluginConfig::new("default_memory", PluginKind::Memory)]);
    assert!(warnings.iter().any(|w| w.contains("default_memory")));
}

#[test]
fn plugin_scoping_and_later_lines_win() {
    let (cfg, _) = parse(
        "plugins: print[a], print[b], memory[m]\n\
         aggregate: src_host\n\
         aggregate[b]: dst_host\n\
         print_refresh_time: 30\n\
         print_refresh_time[a]: 10\n\
         print_refresh_time[a]: 20\n\
         print_output: csv\n\
         imt_path: /tmp/m.pipe\n\
         pcap_interface: lo\n",
    )
    .unwrap();
    let [a, b, m] = &cfg.plugins[..] else { panic!() };
    assert_eq!(a.aggregate, vec!["src_host"]);
    assert_eq!(b.aggregate, vec!["dst_host"]);
    assert_eq!(m.aggregate, vec!["src_host"]);
    assert_eq!((a.refresh_time, b.refresh_time), (20, 30));
    // print keys skip memory plugins, imt keys skip print plugins.
    assert_eq!(m.refresh_time, 60);
    assert_eq!((a.output, m.output), (PrintFormat::Csv, PrintFormat::Formatted));
    assert_eq!(m.imt_path.as_deref(), Some(Path::new("/tmp/m.pipe")));
    assert_eq!(a.imt_path, None);
}

#[test]
fn global_after_named_overwrites_like_pmacct() {
    let (cfg, _) = parse(
        "plugins: print[a]\naggregate[a]: src_host\naggregate: dst_host\npcap_interface: lo\n",
    )
    .unwrap();
    assert_eq!(cfg.plugins[0].aggregate, vec!["dst_host"]);
}

#[test]
fn sql_aliases_and_history_seconds() {
    let (cfg, _) = parse(
        "plugins: print\nsql_refresh_time: 300\nsql_history: 300\nsql_history_roundoff: m\npcap_interface: lo\n",
    )
    .unwrap();
    let p = &cfg.plugins[0];
    assert_eq!(p.refresh_time, 300);
    assert_eq!(p.history.as_deref(), Some("5m"));
    assert_eq!(p.history_roundoff.as_deref(), Some("m"));
    assert!(err("plugins: print\nprint_history: 90\n").contains("whole minutes"));
}

#[test]
fn savefile_and_sampling() {
    let (cfg, warnings) = parse(
        "plugins: print\npcap_savefile: /tmp/x.pcap\npcap_savefile_wait: true\n\
         pcap_savefile_replay: 3\nsampling_rate: 10\npcap_interface: eth1\nxdp_action: drop\n",
    )
    .unwrap();
    assert_eq!(
        cfg.savefile,
        Some(SavefileConfig {
            path: "/tmp/x.pcap".into(),
            kind: Default::default(),
            wait: true,
            replay: 3,
            sampling_rate: 10,
            delay_secs: 0,
        })
    );
    assert_eq!(
        cfg.interfaces,
        vec![InterfaceConfig {
            name: "eth1".into(),
            mode: AttachMode::Auto,
            action: XdpAction::Drop,
            sampling_rate: 10
        }]
    );
    assert!(warnings.iter().any(|w| w.contains("renormalises")));
}

#[test]
fn interfaces_map_relative_to_base_dir() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("ifaces.map"),
        "! map\nifindex=100\tifname=eth0\tdirection=in\nifname=eth1\n",
    )
    .unwrap();
    let (cfg, warnings) =
        parse_pmacct("plugins: print\npcap_interfaces_map: ifaces.map\n", dir.path()).unwrap();
    let names: Vec<_> = cfg.interfaces.iter().map(|i| i.name.as_str()).collect();
    assert_eq!(names, ["eth0", "eth1"]);
    assert!(warnings.iter().any(|w| w.contains("ifindex/direction")));
    std::fs::write(dir.path().join("bad.map"), "ifindex=x ifname=eth0\n").unwrap();
    let e = parse_pmacct("plugins: print\npcap_interfaces_map: bad.map\n", dir.path())
        .unwrap_err()
        .to_string();
    assert!(e.contains("bad.map:1: ifindex"), "{e}");
}

#[test]
fn unimplemented_keys_in_one_warning_and_notes() {
    let (_, warnings) = parse(
        "plugins: print\npcap_interface: lo\ndaemonize: true\nplugin_pipe_size: 1024000\n\
         sampling_map: /x\nsql_table: acct\n",
    )
    .unwrap();
    let ignored: Vec<_> = warnings.iter().filter(|w| w.contains("not implemented")).collect();
    assert_eq!(ignored.len(), 1, "{warnings:?}");
    assert!(
        ignored[0].contains("sampling_map (line 5)") && ignored[0].contains("sql_table (line 6)")
    );
    assert!(warnings.iter().any(|w| w.contains("line 3: `daemonize")));
    assert!(warnings.iter().any(|w| w.contains("line 4: `plugin_pipe_size")));
}

#[test]
fn errors_name_key_value_and_line() {
    let e = err("plugins: print\n\naggregate: src_host, no_such_primitive\n");
    assert!(
        e.contains(":3: aggregate: \"src_host, no_such_primitive\"")
            && e.contains("`no_such_primitive`"),
        "{e}"
    );
    let e = err("plugins: print, tee[t]\n");
    assert!(e.contains(":1: plugins: \"tee[t]\"") && e.contains("not supported"), "{e}");
    let e = err("plugins: bogus\n");
    assert!(e.contains("unknown plugin type `bogus`"), "{e}");
    let e = err("plugins: print\nprint_output: xml\n");
    assert!(e.contains(":2: print_output: \"xml\"") && e.contains("unknown"), "{e}");
    let e = err("plugins: print\nprint_output: avro\n");
    assert!(e.contains("not supported yet"), "{e}");
    let e = err("plugins: print\nno colon here\n");
    assert!(e.contains(":2:") && e.contains("expected `key: value`"), "{e}");
    let e = err("plugins: print\nsampling_rate: 0\n");
    assert!(e.contains(":2: sampling_rate: \"0\"") && e.contains(">= 1"), "{e}");
    let e = err("plugins: print\npcap_filter: net 10.0.0.0/8\n");
    assert!(e.contains(":2: pcap_filter"), "{e}");
    let e = err("plugins: print[a], print[a]\n");
    assert!(e.contains("declared twice"), "{e}");
    let e = err("plugins: print\naggregate[: src_host\n");
    assert!(e.contains(":2:") && e.contains("syntax error"), "{e}");
}

#[test]
fn unknown_plugin_name_warns() {
    let (_, warnings) =
        parse("plugins: print[a]\npcap_interface: lo\naggregate[zz]: src_host\n").unwrap();
    assert!(warnings.iter().any(|w| w.contains("no plugin named `zz`")), "{warnings:?}");
}

#[test]
fn nfacctd_and_sfacctd_flavors() {
    use crate::config::pmacct::{Flavor, parse_pmacct_as};
    use crate::config::{CollectorKind, SavefileKind};
    let text = "plugins: print[p]\naggregate[p]: src_host\nnfacctd_port: 2055\nnfacctd_ip: 127.0.0.1\n\
                nfacctd_time_new: true\nnfacctd_renormalize: true\nnfacctd_pipe_size: 8388608\n";
    let (cfg, _) = parse_pmacct_as(text, Path::new("/etc"), Flavor::Nfacctd).unwrap();
    assert_eq!(cfg.collectors.len(), 1);
    let c = &cfg.collectors[0];
    assert_eq!(c.kind, CollectorKind::Netflow);
    assert_eq!(c.listen, vec!["127.0.0.1:2055".to_string()]);
    assert!(c.time_new && c.renormalize);
    assert_eq!(c.recv_buffer_bytes, 8_388_608, "nfacctd_pipe_size is the socket buffer");

    let text = "plugins: print[p]\naggregate[p]: src_host\npcap_savefile: /tmp/x.pcap\n";
    let (cfg, _) = parse_pmacct_as(text, Path::new("/etc"), Flavor::Sfacctd).unwrap();
    assert_eq!(cfg.savefile.as_ref().map(|s| s.kind), Some(SavefileKind::Sflow));
    assert_eq!(cfg.collectors[0].kind, CollectorKind::Sflow);
    assert!(cfg.collectors[0].listen.is_empty(), "a capture replaces the network");

    let (cfg, _) = parse_pmacct_as(
        "plugins: print[p]\naggregate[p]: src_host\n",
        Path::new("/"),
        Flavor::Sfacctd,
    )
    .unwrap();
    assert_eq!(cfg.collectors[0].listen, vec!["[::]:6343".to_string()]);

    let err =
        parse_pmacct_as("nfacctd_port: 70000\n", Path::new("/"), Flavor::Nfacctd).unwrap_err();
    assert!(err.to_string().contains("nfacctd_port"), "{err}");
    let err =
        parse_pmacct_as("sfacctd_pipe_size: lots\n", Path::new("/"), Flavor::Sfacctd).unwrap_err();
    assert!(err.to_string().contains("sfacctd_pipe_size"), "{err}");
}

#[test]
fn aggregate_filter_per_plugin_global_ignored_bad_one_named() {
    let (c, w) = parse_pmacct(
        "plugins: print[a], print[b]\naggregate: src_host\naggregate_filter[a]: src net 10.0.0.0/8 and tcp\naggregate_filter: udp\n",
        Path::new("."),
    )
    .unwrap();
    assert_eq!(c.plugins[0].aggregate_filter.as_deref(), Some("src net 10.0.0.0/8 and tcp"));
    assert_eq!(c.plugins[1].aggregate_filter, None);
    assert!(w.iter().any(|w| w.contains("line 4") && w.contains("cannot be global")), "{w:?}");
    let e = err("plugins: print[a]\naggregate_filter[a]: tcp[13] & 2 != 0\n");
    assert!(e.contains(":2: aggregate_filter") && e.contains("`[` at position 3"), "{e}");
}

#[test]
fn networks_keys_per_plugin_and_global() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("nets.lst"), "65000,10.0.0.0/8\n").unwrap();
    let (c, _) = parse_pmacct(
        "plugins: print[a], print[b]\naggregate: src_net\nnetworks_file: nets.lst\n\
         nfacctd_net[a]: file\nnfacctd_as: Longest\nnetworks_mask[b]: 24\nnetworks_file_no_lpm[b]: true\n",
        dir.path(),
    )
    .unwrap();
    let (a, b) = (&c.plugins[0].networks, &c.plugins[1].networks);
    assert_eq!(a.file.as_deref(), Some(dir.path().join("nets.lst").as_path()));
    assert_eq!(
        (a.net.as_deref(), a.asn.as_deref(), a.mask, a.no_lpm),
        (Some("file"), Some("longest"), None, false)
    );
    assert_eq!((b.net.as_deref(), b.mask, b.no_lpm), (None, Some(24), true));
    assert_eq!(b.file, a.file);
    let e = err("plugins: print\nnfacctd_net: igp\n");
    assert!(e.contains(":2: nfacctd_net") && e.contains("IS-IS"), "{e}");
    let e = err("plugins: print\nnfacctd_net: bmp\n");
    assert!(e.contains("bmp_daemon"), "{e}");
    let e = err("plugins: print\nnetworks_file: /nonexistent/nets\n");
    assert!(e.contains(":2: networks_file") && e.contains("not found"), "{e}");
    let e = err("plugins: print\nnetworks_file_filter: maybe\n");
    assert!(e.contains(":2: networks_file_filter"), "{e}");
}

#[test]
fn geoipv2_file_is_global_and_must_open() {
    let db = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/geoip");
    let (c, w) = parse_pmacct(
        "plugins: print[a], print[b]\naggregate: src_host_country\n\
         geoipv2_file[a]: GeoIP2-City-Test.mmdb\n",
        &db,
    )
    .unwrap();
    let want = db.join("GeoIP2-City-Test.mmdb");
    assert!(c.plugins.iter().all(|p| p.geoipv2_file.as_deref() == Some(want.as_path())));
    assert!(w.iter().any(|w| w.contains("geoipv2_file[a]")), "{w:?}");
    let e = err("plugins: print\ngeoipv2_file: /nonexistent/geo.mmdb\n");
    assert!(e.contains(":2: geoipv2_file"), "{e}");
    let e = err("plugins: print\ngeoipv2_file: Cargo.toml\n");
    assert!(e.contains(":2: geoipv2_file"), "{e}");
}

#[test]
fn rpki_keys() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("roas.json");
    std::fs::write(&file, r#"{"roas": []}"#).unwrap();
    let text = format!(
        "plugins: print[a]\naggregate[a]: src_roa, dst_roa, med\nbgp_src_roa_type: bgp\n\
         rpki_roas_file: {}\nrpki_rtr_cache_version: 1\n",
        file.display()
    );
    let (c, warnings) = parse(&text).unwrap();
    let b = &c.plugins[0].bgp;
    assert!(b.src_roa);
    assert_eq!(b.roas_file.as_deref(), Some(file.as_path()));
    assert!(warnings.iter().any(|w| w.contains("rpki_rtr_cache_version")), "{warnings:?}");
    assert!(err("plugins: print\nrpki_rtr_cache: 127.0.0.1:323\n").contains("RPKI-RTR"));
    std::fs::write(&file, "[]").unwrap();
    assert!(parse(&text).is_err(), "a file without `roas` is refused");
}

#[test]
fn class_needs_nfacctd_elsewhere_it_is_left_out_with_a_warning() {
    use crate::config::pmacct::{Flavor, parse_pmacct_as};
    let text = "plugins: print[a]\naggregate[a]: src_host, class\n";
    let (c, w) = parse_pmacct_as(text, Path::new("/"), Flavor::Nfacctd).unwrap();
    assert_eq!(c.plugins[0].aggregate, ["src_host", "class"]);
    assert!(!w.iter().any(|w| w.contains("nDPI")), "{w:?}");
    for flavor in [Flavor::Sfacctd, Flavor::Pmacctd] {
        let (c, w) = parse_pmacct_as(text, Path::new("/"), flavor).unwrap();
        assert_eq!(c.plugins[0].aggregate, ["src_host"], "{flavor:?}");
        assert!(w.iter().any(|w| w.contains("line 2") && w.contains("nDPI")), "{w:?}");
    }
}
