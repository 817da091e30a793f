//! The Kafka sink against a real broker (`tansu`, started by each test on a free port): an
//! IPFIX capture through `pmacct-rs nfacctd -f` with a print plugin and a kafka plugin of the
//! same aggregate gives one message per aggregate, each the print plugin's JSON line with
//! pmacct's `writer_id`; topic and partition-key variables (`pre_tag_map` tags, `post_tag`),
//! `kafka_topic_rr` and `kafka_partition` put each message where pmacct would.

mod daemon;
mod tansu_support;

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::Command;

use daemon::{BIN, shared};
use tansu_support::{Record, Tansu};

const AGGREGATE: &str = "src_host, dst_host, src_port, dst_port, proto, tos";
const CAPTURE: &str = "exports/pmacct_nfprobe_ipfix.pcap";

/// A pmacct config reading the capture: `plugins` and `aggregate` as given, the print plugin
/// `p` (if named in `plugins`) writing JSON to `print.json`, the kafka plugin `k` producing to
/// `tansu`; `extra` lines appended.
fn conf(dir: &Path, tansu: &Tansu, plugins: &str, aggregate: &str, extra: &str) -> PathBuf {
    let text = format!(
        "daemonize: false\npcap_savefile: {}\npcap_savefile_wait: false\nplugins: {plugins}\n\
         aggregate: {aggregate}\nprint_output[p]: json\nprint_output_file[p]: {}\n\
         print_refresh_time[p]: 86400\nkafka_refresh_time[k]: 86400\n\
         kafka_broker_host[k]: 127.0.0.1\nkafka_broker_port[k]: {}\nmetrics_listen: none\n{extra}",
        shared(CAPTURE).display(),
        dir.join("print.json").display(),
        tansu.port,
    );
    let path = dir.join("nfacctd.conf");
    std::fs::write(&path, text).expect("conf");
    path
}

fn run(conf: &Path) {
    let out = Command::new(BIN).arg("nfacctd").arg("-f").arg(conf).output().expect("run");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
}

fn printed(dir: &Path) -> Vec<String> {
    let text = std::fs::read_to_string(dir.join("print.json")).expect("print output");
    text.lines().map(str::to_string).collect()
}

/// The message without `writer_id` (checked to be `k/<pid>`), re-serialized, and its pid.
fn without_writer(payload: &str) -> (String, String) {
    let mut v: serde_json::Value = serde_json::from_str(payload).expect("JSON message");
    let w = v.as_object_mut().and_then(|o| o.remove("writer_id")).expect("writer_id");
    let w = w.as_str().expect("writer_id string").to_string();
    let pid = w.strip_prefix("k/").expect("k/<pid>");
    assert!(pid.parse::<u32>().is_ok(), "{w}");
    (v.to_string(), pid.to_string())
}

fn canonical(line: &str) -> String {
    serde_json::from_str::<serde_json::Value>(line).expect("JSON line").to_string()
}

/// Every aggregate is one message, byte for byte the print plugin's line with `writer_id`
/// added after the counters; compared record by record (sorted, duplicates would show).
#[test]
fn kafka_messages_are_the_print_plugins_json() {
    let tansu = Tansu::start();
    let topic = format!("pmrs_e2e_{}", std::process::id());
    tansu.create_topics(&[&topic], 1);
    let dir = tempfile::tempdir().expect("tmp");
    let extra = format!("kafka_topic[k]: {topic}\n");
    run(&conf(dir.path(), &tansu, "print[p], kafka[k]", AGGREGATE, &extra));
    let got = tansu.consume(&topic, 1);
    let mut want = printed(dir.path());
    assert!(want.len() > 100, "{} rows printed", want.len());
    let pid = without_writer(&got[0].payload).1;
    let suffix = format!(", \"writer_id\": \"k/{pid}\"}}");
    let mut stripped: Vec<String> = got
        .iter()
        .map(|r| {
            let body = r.payload.strip_suffix(&suffix).unwrap_or_else(|| panic!("{}", r.payload));
            assert_eq!(r.key, None, "no kafka_partition_key: no key");
            format!("{body}}}")
        })
        .collect();
    want.sort();
    stripped.sort();
    eprintln!("{} aggregates printed, {} messages consumed", want.len(), got.len());
    assert_eq!(stripped.len(), want.len(), "one message per aggregate");
    assert_eq!(stripped, want);
}

