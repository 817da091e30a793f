//! The daemon's configuration: native TOML/YAML (through figment: file → `PMACCT_*` env → CLI)
//! and pmacct's own `key[plugin]: value` files ([`pmacct`]), both producing the same [`Config`].
//!
//! - [`load()`]: defaults → file (TOML, or YAML for `.yaml`/`.yml`) → `PMACCT_*` env → `--set`;
//!   [`load_any`] also takes a pmacct `.conf`; [`parse_override`] splits a `--set` argument.
//! - [`read_pmacct`] / [`parse_pmacct`]: an existing pmacct `.conf`, with warnings for keys we
//!   accept but do not act on.
//! - [`Config::validate`]: semantic checks, every problem named by key, value and expectation.

mod bmp;
mod collector;
mod error;
pub mod load;
pub mod pmacct;
mod validate;

use std::path::PathBuf;

pub use bmp::BmpConfig;
pub use collector::{CollectorConfig, CollectorKind, SavefileKind};
pub use error::{ConfigError, Problem};
pub use load::{load, load_any, parse_override};
pub use pmacct::{parse_pmacct, read_pmacct};

use serde::{Deserialize, Serialize};

/// Whole daemon configuration.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Config {
    pub daemon: DaemonConfig,
    pub xdp: XdpConfig,
    /// Interfaces to attach the XDP program to.
    #[serde(rename = "interface")]
    pub interfaces: Vec<InterfaceConfig>,
    /// Capture files to account in userspace instead of (or beside) live interfaces
    /// (pmacct's `pcap_savefile`).
    pub savefile: Option<SavefileConfig>,
    /// NetFlow/IPFIX and sFlow collectors (pmacct's nfacctd / sfacctd).
    #[serde(rename = "collector")]
    pub collectors: Vec<CollectorConfig>,
    #[serde(rename = "plugin")]
    pub plugins: Vec<PluginConfig>,
    /// The BMP daemon (pmacct's `pmbmpd`, or `bmp_daemon: true` in a collector); `None`: off.
    pub bmp: Option<BmpConfig>,
}

impl Config {
    /// Whether a plugin aggregates a BGP string the sFlow decoder can fill from extended
    /// gateway records (`as_path`, `std_comm`): building them costs a string per sample.
    pub fn needs_bgp_strings(&self) -> bool {
        use crate::aggregate::Primitive;
        self.plugins.iter().flat_map(|p| &p.aggregate).any(|a| {
            matches!(Primitive::from_name(a.trim()), Some(Primitive::AsPath | Primitive::StdComm))
        })
    }

    /// The collectors with the settings derived from the plugins filled in.
    pub fn collectors_for_run(&self) -> Vec<CollectorConfig> {
        let bgp_strings = self.needs_bgp_strings();
        self.collectors.iter().map(|c| CollectorConfig { bgp_strings, ..c.clone() }).collect()
    }
}

/// Process-wide settings.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct DaemonConfig {
    /// Prometheus endpoint; `None` disables it.
    pub metrics_listen: Option<String>,
    /// How often the XDP maps are drained, in milliseconds.
    pub drain_interval_ms: u64,
    /// How long SIGTERM waits for sinks, in seconds.
    pub shutdown_timeout_secs: u64,
    /// `tracing` filter directive (`info`, `pmacct_user=debug`).
    pub log_level: String,
    /// The endpoint was not asked for explicitly (a pmacct config without `metrics_listen`):
    /// when its address is taken, run without it and say so instead of failing.
    #[serde(skip)]
    pub metrics_best_effort: bool,
}

/// Equal settings; `metrics_best_effort` (how the config was written, not what it sets) aside.
impl PartialEq for DaemonConfig {
    fn eq(&self, o: &Self) -> bool {
        let DaemonConfig {
            metrics_listen,
            drain_interval_ms,
            shutdown_timeout_secs,
            log_level,
            metrics_best_effort: _,
        } = self;
        *metrics_listen == o.metrics_listen
            && *drain_interval_ms == o.drain_interval_ms
            && *shutdown_timeout_secs == o.shutdown_timeout_secs
            && *log_level == o.log_level
    }
}

impl Default for DaemonConfig {
    fn default() -> Self {
        Self {
            metrics_listen: Some("127.0.0.1:9464".into()),
            drain_interval_ms: 1000,
            shutdown_timeout_secs: 10,
            log_level: "info".into(),
            metrics_best_effort: false,
        }
    }
}

/// XDP program settings shared by every interface.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct XdpConfig {
    /// Capacity of each of the two per-CPU pre-aggregation maps.
    pub max_flows: u32,
}

