//! Per-sink delivery metrics of network sinks (label `plugin`), copied from their
//! [`DeliveryStats`] by the sink thread.

use std::sync::atomic::Ordering;

use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::Registry;

use super::PluginLabels;
use crate::sink::delivery::DeliveryStats;

fn latency_histogram() -> Histogram {
    Histogram::new(exponential_buckets(0.0005, 2.0, 16))
}

/// Counters and gauges of every network sink.
pub struct SinkMetrics {
    pub rows_sent: Family<PluginLabels, Counter>,
    pub messages_sent: Family<PluginLabels, Counter>,
    pub bytes_sent: Family<PluginLabels, Counter>,
    pub retries: Family<PluginLabels, Counter>,
    pub rows_dropped: Family<PluginLabels, Counter>,
    pub queue_items: Family<PluginLabels, Gauge>,
    pub queue_bytes: Family<PluginLabels, Gauge>,
    pub spool_items: Family<PluginLabels, Gauge>,
    pub spool_bytes: Family<PluginLabels, Gauge>,
    /// Unix time of the last failed send (the message is in the log).
    pub last_error_time: Family<PluginLabels, Gauge>,
    pub send_seconds: Family<PluginLabels, Histogram, fn() -> Histogram>,
}

impl Default for SinkMetrics {
    fn default() -> Self {
        Self {
            rows_sent: Family::default(),
            messages_sent: Family::default(),
            bytes_sent: Family::default(),
            retries: Family::default(),
            rows_dropped: Family::default(),
            queue_items: Family::default(),
            queue_bytes: Family::default(),
            spool_items: Family::default(),
            spool_bytes: Family::default(),
            last_error_time: Family::default(),
            send_seconds: Family::new_with_constructor(latency_histogram),
        }
    }
}

/// Values last copied into the counters, per sink (the sink thread keeps one).
#[derive(Clone, Copy, Debug, Default)]
pub struct SinkCounters {
    rows_sent: u64,
    messages_sent: u64,
    bytes_sent: u64,
    retries: u64,
    rows_dropped: u64,
}

impl SinkMetrics {
    pub(super) fn register(&self, r: &mut Registry) {
        let counters = [
            ("sink_rows_sent", "Rows the server acknowledged", &self.rows_sent),
            (
                "sink_messages_sent",
                "Requests/messages the server acknowledged",
                &self.messages_sent,
            ),
            ("sink_bytes_sent", "Payload bytes acknowledged", &self.bytes_sent),
            ("sink_retries", "Failed sends (each retried later)", &self.retries),
            (
                "sink_rows_dropped",
                "Rows dropped past the queue and spool bounds",
                &self.rows_dropped,
            ),
        ];
        for (name, help, f) in counters {
            r.register(name, help, f.clone());
        }
        let gauges = [
            ("sink_queue_items", "Items waiting in memory", &self.queue_items),
            ("sink_queue_bytes", "Bytes waiting in memory", &self.queue_bytes),
            ("sink_spool_items", "Items waiting in the spool directory", &self.spool_items),
            ("sink_spool_bytes", "Bytes in the spool directory", &self.spool_bytes),
            (
                "sink_last_error_time_seconds",
                "Unix time of the last failed send (the error is logged)",
                &self.last_error_time,
            ),
        ];
        for (name, help, f) in gauges {
            r.register(name, help, f.clone());
        }
        r.register("sink_send_seconds", "Time of one successful send", self.send_seconds.clone());
    }

    /// Copies `s` into the metrics of `plugin`.
    pub fn sync(&self, plugin: &PluginLabels, s: &DeliveryStats, last: &mut SinkCounters) {
        let now = SinkCounters {
            rows_sent: s.rows_sent.load(Ordering::Relaxed),
            messages_sent: s.items_sent.load(Ordering::Relaxed),
            bytes_sent: s.bytes_sent.load(Ordering::Relaxed),
            retries: s.retries.load(Ordering::Relaxed),
            rows_dropped: s.rows_dropped.load(Ordering::Relaxed),
        };
        for (f, before, after) in [
            (&self.rows_sent, last.rows_sent, now.rows_sent),
            (&self.messages_sent, last.messages_sent, now.messages_sent),
            (&self.bytes_sent, last.bytes_sent, now.bytes_sent),
            (&self.retries, last.retries, now.retries),
            (&self.rows_dropped, last.rows_dropped, now.rows_dropped),
        ] {
            if after > before {
                f.get_or_create(plugin).inc_by(after - before);
            }
        }
        *last = now;
        let gauge = |f: &Family<PluginLabels, Gauge>, v: &std::sync::atomic::AtomicU64| {
            f.get_or_create(plugin)
                .set(i64::try_from(v.load(Ordering::Relaxed)).unwrap_or(i64::MAX));
        };
        gauge(&self.queue_items, &s.queued_items);
        gauge(&self.queue_bytes, &s.queued_bytes);
        gauge(&self.spool_items, &s.spool_items);
        gauge(&self.spool_bytes, &s.spool_bytes);
        gauge(&self.last_error_time, &s.last_error_unix);
        let samples: Vec<f64> = match s.latencies.lock() {
            Ok(mut l) => std::mem::take(&mut *l),
            Err(_) => Vec::new(),
        };
        let h = self.send_seconds.get_or_create(plugin);
        for v in samples {
            h.observe(v);
        }
    }
}
