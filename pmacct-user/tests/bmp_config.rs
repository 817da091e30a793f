//! BMP daemon settings: a pmbmpd `.conf`, an nfacctd `.conf` with `bmp_daemon: true` and the
//! native `[bmp]` TOML section give the same `Config`; bad values are errors naming the key;
//! `check-config` validates the section.

use std::path::Path;
use std::process::Command;

use pmacct_user::config::pmacct::{Flavor, parse_pmacct_as};
use pmacct_user::config::{self, BmpConfig, Config};

const BIN: &str = env!("CARGO_BIN_EXE_pmacct-rs");

fn pmacct(text: &str, dir: &Path, flavor: Flavor) -> (Config, Vec<String>) {
    parse_pmacct_as(text, dir, flavor).expect("pmacct config")
}

fn native(text: &str, dir: &Path) -> Config {
    let p = dir.join("native.toml");
    std::fs::write(&p, text).expect("write");
    config::load(Some(&p), &[]).expect("native config")
}

#[test]
fn pmbmpd_conf_equals_native_toml() {
    let dir = tempfile::tempdir().expect("tempdir");
    let d = dir.path();
    std::fs::write(d.join("allow.lst"), "127.0.0.1\n10.0.0.0/8\n").expect("allow");
    let conf = "\
! pmbmpd.conf
daemonize: false
bmp_daemon_ip: 127.0.0.1
bmp_daemon_port: 11790
bmp_daemon_max_peers: 7
bmp_daemon_allow_file: allow.lst
bmp_daemon_msglog_file: /var/log/bmp/$peer_src_ip.json
bmp_daemon_msglog_output: json
bmp_dump_file: /var/log/bmp/dump-$peer_src_ip-%Y%m%d-%H%M.json
bmp_dump_refresh_time: 300
bmp_table_per_peer_buckets: 12
";
    let (pm, warnings) = pmacct(conf, d, Flavor::Pmbmpd);
    let toml = format!(
        r#"
[daemon]
[bmp]
listen = "127.0.0.1:11790"
max_peers = 7
allow_file = "{}"
msglog_file = "/var/log/bmp/$peer_src_ip.json"
dump_file = "/var/log/bmp/dump-$peer_src_ip-%Y%m%d-%H%M.json"
dump_refresh_time = 300
"#,
        d.join("allow.lst").display()
    );
    let nat = native(&toml, d);
    assert_eq!(pm, nat);
    assert!(pm.plugins.is_empty(), "pmbmpd runs no plugins");
    assert!(
        warnings.iter().any(|w| w.contains("bmp_table_per_peer_buckets")),
        "no-effect key noted: {warnings:?}"
    );
}

#[test]
fn nfacctd_with_bmp_daemon_thread() {
    let dir = tempfile::tempdir().expect("tempdir");
    let conf = "\
plugins: print[out]
aggregate: src_host, dst_host
nfacctd_port: 2100
bmp_daemon: true
bmp_daemon_msglog_file: /tmp/bmp.json
";
    let (pm, _) = pmacct(conf, dir.path(), Flavor::Nfacctd);
    let bmp = pm.bmp.clone().expect("bmp section");
    assert_eq!(
        bmp,
        BmpConfig {
            listen: "[::]:1790".into(),
            max_peers: 4,
            msglog_file: Some("/tmp/bmp.json".into()),
            ..BmpConfig::default()
        }
    );
    assert_eq!(pm.collectors.len(), 1);
    assert_eq!(pm.collectors[0].listen, ["[::]:2100"]);
    // Same without bmp_daemon: the keys are read, the daemon stays off, with a warning.
    let (off, warnings) =
        pmacct(&conf.replace("bmp_daemon: true\n", ""), dir.path(), Flavor::Nfacctd);
    assert_eq!(off.bmp, None);
    assert!(warnings.iter().any(|w| w.contains("bmp_daemon: true")), "{warnings:?}");
    let (off, _) =
        pmacct(&conf.replace("bmp_daemon: true", "bmp_daemon: false"), dir.path(), Flavor::Nfacctd);
    assert_eq!(off.bmp, None);
    // An IPv6 bind address.
    let (v6, _) = pmacct("bmp_daemon_ip: ::1\n", dir.path(), Flavor::Pmbmpd);
    assert_eq!(v6.bmp.expect("bmp").listen, "[::1]:1790");
}

