//! Sinks: where a plugin's flushed aggregates go (print, memory, ClickHouse, AMQP, Kafka).
//!
//! A sink takes one [`FlushBatch`] at a time and reports what it wrote. Adding a sink means
//! adding one module and one [`PluginKind`] arm in [`build_sink`].

pub mod amqp;
pub mod broker;
pub mod clickhouse;
pub mod delivery;
pub mod kafka;
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
    #[error(transparent)]
    Clickhouse(Box<clickhouse::ClickhouseError>),
    #[error(transparent)]
    Amqp(#[from] amqp::AmqpConfigError),
    #[error(transparent)]
    Kafka(#[from] kafka::KafkaConfigError),
}

/// Consumer of flushed aggregates.
pub trait Sink: Send {
    /// Writes one flush.
    fn write(&mut self, batch: &FlushBatch) -> Result<WriteReport, SinkError>;

    /// Called between flushes (about every 200 ms): network sinks retry what is queued.
    fn tick(&mut self) {}

    /// Shutdown: finish or put aside what is pending, by `deadline`.
    fn close(&mut self, _deadline: std::time::Instant) {}

    /// Queue and delivery counters of a network sink.
    fn delivery_stats(&self) -> Option<std::sync::Arc<delivery::DeliveryStats>> {
        None
    }
}

/// Builds the sink of a plugin with pmacct's defaults (print: stdout or `output_file`; memory:
/// a table served on `imt_path`, default `/tmp/collect.pipe`).
pub fn build_sink(cfg: &PluginConfig) -> Result<Box<dyn Sink>, SinkError> {
    Ok(match cfg.kind {
        PluginKind::Print => {
            Box::new(print::PrintSink::new(cfg, print::PrintOptions::from_config(cfg)))
        }
        PluginKind::Memory => Box::new(memory::MemorySink::serve(cfg)?),
        PluginKind::Clickhouse => {
            let ch = cfg.clickhouse.clone().unwrap_or_default();
            let transport = clickhouse::ClickhouseSink::start(cfg, &ch)
                .map_err(|e| SinkError::Clickhouse(Box::new(e)))?;
            let delivery = cfg.delivery.clone().unwrap_or_default();
            Box::new(delivery::Delivery::new(&cfg.name, transport, delivery)?)
        }
        PluginKind::Amqp => {
            let amqp = cfg.amqp.clone().unwrap_or_default();
            let custom = print::PrintOptions::from_config(cfg).custom;
            let transport = amqp::AmqpSink::new(&cfg.name, amqp, post_tags(cfg))?
                .with_columns(cfg.stitching, custom);
            let delivery = cfg.delivery.clone().unwrap_or_default();
            Box::new(delivery::Delivery::new(&cfg.name, transport, delivery)?)
        }
        PluginKind::Kafka => {
            let kafka = cfg.kafka.clone().unwrap_or_default();
            let custom = print::PrintOptions::from_config(cfg).custom;
            let transport = kafka::KafkaSink::new(&cfg.name, kafka, post_tags(cfg))?
                .with_columns(cfg.stitching, custom);
            let delivery = cfg.delivery.clone().unwrap_or_default();
            Box::new(delivery::Delivery::new(&cfg.name, transport, delivery)?)
        }
    })
}

/// The plugin's `post_tag` / `post_tag2` values, for `$post_tag` / `$post_tag2` in names.
fn post_tags(cfg: &PluginConfig) -> broker::PostTags {
    broker::PostTags {
        tag: cfg.pretag.post_tag.unwrap_or(0),
        tag2: cfg.pretag.post_tag2.unwrap_or(0),
    }
}
