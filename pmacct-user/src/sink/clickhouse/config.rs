//! The ClickHouse sink's settings (`[plugin.clickhouse]` in the native config).

use serde::{Deserialize, Serialize};

/// Which ClickHouse the schema is written for.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Profile {
    /// A current server: `IPv6` addresses, `LowCardinality(String)`, `DateTime64(6)`
    /// timestamps, TTL.
    #[default]
    Modern,
    /// Servers without those types (Debian's 18.16): addresses and timestamps as `String`, as
    /// pmacct prints them; no TTL.
    Legacy,
}

/// Where and how a plugin's aggregates are inserted.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ClickhouseConfig {
    /// HTTP interface, e.g. `http://127.0.0.1:8123`.
    #[serde(default = "default_url")]
    pub url: String,
    #[serde(default = "default_database")]
    pub database: String,
    /// Table name; default `pmacct_<plugin name>`.
    #[serde(default)]
    pub table: Option<String>,
    #[serde(default)]
    pub user: Option<String>,
    #[serde(default)]
    pub password: Option<String>,
    #[serde(default)]
    pub profile: Profile,
    /// Rows older than this many days are deleted by the server (modern profile only).
    #[serde(default)]
    pub ttl_days: Option<u32>,
    /// Seconds one HTTP request may take.
    #[serde(default = "default_timeout")]
    pub timeout_secs: u64,
    /// A flush larger than this goes in several INSERTs of at most this many rows.
    #[serde(default = "default_max_rows")]
    pub max_rows_per_insert: usize,
}

fn default_max_rows() -> usize {
    500_000
}

fn default_url() -> String {
    "http://127.0.0.1:8123".into()
}

fn default_database() -> String {
    "default".into()
}

fn default_timeout() -> u64 {
    30
}

impl Default for ClickhouseConfig {
    fn default() -> Self {
        Self {
            url: default_url(),
            database: default_database(),
            table: None,
            user: None,
            password: None,
            profile: Profile::default(),
            ttl_days: None,
            timeout_secs: default_timeout(),
            max_rows_per_insert: default_max_rows(),
        }
    }
}
