//! Exact-line tests against pmacct 1.7.7 output (/work/shared/data/expected and pmacctd runs).

use std::net::IpAddr;
use std::sync::{Arc, Mutex};

use super::*;
use crate::aggregate::{Bin, PrimitiveSet};
use crate::config::PluginKind;
use crate::record::{Counters, FlowFields};
use columns::Columns;

fn ip(s: &str) -> IpAddr {
    s.parse().unwrap()
}

fn l2_key() -> (FlowFields, Counters) {
    let k = FlowFields {
        src_mac: [2, 0, 0, 0, 0, 0x49],
        dst_mac: [2, 0xff, 0, 0, 0, 6],
        src_ip: ip("192.168.10.165"),
        dst_ip: ip("203.0.113.63"),
        src_port: 39554,
        dst_port: 61288,
        proto: 6,
        tos: 184,
        etype: 0x800,
        ..Default::default()
    };
    (k, Counters { packets: 30, bytes: 35312, tcp_flags: 27, ..Default::default() })
}

fn set(s: &str) -> PrimitiveSet {
    PrimitiveSet::parse(s).unwrap()
}

fn csv_line(agg: &str, k: &FlowFields, c: &Counters) -> String {
    let s = set(agg);
    let mut out = csv::header(&Columns::new(s, false), ",");
    csv::row(&mut out, &Columns::new(s, false), &s.mask(k), c, ",", TimestampFormat::default());
    out
}

#[test]
fn csv_matches_expected_files() {
    let (k, c) = l2_key();
    assert_eq!(
        csv_line("src_mac,dst_mac,vlan,src_host,dst_host,proto", &k, &c),
        "SRC_MAC,DST_MAC,VLAN,SRC_IP,DST_IP,PROTOCOL,PACKETS,BYTES\n\
         02:00:00:00:00:49,02:ff:00:00:00:06,0,192.168.10.165,203.0.113.63,tcp,30,35312\n"
    );
    assert_eq!(
        csv_line("src_host,dst_host,src_port,dst_port,proto", &k, &c),
        "SRC_IP,DST_IP,SRC_PORT,DST_PORT,PROTOCOL,PACKETS,BYTES\n\
         192.168.10.165,203.0.113.63,39554,61288,tcp,30,35312\n"
    );
    assert_eq!(
        csv_line(
            "src_host,dst_host,src_port,dst_port,proto,tos,in_iface,out_iface,tcpflags",
            &k,
            &c
        ),
        "IN_IFACE,OUT_IFACE,SRC_IP,DST_IP,SRC_PORT,DST_PORT,TCP_FLAGS,PROTOCOL,TOS,PACKETS,BYTES\n\
         0,0,192.168.10.165,203.0.113.63,39554,61288,27,tcp,184,30,35312\n"
    );
}

#[test]
fn csv_matches_whole_expected_file_as_set() {
    // Rebuild every row of traffic_small.pmacctd.5tuple.csv from its own fields and compare.
    let path = "/work/shared/data/expected/traffic_small.pmacctd.5tuple.csv";
    let Ok(text) = std::fs::read_to_string(path) else { return };
    let s = set("src_host,dst_host,src_port,dst_port,proto");
    let mut lines = text.lines();
    assert_eq!(format!("{}\n", lines.next().unwrap()), csv::header(&Columns::new(s, false), ","));
    for line in lines {
        let f: Vec<&str> = line.split(',').collect();
        let k = FlowFields {
            src_ip: ip(f[0]),
            dst_ip: ip(f[1]),
            src_port: f[2].parse().unwrap(),
            dst_port: f[3].parse().unwrap(),
            proto: value::parse_proto(f[4]).unwrap(),
            ..Default::default()
        };
        let c = Counters {
            packets: f[5].parse().unwrap(),
            bytes: f[6].parse().unwrap(),
            ..Default::default()
        };
        let mut out = String::new();
        csv::row(&mut out, &Columns::new(s, false), &k, &c, ",", TimestampFormat::default());
        assert_eq!(out, format!("{line}\n"));
    }
}

