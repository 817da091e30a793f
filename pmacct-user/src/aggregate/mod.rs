//! pmacct's aggregation model: primitives, per-plugin tables keyed by the masked record, time bins.
//!
//! [`Aggregator`] owns one [`Plugin`] per configured plugin; the data path calls
//! [`Aggregator::ingest`] per record and [`Aggregator::tick`] periodically, handing each returned
//! [`FlushBatch`] to the plugin's sink.

pub mod compact;
pub mod custom;
mod entries;
pub mod filter;
mod flat;
pub mod insert;
pub mod plugin;
pub mod primitive;
pub mod table;
pub mod timebin;

use std::time::{SystemTime, UNIX_EPOCH};

pub use entries::Entries;
pub use plugin::{Bin, FlushBatch, Plugin, PluginStats, Table};
pub use primitive::{Primitive, PrimitiveSet, UnknownPrimitive};
pub use table::KeyedTable;
pub use timebin::{History, HistoryUnit, TimeBinError, TimeBins};

use crate::config::PluginConfig;
use crate::record::FlowRecord;

/// A plugin configuration the aggregation core cannot use; names the plugin and the bad value.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum AggregateError {
    #[error("plugin '{plugin}': unknown aggregate primitive '{value}'")]
    Aggregate { plugin: String, value: String },
    #[error("plugin '{plugin}': invalid history '{value}' (expected e.g. 5m, 1h, 1d, 1w, 1M)")]
    History { plugin: String, value: String },
    #[error(
        "plugin '{plugin}': invalid history_roundoff '{value}' (any of m, h, d, w, M; 'w' excludes 'd' and 'M')"
    )]
    Roundoff { plugin: String, value: String },
    #[error("plugin '{plugin}': refresh_time must be a positive number of seconds")]
    RefreshTime { plugin: String },
    #[error("plugin '{plugin}': aggregate_filter: {error}")]
    Filter { plugin: String, error: filter::FilterError },
    #[error("plugin '{plugin}': {error}")]
    Networks { plugin: String, error: String },
    #[error("plugin '{plugin}': {error}")]
    Pretag { plugin: String, error: String },
    #[error("plugin '{plugin}': {error}")]
    Geoip { plugin: String, error: String },
    #[error("{error}")]
    Roas { error: String },
    #[error(
        "plugin '{plugin}': pro rating and stitching are mutually exclusive (pmacct refuses them together too)"
    )]
    ProRatingStitching { plugin: String },
    #[error("plugin '{plugin}': aggregate_primitives: {error}")]
    Custom { plugin: String, error: String },
    #[error("plugin '{plugin}': duplicate plugin name")]
    Duplicate { plugin: String },
}

/// Current Unix time in seconds.
pub fn unix_now() -> i64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_secs() as i64).unwrap_or(0)
}

/// All plugins of the daemon.
#[derive(Debug)]
pub struct Aggregator {
    plugins: Vec<Plugin>,
    union: PrimitiveSet,
}

impl Aggregator {
    /// Builds every plugin, started now, with local-time calendar arithmetic (pmacct's default
    /// `timestamps_utc: false`).
    pub fn new(cfgs: &[PluginConfig]) -> Result<Self, AggregateError> {
        Self::with_options(cfgs, unix_now(), false)
    }

    /// Builds every plugin started at `now` (Unix seconds); `utc` is `timestamps_utc`.
    pub fn with_options(
        cfgs: &[PluginConfig],
        now: i64,
        utc: bool,
    ) -> Result<Self, AggregateError> {
        let mut plugins: Vec<Plugin> = Vec::with_capacity(cfgs.len());
        for cfg in cfgs {
            if plugins.iter().any(|p| p.config().name == cfg.name) {
                return Err(AggregateError::Duplicate { plugin: cfg.name.clone() });
            }
            plugins.push(Plugin::new(cfg, now, utc)?);
        }
        let union = plugins.iter().fold(PrimitiveSet::EMPTY, |u, p| u.union(p.needs()));
        Ok(Aggregator { plugins, union })
    }

