//! The AMQP sink against the real RabbitMQ on 127.0.0.1:5672 (guest/guest): an IPFIX capture
//! through `pmacct-rs nfacctd -f` with a print plugin and an amqp plugin gives one message per
//! aggregate, each exactly the print plugin's JSON line; and nfacctd 1.7.7's own amqp plugin,
//! fed the same capture and config, publishes the same JSON objects.

mod daemon;

use std::collections::BTreeSet;
use std::process::Command;
use std::time::{Duration, Instant};

use daemon::{BIN, shared};
use lapin::options::{
    BasicGetOptions, ExchangeDeclareOptions, QueueBindOptions, QueueDeclareOptions,
};
use lapin::types::FieldTable;
use lapin::{Connection, ConnectionProperties, ExchangeKind};

const AGGREGATE: &str = "src_host, dst_host, src_port, dst_port, proto, tos";

/// A queue bound to `exchange`/`key` (declared as pmacct declares it), drained on demand.
struct Queue {
    rt: tokio::runtime::Runtime,
    ch: lapin::Channel,
    name: String,
}

impl Queue {
    fn bind(exchange: &str, key: &str) -> Queue {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .expect("runtime");
        let (ch, name) = rt.block_on(async {
            let conn = Connection::connect(
                "amqp://guest:guest@127.0.0.1:5672/%2f",
                ConnectionProperties::default(),
            )
            .await
            .expect("RabbitMQ on 127.0.0.1:5672 (.ci/run starts it)");
            let ch = conn.create_channel().await.expect("channel");
            ch.exchange_declare(
                exchange.into(),
                ExchangeKind::Direct,
                ExchangeDeclareOptions::default(),
                FieldTable::default(),
            )
            .await
            .expect("exchange");
            let q = ch
                .queue_declare(
                    "".into(),
                    QueueDeclareOptions { exclusive: true, ..Default::default() },
                    FieldTable::default(),
                )
                .await
                .expect("queue");
            let name = q.name().to_string();
            ch.queue_bind(
                name.as_str().into(),
                exchange.into(),
                key.into(),
                QueueBindOptions::default(),
                FieldTable::default(),
            )
            .await
            .expect("bind");
            std::mem::forget(conn); // kept open for the test's life
            (ch, name)
        });
        Queue { rt, ch, name }
    }

    /// Every message until none arrives for `quiet`.
    fn drain(&self, quiet: Duration) -> Vec<String> {
        let mut out = Vec::new();
        let mut last = Instant::now();
        while last.elapsed() < quiet {
            let got = self.rt.block_on(async {
                self.ch
                    .basic_get(self.name.as_str().into(), BasicGetOptions { no_ack: true })
                    .await
                    .expect("basic_get")
            });
            match got {
                Some(m) => {
                    out.push(String::from_utf8_lossy(&m.delivery.data).into_owned());
                    last = Instant::now();
                }
                None => std::thread::sleep(Duration::from_millis(50)),
            }
        }
        out
    }
}

fn unique(tag: &str) -> String {
    format!("pmacct_rs_test_{tag}_{}", std::process::id())
}

/// The pmacct config both daemons read; ours also gets `metrics_listen: none` (tests run in
/// parallel; nfacctd does not know the key).
fn conf(dir: &std::path::Path, exchange: &str, with_print: bool, ours: bool) -> std::path::PathBuf {
    let pcap = shared("exports/pmacct_nfprobe_ipfix.pcap");
    let plugins = if with_print { "print[p], amqp[a]" } else { "amqp[a]" };
    let text: String = format!(
        "daemonize: false\npcap_savefile: {}\npcap_savefile_wait: false\nplugins: {plugins}\n\
         aggregate: {AGGREGATE}\nprint_output[p]: json\nprint_output_file[p]: {}\n\
         print_refresh_time[p]: 86400\namqp_refresh_time[a]: 86400\namqp_exchange[a]: {exchange}\n\
         amqp_routing_key[a]: acct\n",
        pcap.display(),
        dir.join("print.json").display()
    ) + if ours { "metrics_listen: none\n" } else { "" };
    let path = dir.join(format!("{exchange}.conf"));
    std::fs::write(&path, text).expect("conf");
    path
}

