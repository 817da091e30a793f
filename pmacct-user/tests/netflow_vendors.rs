//! Every NetFlow v5/v9/IPFIX file of `shared/data/vendors/` (INDEX.tsv protocol nf5/nf9/ipfix)
//! decodes without a panic. Files of one source directory are replayed through one decoder,
//! template files (`*tpl*`) first, as several sources split templates and data. The record
//! count and malformed count per file are compared with `netflow_vendor_counts.tsv`
//! (regenerate with `UPDATE_NETFLOW_COUNTS=1`).

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use pmacct_user::decode::netflow::{NetflowDecoder, NetflowOptions};
use pmacct_user::input::datagram::read_datagrams;

fn vendors() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/data/vendors")
}

fn counts_file() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/netflow_vendor_counts.tsv")
}

/// `(records, malformed datagrams, datagrams)` per file.
fn decode_all() -> BTreeMap<String, (usize, u64, u64)> {
    let index = std::fs::read_to_string(vendors().join("INDEX.tsv")).expect("INDEX.tsv");
    let mut by_dir: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for line in index.lines().skip(1) {
        let cols: Vec<&str> = line.split('\t').collect();
        let (Some(path), Some(proto)) = (cols.first(), cols.get(2)) else { continue };
        if ["nf5", "nf9", "ipfix"].iter().any(|p| proto.contains(p)) {
            let dir = Path::new(path).parent().map(|p| p.display().to_string()).unwrap_or_default();
            by_dir.entry(dir).or_default().push(path.to_string());
        }
    }
    let exporter: SocketAddr = "192.0.2.10:2055".parse().expect("addr");
    let mut res = BTreeMap::new();
    for (_, mut files) in by_dir {
        files.sort_by_key(|f| (!f.contains("tpl"), f.clone()));
        let mut dec = NetflowDecoder::new(NetflowOptions::default());
        for f in files {
            let path = vendors().join(&f);
            let mut out = Vec::new();
            let (mut malformed, mut datagrams) = (0u64, 0u64);
            let mut feed = |src: SocketAddr, ts: u64, p: &[u8]| {
                datagrams += 1;
                if dec.decode(src, ts, p, &mut out).is_err() {
                    malformed += 1;
                }
            };
            if f.ends_with(".pcap") || f.ends_with(".pcapng") || f.ends_with(".cap") {
                let _ = read_datagrams(&path, &[], |d| feed(exporter, d.ts_us, d.payload));
            } else if let Ok(bytes) = std::fs::read(&path) {
                feed(exporter, 0, &bytes);
            }
            res.insert(f, (out.len(), malformed, datagrams));
        }
    }
    res
}

#[test]
fn vendor_files_decode_without_panic() {
    if !vendors().exists() {
        eprintln!("vendors data absent: skipped");
        return;
    }
    let got = decode_all();
    let text: String = got.iter().map(|(f, (n, m, d))| format!("{f}\t{n}\t{m}\t{d}\n")).collect();
    eprint!("file\trecords\tmalformed\tdatagrams\n{text}");
    if std::env::var_os("UPDATE_NETFLOW_COUNTS").is_some() {
        std::fs::write(counts_file(), &text).expect("write counts");
        return;
    }
    let expected = std::fs::read_to_string(counts_file()).expect("netflow_vendor_counts.tsv");
    assert_eq!(text, expected, "per-file record counts changed");
}
