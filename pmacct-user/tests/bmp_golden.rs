//! Field-level comparison with NetGauze's JSON snapshots of the same captures: peer headers
//! (type, flags, RD, address, AS, BGP id), Peer Up (addresses, ports, both OPENs), Peer Down
//! reasons and NOTIFICATIONs, statistics values, and every Route Monitoring attribute NetGauze
//! and we both decode (origin, AS path, next hops, MED, LOCAL_PREF, communities, ORIGINATOR_ID,
//! CLUSTER_LIST, AGGREGATOR, extended communities, RDs, labels, path ids).

mod bmp_support;

use bmp_support::{bmp_captures, data_dir, tcp_streams};
use pmacct_user::decode::bgp::{
    AsSegmentType, MpNlri, Nlri, Notification, Open, PathAttr, RouteDistinguisher,
};
use pmacct_user::decode::bmp::{
    self, BmpFramer, BmpMessage, PeerDownReason, PeerHeader, PeerType, SessionTable,
};
use serde_json::Value;

fn rd_str(rd: &Value) -> Option<String> {
    let (k, v) = rd.as_object()?.iter().next()?;
    Some(match k.as_str() {
        "As2Administrator" => format!("0:{}:{}", v["asn2"], v["number"]),
        "Ipv4Administrator" => format!("1:{}:{}", v["ip"].as_str()?, v["number"]),
        "As4Administrator" => format!("2:{}:{}", v["asn4"], v["number"]),
        _ => "unknown".into(),
    })
}

fn our_rd(rd: &Option<RouteDistinguisher>) -> Option<String> {
    rd.map(|r| r.to_string())
}

fn peer_json(p: &Value) -> String {
    let (t, f) = p["peer_type"].as_object().and_then(|o| o.iter().next()).unwrap();
    let b = |k: &str| f[k].as_bool().unwrap_or(false);
    let flags = if t == "LocRibInstancePeer" {
        format!("F={}", b("filtered"))
    } else {
        format!("V={} L={} A={} O={}", b("ipv6"), b("post_policy"), b("asn2"), b("adj_rib_out"))
    };
    format!(
        "{t} {flags} rd={:?} addr={:?} as={} id={}",
        rd_str(&p["rd"]),
        p["address"].as_str(),
        p["peer_as"],
        p["bgp_id"].as_str().unwrap_or("")
    )
}

fn peer_ours(p: &PeerHeader) -> String {
    let t = match p.peer_type {
        PeerType::Global => "GlobalInstancePeer",
        PeerType::Rd => "RdInstancePeer",
        PeerType::Local => "LocalInstancePeer",
        PeerType::LocRib => "LocRibInstancePeer",
        PeerType::Other(_) => "Other",
    };
    let flags = if p.peer_type == PeerType::LocRib {
        format!("F={}", p.loc_rib_filtered())
    } else {
        format!(
            "V={} L={} A={} O={}",
            p.is_ipv6(),
            p.post_policy(),
            p.legacy_as_path(),
            p.adj_rib_out()
        )
    };
    let addr = (!p.addr.is_unspecified()).then(|| p.addr.to_string());
    format!(
        "{t} {flags} rd={:?} addr={:?} as={} id={}",
        p.rd().map(|r| r.to_string()),
        addr.as_deref(),
        p.asn,
        p.bgp_id
    )
}

fn open_json(o: &Value) -> String {
    let o = &o["Open"];
    let caps: usize = o["params"]
        .as_array()
        .map(|ps| ps.iter().map(|p| p["Capabilities"].as_array().map_or(0, |c| c.len())).sum())
        .unwrap_or(0);
    format!(
        "{} {} {} {} caps={caps}",
        o["version"],
        o["my_as"],
        o["hold_time"],
        o["bgp_id"].as_str().unwrap_or("")
    )
}

fn open_ours(o: &Open) -> String {
    format!(
        "{} {} {} {} caps={}",
        o.version,
        o.my_as,
        o.hold_time,
        o.bgp_id,
        o.capabilities().count()
    )
}

fn norm(s: &str) -> String {
    s.chars().filter(|c| c.is_ascii_alphanumeric()).collect::<String>().to_lowercase()
}

fn notif_json(n: &Value) -> String {
    let (_, sub) = n["Notification"].as_object().and_then(|o| o.iter().next()).unwrap();
    let sub = sub.as_object().and_then(|o| o.keys().next().cloned()).unwrap_or_default();
    norm(&sub)
}

