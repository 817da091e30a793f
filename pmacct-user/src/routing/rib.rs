//! The RIB: per router, per peer (and RD, and RIB view), per AFI/SAFI, per path id, prefixes
//! with interned attributes in a longest-prefix-match map.
//!
//! `lookup(router, ip)` returns the route flows are enriched from: the longest matching prefix
//! among that router's non-VPN unicast routes (SAFI 1 and 4; multicast and VPN routes are left
//! out — VPN routes are found with [`Rib::lookup_vpn`]). When several peers/paths hold that
//! prefix the tie-break, in order, is: Loc-RIB view first, then post-policy before pre-policy,
//! Adj-RIB-In before Adj-RIB-Out; highest LOCAL_PREF (absent = 100); shortest AS path; lowest
//! ORIGIN; lowest MED (absent = 0); lowest peer address; lowest path id.

use std::cmp::Reverse;
use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Arc;

use super::attrs::{Interner, RouteAttrs};
use super::trie::PrefixMap;
use crate::decode::bgp::{AfiSafi, DecodeContext, Prefix, RouteDistinguisher, Update};
use crate::decode::bmp::{PeerHeader, PeerType, flags};

/// Errors from RIB updates.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum RibError {
    /// The router's memory limit would be exceeded; the route was not stored.
    #[error("RIB memory limit of {limit} bytes reached for router {router}")]
    MemoryLimit {
        /// Router.
        router: IpAddr,
        /// Configured limit.
        limit: usize,
    },
}

/// One RIB view of one peer, as a BMP per-peer header names it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct PeerId {
    /// BMP peer type (0 global, 1 RD, 2 local, 3 Loc-RIB).
    pub peer_type: u8,
    /// The view flags: L (post-policy) and O (Adj-RIB-Out) bits; 0 for Loc-RIB.
    pub view: u8,
    /// Peer distinguisher.
    pub distinguisher: u64,
    /// Peer address.
    pub addr: IpAddr,
}

impl PeerId {
    /// The peer and view a BMP per-peer header refers to.
    pub fn from_bmp(h: &PeerHeader) -> Self {
        let view =
            if h.peer_type == PeerType::LocRib { 0 } else { h.flags & (flags::L | flags::O) };
        Self {
            peer_type: h.peer_type.code(),
            view,
            distinguisher: h.distinguisher_u64(),
            addr: h.addr,
        }
    }

    fn rank(&self) -> (bool, bool, bool) {
        (self.peer_type != 3, self.view & flags::L == 0, self.view & flags::O != 0)
    }
}

/// Identifies one path to a prefix within a router.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct RouteKey {
    /// Peer and view.
    pub peer: PeerId,
    /// Family.
    pub afi_safi: AfiSafi,
    /// Route distinguisher (VPN families).
    pub rd: Option<RouteDistinguisher>,
    /// Add-path identifier (0 without add-path).
    pub path_id: u32,
}

#[derive(Clone, Debug)]
struct Route {
    key: RouteKey,
    attrs: Arc<RouteAttrs>,
}

/// A lookup result.
#[derive(Clone, Copy, Debug)]
pub struct RouteMatch<'a> {
    /// The matching prefix.
    pub prefix: Prefix,
    /// Which path.
    pub key: &'a RouteKey,
    /// Its attributes (shared by every route with the same ones; the `Arc` identifies the set,
    /// which flow enrichment uses to cache its interned strings).
    pub attrs: &'a Arc<RouteAttrs>,
}

/// Counts of one applied UPDATE.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct UpdateCounts {
    /// Routes stored or replaced.
    pub announced: usize,
    /// Routes removed.
    pub withdrawn: usize,
    /// Withdrawals of routes not held.
    pub unknown_withdrawn: usize,
}

const ROUTE_BYTES: usize = size_of::<Route>();
const PREFIX_BYTES: usize = size_of::<Vec<Route>>() + size_of::<u128>() + 8;

#[derive(Debug, Default)]
struct RouterRib {
    map: PrefixMap<Vec<Route>>,
    interner: Interner,
    routes: usize,
    bytes: usize,
}

