//! One monitored router: read, frame, decode, update the RIB, log.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::io::Read;
use std::net::{IpAddr, SocketAddr, TcpStream};
use std::path::PathBuf;
use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use super::msglog::{self, Fields, Head, LogFile, RouteLine, Stamp};
use super::{Shared, broker, events};
use crate::decode::bgp::{AfiSafi, Prefix};
use crate::decode::bmp::{self, BmpFramer, BmpMessage, PeerKey, RouteMonitoring, SessionTable};
use crate::routing::{PeerId, RibError, RouteAttrs, RouteKey};

/// How often a blocked read wakes up to look at the stop flag.
const READ_TIMEOUT: Duration = Duration::from_millis(100);

/// What the dumper re-emits for a router besides its RIB: the Initiation, the peers that are
/// up, the last value of each statistic. Each is (event time, body).
#[derive(Debug)]
pub(super) struct DumpState {
    /// The router.
    pub(super) addr: SocketAddr,
    /// Initiation.
    pub(super) init: Option<(Stamp, Fields)>,
    /// Peer Up of every peer that is up.
    pub(super) peers: HashMap<PeerKey, (Stamp, Fields)>,
    /// Last value per (peer, counter type).
    pub(super) stats: BTreeMap<(String, u16), (Stamp, Fields)>,
}

/// Why a session ended.
pub(super) enum End {
    Eof,
    Stop,
    Io(std::io::Error),
    Frame(bmp::FrameError),
}

impl std::fmt::Display for End {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            End::Eof => f.write_str("closed by the router"),
            End::Stop => f.write_str("daemon stopping"),
            End::Io(e) => write!(f, "read error: {e}"),
            End::Frame(e) => write!(f, "stream lost framing: {e}"),
        }
    }
}

pub(super) struct Session<'a> {
    shared: &'a Shared,
    addr: SocketAddr,
    /// Connection id (the dumper's key).
    id: u64,
    sessions: SessionTable,
    framer: BmpFramer,
    log: Option<LogFile>,
    /// Per msglog broker output (as `Shared::msglog`): the router's topic / routing key and
    /// Kafka partition key.
    brokers: Vec<(String, String)>,
    dump: Arc<Mutex<DumpState>>,
    warned_limit: bool,
    /// Peers already reported as lacking a Peer Up.
    missing_up: HashSet<PeerKey>,
    /// Whether withdrawals are logged with the attributes held (pmacct keeps a RIB when it
    /// dumps; standalone without dumps it skips the RIB and logs the prefix only).
    withdraw_attrs: bool,
}

/// Serves one router until EOF, error or stop.
pub(super) fn serve(shared: &Shared, stream: TcpStream, addr: SocketAddr, id: u64) {
    tracing::info!(router = %addr, "BMP router connected");
    let mut s = Session::open(shared, addr, id);
    let end = s.run(stream);
    s.close(&end);
}

impl<'a> Session<'a> {
    /// A new router session: registered for the dumper, its msglog opened, `log_init` written.
    pub(super) fn open(shared: &'a Shared, addr: SocketAddr, id: u64) -> Self {
        let dump = Arc::new(Mutex::new(DumpState {
            addr,
            init: None,
            peers: HashMap::new(),
            stats: BTreeMap::new(),
        }));
        shared.routers.lock().unwrap_or_else(PoisonError::into_inner).insert(id, Arc::clone(&dump));
        let log = shared.cfg.msglog_file.as_deref().and_then(|t| {
            let path = PathBuf::from(msglog::expand(t, addr));
            LogFile::open(&path)
                .map_err(
                    |e| tracing::error!(path = %path.display(), error = %e, "BMP msglog open failed"),
                )
                .ok()
        });
        let brokers = shared
            .msglog
            .iter()
            .map(|o| {
                let key = o.cfg.key().map(|k| msglog::expand(k, addr)).unwrap_or_default();
                (msglog::expand(o.cfg.dest(), addr), key)
            })
            .collect();
        let withdraw_attrs = shared.cfg.dumps_configured() && shared.cfg.dump_refresh_time > 0;
        let mut s = Session {
            shared,
            addr,
            id,
            sessions: SessionTable::new(),
            framer: BmpFramer::new(),
            log,
            brokers,
            dump,
            warned_limit: false,
            missing_up: HashSet::new(),
            withdraw_attrs,
        };
        s.write(&msglog::init_close("log_init", shared.next_seq(), addr));
        s
    }

