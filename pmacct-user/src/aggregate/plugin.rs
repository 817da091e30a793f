//! One plugin's aggregation state: its primitive set, one table per time bin, the flush schedule.

use std::collections::BTreeMap;
use std::mem;
use std::sync::{Arc, RwLock};

use super::compact::Layout;
use super::entries::Entries;
use super::filter::Filter;
use super::table::{KeyedTable, TableSize};
use super::timebin::{History, TimeBins, initial_deadline, validate_roundoff};
use super::{AggregateError, PrimitiveSet};
use crate::config::PluginConfig;
use crate::enrich::bgp::{AgentMap, BgpStage};
use crate::enrich::geoip::GeoStage;
use crate::enrich::netmethod::NetResolver;
use crate::enrich::tagfilter::PretagStage;
use crate::record::{Counters, FlowFields, FlowRecord};
use crate::routing::Rib;
use crate::routing::roa::RoaTable;

/// One aggregate table keyed on the full struct: masked key → accumulated counters.
/// foldhash: FxHash spread the large keys poorly enough that probing (full-key compares) cost
/// more than hashing.
pub type Table = std::collections::HashMap<FlowFields, Counters, foldhash::fast::FixedState>;

/// The entries of one time bin, as handed to a sink.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Bin {
    /// Bin start in Unix seconds (pmacct's `stamp_inserted`); 0 when the plugin has no history.
    pub start: i64,
    pub entries: Entries,
}

/// What one flush of one plugin hands to its sink. Built by swapping tables out, so it owns
/// the entries and the plugin keeps accounting into fresh tables.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct FlushBatch {
    /// Plugin name (pmacct's `name` in `plugins: print[name]`).
    pub plugin: String,
    /// The plugin's aggregate (column set and order).
    pub primitives: PrimitiveSet,
    /// Whether the plugin has `*_history` (then `stamp_inserted`/`stamp_updated` are printed
    /// where pmacct prints them).
    pub history: bool,
    /// Flush time in Unix seconds (pmacct's `stamp_updated`).
    pub flushed_at: i64,
    /// Bins in ascending start order.
    pub bins: Vec<Bin>,
}

impl FlushBatch {
    /// Number of aggregates in the batch.
    pub fn len(&self) -> usize {
        self.bins.iter().map(|b| b.entries.len()).sum()
    }

    /// True when no bin holds an aggregate.
    pub fn is_empty(&self) -> bool {
        self.bins.iter().all(|b| b.entries.is_empty())
    }

    /// Every aggregate with its bin start.
    pub fn rows(&self) -> impl Iterator<Item = (i64, FlowFields, &Counters)> {
        self.bins.iter().flat_map(|b| b.entries.iter().map(move |(k, c)| (b.start, k, c)))
    }
}

/// Per-plugin counters for metrics.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct PluginStats {
    /// Records accounted.
    pub records_in: u64,
    /// Records the plugin's `aggregate_filter` rejected.
    pub records_filtered: u64,
    /// Aggregates currently held (all bins).
    pub entries: u64,
    /// Flushes done (including empty ones).
    pub flushes: u64,
    /// Aggregates handed out by flushes.
    pub entries_flushed: u64,
}

/// One plugin instance: aggregate, tables per time bin, refresh schedule.
#[derive(Debug)]
pub struct Plugin {
    cfg: PluginConfig,
    set: PrimitiveSet,
    /// The `sum_*` primitive of the aggregate, if any.
    sum: Option<super::Primitive>,
    /// Registry indices of the custom primitives in the aggregate, in its order.
    custom: Vec<usize>,
    layout: Layout,
    filter: Option<Filter>,
    nets: Option<NetResolver>,
    bgp: Option<BgpStage>,
    pretag: Option<PretagStage>,
    geo: Option<GeoStage>,
    bins: Option<TimeBins>,
    tables: BTreeMap<i64, KeyedTable>,
    /// The largest bin of the last flush: a new bin's table starts that big.
    size_hint: TableSize,
    refresh: i64,
    roundoff: String,
    utc: bool,
    deadline: i64,
    stats: PluginStats,
}

