//! Per-peer session state a BMP collector keeps for one router: what each peer's Peer Up
//! negotiated, which decides how its Route Monitoring UPDATEs are encoded.

use std::collections::HashMap;
use std::net::{IpAddr, Ipv4Addr};

use super::{PeerHeader, PeerType, PeerUp};
use crate::decode::bgp::{AfiSafi, DecodeContext, Open};

/// Identifies a monitored peer within one router's BMP session.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct PeerKey {
    /// Peer type.
    pub peer_type: PeerType,
    /// Peer distinguisher (RD), as a number.
    pub distinguisher: u64,
    /// Peer address.
    pub addr: IpAddr,
}

impl PeerKey {
    /// The key of a per-peer header.
    pub fn of(h: &PeerHeader) -> Self {
        Self { peer_type: h.peer_type, distinguisher: h.distinguisher_u64(), addr: h.addr }
    }
}

/// What a Peer Up told us about one peer.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PeerSession {
    /// Peer AS (from the per-peer header).
    pub peer_as: u32,
    /// Peer BGP identifier.
    pub bgp_id: Ipv4Addr,
    /// Both OPENs advertised the 4-octet AS capability.
    pub four_octet_as: bool,
    /// Families where the peer sends path ids to the router (Adj-RIB-In): the received OPEN
    /// can send and the sent OPEN can receive (RFC 7911 §4).
    pub add_path_in: Vec<AfiSafi>,
    /// Families where the router sends path ids to the peer (Adj-RIB-Out, RFC 8671).
    pub add_path_out: Vec<AfiSafi>,
    /// Families both sides advertised with the multiprotocol capability.
    pub families: Vec<AfiSafi>,
    /// Peer Up timestamp (seconds, microseconds).
    pub up_since: (u32, u32),
}

impl PeerSession {
    /// Derives the session state from the two OPENs of a Peer Up.
    pub fn from_opens(peer: &PeerHeader, sent: &Open, received: &Open) -> Self {
        let four_octet_as = sent.four_octet_as().is_some() && received.four_octet_as().is_some();
        let pairs = |tx: &Open, rx: &Open| -> Vec<AfiSafi> {
            tx.add_paths()
                .into_iter()
                .filter(|(af, d)| d.can_send() && rx.add_path(*af).is_some_and(|r| r.can_receive()))
                .map(|(af, _)| af)
                .collect()
        };
        let rx_families = received.multiprotocol();
        Self {
            peer_as: peer.asn,
            bgp_id: peer.bgp_id,
            four_octet_as,
            add_path_in: pairs(received, sent),
            add_path_out: pairs(sent, received),
            families: sent
                .multiprotocol()
                .into_iter()
                .filter(|a| rx_families.contains(a))
                .collect(),
            up_since: (peer.ts_sec, peer.ts_usec),
        }
    }
}

/// One router's peers, keyed by [`PeerKey`]. The collector task owns one per connection.
#[derive(Clone, Debug, Default)]
pub struct SessionTable {
    peers: HashMap<PeerKey, PeerSession>,
}

impl SessionTable {
    /// An empty table.
    pub fn new() -> Self {
        Self::default()
    }

    /// Records a Peer Up (replacing an earlier session of the same peer).
    pub fn peer_up(&mut self, up: &PeerUp) {
        let s = PeerSession::from_opens(&up.peer, &up.sent_open, &up.received_open);
        self.peers.insert(PeerKey::of(&up.peer), s);
    }

    /// Forgets a peer; returns what was known.
    pub fn peer_down(&mut self, peer: &PeerHeader) -> Option<PeerSession> {
        self.peers.remove(&PeerKey::of(peer))
    }

    /// The session of a peer, if a Peer Up was seen.
    pub fn get(&self, peer: &PeerHeader) -> Option<&PeerSession> {
        self.peers.get(&PeerKey::of(peer))
    }

    /// Number of peers up.
    pub fn len(&self) -> usize {
        self.peers.len()
    }

    /// True when no peer is up.
    pub fn is_empty(&self) -> bool {
        self.peers.is_empty()
    }

    /// Every peer.
    pub fn iter(&self) -> impl Iterator<Item = (&PeerKey, &PeerSession)> {
        self.peers.iter()
    }

    /// Forgets every peer (router disconnected).
    pub fn clear(&mut self) {
        self.peers.clear();
    }

    /// How to decode this peer's UPDATEs. 4-byte AS comes from the header's A flag (RFC 7854:
    /// clear means the BMP speaker sends 4-byte paths), always 4-byte for Loc-RIB. Add-path
    /// comes from the Peer Up OPENs: the Adj-RIB-Out direction when the O flag is set, else
    /// Adj-RIB-In; for Loc-RIB, any family either direction negotiated. Without a Peer Up, no
    /// add-path (v4 stateless-parsing TLVs may add it per message).
    pub fn context_for(&self, peer: &PeerHeader) -> DecodeContext {
        let mut ctx = DecodeContext { four_octet_as: !peer.legacy_as_path(), add_path: Vec::new() };
        if let Some(s) = self.get(peer) {
            ctx.add_path = if peer.peer_type == PeerType::LocRib {
                let mut v = s.add_path_in.clone();
                v.extend(s.add_path_out.iter().filter(|a| !s.add_path_in.contains(a)));
                v
            } else if peer.adj_rib_out() {
                s.add_path_out.clone()
            } else {
                s.add_path_in.clone()
            };
        }
        ctx
    }
}
