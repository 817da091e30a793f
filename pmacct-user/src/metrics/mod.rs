//! Prometheus metrics: one registry for the daemon and a minimal HTTP endpoint serving it.

use std::io::{BufRead, BufReader, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::Registry;
use tracing::{info, warn};

mod exporter;
mod sink;
pub use exporter::{ExporterLabels, ExporterMetrics};
pub use sink::{SinkCounters, SinkMetrics};
mod bmp;
pub use bmp::BmpMetrics;

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct XdpCpuLabels {
    pub interface: String,
    pub cpu: String,
    pub counter: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct InterfaceLabels {
    pub interface: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct ModeLabels {
    pub interface: String,
    pub mode: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct PluginLabels {
    pub plugin: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct CollectorLabels {
    pub collector: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct KindLabels {
    pub kind: String,
}

fn drain_histogram() -> Histogram {
    Histogram::new(exponential_buckets(0.0001, 2.0, 16))
}

/// Every metric the daemon exports.
pub struct Metrics {
    registry: Registry,
    /// Per-CPU XDP program counters (seen, sampled, non_ip, truncated, map_update_failed).
    pub xdp_packets: Family<XdpCpuLabels, Counter>,
    /// 1 for the attach mode in use on an interface.
    pub xdp_attach_mode: Family<ModeLabels, Gauge>,
    /// Distinct keys read from the flow map at the last drain.
    pub xdp_map_entries: Family<InterfaceLabels, Gauge>,
    pub xdp_drains: Family<InterfaceLabels, Counter>,
    pub xdp_drain_errors: Family<InterfaceLabels, Counter>,
    pub xdp_drain_duration: Family<InterfaceLabels, Histogram, fn() -> Histogram>,
    /// Configured 1:N sampling rate per interface.
    pub xdp_sampling_rate: Family<InterfaceLabels, Gauge>,
    /// Records accounted per plugin.
    pub plugin_records: Family<PluginLabels, Counter>,
    /// Flushes (purges) per plugin.
    pub plugin_flushes: Family<PluginLabels, Counter>,
    /// Aggregates written per plugin.
    pub plugin_rows_written: Family<PluginLabels, Counter>,
    pub plugin_write_errors: Family<PluginLabels, Counter>,
    /// Flushes dropped because a plugin's sink queue was full.
    pub plugin_batches_dropped: Family<PluginLabels, Counter>,
    /// Packets read from capture files, by outcome (read, accounted, non_ip, truncated).
    pub savefile_packets: Family<KindLabels, Counter>,
    /// Collector (NetFlow/sFlow) counters, see [`CollectorMetrics`].
    pub collector: CollectorMetrics,
    /// Per-exporter decoder counters.
    pub exporter: ExporterMetrics,
    /// Delivery of network sinks (ClickHouse, brokers).
    pub sink: SinkMetrics,
    /// BMP daemon counters, see [`BmpMetrics`].
    pub bmp: BmpMetrics,
}

/// Per-collector counters (label `collector`: `netflow`, `sflow`, ...).
#[derive(Default)]
pub struct CollectorMetrics {
    pub datagrams: Family<CollectorLabels, Counter>,
    pub bytes: Family<CollectorLabels, Counter>,
    /// From exporters outside the allow-list.
    pub denied: Family<CollectorLabels, Counter>,
    pub malformed: Family<CollectorLabels, Counter>,
    pub flows: Family<CollectorLabels, Counter>,
    /// Records dropped because the aggregation queue was full.
    pub queue_dropped: Family<CollectorLabels, Counter>,
    /// Datagrams the kernel dropped on the collector's sockets.
    pub kernel_drops: Family<CollectorLabels, Counter>,
}

impl CollectorMetrics {
    fn register(&self, r: &mut Registry) {
        let c = self;
        r.register("collector_datagrams", "Datagrams received", c.datagrams.clone());
        r.register("collector_bytes", "Bytes received", c.bytes.clone());
        r.register("collector_denied", "Datagrams from exporters not allowed", c.denied.clone());
        r.register("collector_malformed", "Datagrams the decoder rejected", c.malformed.clone());
        r.register("collector_flows", "Flow records decoded", c.flows.clone());
        r.register(
            "collector_queue_dropped",
            "Records dropped: aggregation queue full",
            c.queue_dropped.clone(),
        );
        r.register(
            "collector_kernel_drops",
            "Datagrams dropped by the kernel (socket buffer full)",
            c.kernel_drops.clone(),
        );
    }
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}

impl Metrics {
    pub fn new() -> Self {
        let mut registry = Registry::with_prefix("pmacct");
        let m = Self {
            xdp_packets: Family::default(),
            xdp_attach_mode: Family::default(),
            xdp_map_entries: Family::default(),
            xdp_drains: Family::default(),
            xdp_drain_errors: Family::default(),
            xdp_drain_duration: Family::new_with_constructor(drain_histogram),
            xdp_sampling_rate: Family::default(),
            plugin_records: Family::default(),
            plugin_flushes: Family::default(),
            plugin_rows_written: Family::default(),
            plugin_write_errors: Family::default(),
            plugin_batches_dropped: Family::default(),
            savefile_packets: Family::default(),
            collector: CollectorMetrics::default(),
            exporter: ExporterMetrics::default(),
            sink: SinkMetrics::default(),
            bmp: BmpMetrics::default(),
            registry: Registry::default(),
        };
        registry.register("xdp_packets", "XDP program counters per CPU", m.xdp_packets.clone());
        registry.register(
            "xdp_attach_mode",
            "XDP attach mode in use (1)",
            m.xdp_attach_mode.clone(),
        );
        registry.register(
            "xdp_map_entries",
            "Distinct flow keys read at the last drain",
            m.xdp_map_entries.clone(),
        );
        registry.register("xdp_drains", "Drains of the XDP flow maps", m.xdp_drains.clone());
        registry.register("xdp_drain_errors", "Failed drains", m.xdp_drain_errors.clone());
        registry.register(
            "xdp_drain_duration_seconds",
            "Time to flip, sync, read and clear a flow map",
            m.xdp_drain_duration.clone(),
        );
        registry.register(
            "xdp_sampling_rate",
            "Configured 1:N sampling rate",
            m.xdp_sampling_rate.clone(),
        );
        registry.register(
            "plugin_records",
            "Records accounted by a plugin",
            m.plugin_records.clone(),
        );
        registry.register(
            "plugin_flushes",
            "Purges of a plugin's tables",
            m.plugin_flushes.clone(),
        );
        registry.register(
            "plugin_rows_written",
            "Aggregates written by a plugin's sink",
            m.plugin_rows_written.clone(),
        );
        registry.register(
            "plugin_write_errors",
            "Failed writes of a plugin's sink",
            m.plugin_write_errors.clone(),
        );
        registry.register(
            "plugin_batches_dropped",
            "Flushes dropped because the sink queue was full",
            m.plugin_batches_dropped.clone(),
        );
        registry.register(
            "savefile_packets",
            "Packets read from capture files by outcome",
            m.savefile_packets.clone(),
        );
        m.collector.register(&mut registry);
        m.exporter.register(&mut registry);
        m.sink.register(&mut registry);
        m.bmp.register(&mut registry);
        Self { registry, ..m }
    }

    /// The registry in Prometheus text exposition format.
    pub fn encode(&self) -> String {
        let mut out = String::new();
        if let Err(e) = prometheus_client::encoding::text::encode(&mut out, &self.registry) {
            warn!(error = %e, "encoding metrics");
        }
        out
    }

    /// Adds the growth of a kernel counter (absolute value `now`, previous `last`) to `counter`.
    pub fn advance(counter: &Counter, last: &mut u64, now: u64) {
        if now >= *last {
            counter.inc_by(now - *last);
        }
        *last = now;
    }
}

/// Serves `GET /metrics` on `addr` from a background thread. Returns the bound address.
pub fn serve(addr: &str, metrics: Arc<Mutex<Metrics>>) -> std::io::Result<std::net::SocketAddr> {
    let listener = TcpListener::bind(addr)?;
    let local = listener.local_addr()?;
    info!(%local, "metrics endpoint listening");
    std::thread::Builder::new().name("metrics".into()).spawn(move || {
        for stream in listener.incoming().flatten() {
            if let Err(e) = answer(stream, &metrics) {
                warn!(error = %e, "metrics request");
            }
        }
    })?;
    Ok(local)
}

fn answer(stream: TcpStream, metrics: &Mutex<Metrics>) -> std::io::Result<()> {
    stream.set_read_timeout(Some(Duration::from_secs(5)))?;
    let mut reader = BufReader::new(stream.try_clone()?);
    let mut request_line = String::new();
    reader.read_line(&mut request_line)?;
    // Skip headers.
    let mut line = String::new();
    while reader.read_line(&mut line)? > 2 {
        line.clear();
    }
    let path = request_line.split_whitespace().nth(1).unwrap_or("");
    let (status, ctype, body) = if path == "/metrics" || path.starts_with("/metrics?") {
        let body = match metrics.lock() {
            Ok(m) => m.encode(),
            Err(poisoned) => poisoned.into_inner().encode(),
        };
        ("200 OK", "application/openmetrics-text; version=1.0.0; charset=utf-8", body)
    } else {
        ("404 Not Found", "text/plain", "see /metrics\n".to_string())
    };
    let mut stream = stream;
    write!(
        stream,
        "HTTP/1.1 {status}\r\nContent-Type: {ctype}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )?;
    stream.flush()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Read;

    #[test]
    fn serves_registry_over_http() {
        let m = Arc::new(Mutex::new(Metrics::new()));
        if let Ok(g) = m.lock() {
            g.plugin_records.get_or_create(&PluginLabels { plugin: "p".into() }).inc_by(7);
            let mut last = 0;
            let c = g.xdp_packets.get_or_create(&XdpCpuLabels {
                interface: "veth0".into(),
                cpu: "1".into(),
                counter: "seen".into(),
            });
            Metrics::advance(&c, &mut last, 10);
            Metrics::advance(&c, &mut last, 15);
        }
        let addr = serve("127.0.0.1:0", m).unwrap();
        let mut s = TcpStream::connect(addr).unwrap();
        s.write_all(b"GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n").unwrap();
        let mut body = String::new();
        s.read_to_string(&mut body).unwrap();
        assert!(body.starts_with("HTTP/1.1 200 OK"), "{body}");
        assert!(body.contains("pmacct_plugin_records_total{plugin=\"p\"} 7"), "{body}");
        assert!(
            body.contains(
                "pmacct_xdp_packets_total{interface=\"veth0\",cpu=\"1\",counter=\"seen\"} 15"
            ),
            "{body}"
        );
    }
}