impl Plugin {
    /// Builds a plugin started at `now` (Unix seconds). `utc` is pmacct's `timestamps_utc`
    /// (calendar arithmetic for bins and roundoff in UTC instead of local time).
    pub fn new(cfg: &PluginConfig, now: i64, utc: bool) -> Result<Plugin, AggregateError> {
        let (builtin, custom_names): (Vec<&String>, Vec<&String>) =
            cfg.aggregate.iter().partition(|n| super::Primitive::from_name(n.trim()).is_some());
        let custom = super::custom::select(cfg, &custom_names)?;
        let names: Vec<&str> = builtin.iter().map(|s| s.as_str()).collect();
        let set = PrimitiveSet::parse(&names.join(","))
            .map_err(|e| AggregateError::Aggregate { plugin: cfg.name.clone(), value: e.0 })?;
        let (set, dropped) = super::insert::normalize_sum(set);
        if !dropped.is_empty() {
            let names: Vec<&str> = dropped.iter().map(|p| p.name()).collect();
            tracing::warn!(
                plugin = %cfg.name,
                "a sum_* aggregation is to be used alone (with tag, tag2, flows): {} dropped, as pmacct does",
                names.join(", ")
            );
        }
        if cfg.stitching && cfg.pro_rating {
            return Err(AggregateError::ProRatingStitching { plugin: cfg.name.clone() });
        }
        let roundoff = cfg.history_roundoff.clone().unwrap_or_default();
        validate_roundoff(&roundoff).map_err(|_| AggregateError::Roundoff {
            plugin: cfg.name.clone(),
            value: roundoff.clone(),
        })?;
        let bins = match &cfg.history {
            Some(h) => {
                let history = History::parse(h).map_err(|_| AggregateError::History {
                    plugin: cfg.name.clone(),
                    value: h.clone(),
                })?;
                Some(TimeBins::new(history, &roundoff, now, utc))
            }
            None => None,
        };
        let filter = cfg
            .aggregate_filter
            .as_deref()
            .map(Filter::parse)
            .transpose()
            .map_err(|error| AggregateError::Filter { plugin: cfg.name.clone(), error })?;
        let (nets, warnings) =
            NetResolver::new(&cfg.networks, super::insert::expand_sums(set)).map_err(|e| {
                AggregateError::Networks { plugin: cfg.name.clone(), error: e.to_string() }
            })?;
        for w in warnings {
            tracing::warn!(plugin = %cfg.name, "{w}");
        }
        let pretag = PretagStage::new(&cfg.pretag)
            .map_err(|error| AggregateError::Pretag { plugin: cfg.name.clone(), error })?;
        let geo = geo_stage(cfg, set)?;
        if cfg.geoipv2_file.is_none() && set.iter().any(super::Primitive::is_geoip) {
            tracing::warn!(
                plugin = %cfg.name,
                "GeoIP primitives aggregated without geoipv2_file: their values stay empty, as in pmacct"
            );
        }
        if cfg.refresh_time == 0 {
            return Err(AggregateError::RefreshTime { plugin: cfg.name.clone() });
        }
        let refresh = i64::try_from(cfg.refresh_time)
            .map_err(|_| AggregateError::RefreshTime { plugin: cfg.name.clone() })?;
        Ok(Plugin {
            cfg: cfg.clone(),
            layout: if custom.is_empty() { Layout::of(set) } else { Layout::of(set).with_custom() },
            sum: super::insert::sum_of(set),
            custom,
            set,
            filter,
            nets,
            bgp: None,
            pretag,
            geo,
            bins,
            tables: BTreeMap::new(),
            size_hint: TableSize::default(),
            refresh,
            deadline: initial_deadline(now, refresh, &roundoff, utc),
            roundoff,
            utc,
            stats: PluginStats::default(),
        })
    }

    /// The configuration this plugin was built from.
    pub fn config(&self) -> &PluginConfig {
        &self.cfg
    }

    /// The plugin's aggregate.
    pub fn primitives(&self) -> PrimitiveSet {
        self.set
    }

