//! Sinks: where a plugin's flushed aggregates go (print, memory).
//!
//! A sink takes one [`FlushBatch`] at a time and reports what it wrote. Adding a sink means
//! adding one module and one [`PluginKind`] arm in [`build_sink`].

pub mod memory;
pub mod print;

use std::io;
use std::path::PathBuf;

use crate::aggregate::FlushBatch;
use crate::config::{PluginConfig, PluginKind};

/// What one [`Sink::write`] did.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct WriteReport {
    /// Aggregates written.
    pub entries: usize,
    /// Bytes written (print) or 0.
    pub bytes: u64,
    /// Files written (print with `output_file`).
    pub files: Vec<PathBuf>,
}

/// A sink failure.
#[derive(Debug, thiserror::Error)]
pub enum SinkError {
    #[error("{path}: {source}")]
    Io { path: String, source: io::Error },
    #[error("memory plugin socket {path}: {source}")]
    Socket { path: String, source: io::Error },
}

/// Consumer of flushed aggregates.
pub trait Sink: Send {
    /// Writes one flush.
    fn write(&mut self, batch: &FlushBatch) -> Result<WriteReport, SinkError>;
}

/// Builds the sink of a plugin with pmacct's defaults (print: stdout or `output_file`; memory:
/// a table served on `imt_path`, default `/tmp/collect.pipe`).
pub fn build_sink(cfg: &PluginConfig) -> Result<Box<dyn Sink>, SinkError> {
    Ok(match cfg.kind {
        PluginKind::Print => {
            Box::new(print::PrintSink::new(cfg, print::PrintOptions::from_config(cfg)))
        }
        PluginKind::Memory => Box::new(memory::MemorySink::serve(cfg)?),
    })
}
