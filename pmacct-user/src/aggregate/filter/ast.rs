//! The parsed form of a filter expression.

use std::net::IpAddr;

/// Direction qualifier (`src`, `dst`, `src or dst` — the default —, `src and dst`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Dir {
    Src,
    Dst,
    Either,
    Both,
}

/// Address family qualifier (`ip`, `ip6`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Family {
    V4,
    V6,
}

/// One primitive test on a record.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Test {
    /// `ip`, `ip6`.
    Family(Family),
    /// `tcp`, `icmp`, `ip proto 6`, `proto udp`: the IP protocol, optionally of one family.
    Proto { family: Option<Family>, proto: u8 },
    /// `[ip|ip6] [src|dst] host ADDR`.
    Host { dir: Dir, addr: IpAddr },
    /// `[ip|ip6] [src|dst] net NET/LEN` or `net NET mask MASK`: `addr & mask == net`, where
    /// `net` and `mask` are the family's bits in the low end of a `u128`.
    Net { dir: Dir, v6: bool, net: u128, mask: u128 },
    /// `[tcp|udp|sctp] [src|dst] port N` / `portrange A-B`; `proto` None means TCP, UDP or
    /// SCTP, as pcap-filter's `port` does.
    Port { dir: Dir, family: Option<Family>, proto: Option<u8>, lo: u16, hi: u16 },
    /// `vlan [ID]`.
    Vlan(Option<u16>),
    /// `ether [src|dst] host MAC`.
    EtherHost { dir: Dir, mac: [u8; 6] },
}

/// A filter expression. `shifted` on a test says whether a `vlan` keyword came before it in the
/// text: pcap-filter moves every later L3/L4 offset by the 4-byte tag, so such a test only
/// matches tagged traffic, and a test before any `vlan` only matches untagged traffic.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Expr {
    And(Box<Expr>, Box<Expr>),
    Or(Box<Expr>, Box<Expr>),
    Not(Box<Expr>),
    Test { test: Test, shifted: bool },
}