impl Default for XdpConfig {
    fn default() -> Self {
        Self { max_flows: 262_144 }
    }
}

/// How to attach XDP.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum AttachMode {
    /// Native (driver) mode, falling back to generic (skb) mode.
    #[default]
    Auto,
    /// Native only: fail if the driver lacks XDP.
    Native,
    /// Generic (skb) mode only.
    Skb,
}

/// What the program does with a packet once it is counted.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum XdpAction {
    /// Mirror port: count, then `XDP_DROP`.
    Drop,
    /// Inline: count, then `XDP_PASS`.
    #[default]
    Pass,
}

/// One interface the XDP program is attached to.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct InterfaceConfig {
    pub name: String,
    #[serde(default)]
    pub mode: AttachMode,
    #[serde(default)]
    pub action: XdpAction,
    /// 1:N packet sampling done in the kernel; counters are renormalised by N.
    #[serde(default = "one")]
    pub sampling_rate: u32,
}

fn one() -> u32 {
    1
}

/// Account the packets of a capture file (pmacct's `pcap_savefile`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SavefileConfig {
    pub path: PathBuf,
    /// What the file holds: packets (pmacctd), NetFlow/IPFIX or sFlow datagrams (nfacctd,
    /// sfacctd: decoded with the settings of the `[[collector]]` of that type, if any).
    #[serde(default)]
    pub kind: SavefileKind,
    /// Keep running after the file ends (pmacct's `pcap_savefile_wait`); false: flush and exit.
    #[serde(default)]
    pub wait: bool,
    /// Play the file this many times (pmacct's `pcap_savefile_replay`).
    #[serde(default = "one")]
    pub replay: u32,
    /// 1:N sampling applied in userspace (pmacct's `sampling_rate`).
    #[serde(default = "one")]
    pub sampling_rate: u32,
    /// Seconds to wait before playing the file (pmacct's `pcap_savefile_delay`), e.g. for the
    /// BMP daemon to learn routes first.
    #[serde(default)]
    pub delay_secs: u64,
}

/// Kind of plugin.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum PluginKind {
    Print,
    Memory,
    /// Inserts into ClickHouse (native config only; `[plugin.clickhouse]`).
    Clickhouse,
    /// Publishes JSON to an AMQP broker (pmacct's amqp plugin; `[plugin.amqp]`).
    Amqp,
    /// Produces JSON to a Kafka broker (pmacct's kafka plugin; `[plugin.kafka]`).
    Kafka,
}

/// print plugin output format (pmacct's `print_output`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum PrintFormat {
    #[default]
    Formatted,
    Csv,
    Json,
}

/// One plugin instance (pmacct's `plugins: print[name]`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PluginConfig {
    pub name: String,
    #[serde(rename = "type")]
    pub kind: PluginKind,
    /// pmacct `aggregate` primitive names. Accepts a list or pmacct's comma-separated string.
    #[serde(deserialize_with = "string_or_list")]
    pub aggregate: Vec<String>,
    /// Seconds between flushes (pmacct `print_refresh_time`; default 60).
    #[serde(default = "default_refresh")]
    pub refresh_time: u64,
    /// Time-bin width (pmacct `print_history`: `5m`, `1h`, `1d`...); none: one bin.
    #[serde(default)]
    pub history: Option<String>,
    /// Round bins to (pmacct `print_history_roundoff`: any of `m`, `h`, `d`, `w`, `M`).
    #[serde(default)]
    pub history_roundoff: Option<String>,
    /// print: output format.
    #[serde(default)]
    pub output: PrintFormat,
    /// print: file path template (`%Y %m %d %H %M`), stdout when absent.
    #[serde(default)]
    pub output_file: Option<String>,
    /// memory: Unix socket the query client talks to (pmacct `imt_path`).
    #[serde(default)]
    pub imt_path: Option<PathBuf>,
    /// pcap-filter expression selecting the records this plugin accounts (pmacct
    /// `aggregate_filter`); none: everything.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub aggregate_filter: Option<String>,
    /// clickhouse: server, table and schema profile.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub clickhouse: Option<crate::sink::clickhouse::ClickhouseConfig>,
    /// amqp: broker, exchange, routing key (pmacct's `amqp_*` keys).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub amqp: Option<crate::sink::amqp::AmqpConfig>,
    /// kafka: broker, topic, partition (pmacct's `kafka_*` keys).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kafka: Option<crate::sink::kafka::KafkaConfig>,
    /// Network sinks: in-memory queue, spool and retry settings.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub delivery: Option<crate::sink::delivery::DeliveryConfig>,
    /// networks_file / networks_mask / nfacctd_net / nfacctd_as.
    #[serde(default)]
    pub networks: crate::enrich::netmethod::NetworksConfig,
    /// RIB lookups: `bgp_agent_map`, `bgp_peer_src_as_type`, `bgp_src_*_type` (with
    /// `nfacctd_as`/`nfacctd_net: bmp` in `networks`).
    #[serde(default, skip_serializing_if = "is_default")]
    pub bgp: crate::enrich::bgp::BgpLookupConfig,
    /// pre_tag_map and the filters on its results.
    #[serde(default)]
    pub pretag: PretagConfig,
    /// print: output details (separator, append, timestamp formats).
    #[serde(default)]
    pub print: PrintKeys,
    /// `timestamp_min` / `timestamp_max` per aggregate (pmacct's `nfacctd_stitching`,
    /// `sfacctd_stitching`, `pmacctd_stitching`).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub stitching: bool,
    /// Split a flow spanning several time bins over them in proportion to time (pmacct's
    /// `nfacctd_pro_rating`; needs `history`).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub pro_rating: bool,
    /// File of custom primitives usable in `aggregate` (pmacct's `aggregate_primitives`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub aggregate_primitives: Option<PathBuf>,
    /// MaxMind DB the GeoIP primitives (`src_host_country`, `..._pocode`, `..._coords`) are
    /// looked up in (pmacct's `geoipv2_file`, a global key there).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub geoipv2_file: Option<PathBuf>,
}