#[test]
fn amqp_messages_are_the_print_plugins_json() {
    let exchange = unique("ours");
    let q = Queue::bind(&exchange, "acct");
    let dir = tempfile::tempdir().expect("tmp");
    let conf = conf(dir.path(), &exchange, true, true);
    let out = Command::new(BIN).arg("nfacctd").arg("-f").arg(&conf).output().expect("run");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let got: Vec<String> = q.drain(Duration::from_secs(2));
    let printed: BTreeSet<String> = std::fs::read_to_string(dir.path().join("print.json"))
        .expect("print output")
        .lines()
        .map(str::to_string)
        .collect();
    assert!(printed.len() > 100, "{} rows printed", printed.len());
    assert_eq!(got.len(), printed.len(), "one message per aggregate");
    // Each message is the print line with pmacct's `writer_id` (plugin/pid) added at the end.
    let suffix = format!(", \"writer_id\": \"a/{}\"}}", daemon_pid(&got));
    let stripped: BTreeSet<String> = got
        .iter()
        .map(|m| m.strip_suffix(&suffix).map(|b| format!("{b}}}")).unwrap_or_else(|| m.clone()))
        .collect();
    assert_eq!(stripped, printed);
}

/// The pid in the `writer_id` of the first message (the daemon that published them).
fn daemon_pid(msgs: &[String]) -> String {
    msgs.first()
        .and_then(|m| serde_json::from_str::<serde_json::Value>(m).ok())
        .and_then(|v| v["writer_id"].as_str().map(|w| w.trim_start_matches("a/").to_string()))
        .unwrap_or_default()
}

#[test]
fn same_json_as_nfacctd_amqp_plugin() {
    if Command::new("nfacctd").arg("-V").output().is_err() {
        panic!("nfacctd 1.7.7 missing: `cargo xtask setup` installs it");
    }
    let (ours, theirs) = (unique("side_ours"), unique("side_theirs"));
    let (q_ours, q_theirs) = (Queue::bind(&ours, "acct"), Queue::bind(&theirs, "acct"));
    let dir = tempfile::tempdir().expect("tmp");
    let out = Command::new(BIN)
        .arg("nfacctd")
        .arg("-f")
        .arg(conf(dir.path(), &ours, false, true))
        .output()
        .expect("run");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let out = Command::new("nfacctd")
        .arg("-f")
        .arg(conf(dir.path(), &theirs, false, false))
        .output()
        .expect("nfacctd");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    // Objects compared whole, but for `writer_id`'s pid (the publishing process).
    let parse = |msgs: Vec<String>| -> BTreeSet<String> {
        msgs.iter()
            .map(|m| {
                let mut v = serde_json::from_str::<serde_json::Value>(m).expect("JSON");
                let w = v["writer_id"].as_str().unwrap_or_default().to_string();
                assert!(w.starts_with("a/") && w[2..].parse::<u32>().is_ok(), "{m}");
                v["writer_id"] = "a/<pid>".into();
                v.to_string()
            })
            .collect()
    };
    let (a, b) = (
        parse(q_ours.drain(Duration::from_secs(2))),
        parse(q_theirs.drain(Duration::from_secs(2))),
    );
    assert!(b.len() > 100, "nfacctd published {}", b.len());
    let missing: Vec<_> = b.difference(&a).take(3).collect();
    let extra: Vec<_> = a.difference(&b).take(3).collect();
    assert!(missing.is_empty() && extra.is_empty(), "missing {missing:?}\nextra {extra:?}");
}