impl RouterRib {
    fn remove(&mut self, key: &RouteKey, prefix: &Prefix) -> bool {
        let Some(v) = self.map.get_mut(prefix) else {
            return false;
        };
        let Some(i) = v.iter().position(|r| r.key == *key) else {
            return false;
        };
        let r = v.swap_remove(i);
        let empty = v.is_empty();
        if empty {
            self.map.remove(prefix);
            self.bytes = self.bytes.saturating_sub(PREFIX_BYTES);
        }
        self.release(r);
        true
    }

    fn release(&mut self, r: Route) {
        self.routes -= 1;
        self.bytes = self.bytes.saturating_sub(ROUTE_BYTES);
        let freed = self.interner.release(&r.attrs);
        self.bytes = self.bytes.saturating_sub(freed);
    }
}

/// The tie-break between paths of one prefix (lowest first; see the module doc).
fn preference(r: &Route) -> impl Ord + use<> {
    let a = &r.attrs;
    (
        r.key.peer.rank(),
        Reverse(a.local_pref.unwrap_or(100)),
        a.as_path_len,
        a.origin.unwrap_or(0),
        a.med.unwrap_or(0),
        r.key.peer.addr,
        r.key.path_id,
    )
}

/// Routes of every monitored router.
#[derive(Debug, Default)]
pub struct Rib {
    routers: HashMap<IpAddr, RouterRib>,
    limit: Option<usize>,
}

impl Rib {
    /// An empty RIB without a memory limit.
    pub fn new() -> Self {
        Self::default()
    }

    /// An empty RIB whose routers may each hold at most `limit` (approximate) bytes.
    pub fn with_memory_limit(limit: Option<usize>) -> Self {
        Self { routers: HashMap::new(), limit }
    }

    /// Stores (or replaces) one path.
    pub fn announce(
        &mut self,
        router: IpAddr,
        key: RouteKey,
        prefix: Prefix,
        attrs: RouteAttrs,
    ) -> Result<(), RibError> {
        let (attrs, attr_bytes) = self.routers.entry(router).or_default().interner.intern(attrs);
        self.store(router, key, prefix, attrs, attr_bytes)
    }

    /// Stores one path whose attributes come from this router's interner (`attr_bytes`: what
    /// interning them newly accounted).
    fn store(
        &mut self,
        router: IpAddr,
        key: RouteKey,
        prefix: Prefix,
        attrs: Arc<RouteAttrs>,
        attr_bytes: usize,
    ) -> Result<(), RibError> {
        let limit = self.limit;
        let rr = self.routers.entry(router).or_default();
        rr.remove(&key, &prefix);
        let new_prefix = rr.map.get(&prefix).is_none();
        let need = ROUTE_BYTES + if new_prefix { PREFIX_BYTES } else { 0 };
        if let Some(limit) = limit
            && rr.bytes + need + attr_bytes > limit
        {
            let freed = rr.interner.release(&attrs);
            drop(attrs);
            rr.bytes = rr.bytes.saturating_sub(freed.saturating_sub(attr_bytes));
            return Err(RibError::MemoryLimit { router, limit });
        }
        rr.bytes += need + attr_bytes;
        rr.routes += 1;
        // Most prefixes have one path: no spare capacity (a Vec would reserve four).
        rr.map.get_or_insert_with(&prefix, || Vec::with_capacity(1)).push(Route { key, attrs });
        Ok(())
    }

    /// Removes one path; false when it was not held.
    pub fn withdraw(&mut self, router: IpAddr, key: &RouteKey, prefix: &Prefix) -> bool {
        self.routers.get_mut(&router).is_some_and(|rr| rr.remove(key, prefix))
    }