fn notif_ours(n: &Notification) -> String {
    norm(n.subcode_name())
}

fn seg_name(k: AsSegmentType) -> &'static str {
    match k {
        AsSegmentType::Set => "AsSet",
        AsSegmentType::Sequence => "AsSequence",
        AsSegmentType::ConfedSequence => "AsConfedSequence",
        AsSegmentType::ConfedSet => "AsConfedSet",
    }
}

fn label_val(stack: &Value) -> Vec<u32> {
    stack
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|l| {
            let b: Vec<u32> =
                l.as_array()?.iter().filter_map(|x| x.as_u64().map(|v| v as u32)).collect();
            Some(((b.first()? << 16) | (b.get(1)? << 8) | b.get(2)?) >> 4)
        })
        .collect()
}

fn nlri_json(n: &Value) -> String {
    let stack = if n["label_stack"].is_null() { &n["labels"] } else { &n["label_stack"] };
    let net = n["network"].as_str().or(n["prefix"].as_str()).unwrap_or("?");
    format!(
        "{net} pid={} rd={:?} labels={:?}",
        n["path_id"].as_u64().unwrap_or(0),
        rd_str(&n["rd"]),
        label_val(stack)
    )
}

fn nlri_ours(n: &Nlri) -> String {
    format!(
        "{} pid={} rd={:?} labels={:?}",
        n.prefix,
        n.path_id.unwrap_or(0),
        our_rd(&n.rd),
        n.labels
    )
}

/// Attributes as "name=value" strings, JSON side. Attributes we do not decode are skipped.
fn attrs_json(u: &Value) -> Vec<String> {
    let mut v = Vec::new();
    for a in u["path_attributes"].as_array().into_iter().flatten() {
        let (k, x) = a["value"].as_object().and_then(|o| o.iter().next()).unwrap();
        let s = match k.as_str() {
            "Origin" => format!("origin={}", x.as_str().unwrap_or("")),
            "AsPath" | "As4Path" => {
                let segs =
                    x.as_object().and_then(|o| o.values().next()).cloned().unwrap_or(x.clone());
                let segs: Vec<String> = segs
                    .as_array()
                    .into_iter()
                    .flatten()
                    .map(|s| {
                        format!("{}{}", s["segment_type"].as_str().unwrap_or(""), s["as_numbers"])
                    })
                    .collect();
                format!("{}={}", if k == "AsPath" { "aspath" } else { "as4path" }, segs.join(" "))
            }
            "NextHop" => format!("nh={}", x["next_hop"].as_str().unwrap_or("")),
            "MultiExitDiscriminator" => format!("med={}", x["metric"]),
            "LocalPreference" => format!("lp={}", x["metric"]),
            "AtomicAggregate" => "atomic".into(),
            "Aggregator" => {
                let (_, g) = x.as_object().and_then(|o| o.iter().next()).unwrap();
                format!("aggr={}/{}", g["asn"], g["origin"].as_str().unwrap_or(""))
            }
            "Communities" => format!("comms={}", x["communities"]),
            "Originator" => format!("orig={}", x.as_str().unwrap_or("")),
            "ClusterList" => format!("cl={x}"),
            "ExtendedCommunities" => {
                format!("ecomms={}", x["communities"].as_array().map_or(0, |c| c.len()))
            }
            "LargeCommunities" => {
                format!("lcomms={}", x["communities"].as_array().map_or(0, |c| c.len()))
            }
            "MpReach" | "MpUnreach" => {
                let (fam, body) = x.as_object().and_then(|o| o.iter().next()).unwrap();
                if !bmp_support::IP_FAMILIES.contains(&fam.as_str()) {
                    continue;
                }
                let mut nl: Vec<String> =
                    body["nlri"].as_array().into_iter().flatten().map(nlri_json).collect();
                nl.sort();
                let nh = &body["next_hop"];
                let nh = if nh.is_object() {
                    let (_, n) = nh.as_object().and_then(|o| o.iter().next()).unwrap();
                    n["next_hop"].as_str().unwrap_or("").to_string()
                } else {
                    nh.as_str().unwrap_or("").to_string()
                };
                let nh = if k == "MpReach" { format!(" nh={nh}") } else { String::new() };
                format!("{k}{nh} {nl:?}")
            }
            _ => continue,
        };
        v.push(s);
    }
    v.sort();
    v
}

