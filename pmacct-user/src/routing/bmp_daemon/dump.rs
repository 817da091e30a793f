//! Periodic dumps (pmacct's `bmp_dump_file` / `bmp_dump_refresh_time`, `bmp_dump_event_runner`).

use std::collections::HashMap;
use std::fmt::Write as _;
use std::fs::File;
use std::io::{BufWriter, Write as _};
use std::path::PathBuf;
use std::sync::atomic::Ordering;
use std::sync::{Arc, PoisonError};
use std::time::Duration;

use super::Shared;
use super::msglog::{self, Head, RouteLine, Stamp};
use crate::routing::RouteKey;

/// How often the dump thread looks at the stop flag.
const POLL: Duration = Duration::from_millis(100);

/// Dumps every `dump_refresh_time` seconds, at multiples of the period (pmacct rounds the
/// first deadline the same way), until stop.
pub(super) fn dump_loop(shared: &Arc<Shared>) {
    let period = shared.cfg.dump_refresh_time.max(1);
    let mut deadline = (msglog::now().0 / period + 1) * period;
    while !shared.stopping() {
        if msglog::now().0 >= deadline {
            dump_all(shared, (deadline, 0));
            deadline += period;
            // Catch up without a burst after a long stall.
            let now = msglog::now().0;
            if deadline <= now {
                deadline = (now / period + 1) * period;
            }
        }
        std::thread::sleep(POLL);
    }
}

/// The dump file name for `router` at `at`: `$peer_src_ip` etc., then strftime.
fn file_name(template: &str, router: std::net::SocketAddr, at: Stamp) -> Option<PathBuf> {
    let t = msglog::expand(template, router);
    let when = chrono::DateTime::from_timestamp(i64::try_from(at.0).ok()?, 0)?
        .with_timezone(&chrono::Local);
    let mut s = String::new();
    match write!(s, "{}", when.format(&t)) {
        Ok(()) => Some(PathBuf::from(s)),
        Err(_) => {
            tracing::warn!(template, "bad strftime variable in bmp_dump_file; used as is");
            Some(PathBuf::from(t))
        }
    }
}

/// One dump of every connected router, stamped `at`. Files are truncated the first time a
/// dump writes them (several routers may share one file).
pub(super) fn dump_all(shared: &Shared, at: Stamp) {
    let Some(template) = shared.cfg.dump_file.as_deref() else {
        return;
    };
    let routers: Vec<_> = {
        let r = shared.routers.lock().unwrap_or_else(PoisonError::into_inner);
        let mut v: Vec<_> = r.iter().map(|(id, s)| (*id, Arc::clone(s))).collect();
        v.sort_by_key(|(id, _)| *id);
        v
    };
    let seq = shared.seq.load(Ordering::Relaxed);
    let period = shared.cfg.dump_refresh_time;
    let mut files: HashMap<PathBuf, BufWriter<File>> = HashMap::new();
    for (_, state) in routers {
        let st = state.lock().unwrap_or_else(PoisonError::into_inner);
        let Some(path) = file_name(template, st.addr, at) else {
            continue;
        };
        if !files.contains_key(&path) {
            if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty())
                && let Err(e) = std::fs::create_dir_all(dir)
            {
                tracing::error!(path = %path.display(), error = %e, "BMP dump directory");
                continue;
            }
            match File::create(&path) {
                Ok(f) => {
                    files.insert(path.clone(), BufWriter::new(f));
                }
                Err(e) => {
                    tracing::error!(path = %path.display(), error = %e, "BMP dump file");
                    continue;
                }
            }
        }
        let Some(out) = files.get_mut(&path) else {
            continue;
        };
        let mut lines = vec![msglog::dump_init(seq, at, st.addr, period)];
        let mut entries = 0usize;
        {
            let rib = shared.rib.read().unwrap_or_else(PoisonError::into_inner);
            for (prefix, key, attrs) in rib.routes(st.addr.ip()) {
                let key: &RouteKey = key;
                let r = RouteLine {
                    head: Head::Dump { seq, at },
                    log_type: "",
                    router: st.addr,
                    event_ts: (0, 0),
                    key,
                    peer_flags: key.peer.view,
                    prefix,
                    path_id: None,
                    labels: &[],
                };
                lines.push(msglog::route_line(&r, Some(attrs)));
                entries += 1;
            }
        }
        let head = Head::Dump { seq, at };
        let events = st.init.iter().chain(st.peers.values()).chain(st.stats.values());
        for (ts, body) in events {
            lines.push(msglog::bmp_event(&head, st.addr, *ts, body));
        }
        lines.push(msglog::dump_close(seq, at, st.addr, entries, 1));
        let mut res = Ok(());
        for l in &lines {
            res = res.and_then(|()| writeln!(out, "{}", msglog::to_line(l)));
        }
        if let Err(e) = res {
            tracing::error!(path = %path.display(), error = %e, "BMP dump write failed");
        }
        shared.counters.dumps.fetch_add(1, Ordering::Relaxed);
    }
    for (path, mut f) in files {
        if let Err(e) = f.flush() {
            tracing::error!(path = %path.display(), error = %e, "BMP dump write failed");
        }
    }
}