    /// Applies an UPDATE received by `peer` (AS `peer_as`): withdrawals, then announcements.
    pub fn apply_update(
        &mut self,
        router: IpAddr,
        peer: PeerId,
        peer_as: u32,
        update: &Update,
        ctx: &DecodeContext,
    ) -> Result<UpdateCounts, RibError> {
        let mut c = UpdateCounts::default();
        let key = |af: AfiSafi, n: &crate::decode::bgp::Nlri| RouteKey {
            peer,
            afi_safi: af,
            rd: n.rd,
            path_id: n.path_id.unwrap_or(0),
        };
        for (af, n) in update.withdrawn_routes() {
            if self.withdraw(router, &key(af, n), &n.prefix) {
                c.withdrawn += 1;
            } else {
                c.unknown_withdrawn += 1;
            }
        }
        // One attribute set per family per UPDATE: decoded and interned once, shared by its
        // prefixes. The bytes it adds are accounted with the first prefix stored.
        let mut cache: Vec<(AfiSafi, Arc<RouteAttrs>, usize)> = Vec::new();
        let mut result = Ok(());
        for (af, n) in update.announced() {
            let (attrs, bytes) = match cache.iter_mut().find(|(a, _, _)| *a == af) {
                Some((_, at, bytes)) => (Arc::clone(at), std::mem::take(bytes)),
                None => {
                    let at = RouteAttrs::from_update(update, ctx, af, peer.addr, peer_as);
                    let (at, bytes) = self.routers.entry(router).or_default().interner.intern(at);
                    cache.push((af, Arc::clone(&at), 0));
                    (at, bytes)
                }
            };
            if let Err(e) = self.store(router, key(af, n), n.prefix, attrs, bytes) {
                result = Err(e);
                break;
            }
            c.announced += 1;
        }
        // Sets no route took (the memory limit refused them) leave the interner.
        if let Some(rr) = self.routers.get_mut(&router) {
            for (_, at, _) in &cache {
                rr.interner.release(at);
            }
        }
        result.map(|()| c)
    }

    /// Removes every path of `peer` (all views are separate [`PeerId`]s; pass each, or use
    /// [`Rib::peer_down_addr`]). Returns the number removed.
    pub fn peer_down(&mut self, router: IpAddr, peer: &PeerId) -> usize {
        self.remove_where(router, |k| k.peer == *peer)
    }

    /// Removes every path learnt from the peer at `addr` with distinguisher `distinguisher`,
    /// in every view (what a BMP Peer Down means).
    pub fn peer_down_addr(&mut self, router: IpAddr, addr: IpAddr, distinguisher: u64) -> usize {
        self.remove_where(router, |k| k.peer.addr == addr && k.peer.distinguisher == distinguisher)
    }

    fn remove_where(&mut self, router: IpAddr, f: impl Fn(&RouteKey) -> bool) -> usize {
        let Some(rr) = self.routers.get_mut(&router) else {
            return 0;
        };
        let mut gone = Vec::new();
        let mut emptied = 0;
        rr.map.retain(|v| {
            let mut i = 0;
            while i < v.len() {
                if v.get(i).is_some_and(|r| f(&r.key)) {
                    gone.push(v.swap_remove(i));
                } else {
                    i += 1;
                }
            }
            emptied += usize::from(v.is_empty());
            !v.is_empty()
        });
        rr.bytes = rr.bytes.saturating_sub(emptied * PREFIX_BYTES);
        let n = gone.len();
        for r in gone {
            rr.release(r);
        }
        n
    }

    /// Forgets a router entirely; returns the paths dropped.
    pub fn router_down(&mut self, router: IpAddr) -> usize {
        self.routers.remove(&router).map_or(0, |r| r.routes)
    }

    /// The attributes flows use for `ip` seen by `router` (see the module doc for the rules).
    pub fn lookup(&self, router: IpAddr, ip: IpAddr) -> Option<&RouteAttrs> {
        self.lookup_route(router, ip).map(|m| m.attrs.as_ref())
    }

