//! memory plugin: an in-memory table fed by flushes that keeps accumulating until erased (like
//! pmacct's IMT), served over a Unix socket (`imt_path`, default `/tmp/collect.pipe`) to
//! `pmacct-rs query`. See [`protocol`] for the JSON-lines requests.

pub mod filter;
pub mod protocol;

use std::io::{BufRead, BufReader, Write};
use std::os::unix::net::{UnixListener, UnixStream};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::thread::{self, JoinHandle};
use std::time::Duration;

use serde_json::{Map, Value};

pub use filter::{Filter, FilterError};
pub use protocol::{CustomColumn, Request, Response, SortBy, TableStats};

use super::print::columns::Column;
use super::print::value::{json_is_string, write_value};
use super::{Sink, SinkError, WriteReport};
use crate::aggregate::{FlushBatch, KeyedTable, Primitive, PrimitiveSet};
use crate::config::PluginConfig;
use crate::record::{Counters, FlowFields};

/// pmacct's default `imt_path`.
pub const DEFAULT_IMT_PATH: &str = "/tmp/collect.pipe";

#[derive(Debug, Default)]
struct State {
    primitives: PrimitiveSet,
    /// Custom primitives of the aggregate (registry indices, `aggregate` order).
    custom: Vec<usize>,
    /// Keyed compactly: the table is what a memory plugin's footprint is made of.
    entries: KeyedTable,
    updates: u64,
    last_update: i64,
}

/// Shared handle on a memory table (cheap to clone).
#[derive(Clone, Debug, Default)]
pub struct MemoryTable(Arc<Mutex<State>>);

impl MemoryTable {
    /// An empty table for aggregate `primitives`.
    pub fn new(primitives: PrimitiveSet) -> Self {
        Self::with_custom(primitives, Vec::new())
    }

