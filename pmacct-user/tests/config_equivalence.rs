//! A native TOML/YAML config and a pmacct `.conf` describing the same setup load to the same
//! `Config`; `--set` overrides; error messages name the key and its source.

use std::path::{Path, PathBuf};

use pmacct_user::config::{self, Config, ConfigError, PluginKind, PrintFormat, load::load_any};

const PMACCT_CONF: &str = "\
! same setup as NATIVE_TOML
daemonize: false
plugins: print[out], memory[mem]
aggregate: src_host, dst_host, proto
aggregate[mem]: src_host
print_output[out]: json
print_output_file[out]: /var/lib/pmacct/out-%Y%m%d-%H%M.json
print_refresh_time[out]: 300
print_history[out]: 300
print_history_roundoff[out]: m
imt_path[mem]: /run/pmacct/mem.pipe
pcap_interfaces_map: ifaces.map
sampling_rate: 10
xdp_action: drop
";

const IFACES_MAP: &str = "ifindex=1 ifname=eth0\nifindex=2 ifname=eth1\n";

const NATIVE_TOML: &str = r#"
[[interface]]
name = "eth0"
action = "drop"
sampling_rate = 10

[[interface]]
name = "eth1"
action = "drop"
sampling_rate = 10

[[plugin]]
name = "out"
type = "print"
aggregate = ["src_host", "dst_host", "proto"]
output = "json"
output_file = "/var/lib/pmacct/out-%Y%m%d-%H%M.json"
refresh_time = 300
history = "5m"
history_roundoff = "m"

[[plugin]]
name = "mem"
type = "memory"
aggregate = "src_host"
imt_path = "/run/pmacct/mem.pipe"
"#;

const NATIVE_YAML: &str = "
interface:
  - { name: eth0, action: drop, sampling_rate: 10 }
  - { name: eth1, action: drop, sampling_rate: 10 }
plugin:
  - name: out
    type: print
    aggregate: [src_host, dst_host, proto]
    output: json
    output_file: /var/lib/pmacct/out-%Y%m%d-%H%M.json
    refresh_time: 300
    history: 5m
    history_roundoff: m
  - { name: mem, type: memory, aggregate: [src_host], imt_path: /run/pmacct/mem.pipe }
";

fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, text).expect("write test file");
    path
}

fn set(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
    pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
}

#[test]
fn pmacct_conf_toml_and_yaml_are_equivalent() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "ifaces.map", IFACES_MAP);
    let conf = write(dir.path(), "pmacctd.conf", PMACCT_CONF);
    let toml = write(dir.path(), "pmacct-rs.toml", NATIVE_TOML);
    let yaml = write(dir.path(), "pmacct-rs.yaml", NATIVE_YAML);

    let (from_pmacct, warnings) = config::read_pmacct(&conf).unwrap();
    let from_toml = config::load(Some(&toml), &[]).unwrap();
    let from_yaml = config::load(Some(&yaml), &[]).unwrap();
    assert_eq!(from_pmacct, from_toml);
    assert_eq!(from_yaml, from_toml);
    assert!(warnings.iter().any(|w| w.contains("daemonize")), "{warnings:?}");

    // load_any routes .conf through the pmacct reader and still applies overrides.
    let (via_any, _) = load_any(Some(&conf), &set(&[("plugin.out.refresh_time", "60")])).unwrap();
    assert_eq!(via_any.plugins[0].refresh_time, 60);
}

#[test]
fn set_overrides_scalars_and_plugins_by_name_or_index() {
    let dir = tempfile::tempdir().unwrap();
    let toml = write(dir.path(), "c.toml", NATIVE_TOML);
    let cfg = config::load(
        Some(&toml),
        &set(&[
            ("daemon.metrics_listen", "0.0.0.0:9999"),
            ("xdp.max_flows", "1024"),
            ("plugin.out.output", "csv"),
            ("plugin.1.aggregate", "[dst_host, proto]"),
            ("interface.eth1.action", "pass"),
        ]),
    )
    .unwrap();
    assert_eq!(cfg.daemon.metrics_listen.as_deref(), Some("0.0.0.0:9999"));
    assert_eq!(cfg.xdp.max_flows, 1024);
    assert_eq!(cfg.plugins[0].output, PrintFormat::Csv);
    assert_eq!(cfg.plugins[1].aggregate, vec!["dst_host", "proto"]);
    assert_eq!(cfg.interfaces[1].action, config::XdpAction::Pass);
    assert_eq!(cfg.interfaces[0].action, config::XdpAction::Drop);

    let e = config::load(Some(&toml), &set(&[("plugin.nope.output", "csv")])).unwrap_err();
    assert!(e.to_string().contains("no `plugin` named or numbered `nope`"), "{e}");
}