/// `kafka_topic` with `$peer_src_ip`, `$tag2` (from a `pre_tag_map`: TCP 1, UDP 2, else 0)
/// and `$post_tag`, `kafka_partition_key` with `$src_host` and `$src_port`: each message in the
/// topic of its own exporter (dots as `_`, as pmacct writes them) and tag2, keyed by its own
/// source; `post_tag` is also the `tag` of every aggregate.
#[test]
fn topic_and_key_variables() {
    let tansu = Tansu::start();
    let base = format!("pmrs_var_{}", std::process::id());
    let mut exporters = BTreeSet::new();
    pmacct_user::input::datagram::read_datagrams(&shared(CAPTURE), &[], |d| {
        exporters.insert(d.src.ip());
    })
    .expect("capture");
    let topic_of = |ip: &str, tag2: u64| format!("{base}.{}.{tag2}.7", ip.replace(['.', ':'], "_"));
    let topics: Vec<String> =
        exporters.iter().flat_map(|ip| (0..3).map(move |t| topic_of(&ip.to_string(), t))).collect();
    tansu.create_topics(&topics.iter().map(String::as_str).collect::<Vec<_>>(), 2);
    let dir = tempfile::tempdir().expect("tmp");
    std::fs::write(
        dir.path().join("tags.map"),
        "set_tag2=1 filter='tcp'\nset_tag2=2 filter='udp'\n",
    )
    .expect("map");
    let extra = format!(
        "kafka_topic[k]: {base}.$peer_src_ip.$tag2.$post_tag\n\
         kafka_partition_key[k]: $src_host:$src_port\npost_tag: 7\npre_tag_map: tags.map\n"
    );
    let aggregate = format!("peer_src_ip, tag, tag2, {AGGREGATE}");
    run(&conf(dir.path(), &tansu, "print[p], kafka[k]", &aggregate, &extra));
    let want: BTreeSet<String> = printed(dir.path()).iter().map(|l| canonical(l)).collect();
    assert!(want.len() > 100, "{} rows printed", want.len());
    let mut got = BTreeSet::new();
    let mut per_topic = BTreeMap::new();
    for t in &topics {
        for Record { topic, key, payload, .. } in tansu.consume(t, 2) {
            let (obj, _) = without_writer(&payload);
            let v: serde_json::Value = serde_json::from_str(&obj).expect("JSON");
            assert_eq!(v["tag"], 7, "post_tag: {obj}");
            let tag2 = v["tag2"].as_u64().expect("tag2");
            assert_eq!(topic, topic_of(v["peer_ip_src"].as_str().expect("peer_ip_src"), tag2));
            let src = v["ip_src"].as_str().expect("ip_src").replace(['.', ':'], "_");
            assert_eq!(key, Some(format!("{src}:{}", v["port_src"])));
            *per_topic.entry(topic).or_insert(0) += 1;
            assert!(got.insert(obj), "duplicate message");
        }
    }
    eprintln!("{} exporters, messages per topic: {per_topic:?}", exporters.len());
    assert!(per_topic.len() >= 2, "{per_topic:?}");
    assert_eq!(got, want);
}

/// `kafka_topic_rr: 3`: message k goes to `<topic>_<k mod 3>`; `kafka_partition: 1`: all to
/// partition 1 of each.
#[test]
fn topic_round_robin_to_a_fixed_partition() {
    let tansu = Tansu::start();
    let base = format!("pmrs_rr_{}", std::process::id());
    let topics: Vec<String> = (0..3).map(|n| format!("{base}_{n}")).collect();
    tansu.create_topics(&topics.iter().map(String::as_str).collect::<Vec<_>>(), 2);
    let dir = tempfile::tempdir().expect("tmp");
    let extra = format!("kafka_topic[k]: {base}\nkafka_topic_rr[k]: 3\nkafka_partition[k]: 1\n");
    run(&conf(dir.path(), &tansu, "print[p], kafka[k]", AGGREGATE, &extra));
    let want: BTreeSet<String> = printed(dir.path()).iter().map(|l| canonical(l)).collect();
    let mut got = BTreeSet::new();
    let mut counts = Vec::new();
    for t in &topics {
        let recs = tansu.consume(t, 2);
        assert!(recs.iter().all(|r| r.partition == 1), "{t}: not all in partition 1");
        counts.push(recs.len());
        got.extend(recs.iter().map(|r| without_writer(&r.payload).0));
    }
    eprintln!("messages per topic: {counts:?}");
    let (min, max) = (counts.iter().min().copied(), counts.iter().max().copied());
    assert!(max.zip(min).is_some_and(|(a, b)| a - b <= 1), "{counts:?}");
    assert_eq!(got, want);
}

/// `kafka_multi_values: 4096`: newline-terminated objects packed under 4096 bytes per message;
/// together exactly the print plugin's rows.
#[test]
fn multi_values_pack_objects_per_message() {
    let tansu = Tansu::start();
    let topic = format!("pmrs_mv_{}", std::process::id());
    tansu.create_topics(&[&topic], 1);
    let dir = tempfile::tempdir().expect("tmp");
    let extra = format!("kafka_topic[k]: {topic}\nkafka_multi_values[k]: 4096\n");
    run(&conf(dir.path(), &tansu, "print[p], kafka[k]", AGGREGATE, &extra));
    let want: Vec<String> = {
        let mut w: Vec<String> = printed(dir.path()).iter().map(|l| canonical(l)).collect();
        w.sort();
        w
    };
    let msgs = tansu.consume(&topic, 1);
    let mut got = Vec::new();
    for m in &msgs {
        assert!(m.payload.len() < 4096 && m.payload.ends_with('\n'), "{}", m.payload.len());
        got.extend(m.payload.lines().map(|l| without_writer(l).0));
    }
    got.sort();
    eprintln!("{} aggregates in {} messages", got.len(), msgs.len());
    assert!(msgs.len() > 1 && msgs.len() * 4 < got.len(), "packed: {} messages", msgs.len());
    assert_eq!(got, want);
}
