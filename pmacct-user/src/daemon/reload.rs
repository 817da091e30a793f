//! SIGHUP: re-read the config and apply what can change without re-attaching XDP.
//!
//! Applied live: the plugin set (added, removed or changed plugins; unchanged plugins keep their
//! sink, so a memory table survives) and the drain interval. Interfaces, XDP settings, the
//! metrics address and the capture file need a restart: a reload that changes them says so and
//! keeps the running values. Before plugins are rebuilt every table is flushed, so no counter is
//! lost.

use anyhow::{Context, Result};
use tracing::{info, warn};

use super::{Daemon, SinkWorker};
use crate::aggregate::{Aggregator, unix_now};
use crate::config::Config;
use crate::input::xdp::field_mask_for;

/// Re-reads the configuration from wherever it came from.
pub type Reloader = Box<dyn Fn() -> Result<Config> + Send>;

impl Daemon {
    /// Handles one SIGHUP. Errors leave the running configuration in place.
    pub(super) fn reload(&mut self) {
        let Some(reloader) = &self.reloader else {
            info!("SIGHUP: no config file to reload");
            return;
        };
        let new = match reloader() {
            Ok(c) => c,
            Err(e) => {
                warn!(
                    error = format!("{e:#}"),
                    "SIGHUP: new config rejected, keeping the running one"
                );
                return;
            }
        };
        if let Err(e) = self.apply(new) {
            warn!(error = format!("{e:#}"), "SIGHUP: reload failed, keeping the running plugins");
        }
    }

    fn apply(&mut self, new: Config) -> Result<()> {
        let mut needs_restart = Vec::new();
        if new.interfaces != self.config.interfaces {
            needs_restart.push("interface");
        }
        if new.xdp != self.config.xdp {
            needs_restart.push("xdp");
        }
        if new.daemon.metrics_listen != self.config.daemon.metrics_listen {
            needs_restart.push("daemon.metrics_listen");
        }
        if new.savefile != self.config.savefile {
            needs_restart.push("savefile");
        }
        if new.bmp != self.config.bmp {
            needs_restart.push("bmp");
        }
        if !needs_restart.is_empty() {
            warn!(keys = ?needs_restart, "SIGHUP: these changes need a restart and were not applied");
        }
        if let Some(b) = &self.bmp
            && let Err(e) = b.reload_roas()
        {
            warn!(error = %e, "SIGHUP: BMP rpki_roas_file reload failed, keeping the old ROAs");
        }
        if new.daemon.drain_interval_ms != self.config.daemon.drain_interval_ms {
            info!(ms = new.daemon.drain_interval_ms, "SIGHUP: new drain interval");
            self.config.daemon.drain_interval_ms = new.daemon.drain_interval_ms;
        }
        self.config.daemon.shutdown_timeout_secs = new.daemon.shutdown_timeout_secs;
        if new.plugins == self.config.plugins {
            // Maps (pre_tag_map, networks_file) may have changed on disk: re-read them, keep
            // the counters.
            for e in self.aggregator.reload_maps() {
                warn!(error = %e, "SIGHUP: map reload failed, keeping the old map");
            }
            info!("SIGHUP: plugins unchanged, maps re-read");
            return Ok(());
        }
        let mut aggregator = Aggregator::new(&new.plugins).context("plugins")?;
        if let Some(b) = &self.bmp {
            aggregator.attach_rib(b.rib()).context("bgp_agent_map / rpki_roas_file")?;
        }
        let missing = field_mask_for(aggregator.union_set()) & !self.xdp_field_mask;
        if missing != 0 && !self.datapaths.is_empty() {
            warn!(
                field_mask = format!("{missing:#x}"),
                "SIGHUP: new primitives need XDP fields the running program does not fill; \
                 they stay zero until a restart"
            );
        }
        // Flush everything under the old plugins first: nothing accounted so far is lost.
        let all = self.aggregator.flush_all(unix_now());
        self.dispatch(all);
        let deadline = std::time::Instant::now()
            + std::time::Duration::from_secs(self.config.daemon.shutdown_timeout_secs);
        let mut old: Vec<Option<SinkWorker>> = self.sinks.drain(..).map(Some).collect();
        // Workers whose plugin is gone or changed finish first (their socket/file is released).
        for slot in old.iter_mut() {
            let keep = slot.as_ref().is_some_and(|w| new.plugins.contains(&w.config));
            if !keep && let Some(w) = slot.take() {
                info!(plugin = %w.name, "SIGHUP: plugin removed or changed");
                w.finish(deadline);
            }
        }
        let mut sinks = Vec::with_capacity(new.plugins.len());
        for p in &new.plugins {
            let reused = old.iter_mut().find(|s| s.as_ref().is_some_and(|w| w.config == *p));
            match reused.and_then(Option::take) {
                Some(w) => sinks.push(w),
                None => {
                    info!(plugin = %p.name, "SIGHUP: plugin started");
                    sinks.push(SinkWorker::spawn(p, self.metrics.clone())?);
                }
            }
        }
        self.sinks = sinks;
        self.aggregator = aggregator;
        self.last_records = vec![0; new.plugins.len()];
        self.config.plugins = new.plugins;
        info!(plugins = self.config.plugins.len(), "SIGHUP: plugins reloaded");
        Ok(())
    }
}
