//! pcap-filter grammar, the subset that makes sense on flow records.
//!
//! `expr := unary (("and"|"&&"|"or"|"||") unary)*` — `and` and `or` have equal precedence and
//! associate left to right, as pcap-filter(7) says; `not`/`!` binds tighter. A bare value after
//! `and`/`or` reuses the previous qualifiers (`host a or b` = `host a or host b`).

use std::net::IpAddr;

use super::FilterError;
use super::ast::{Dir, Expr, Family, Test};
use super::keywords::UNSUPPORTED;
use super::lexer::{Tok, Token, lex};
use super::value::{ip_bits, mac, port_range, prefix_mask, proto_number, v4_net};

/// Protocol qualifier in front of `host`/`net`/`port`/`proto`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Pq {
    Ether,
    Ip,
    Ip6,
    L4(u8),
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Kind {
    Host,
    Net,
    Port,
    PortRange,
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
struct Quals {
    pq: Option<Pq>,
    dir: Option<Dir>,
    kind: Option<Kind>,
}

struct Parser {
    toks: Vec<Token>,
    at: usize,
    end: usize,
    /// A `vlan` keyword has been read: later L3/L4 tests apply to tagged traffic.
    shifted: bool,
    last: Option<Quals>,
}

/// Parses a pcap-filter expression.
pub fn parse(input: &str) -> Result<Expr, FilterError> {
    let toks = lex(input)?;
    if toks.is_empty() {
        return Err(FilterError::Empty);
    }
    let mut p = Parser { toks, at: 0, end: input.len(), shifted: false, last: None };
    let e = p.expr()?;
    match p.peek() {
        None => Ok(e),
        Some(t) => Err(p.expected("`and`, `or` or the end", t.clone())),
    }
}

fn is_word(t: Option<&Token>, w: &str) -> bool {
    matches!(t, Some(Token { kind: Tok::Word(x), .. }) if x.eq_ignore_ascii_case(w))
}

impl Parser {
    fn peek(&self) -> Option<&Token> {
        self.toks.get(self.at)
    }

    fn peek_at(&self, n: usize) -> Option<&Token> {
        self.toks.get(self.at + n)
    }

    fn pos(&self) -> usize {
        self.peek().map_or(self.end, |t| t.pos)
    }

    fn expected(&self, what: &'static str, found: Token) -> FilterError {
        FilterError::Expected { what, found: found.kind.text().to_string(), pos: found.pos }
    }

    fn next_word(&mut self, what: &'static str) -> Result<(String, usize), FilterError> {
        match self.peek().cloned() {
            Some(Token { kind: Tok::Word(w), pos }) => {
                self.at += 1;
                Ok((w, pos))
            }
            Some(t) => Err(self.expected(what, t)),
            None => Err(FilterError::Expected { what, found: "end".into(), pos: self.end }),
        }
    }

    fn is_and(&self) -> bool {
        matches!(self.peek(), Some(Token { kind: Tok::AndAnd, .. })) || is_word(self.peek(), "and")
    }

    fn is_or(&self) -> bool {
        matches!(self.peek(), Some(Token { kind: Tok::OrOr, .. })) || is_word(self.peek(), "or")
    }

    fn expr(&mut self) -> Result<Expr, FilterError> {
        let mut left = self.unary()?;
        loop {
            let and = self.is_and();
            if !and && !self.is_or() {
                return Ok(left);
            }
            self.at += 1;
            let right = self.unary()?;
            left = if and {
                Expr::And(Box::new(left), Box::new(right))
            } else {
                Expr::Or(Box::new(left), Box::new(right))
            };
        }
    }

    fn unary(&mut self) -> Result<Expr, FilterError> {
        let Some(tok) = self.peek().cloned() else {
            return Err(FilterError::Expected {
                what: "a filter primitive",
                found: "end".into(),
                pos: self.end,
            });
        };
        match &tok.kind {
            Tok::Bang => {
                self.at += 1;
                Ok(Expr::Not(Box::new(self.unary()?)))
            }
            Tok::Word(w) if w.eq_ignore_ascii_case("not") => {
                self.at += 1;
                Ok(Expr::Not(Box::new(self.unary()?)))
            }
            Tok::LParen => {
                self.at += 1;
                let e = self.expr()?;
                match self.peek().cloned() {
                    Some(Token { kind: Tok::RParen, .. }) => {
                        self.at += 1;
                        Ok(e)
                    }
                    Some(t) => Err(self.expected("`)`", t)),
                    None => Err(FilterError::Expected {
                        what: "`)`",
                        found: "end".into(),
                        pos: self.end,
                    }),
                }
            }
            Tok::Word(_) => self.primitive(),
            _ => Err(self.expected("a filter primitive", tok)),
        }
    }

    fn test(&self, test: Test) -> Expr {
        Expr::Test { test, shifted: self.shifted }
    }

    fn primitive(&mut self) -> Result<Expr, FilterError> {
        let (word, pos) = self.next_word("a filter primitive")?;
        let lower = word.to_ascii_lowercase();
        if lower == "vlan" {
            if self.shifted {
                return Err(FilterError::Unsupported { token: "vlan (a second tag)".into(), pos });
            }
            let id = match self.peek() {
                Some(Token { kind: Tok::Word(w), .. }) if w.bytes().all(|b| b.is_ascii_digit()) => {
                    let (w, p) = self.next_word("a VLAN id")?;
                    match w.parse::<u16>() {
                        Ok(v) if v < 4096 => Some(v),
                        _ => return Err(invalid(&w, p, "VLAN id must be 0-4095")),
                    }
                }
                _ => None,
            };
            let e = self.test(Test::Vlan(id));
            self.shifted = true;
            return Ok(e);
        }
        let standalone = match lower.as_str() {
            "icmp" => Some((Some(Family::V4), 1)),
            "igmp" => Some((Some(Family::V4), 2)),
            "vrrp" => Some((Some(Family::V4), 112)),
            "icmp6" => Some((Some(Family::V6), 58)),
            "esp" => Some((None, 50)),
            "ah" => Some((None, 51)),
            "pim" => Some((None, 103)),
            _ => None,
        };
        if let Some((family, proto)) = standalone {
            return Ok(self.test(Test::Proto { family, proto }));
        }
        if UNSUPPORTED.contains(&lower.as_str()) {
            return Err(FilterError::Unsupported { token: word, pos });
        }
        let mut q = Quals::default();
        let mut w = Some((word, pos));
        // Protocol qualifier.
        if let Some((cur, _)) = &w {
            q.pq = match cur.to_ascii_lowercase().as_str() {
                "ether" => Some(Pq::Ether),
                "ip" => Some(Pq::Ip),
                "ip6" => Some(Pq::Ip6),
                "tcp" => Some(Pq::L4(6)),
                "udp" => Some(Pq::L4(17)),
                "sctp" => Some(Pq::L4(132)),
                _ => None,
            };
            if q.pq.is_some() {
                w = self.maybe_keyword();
            }
        }
        // Direction qualifier.
        if let Some((cur, _)) = &w {
            let first = match cur.to_ascii_lowercase().as_str() {
                "src" => Some(Dir::Src),
                "dst" => Some(Dir::Dst),
                _ => None,
            };
            if let Some(first) = first {
                q.dir = Some(self.combined_dir(first));
                w = self.maybe_keyword();
            }
        }
        // Type qualifier.
        if let Some((cur, cpos)) = &w {
            let (cur, cpos) = (cur.to_ascii_lowercase(), *cpos);
            q.kind = match cur.as_str() {
                "host" => Some(Kind::Host),
                "net" => Some(Kind::Net),
                "port" => Some(Kind::Port),
                "portrange" => Some(Kind::PortRange),
                "proto" => return self.proto(q.pq, q.dir, cpos),
                _ => None,
            };
            if q.kind.is_some() {
                w = None;
            }
        }
        if q == Quals::default() {
            // A bare value: pcap-filter reuses the previous qualifiers.
            let (cur, cpos) = w.take().unwrap_or_default();
            return match self.last {
                Some(last) => self.build(last, &cur, cpos),
                None => Err(FilterError::Unsupported { token: cur, pos: cpos }),
            };
        }
        if q.dir.is_none() && q.kind.is_none() {
            // `ip`, `ip6`, `tcp`, `udp`, `sctp` alone.
            return match q.pq {
                Some(Pq::Ip) => Ok(self.test(Test::Family(Family::V4))),
                Some(Pq::Ip6) => Ok(self.test(Test::Family(Family::V6))),
                Some(Pq::L4(p)) => Ok(self.test(Test::Proto { family: None, proto: p })),
                _ => Err(FilterError::Expected {
                    what: "`host`, `src` or `dst` after `ether`",
                    found: self.peek().map_or("end".into(), |t| t.kind.text().to_string()),
                    pos: self.pos(),
                }),
            };
        }
        let (id, ipos) = match w {
            Some(v) => v,
            None => self.next_word("an address, network or port")?,
        };
        self.last = Some(q);
        self.build(q, &id, ipos)
    }

    /// If the next token is a qualifier keyword, consumes and returns it.
    fn maybe_keyword(&mut self) -> Option<(String, usize)> {
        const QUALS: &[&str] = &["src", "dst", "host", "net", "port", "portrange", "proto"];
        match self.peek() {
            Some(Token { kind: Tok::Word(x), pos })
                if QUALS.iter().any(|q| q.eq_ignore_ascii_case(x)) =>
            {
                let r = (x.clone(), *pos);
                self.at += 1;
                Some(r)
            }
            _ => None,
        }
    }

    /// `src or dst`, `src and dst` (and `dst ... src`) after a first direction.
    fn combined_dir(&mut self, first: Dir) -> Dir {
        let other = if first == Dir::Src { "dst" } else { "src" };
        if (self.is_and() || self.is_or()) && is_word(self.peek_at(1), other) {
            let both = self.is_and();
            self.at += 2;
            return if both { Dir::Both } else { Dir::Either };
        }
        first
    }

    /// `[ip|ip6] proto N`.
    fn proto(&mut self, pq: Option<Pq>, dir: Option<Dir>, pos: usize) -> Result<Expr, FilterError> {
        if dir.is_some() {
            return Err(invalid("proto", pos, "`src`/`dst` cannot qualify `proto`"));
        }
        let family = match pq {
            None => None,
            Some(Pq::Ip) => Some(Family::V4),
            Some(Pq::Ip6) => Some(Family::V6),
            Some(_) => {
                return Err(FilterError::Unsupported {
                    token: "proto after ether/tcp/udp".into(),
                    pos,
                });
            }
        };
        let (v, vpos) = self.next_word("a protocol number or name")?;
        let proto = proto_number(&v).ok_or_else(|| invalid(&v, vpos, "unknown protocol"))?;
        Ok(self.test(Test::Proto { family, proto }))
    }

    fn build(&mut self, q: Quals, id: &str, pos: usize) -> Result<Expr, FilterError> {
        let dir = q.dir.unwrap_or(Dir::Either);
        if q.pq == Some(Pq::Ether) {
            if !matches!(q.kind, None | Some(Kind::Host)) {
                return Err(invalid(id, pos, "`ether` takes `host`, `src` or `dst`"));
            }
            let mac = mac(id).ok_or_else(|| invalid(id, pos, "expected a MAC address"))?;
            let e = self.test(Test::EtherHost { dir, mac });
            return Ok(e);
        }
        let family = match q.pq {
            Some(Pq::Ip) => Some(Family::V4),
            Some(Pq::Ip6) => Some(Family::V6),
            _ => None,
        };
        let kind = q.kind.unwrap_or(if id.contains('/') { Kind::Net } else { Kind::Host });
        match kind {
            Kind::Port | Kind::PortRange => {
                let (lo, hi) = if kind == Kind::Port {
                    super::value::port_number(id).map(|p| (p, p))
                } else {
                    port_range(id)
                }
                .ok_or_else(|| invalid(id, pos, "expected a port number (0-65535) or range A-B"))?;
                let proto = match q.pq {
                    Some(Pq::L4(p)) => Some(p),
                    _ => None,
                };
                Ok(self.test(Test::Port { dir, family, proto, lo, hi }))
            }
            Kind::Host | Kind::Net if matches!(q.pq, Some(Pq::L4(_))) => {
                Err(invalid(id, pos, "`tcp`/`udp`/`sctp` cannot qualify a host or net"))
            }
            Kind::Host => {
                let addr: IpAddr = id.parse().map_err(|_| {
                    invalid(id, pos, "expected an IP address (host names are not resolved)")
                })?;
                check_family(family, addr.is_ipv6(), id, pos)?;
                Ok(self.test(Test::Host { dir, addr }))
            }
            Kind::Net => {
                let (v6, net, mask) = self.net(id, pos)?;
                check_family(family, v6, id, pos)?;
                Ok(self.test(Test::Net { dir, v6, net, mask }))
            }
        }
    }

    /// `NET/LEN`, `NET` (pcap-filter's classful abbreviations) or `NET mask MASK`.
    fn net(&mut self, id: &str, pos: usize) -> Result<(bool, u128, u128), FilterError> {
        let (addr, len) = id.split_once('/').map_or((id, None), |(a, l)| (a, Some(l)));
        let (bits, v6, implied) = if addr.contains(':') {
            let a: std::net::Ipv6Addr =
                addr.parse().map_err(|_| invalid(id, pos, "expected an IPv6 network"))?;
            (a.to_bits(), true, 128)
        } else {
            let (a, implied) =
                v4_net(addr).ok_or_else(|| invalid(id, pos, "expected an IPv4 network"))?;
            (u128::from(a.to_bits()), false, implied)
        };
        let width = if v6 { 128 } else { 32 };
        let mask = if let Some(l) = len {
            match l.parse::<u8>() {
                Ok(n) if n <= width => prefix_mask(n, width),
                _ => return Err(invalid(id, pos, "prefix length out of range")),
            }
        } else if is_word(self.peek(), "mask") {
            self.at += 1;
            let (m, mpos) = self.next_word("a netmask")?;
            let ip: IpAddr = m.parse().map_err(|_| invalid(&m, mpos, "expected a netmask"))?;
            let (mbits, mv6) = ip_bits(&ip);
            if mv6 != v6 {
                return Err(invalid(&m, mpos, "netmask family differs from the network's"));
            }
            mbits
        } else {
            prefix_mask(implied, width)
        };
        if bits & !mask != 0 {
            return Err(invalid(id, pos, "non-network bits set (pcap-filter rejects this)"));
        }
        Ok((v6, bits, mask))
    }
}

fn check_family(f: Option<Family>, v6: bool, id: &str, pos: usize) -> Result<(), FilterError> {
    match f {
        Some(Family::V4) if v6 => Err(invalid(id, pos, "IPv6 address after `ip`")),
        Some(Family::V6) if !v6 => Err(invalid(id, pos, "IPv4 address after `ip6`")),
        _ => Ok(()),
    }
}

fn invalid(token: &str, pos: usize, reason: &'static str) -> FilterError {
    FilterError::Invalid { token: token.to_string(), pos, reason }
}
