//! The decoder behind each collector type (NetFlow/IPFIX, sFlow), as [`ExportDecoder`]s.

use std::fs::File;
use std::io::Write;
use std::net::{IpAddr, SocketAddr};
use std::path::Path;
use std::sync::{Arc, Mutex};

use tracing::warn;

use super::collector::{ExportDecoder, ExporterCounters};
use super::udp::DecoderFactory;
use crate::config::{CollectorConfig, CollectorKind};
use crate::decode::netflow::{NetflowDecoder, NetflowOptions};
use crate::decode::sflow::{CounterRecord, SflowDecoder, SflowOptions};
use crate::enrich::sampling::SamplingMap;
use crate::record::FlowRecord;

/// Errors building a collector's decoder.
#[derive(Debug, thiserror::Error)]
pub enum ExportError {
    #[error("counter_file {path}: {source}")]
    CounterFile { path: String, source: std::io::Error },
    #[error(transparent)]
    SamplingMap(crate::enrich::sampling::SamplingMapError),
}

type Error = Box<dyn std::error::Error + Send + Sync>;

/// A factory of decoders configured by `cfg` (one per socket thread, one per replay).
pub fn factory(cfg: &CollectorConfig) -> Result<DecoderFactory, ExportError> {
    // With a sampling_map the decoders leave renormalisation to it (map rate first, then the
    // advertised one, as pmacct's handlers).
    let mut dec_cfg = cfg.clone();
    dec_cfg.renormalize &= cfg.sampling_map.is_none();
    let inner = match cfg.kind {
        CollectorKind::Netflow => netflow_factory(&dec_cfg),
        CollectorKind::Sflow => sflow_factory(&dec_cfg)?,
    };
    let Some(path) = &cfg.sampling_map else { return Ok(inner) };
    let map = Arc::new(SamplingMap::load(path).map_err(ExportError::SamplingMap)?);
    tracing::info!(file = %path.display(), rules = map.len(), "sampling_map loaded");
    let renormalize = cfg.renormalize;
    Ok(Arc::new(move || {
        Box::new(Sampled { inner: inner(), map: map.clone(), renormalize })
            as Box<dyn ExportDecoder>
    }))
}

/// A decoder whose records go through the `sampling_map`.
struct Sampled {
    inner: Box<dyn ExportDecoder>,
    map: Arc<SamplingMap>,
    renormalize: bool,
}

impl ExportDecoder for Sampled {
    fn decode(
        &mut self,
        src: SocketAddr,
        arrival_us: u64,
        payload: &[u8],
        out: &mut Vec<FlowRecord>,
    ) -> Result<(), Error> {
        let from = out.len();
        let res = self.inner.decode(src, arrival_us, payload, out);
        if let Some(new) = out.get_mut(from..) {
            self.map.apply(new, self.renormalize);
        }
        res
    }

    fn finish(&mut self) {
        self.inner.finish();
    }

    fn exporter_counters(&self) -> Vec<(IpAddr, ExporterCounters)> {
        self.inner.exporter_counters()
    }
}

/// Where sFlow counter samples go: JSON lines appended to a file shared by the socket threads
/// (pmacct's `sfacctd_counter_file` with `sfacctd_counter_output: json`).
type CounterSink = Option<Arc<Mutex<File>>>;

fn open_counter_file(path: Option<&Path>) -> Result<CounterSink, ExportError> {
    let Some(path) = path else { return Ok(None) };
    let f =
        std::fs::OpenOptions::new().create(true).append(true).open(path).map_err(|source| {
            ExportError::CounterFile { path: path.display().to_string(), source }
        })?;
    Ok(Some(Arc::new(Mutex::new(f))))
}

fn sflow_factory(cfg: &CollectorConfig) -> Result<DecoderFactory, ExportError> {
    let sink = open_counter_file(cfg.counter_file.as_deref())?;
    let opts = SflowOptions {
        renormalize: cfg.renormalize,
        keep_bgp: cfg.bgp_strings,
        ..SflowOptions::default()
    };
    Ok(Arc::new(move || {
        Box::new(SflowExport {
            dec: SflowDecoder::new(opts.clone()),
            counters: Vec::new(),
            sink: sink.clone(),
        }) as Box<dyn ExportDecoder>
    }))
}

struct SflowExport {
    dec: SflowDecoder,
    counters: Vec<CounterRecord>,
    sink: CounterSink,
}

impl ExportDecoder for SflowExport {
    fn decode(
        &mut self,
        src: SocketAddr,
        arrival_us: u64,
        payload: &[u8],
        out: &mut Vec<FlowRecord>,
    ) -> Result<(), Error> {
        self.counters.clear();
        let res = self.dec.decode(src, arrival_us, payload, out, &mut self.counters);
        if let Some(sink) = &self.sink
            && !self.counters.is_empty()
        {
            let mut text = String::new();
            for c in &self.counters {
                text.push_str(&c.to_json_line());
                if !text.ends_with('\n') {
                    text.push('\n');
                }
            }
            let mut f = match sink.lock() {
                Ok(f) => f,
                Err(p) => p.into_inner(),
            };
            if let Err(e) = f.write_all(text.as_bytes()) {
                warn!(error = %e, "writing sFlow counters");
            }
        }
        res.map(|_| ()).map_err(Into::into)
    }

