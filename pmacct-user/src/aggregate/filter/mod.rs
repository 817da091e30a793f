//! `aggregate_filter`: pcap-filter(7) expressions evaluated on flow records.
//!
//! pmacct compiles the expression with libpcap and runs it on the packet (pmacctd, sfacctd) or on
//! a dummy packet built from the flow's fields (nfacctd). We parse the same syntax
//! ([`parser`]) and evaluate it on [`FlowFields`] ([`eval`]): host, net (`/len`, `mask`,
//! classful abbreviations), port, portrange, proto, ip, ip6, tcp, udp, sctp, icmp, icmp6, vlan,
//! ether host, `src`/`dst`/`src or dst`/`src and dst`, and/or/not/&&/||/!, parentheses.
//! Anything else (byte offsets, `less`/`greater` — the dummy packet has no real length —,
//! host names) is a [`FilterError`] naming the token and its position.

mod ast;
mod eval;
mod keywords;
mod lexer;
mod parser;
#[cfg(test)]
mod tests;
mod value;

pub use ast::{Dir, Expr, Family, Test};

use crate::record::FlowFields;

/// Why a filter expression was rejected. Positions are byte offsets into the expression.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FilterError {
    #[error("empty filter expression")]
    Empty,
    #[error("unsupported filter construct `{token}` at position {pos}")]
    Unsupported { token: String, pos: usize },
    #[error("expected {what} at position {pos}, found `{found}`")]
    Expected { what: &'static str, found: String, pos: usize },
    #[error("invalid `{token}` at position {pos}: {reason}")]
    Invalid { token: String, pos: usize, reason: &'static str },
}

/// A compiled `aggregate_filter`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Filter {
    text: String,
    expr: Expr,
}

impl Filter {
    /// Parses a pcap-filter expression.
    pub fn parse(text: &str) -> Result<Filter, FilterError> {
        Ok(Filter { text: text.to_string(), expr: parser::parse(text)? })
    }

    /// True when the record passes the filter.
    pub fn matches(&self, f: &FlowFields) -> bool {
        eval::eval(&self.expr, f)
    }

    /// The expression as written.
    pub fn text(&self) -> &str {
        &self.text
    }

    /// The parsed expression.
    pub fn expr(&self) -> &Expr {
        &self.expr
    }
}

/// Parses a MAC address as filters write it (`aa:bb:cc:dd:ee:ff`).
pub fn parse_mac(s: &str) -> Option<[u8; 6]> {
    value::mac(s)
}
