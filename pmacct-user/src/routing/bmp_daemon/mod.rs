//! The BMP collector (pmacct's `pmbmpd` / `bmp_daemon`): a TCP listener, one thread per
//! monitored router, the routes into the shared [`Rib`], and pmacct's message log and
//! periodic dumps.
//!
//! - [`BmpDaemon::start`] binds [`BmpConfig::listen`] and returns; [`BmpDaemon::stop`] closes
//!   every session (each gets its `log_close`) and joins the threads.
//! - Routers outside the allow-list are dropped at accept (`denied`); beyond
//!   [`BmpConfig::max_peers`] they are refused (`rejected`).
//! - Per router: [`BmpFramer`](crate::decode::bmp::BmpFramer) and a fresh
//!   [`SessionTable`](crate::decode::bmp::SessionTable); Route Monitoring → [`Rib::apply_update`],
//!   Peer Down → [`Rib::peer_down_addr`]; when the session ends (EOF, reset, a stream that
//!   cannot be framed, stop) the router's routes are dropped ([`Rib::router_down`]) as pmacct
//!   does in `bmp_peer_close`, and a reconnect starts from scratch.
//! - As pmacct, Route Monitoring of a peer without a Peer Up is discarded, and such a Peer
//!   Down is logged but changes nothing (both counted in [`BmpStats::no_peer_up`]).
//! - Message log ([`BmpConfig::msglog_file`], `$peer_src_ip` expanded, appended): `log_init`,
//!   one `event_type: "log"` line per BMP event (one per statistics counter, one per prefix of
//!   Route Monitoring), `log_close`. Field names and value forms are pmacct 1.7.7's
//!   ([`msglog`]).
//! - Message log to Kafka and AMQP ([`BmpConfig::msglog_kafka`], [`BmpConfig::msglog_amqp`]):
//!   the same lines with pmacct's `writer_id`, one message each, to the router's topic /
//!   routing key through the plugin's transport and delivery queue ([`broker`]).
//! - Captures: [`BmpDaemon::offline`] + [`BmpDaemon::replay_pcap`] feed the BMP TCP sessions
//!   of a pcap (reassembled in order by [`tcp`]) through the same per-router logic, the router
//!   being each connection's TCP source ([`replay`]).
//! - Dumps ([`BmpConfig::dump_file`], [`BmpConfig::dump_kafka`], [`BmpConfig::dump_amqp`]
//!   every [`BmpConfig::dump_refresh_time`] seconds, aligned to multiples of the period as
//!   pmacct does): per router `dump_init`, its RIB, its current peers (Peer Up), the last
//!   statistics and Initiation, `dump_close`; to the brokers one message per line.

mod broker;
mod dump;
pub mod events;
mod listener;
pub mod msglog;
pub mod replay;
mod router;
pub mod tcp;

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, PoisonError, RwLock};
use std::thread::JoinHandle;

use crate::config::BmpConfig;
use crate::input::allow::{AllowError, AllowList};
use crate::routing::Rib;
use crate::sink::delivery::{DeliveryConfig, DeliveryStats};

/// Why the daemon could not start.
#[derive(Debug, thiserror::Error)]
pub enum BmpDaemonError {
    /// `listen` is not `address:port`.
    #[error("bad BMP listen address '{0}'")]
    BadListen(String),
    /// Binding or configuring the socket failed.
    #[error("BMP listener on {addr}: {source}")]
    Bind {
        /// Address.
        addr: String,
        /// Cause.
        source: std::io::Error,
    },
    /// The allow-list could not be read.
    #[error(transparent)]
    Allow(#[from] AllowError),
    /// A thread could not be spawned.
    #[error("spawning a BMP thread: {0}")]
    Spawn(std::io::Error),
    /// A broker output's producer could not be made.
    #[error("{name} to {broker}: {error}")]
    Broker {
        /// `bmp_msglog` or `bmp_dump`.
        name: &'static str,
        /// `kafka` or `amqp`.
        broker: &'static str,
        /// Cause.
        error: String,
    },
    /// `rpki_roas_file` could not be loaded.
    #[error(transparent)]
    Roas(#[from] crate::routing::roa::RoaError),
}

/// Counters of a running daemon.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct BmpStats {
    /// Routers connected now.
    pub routers: usize,
    /// Sessions accepted since start.
    pub connections: u64,
    /// BMP messages decoded.
    pub messages: u64,
    /// Messages that failed to decode plus streams that lost framing.
    pub errors: u64,
    /// Connections from routers outside the allow-list.
    pub denied: u64,
    /// Connections refused because `max_peers` routers were connected.
    pub rejected: u64,
    /// Routes not stored because of `max_router_bytes`.
    pub rib_rejected: u64,
    /// Dumps written (one per router per period).
    pub dumps: u64,
    /// Route Monitoring / Peer Down messages without a Peer Up before them (as pmacct: the
    /// former discarded, the latter logged only).
    pub no_peer_up: u64,
}

#[derive(Debug, Default)]
struct Counters {
    routers: AtomicUsize,
    connections: AtomicU64,
    messages: AtomicU64,
    errors: AtomicU64,
    denied: AtomicU64,
    rejected: AtomicU64,
    rib_rejected: AtomicU64,
    dumps: AtomicU64,
    no_peer_up: AtomicU64,
}

/// Delivery counters of one broker output.
#[derive(Clone, Debug)]
pub struct BrokerStats {
    /// `bmp_msglog` or `bmp_dump` (the metrics' `plugin` label).
    pub name: &'static str,
    /// `kafka` or `amqp`.
    pub broker: &'static str,
    /// The delivery queue's counters.
    pub stats: Arc<DeliveryStats>,
    /// Lines dropped before the queue (channel full).
    pub dropped: u64,
}

/// State the threads share.
struct Shared {
    cfg: BmpConfig,
    rib: Arc<RwLock<Rib>>,
    allow: AllowList,
    stop: AtomicBool,
    /// pmacct's `log_seq`: one sequence for the whole daemon.
    seq: AtomicU64,
    counters: Counters,
    /// Connected routers, by connection id, for the dumper.
    routers: Mutex<HashMap<u64, Arc<Mutex<router::DumpState>>>>,
    /// Router threads, joined at stop.
    threads: Mutex<Vec<JoinHandle<()>>>,
    /// The msglog's broker outputs (Kafka, AMQP), when configured.
    msglog: Vec<broker::LineStream>,
    /// The dumps' broker outputs.
    dump: Vec<broker::LineStream>,
    /// pmacct's `writer_id` added to broker messages.
    writer_id: String,
    /// The ROAs (`rpki_roas_file`) route lines are validated against.
    roas: RwLock<Option<Arc<crate::routing::roa::RoaTable>>>,
}

impl Shared {
    fn next_seq(&self) -> u64 {
        self.seq.fetch_add(1, Ordering::Relaxed)
    }