    /// Ends the session: `log_close`, the router's routes dropped (as pmacct's
    /// `bmp_peer_close`), unregistered.
    pub(super) fn close(mut self, end: &End) {
        let (shared, addr) = (self.shared, self.addr);
        match end {
            End::Eof | End::Stop => {
                tracing::info!(router = %addr, reason = %end, "BMP session closed")
            }
            End::Io(_) | End::Frame(_) => {
                tracing::warn!(router = %addr, reason = %end, "BMP session closed")
            }
        }
        if matches!(end, End::Frame(_)) {
            shared.counters.errors.fetch_add(1, Ordering::Relaxed);
        }
        self.write(&msglog::init_close("log_close", shared.next_seq(), addr));
        let dropped =
            shared.rib.write().unwrap_or_else(PoisonError::into_inner).router_down(addr.ip());
        tracing::debug!(router = %addr, routes = dropped, "BMP router routes flushed");
        shared.routers.lock().unwrap_or_else(PoisonError::into_inner).remove(&self.id);
        shared.counters.routers.fetch_sub(1, Ordering::Relaxed);
    }

    /// Frames and handles `data`, the next bytes of the router's stream; `arrival` stamps the
    /// messages (`None`: now). Fails when the stream cannot be framed.
    pub(super) fn feed(&mut self, data: &[u8], arrival: Option<Stamp>) -> Result<(), End> {
        // The framer is taken out while its frames borrow it.
        let mut framer = std::mem::replace(&mut self.framer, BmpFramer::new());
        framer.push(data);
        let result = loop {
            let frame = match framer.next_frame() {
                Ok(Some(f)) => f,
                Ok(None) => break Ok(()),
                Err(e) => break Err(End::Frame(e)),
            };
            let arrival = arrival.unwrap_or_else(msglog::now);
            match bmp::decode(frame, &mut self.sessions) {
                Ok(msg) => {
                    self.shared.counters.messages.fetch_add(1, Ordering::Relaxed);
                    self.handle(&msg, arrival);
                }
                Err(e) => {
                    self.shared.counters.errors.fetch_add(1, Ordering::Relaxed);
                    tracing::warn!(router = %self.addr, error = %e, "BMP message discarded");
                }
            }
        };
        self.framer = framer;
        result
    }
}