    /// The time-bin layout, when `history` is set.
    pub fn time_bins(&self) -> Option<&TimeBins> {
        self.bins.as_ref()
    }

    /// Metrics counters.
    pub fn stats(&self) -> PluginStats {
        self.stats
    }

    /// Next flush deadline (Unix seconds).
    pub fn deadline(&self) -> i64 {
        self.deadline
    }

    /// Accounts one record: key = the record masked to the aggregate, counters merged into the
    /// bin of the record's start time (`first_us`, or `now` when unknown); with pro rating, into
    /// every bin the flow spans; with a `sum_*` aggregate, once for the source and once for the
    /// destination value.
    pub fn account(&mut self, rec: &FlowRecord, now: i64) {
        if let Some(f) = &self.filter
            && !f.matches(&rec.fields)
        {
            self.stats.records_filtered += 1;
            return;
        }
        // A copy only when a map rewrites fields (the common case keys on the record itself).
        let mut owned;
        let f = if self.nets.is_none()
            && self.pretag.is_none()
            && self.bgp.is_none()
            && self.geo.is_none()
        {
            &rec.fields
        } else {
            owned = rec.fields;
            if let Some(p) = &self.pretag
                && !p.apply(&mut owned)
            {
                self.stats.records_filtered += 1;
                return;
            }
            if let Some(n) = &self.nets {
                n.apply(&mut owned);
            }
            if let Some(b) = &mut self.bgp {
                b.apply(&mut owned);
            }
            if let Some(g) = &self.geo {
                g.apply(&mut owned);
            }
            &owned
        };
        let mut counters = rec.counters;
        if !self.set.contains(super::Primitive::TcpFlags) {
            counters.tcp_flags = 0;
        }
        let clock = |now: i64| if now != 0 { now } else { super::unix_now() };
        // pmacct's stitching: a missing start or end is the current time; records without an
        // end of their own (sFlow samples, packets) move timestamp_max unconditionally.
        let mut assign_end = false;
        if self.cfg.stitching {
            let now_us = || clock(now).max(0) as u64 * 1_000_000;
            assign_end = counters.last_us == 0 || rec.fields.export_proto_version == 0;
            if counters.first_us == 0 {
                counters.first_us = now_us();
            }
            if counters.last_us == 0 {
                counters.last_us = now_us();
            }
        }
        let Some(bins) = &self.bins else {
            self.insert(0, f, &counters, assign_end);
            self.stats.records_in += 1;
            return;
        };
        let start_s = if rec.counters.first_us != 0 {
            (rec.counters.first_us / 1_000_000) as i64
        } else {
            clock(now)
        };
        let mut base = bins.bin_start(start_s);
        let end_s = (rec.counters.last_us / 1_000_000) as i64;
        if self.cfg.pro_rating
            && rec.counters.last_us != 0
            && super::insert::pro_rating_span_ok(bins.history(), base, end_s)
        {
            let bins = bins.clone();
            let mut cur = counters;
            loop {
                let next = bins.next_start(base);
                super::insert::pro_rate(&mut cur, &counters, start_s, end_s, base, next);
                self.insert(base, f, &cur, false);
                if next >= end_s {
                    break;
                }
                base = next;
            }
        } else {
            self.insert(base, f, &counters, assign_end);
        }
        self.stats.records_in += 1;
    }

    /// Merges `c` into bin `start` under the key of `f` (and of its destination value for a
    /// `sum_*` aggregate).
    fn insert(&mut self, start: i64, f: &FlowFields, c: &Counters, assign_end: bool) {
        let (layout, set, sum, stitching) = (self.layout, self.set, self.sum, self.cfg.stitching);
        let hint = self.size_hint;
        let custom = &self.custom;
        let key = |f: &FlowFields| {
            let mut k = set.mask(f);
            if !custom.is_empty() {
                k.custom = super::custom::project(f.custom, custom);
            }
            k
        };
        let bin = self.tables.entry(start).or_insert_with(|| KeyedTable::sized_like(layout, hint));
        let before = bin.len();
        if custom.is_empty() && !stitching {
            // The common case: the table packs its key straight from the record.
            bin.merge_fields(set, f, c);
            if let Some(sum) = sum {
                let mut g = *f;
                super::insert::sum_swap(sum, &mut g);
                bin.merge_fields(set, &g, c);
            }
            self.stats.entries += (bin.len() - before) as u64;
            return;
        }
        let mut put = |key: &FlowFields| {
            if stitching {
                bin.merge_with(key, c, |e, c| super::insert::stitch(e, c, assign_end));
            } else {
                bin.merge(key, c);
            }
        };
        put(&key(f));
        if let Some(sum) = sum {
            let mut g = *f;
            super::insert::sum_swap(sum, &mut g);
            put(&key(&g));
        }
        self.stats.entries += (bin.len() - before) as u64;
    }