fn attrs_ours(m: &bmp::RouteMonitoring) -> Vec<String> {
    let mut v = Vec::new();
    for a in &m.update.attributes {
        let s = match &a.value {
            PathAttr::Origin(o) => format!(
                "origin={}",
                ["IGP", "EGP", "Incomplete"].get(usize::from(*o)).unwrap_or(&"?")
            ),
            PathAttr::AsPath(p) | PathAttr::As4Path(p) => {
                let segs: Vec<String> = p
                    .segments
                    .iter()
                    .map(|s| {
                        format!("{}{}", seg_name(s.kind), serde_json::to_string(&s.asns).unwrap())
                    })
                    .collect();
                let name =
                    if matches!(a.value, PathAttr::AsPath(_)) { "aspath" } else { "as4path" };
                format!("{name}={}", segs.join(" "))
            }
            PathAttr::NextHop(n) => format!("nh={n}"),
            PathAttr::Med(x) => format!("med={x}"),
            PathAttr::LocalPref(x) => format!("lp={x}"),
            PathAttr::AtomicAggregate => "atomic".into(),
            PathAttr::Aggregator { asn, addr } => format!("aggr={asn}/{addr}"),
            PathAttr::Communities(c) => format!("comms={}", serde_json::to_string(c).unwrap()),
            PathAttr::OriginatorId(o) => format!("orig={o}"),
            PathAttr::ClusterList(c) => format!(
                "cl={}",
                serde_json::to_string(&c.iter().map(|x| x.to_string()).collect::<Vec<_>>())
                    .unwrap()
            ),
            PathAttr::ExtCommunities(e) => format!("ecomms={}", e.len()),
            PathAttr::LargeCommunities(l) => format!("lcomms={}", l.len()),
            PathAttr::MpReach(r) => {
                let MpNlri::Prefixes(p) = &r.nlri else { continue };
                let mut nl: Vec<String> = p.iter().map(nlri_ours).collect();
                nl.sort();
                format!(
                    "MpReach nh={} {nl:?}",
                    r.next_hop.map(|n| n.to_string()).unwrap_or_default()
                )
            }
            PathAttr::MpUnreach(r) => {
                let MpNlri::Prefixes(p) = &r.withdrawn else { continue };
                let mut nl: Vec<String> = p.iter().map(nlri_ours).collect();
                nl.sort();
                format!("MpUnreach {nl:?}")
            }
            _ => continue,
        };
        v.push(s);
    }
    v.sort();
    v
}

fn detail_json(line: &str) -> String {
    let v: Value = serde_json::from_str(line).unwrap();
    let (_, body) = v.as_object().and_then(|o| o.iter().next()).unwrap();
    let (kind, m) = body.as_object().and_then(|o| o.iter().next()).unwrap();
    let peer = m.get("peer_header").map(peer_json).unwrap_or_default();
    let rest = match kind.as_str() {
        "RouteMonitoring" => {
            let u = m
                .get("update_message")
                .or_else(|| m.pointer("/update_pdu/value/BgpUpdate"))
                .unwrap();
            let u = &u["Update"];
            let mut nl: Vec<String> =
                u["nlri"].as_array().into_iter().flatten().map(nlri_json).collect();
            let mut wd: Vec<String> =
                u["withdrawn_routes"].as_array().into_iter().flatten().map(nlri_json).collect();
            nl.sort();
            wd.sort();
            format!("nlri={nl:?} wd={wd:?} attrs={:?}", attrs_json(u))
        }
        "PeerUpNotification" => format!(
            "local={:?} lport={} rport={} sent=[{}] recv=[{}]",
            m["local_address"].as_str(),
            m["local_port"].as_u64().unwrap_or(0),
            m["remote_port"].as_u64().unwrap_or(0),
            open_json(&m["sent_message"]),
            open_json(&m["received_message"])
        ),
        "PeerDownNotification" => {
            let (r, d) = m["reason"].as_object().and_then(|o| o.iter().next()).unwrap();
            let code = match r.as_str() {
                "LocalSystemClosedNotificationPduFollows" => 1,
                "LocalSystemClosedFsmEventFollows" => 2,
                "RemoteSystemClosedNotificationPduFollows" => 3,
                "RemoteSystemClosedNoData" => 4,
                "PeerDeConfigured" => 5,
                "LocalSystemClosedTlvDataFollows" => 6,
                _ => 0,
            };
            let n = if matches!(code, 1 | 3) { notif_json(d) } else { String::new() };
            format!("reason={code} {n}")
        }
        "StatisticsReport" => {
            let vals: Vec<String> = m["counters"]
                .as_array()
                .into_iter()
                .flatten()
                .map(|c| {
                    let (_, x) = c.as_object().and_then(|o| o.iter().next()).unwrap();
                    let x = if x.is_object() {
                        x.get("value")
                            .or(x.get("counter"))
                            .or(x.get("gauge"))
                            .cloned()
                            .unwrap_or(x.clone())
                    } else {
                        x.clone()
                    };
                    x.to_string()
                })
                .collect();
            format!("stats={vals:?}")
        }
        _ => String::new(),
    };
    format!("{kind} {peer} {rest}")
}