impl Session<'_> {
    fn run(&mut self, mut stream: TcpStream) -> End {
        if let Err(e) =
            stream.set_nonblocking(false).and_then(|()| stream.set_read_timeout(Some(READ_TIMEOUT)))
        {
            return End::Io(e);
        }
        let mut buf = vec![0u8; 64 * 1024];
        loop {
            if self.shared.stopping() {
                return End::Stop;
            }
            let n = match stream.read(&mut buf) {
                Ok(0) => return End::Eof,
                Ok(n) => n,
                Err(e)
                    if matches!(
                        e.kind(),
                        std::io::ErrorKind::WouldBlock
                            | std::io::ErrorKind::TimedOut
                            | std::io::ErrorKind::Interrupted
                    ) =>
                {
                    continue;
                }
                Err(e) => return End::Io(e),
            };
            if let Err(end) = self.feed(buf.get(..n).unwrap_or_default(), None) {
                return end;
            }
        }
    }

    /// True when the msglog goes somewhere (file or brokers).
    fn logging(&self) -> bool {
        self.log.is_some() || !self.brokers.is_empty()
    }

    fn write(&mut self, f: &[(&'static str, serde_json::Value)]) {
        if let Some(log) = &mut self.log
            && let Err(e) = log.write_line(f)
        {
            tracing::error!(router = %self.addr, error = %e, "BMP msglog write failed");
            self.log = None;
        }
        if !self.brokers.is_empty() {
            let body = broker::with_writer(&msglog::to_line(f), &self.shared.writer_id);
            for (out, (dest, key)) in self.shared.msglog.iter().zip(&self.brokers) {
                let line =
                    broker::Line { dest: dest.clone(), key: key.clone(), body: body.clone() };
                out.send(vec![line]);
            }
        }
    }

    fn event(&mut self, event_ts: Stamp, arrival: Stamp, body: &Fields) {
        if self.logging() {
            let head = Head::Log { seq: self.shared.next_seq(), arrival };
            let line = msglog::bmp_event(&head, self.addr, event_ts, body);
            self.write(&line);
        } else {
            self.shared.next_seq();
        }
    }

    fn dump_state(&self) -> std::sync::MutexGuard<'_, DumpState> {
        self.dump.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn handle(&mut self, msg: &BmpMessage, arrival: Stamp) {
        match msg {
            BmpMessage::Initiation(tlvs) => {
                let body = events::init_body(tlvs);
                self.event((0, 0), arrival, &body);
                self.dump_state().init = Some(((0, 0), body));
            }
            BmpMessage::Termination(tlvs) => {
                let body = events::term_body(tlvs);
                self.event((0, 0), arrival, &body);
            }
            BmpMessage::PeerUp(up) => {
                let ts = events::peer_ts(&up.peer);
                let body = events::peer_up_body(up);
                self.event(ts, arrival, &body);
                self.dump_state().peers.insert(PeerKey::of(&up.peer), (ts, body));
            }
            BmpMessage::PeerDown(down) => {
                // pmbmpd 1.7.7 logs every Peer Down, then drops one it saw no Peer Up for
                // (FRR reports a configured neighbour down when a collector connects first).
                let ts = events::peer_ts(&down.peer);
                let body = events::peer_down_body(down);
                self.event(ts, arrival, &body);
                if !self.peer_is_up(&down.peer, "peer down") {
                    return;
                }
                let peer = &down.peer;
                {
                    let mut d = self.dump_state();
                    d.peers.remove(&PeerKey::of(peer));
                    let tag = peer.addr.to_string();
                    d.stats.retain(|(p, _), _| *p != tag);
                }
                let n = self
                    .shared
                    .rib
                    .write()
                    .unwrap_or_else(PoisonError::into_inner)
                    .peer_down_addr(self.addr.ip(), peer.addr, peer.distinguisher_u64());
                tracing::debug!(router = %self.addr, peer = %peer.addr, routes = n, "BMP peer down");
            }
            BmpMessage::StatisticsReport(st) => {
                let ts = events::peer_ts(&st.peer);
                for s in &st.stats {
                    let body = events::stat_body(&st.peer, s);
                    self.event(ts, arrival, &body);
                    self.dump_state().stats.insert((st.peer.addr.to_string(), s.kind), (ts, body));
                }
            }
            BmpMessage::RouteMonitoring(rm) => {
                if self.peer_is_up(&rm.peer, "route monitor") {
                    self.route_monitoring(rm, arrival);
                }
            }
            BmpMessage::RouteMirroring(_) | BmpMessage::Unknown { .. } => {
                tracing::debug!(router = %self.addr, "BMP message not logged (as pmacct 1.7.7)");
            }
        }
    }

    /// pmacct discards Route Monitoring of a peer it has seen no Peer Up for, and logs such a
    /// Peer Down but does nothing else with it ("missing peer up BMP message"); so do we, RIB
    /// included, and say so once per peer.
    fn peer_is_up(&mut self, peer: &crate::decode::bmp::PeerHeader, what: &str) -> bool {
        let key = PeerKey::of(peer);
        if self.dump_state().peers.contains_key(&key) {
            return true;
        }
        self.shared.counters.no_peer_up.fetch_add(1, Ordering::Relaxed);
        if self.missing_up.insert(key) {
            tracing::info!(
                router = %self.addr,
                peer = %peer.addr,
                what,
                "BMP message discarded: missing Peer Up for this peer"
            );
        }
        false
    }

    fn route_monitoring(&mut self, rm: &RouteMonitoring, arrival: Stamp) {
        let router: IpAddr = self.addr.ip();
        let peer = PeerId::from_bmp(&rm.peer);
        let key = |af: AfiSafi, n: &crate::decode::bgp::Nlri| RouteKey {
            peer,
            afi_safi: af,
            rd: n.rd,
            path_id: n.path_id.unwrap_or(0),
        };
        // pmacct logs a withdrawal only for a route it holds, with the held attributes.
        let withdrawn = rm.update.withdrawn_routes();
        let mut held: HashMap<(Prefix, RouteKey), RouteAttrs> = HashMap::new();
        if self.logging() && self.withdraw_attrs && !withdrawn.is_empty() {
            let want: HashSet<(Prefix, RouteKey)> =
                withdrawn.iter().map(|(af, n)| (n.prefix, key(*af, n))).collect();
            let rib = self.shared.rib.read().unwrap_or_else(PoisonError::into_inner);
            for (p, k, a) in rib.routes(router) {
                if want.contains(&(p, *k)) {
                    held.insert((p, *k), a.clone());
                }
            }
        }
        let applied = self.shared.rib.write().unwrap_or_else(PoisonError::into_inner).apply_update(
            router,
            peer,
            rm.peer.asn,
            &rm.update,
            &rm.context,
        );
        if let Err(RibError::MemoryLimit { limit, .. }) = applied {
            self.shared.counters.rib_rejected.fetch_add(1, Ordering::Relaxed);
            if !self.warned_limit {
                self.warned_limit = true;
                tracing::warn!(router = %self.addr, limit, "BMP router RIB memory limit reached");
            }
        }
        if !self.logging() {
            return;
        }
        let event_ts = events::peer_ts(&rm.peer);
        for (af, n) in &withdrawn {
            let k = key(*af, n);
            match held.get(&(n.prefix, k)) {
                Some(a) => self.route_line("withdraw", event_ts, arrival, rm, &k, n, Some(a)),
                None if !self.withdraw_attrs => {
                    self.route_line("withdraw", event_ts, arrival, rm, &k, n, None);
                }
                None => {}
            }
        }
        let mut cache: Vec<(AfiSafi, RouteAttrs)> = Vec::new();
        for (af, n) in rm.update.announced() {
            let a = match cache.iter().find(|(x, _)| *x == af) {
                Some((_, a)) => a.clone(),
                None => {
                    let a = RouteAttrs::from_update(
                        &rm.update,
                        &rm.context,
                        af,
                        rm.peer.addr,
                        rm.peer.asn,
                    );
                    cache.push((af, a.clone()));
                    a
                }
            };
            self.route_line("update", event_ts, arrival, rm, &key(af, n), n, Some(&a));
        }
    }

    #[allow(clippy::too_many_arguments)]
    fn route_line(
        &mut self,
        log_type: &'static str,
        event_ts: Stamp,
        arrival: Stamp,
        rm: &RouteMonitoring,
        key: &RouteKey,
        n: &crate::decode::bgp::Nlri,
        a: Option<&RouteAttrs>,
    ) {
        let r = RouteLine {
            head: Head::Log { seq: self.shared.next_seq(), arrival },
            log_type,
            router: self.addr,
            event_ts,
            key,
            peer_flags: rm.peer.flags,
            prefix: n.prefix,
            path_id: msglog::path_id_of(n, rm.context.add_path(key.afi_safi)),
            labels: &n.labels,
            // pmacct validates a logged route alone (a one-entry vector): v, i or u.
            roa: a.and_then(|a| Some(self.shared.roas()?.validate(n.prefix, a.origin_as))),
        };
        let line = msglog::route_line(&r, a);
        self.write(&line);
    }
}
