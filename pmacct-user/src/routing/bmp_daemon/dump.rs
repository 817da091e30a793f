//! Periodic dumps (pmacct's `bmp_dump_file`, `bmp_dump_kafka_*`, `bmp_dump_amqp_*` every
//! `bmp_dump_refresh_time`, `bmp_dump_event_runner`).

use std::collections::HashMap;
use std::fmt::Write as _;
use std::fs::File;
use std::io::{BufWriter, Write as _};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::atomic::Ordering;
use std::sync::{Arc, PoisonError};
use std::time::Duration;

use super::Shared;
use super::broker::{DUMP_CHUNK, Line, with_writer};
use super::msglog::{self, Head, RouteLine, Stamp};
use super::router::DumpState;
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

/// `template` for `router` at `at`: `$peer_src_ip` etc., then strftime (pmacct's
/// `bgp_peer_log_dynname` + `pm_strftime_same`, for the dump file, topic and routing key).
fn expand_at(template: &str, router: SocketAddr, at: Stamp) -> String {
    let t = msglog::expand(template, router);
    let Some(when) = i64::try_from(at.0)
        .ok()
        .and_then(|s| chrono::DateTime::from_timestamp(s, 0))
        .map(|d| d.with_timezone(&chrono::Local))
    else {
        return t;
    };
    let mut s = String::new();
    match write!(s, "{}", when.format(&t)) {
        Ok(()) => s,
        Err(_) => {
            tracing::warn!(template, "bad strftime variable in a BMP dump name; used as is");
            t
        }
    }
}

/// The lines of one router's dump (`dump_init`, its RIB, Initiation, peers, statistics,
/// `dump_close`).
fn render(shared: &Shared, st: &DumpState, seq: u64, at: Stamp) -> Vec<String> {
    let mut lines =
        vec![msglog::to_line(&msglog::dump_init(seq, at, st.addr, shared.cfg.dump_refresh_time))];
    let mut entries = 0usize;
    {
        let rib = shared.rib.read().unwrap_or_else(PoisonError::into_inner);
        let roas = shared.roas();
        let mut vector = Vec::new();
        for (prefix, key, attrs) in rib.routes(st.addr.ip()) {
            let key: &RouteKey = key;
            // pmacct validates a dumped route with the peer's covering routes.
            let roa = roas.as_ref().map(|t| {
                rib.covering_of_peer(st.addr.ip(), prefix, key.peer.addr, &mut vector);
                t.vector(vector.iter().copied())
            });
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
                roa,
            };
            lines.push(msglog::to_line(&msglog::route_line(&r, Some(attrs))));
            entries += 1;
        }
    }
    let head = Head::Dump { seq, at };
    let events = st.init.iter().chain(st.peers.values()).chain(st.stats.values());
    for (ts, body) in events {
        lines.push(msglog::to_line(&msglog::bmp_event(&head, st.addr, *ts, body)));
    }
    lines.push(msglog::to_line(&msglog::dump_close(seq, at, st.addr, entries, 1)));
    lines
}

/// Opens (truncating, the first time a dump writes it: several routers may share one file)
/// the dump file for `router`.
fn open<'f>(
    files: &'f mut HashMap<PathBuf, BufWriter<File>>,
    template: &str,
    router: SocketAddr,
    at: Stamp,
) -> Option<(PathBuf, &'f mut BufWriter<File>)> {
    let path = PathBuf::from(expand_at(template, router, at));
    if !files.contains_key(&path) {
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty())
            && let Err(e) = std::fs::create_dir_all(dir)
        {
            tracing::error!(path = %path.display(), error = %e, "BMP dump directory");
            return None;
        }
        match File::create(&path) {
            Ok(f) => {
                files.insert(path.clone(), BufWriter::new(f));
            }
            Err(e) => {
                tracing::error!(path = %path.display(), error = %e, "BMP dump file");
                return None;
            }
        }
    }
    let out = files.get_mut(&path)?;
    Some((path, out))
}

/// One dump of every connected router, stamped `at`, to the dump file and the brokers.
pub(super) fn dump_all(shared: &Shared, at: Stamp) {
    if !shared.cfg.dumps_configured() {
        return;
    }
    let routers: Vec<_> = {
        let r = shared.routers.lock().unwrap_or_else(PoisonError::into_inner);
        let mut v: Vec<_> = r.iter().map(|(id, s)| (*id, Arc::clone(s))).collect();
        v.sort_by_key(|(id, _)| *id);
        v
    };
    let seq = shared.seq.load(Ordering::Relaxed);
    let mut files: HashMap<PathBuf, BufWriter<File>> = HashMap::new();
    for (_, state) in routers {
        let (addr, lines) = {
            let st = state.lock().unwrap_or_else(PoisonError::into_inner);
            (st.addr, render(shared, &st, seq, at))
        };
        if let Some(template) = shared.cfg.dump_file.as_deref()
            && let Some((path, out)) = open(&mut files, template, addr, at)
        {
            let mut res = Ok(());
            for l in &lines {
                res = res.and_then(|()| writeln!(out, "{l}"));
            }
            if let Err(e) = res {
                tracing::error!(path = %path.display(), error = %e, "BMP dump write failed");
            }
        }
        for out in &shared.dump {
            let dest = expand_at(out.cfg.dest(), addr, at);
            let key = out.cfg.key().map(|k| msglog::expand(k, addr)).unwrap_or_default();
            for chunk in lines.chunks(DUMP_CHUNK) {
                let msgs = chunk
                    .iter()
                    .map(|l| Line {
                        dest: dest.clone(),
                        key: key.clone(),
                        body: with_writer(l, &shared.writer_id),
                    })
                    .collect();
                out.send_wait(msgs);
            }
        }
        shared.counters.dumps.fetch_add(1, Ordering::Relaxed);
    }
    for (path, mut f) in files {
        if let Err(e) = f.flush() {
            tracing::error!(path = %path.display(), error = %e, "BMP dump write failed");
        }
    }
}
