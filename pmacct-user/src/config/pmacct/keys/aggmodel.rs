//! The aggregation-model keys of [`super::State`]: `aggregate_filter`, `pre_tag_map` and its
//! filters, `networks_file` and the network/AS methods, the print options.

use std::path::PathBuf;

use super::{Line, State, parse_bool};
use crate::config::{ConfigError, PluginKind};

impl State<'_> {
    /// `aggregate_filter[name]`: checked here so a bad expression names the line. pmacct refuses
    /// the global form ("aggregation filter cannot be global. Not loaded.") and runs on
    /// unfiltered: so do we, with a warning.
    pub(super) fn aggregate_filter(&mut self, line: &Line) -> Result<(), ConfigError> {
        if line.plugin.is_none() {
            self.warnings.push(format!(
                "line {}: `aggregate_filter` cannot be global (pmacct does not load it either); ignored",
                line.number
            ));
            return Ok(());
        }
        if let Err(e) = crate::aggregate::filter::Filter::parse(&line.value) {
            return Err(self.err(line, e.to_string()));
        }
        for i in self.targets(line, None) {
            self.config.plugins[i].aggregate_filter = Some(line.value.clone());
        }
        Ok(())
    }

    /// pre_tag_map (global or per plugin) and the per-plugin filters on its results.
    pub(super) fn pretag_key(&mut self, line: &Line) -> Result<(), ConfigError> {
        let key = line.key.as_str();
        if key == "pre_tag_map" {
            let path = self.ctx.base_dir.join(&line.value);
            if let Err(e) = crate::enrich::pretag::PreTagMap::load(&path) {
                return Err(self.err(line, e.to_string()));
            }
            for i in self.targets(line, None) {
                self.config.plugins[i].pretag.map = Some(path.clone());
            }
            return Ok(());
        }
        if key == "post_tag" || key == "post_tag2" {
            let v = match line.value.trim().parse::<u64>() {
                Ok(v) if v >= 1 => v,
                _ => return Err(self.err(line, "expected a tag from 1 to 2^64-1")),
            };
            for i in self.targets(line, None) {
                let p = &mut self.config.plugins[i].pretag;
                if key == "post_tag" {
                    p.post_tag = Some(v);
                } else {
                    p.post_tag2 = Some(v);
                }
            }
            return Ok(());
        }
        if line.plugin.is_none() {
            // pmacct: "TAG filter cannot be global. Not loaded."
            self.warnings.push(format!(
                "line {}: `{key}` cannot be global (pmacct does not load it either); ignored",
                line.number
            ));
            return Ok(());
        }
        if key != "pre_tag_label_filter"
            && let Err(e) = crate::enrich::tagfilter::TagFilter::parse(&line.value)
        {
            return Err(self.err(line, e.to_string()));
        }
        for i in self.targets(line, None) {
            let p = &mut self.config.plugins[i].pretag;
            let v = Some(line.value.clone());
            match key {
                "pre_tag_filter" => p.tag_filter = v,
                "pre_tag2_filter" => p.tag2_filter = v,
                _ => p.label_filter = v,
            }
        }
        Ok(())
    }

    /// networks_file and friends, global or per plugin.
    pub(super) fn networks_key(&mut self, line: &Line) -> Result<(), ConfigError> {
        use crate::enrich::netmethod::parse_method;
        let ctx = self.ctx;
        let key = line.key.as_str();
        let as_key = key.contains("_as");
        let targets = if as_key {
            // pmacct: "plugin name not supported for key '*_as_new'. Globalized."
            if let Some(name) = &line.plugin {
                self.warnings.push(format!(
                    "line {}: `{key}[{name}]`: pmacct does not support a plugin name here; applied to every plugin, as pmacct does",
                    line.number
                ));
            }
            (0..self.config.plugins.len()).collect()
        } else {
            self.targets(line, None)
        };
        let plugins = &mut self.config.plugins;
        if key == "networks_file" {
            let path = ctx.base_dir.join(&line.value);
            if !path.is_file() {
                return Err(self.err(line, "file not found"));
            }
            for i in targets {
                plugins[i].networks.file = Some(path.clone());
            }
        } else if key == "networks_mask" {
            let m: u8 = match line.value.parse() {
                Ok(m) if (1..=128).contains(&m) => m,
                _ => return Err(self.err(line, "expected a mask length 1-128")),
            };
            for i in targets {
                plugins[i].networks.mask = Some(m);
            }
        } else if key == "networks_file_no_lpm" {
            let b = parse_bool(ctx, line)?;
            for i in targets {
                plugins[i].networks.no_lpm = b;
            }
        } else if key == "networks_file_filter" {
            let b = parse_bool(ctx, line)?;
            for i in targets {
                plugins[i].networks.filter = b;
            }
        } else {
            if let Err(e) = parse_method(&line.value, as_key) {
                return Err(self.err(line, e.to_string()));
            }
            for i in targets {
                let n = &mut plugins[i].networks;
                if as_key {
                    n.asn = Some(line.value.to_ascii_lowercase());
                } else {
                    n.net = Some(line.value.to_ascii_lowercase());
                }
            }
        }
        Ok(())
    }

    /// The RIB lookup keys (global in pmacct, applied to every plugin): `bgp_agent_map`
    /// (`bmp_agent_map`), `bgp_peer_src_as_type`, `bgp_src_*_type`, `rpki_roas_file`.
    pub(super) fn bgp_key(&mut self, line: &Line) -> Result<(), ConfigError> {
        let key = line.key.as_str();
        let targets: Vec<usize> = (0..self.config.plugins.len()).collect();
        if key.ends_with("_agent_map") {
            let path = self.ctx.base_dir.join(&line.value);
            if let Err(e) = crate::enrich::bgp::AgentMap::load(&path) {
                return Err(self.err(line, e.to_string()));
            }
            for i in targets {
                self.config.plugins[i].bgp.agent_map = Some(path.clone());
            }
            return Ok(());
        }
        if key == "rpki_roas_file" {
            let path = self.ctx.base_dir.join(&line.value);
            if let Err(e) = crate::routing::roa::RoaTable::load(&path) {
                return Err(self.err(line, e.to_string()));
            }
            for i in targets {
                self.config.plugins[i].bgp.roas_file = Some(path.clone());
            }
            self.roas_file = Some(path);
            return Ok(());
        }
        let from_bgp = match line.value.to_ascii_lowercase().as_str() {
            "bgp" => true,
            "netflow" | "sflow" => false,
            "map" => {
                return Err(self.err(
                    line,
                    "`map` (bgp_src_*_map / bgp_peer_src_as_map) is not supported; use bgp or netflow",
                ));
            }
            _ => return Err(self.err(line, "expected bgp, netflow or sflow")),
        };
        for i in targets {
            let b = &mut self.config.plugins[i].bgp;
            let field = match key {
                "bgp_peer_src_as_type" => &mut b.peer_src_as,
                "bgp_src_std_comm_type" => &mut b.src_std_comm,
                "bgp_src_ext_comm_type" => &mut b.src_ext_comm,
                "bgp_src_lrg_comm_type" => &mut b.src_lrg_comm,
                "bgp_src_as_path_type" => &mut b.src_as_path,
                "bgp_src_local_pref_type" => &mut b.src_local_pref,
                "bgp_src_roa_type" => &mut b.src_roa,
                _ => &mut b.src_med,
            };
            *field = from_bgp;
        }
        Ok(())
    }

    /// print options: separator, latest file, append, markers, timestamp formats.
    pub(super) fn print_key(&mut self, line: &Line) -> Result<(), ConfigError> {
        let key = line.key.as_str();
        match key {
            "print_output_separator" => {
                let v = line.value.as_str();
                if v.chars().count() != 1 && v != "\\t" && v != "\\s" {
                    return Err(self.err(line, "expected one character, `\\t` or `\\s`"));
                }
                for i in self.targets(line, Some(PluginKind::Print)) {
                    self.config.plugins[i].print.separator = Some(v.to_string());
                }
            }
            "print_latest_file" => {
                if line.value.contains(['%', '$']) {
                    return Err(self.err(
                        line,
                        "time-based or dynamic names are not allowed here (pmacct refuses them too)",
                    ));
                }
                for i in self.targets(line, Some(PluginKind::Print)) {
                    self.config.plugins[i].print.latest_file = Some(PathBuf::from(&line.value));
                }
            }
            _ => {
                let b = parse_bool(self.ctx, line)?;
                for i in self.targets(line, Some(PluginKind::Print)) {
                    let p = &mut self.config.plugins[i].print;
                    match key {
                        "print_output_file_append" => p.append = b,
                        "timestamps_utc" => p.timestamps_utc = b,
                        "timestamps_since_epoch" => p.timestamps_since_epoch = b,
                        "print_markers" => p.markers = b,
                        _ => p.timestamps_secs = b,
                    }
                }
            }
        }
        Ok(())
    }

    /// `*_stitching` (timestamp_min / timestamp_max) and `nfacctd_pro_rating`, global or per
    /// plugin as pmacct takes them.
    pub(super) fn time_split_key(&mut self, line: &Line) -> Result<(), ConfigError> {
        let b = parse_bool(self.ctx, line)?;
        let pro_rating = line.key.ends_with("pro_rating");
        for i in self.targets(line, None) {
            let p = &mut self.config.plugins[i];
            if pro_rating {
                p.pro_rating = b;
            } else {
                p.stitching = b;
            }
        }
        Ok(())
    }

    /// `aggregate_primitives` (global, as in pmacct): the file is read now so a bad entry names
    /// its line; every plugin gets it.
    pub(super) fn aggregate_primitives_key(&mut self, line: &Line) -> Result<(), ConfigError> {
        self.global_only(line);
        let path = self.ctx.base_dir.join(&line.value);
        if let Err(e) = crate::aggregate::custom::load(&path) {
            return Err(self.err(line, e.to_string()));
        }
        for p in &mut self.config.plugins {
            p.aggregate_primitives = Some(path.clone());
        }
        self.aggregate_primitives = Some(path);
        Ok(())
    }

    /// `geoipv2_file` (global in pmacct: "plugin name not supported ... Globalized"): the file
    /// must open as a MaxMind DB (pmacct would only warn and print empty values).
    pub(super) fn geoipv2_key(&mut self, line: &Line) -> Result<(), ConfigError> {
        if let Some(name) = &line.plugin {
            self.warnings.push(format!(
                "line {}: `geoipv2_file[{name}]`: pmacct does not support a plugin name here; applied to every plugin, as pmacct does",
                line.number
            ));
        }
        let path = self.ctx.base_dir.join(&line.value);
        if let Err(e) = crate::enrich::geoip::GeoDb::open(&path) {
            return Err(self.err(line, e.reason));
        }
        for p in &mut self.config.plugins {
            p.geoipv2_file = Some(path.clone());
        }
        Ok(())
    }

    /// `aggregate` names that are no built-in primitive must be defined in
    /// `aggregate_primitives`: an unknown primitive is an error, as in pmacct.
    pub(super) fn check_custom_names(&self) -> Result<(), ConfigError> {
        let defs = match &self.aggregate_primitives {
            Some(p) => crate::aggregate::custom::load(p).unwrap_or_default(),
            None => Vec::new(),
        };
        for (number, value, name) in &self.custom_names {
            if !defs.iter().any(|d| &d.name == name) {
                let known: Vec<&str> =
                    crate::aggregate::Primitive::ALL.iter().map(|p| p.name()).collect();
                return Err(self.ctx.err(
                    *number,
                    "aggregate",
                    value,
                    format!(
                        "unknown or unsupported primitive `{name}` (supported: {}, or a name defined in aggregate_primitives)",
                        known.join(", ")
                    ),
                ));
            }
        }
        Ok(())
    }
}