#[test]
fn bad_bmp_values_name_the_key() {
    let dir = tempfile::tempdir().expect("tempdir");
    for (line, key) in [
        ("bmp_daemon_port: 0", "bmp_daemon_port"),
        ("bmp_daemon_port: 70000", "bmp_daemon_port"),
        ("bmp_daemon_max_peers: 0", "bmp_daemon_max_peers"),
        ("bmp_daemon: yes", "bmp_daemon"),
        ("bmp_dump_refresh_time: 5", "bmp_dump_refresh_time"),
        ("bmp_daemon_msglog_output: avro", "bmp_daemon_msglog_output"),
        ("bmp_dump_output: avro_json", "bmp_dump_output"),
    ] {
        let err = parse_pmacct_as(&format!("{line}\n"), dir.path(), Flavor::Pmbmpd)
            .expect_err(line)
            .to_string();
        assert!(err.contains(key), "{line}: {err}");
    }
    // The listen address is checked whatever the source.
    let err = parse_pmacct_as("bmp_daemon_ip: not-an-ip\n", dir.path(), Flavor::Pmbmpd)
        .expect_err("bad ip")
        .to_string();
    assert!(err.contains("bmp.listen"), "{err}");
    let err = parse_pmacct_as("bmp_daemon_allow_file: missing.lst\n", dir.path(), Flavor::Pmbmpd)
        .expect_err("missing allow file")
        .to_string();
    assert!(err.contains("bmp.allow_file"), "{err}");
}

#[test]
fn check_config_validates_the_bmp_section() {
    let dir = tempfile::tempdir().expect("tempdir");
    let good = dir.path().join("good.toml");
    std::fs::write(&good, "[bmp]\nlisten = \"127.0.0.1:1790\"\nmsglog_file = \"/tmp/x.json\"\n")
        .expect("write");
    let out = Command::new(BIN).arg("check-config").arg(&good).output().expect("run");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("[bmp]") && text.contains("max_peers = 4"), "{text}");

    let bad = dir.path().join("bad.toml");
    std::fs::write(&bad, "[bmp]\nlisten = \"localhost\"\nmax_peers = 0\ndump_refresh_time = 60\n")
        .expect("write");
    let out = Command::new(BIN).arg("check-config").arg(&bad).output().expect("run");
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    for key in ["bmp.listen", "bmp.max_peers", "bmp.dump_file"] {
        assert!(err.contains(key), "{key} not named in {err}");
    }

    let conf = dir.path().join("pmbmpd.conf");
    std::fs::write(&conf, "bmp_daemon: true\nbmp_daemon_port: 99999\n").expect("write");
    let out = Command::new(BIN).arg("check-config").arg(&conf).output().expect("run");
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("bmp_daemon_port") && err.contains("99999"), "{err}");
}

/// `bmp_daemon_msglog_kafka_*` (pmbmpd): the topic turns the Kafka msglog on, with the broker,
/// rr and config file keys; `_retry` is accepted without effect; variables plus rr refused.
#[test]
fn msglog_to_kafka_keys() {
    let dir = tempfile::tempdir().expect("tmp");
    let conf = "bmp_daemon_msglog_kafka_topic: bmp.$peer_src_ip\n\
                bmp_daemon_msglog_kafka_broker_host: 10.0.0.9\n\
                bmp_daemon_msglog_kafka_broker_port: 9093\n\
                bmp_daemon_msglog_kafka_config_file: rdkafka.conf\n\
                bmp_daemon_msglog_kafka_retry: 30\n";
    let (pm, warnings) = pmacct(conf, dir.path(), Flavor::Pmbmpd);
    let k = pm.bmp.expect("bmp").msglog_kafka.expect("msglog_kafka");
    assert_eq!((k.topic.as_str(), k.bootstrap().as_str()), ("bmp.$peer_src_ip", "10.0.0.9:9093"));
    assert_eq!(k.config_file, Some(dir.path().join("rdkafka.conf")));
    assert!(warnings.iter().any(|w| w.contains("bmp_daemon_msglog_kafka_retry")), "{warnings:?}");
    let (pm, _) = pmacct("bmp_daemon_msglog_kafka_broker_port: 9093\n", dir.path(), Flavor::Pmbmpd);
    assert_eq!(pm.bmp.expect("bmp").msglog_kafka, None, "no topic: off");
    let err = parse_pmacct_as(
        "bmp_daemon_msglog_kafka_topic: b.$bmp_router\nbmp_daemon_msglog_kafka_topic_rr: 2\n",
        dir.path(),
        Flavor::Pmbmpd,
    )
    .unwrap_err()
    .to_string();
    assert!(err.contains("bmp_daemon_msglog_kafka_topic_rr"), "{err}");
}