fn detail_ours(m: &BmpMessage) -> String {
    match m {
        BmpMessage::RouteMonitoring(r) => {
            let mut nl: Vec<String> = r.update.nlri.iter().map(nlri_ours).collect();
            let mut wd: Vec<String> = r.update.withdrawn.iter().map(nlri_ours).collect();
            nl.sort();
            wd.sort();
            format!(
                "RouteMonitoring {} nlri={nl:?} wd={wd:?} attrs={:?}",
                peer_ours(&r.peer),
                attrs_ours(r)
            )
        }
        BmpMessage::PeerUp(u) => {
            let local = (!u.local_addr.is_unspecified()).then(|| u.local_addr.to_string());
            format!(
                "PeerUpNotification {} local={:?} lport={} rport={} sent=[{}] recv=[{}]",
                peer_ours(&u.peer),
                local.as_deref(),
                u.local_port,
                u.remote_port,
                open_ours(&u.sent_open),
                open_ours(&u.received_open)
            )
        }
        BmpMessage::PeerDown(d) => {
            let n = match &d.reason {
                PeerDownReason::LocalNotification(n) | PeerDownReason::RemoteNotification(n) => {
                    notif_ours(n)
                }
                _ => String::new(),
            };
            format!("PeerDownNotification {} reason={} {n}", peer_ours(&d.peer), d.reason.code())
        }
        BmpMessage::StatisticsReport(s) => {
            let vals: Vec<String> =
                s.stats.iter().map(|x| x.value.value().unwrap_or(0).to_string()).collect();
            format!("StatisticsReport {} stats={vals:?}", peer_ours(&s.peer))
        }
        BmpMessage::Initiation(_) => "Initiation  ".into(),
        BmpMessage::Termination(_) => "Termination  ".into(),
        BmpMessage::RouteMirroring(_) => "RouteMirroring  ".into(),
        BmpMessage::Unknown { .. } => "Unknown  ".into(),
    }
}

#[test]
fn netgauze_field_level() {
    let mut checked = 0;
    for path in bmp_captures() {
        let stem = path.file_stem().and_then(|s| s.to_str()).unwrap_or_default().to_string();
        let Ok(text) = std::fs::read_to_string(path.with_file_name(format!("{stem}-bmp.json")))
        else {
            continue;
        };
        let mut got = Vec::new();
        for (_, stream) in tcp_streams(&path) {
            if !matches!(stream.first(), Some(3 | 4)) {
                continue;
            }
            let mut f = BmpFramer::new();
            let mut s = SessionTable::new();
            f.push(&stream);
            while let Ok(Some(frame)) = f.next_frame() {
                let frame = frame.to_vec();
                got.push(detail_ours(&bmp::decode(&frame, &mut s).expect("decode")));
            }
        }
        let mut want: Vec<String> = text.lines().map(detail_json).collect();
        want.sort();
        got.sort();
        let missing: Vec<_> = want.iter().filter(|w| !got.contains(w)).take(2).collect();
        let extra: Vec<_> = got.iter().filter(|g| !want.contains(g)).take(2).collect();
        assert!(
            want == got,
            "{}:\n golden not matched: {missing:#?}\n ours not matched: {extra:#?}",
            path.strip_prefix(data_dir()).unwrap_or(&path).display()
        );
        checked += want.len();
    }
    eprintln!("{checked} messages matched field by field");
}