#[test]
fn defaults_only_need_a_plugin() {
    let inline = "[{name = \"p\", type = \"print\", aggregate = \"src_host\"}]";
    let cfg = config::load(None, &set(&[("plugin", inline)])).unwrap();
    assert_eq!(cfg.plugins[0].kind, PluginKind::Print);
    assert_eq!(cfg.plugins[0].aggregate, vec!["src_host"]);
    assert_eq!(cfg.daemon, Config::default().daemon);
    let e = config::load(None, &[]).unwrap_err().to_string();
    assert!(e.contains("at least one plugin"), "{e}");
}

#[test]
fn type_errors_name_key_and_source() {
    let dir = tempfile::tempdir().unwrap();
    let toml = write(
        dir.path(),
        "bad.toml",
        "[daemon]\ndrain_interval_ms = \"soon\"\n[[plugin]]\nname = \"p\"\ntype = \"print\"\naggregate = []\n",
    );
    let e = config::load(Some(&toml), &[]).unwrap_err();
    assert!(matches!(e, ConfigError::Figment(_)));
    let msg = e.to_string();
    assert!(msg.contains("daemon.drain_interval_ms"), "{msg}");
    assert!(msg.contains("bad.toml"), "{msg}");

    let e = config::load(Some(&toml), &set(&[("daemon.drain_interval_ms", "fast")])).unwrap_err();
    let msg = e.to_string();
    assert!(msg.contains("daemon.drain_interval_ms") && msg.contains("--set"), "{msg}");

    let unknown = write(dir.path(), "unknown.toml", "[daemon]\nmetrics = \"x\"\n");
    let msg = config::load(Some(&unknown), &[]).unwrap_err().to_string();
    assert!(msg.contains("metrics") && msg.contains("unknown.toml"), "{msg}");
}

#[test]
fn validation_errors_name_key_value_and_expectation() {
    let dir = tempfile::tempdir().unwrap();
    let toml = write(
        dir.path(),
        "v.toml",
        "[[plugin]]\nname = \"p\"\ntype = \"print\"\naggregate = [\"src_host\", \"no_such_primitive\"]\nhistory = \"5x\"\n\
         [[plugin]]\nname = \"m\"\ntype = \"memory\"\naggregate = []\noutput_file = \"/tmp/f\"\n",
    );
    let msg = config::load(Some(&toml), &[]).unwrap_err().to_string();
    assert!(
        msg.contains("plugin[p].aggregate = \"no_such_primitive\": expected a known primitive"),
        "{msg}"
    );
    assert!(msg.contains("plugin[p].history = \"5x\""), "{msg}");
    assert!(msg.contains("plugin[m].output_file"), "{msg}");
}

#[test]
fn missing_file_is_an_error() {
    let e = config::load(Some(Path::new("/nonexistent/pmacct-rs.toml")), &[]).unwrap_err();
    assert!(matches!(e, ConfigError::Io { .. }), "{e}");
}

#[test]
fn shipped_configs_load() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..").join("deploy");
    let native = config::load(Some(&root.join("pmacct-rs.toml")), &[]).unwrap();
    assert!(native.plugins.iter().any(|p| p.kind == PluginKind::Print));
    assert!(native.plugins.iter().any(|p| p.kind == PluginKind::Memory));
    let (_pm, _warnings) =
        config::read_pmacct(&root.join("examples").join("pmacctd.conf")).unwrap();
    let _: Config = native;
}
