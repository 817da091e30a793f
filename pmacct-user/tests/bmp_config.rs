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

    // Broker outputs: an empty name, variables with round-robin, a bad exchange type; a dump
    // to a broker alone satisfies dump_refresh_time.
    std::fs::write(
        &bad,
        "[bmp]
dump_refresh_time = 60
[bmp.msglog_amqp]
routing_key = \"\"
\
         exchange_type = \"bogus\"
[bmp.dump_kafka]
topic = \"d.$bmp_router\"
topic_rr = 2
",
    )
    .expect("write");
    let out = Command::new(BIN).arg("check-config").arg(&bad).output().expect("run");
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    for key in
        ["bmp.msglog_amqp.routing_key", "bmp.msglog_amqp.exchange_type", "bmp.dump_kafka.topic_rr"]
    {
        assert!(err.contains(key), "{key} not named in {err}");
    }
    assert!(!err.contains("bmp.dump_file"), "{err}");

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

/// `bmp_daemon_msglog_amqp_*`, `bmp_dump_kafka_*`, `bmp_dump_amqp_*` (pmacct 1.7.7's names):
/// each output turned on by its routing key / topic, the other keys mapped, `_retry`,
/// `_frame_max`, `_heartbeat_interval` accepted without effect; the same `Config` as the native
/// `[bmp.msglog_amqp]`, `[bmp.dump_kafka]`, `[bmp.dump_amqp]`; variables plus rr refused.
#[test]
fn msglog_and_dump_broker_keys() {
    let dir = tempfile::tempdir().expect("tmp");
    let conf = "bmp_daemon_msglog_amqp_routing_key: bmp.$bmp_router\n\
                bmp_daemon_msglog_amqp_exchange: bmpx\n\
                bmp_daemon_msglog_amqp_exchange_type: fanout\n\
                bmp_daemon_msglog_amqp_host: 10.0.0.5:5673\n\
                bmp_daemon_msglog_amqp_vhost: /bmp\n\
                bmp_daemon_msglog_amqp_user: u\n\
                bmp_daemon_msglog_amqp_passwd: p\n\
                bmp_daemon_msglog_amqp_persistent_msg: true\n\
                bmp_daemon_msglog_amqp_retry: 30\n\
                bmp_daemon_msglog_amqp_frame_max: 131072\n\
                bmp_dump_kafka_topic: dump.$peer_src_ip.%Y\n\
                bmp_dump_kafka_topic_rr: 0\n\
                bmp_dump_kafka_broker_host: 10.0.0.9\n\
                bmp_dump_kafka_broker_port: 9093\n\
                bmp_dump_kafka_partition_key: $bmp_router:$bmp_router_port\n\
                bmp_dump_amqp_routing_key: dump\n\
                bmp_dump_amqp_routing_key_rr: 4\n\
                bmp_dump_refresh_time: 60\n";
    let (pm, warnings) = pmacct(conf, dir.path(), Flavor::Pmbmpd);
    for key in ["bmp_daemon_msglog_amqp_retry", "bmp_daemon_msglog_amqp_frame_max"] {
        assert!(warnings.iter().any(|w| w.contains(key)), "{key}: {warnings:?}");
    }
    let toml = r#"
[bmp]
listen = "[::]:1790"
dump_refresh_time = 60
[bmp.msglog_amqp]
routing_key = "bmp.$bmp_router"
exchange = "bmpx"
exchange_type = "fanout"
host = "10.0.0.5:5673"
vhost = "/bmp"
user = "u"
password = "p"
persistent = true
[bmp.dump_kafka]
topic = "dump.$peer_src_ip.%Y"
broker_host = "10.0.0.9"
broker_port = 9093
partition_key = "$bmp_router:$bmp_router_port"
[bmp.dump_amqp]
routing_key = "dump"
routing_key_rr = 4
"#;
    let nat = native(toml, dir.path());
    assert_eq!(pm.bmp, nat.bmp);
    let b = pm.bmp.expect("bmp");
    assert!(b.msglog_kafka.is_none() && b.dump_file.is_none());
    assert_eq!(b.msglog_amqp.as_ref().map(|a| a.exchange_type.as_str()), Some("fanout"));
    // Keys of an output whose name is not set leave it off.
    let (pm, _) = pmacct("bmp_dump_amqp_exchange: x\n", dir.path(), Flavor::Pmbmpd);
    assert_eq!(pm.bmp.expect("bmp").dump_amqp, None);
    for bad in [
        "bmp_daemon_msglog_amqp_routing_key: b.$bmp_router\nbmp_daemon_msglog_amqp_routing_key_rr: 2\n",
        "bmp_dump_kafka_topic: d.$bmp_router\nbmp_dump_kafka_topic_rr: 2\n",
        "bmp_dump_amqp_routing_key: d\nbmp_dump_amqp_exchange_type: bogus\n",
    ] {
        let err = parse_pmacct_as(bad, dir.path(), Flavor::Pmbmpd).unwrap_err().to_string();
        let key = bad.lines().nth(1).and_then(|l| l.split(':').next()).expect("key");
        assert!(err.contains(key), "{key} not named in {err}");
    }
}
