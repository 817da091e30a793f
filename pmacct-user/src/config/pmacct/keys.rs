//! What each pmacct key becomes in [`Config`].
//!
//! - Mapped: `aggregate`, `print_output`, `print_output_file`, `[print|sql|amqp|kafka]_refresh_time`,
//!   `_history`, `_history_roundoff` (print plugins), `imt_path` (memory plugins),
//!   `pcap_interface`, `pcap_interfaces_map`, `pcap_savefile`, `pcap_savefile_wait`,
//!   `pcap_savefile_replay`, `sampling_rate`, `debug` (log level `debug`).
//! - pmacct-rs only (pmacct ignores them with a warning): `xdp_attach_mode` (auto|native|skb),
//!   `xdp_action` (pass|drop), `xdp_max_flows`, `xdp_drain_interval_ms`, `metrics_listen`
//!   (`none` disables), `shutdown_timeout`, `log_level`.
//! - Accepted without effect, with a note: `daemonize`, `plugin_pipe_size`, `plugin_buffer_size`,
//!   `snaplen`, `promisc`, `imt_buckets`, `imt_mem_pools_number`, `imt_mem_pools_size`,
//!   `pmacctd_renormalize`, `core_proc_name`, `debug_internal_msg`.
//! - print: `print_output_separator`, `print_output_file_append`, `print_markers`,
//!   `print_latest_file`, `timestamps_utc`, `timestamps_since_epoch`, `timestamps_secs`.
//! - `aggregate_filter[name]` (a pcap-filter expression, checked at load; the global form is
//!   ignored with a warning, as pmacct ignores it).
//! - `networks_file` (relative to the config's directory), `networks_mask`,
//!   `networks_file_no_lpm`, `networks_file_filter`, `nfacctd_net`/`sfacctd_net`/`pmacctd_net`,
//!   `nfacctd_as`/... (global only, as in pmacct): per plugin or global
//!   ([`crate::enrich::netmethod`]); `tmp_net_own_field` without effect.
//! - `geoipv2_file` (global, as in pmacct; relative to the config's directory; checked to open
//!   as a MaxMind DB),
//! - `aggregate_primitives` (global; its names become valid in `aggregate`),
//!   `nfacctd_stitching` / `sfacctd_stitching` / `pmacctd_stitching` / `uacctd_stitching`,
//!   `nfacctd_pro_rating` (global or per plugin).
//! - `pre_tag_map`, `post_tag`, `post_tag2` (global or per plugin), `pre_tag_filter[name]`,
//!   `pre_tag2_filter[name]`,
//!   `pre_tag_label_filter[name]` (the global forms ignored with a warning, as pmacct does),
//!   `maps_refresh` (maps are re-read on SIGHUP).
//! - RIB lookups: `bgp_agent_map`, `bgp_peer_src_as_type`, `bgp_src_*_type` (with
//!   `bgp_src_roa_type`), `rpki_roas_file`; `rpki_rtr_cache` is an error (RPKI-RTR is not
//!   supported), `rpki_rtr_cache_*` are ignored with a warning.
//! - Errors (ignoring them would change the numbers): `pcap_filter`,
//!   a CSV separator of more than one character.
//! - `bmp_*` keys: see [`super::bmp`]; `amqp_*` and `kafka_*` keys of those plugins: see
//!   `super::amqp` and `super::kafka` (an unknown `kafka_*` key joins the ignored ones).
//! - Anything else: listed in one "not implemented, ignored" warning.

use std::path::PathBuf;

use super::bmp::BmpKeys;
mod aggmodel;

use super::collector::CollectorKeys;
use super::{Ctx, Line, ifmap};
use crate::aggregate::Primitive;
use crate::aggregate::timebin::{History, HistoryUnit, validate_roundoff};
use crate::config::{
    AttachMode, Config, ConfigError, InterfaceConfig, PluginConfig, PluginKind, PrintFormat,
    SavefileConfig, XdpAction,
};

/// Keys that would change results if ignored.
const FATAL_UNSUPPORTED: &[&str] = &["pcap_filter"];

