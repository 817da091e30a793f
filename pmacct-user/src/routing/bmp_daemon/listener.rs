//! The TCP listener: allow-list, `max_peers`, one thread per router.

use std::net::{SocketAddr, TcpListener, TcpStream, ToSocketAddrs};
use std::sync::atomic::Ordering;
use std::sync::{Arc, PoisonError};
use std::time::Duration;

use super::{BmpDaemonError, Shared, router};

/// How often the accept loop looks at the stop flag.
const POLL: Duration = Duration::from_millis(50);

/// Binds `listen` (`addr:port`, `[v6]:port`) non-blocking, so the accept loop can poll.
pub(super) fn bind(listen: &str) -> Result<TcpListener, BmpDaemonError> {
    let addr: SocketAddr = listen
        .to_socket_addrs()
        .ok()
        .and_then(|mut a| a.next())
        .ok_or_else(|| BmpDaemonError::BadListen(listen.to_string()))?;
    let err = |source| BmpDaemonError::Bind { addr: listen.to_string(), source };
    let l = TcpListener::bind(addr).map_err(err)?;
    l.set_nonblocking(true).map_err(err)?;
    Ok(l)
}

pub(super) fn accept_loop(shared: &Arc<Shared>, listener: &TcpListener) {
    let mut next_id: u64 = 0;
    while !shared.stopping() {
        match listener.accept() {
            Ok((stream, peer)) => {
                next_id += 1;
                admit(shared, stream, peer, next_id);
            }
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => std::thread::sleep(POLL),
            Err(e) => {
                tracing::warn!(error = %e, "BMP accept failed");
                std::thread::sleep(POLL);
            }
        }
        reap(shared);
    }
}

/// Joins router threads that have ended, so long-running daemons do not pile handles up.
fn reap(shared: &Shared) {
    let mut threads = shared.threads.lock().unwrap_or_else(PoisonError::into_inner);
    let (done, live): (Vec<_>, Vec<_>) = threads.drain(..).partition(|h| h.is_finished());
    *threads = live;
    drop(threads);
    for h in done {
        if h.join().is_err() {
            tracing::error!("a BMP router thread panicked");
        }
    }
}

fn admit(shared: &Arc<Shared>, stream: TcpStream, peer: SocketAddr, id: u64) {
    let c = &shared.counters;
    if !shared.allow.allows(peer.ip()) {
        c.denied.fetch_add(1, Ordering::Relaxed);
        tracing::warn!(router = %peer, "BMP router not in the allow-list; connection dropped");
        return;
    }
    // Reserve a slot; give it back when over the limit.
    let n = c.routers.fetch_add(1, Ordering::Relaxed);
    if n >= shared.cfg.max_peers {
        c.routers.fetch_sub(1, Ordering::Relaxed);
        c.rejected.fetch_add(1, Ordering::Relaxed);
        tracing::warn!(
            router = %peer,
            max_peers = shared.cfg.max_peers,
            "BMP max_peers reached; connection refused"
        );
        return;
    }
    c.connections.fetch_add(1, Ordering::Relaxed);
    let s = Arc::clone(shared);
    let spawned = std::thread::Builder::new()
        .name(format!("bmp-{peer}"))
        .spawn(move || router::serve(&s, stream, peer, id));
    match spawned {
        Ok(h) => shared.threads.lock().unwrap_or_else(PoisonError::into_inner).push(h),
        Err(e) => {
            c.routers.fetch_sub(1, Ordering::Relaxed);
            tracing::error!(router = %peer, error = %e, "cannot spawn a BMP router thread");
        }
    }
}
