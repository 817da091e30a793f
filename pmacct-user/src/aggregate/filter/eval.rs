//! Evaluating a parsed filter on a record.

use std::net::IpAddr;

use super::ast::{Dir, Expr, Family, Test};
use super::value::ip_bits;
use crate::record::FlowFields;

/// True when `f` passes `e`.
pub fn eval(e: &Expr, f: &FlowFields) -> bool {
    match e {
        Expr::And(a, b) => eval(a, f) && eval(b, f),
        Expr::Or(a, b) => eval(a, f) || eval(b, f),
        Expr::Not(a) => !eval(a, f),
        Expr::Test { test, shifted } => test_one(test, *shifted, f),
    }
}

fn dir_match(dir: Dir, src: bool, dst: bool) -> bool {
    match dir {
        Dir::Src => src,
        Dir::Dst => dst,
        Dir::Either => src || dst,
        Dir::Both => src && dst,
    }
}

fn family_of(f: &FlowFields) -> Family {
    if f.src_ip.is_ipv6() { Family::V6 } else { Family::V4 }
}

/// An IP record: the exporter gave addresses (a flow with neither is not IP to pcap either).
fn is_ip(f: &FlowFields) -> bool {
    f.etype == 0 || f.etype == 0x0800 || f.etype == 0x86dd
}

fn test_one(t: &Test, shifted: bool, f: &FlowFields) -> bool {
    if let Test::EtherHost { dir, mac } = t {
        return dir_match(*dir, f.src_mac == *mac, f.dst_mac == *mac);
    }
    // pcap-filter reads L3 at offset 14 (untagged) or 18 (after a `vlan` keyword): each test
    // sees only the traffic whose layout it assumes.
    let tagged = tagged(f);
    if let Test::Vlan(id) = t {
        return tagged && id.is_none_or(|v| v == f.vlan);
    }
    if tagged != shifted || !is_ip(f) {
        return false;
    }
    let fam = family_of(f);
    match t {
        Test::Family(want) => fam == *want,
        Test::Proto { family, proto } => family.is_none_or(|w| w == fam) && f.proto == *proto,
        Test::Host { dir, addr } => {
            dir_match(*dir, same_addr(&f.src_ip, addr), same_addr(&f.dst_ip, addr))
        }
        Test::Net { dir, v6, net, mask } => {
            let inside = |ip: &IpAddr| {
                let (bits, is6) = ip_bits(ip);
                is6 == *v6 && bits & mask == *net
            };
            dir_match(*dir, inside(&f.src_ip), inside(&f.dst_ip))
        }
        Test::Port { dir, family, proto, lo, hi } => {
            let l4 = match proto {
                Some(p) => f.proto == *p,
                None => matches!(f.proto, 6 | 17 | 132),
            };
            let inr = |p: u16| (*lo..=*hi).contains(&p);
            family.is_none_or(|w| w == fam)
                && l4
                && dir_match(*dir, inr(f.src_port), inr(f.dst_port))
        }
        Test::Vlan(_) | Test::EtherHost { .. } => false,
    }
}

/// Whether pmacct's filter sees an 802.1Q header. sFlow and packets carry the real one. For
/// NetFlow v9/IPFIX nfacctd builds a dummy packet, tagged only when the first byte of the VLAN
/// field is non-zero (nfacctd.c `NF_evaluate_flow_type` reads one byte of the two): VLANs 1-255
/// look untagged to its filters, and we reproduce that.
fn tagged(f: &FlowFields) -> bool {
    if matches!(f.export_proto_version, 9 | 10) {
        f.vlan >> 8 != 0 || f.out_vlan >> 8 != 0
    } else {
        f.vlan != 0
    }
}

fn same_addr(a: &IpAddr, b: &IpAddr) -> bool {
    a == b
}
