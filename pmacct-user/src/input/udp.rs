//! UDP listeners of a collector: per address, several SO_REUSEPORT sockets (one per CPU by
//! default) with large receive buffers, one thread each, receiving up to 32 datagrams per
//! `recvmmsg` call, decoding in place and batching records to the aggregator. Kernel drops per
//! socket are read from `/proc/net/udp{,6}`.

use std::io;
use std::net::{SocketAddr, UdpSocket};
use std::os::fd::AsRawFd;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::SyncSender;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use socket2::{Domain, Protocol, Socket, Type};
use tracing::{info, warn};

use super::allow::AllowList;
use super::collector::{BATCH, CollectorStats, ExportDecoder, now_us, send_batch};
use super::mmsg::RecvBatch;
use crate::config::CollectorConfig;
use crate::record::FlowRecord;

/// Datagrams taken per `recvmmsg` call.
const RECV_BATCH: usize = 32;

/// Builds a fresh decoder for each socket thread.
pub type DecoderFactory = Arc<dyn Fn() -> Box<dyn ExportDecoder> + Send + Sync>;

/// Errors starting a listener.
#[derive(Debug, thiserror::Error)]
pub enum UdpError {
    #[error("'{0}' is not address:port")]
    Address(String),
    #[error("listening on {addr}: {source}")]
    Bind { addr: SocketAddr, source: io::Error },
}

/// The running sockets of one collector.
pub struct UdpListeners {
    stop: Arc<AtomicBool>,
    threads: Vec<JoinHandle<()>>,
    /// Socket inodes, to find their kernel drop counters.
    inodes: Vec<u64>,
    /// Bound addresses (port 0 resolved), one per socket.
    pub local: Vec<SocketAddr>,
}

fn open(addr: SocketAddr, rcvbuf: usize) -> io::Result<UdpSocket> {
    let sock = Socket::new(Domain::for_address(addr), Type::DGRAM, Some(Protocol::UDP))?;
    sock.set_reuse_port(true)?;
    if addr.is_ipv6() {
        // `[::]` takes IPv4 exporters too, as pmacct's default listener does.
        let _ = sock.set_only_v6(false);
    }
    set_rcvbuf(&sock, rcvbuf);
    sock.bind(&addr.into())?;
    let udp: UdpSocket = sock.into();
    udp.set_read_timeout(Some(Duration::from_millis(50)))?;
    Ok(udp)
}

/// SO_RCVBUFFORCE (beyond `net.core.rmem_max`, needs CAP_NET_ADMIN), else SO_RCVBUF.
fn set_rcvbuf(sock: &Socket, bytes: usize) {
    let val = libc::c_int::try_from(bytes).unwrap_or(libc::c_int::MAX);
    // SAFETY: setsockopt with a valid fd and a pointer to a c_int of the given size.
    let rc = unsafe {
        libc::setsockopt(
            sock.as_raw_fd(),
            libc::SOL_SOCKET,
            libc::SO_RCVBUFFORCE,
            (&val as *const libc::c_int).cast(),
            std::mem::size_of::<libc::c_int>() as libc::socklen_t,
        )
    };
    if rc != 0 && sock.set_recv_buffer_size(bytes).is_err() {
        warn!(bytes, "could not set the socket receive buffer");
    }
}

fn inode_of(sock: &UdpSocket) -> u64 {
    // SAFETY: fstat on a valid fd into a zeroed stat buffer.
    unsafe {
        let mut st: libc::stat = std::mem::zeroed();
        if libc::fstat(sock.as_raw_fd(), &mut st) == 0 { st.st_ino } else { 0 }
    }
}

impl UdpListeners {
    /// Binds `cfg.listen` (× `cfg.sockets`, 0 = one per CPU) and starts the threads.
    pub fn start(
        name: &str,
        cfg: &CollectorConfig,
        factory: DecoderFactory,
        allow: Arc<AllowList>,
        tx: SyncSender<Vec<FlowRecord>>,
        stats: Arc<CollectorStats>,
    ) -> Result<Self, UdpError> {
        let per_addr = if cfg.sockets == 0 {
            std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1)
        } else {
            cfg.sockets
        };
        let stop = Arc::new(AtomicBool::new(false));
        let mut me = UdpListeners {
            stop: stop.clone(),
            threads: Vec::new(),
            inodes: Vec::new(),
            local: Vec::new(),
        };
        for l in &cfg.listen {
            let mut addr: SocketAddr = l.parse().map_err(|_| UdpError::Address(l.clone()))?;
            for i in 0..per_addr {
                let sock = open(addr, cfg.recv_buffer_bytes)
                    .map_err(|source| UdpError::Bind { addr, source })?;
                if let Ok(bound) = sock.local_addr() {
                    // With port 0 the kernel picked one: the other sockets must share it.
                    addr.set_port(bound.port());
                    me.local.push(bound);
                }
                me.inodes.push(inode_of(&sock));
                let (stop, tx, stats, allow) =
                    (stop.clone(), tx.clone(), stats.clone(), allow.clone());
                let decoder = factory();
                let me_index = me.threads.len();
                let t = std::thread::Builder::new()
                    .name(format!("{name}-{i}"))
                    .spawn(move || {
                        let thread =
                            Thread { index: me_index, allow: &allow, tx: &tx, stats: &stats };
                        receive_loop(sock, decoder, &thread, &stop)
                    })
                    .map_err(|source| UdpError::Bind { addr, source })?;
                me.threads.push(t);
            }
            info!(collector = name, %addr, sockets = per_addr, "listening");
        }
        Ok(me)
    }

    /// Datagrams the kernel dropped on these sockets (full receive buffers).
    pub fn kernel_drops(&self) -> u64 {
        let mut total = 0;
        for file in ["/proc/net/udp", "/proc/net/udp6"] {
            let Ok(text) = std::fs::read_to_string(file) else { continue };
            total += drops_for(&text, &self.inodes);
        }
        total
    }

    /// Stops the threads (they flush what they decoded) and waits for them.
    pub fn stop(self) {
        self.stop.store(true, Ordering::SeqCst);
        for t in self.threads {
            let _ = t.join();
        }
    }
}

