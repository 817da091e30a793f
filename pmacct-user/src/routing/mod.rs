//! Routing state learnt from BMP (and later BGP) sessions: the RIB and its longest-prefix
//! match lookups that enrich flows.

pub mod attrs;
pub mod bmp_daemon;
pub mod rib;
#[cfg(test)]
mod tests;
pub mod trie;

use std::net::IpAddr;

pub use attrs::RouteAttrs;
pub use rib::{PeerId, Rib, RibError, RouteKey, RouteMatch, UpdateCounts};
pub use trie::PrefixMap;

/// What flow enrichment asks of a routing source (the BMP collector's RIB now, the BGP
/// daemon's later): the route `router` uses for `ip`.
pub trait RouteLookup {
    /// The attributes of the best longest-prefix match for `ip` in `router`'s table.
    fn lookup(&self, router: IpAddr, ip: IpAddr) -> Option<&RouteAttrs>;
}

impl RouteLookup for Rib {
    fn lookup(&self, router: IpAddr, ip: IpAddr) -> Option<&RouteAttrs> {
        Rib::lookup(self, router, ip)
    }
}