/// Keys accepted without effect, with the reason.
const NO_EFFECT: &[(&str, &str)] = &[
    ("daemonize", "pmacct-rs stays in the foreground; run it under systemd"),
    ("plugin_pipe_size", "plugins share memory with the core; there is no pipe"),
    ("plugin_buffer_size", "plugins share memory with the core; there is no pipe buffer"),
    ("snaplen", "XDP reads the headers it needs from the full packet"),
    (
        "promisc",
        "XDP sees what the interface receives; set promiscuous mode with `ip link` if needed",
    ),
    ("imt_buckets", "the memory table grows as needed"),
    ("imt_mem_pools_number", "the memory table grows as needed"),
    ("imt_mem_pools_size", "the memory table grows as needed"),
    ("core_proc_name", "process names are not used in logs"),
    ("debug_internal_msg", "no internal pipes to debug"),
];

/// Prefixes of the keys sharing pmacct's refresh/history fields; applied to print plugins.
const TIME_PREFIXES: &[&str] = &["print", "sql", "amqp", "kafka"];

struct State<'a> {
    ctx: Ctx<'a>,
    config: Config,
    warnings: &'a mut Vec<String>,
    /// Keys not implemented: `key (line N)`.
    ignored: Vec<String>,
    pcap_interface: Option<String>,
    map_interfaces: Vec<String>,
    savefile: Option<PathBuf>,
    savefile_wait: bool,
    savefile_replay: u32,
    savefile_delay: u64,
    /// Per-plugin sampling rate and the line that last set one by name.
    sampling: Vec<u32>,
    named_sampling_line: Option<usize>,
    attach_mode: AttachMode,
    action: XdpAction,
    renormalize: bool,
    collector: CollectorKeys,
    bmp: BmpKeys,
    /// `rpki_roas_file`, for the BMP daemon too.
    roas_file: Option<PathBuf>,
    /// `aggregate` names that are not built-in primitives: (line, value, name).
    custom_names: Vec<(usize, String, String)>,
    /// `aggregate_primitives` (resolved path).
    aggregate_primitives: Option<PathBuf>,
}

/// Applies the lines in order to a config holding `plugins`.
pub(super) fn apply(
    lines: &[Line],
    plugins: Vec<PluginConfig>,
    ctx: Ctx<'_>,
    warnings: &mut Vec<String>,
) -> Result<Config, ConfigError> {
    let sampling = vec![1; plugins.len()];
    let mut st = State {
        ctx,
        config: Config { plugins, ..Config::default() },
        warnings,
        ignored: Vec::new(),
        pcap_interface: None,
        map_interfaces: Vec::new(),
        savefile: None,
        savefile_wait: false,
        savefile_replay: 1,
        savefile_delay: 0,
        sampling,
        named_sampling_line: None,
        attach_mode: AttachMode::default(),
        action: XdpAction::default(),
        renormalize: false,
        collector: CollectorKeys::default(),
        bmp: BmpKeys::default(),
        roas_file: None,
        custom_names: Vec::new(),
        aggregate_primitives: None,
    };
    for line in lines.iter().filter(|l| l.key != "plugins") {
        st.line(line)?;
    }
    st.finish()
}

fn parse_bool(ctx: Ctx<'_>, line: &Line) -> Result<bool, ConfigError> {
    match line.value.to_ascii_lowercase().as_str() {
        "true" => Ok(true),
        "false" => Ok(false),
        _ => Err(ctx.err(line.number, &line.key, &line.value, "expected true or false")),
    }
}

fn parse_num<T: std::str::FromStr + PartialOrd + From<u8>>(
    ctx: Ctx<'_>,
    line: &Line,
) -> Result<T, ConfigError> {
    match line.value.parse::<T>() {
        Ok(n) if n >= T::from(1) => Ok(n),
        _ => Err(ctx.err(line.number, &line.key, &line.value, "expected an integer >= 1")),
    }
}

