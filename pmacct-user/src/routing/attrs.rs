//! The attributes a route carries that flows need, in pmacct's text forms, interned per router.

use std::collections::HashSet;
use std::net::IpAddr;
use std::sync::Arc;

use crate::decode::bgp::{AfiSafi, DecodeContext, PathAttr, Update, format};

/// What flow enrichment reads from a route (pmacct primitives in brackets).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct RouteAttrs {
    /// ORIGIN code (0 IGP, 1 EGP, 2 incomplete).
    pub origin: Option<u8>,
    /// AS path in pmacct's form (`as_path`), AS4_PATH merged on 2-byte sessions.
    pub as_path: String,
    /// Path length as best-path selection counts it.
    pub as_path_len: u32,
    /// Origin AS: the last AS of the path, 0 when the path is empty — the `src_as`/`dst_as`
    /// pmacct derives (`evaluate_last_asn`).
    pub origin_as: u32,
    /// First AS of the path (pmacct's `peer_dst_as` with `bgp_peer_as_src_type: bgp`).
    pub first_as: u32,
    /// Standard communities (`comms`).
    pub communities: String,
    /// Extended communities (`ecomms`).
    pub ext_communities: String,
    /// Large communities (`lcomms`).
    pub large_communities: String,
    /// LOCAL_PREF (`local_pref`).
    pub local_pref: Option<u32>,
    /// MULTI_EXIT_DISC (`med`).
    pub med: Option<u32>,
    /// Next hop (`peer_dst_ip`).
    pub next_hop: Option<IpAddr>,
    /// The BGP peer the route came from.
    pub peer_ip: IpAddr,
    /// Its AS (`peer_dst_as` by default).
    pub peer_as: u32,
}

impl RouteAttrs {
    /// Builds the attributes of `update`'s routes of family `af` learnt from `peer_ip`/`peer_as`.
    pub fn from_update(
        update: &Update,
        ctx: &DecodeContext,
        af: AfiSafi,
        peer_ip: IpAddr,
        peer_as: u32,
    ) -> Self {
        let path = update.as_path(ctx).unwrap_or_default();
        let mut a = RouteAttrs {
            origin: None,
            communities: String::new(),
            ext_communities: String::new(),
            large_communities: String::new(),
            local_pref: None,
            med: None,
            as_path: format::as_path(&path),
            as_path_len: u32::try_from(path.path_len()).unwrap_or(u32::MAX),
            origin_as: path.origin_as(),
            first_as: path.first_as(),
            next_hop: update.next_hop(af),
            peer_ip,
            peer_as,
        };
        for attr in &update.attributes {
            match &attr.value {
                PathAttr::Origin(o) => a.origin = Some(*o),
                PathAttr::Med(m) => a.med = Some(*m),
                PathAttr::LocalPref(l) => a.local_pref = Some(*l),
                PathAttr::Communities(c) => a.communities = format::communities(c, false),
                PathAttr::ExtCommunities(e) => {
                    a.ext_communities = format::ext_communities(e, false)
                }
                PathAttr::LargeCommunities(l) => a.large_communities = format::large_communities(l),
                _ => {}
            }
        }
        a
    }

    /// Approximate heap + inline bytes.
    pub fn approx_bytes(&self) -> usize {
        size_of::<Self>()
            + self.as_path.capacity()
            + self.communities.capacity()
            + self.ext_communities.capacity()
            + self.large_communities.capacity()
    }
}

/// Interns attribute sets: equal sets share one `Arc`. Entries whose only owner is the
/// interner are dropped by [`Interner::release`].
#[derive(Debug, Default)]
pub struct Interner {
    set: HashSet<Arc<RouteAttrs>>,
    bytes: usize,
}

impl Interner {
    /// The shared copy of `a` (inserting it) and the bytes newly accounted.
    pub fn intern(&mut self, a: RouteAttrs) -> (Arc<RouteAttrs>, usize) {
        if let Some(x) = self.set.get(&a) {
            return (Arc::clone(x), 0);
        }
        let n = a.approx_bytes() + 2 * size_of::<usize>() + size_of::<Arc<RouteAttrs>>();
        let arc = Arc::new(a);
        self.set.insert(Arc::clone(&arc));
        self.bytes += n;
        (arc, n)
    }

    /// Drops `a` from the table when no route holds it any more (the caller has dropped its
    /// reference); returns the bytes released.
    pub fn release(&mut self, a: &Arc<RouteAttrs>) -> usize {
        // Owners: the set and the caller's `a`.
        if Arc::strong_count(a) <= 2 && self.set.remove(a) {
            let n = a.approx_bytes() + 2 * size_of::<usize>() + size_of::<Arc<RouteAttrs>>();
            self.bytes = self.bytes.saturating_sub(n);
            return n;
        }
        0
    }

    /// Distinct attribute sets held.
    pub fn len(&self) -> usize {
        self.set.len()
    }

    /// True when empty.
    pub fn is_empty(&self) -> bool {
        self.set.is_empty()
    }

    /// Bytes accounted for the attribute sets.
    pub fn bytes(&self) -> usize {
        self.bytes
    }
}
