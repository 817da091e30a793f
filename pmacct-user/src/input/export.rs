//! The decoder behind each collector type (NetFlow/IPFIX, sFlow), as [`ExportDecoder`]s.

use std::fs::File;
use std::io::Write;
use std::net::SocketAddr;
use std::path::Path;
use std::sync::{Arc, Mutex};

use tracing::warn;

use super::collector::ExportDecoder;
use super::udp::DecoderFactory;
use crate::config::{CollectorConfig, CollectorKind};
use crate::decode::sflow::{CounterRecord, SflowDecoder, SflowOptions};
use crate::record::FlowRecord;

/// Errors building a collector's decoder.
#[derive(Debug, thiserror::Error)]
pub enum ExportError {
    #[error("collector type {0:?}: no decoder for it in this build")]
    Unavailable(CollectorKind),
    #[error("counter_file {path}: {source}")]
    CounterFile { path: String, source: std::io::Error },
}

type Error = Box<dyn std::error::Error + Send + Sync>;

/// A factory of decoders configured by `cfg` (one per socket thread, one per replay).
pub fn factory(cfg: &CollectorConfig) -> Result<DecoderFactory, ExportError> {
    match cfg.kind {
        CollectorKind::Netflow => Err(ExportError::Unavailable(cfg.kind)),
        CollectorKind::Sflow => sflow_factory(cfg),
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
    let opts = SflowOptions { renormalize: cfg.renormalize, ..SflowOptions::default() };
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
}
