//! The daemon: wires inputs (XDP interfaces, capture files) into the aggregator and the plugins'
//! sinks, runs the drain/flush loop, and handles signals.
//!
//! Threads: the main thread drains XDP maps (or reads the capture) and aggregates; each plugin's
//! sink runs in its own thread fed by a bounded channel, so ingestion never waits on output. A
//! full channel drops that flush's batch, counted in `pmacct_plugin_batches_dropped_total`.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::{Context, Result};
use tracing::{error, info, warn};

use crate::aggregate::{Aggregator, FlushBatch, unix_now};
use crate::config::{CollectorConfig, CollectorKind, Config, SavefileConfig};
use crate::input::savefile;
use crate::input::xdp::{XdpDatapath, XdpOptions, field_mask_for};
use crate::metrics::{
    InterfaceLabels, KindLabels, Metrics, ModeLabels, PluginLabels, XdpCpuLabels,
};
use crate::record::FlowRecord;

mod bmp;
mod collectors;
mod reload;
mod sinks;

use collectors::{Collectors, collector_name, replay_capture};

pub use bmp::replay_bmp_capture;

pub use reload::Reloader;
use sinks::SinkWorker;

/// Signal flags set by handlers, polled by the loop.
#[derive(Clone, Default)]
pub struct Signals {
    pub terminate: Arc<AtomicBool>,
    pub reload: Arc<AtomicBool>,
}

impl Signals {
    /// Registers SIGTERM/SIGINT (terminate) and SIGHUP (reload).
    pub fn install() -> Result<Self> {
        let s = Signals::default();
        for sig in [signal_hook::consts::SIGTERM, signal_hook::consts::SIGINT] {
            signal_hook::flag::register(sig, s.terminate.clone())
                .context("installing signal handler")?;
        }
        signal_hook::flag::register(signal_hook::consts::SIGHUP, s.reload.clone())
            .context("installing SIGHUP handler")?;
        Ok(s)
    }
}

/// Everything the loop owns.
pub struct Daemon {
    config: Config,
    metrics: Arc<Mutex<Metrics>>,
    aggregator: Aggregator,
    sinks: Vec<SinkWorker>,
    datapaths: Vec<XdpDatapath>,
    /// Last absolute kernel counter per (interface, counter, cpu), for metric deltas.
    last_stats: Vec<Vec<Vec<u64>>>,
    /// Last `records_in` per plugin, for metric deltas.
    last_records: Vec<u64>,
    signals: Signals,
    /// Re-reads the config on SIGHUP.
    reloader: Option<Reloader>,
    /// The field mask the XDP programs were loaded with.
    xdp_field_mask: u32,
    /// NetFlow/IPFIX and sFlow listeners.
    collectors: Collectors,
    /// The BMP daemon, when configured.
    bmp: Option<bmp::BmpService>,
}