    fn stopping(&self) -> bool {
        self.stop.load(Ordering::Relaxed)
    }

    /// The ROAs in use, if any.
    fn roas(&self) -> Option<Arc<crate::routing::roa::RoaTable>> {
        self.roas.read().unwrap_or_else(std::sync::PoisonError::into_inner).clone()
    }
}

/// A running BMP collector.
pub struct BmpDaemon {
    shared: Arc<Shared>,
    local: SocketAddr,
    accept: Option<JoinHandle<()>>,
    dumper: Option<JoinHandle<()>>,
    /// Stopped already (threads joined).
    stopped: bool,
}

impl BmpDaemon {
    /// A RIB honouring [`BmpConfig::max_router_bytes`], to pass to [`BmpDaemon::start`].
    pub fn new_rib(cfg: &BmpConfig) -> Arc<RwLock<Rib>> {
        Arc::new(RwLock::new(Rib::with_memory_limit(cfg.max_router_bytes)))
    }

    /// A daemon without listener or dump thread, fed with [`BmpDaemon::replay_pcap`].
    pub fn offline(cfg: &BmpConfig, rib: Arc<RwLock<Rib>>) -> Result<BmpDaemon, BmpDaemonError> {
        let shared = Self::shared(cfg, rib)?;
        let local = SocketAddr::from(([0, 0, 0, 0], 0));
        Ok(BmpDaemon { shared, local, accept: None, dumper: None, stopped: false })
    }

    fn shared(cfg: &BmpConfig, rib: Arc<RwLock<Rib>>) -> Result<Arc<Shared>, BmpDaemonError> {
        let allow = AllowList::load(&cfg.allow, cfg.allow_file.as_deref())?;
        use broker::BrokerConfig as B;
        let start = |name: &'static str, b: Option<B>, d: &Option<DeliveryConfig>| {
            let bound =
                if name == "bmp_dump" { broker::DUMP_CHUNKS } else { broker::CHANNEL_LINES };
            b.map(|b| {
                let broker = b.kind();
                broker::LineStream::start(name, b, d.clone().unwrap_or_default(), bound)
                    .map_err(|error| BmpDaemonError::Broker { name, broker, error })
            })
            .transpose()
        };
        let roas = match &cfg.rpki_roas_file {
            Some(path) => Some(Arc::new(crate::routing::roa::RoaTable::load(path)?)),
            None => None,
        };
        let (log_name, dump_name) = ("bmp_msglog", "bmp_dump");
        let msglog = [
            start(log_name, cfg.msglog_kafka.clone().map(B::Kafka), &cfg.msglog_kafka_delivery)?,
            start(log_name, cfg.msglog_amqp.clone().map(B::Amqp), &cfg.msglog_amqp_delivery)?,
        ];
        let dump = [
            start(dump_name, cfg.dump_kafka.clone().map(B::Kafka), &cfg.dump_kafka_delivery)?,
            start(dump_name, cfg.dump_amqp.clone().map(B::Amqp), &cfg.dump_amqp_delivery)?,
        ];
        Ok(Arc::new(Shared {
            cfg: cfg.clone(),
            rib,
            allow,
            stop: AtomicBool::new(false),
            seq: AtomicU64::new(0),
            counters: Counters::default(),
            routers: Mutex::new(HashMap::new()),
            threads: Mutex::new(Vec::new()),
            msglog: msglog.into_iter().flatten().collect(),
            dump: dump.into_iter().flatten().collect(),
            writer_id: broker::writer_id(),
            roas: RwLock::new(roas),
        }))
    }

