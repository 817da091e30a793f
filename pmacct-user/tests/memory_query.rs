//! End to end: a memory plugin on a temp socket, fed through the aggregator, queried through
//! the real socket with the query client.

use std::time::Duration;

use pmacct_user::aggregate::Aggregator;
use pmacct_user::config::{PluginConfig, PluginKind};
use pmacct_user::query::{QueryArgs, QueryOutput, SortBy, run_query, send_request};
use pmacct_user::record::{Counters, FlowFields, FlowRecord};
use pmacct_user::sink::Sink;
use pmacct_user::sink::memory::{MemorySink, Request};

fn rec(src: &str, proto: u8, packets: u64, bytes: u64) -> FlowRecord {
    FlowRecord {
        fields: FlowFields {
            src_ip: src.parse().unwrap(),
            dst_ip: "192.0.2.1".parse().unwrap(),
            proto,
            ..Default::default()
        },
        counters: Counters { packets, bytes, flows: 1, ..Default::default() },
    }
}

#[test]
fn memory_plugin_over_socket() {
    let dir = tempfile::tempdir().unwrap();
    let sock = dir.path().join("imt.sock");
    let mut cfg = PluginConfig::new("mem", PluginKind::Memory);
    cfg.aggregate = vec!["src_host".into(), "proto".into()];
    cfg.imt_path = Some(sock.clone());

    let mut agg = Aggregator::with_options(std::slice::from_ref(&cfg), 1_000, true).unwrap();
    let mut sink = MemorySink::serve(&cfg).unwrap();
    agg.ingest_at(&rec("10.0.0.1", 6, 10, 1000), 1_000);
    agg.ingest_at(&rec("10.0.0.1", 6, 5, 500), 1_000);
    agg.ingest_at(&rec("10.0.0.2", 17, 100, 200), 1_000);
    agg.ingest_at(&rec("10.0.0.3", 6, 1, 3000), 1_000);
    for (_, batch) in agg.flush_all(1_100) {
        assert_eq!(sink.write(&batch).unwrap().entries, 3);
    }
    // A second flush accumulates (the memory table keeps counting until erased).
    agg.ingest_at(&rec("10.0.0.1", 6, 1, 1), 1_100);
    for (_, batch) in agg.flush_all(1_200) {
        sink.write(&batch).unwrap();
    }

    let args = |request| QueryArgs {
        socket: sock.clone(),
        request,
        output: QueryOutput::Json,
        timeout: Duration::from_secs(5),
    };

    // Top 2 by bytes.
    let r = send_request(&args(Request::Top { by: SortBy::Bytes, n: 2, filter: None })).unwrap();
    assert!(r.ok);
    assert_eq!(r.primitives, ["src_host", "proto"]);
    let ips: Vec<_> = r.entries.iter().map(|e| e["ip_src"].as_str().unwrap().to_string()).collect();
    assert_eq!(ips, ["10.0.0.3", "10.0.0.1"]);
    assert_eq!(r.entries[1]["bytes"], 1501);
    assert_eq!(r.entries[1]["packets"], 16);
    assert_eq!(r.entries[1]["ip_proto"], "tcp");

    // Top by packets.
    let r = send_request(&args(Request::Top { by: SortBy::Packets, n: 1, filter: None })).unwrap();
    assert_eq!(r.entries[0]["ip_src"], "10.0.0.2");

    // Match.
    let r = send_request(&args(Request::Match { filter: "proto=tcp,src_host=10.0.0.3".into() }))
        .unwrap();
    assert_eq!(r.entries.len(), 1);
    assert_eq!(r.entries[0]["bytes"], 3000);

    // Bad filter is refused, not a crash.
    let r = send_request(&args(Request::Match { filter: "bogus=1".into() })).unwrap();
    assert!(!r.ok);
    assert!(run_query(&args(Request::Match { filter: "bogus=1".into() })).is_err());

    // Table rendering.
    let mut a = args(Request::Top { by: SortBy::Bytes, n: 0, filter: Some("proto=udp".into()) });
    a.output = QueryOutput::Table;
    let table = run_query(&a).unwrap();
    assert_eq!(
        table,
        format!(
            "SRC_IP{}PROTOCOL    PACKETS               BYTES\n10.0.0.2{}udp         100                   200\n\nFor a total of: 1 entries\n",
            " ".repeat(41),
            " ".repeat(39)
        )
    );

    // Erase tcp, then stats.
    let r = send_request(&args(Request::Erase { filter: Some("proto=tcp".into()) })).unwrap();
    assert_eq!(r.erased, Some(2));
    let r = send_request(&args(Request::Stats)).unwrap();
    let s = r.stats.unwrap();
    assert_eq!((s.entries, s.packets, s.bytes, s.updates), (1, 100, 200, 2));
    let r = send_request(&args(Request::Erase { filter: None })).unwrap();
    assert_eq!(r.erased, Some(1));
    assert!(sink.table().is_empty());

    // Raw protocol: a malformed line gets an error reply.
    use std::io::{BufRead, BufReader, Write};
    let mut c = std::os::unix::net::UnixStream::connect(&sock).unwrap();
    c.write_all(b"{\"cmd\":\"nope\"}\n").unwrap();
    let mut line = String::new();
    BufReader::new(c).read_line(&mut line).unwrap();
    assert!(line.starts_with("{\"ok\":false"), "{line}");

    drop(sink);
    assert!(!sock.exists(), "socket removed on drop");
}