impl Daemon {
    /// Builds plugins and sinks, starts metrics, loads and attaches XDP on every interface.
    pub fn new(config: Config, signals: Signals, xdp_object: &[u8]) -> Result<Self> {
        let metrics = Arc::new(Mutex::new(Metrics::new()));
        if let Some(addr) = &config.daemon.metrics_listen {
            match crate::metrics::serve(addr, metrics.clone()) {
                Ok(_) => {}
                Err(e) if config.daemon.metrics_best_effort => {
                    warn!(%addr, error = %e, "Prometheus endpoint not started (set metrics_listen to choose another address)");
                }
                Err(e) => {
                    return Err(e).with_context(|| {
                        format!("daemon.metrics_listen: cannot listen on '{addr}'")
                    });
                }
            }
        }
        let mut aggregator = Aggregator::new(&config.plugins).context("plugins")?;
        // The BMP daemon's RIB, shared with the plugins that enrich flows from it.
        let rib = config.bmp.as_ref().map(crate::routing::bmp_daemon::BmpDaemon::new_rib);
        if let Some(rib) = &rib {
            aggregator.attach_rib(rib).context("bgp_agent_map / rpki_roas_file")?;
        }
        let sinks = config
            .plugins
            .iter()
            .map(|p| SinkWorker::spawn(p, metrics.clone()))
            .collect::<Result<Vec<_>>>()?;
        let mask = field_mask_for(aggregator.union_set());
        let mut datapaths = Vec::new();
        for iface in &config.interfaces {
            let opts = XdpOptions {
                max_flows: config.xdp.max_flows,
                field_mask: mask,
                sampling_rate: iface.sampling_rate,
                action: iface.action,
            };
            let mut dp = XdpDatapath::load(xdp_object, &iface.name, opts)
                .with_context(|| format!("interface '{}'", iface.name))?;
            let mode =
                dp.attach(iface.mode).with_context(|| format!("interface '{}'", iface.name))?;
            if let Ok(m) = metrics.lock() {
                m.xdp_attach_mode
                    .get_or_create(&ModeLabels {
                        interface: iface.name.clone(),
                        mode: mode.as_str().into(),
                    })
                    .set(1);
                m.xdp_sampling_rate
                    .get_or_create(&InterfaceLabels { interface: iface.name.clone() })
                    .set(i64::from(dp.sampling_rate()));
            }
            datapaths.push(dp);
        }
        let collectors = Collectors::start(&config.collectors_for_run())?;
        let bmp = match (config.bmp.as_ref(), rib) {
            (Some(cfg), Some(rib)) => Some(bmp::BmpService::start(cfg, rib)?),
            _ => None,
        };
        let last_stats = vec![Vec::new(); datapaths.len()];
        let last_records = vec![0; config.plugins.len()];
        Ok(Self {
            config,
            metrics,
            aggregator,
            sinks,
            datapaths,
            last_stats,
            last_records,
            signals,
            reloader: None,
            xdp_field_mask: mask,
            collectors,
            bmp,
        })
    }

    /// Sets how SIGHUP re-reads the configuration.
    pub fn with_reloader(mut self, reloader: Reloader) -> Self {
        self.reloader = Some(reloader);
        self
    }