    /// Binds the listener, starts the accept (and dump) threads and returns.
    pub fn start(cfg: &BmpConfig, rib: Arc<RwLock<Rib>>) -> Result<BmpDaemon, BmpDaemonError> {
        let listener = listener::bind(&cfg.listen)?;
        let local = listener
            .local_addr()
            .map_err(|source| BmpDaemonError::Bind { addr: cfg.listen.clone(), source })?;
        let shared = Self::shared(cfg, rib)?;
        let s = Arc::clone(&shared);
        let accept = std::thread::Builder::new()
            .name("bmp-accept".into())
            .spawn(move || listener::accept_loop(&s, &listener))
            .map_err(BmpDaemonError::Spawn)?;
        let dumper = if cfg.dump_refresh_time > 0 && cfg.dumps_configured() {
            let s = Arc::clone(&shared);
            Some(
                std::thread::Builder::new()
                    .name("bmp-dump".into())
                    .spawn(move || dump::dump_loop(&s))
                    .map_err(BmpDaemonError::Spawn)?,
            )
        } else {
            None
        };
        tracing::info!(%local, max_peers = cfg.max_peers, "BMP daemon listening");
        Ok(BmpDaemon { shared, local, accept: Some(accept), dumper, stopped: false })
    }

    /// The bound address (the real port when `listen` asked for port 0).
    pub fn local_addr(&self) -> SocketAddr {
        self.local
    }

    /// The shared RIB.
    pub fn rib(&self) -> &Arc<RwLock<Rib>> {
        &self.shared.rib
    }

    /// Re-reads `rpki_roas_file` (a file that fails keeps the ROAs in use).
    pub fn reload_roas(&self) -> Result<(), crate::routing::roa::RoaError> {
        if let Some(path) = &self.shared.cfg.rpki_roas_file {
            let t = Arc::new(crate::routing::roa::RoaTable::load(path)?);
            *self.shared.roas.write().unwrap_or_else(std::sync::PoisonError::into_inner) = Some(t);
        }
        Ok(())
    }

    /// Current counters.
    pub fn stats(&self) -> BmpStats {
        let c = &self.shared.counters;
        BmpStats {
            routers: c.routers.load(Ordering::Relaxed),
            connections: c.connections.load(Ordering::Relaxed),
            messages: c.messages.load(Ordering::Relaxed),
            errors: c.errors.load(Ordering::Relaxed),
            denied: c.denied.load(Ordering::Relaxed),
            rejected: c.rejected.load(Ordering::Relaxed),
            rib_rejected: c.rib_rejected.load(Ordering::Relaxed),
            dumps: c.dumps.load(Ordering::Relaxed),
            no_peer_up: c.no_peer_up.load(Ordering::Relaxed),
        }
    }

    /// Delivery counters of every broker output (msglog and dumps to Kafka and AMQP).
    pub fn broker_stats(&self) -> Vec<BrokerStats> {
        let s = &self.shared;
        s.msglog
            .iter()
            .chain(&s.dump)
            .map(|o| BrokerStats {
                name: o.name,
                broker: o.cfg.kind(),
                stats: Arc::clone(&o.stats),
                dropped: o.dropped.load(Ordering::Relaxed),
            })
            .collect()
    }

    /// Writes a dump now (as the periodic dumper would, stamped with the current second) to
    /// the dump file and brokers configured.
    pub fn dump_now(&self) {
        dump::dump_all(&self.shared, (msglog::now().0, 0));
    }

    /// Closes every session (each router gets its `log_close` and loses its routes), stops
    /// accepting and joins the threads.
    pub fn stop(mut self) {
        self.shutdown();
    }

    fn shutdown(&mut self) {
        if std::mem::replace(&mut self.stopped, true) {
            return;
        }
        self.shared.stop.store(true, Ordering::Relaxed);
        for h in [self.accept.take(), self.dumper.take()].into_iter().flatten() {
            if h.join().is_err() {
                tracing::error!("a BMP daemon thread panicked");
            }
        }
        let threads = std::mem::take(
            &mut *self.shared.threads.lock().unwrap_or_else(PoisonError::into_inner),
        );
        for h in threads {
            if h.join().is_err() {
                tracing::error!("a BMP router thread panicked");
            }
        }
        for o in self.shared.msglog.iter().chain(&self.shared.dump) {
            o.finish();
        }
        tracing::info!(local = %self.local, "BMP daemon stopped");
    }
}

impl Drop for BmpDaemon {
    fn drop(&mut self) {
        self.shutdown();
    }
}