/// `amqp_routing_key_rr: 3`: message k goes to `acct_<k mod 3>`.
#[test]
fn routing_key_round_robin() {
    let exchange = unique("rr");
    let queues: Vec<Queue> = (0..3).map(|n| Queue::bind(&exchange, &format!("acct_{n}"))).collect();
    let dir = tempfile::tempdir().expect("tmp");
    let conf = conf(dir.path(), &exchange, false, true);
    let mut text = std::fs::read_to_string(&conf).expect("conf");
    text.push_str("amqp_routing_key_rr[a]: 3\n");
    std::fs::write(&conf, text).expect("conf");
    let out = Command::new(BIN).arg("nfacctd").arg("-f").arg(&conf).output().expect("run");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let counts: Vec<usize> = queues.iter().map(|q| q.drain(Duration::from_secs(1)).len()).collect();
    let total: usize = counts.iter().sum();
    assert!(total > 100, "{counts:?}");
    let (min, max) = (counts.iter().min().copied(), counts.iter().max().copied());
    assert!(max.zip(min).is_some_and(|(a, b)| a - b <= 1), "{counts:?}");
}

/// Stitching stamps and custom primitives in the amqp plugin's objects, as nfacctd 1.7.7's amqp
/// plugin publishes them.
#[test]
fn stitching_and_custom_primitives_as_nfacctd_amqp_plugin() {
    if Command::new("nfacctd").arg("-V").output().is_err() {
        panic!("nfacctd 1.7.7 missing: `cargo xtask setup` installs it");
    }
    let (ours, theirs) = (unique("stitch_ours"), unique("stitch_theirs"));
    let (q_ours, q_theirs) = (Queue::bind(&ours, "acct"), Queue::bind(&theirs, "acct"));
    let dir = tempfile::tempdir().expect("tmp");
    let prims = dir.path().join("prims.lst");
    std::fs::write(&prims, "name=sport_c field_type=7 len=2 semantics=u_int\nname=dst_raw field_type=12 len=4 semantics=raw\n")
        .expect("primitives");
    let conf = |exchange: &str, ours: bool| {
        let text = format!(
            "daemonize: false\npcap_savefile: {}\npcap_savefile_wait: false\nplugins: amqp[a]\n\
             aggregate_primitives: {}\naggregate: src_host, proto, sport_c, dst_raw\n\
             nfacctd_stitching: true\namqp_refresh_time[a]: 86400\namqp_exchange[a]: {exchange}\n\
             amqp_routing_key[a]: acct\n{}",
            shared("exports/softflowd_v9.pcap").display(),
            prims.display(),
            if ours { "metrics_listen: none\n" } else { "" }
        );
        let path = dir.path().join(format!("{exchange}.conf"));
        std::fs::write(&path, text).expect("conf");
        path
    };
    let out =
        Command::new(BIN).arg("nfacctd").arg("-f").arg(conf(&ours, true)).output().expect("run");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let out =
        Command::new("nfacctd").arg("-f").arg(conf(&theirs, false)).output().expect("nfacctd");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let parse = |msgs: Vec<String>| -> BTreeSet<String> {
        msgs.iter()
            .map(|m| {
                let mut v = serde_json::from_str::<serde_json::Value>(m).expect("JSON");
                v["writer_id"] = "a/<pid>".into();
                v.to_string()
            })
            .collect()
    };
    let (a, b) = (
        parse(q_ours.drain(Duration::from_secs(2))),
        parse(q_theirs.drain(Duration::from_secs(2))),
    );
    assert!(b.len() > 100, "nfacctd published {}", b.len());
    assert!(
        b.iter().all(|o| o.contains("timestamp_max") && o.contains("sport_c")),
        "{:?}",
        b.first()
    );
    let missing: Vec<_> = b.difference(&a).take(3).collect();
    let extra: Vec<_> = a.difference(&b).take(3).collect();
    assert!(missing.is_empty() && extra.is_empty(), "missing {missing:?}\nextra {extra:?}");
}