#[test]
fn json_matches_expected_files() {
    let (k, c) = l2_key();
    let ts = TimestampFormat::default();
    let s = set("src_mac,dst_mac,vlan,src_host,dst_host,proto");
    let mut out = String::new();
    json::row(&mut out, s, &s.mask(&k), &c, None, ts);
    assert_eq!(
        out,
        "{\"event_type\": \"purge\", \"mac_src\": \"02:00:00:00:00:49\", \"mac_dst\": \"02:ff:00:00:00:06\", \
         \"vlan\": 0, \"ip_src\": \"192.168.10.165\", \"ip_dst\": \"203.0.113.63\", \"ip_proto\": \"tcp\", \
         \"packets\": 30, \"bytes\": 35312}\n"
    );
    let s = set("src_host,dst_host,src_port,dst_port,proto,tos,in_iface,out_iface,tcpflags");
    let mut out = String::new();
    json::row(&mut out, s, &s.mask(&k), &c, None, ts);
    assert_eq!(
        out,
        "{\"event_type\": \"purge\", \"iface_in\": 0, \"iface_out\": 0, \"ip_src\": \"192.168.10.165\", \
         \"ip_dst\": \"203.0.113.63\", \"port_src\": 39554, \"port_dst\": 61288, \"tcp_flags\": \"27\", \
         \"ip_proto\": \"tcp\", \"tos\": 184, \"packets\": 30, \"bytes\": 35312}\n"
    );
}

/// From pmacctd 1.7.7 on small.pcap with `aggregate: src_mac,dst_mac,vlan,cos,etype,src_host,
/// dst_host,src_port,dst_port,tcpflags,proto,tos,tag`, `print_history: 5m` (TZ=UTC).
const FULL: &str =
    "tag,src_mac,dst_mac,vlan,cos,etype,src_host,dst_host,src_port,dst_port,tcpflags,proto,tos";

fn full_row() -> (FlowFields, Counters) {
    let (k, _) = l2_key();
    (k, Counters { packets: 1, bytes: 1178, tcp_flags: 2, ..Default::default() })
}

#[test]
fn json_with_history_stamps() {
    let (k, c) = full_row();
    let ts = TimestampFormat { utc: true, since_epoch: false, secs: false };
    let mut out = String::new();
    json::row(&mut out, set(FULL), &k, &c, Some((1_767_225_300, 1_795_714_230)), ts);
    assert_eq!(
        out,
        "{\"event_type\": \"purge\", \"tag\": 0, \"mac_src\": \"02:00:00:00:00:49\", \"mac_dst\": \"02:ff:00:00:00:06\", \
         \"vlan\": 0, \"cos\": 0, \"etype\": \"800\", \"ip_src\": \"192.168.10.165\", \"ip_dst\": \"203.0.113.63\", \
         \"port_src\": 39554, \"port_dst\": 61288, \"tcp_flags\": \"2\", \"ip_proto\": \"tcp\", \"tos\": 184, \
         \"stamp_inserted\": \"2025-12-31 23:55:00\", \"stamp_updated\": \"2026-11-26 17:30:30\", \
         \"packets\": 1, \"bytes\": 1178}\n"
    );
}

#[test]
fn formatted_matches_pmacctd() {
    let (k, c) = full_row();
    let s = set(FULL);
    let mut out = formatted::header(&Columns::new(s, false));
    formatted::row(&mut out, &Columns::new(s, false), &k, &c, TimestampFormat::default());
    assert_eq!(
        out,
        "TAG         SRC_MAC            DST_MAC            VLAN   COS ETYPE  SRC_IP                                         DST_IP                                         SRC_PORT  DST_PORT  TCP_FLAGS  PROTOCOL    TOS    PACKETS               BYTES\n\
         0           02:00:00:00:00:49  02:ff:00:00:00:06  0      0   800    192.168.10.165                                 203.0.113.63                                   39554     61288     2          tcp         184    1                     1178\n"
    );
    // CSV of the same row, as pmacctd printed it.
    let mut out = String::new();
    csv::row(&mut out, &Columns::new(s, false), &k, &c, ",", TimestampFormat::default());
    assert_eq!(
        out,
        "0,02:00:00:00:00:49,02:ff:00:00:00:06,0,0,800,192.168.10.165,203.0.113.63,39554,61288,2,tcp,184,1,1178\n"
    );
}

