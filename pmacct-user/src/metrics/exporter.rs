//! Per-exporter collector metrics (label `exporter`: the NetFlow exporter or sFlow agent
//! address), fed from the decoders' counters ([`crate::input::collector::ExporterCounters`]).

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::registry::Registry;

use crate::input::collector::ExporterCounters;

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct ExporterLabels {
    pub collector: String,
    pub exporter: String,
}

/// One family per counter of [`ExporterCounters`].
#[derive(Default)]
pub struct ExporterMetrics {
    pub datagrams: Family<ExporterLabels, Counter>,
    pub records: Family<ExporterLabels, Counter>,
    pub malformed: Family<ExporterLabels, Counter>,
    pub lost_datagrams: Family<ExporterLabels, Counter>,
    pub lost_records: Family<ExporterLabels, Counter>,
    pub missing_template: Family<ExporterLabels, Counter>,
    pub sequence_resets: Family<ExporterLabels, Counter>,
    pub templates: Family<ExporterLabels, Gauge>,
}

impl ExporterMetrics {
    pub(super) fn register(&self, r: &mut Registry) {
        let counters: [(&str, &str, &Family<ExporterLabels, Counter>); 7] = [
            ("exporter_datagrams", "Datagrams decoded per exporter", &self.datagrams),
            ("exporter_records", "Flow records / flow samples per exporter", &self.records),
            ("exporter_malformed", "Datagrams rejected wholly or in part", &self.malformed),
            ("exporter_lost_datagrams", "Datagrams missing per sequence", &self.lost_datagrams),
            ("exporter_lost_records", "Records missing per sequence", &self.lost_records),
            (
                "exporter_missing_template",
                "Data sets dropped: template unknown",
                &self.missing_template,
            ),
            ("exporter_sequence_resets", "Sequence numbers going back", &self.sequence_resets),
        ];
        for (name, help, family) in counters {
            r.register(name, help, family.clone());
        }
        r.register("exporter_templates", "Templates known per exporter", self.templates.clone());
    }

    /// Moves the metrics of `labels` from `last` to `now` (counters by the difference; a
    /// decoder restart, which lowers a value, adds nothing).
    pub fn advance(
        &self,
        labels: &ExporterLabels,
        last: &mut ExporterCounters,
        now: ExporterCounters,
    ) {
        let pairs = [
            (&self.datagrams, last.datagrams, now.datagrams),
            (&self.records, last.records, now.records),
            (&self.malformed, last.malformed, now.malformed),
            (&self.lost_datagrams, last.lost_datagrams, now.lost_datagrams),
            (&self.lost_records, last.lost_records, now.lost_records),
            (&self.missing_template, last.missing_template, now.missing_template),
            (&self.sequence_resets, last.sequence_resets, now.sequence_resets),
        ];
        for (family, before, after) in pairs {
            let counter = family.get_or_create(labels);
            if after > before {
                counter.inc_by(after - before);
            }
        }
        self.templates.get_or_create(labels).set(i64::try_from(now.templates).unwrap_or(i64::MAX));
        *last = now;
    }
}
