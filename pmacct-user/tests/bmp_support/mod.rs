//! Shared by the BMP capture tests: TCP stream reassembly from pcaps and the capture list.
#![allow(dead_code)]

pub mod gobgp;
pub mod msglog;

use std::collections::HashMap;
use std::net::IpAddr;
use std::path::{Path, PathBuf};

use pmacct_user::decode::packet;
use pmacct_user::input::pcap::CaptureReader;

const DIR: &str = "../../shared/data/vendors/netgauze";

pub fn data_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(DIR)
}

pub type FlowKey = (IpAddr, u16, IpAddr, u16);

/// Reassembles TCP payload per direction, in sequence order (duplicates and overlaps dropped).
pub fn tcp_streams(path: &Path) -> Vec<(FlowKey, Vec<u8>)> {
    let mut segs: HashMap<FlowKey, Vec<(u32, Vec<u8>)>> = HashMap::new();
    let mut order: Vec<FlowKey> = Vec::new();
    let mut rd = CaptureReader::open(path).expect("open capture");
    while let Some(p) = rd.next_packet().expect("read packet") {
        let Ok(pkt) = packet::parse(p.link_type, p.data) else { continue };
        let f = &pkt.record.fields;
        let Some(l4) = pkt.l4_offset else { continue };
        if f.proto != 6 {
            continue;
        }
        let d = p.data;
        let tcp = &d[l4..];
        if tcp.len() < 20 {
            continue;
        }
        let seq = u32::from_be_bytes([tcp[4], tcp[5], tcp[6], tcp[7]]);
        let doff = usize::from(tcp[12] >> 4) * 4;
        let syn = tcp[13] & 0x02 != 0;
        // IP end from the IP header's length (Ethernet pads short frames).
        let ip_end = if f.src_ip.is_ipv4() {
            (5..=15)
                .filter_map(|ihl| l4.checked_sub(ihl * 4).map(|o| (o, ihl)))
                .find(|&(o, ihl)| d[o] >> 4 == 4 && usize::from(d[o] & 0xf) == ihl)
                .map(|(o, _)| o + usize::from(u16::from_be_bytes([d[o + 2], d[o + 3]])))
        } else {
            l4.checked_sub(40)
                .filter(|&o| d[o] >> 4 == 6)
                .map(|o| o + 40 + usize::from(u16::from_be_bytes([d[o + 4], d[o + 5]])))
        }
        .unwrap_or(d.len())
        .min(d.len());
        let start = l4 + doff;
        let key = (f.src_ip, f.src_port, f.dst_ip, f.dst_port);
        if !segs.contains_key(&key) {
            order.push(key);
        }
        let e = segs.entry(key).or_default();
        let seq = if syn { seq.wrapping_add(1) } else { seq };
        if start < ip_end {
            e.push((seq, d[start..ip_end].to_vec()));
        } else if syn {
            e.push((seq, Vec::new()));
        }
    }
    let mut out = Vec::new();
    for key in order {
        let mut v = segs.remove(&key).unwrap_or_default();
        let Some(base) = v.first().map(|s| s.0) else { continue };
        // Order by offset from the first segment seen (handles wrap-around).
        v.sort_by_key(|(s, _)| s.wrapping_sub(base) as i32);
        let mut stream = Vec::new();
        let mut next: Option<u32> = None;
        for (s, data) in v {
            let n = *next.get_or_insert(s);
            let skip = n.wrapping_sub(s) as i32;
            if skip < 0 {
                // A gap (lost capture data): keep going from here.
                stream.extend_from_slice(&data);
                next = Some(s.wrapping_add(data.len() as u32));
            } else if (skip as usize) < data.len() {
                stream.extend_from_slice(&data[skip as usize..]);
                next = Some(s.wrapping_add(data.len() as u32));
            }
        }
        if !stream.is_empty() {
            out.push((key, stream));
        }
    }
    out
}

pub fn bmp_captures() -> Vec<PathBuf> {
    let base = data_dir();
    let mut v = Vec::new();
    let index = std::fs::read_to_string(base.join("../INDEX.tsv")).unwrap_or_default();
    for line in index.lines() {
        let cols: Vec<&str> = line.split('\t').collect();
        if cols.get(2) == Some(&"bmp") && cols[0].starts_with("netgauze/") {
            v.push(base.join(cols[0].trim_start_matches("netgauze/")));
        }
    }
    v
}

/// NetGauze family names of the IP families our parser decodes.
pub const IP_FAMILIES: [&str; 8] = [
    "Ipv4Unicast",
    "Ipv6Unicast",
    "Ipv4Multicast",
    "Ipv6Multicast",
    "Ipv4NlriMplsLabels",
    "Ipv6NlriMplsLabels",
    "Ipv4MplsVpnUnicast",
    "Ipv6MplsVpnUnicast",
];