    /// Lets every plugin that needs BGP data look it up in `rib` (the BMP daemon's), with the
    /// `bgp_agent_map` and `rpki_roas_file` of the first plugin that names one (global keys in
    /// pmacct).
    pub fn attach_rib(
        &mut self,
        rib: &std::sync::Arc<std::sync::RwLock<crate::routing::Rib>>,
    ) -> Result<(), crate::enrich::bgp::LookupFilesError> {
        let path = self.plugins.iter().find_map(|p| p.config().bgp.agent_map.clone());
        let map = match path {
            Some(p) => {
                let m = crate::enrich::bgp::AgentMap::load(&p)?;
                tracing::info!(file = %p.display(), rules = m.len(), "bgp_agent_map loaded");
                Some(std::sync::Arc::new(m))
            }
            None => None,
        };
        let roas = self.load_roas()?;
        for p in &mut self.plugins {
            p.attach_rib(rib, map.as_ref(), roas.as_ref());
        }
        self.union = self.plugins.iter().fold(PrimitiveSet::EMPTY, |u, p| u.union(p.needs()));
        Ok(())
    }

    /// Accounts a record in every plugin (time bins use the record's start, else the clock).
    pub fn ingest(&mut self, rec: &FlowRecord) {
        let now =
            if rec.counters.first_us == 0 && self.plugins.iter().any(|p| p.time_bins().is_some()) {
                unix_now()
            } else {
                0
            };
        for p in &mut self.plugins {
            p.account(rec, now);
        }
    }

    /// Like [`Aggregator::ingest`] with an explicit clock for records without a start time.
    pub fn ingest_at(&mut self, rec: &FlowRecord, now: i64) {
        for p in &mut self.plugins {
            p.account(rec, now);
        }
    }

    /// [`Aggregator::ingest_at`] for a batch of records (cheaper per record: each plugin
    /// prefetches its table slots for the batch).
    pub fn ingest_batch(&mut self, recs: &[FlowRecord], now: i64) {
        for p in &mut self.plugins {
            p.account_batch(recs, now);
        }
    }

    /// Every primitive any plugin needs, its aggregate plus what its networks, filters and
    /// pre_tag_map read (the XDP key mask is built from it).
    pub fn union_set(&self) -> PrimitiveSet {
        self.union
    }

    /// The plugins, in configuration order (indices match [`Aggregator::tick`]'s).
    pub fn plugins(&self) -> &[Plugin] {
        &self.plugins
    }

    /// Re-reads every plugin's maps (pre_tag_map, networks_file, geoipv2_file) without touching the
    /// aggregates accounted so far. Plugins whose maps fail to load keep their old ones; the
    /// errors are returned.
    pub fn reload_maps(&mut self) -> Vec<AggregateError> {
        let mut errors: Vec<AggregateError> =
            self.plugins.iter_mut().filter_map(|p| p.reload_maps().err()).collect();
        // rpki_roas_file: re-read (pmacct's rpki_roas_file_reload); a file that fails keeps
        // the old ROAs.
        match self.load_roas() {
            Ok(Some(roas)) => {
                for p in &mut self.plugins {
                    p.set_roas(Some(&roas));
                }
            }
            Ok(None) => {}
            Err(e) => errors.push(AggregateError::Roas { error: e.to_string() }),
        }
        errors
    }

    /// Loads the `rpki_roas_file` the first plugin names, if any.
    fn load_roas(
        &self,
    ) -> Result<Option<std::sync::Arc<crate::routing::roa::RoaTable>>, crate::routing::roa::RoaError>
    {
        let Some(path) = self.plugins.iter().find_map(|p| p.config().bgp.roas_file.clone()) else {
            return Ok(None);
        };
        let t = crate::routing::roa::RoaTable::load(&path)?;
        tracing::info!(file = %path.display(), roas = t.len(), skipped = t.skipped(),
            "rpki_roas_file loaded");
        Ok(Some(std::sync::Arc::new(t)))
    }

    /// Flushes every plugin whose refresh deadline passed.
    pub fn tick(&mut self, now: i64) -> Vec<(usize, FlushBatch)> {
        self.plugins
            .iter_mut()
            .enumerate()
            .filter(|(_, p)| p.due(now))
            .map(|(i, p)| (i, p.flush(now)))
            .collect()
    }

    /// Flushes every plugin, all bins (shutdown).
    pub fn flush_all(&mut self, now: i64) -> Vec<(usize, FlushBatch)> {
        self.plugins.iter_mut().enumerate().map(|(i, p)| (i, p.flush_all(now))).collect()
    }

    /// Earliest refresh deadline of any plugin (for the caller's sleep).
    pub fn next_deadline(&self) -> Option<i64> {
        self.plugins.iter().map(Plugin::deadline).min()
    }
}

#[cfg(test)]
mod tests;