/// print plugin output details (pmacct keys in the comments).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct PrintKeys {
    /// `print_output_separator` for CSV (one character; `\t` tab, `\s` space); default `,`.
    pub separator: Option<String>,
    /// `print_output_file_append`.
    pub append: bool,
    /// `timestamps_utc`.
    pub timestamps_utc: bool,
    /// `timestamps_since_epoch`.
    pub timestamps_since_epoch: bool,
    /// `timestamps_secs`.
    pub timestamps_secs: bool,
    /// `print_markers`.
    pub markers: bool,
    /// `print_latest_file`.
    pub latest_file: Option<PathBuf>,
    /// `print_output: event_csv` / `event_formatted`: rows without counters.
    pub event: bool,
}

/// pmacct's `pre_tag_map`, `pre_tag_filter`, `pre_tag2_filter`, `pre_tag_label_filter`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct PretagConfig {
    /// Map file setting tag / tag2 / label.
    pub map: Option<PathBuf>,
    /// Tags let into the plugin (`1,5-10,-6`).
    pub tag_filter: Option<String>,
    /// Same for tag2.
    pub tag2_filter: Option<String>,
    /// `post_tag`: the tag every aggregate of the plugin gets (when `tag` is aggregated),
    /// after the filters.
    pub post_tag: Option<u64>,
    /// `post_tag2`: the same for tag2.
    pub post_tag2: Option<u64>,
    /// Labels let into the plugin (`a,-b,null`).
    pub label_filter: Option<String>,
}

/// Deserializes `["a", "b"]` or pmacct's `"a, b"` into a list of trimmed names.
fn string_or_list<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Vec<String>, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum OneOrMany {
        One(String),
        Many(Vec<String>),
    }
    Ok(match OneOrMany::deserialize(d)? {
        OneOrMany::One(s) => split_list(&s),
        OneOrMany::Many(v) => {
            v.iter().map(|s| s.trim().to_string()).filter(|s| !s.is_empty()).collect()
        }
    })
}

/// Splits a comma-separated list, trimming blanks and dropping empty items.
pub(crate) fn split_list(s: &str) -> Vec<String> {
    s.split(',').map(str::trim).filter(|s| !s.is_empty()).map(String::from).collect()
}

fn default_refresh() -> u64 {
    60
}

impl PluginConfig {
    /// A plugin with pmacct's defaults.
    pub fn new(name: &str, kind: PluginKind) -> Self {
        Self {
            name: name.into(),
            kind,
            aggregate: Vec::new(),
            refresh_time: default_refresh(),
            history: None,
            history_roundoff: None,
            output: PrintFormat::default(),
            output_file: None,
            imt_path: None,
            aggregate_filter: None,
            clickhouse: None,
            amqp: None,
            kafka: None,
            delivery: None,
            networks: Default::default(),
            bgp: Default::default(),
            pretag: Default::default(),
            print: Default::default(),
            stitching: false,
            pro_rating: false,
            aggregate_primitives: None,
            geoipv2_file: None,
        }
    }
}

fn is_default<T: Default + PartialEq>(v: &T) -> bool {
    *v == T::default()
}