/// pmacct `*_history`: `N[smhdwM]`, no unit meaning seconds (whole minutes). Normalised to
/// `N<unit>` so `300` and `5m` give the same [`Config`].
fn normalize_history(ctx: Ctx<'_>, line: &Line) -> Result<String, ConfigError> {
    let h = History::parse(&line.value).map_err(|_| {
        ctx.err(
            line.number,
            &line.key,
            &line.value,
            "expected <count><unit>, unit one of s m h d w M, seconds in whole minutes (e.g. 300, 5m, 1h)",
        )
    })?;
    let unit = match h.unit {
        HistoryUnit::Minutes => 'm',
        HistoryUnit::Hours => 'h',
        HistoryUnit::Days => 'd',
        HistoryUnit::Weeks => 'w',
        HistoryUnit::Months => 'M',
    };
    Ok(format!("{}{unit}", h.howmany))
}

impl State<'_> {
    fn err(&self, line: &Line, reason: impl Into<String>) -> ConfigError {
        self.ctx.err(line.number, &line.key, &line.value, reason)
    }

    /// Plugin indices a line applies to, restricted to `kind` when given. Named lines that
    /// address nothing, or a plugin of another kind, produce a warning and no target.
    fn targets(&mut self, line: &Line, kind: Option<PluginKind>) -> Vec<usize> {
        let plugins = &self.config.plugins;
        match &line.plugin {
            None => {
                (0..plugins.len()).filter(|&i| kind.is_none_or(|k| plugins[i].kind == k)).collect()
            }
            Some(name) => match plugins.iter().position(|p| &p.name == name) {
                None => {
                    self.warnings.push(format!(
                        "line {}: `{}[{name}]`: no plugin named `{name}`; ignored (as pmacct does)",
                        line.number, line.key
                    ));
                    Vec::new()
                }
                Some(i) if kind.is_some_and(|k| plugins[i].kind != k) => {
                    self.warnings.push(format!(
                        "line {}: `{}[{name}]` does not apply to a {:?} plugin; ignored",
                        line.number, line.key, plugins[i].kind
                    ));
                    Vec::new()
                }
                Some(i) => vec![i],
            },
        }
    }

    /// A global-only key given as `key[name]`: apply globally, say so.
    fn global_only(&mut self, line: &Line) {
        if let Some(name) = &line.plugin {
            self.warnings.push(format!(
                "line {}: `{}` is a global key; `[{name}]` ignored",
                line.number, line.key
            ));
        }
    }

    fn line(&mut self, line: &Line) -> Result<(), ConfigError> {
        let ctx = self.ctx;
        let key = line.key.as_str();
        if self.collector.line(ctx, ctx.flavor, line)? {
            return Ok(());
        }
        if self.bmp.line(ctx, line, self.warnings)? {
            return Ok(());
        }
        if let Some((prefix, field)) = key.split_once('_')
            && TIME_PREFIXES.contains(&prefix)
            && matches!(field, "refresh_time" | "history" | "history_roundoff")
        {
            return self.time_key(line, prefix, field);
        }
        if let Some(field) = key.strip_prefix("amqp_") {
            return self.amqp_key(line, field);
        }
        if let Some(field) = key.strip_prefix("kafka_") {
            return self.kafka_key(line, field);
        }
        match key {
            "aggregate" => {
                let mut names = Vec::new();
                // `none`: one grand total (pmacct's "single aggregate for all traffic").
                let tokens = line.value.split(',').map(str::trim);
                for token in tokens.filter(|t| !t.is_empty() && !t.eq_ignore_ascii_case("none")) {
                    let name = token.to_ascii_lowercase();
                    if name == "class" && !matches!(ctx.flavor, super::Flavor::Nfacctd) {
                        // pmacctd/sfacctd classify packets with nDPI; pmacct built without it
                        // (Debian's 1.7.7) warns and leaves the primitive out, as we do.
                        self.warnings.push(format!(
                            "line {}: aggregate `class` needs packet classification (nDPI), which pmacct-rs does not do: left out, as pmacct without --enable-ndpi does",
                            line.number
                        ));
                        continue;
                    }
                    if Primitive::from_name(&name).is_none() {
                        // Maybe a custom primitive: checked once aggregate_primitives is known.
                        self.custom_names.push((line.number, line.value.clone(), name.clone()));
                    }
                    names.push(name);
                }
                for i in self.targets(line, None) {
                    self.config.plugins[i].aggregate = names.clone();
                }
            }
            "print_output" => {
                let value = line.value.to_ascii_lowercase();
                let event = value.starts_with("event_");
                let format = match value.as_str() {
                    "formatted" | "event_formatted" => PrintFormat::Formatted,
                    "csv" | "event_csv" => PrintFormat::Csv,
                    "json" => PrintFormat::Json,
                    f @ ("avro" | "avro_json" | "custom") => {
                        return Err(self.err(line, format!("print_output `{f}` is not supported yet (supported: formatted, csv, json, event_formatted, event_csv)")));
                    }
                    _ => {
                        return Err(self
                            .err(line, "unknown print_output (supported: formatted, csv, json, event_formatted, event_csv)"));
                    }
                };
                for i in self.targets(line, Some(PluginKind::Print)) {
                    self.config.plugins[i].output = format;
                    self.config.plugins[i].print.event = event;
                }
            }
            "aggregate_filter" => self.aggregate_filter(line)?,
            "pre_tag_map" | "pre_tag_filter" | "pre_tag2_filter" | "pre_tag_label_filter"
            | "post_tag" | "post_tag2" => self.pretag_key(line)?,
            "maps_refresh" => {
                parse_bool(ctx, line)?;
                self.warnings.push(format!(
                    "line {}: `maps_refresh` accepted: pmacct-rs re-reads pre_tag_map, networks_file, geoipv2_file and rpki_roas_file on SIGHUP (pmacct: SIGUSR2)",
                    line.number
                ));
            }
            "networks_file" | "networks_mask" | "networks_file_no_lpm" | "networks_file_filter"
            | "nfacctd_net" | "sfacctd_net" | "pmacctd_net" | "uacctd_net" | "nfacctd_as"
            | "sfacctd_as" | "pmacctd_as" | "uacctd_as" | "nfacctd_as_new" | "sfacctd_as_new"
            | "pmacctd_as_new" => self.networks_key(line)?,
            "aggregate_primitives" => self.aggregate_primitives_key(line)?,
            "geoipv2_file" => self.geoipv2_key(line)?,
            "nfacctd_stitching" | "sfacctd_stitching" | "pmacctd_stitching" | "uacctd_stitching"
            | "nfacctd_pro_rating" => self.time_split_key(line)?,
            "tmp_net_own_field" => self.warnings.push(format!(
                "line {}: `tmp_net_own_field` accepted without effect: networks always have their own field, as in pmacct 1.7",
                line.number
            )),
            "print_output_file" => {
                for i in self.targets(line, Some(PluginKind::Print)) {
                    self.config.plugins[i].output_file = Some(line.value.clone());
                }
            }
            "print_output_separator"
            | "print_latest_file"
            | "print_output_file_append"
            | "timestamps_utc"
            | "timestamps_since_epoch"
            | "timestamps_secs"
            | "print_markers" => self.print_key(line)?,
            "imt_path" => {
                for i in self.targets(line, Some(PluginKind::Memory)) {
                    self.config.plugins[i].imt_path = Some(PathBuf::from(&line.value));
                }
            }
            "sampling_rate" => {
                let n: u32 = parse_num(ctx, line)?;
                if line.plugin.is_some() {
                    self.named_sampling_line = Some(line.number);
                }
                for i in self.targets(line, None) {
                    self.sampling[i] = n;
                }
            }
            "pmacctd_renormalize" => {
                self.global_only(line);
                self.renormalize = parse_bool(ctx, line)?;
            }
            "pcap_interface" => {
                self.global_only(line);
                self.pcap_interface = Some(line.value.clone());
            }
            "pcap_interfaces_map" => {
                self.global_only(line);
                self.map_interfaces = ifmap::read(ctx, line, self.warnings)?;
            }
            "pcap_savefile" => {
                self.global_only(line);
                self.savefile = Some(PathBuf::from(&line.value));
            }
            "pcap_savefile_wait" => {
                self.global_only(line);
                self.savefile_wait = parse_bool(ctx, line)?;
            }
            "pcap_savefile_replay" => {
                self.global_only(line);
                self.savefile_replay = parse_num(ctx, line)?;
            }
            "pcap_savefile_delay" => {
                self.global_only(line);
                self.savefile_delay = parse_num(ctx, line)?;
            }
            "bgp_agent_map" | "bmp_agent_map" | "bgp_peer_src_as_type" | "bgp_src_std_comm_type"
            | "bgp_src_ext_comm_type" | "bgp_src_lrg_comm_type" | "bgp_src_as_path_type"
            | "bgp_src_local_pref_type" | "bgp_src_med_type" | "bgp_src_roa_type"
            | "rpki_roas_file" => self.bgp_key(line)?,
            "rpki_rtr_cache" => {
                return Err(self.err(
                    line,
                    "the RPKI-RTR protocol is not supported; export the ROAs to a JSON file and use `rpki_roas_file`",
                ));
            }
            "rpki_rtr_cache_version" | "rpki_rtr_cache_pipe_size" | "rpki_rtr_cache_ipprec" => {
                self.warnings.push(format!(
                    "line {}: `{}` ignored: rpki_rtr_cache is not supported",
                    line.number, line.key
                ));
            }
            "debug" => {
                if parse_bool(ctx, line)? {
                    self.config.daemon.log_level = "debug".into();
                }
            }
            "log_level" => self.config.daemon.log_level = line.value.clone(),
            "metrics_listen" => {
                self.config.daemon.metrics_listen =
                    (!line.value.eq_ignore_ascii_case("none")).then(|| line.value.clone());
            }
            "shutdown_timeout" => self.config.daemon.shutdown_timeout_secs = parse_num(ctx, line)?,
            "xdp_drain_interval_ms" => self.config.daemon.drain_interval_ms = parse_num(ctx, line)?,
            "xdp_max_flows" => self.config.xdp.max_flows = parse_num(ctx, line)?,
            "xdp_attach_mode" => {
                self.attach_mode = match line.value.to_ascii_lowercase().as_str() {
                    "auto" => AttachMode::Auto,
                    "native" => AttachMode::Native,
                    "skb" => AttachMode::Skb,
                    _ => return Err(self.err(line, "expected auto, native or skb")),
                };
            }
            "xdp_action" => {
                self.action = match line.value.to_ascii_lowercase().as_str() {
                    "pass" => XdpAction::Pass,
                    "drop" => XdpAction::Drop,
                    _ => return Err(self.err(line, "expected pass or drop")),
                };
            }
            k if FATAL_UNSUPPORTED.contains(&k) => {
                return Err(self.err(line, "not supported by pmacct-rs yet, and ignoring it would change the counters; remove it to account unfiltered traffic"));
            }
            k => match NO_EFFECT.iter().find(|(name, _)| *name == k) {
                Some((_, why)) => self.warnings.push(format!(
                    "line {}: `{k}: {}` accepted without effect: {why}",
                    line.number, line.value
                )),
                None => self.ignored.push(format!("{k} (line {})", line.number)),
            },
        }
        Ok(())
    }

    /// `amqp_*` keys of amqp plugins.
    fn amqp_key(&mut self, line: &Line, field: &str) -> Result<(), ConfigError> {
        for i in self.targets(line, Some(PluginKind::Amqp)) {
            let cfg = self.config.plugins[i].amqp.get_or_insert_with(Default::default);
            super::amqp::apply(cfg, field, &line.value).map_err(|e| self.err(line, e))?;
        }
        Ok(())
    }

    /// `kafka_*` keys of kafka plugins.
    fn kafka_key(&mut self, line: &Line, field: &str) -> Result<(), ConfigError> {
        let base = self.ctx.base_dir.to_path_buf();
        let (mut note, mut unknown) = (None, false);
        for i in self.targets(line, Some(PluginKind::Kafka)) {
            let cfg = self.config.plugins[i].kafka.get_or_insert_with(Default::default);
            match super::kafka::apply(cfg, field, &line.value, &base) {
                Ok(super::kafka::Applied::Set) => {}
                Ok(super::kafka::Applied::NoEffect(why)) => note = Some(why),
                Ok(super::kafka::Applied::Unknown) => unknown = true,
                Err(e) => return Err(self.err(line, e)),
            }
        }
        if unknown {
            self.ignored.push(format!("{} (line {})", line.key, line.number));
        }
        if let Some(why) = note {
            self.warnings.push(format!(
                "line {}: `{}: {}` accepted without effect: {why}",
                line.number, line.key, line.value
            ));
        }
        Ok(())
    }

    /// `<prefix>_refresh_time`, `_history`, `_history_roundoff`: print plugins, and amqp /
    /// kafka plugins for the `amqp_` / `kafka_` ones.
    fn time_key(&mut self, line: &Line, prefix: &str, field: &str) -> Result<(), ConfigError> {
        let ctx = self.ctx;
        let kind = match prefix {
            "amqp" => PluginKind::Amqp,
            "kafka" => PluginKind::Kafka,
            _ => PluginKind::Print,
        };
        match field {
            "refresh_time" => {
                let n: u64 = parse_num(ctx, line)?;
                for i in self.targets(line, Some(kind)) {
                    self.config.plugins[i].refresh_time = n;
                }
            }
            "history" => {
                let h = normalize_history(ctx, line)?;
                for i in self.targets(line, Some(kind)) {
                    self.config.plugins[i].history = Some(h.clone());
                }
            }
            _ => {
                if validate_roundoff(&line.value).is_err() {
                    return Err(self.err(
                        line,
                        "expected letters from `m h d w M` (`w` excludes `d` and `M`)",
                    ));
                }
                for i in self.targets(line, Some(kind)) {
                    self.config.plugins[i].history_roundoff = Some(line.value.clone());
                }
            }
        }
        Ok(())
    }

    fn finish(mut self) -> Result<Config, ConfigError> {
        self.check_custom_names()?;
        let rate = self.sampling.first().copied().unwrap_or(1);
        if self.sampling.iter().any(|&r| r != rate) {
            let line = self.named_sampling_line.unwrap_or(0);
            return Err(self.ctx.err(
                line,
                "sampling_rate",
                "",
                "different sampling rates per plugin are not supported; set sampling_rate globally",
            ));
        }
        if rate > 1 && !self.renormalize {
            self.warnings.push(format!(
                "sampling_rate {rate}: pmacct-rs always renormalises counters (pmacct does only with pmacctd_renormalize: true)"
            ));
        }
        let names = self.pcap_interface.take().into_iter().chain(self.map_interfaces.drain(..));
        self.config.interfaces = names
            .map(|name| InterfaceConfig {
                name,
                mode: self.attach_mode,
                action: self.action,
                sampling_rate: rate,
            })
            .collect();
        let flavor = self.ctx.flavor;
        self.config.savefile = self.savefile.take().map(|path| SavefileConfig {
            path,
            kind: flavor.savefile_kind(),
            wait: self.savefile_wait,
            replay: self.savefile_replay,
            sampling_rate: rate,
            delay_secs: self.savefile_delay,
        });
        if let Some(kind) = flavor.collector() {
            let keys = std::mem::take(&mut self.collector);
            self.config.collectors = vec![keys.finish(kind, self.config.savefile.is_some())];
        } else if flavor != super::Flavor::Pmbmpd
            && self.config.interfaces.is_empty()
            && self.config.savefile.is_none()
        {
            self.warnings.push("neither pcap_interface, pcap_interfaces_map nor pcap_savefile is set: pmacct would pick an interface itself, pmacct-rs needs one named".into());
        }
        self.config.bmp = std::mem::take(&mut self.bmp).finish(flavor, self.warnings);
        if let Some(b) = &mut self.config.bmp {
            b.rpki_roas_file = self.roas_file.take();
        }
        if !self.ignored.is_empty() {
            self.warnings.push(format!(
                "keys not implemented by pmacct-rs, ignored: {}",
                self.ignored.join(", ")
            ));
        }
        Ok(self.config)
    }
}
