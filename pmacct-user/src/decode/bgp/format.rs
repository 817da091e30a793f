//! Text forms of BGP values as pmacct 1.7 prints them in JSON (`as_path`, `comms`, `ecomms`,
//! `lcomms`, `origin`, `rd`, `mpls_label`), following pmacct's `bgp_aspath.c`
//! (`aspath_make_str_count`), `bgp_community.c` (`community_com2str`), `bgp_ecommunity.c`
//! (`ecommunity_ecom2str`, display format), `bgp_lcommunity.c` and `bgp_util.c`.

use std::fmt::Write;

use super::attrs::{AsPath, AsSegmentType, ExtCommunity, LargeCommunity};

/// pmacct's AS path string: sets `{a,b}` (sorted, de-duplicated, as pmacct normalises them),
/// confederation sets `[a,b]`, confederation sequences `(a b)`, segments separated by spaces;
/// empty path → `""`.
pub fn as_path(p: &AsPath) -> String {
    let mut s = String::new();
    for (i, seg) in p.segments.iter().enumerate() {
        if i > 0 {
            s.push(' ');
        }
        let (open, close, sep) = match seg.kind {
            AsSegmentType::Sequence => ("", "", ' '),
            AsSegmentType::Set => ("{", "}", ','),
            AsSegmentType::ConfedSet => ("[", "]", ','),
            AsSegmentType::ConfedSequence => ("(", ")", ' '),
        };
        let mut asns = seg.asns.clone();
        if matches!(seg.kind, AsSegmentType::Set | AsSegmentType::ConfedSet) {
            asns.sort_unstable();
            asns.dedup();
        }
        s.push_str(open);
        for (j, a) in asns.iter().enumerate() {
            if j > 0 {
                s.push(sep);
            }
            let _ = write!(s, "{a}");
        }
        s.push_str(close);
    }
    s
}

/// One standard community: well-known names (`no-export`, `no-advertise`, `local-AS`,
/// `internet` for 0) unless `numeric` (pmacct's `bgp_comms_num`), else `AS:value`.
pub fn community(c: u32, numeric: bool) -> String {
    match c {
        0 if !numeric => "internet".into(),
        0xFFFF_FF01 if !numeric => "no-export".into(),
        0xFFFF_FF02 if !numeric => "no-advertise".into(),
        0xFFFF_FF03 if !numeric => "local-AS".into(),
        _ => format!("{}:{}", c >> 16, c & 0xFFFF),
    }
}

/// pmacct's `comms`: values sorted numerically, de-duplicated, space separated.
pub fn communities(cs: &[u32], numeric: bool) -> String {
    let mut v = cs.to_vec();
    v.sort_unstable();
    v.dedup();
    join(v.iter().map(|c| community(*c, numeric)))
}

/// One extended community in pmacct's display format: route targets `RT:AS:n` / `RT:a.b.c.d:n`,
/// site of origin `SoO:...` for the 2-byte-AS, IPv4 and 4-byte-AS encodings (transitive or
/// not); anything else `?`. With `numeric` (pmacct's `bgp_comms_num`): `type:subtype:value`.
pub fn ext_community(e: &ExtCommunity, numeric: bool) -> String {
    let [t, st, v @ ..] = *e;
    let [a, b, c, d, e2, f] = v;
    let base = t & 0x3F;
    let value = match base {
        0 => Some(format!("{}:{}", u16::from_be_bytes([a, b]), u32::from_be_bytes([c, d, e2, f]))),
        1 => Some(format!("{}.{}.{}.{}:{}", a, b, c, d, u16::from_be_bytes([e2, f]))),
        2 => Some(format!("{}:{}", u32::from_be_bytes([a, b, c, d]), u16::from_be_bytes([e2, f]))),
        _ => None,
    };
    if numeric {
        let v = value.unwrap_or_else(|| format!("0x{a:02x}{b:02x}{c:02x}{d:02x}{e2:02x}{f:02x}"));
        return format!("{t}:{st}:{v}");
    }
    match (value, st) {
        (Some(v), 2) => format!("RT:{v}"),
        (Some(v), 3) => format!("SoO:{v}"),
        _ => "?".into(),
    }
}

/// pmacct's `ecomms`: sorted by wire bytes, de-duplicated, space separated.
pub fn ext_communities(es: &[ExtCommunity], numeric: bool) -> String {
    let mut v = es.to_vec();
    v.sort_unstable();
    v.dedup();
    join(v.iter().map(|e| ext_community(e, numeric)))
}

/// pmacct's `lcomms`: `global:local1:local2`, sorted, de-duplicated, space separated.
pub fn large_communities(ls: &[LargeCommunity]) -> String {
    let mut v = ls.to_vec();
    v.sort_unstable();
    v.dedup();
    join(v.iter().map(|[g, l1, l2]| format!("{g}:{l1}:{l2}")))
}

/// pmacct's `origin`: `i`, `e`, `u` (incomplete), `""` otherwise.
pub fn origin(o: u8) -> &'static str {
    match o {
        0 => "i",
        1 => "e",
        2 => "u",
        _ => "",
    }
}

/// pmacct's `mpls_label`: the label value in decimal (pmacct prints the first label).
pub fn mpls_label(labels: &[u32]) -> String {
    labels.first().map(|l| l.to_string()).unwrap_or_default()
}

fn join(it: impl Iterator<Item = String>) -> String {
    let mut s = String::new();
    for (i, x) in it.enumerate() {
        if i > 0 {
            s.push(' ');
        }
        s.push_str(&x);
    }
    s
}