fn batch(agg: &str, history: bool, bins: &[(i64, FlowFields, Counters)], now: i64) -> FlushBatch {
    let mut out: Vec<Bin> = Vec::new();
    for (start, k, c) in bins {
        match out.iter_mut().find(|b| b.start == *start) {
            Some(b) => b.entries.push((*k, *c)),
            None => out.push(Bin { start: *start, entries: vec![(*k, *c)].into() }),
        }
    }
    FlushBatch { plugin: "p".into(), primitives: set(agg), history, flushed_at: now, bins: out }
}

#[derive(Clone, Default)]
struct Shared(Arc<Mutex<Vec<u8>>>);
impl Write for Shared {
    fn write(&mut self, b: &[u8]) -> io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(b);
        Ok(b.len())
    }
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

#[test]
fn stdout_header_once_and_empty_purge_silent() {
    let mut cfg = PluginConfig::new("p", PluginKind::Print);
    cfg.output = PrintFormat::Csv;
    let buf = Shared::default();
    let mut sink = PrintSink::with_writer(&cfg, PrintOptions::default(), Box::new(buf.clone()));
    let (k, c) = l2_key();
    let k = set("src_host").mask(&k);
    assert_eq!(sink.write(&batch("src_host", false, &[], 10)).unwrap().entries, 0);
    sink.write(&batch("src_host", false, &[(0, k, c)], 10)).unwrap();
    let r = sink.write(&batch("src_host", false, &[(0, k, c)], 20)).unwrap();
    assert_eq!(r.entries, 1);
    let text = String::from_utf8(buf.0.lock().unwrap().clone()).unwrap();
    assert_eq!(text, "SRC_IP,PACKETS,BYTES\n192.168.10.165,30,35312\n192.168.10.165,30,35312\n");
}

#[test]
fn files_per_bin_overwrite_and_append() {
    let dir = tempfile::tempdir().unwrap();
    let template = format!("{}/out-%Y%m%d-%H%M.csv", dir.path().display());
    let mut cfg = PluginConfig::new("p", PluginKind::Print);
    cfg.output = PrintFormat::Csv;
    cfg.output_file = Some(template);
    let utc = PrintOptions {
        timestamps: TimestampFormat { utc: true, since_epoch: false, secs: false },
        ..Default::default()
    };
    let (k, c) = l2_key();
    let k = set("src_host").mask(&k);
    let b = batch("src_host", true, &[(1_767_225_300, k, c), (1_767_225_600, k, c)], 1_767_225_700);
    let mut sink = PrintSink::new(&cfg, utc.clone());
    let r = sink.write(&b).unwrap();
    assert_eq!(r.files.len(), 2);
    let f1 = dir.path().join("out-20251231-2355.csv");
    assert_eq!(
        std::fs::read_to_string(&f1).unwrap(),
        "SRC_IP,PACKETS,BYTES\n192.168.10.165,30,35312\n"
    );
    // Overwrite: same content again, not doubled.
    sink.write(&b).unwrap();
    assert_eq!(
        std::fs::read_to_string(&f1).unwrap(),
        "SRC_IP,PACKETS,BYTES\n192.168.10.165,30,35312\n"
    );
    // Append: header only for a new file.
    let mut sink = PrintSink::new(&cfg, PrintOptions { append: true, ..utc });
    sink.write(&b).unwrap();
    assert_eq!(
        std::fs::read_to_string(&f1).unwrap(),
        "SRC_IP,PACKETS,BYTES\n192.168.10.165,30,35312\n192.168.10.165,30,35312\n"
    );
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 2, "no temp files left");
}

#[test]
fn path_template() {
    assert_eq!(
        render_path("/x/%Y-%m-%d_%H%M%%_%s.txt", 1_767_225_300, true),
        "/x/2025-12-31_2355%_1767225300.txt"
    );
    assert_eq!(render_path("plain%q", 0, true), "plain%q");
}
