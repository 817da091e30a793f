//! Routing state learnt from BMP (and later BGP) sessions: the RIB and its longest-prefix
//! match lookups that enrich flows.

pub mod attrs;
pub mod bmp_daemon;
pub mod rib;
pub mod roa;
#[cfg(test)]
mod tests;
pub mod trie;

use std::net::IpAddr;

use crate::decode::bgp::Prefix;

pub use attrs::RouteAttrs;
pub use rib::{PeerId, Rib, RibError, RouteKey, RouteMatch, UpdateCounts};
pub use trie::PrefixMap;

/// What flow enrichment ([`crate::enrich::bgp`]) asks of a routing source (the BMP collector's
/// RIB now, the BGP daemon's later): the route `router` uses for `ip`.
pub trait RouteLookup: Send + Sync + std::fmt::Debug {
    /// The attributes of the best longest-prefix match for `ip` in `router`'s table.
    fn lookup(&self, router: IpAddr, ip: IpAddr) -> Option<&RouteAttrs>;

    /// The route flows exported by `target` use for `ip`: `target` is a router of this source,
    /// or a BGP peer of one (then only that peer's paths count).
    fn lookup_for(&self, target: IpAddr, ip: IpAddr) -> Option<RouteMatch<'_>>;

    /// The routes covering `ip` that `target`'s flows see, most specific first, as (prefix,
    /// origin AS): pmacct's lookup vector, for RPKI validation ([`roa::RoaTable::vector`]).
    fn covering_for(&self, target: IpAddr, ip: IpAddr, out: &mut Vec<(Prefix, u32)>);
}

impl RouteLookup for Rib {
    fn lookup(&self, router: IpAddr, ip: IpAddr) -> Option<&RouteAttrs> {
        Rib::lookup(self, router, ip)
    }

    fn lookup_for(&self, target: IpAddr, ip: IpAddr) -> Option<RouteMatch<'_>> {
        Rib::lookup_for(self, target, ip)
    }

    fn covering_for(&self, target: IpAddr, ip: IpAddr, out: &mut Vec<(Prefix, u32)>) {
        Rib::covering_for(self, target, ip, out)
    }
}