    /// An empty table for aggregate `primitives` and the custom primitives `custom` (registry
    /// indices of [`crate::aggregate::custom`]).
    pub fn with_custom(primitives: PrimitiveSet, custom: Vec<usize>) -> Self {
        let mut layout = crate::aggregate::compact::Layout::of(primitives);
        if !custom.is_empty() {
            layout = layout.with_custom();
        }
        let entries = KeyedTable::with_layout(layout);
        let st = State { primitives, custom, entries, ..Default::default() };
        MemoryTable(Arc::new(Mutex::new(st)))
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        // A panic while holding the lock leaves plain data; keep serving it.
        self.0.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Merges a flush into the table (every bin into one table, as pmacct's IMT without
    /// history).
    pub fn merge(&self, batch: &FlushBatch) -> usize {
        let mut st = self.lock();
        if st.primitives != batch.primitives {
            // A reload changed the aggregate: keep what was accounted, re-keyed.
            let old = std::mem::take(&mut st.entries);
            st.entries = old.rekey(batch.primitives);
            st.primitives = batch.primitives;
        }
        for bin in &batch.bins {
            bin.entries.for_each(|k, c| st.entries.merge(k, c));
        }
        st.updates += 1;
        st.last_update = batch.flushed_at;
        batch.len()
    }

    /// Number of aggregates held.
    pub fn len(&self) -> usize {
        self.lock().entries.len()
    }

    /// True when empty.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Answers one request.
    pub fn handle(&self, req: &Request) -> Response {
        match self.try_handle(req) {
            Ok(r) => r,
            Err(e) => Response { ok: false, error: Some(e.to_string()), ..Default::default() },
        }
    }

    fn try_handle(&self, req: &Request) -> Result<Response, FilterError> {
        let mut st = self.lock();
        let set = st.primitives;
        let defs = crate::aggregate::custom::defined();
        let custom: Vec<CustomColumn> = st
            .custom
            .iter()
            .filter_map(|i| defs.get(*i))
            .map(|d| CustomColumn { name: d.name.clone(), width: d.formatted_width() })
            .collect();
        let primitives = set
            .iter()
            .map(|p| p.name().to_string())
            .chain(custom.iter().map(|c| c.name.clone()))
            .collect();
        let cust = st.custom.clone();
        let entry_json = |set, k: &FlowFields, c: &Counters| entry_json_custom(set, &cust, k, c);
        Ok(match req {
            Request::Top { by, n, filter } => {
                let f = Filter::parse(filter.as_deref().unwrap_or(""))?;
                let mut rows: Vec<(FlowFields, &Counters)> =
                    st.entries.iter().filter(|(k, c)| f.matches(k, c)).collect();
                let key = |c: &Counters| match by {
                    SortBy::Bytes => (c.bytes, c.packets),
                    SortBy::Packets => (c.packets, c.bytes),
                };
                rows.sort_by_key(|r| std::cmp::Reverse(key(r.1)));
                if *n > 0 {
                    rows.truncate(*n);
                }
                let entries = rows.into_iter().map(|(k, c)| entry_json(set, &k, c)).collect();
                Response { ok: true, primitives, custom, entries, ..Default::default() }
            }
            Request::Match { filter } => {
                let f = Filter::parse(filter)?;
                let entries = st
                    .entries
                    .iter()
                    .filter(|(k, c)| f.matches(k, c))
                    .map(|(k, c)| entry_json(set, &k, c))
                    .collect();
                Response { ok: true, primitives, custom, entries, ..Default::default() }
            }
            Request::Erase { filter } => {
                let f = Filter::parse(filter.as_deref().unwrap_or(""))?;
                let before = st.entries.len();
                st.entries.retain(|k, c| !f.matches(k, c));
                let erased = Some((before - st.entries.len()) as u64);
                Response { ok: true, erased, ..Default::default() }
            }
            Request::Stats => {
                let mut s = TableStats {
                    entries: st.entries.len() as u64,
                    updates: st.updates,
                    last_update: st.last_update,
                    ..Default::default()
                };
                for c in st.entries.values() {
                    s.packets += c.packets;
                    s.bytes += c.bytes;
                    s.flows += c.flows;
                }
                Response { ok: true, primitives, stats: Some(s), ..Default::default() }
            }
        })
    }
}

/// One aggregate as a pmacct-style JSON object (same keys and value types as the print
/// plugin's JSON, without `event_type`).
pub fn entry_json(set: PrimitiveSet, k: &FlowFields, c: &Counters) -> Map<String, Value> {
    entry_json_custom(set, &[], k, c)
}

/// [`entry_json`] with the custom primitives `custom` (registry indices): strings under their
/// names, as in pmacct's JSON.
pub fn entry_json_custom(
    set: PrimitiveSet,
    custom: &[usize],
    k: &FlowFields,
    c: &Counters,
) -> Map<String, Value> {
    let mut m = Map::new();
    let mut s = String::new();
    for p in set.iter() {
        if matches!(p, Primitive::SrcHostCoords | Primitive::DstHostCoords) {
            // Two numbers, as in pmacct's JSON (`lat_ip_src`, `lon_ip_src`).
            for col in [Column::Prim(p), Column::Lon(p)] {
                let v = crate::sink::print::geo::coord(p, k, col != Column::Prim(p));
                let v = serde_json::Number::from_f64(v).map_or(Value::Null, Value::Number);
                m.insert(col.json_key().into_owned(), v);
            }
            continue;
        }
        s.clear();
        write_value(&mut s, p, k, c);
        let v = if json_is_string(p) {
            Value::String(s.clone())
        } else {
            s.parse::<u64>().map(Value::from).unwrap_or_else(|_| Value::String(s.clone()))
        };
        m.insert(p.json_key().to_string(), v);
    }
    for i in custom {
        let col = Column::Custom(*i);
        s.clear();
        col.write(&mut s, k, c, Default::default());
        m.insert(col.json_key().into_owned(), Value::String(s.clone()));
    }
    m.insert("packets".into(), c.packets.into());
    m.insert("bytes".into(), c.bytes.into());
    m
}

/// Serves `table` on the Unix socket at `path` until dropped.
pub struct MemoryServer {
    path: PathBuf,
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl MemoryServer {
    /// Binds `path` (replacing a stale socket file) and starts the accept thread; each client
    /// connection is served on its own thread, one JSON request per line.
    pub fn start(path: &Path, table: MemoryTable) -> Result<MemoryServer, SinkError> {
        let sock_err = |source| SinkError::Socket { path: path.display().to_string(), source };
        if path.exists() {
            // Refuse to steal a live socket; remove a stale one.
            if UnixStream::connect(path).is_ok() {
                return Err(sock_err(std::io::Error::new(
                    std::io::ErrorKind::AddrInUse,
                    "another process is serving this socket",
                )));
            }
            std::fs::remove_file(path).map_err(sock_err)?;
        }
        let listener = UnixListener::bind(path).map_err(sock_err)?;
        let stop = Arc::new(AtomicBool::new(false));
        let stop2 = Arc::clone(&stop);
        let thread = thread::Builder::new()
            .name("memory-imt".into())
            .spawn(move || accept_loop(listener, table, stop2))
            .map_err(sock_err)?;
        Ok(MemoryServer { path: path.to_path_buf(), stop, thread: Some(thread) })
    }

    /// Socket path served.
    pub fn path(&self) -> &Path {
        &self.path
    }
}

fn accept_loop(listener: UnixListener, table: MemoryTable, stop: Arc<AtomicBool>) {
    for conn in listener.incoming() {
        if stop.load(Ordering::Relaxed) {
            break;
        }
        let Ok(conn) = conn else { continue };
        let table = table.clone();
        let _ = thread::Builder::new()
            .name("memory-client".into())
            .spawn(move || serve_client(conn, &table));
    }
}

fn serve_client(conn: UnixStream, table: &MemoryTable) {
    let _ = conn.set_read_timeout(Some(Duration::from_secs(60)));
    let Ok(mut writer) = conn.try_clone() else { return };
    let reader = BufReader::new(conn);
    for line in reader.lines() {
        let Ok(line) = line else { break };
        if line.trim().is_empty() {
            continue;
        }
        let resp = match serde_json::from_str::<Request>(&line) {
            Ok(req) => table.handle(&req),
            Err(e) => Response {
                ok: false,
                error: Some(format!("bad request: {e}")),
                ..Default::default()
            },
        };
        let mut text = serde_json::to_string(&resp).unwrap_or_else(|_| "{\"ok\":false}".into());
        text.push('\n');
        if writer.write_all(text.as_bytes()).is_err() {
            break;
        }
    }
}

impl Drop for MemoryServer {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        // Wake the accept loop so it sees the flag.
        let _ = UnixStream::connect(&self.path);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
        let _ = std::fs::remove_file(&self.path);
    }
}

/// The memory plugin's sink: merges flushes into its table, served on `imt_path`.
pub struct MemorySink {
    table: MemoryTable,
    _server: Option<MemoryServer>,
}

impl MemorySink {
    /// A sink whose table is served on `cfg.imt_path` (default [`DEFAULT_IMT_PATH`]).
    pub fn serve(cfg: &PluginConfig) -> Result<MemorySink, SinkError> {
        let (builtin, custom): (Vec<&String>, Vec<&String>) = cfg
            .aggregate
            .iter()
            .partition(|n| crate::aggregate::Primitive::from_name(n.trim()).is_some());
        let names: Vec<&str> = builtin.iter().map(|n| n.trim()).collect();
        let set = PrimitiveSet::parse(&names.join(",")).unwrap_or_default();
        // The plugin validated its custom primitives already; the same lookup cannot fail here.
        let custom = crate::aggregate::custom::select(cfg, &custom).unwrap_or_default();
        let table = MemoryTable::with_custom(set, custom);
        let path = cfg.imt_path.clone().unwrap_or_else(|| PathBuf::from(DEFAULT_IMT_PATH));
        let server = MemoryServer::start(&path, table.clone())?;
        Ok(MemorySink { table, _server: Some(server) })
    }

    /// A sink with no socket (tests, embedding).
    pub fn unserved(set: PrimitiveSet) -> MemorySink {
        MemorySink { table: MemoryTable::new(set), _server: None }
    }

    /// The table handle.
    pub fn table(&self) -> &MemoryTable {
        &self.table
    }
}

impl Sink for MemorySink {
    fn write(&mut self, batch: &FlushBatch) -> Result<WriteReport, SinkError> {
        let entries = self.table.merge(batch);
        Ok(WriteReport { entries, ..Default::default() })
    }
}
