//! Real BMP captures (NetGauze's, in ../shared/data/vendors): TCP streams reassembled from the
//! pcaps, framed by `BmpFramer`, decoded, compared with NetGauze's JSON snapshot (message
//! types, peer headers, announced and withdrawn prefixes) and loaded into the RIB.

mod bmp_support;

use std::collections::BTreeMap;
use std::net::IpAddr;
use std::path::Path;

use bmp_support::{bmp_captures, data_dir, tcp_streams};

use pmacct_user::decode::bgp::{Nlri, Prefix};
use pmacct_user::decode::bmp::{self, BmpFramer, BmpMessage, PeerHeader, SessionTable};
use pmacct_user::routing::{PeerId, Rib};

/// One message reduced to what both decoders print.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
struct Summary {
    kind: String,
    peer: Option<(Option<String>, u32, String)>,
    announced: Vec<String>,
    withdrawn: Vec<String>,
}

fn peer_sum(p: &PeerHeader) -> Option<(Option<String>, u32, String)> {
    let addr = (!p.addr.is_unspecified()).then(|| p.addr.to_string());
    Some((addr, p.asn, p.bgp_id.to_string()))
}

fn nets(v: &[(pmacct_user::decode::bgp::AfiSafi, &Nlri)]) -> Vec<String> {
    let mut s: Vec<String> = v.iter().map(|(_, n)| n.prefix.to_string()).collect();
    s.sort();
    s
}

fn summarize(m: &BmpMessage) -> Summary {
    let (kind, peer, a, w) = match m {
        BmpMessage::RouteMonitoring(r) => (
            "RouteMonitoring",
            peer_sum(&r.peer),
            nets(&r.update.announced()),
            nets(&r.update.withdrawn_routes()),
        ),
        BmpMessage::StatisticsReport(s) => ("StatisticsReport", peer_sum(&s.peer), vec![], vec![]),
        BmpMessage::PeerDown(d) => ("PeerDownNotification", peer_sum(&d.peer), vec![], vec![]),
        BmpMessage::PeerUp(u) => ("PeerUpNotification", peer_sum(&u.peer), vec![], vec![]),
        BmpMessage::Initiation(_) => ("Initiation", None, vec![], vec![]),
        BmpMessage::Termination(_) => ("Termination", None, vec![], vec![]),
        BmpMessage::RouteMirroring(r) => ("RouteMirroring", peer_sum(&r.peer), vec![], vec![]),
        BmpMessage::Unknown { .. } => ("Unknown", None, vec![], vec![]),
    };
    Summary { kind: kind.into(), peer, announced: a, withdrawn: w }
}

fn collect_nets(v: &serde_json::Value, out: &mut Vec<String>) {
    match v {
        serde_json::Value::Object(m) => {
            for (k, x) in m {
                match (k.as_str(), x) {
                    ("network" | "prefix", serde_json::Value::String(s)) => out.push(s.clone()),
                    _ => collect_nets(x, out),
                }
            }
        }
        serde_json::Value::Array(a) => a.iter().for_each(|x| collect_nets(x, out)),
        _ => {}
    }
}

fn json_summary(line: &str) -> Summary {
    let v: serde_json::Value = serde_json::from_str(line).expect("json");
    let (_, body) = v.as_object().and_then(|o| o.iter().next()).expect("version");
    let (kind, msg) = body.as_object().and_then(|o| o.iter().next()).expect("kind");
    let peer = msg.get("peer_header").map(|p| {
        (
            p["address"].as_str().map(String::from),
            p["peer_as"].as_u64().unwrap_or(0) as u32,
            p["bgp_id"].as_str().unwrap_or("").to_string(),
        )
    });
    let (mut a, mut w) = (Vec::new(), Vec::new());
    let upd = msg
        .get("update_message")
        .or_else(|| msg.pointer("/update_pdu/value/BgpUpdate"))
        .and_then(|u| u.get("Update"));
    if let Some(u) = upd {
        collect_nets(&u["withdrawn_routes"], &mut w);
        collect_nets(&u["nlri"], &mut a);
        for attr in u["path_attributes"].as_array().into_iter().flatten() {
            for (key, out) in [("MpReach", &mut a), ("MpUnreach", &mut w)] {
                if let Some(fams) = attr["value"].get(key).and_then(|f| f.as_object()) {
                    for (fam, x) in fams {
                        if bmp_support::IP_FAMILIES.contains(&fam.as_str()) {
                            collect_nets(&x["nlri"], out);
                        }
                    }
                }
            }
        }
    }
    a.sort();
    w.sort();
    Summary { kind: kind.clone(), peer, announced: a, withdrawn: w }
}