/// Sum of the `drops` column of `/proc/net/udp` lines whose inode is in `inodes`.
fn drops_for(text: &str, inodes: &[u64]) -> u64 {
    text.lines()
        .skip(1)
        .filter_map(|l| {
            let cols: Vec<&str> = l.split_whitespace().collect();
            let inode: u64 = cols.get(9)?.parse().ok()?;
            let drops: u64 = cols.last()?.parse().ok()?;
            inodes.contains(&inode).then_some(drops)
        })
        .sum()
}

/// What a socket thread shares with its collector.
struct Thread<'a> {
    /// Index among the collector's socket threads (its slot in the per-exporter counters).
    index: usize,
    allow: &'a AllowList,
    tx: &'a SyncSender<Vec<FlowRecord>>,
    stats: &'a CollectorStats,
}

/// How often a socket thread publishes its decoder's per-exporter counters.
const PUBLISH_EVERY: Duration = Duration::from_secs(1);

fn receive_loop(
    sock: UdpSocket,
    mut decoder: Box<dyn ExportDecoder>,
    th: &Thread<'_>,
    stop: &AtomicBool,
) {
    let (allow, tx, stats) = (th.allow, th.tx, th.stats);
    let mut last_publish = Instant::now();
    let mut rx = RecvBatch::new(RECV_BATCH);
    let mut batch: Vec<FlowRecord> = Vec::with_capacity(BATCH);
    let mut last_send = Instant::now();
    while !stop.load(Ordering::Relaxed) {
        match rx.recv(sock.as_raw_fd()) {
            Ok(n) => {
                let now = now_us();
                for d in (0..n).filter_map(|i| rx.get(i)) {
                    CollectorStats::add(&stats.datagrams, 1);
                    CollectorStats::add(&stats.bytes, d.payload.len() as u64);
                    let Some(src) = d.src else { continue };
                    if !allow.allows(src.ip()) {
                        CollectorStats::add(&stats.denied, 1);
                        continue;
                    }
                    if d.truncated {
                        CollectorStats::add(&stats.malformed, 1);
                        continue;
                    }
                    let before = batch.len();
                    if decoder.decode(src, now, d.payload, &mut batch).is_err() {
                        CollectorStats::add(&stats.malformed, 1);
                    }
                    CollectorStats::add(&stats.flows, (batch.len() - before) as u64);
                }
            }
            Err(e)
                if matches!(
                    e.kind(),
                    io::ErrorKind::WouldBlock
                        | io::ErrorKind::TimedOut
                        | io::ErrorKind::Interrupted
                ) => {}
            Err(e) => {
                warn!(error = %e, "receive failed");
                std::thread::sleep(Duration::from_millis(10));
            }
        }
        if batch.len() >= BATCH
            || (!batch.is_empty() && last_send.elapsed() >= Duration::from_millis(50))
        {
            send_batch(tx, &mut batch, stats);
            last_send = Instant::now();
        }
        if last_publish.elapsed() >= PUBLISH_EVERY {
            stats.publish(th.index, decoder.exporter_counters());
            last_publish = Instant::now();
        }
    }
    send_batch(tx, &mut batch, stats);
    stats.publish(th.index, decoder.exporter_counters());
    decoder.finish();
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn proc_net_udp_drops() {
        let text = "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode ref pointer drops\n\
             1: 00000000:0834 00000000:0000 07 00000000:00000000 00:00000000 00000000     0        0 4242 2 0000000000000000 17\n\
             2: 00000000:0835 00000000:0000 07 00000000:00000000 00:00000000 00000000     0        0 4243 2 0000000000000000 5\n";
        assert_eq!(drops_for(text, &[4242]), 17);
        assert_eq!(drops_for(text, &[4242, 4243]), 22);
        assert_eq!(drops_for(text, &[1]), 0);
    }
}
