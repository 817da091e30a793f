//! pmacct-rs userspace: inputs (XDP map drain, pcap files), decoders, pmacct's aggregation model,
//! sinks (print, memory) and metrics. The `pmacct-rs` binary in `main.rs` wires them together.
//!
//! Data path: `input` → [`record::FlowRecord`] → `aggregate` (one table per plugin and time bin)
//! → `sink`.

pub mod aggregate;
pub mod config;
pub mod daemon;
pub mod decode;
pub mod embedded;
pub mod enrich;
pub mod input;
pub mod metrics;
pub mod query;
pub mod record;
pub mod routing;
pub mod sink;