struct FileResult {
    messages: usize,
    errors: Vec<String>,
    by_type: BTreeMap<String, usize>,
    summaries: Vec<Summary>,
    rib_routes: usize,
    expected_routes: usize,
}

fn run_file(path: &Path) -> FileResult {
    let mut r = FileResult {
        messages: 0,
        errors: vec![],
        by_type: BTreeMap::new(),
        summaries: vec![],
        rib_routes: 0,
        expected_routes: 0,
    };
    let mut rib = Rib::new();
    let mut live: std::collections::HashSet<(IpAddr, PeerId, Option<String>, u32, Prefix)> =
        Default::default();
    for ((src, _, _, _), stream) in tcp_streams(path) {
        if !matches!(stream.first(), Some(3 | 4)) {
            continue;
        }
        let router = src;
        let mut framer = BmpFramer::new();
        let mut sessions = SessionTable::new();
        // Feed in odd-sized chunks to exercise half messages.
        for chunk in stream.chunks(1000 + 7) {
            framer.push(chunk);
            loop {
                let frame = match framer.next_frame() {
                    Ok(Some(f)) => f.to_vec(),
                    Ok(None) => break,
                    Err(e) => {
                        r.errors.push(format!("framing: {e}"));
                        break;
                    }
                };
                r.messages += 1;
                match bmp::decode(&frame, &mut sessions) {
                    Ok(m) => {
                        let s = summarize(&m);
                        *r.by_type.entry(s.kind.clone()).or_default() += 1;
                        r.summaries.push(s);
                        if let BmpMessage::RouteMonitoring(rm) = &m {
                            let peer = PeerId::from_bmp(&rm.peer);
                            let key = |n: &Nlri| {
                                (
                                    router,
                                    peer,
                                    n.rd.map(|d| d.to_string()),
                                    n.path_id.unwrap_or(0),
                                    n.prefix,
                                )
                            };
                            for (_, n) in rm.update.withdrawn_routes() {
                                live.remove(&key(n));
                            }
                            for (_, n) in rm.update.announced() {
                                live.insert(key(n));
                            }
                            rib.apply_update(router, peer, rm.peer.asn, &rm.update, &rm.context)
                                .expect("rib");
                        }
                        if let BmpMessage::PeerDown(d) = &m {
                            rib.peer_down_addr(router, d.peer.addr, d.peer.distinguisher_u64());
                            live.retain(|(ro, p, ..)| {
                                !(*ro == router
                                    && p.addr == d.peer.addr
                                    && p.distinguisher == d.peer.distinguisher_u64())
                            });
                        }
                    }
                    Err(e) => r.errors.push(format!("decode: {e}")),
                }
            }
        }
        assert_eq!(framer.pending(), 0, "{}: trailing half message", path.display());
        r.rib_routes += rib.route_count(router);
    }
    r.expected_routes = live.len();
    r
}

#[test]
fn netgauze_bmp_captures_decode_and_match() {
    let files = bmp_captures();
    if files.is_empty() {
        eprintln!("no vendor captures found under {}", data_dir().display());
        return;
    }
    for path in files {
        let r = run_file(&path);
        let name = path.strip_prefix(data_dir()).unwrap_or(&path).display().to_string();
        eprintln!(
            "{name}: {} messages {:?}, {} errors, RIB {} routes (expected {})",
            r.messages,
            r.by_type,
            r.errors.len(),
            r.rib_routes,
            r.expected_routes
        );
        for e in &r.errors {
            eprintln!("  error: {e}");
        }
        assert!(r.errors.is_empty(), "{name}: decode errors");
        assert_eq!(r.rib_routes, r.expected_routes, "{name}: RIB content");
        let stem = path.file_stem().and_then(|s| s.to_str()).unwrap_or_default();
        let golden = path.with_file_name(format!("{stem}-bmp.json"));
        let Ok(text) = std::fs::read_to_string(&golden) else { continue };
        let mut want: Vec<Summary> = text.lines().map(json_summary).collect();
        let mut got = r.summaries.clone();
        want.sort();
        got.sort();
        let diff: Vec<_> = want.iter().filter(|w| !got.contains(w)).take(3).collect();
        let extra: Vec<_> = got.iter().filter(|g| !want.contains(g)).take(3).collect();
        assert!(
            want == got,
            "{name}: {} golden vs {} decoded; missing {diff:#?}; extra {extra:#?}",
            want.len(),
            got.len()
        );
    }
}