    /// [`Plugin::account`] for every record of `recs`, in order; records that need no per-record
    /// work (no filter, bins, maps, RIB, stitching, sums or custom primitives) are merged in one
    /// batched pass over the table.
    pub fn account_batch(&mut self, recs: &[FlowRecord], now: i64) {
        if self.filter.is_some()
            || self.bins.is_some()
            || self.nets.is_some()
            || self.pretag.is_some()
            || self.bgp.is_some()
            || self.geo.is_some()
            || self.cfg.stitching
            || self.sum.is_some()
            || !self.custom.is_empty()
            || recs.is_empty()
        {
            for r in recs {
                self.account(r, now);
            }
            return;
        }
        let (layout, hint) = (self.layout, self.size_hint);
        let bin = self.tables.entry(0).or_insert_with(|| KeyedTable::sized_like(layout, hint));
        let before = bin.len();
        bin.merge_records(self.set, recs, self.set.contains(super::Primitive::TcpFlags));
        self.stats.entries += (bin.len() - before) as u64;
        self.stats.records_in += recs.len() as u64;
    }

    /// The primitives whose input fields this plugin reads: its aggregate, the addresses behind
    /// `src_net`/`dst_net` and networks lookups, and the header fields `aggregate_filter` and
    /// `pre_tag_map` may test.
    pub fn needs(&self) -> PrimitiveSet {
        use super::Primitive as P;
        let mut s = super::insert::expand_sums(self.set);
        let geo_src = [P::SrcHostCountry, P::SrcHostPocode, P::SrcHostCoords];
        let geo_dst = [P::DstHostCountry, P::DstHostPocode, P::DstHostCoords];
        if s.contains(P::SrcNet)
            || self.nets.is_some()
            || self.bgp.is_some()
            || geo_src.iter().any(|p| s.contains(*p))
        {
            s.insert(P::SrcHost);
        }
        if s.contains(P::DstNet)
            || self.nets.is_some()
            || self.bgp.is_some()
            || geo_dst.iter().any(|p| s.contains(*p))
        {
            s.insert(P::DstHost);
        }
        if self.filter.is_some() || self.pretag.is_some() {
            for p in [
                P::SrcHost,
                P::DstHost,
                P::SrcPort,
                P::DstPort,
                P::Proto,
                P::Tos,
                P::Vlan,
                P::SrcMac,
                P::DstMac,
                P::InIface,
                P::Etype,
            ] {
                s.insert(p);
            }
        }
        s
    }

    /// Enriches this plugin's records from `rib` (the BMP daemon's) when its aggregate or its
    /// `nfacctd_as`/`nfacctd_net` methods ask for BGP data; `map` is the loaded
    /// `bgp_agent_map`, `roas` the loaded `rpki_roas_file`.
    pub fn attach_rib(
        &mut self,
        rib: &Arc<RwLock<Rib>>,
        map: Option<&Arc<AgentMap>>,
        roas: Option<&Arc<RoaTable>>,
    ) {
        use crate::enrich::netmethod::{KEEP, parse_method};
        let n = &self.cfg.networks;
        let bits = |v: &Option<String>, as_key| {
            v.as_deref().and_then(|v| parse_method(v, as_key).ok()).unwrap_or(KEEP)
        };
        let (asm, net) = (bits(&n.asn, true), bits(&n.net, false));
        self.bgp = BgpStage::new(rib.clone(), map.cloned(), &self.cfg.bgp, asm, net, self.set);
        self.set_roas(roas);
    }