    fn exporter_counters(&self) -> Vec<(IpAddr, ExporterCounters)> {
        let mut v: Vec<(IpAddr, ExporterCounters)> = Vec::new();
        for a in self.dec.stats().agents {
            let Some(agent) = a.agent else { continue };
            let c = ExporterCounters {
                datagrams: a.datagrams,
                records: a.flow_samples,
                malformed: a.malformed_datagrams,
                lost_datagrams: a.lost_datagrams,
                sequence_resets: a.sequence_resets,
                ..ExporterCounters::default()
            };
            // One entry per agent address (sub-agents summed).
            match v.iter_mut().find(|(ip, _)| *ip == agent) {
                Some((_, sum)) => sum.add(&c),
                None => v.push((agent, c)),
            }
        }
        v
    }
}

/// NetFlow decoders. With `templates_file`, every decoder loads the templates saved by the last
/// run (the file and its per-socket siblings `<file>.<n>`) and saves its own when it stops:
/// SO_REUSEPORT spreads exporters over sockets, so each socket thread keeps its own file.
fn netflow_factory(cfg: &CollectorConfig) -> DecoderFactory {
    let opts = NetflowOptions {
        time_new: cfg.time_new,
        renormalize: cfg.renormalize,
        // The plugins, built before the collectors, installed the custom primitives they use.
        custom: Some(crate::aggregate::custom::defined()).filter(|d| !d.is_empty()),
        ..NetflowOptions::default()
    };
    let templates = cfg.templates_file.clone();
    let next = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    Arc::new(move || {
        let mut dec = NetflowDecoder::new(opts.clone());
        let save_to = templates.as_ref().map(|base| {
            for path in template_files(base) {
                match std::fs::read(&path).map(|b| dec.load_templates(&b)) {
                    Ok(Ok(n)) => {
                        tracing::info!(file = %path.display(), templates = n, "templates loaded")
                    }
                    Ok(Err(e)) => {
                        warn!(file = %path.display(), error = %e, "templates file ignored")
                    }
                    Err(e) => {
                        warn!(file = %path.display(), error = %e, "templates file unreadable")
                    }
                }
            }
            let n = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            if n == 0 { base.clone() } else { sibling(base, n) }
        });
        Box::new(NetflowExport { dec, save_to }) as Box<dyn ExportDecoder>
    })
}

fn sibling(base: &Path, n: usize) -> std::path::PathBuf {
    let mut s = base.as_os_str().to_owned();
    s.push(format!(".{n}"));
    s.into()
}

/// `base` and `base.1`, `base.2`, ... that exist.
fn template_files(base: &Path) -> Vec<std::path::PathBuf> {
    let mut v: Vec<_> =
        (0..1024).map(|n| if n == 0 { base.to_path_buf() } else { sibling(base, n) }).collect();
    v.retain(|p| p.exists());
    v
}

struct NetflowExport {
    dec: NetflowDecoder,
    save_to: Option<std::path::PathBuf>,
}

impl ExportDecoder for NetflowExport {
    fn decode(
        &mut self,
        src: SocketAddr,
        arrival_us: u64,
        payload: &[u8],
        out: &mut Vec<FlowRecord>,
    ) -> Result<(), Error> {
        self.dec.decode(src, arrival_us, payload, out).map(|_| ()).map_err(Into::into)
    }

    fn exporter_counters(&self) -> Vec<(IpAddr, ExporterCounters)> {
        self.dec
            .stats()
            .exporters
            .into_iter()
            .map(|(ip, e)| {
                let c = ExporterCounters {
                    datagrams: e.datagrams,
                    records: e.flows,
                    malformed: e.malformed,
                    lost_datagrams: e.lost_datagrams,
                    lost_records: e.lost_records,
                    missing_template: e.missing_template,
                    templates: e.templates,
                    ..ExporterCounters::default()
                };
                (ip, c)
            })
            .collect()
    }

    fn finish(&mut self) {
        let Some(path) = &self.save_to else { return };
        let mut tmp = path.as_os_str().to_owned();
        tmp.push(".tmp");
        let tmp = std::path::PathBuf::from(tmp);
        let res = std::fs::write(&tmp, self.dec.save_templates())
            .and_then(|()| std::fs::rename(&tmp, path));
        match res {
            Ok(()) => tracing::info!(file = %path.display(), "templates saved"),
            Err(e) => warn!(file = %path.display(), error = %e, "saving templates"),
        }
    }
}