    /// The route flows exported by `target` use for `ip`, as pmacct's BMP lookups find it:
    /// `target` is a monitored router (the edge router exports the flows and BMP), else a
    /// BGP peer of one (a route reflector streams BMP): then only that peer's paths count.
    pub fn lookup_for(&self, target: IpAddr, ip: IpAddr) -> Option<RouteMatch<'_>> {
        let unicast = |r: &Route| r.key.rd.is_none() && matches!(r.key.afi_safi.safi, 1 | 4);
        if self.routers.contains_key(&target) {
            return self.best(target, ip, unicast);
        }
        self.routers
            .keys()
            .find_map(|&router| self.best(router, ip, |r| unicast(r) && r.key.peer.addr == target))
    }

    /// Like [`Rib::lookup`], with the prefix and path that matched.
    pub fn lookup_route(&self, router: IpAddr, ip: IpAddr) -> Option<RouteMatch<'_>> {
        let ok = |r: &Route| r.key.rd.is_none() && matches!(r.key.afi_safi.safi, 1 | 4);
        self.best(router, ip, ok)
    }

    /// The longest match for `ip` among VPN routes with route distinguisher `rd`.
    pub fn lookup_vpn(
        &self,
        router: IpAddr,
        rd: RouteDistinguisher,
        ip: IpAddr,
    ) -> Option<RouteMatch<'_>> {
        self.best(router, ip, |r| r.key.rd == Some(rd))
    }

    fn best(
        &self,
        router: IpAddr,
        ip: IpAddr,
        ok: impl Fn(&Route) -> bool,
    ) -> Option<RouteMatch<'_>> {
        let rr = self.routers.get(&router)?;
        let (prefix, v) = rr.map.longest_match_by(ip, |v| v.iter().any(&ok))?;
        let r = v.iter().filter(|r| ok(r)).min_by_key(|r| preference(r))?;
        Some(RouteMatch { prefix, key: &r.key, attrs: &r.attrs })
    }

    /// The routes pmacct's lookup "vector" holds for `ip` seen by `target` (chosen as in
    /// [`Rib::lookup_for`]), for RPKI validation: every path of every prefix covering `ip`,
    /// most specific prefix first and, within a prefix, the path [`Rib::lookup_for`] picks
    /// first; each as (prefix, origin AS). `out` is cleared first.
    pub fn covering_for(&self, target: IpAddr, ip: IpAddr, out: &mut Vec<(Prefix, u32)>) {
        out.clear();
        let unicast = |r: &Route| r.key.rd.is_none() && matches!(r.key.afi_safi.safi, 1 | 4);
        if self.routers.contains_key(&target) {
            self.covering(target, ip, 128, unicast, out);
            return;
        }
        let of_peer = |r: &Route| unicast(r) && r.key.peer.addr == target;
        if let Some(&router) =
            self.routers.keys().find(|&&router| self.best(router, ip, of_peer).is_some())
        {
            self.covering(router, ip, 128, of_peer, out);
        }
    }

    /// The unicast routes of `router` learnt from `peer` covering `prefix` (itself included),
    /// most specific first, as [`Rib::covering_for`]: pmacct's vector for a dumped route.
    pub fn covering_of_peer(
        &self,
        router: IpAddr,
        prefix: Prefix,
        peer: IpAddr,
        out: &mut Vec<(Prefix, u32)>,
    ) {
        out.clear();
        let ok = |r: &Route| {
            r.key.rd.is_none() && matches!(r.key.afi_safi.safi, 1 | 4) && r.key.peer.addr == peer
        };
        self.covering(router, prefix.addr, prefix.len, ok, out);
    }

    fn covering(
        &self,
        router: IpAddr,
        ip: IpAddr,
        max_len: u8,
        ok: impl Fn(&Route) -> bool,
        out: &mut Vec<(Prefix, u32)>,
    ) {
        let Some(rr) = self.routers.get(&router) else { return };
        for (prefix, v) in rr.map.covering(ip, max_len) {
            let Some(best) = v.iter().filter(|r| ok(r)).min_by_key(|r| preference(r)) else {
                continue;
            };
            out.push((prefix, best.attrs.origin_as));
            let others = v.iter().filter(|r| ok(r) && !std::ptr::eq(*r, best));
            out.extend(others.map(|r| (prefix, r.attrs.origin_as)));
        }
    }

    /// Every path of `router`: (prefix, key, attributes).
    pub fn routes(&self, router: IpAddr) -> impl Iterator<Item = (Prefix, &RouteKey, &RouteAttrs)> {
        self.routers.get(&router).into_iter().flat_map(|rr| {
            rr.map.iter().flat_map(|(p, v)| v.iter().map(move |r| (p, &r.key, &*r.attrs)))
        })
    }

    /// Paths held for `router`.
    pub fn route_count(&self, router: IpAddr) -> usize {
        self.routers.get(&router).map_or(0, |r| r.routes)
    }

    /// Distinct prefixes held for `router`.
    pub fn prefix_count(&self, router: IpAddr) -> usize {
        self.routers.get(&router).map_or(0, |r| r.map.len())
    }

    /// Distinct attribute sets held for `router`.
    pub fn attr_sets(&self, router: IpAddr) -> usize {
        self.routers.get(&router).map_or(0, |r| r.interner.len())
    }

    /// Approximate bytes held for `router`.
    pub fn memory_bytes(&self, router: IpAddr) -> usize {
        self.routers.get(&router).map_or(0, |r| r.bytes)
    }

    /// Routers with state.
    pub fn routers(&self) -> impl Iterator<Item = IpAddr> + '_ {
        self.routers.keys().copied()
    }
}