    /// Validates routes against `roas` from now on (a reloaded `rpki_roas_file`).
    pub fn set_roas(&mut self, roas: Option<&Arc<RoaTable>>) {
        if let Some(b) = &mut self.bgp {
            b.set_roas(roas.cloned());
        }
    }

    /// Re-reads the plugin's maps (pre_tag_map, networks_file, geoipv2_file), keeping its
    /// tables. On an error the old maps stay.
    pub fn reload_maps(&mut self) -> Result<(), AggregateError> {
        let cfg = &self.cfg;
        let pretag = PretagStage::new(&cfg.pretag)
            .map_err(|error| AggregateError::Pretag { plugin: cfg.name.clone(), error })?;
        let (nets, _) =
            NetResolver::new(&cfg.networks, super::insert::expand_sums(self.set)).map_err(|e| {
                AggregateError::Networks { plugin: cfg.name.clone(), error: e.to_string() }
            })?;
        let geo = geo_stage(cfg, self.set)?;
        self.pretag = pretag;
        self.nets = nets;
        self.geo = geo;
        Ok(())
    }

    /// True when the refresh deadline has passed (pmacct flushes when `now > deadline`).
    /// A memory plugin is due whenever it holds entries: like pmacct's, its table is live, so it
    /// takes every tick's aggregates (one per drain interval) rather than waiting for a refresh.
    pub fn due(&self, now: i64) -> bool {
        if self.cfg.kind == crate::config::PluginKind::Memory {
            return !self.tables.is_empty();
        }
        now > self.deadline
    }

    /// Swaps out every bin that started at or before `now` (future bins stay, as pmacct keeps
    /// entries newer than its current basetime) and moves the deadline on by `refresh_time`.
    pub fn flush(&mut self, now: i64) -> FlushBatch {
        let future = self.tables.split_off(&(now + 1));
        let taken = mem::replace(&mut self.tables, future);
        self.advance_deadline(now);
        self.batch(taken, now)
    }

    /// Swaps out every bin, future ones included (shutdown).
    pub fn flush_all(&mut self, now: i64) -> FlushBatch {
        let taken = mem::take(&mut self.tables);
        self.advance_deadline(now);
        self.batch(taken, now)
    }

    fn advance_deadline(&mut self, now: i64) {
        self.deadline += self.refresh;
        if self.deadline < now {
            // Fell behind (e.g. a stalled loop): realign like a fresh start.
            self.deadline = initial_deadline(now, self.refresh, &self.roundoff, self.utc);
        }
    }

    fn batch(&mut self, taken: BTreeMap<i64, KeyedTable>, now: i64) -> FlushBatch {
        self.size_hint = taken.values().fold(TableSize::default(), |m, t| m.max(t.size()));
        let bins: Vec<Bin> = taken
            .into_iter()
            .filter(|(_, t)| !t.is_empty())
            .map(|(start, live)| Bin { start, entries: live.into() })
            .collect();
        let batch = FlushBatch {
            plugin: self.cfg.name.clone(),
            primitives: self.set,
            history: self.bins.is_some(),
            flushed_at: now,
            bins,
        };
        let n = batch.len() as u64;
        self.stats.entries = self.stats.entries.saturating_sub(n);
        self.stats.entries_flushed += n;
        self.stats.flushes += 1;
        batch
    }
}

/// The plugin's GeoIP stage (`geoipv2_file`, when it aggregates a GeoIP primitive).
fn geo_stage(cfg: &PluginConfig, set: PrimitiveSet) -> Result<Option<GeoStage>, AggregateError> {
    let geo = GeoStage::new(cfg.geoipv2_file.as_deref(), set)
        .map_err(|e| AggregateError::Geoip { plugin: cfg.name.clone(), error: e.to_string() })?;
    if let Some(g) = &geo {
        tracing::info!(plugin = %cfg.name, file = %g.db().path().display(), "geoipv2_file loaded");
    }
    Ok(geo)
}