    fn metrics(&self) -> std::sync::MutexGuard<'_, Metrics> {
        match self.metrics.lock() {
            Ok(m) => m,
            Err(p) => p.into_inner(),
        }
    }

    fn dispatch(&mut self, batches: Vec<(usize, FlushBatch)>) {
        let metrics = match self.metrics.lock() {
            Ok(m) => m,
            Err(p) => p.into_inner(),
        };
        for (idx, batch) in batches {
            if let Some(w) = self.sinks.get(idx) {
                metrics
                    .plugin_flushes
                    .get_or_create(&PluginLabels { plugin: w.name.clone() })
                    .inc();
                w.send(batch, &metrics);
            }
        }
    }

    /// Drains every interface once and feeds the aggregator.
    fn drain_all(&mut self) {
        {
            let metrics = match self.metrics.lock() {
                Ok(m) => m,
                Err(p) => p.into_inner(),
            };
            self.collectors.update_metrics(&metrics);
            if let Some(b) = &mut self.bmp {
                b.update_metrics(&metrics);
            }
        }
        for i in 0..self.datapaths.len() {
            let iface = self.datapaths[i].interface().to_string();
            let label = InterfaceLabels { interface: iface.clone() };
            match self.datapaths[i].drain() {
                Ok(d) => {
                    for r in &d.records {
                        self.aggregator.ingest(r);
                    }
                    let m = self.metrics();
                    m.xdp_drains.get_or_create(&label).inc();
                    m.xdp_map_entries.get_or_create(&label).set(d.entries as i64);
                    m.xdp_drain_duration.get_or_create(&label).observe(d.duration.as_secs_f64());
                }
                Err(e) => {
                    self.metrics().xdp_drain_errors.get_or_create(&label).inc();
                    error!(interface = %iface, error = %e, "drain failed");
                }
            }
            self.update_xdp_stats(i);
        }
        self.update_plugin_metrics();
    }

    fn update_xdp_stats(&mut self, i: usize) {
        let Ok(stats) = self.datapaths[i].stats() else { return };
        let iface = self.datapaths[i].interface().to_string();
        let metrics = match self.metrics.lock() {
            Ok(m) => m,
            Err(p) => p.into_inner(),
        };
        let last = &mut self.last_stats[i];
        last.resize(stats.len(), Vec::new());
        for (c, per_cpu) in stats.iter().enumerate() {
            last[c].resize(per_cpu.len(), 0);
            let name = pmacct_common::stats::NAMES.get(c).copied().unwrap_or("unknown");
            for (cpu, v) in per_cpu.iter().enumerate() {
                let counter = metrics.xdp_packets.get_or_create(&XdpCpuLabels {
                    interface: iface.clone(),
                    cpu: cpu.to_string(),
                    counter: name.to_string(),
                });
                Metrics::advance(&counter, &mut last[c][cpu], *v);
            }
        }
    }

    fn update_plugin_metrics(&mut self) {
        let metrics = match self.metrics.lock() {
            Ok(m) => m,
            Err(p) => p.into_inner(),
        };
        for (i, p) in self.aggregator.plugins().iter().enumerate() {
            let c = metrics
                .plugin_records
                .get_or_create(&PluginLabels { plugin: p.config().name.clone() });
            if let Some(last) = self.last_records.get_mut(i) {
                Metrics::advance(&c, last, p.stats().records_in);
            }
        }
    }

    /// Accounts the configured capture file (pmacct's `pcap_savefile`).
    fn run_savefile(&mut self) -> Result<()> {
        let Some(sf) = self.config.savefile.clone() else { return Ok(()) };
        if sf.delay_secs > 0 {
            info!(secs = sf.delay_secs, "pcap_savefile_delay: waiting before playing the file");
            std::thread::sleep(Duration::from_secs(sf.delay_secs));
        }
        if let Some(kind) = sf.kind.collector() {
            return self.replay_exports(&sf, kind);
        }
        info!(path = %sf.path.display(), replay = sf.replay, "accounting capture file");
        let mut opts = savefile::SavefileOptions::from_config(&sf);
        opts.payload_ptrs = self.config.plugins.iter().any(|p| {
            p.aggregate.iter().any(|n| {
                matches!(
                    n.trim(),
                    "src_port" | "dst_port" | "sum_port" | "tcpflags" | "flows" | "class"
                )
            })
        });
        let mut last_tick = Instant::now();
        let mut pending: Vec<(usize, FlushBatch)> = Vec::new();
        let agg = &mut self.aggregator;
        let mut now = unix_now();
        let stats = savefile::account_file(&sf.path, &opts, |rec| {
            agg.ingest_at(rec, now);
            if last_tick.elapsed() >= Duration::from_millis(500) {
                last_tick = Instant::now();
                now = unix_now();
                pending.extend(agg.tick(now));
            }
        })
        .with_context(|| format!("pcap_savefile '{}'", sf.path.display()))?;
        self.dispatch(pending);
        {
            let m = self.metrics();
            for (kind, n) in [
                ("read", stats.packets_read),
                ("accounted", stats.emitted),
                ("non_ip", stats.non_ip),
                ("truncated", stats.truncated),
                ("malformed", stats.malformed),
                ("sampled_out", stats.sampled_out),
            ] {
                m.savefile_packets.get_or_create(&KindLabels { kind: kind.into() }).inc_by(n);
            }
        }
        info!(?stats, "capture file done");
        self.update_plugin_metrics();
        Ok(())
    }

    /// Decodes a capture of NetFlow/IPFIX or sFlow datagrams (nfacctd's / sfacctd's
    /// `pcap_savefile`) with the settings of the collector of that type.
    fn replay_exports(&mut self, sf: &SavefileConfig, kind: CollectorKind) -> Result<()> {
        let cfg = self
            .config
            .collectors
            .iter()
            .find(|c| c.kind == kind)
            .cloned()
            .unwrap_or_else(|| CollectorConfig::new(kind));
        let cfg = CollectorConfig { bgp_strings: self.config.needs_bgp_strings(), ..cfg };
        info!(path = %sf.path.display(), replay = sf.replay, collector = collector_name(kind), "replaying export capture");
        let mut last_tick = Instant::now();
        let mut pending: Vec<(usize, FlushBatch)> = Vec::new();
        let agg = &mut self.aggregator;
        let mut now = unix_now();
        let mut records = 0u64;
        for round in 0..sf.replay.max(1) {
            let (stats, malformed) = replay_capture(&sf.path, &cfg, |recs| {
                records += recs.len() as u64;
                agg.ingest_batch(recs, now);
                if last_tick.elapsed() >= Duration::from_millis(500) {
                    last_tick = Instant::now();
                    now = unix_now();
                    pending.extend(agg.tick(now));
                }
            })
            .with_context(|| format!("pcap_savefile '{}'", sf.path.display()))?;
            info!(round, ?stats, malformed, "export capture done");
        }
        self.dispatch(pending);
        self.update_plugin_metrics();
        info!(records, "capture file done");
        Ok(())
    }

    /// Feeds the records waiting from the collectors into the aggregator.
    fn ingest_collected(&mut self, first: Option<Vec<FlowRecord>>) {
        let now = unix_now();
        for batch in first.into_iter().chain(self.collectors.pending()) {
            self.aggregator.ingest_batch(&batch, now);
        }
    }

    /// Runs until SIGTERM/SIGINT (or, for a capture file without `wait`, until it is accounted),
    /// then drains one last time, flushes every plugin and waits for the sinks.
    pub fn run(mut self) -> Result<()> {
        self.run_savefile()?;
        // A capture file without `wait` is a batch job: account it, flush, exit (pmacct's
        // `pcap_savefile_wait: false`). Anything else runs until a signal.
        // The BMP daemon does not keep a capture job alive (pmacct's thread ends with it).
        let listening = self.config.collectors.iter().any(|c| !c.listen.is_empty());
        let batch = self.datapaths.is_empty()
            && !listening
            && self.config.savefile.as_ref().is_some_and(|s| !s.wait);
        let serving = listening || self.bmp.is_some();
        if !batch && self.datapaths.is_empty() && !serving && self.config.savefile.is_none() {
            warn!(
                "no interface, collector or capture file configured: serving plugins and metrics only"
            );
        }
        let mut next_drain = Instant::now();
        while !batch && !self.signals.terminate.load(Ordering::Relaxed) {
            let interval = Duration::from_millis(self.config.daemon.drain_interval_ms.max(10));
            let first = self.collectors.recv(Duration::from_millis(10).min(interval));
            self.ingest_collected(first);
            if self.signals.reload.swap(false, Ordering::Relaxed) {
                self.reload();
            }
            if Instant::now() >= next_drain {
                next_drain += interval;
                if next_drain < Instant::now() {
                    next_drain = Instant::now() + interval;
                }
                self.drain_all();
                let due = self.aggregator.tick(unix_now());
                self.dispatch(due);
            }
        }
        self.shutdown()
    }

    fn shutdown(mut self) -> Result<()> {
        info!("shutting down: last drain and flush");
        self.collectors.stop();
        if let Some(b) = self.bmp.take() {
            b.stop();
        }
        self.ingest_collected(None);
        if !self.datapaths.is_empty() {
            self.drain_all();
            // A second drain collects whatever arrived on the other map during the first.
            self.drain_all();
        }
        let all = self.aggregator.flush_all(unix_now());
        self.dispatch(all);
        self.datapaths.clear(); // detaches
        let deadline =
            Instant::now() + Duration::from_secs(self.config.daemon.shutdown_timeout_secs);
        for w in self.sinks.drain(..) {
            w.finish(deadline);
        }
        info!("bye");
        Ok(())
    }
}
