//! The BMP collector's settings (pmacct's `bmp_daemon_*` and `bmp_dump_*` keys).

use std::path::PathBuf;

use serde::{Deserialize, Serialize};

/// Settings of the BMP daemon (`pmbmpd`, or `bmp_daemon: true` in a collector).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BmpConfig {
    /// Address and port to listen on (pmacct `bmp_daemon_ip` / `bmp_daemon_port`).
    #[serde(default = "default_listen")]
    pub listen: String,
    /// Routers served at once; further connections are refused (`bmp_daemon_max_peers`).
    #[serde(default = "default_max_peers")]
    pub max_peers: usize,
    /// Routers allowed to connect (addresses or prefixes); empty allows everyone.
    #[serde(default)]
    pub allow: Vec<String>,
    /// A file of further allowed routers, one per line (`bmp_daemon_allow_file`).
    #[serde(default)]
    pub allow_file: Option<PathBuf>,
    /// Per-router message log, `$peer_src_ip` (and `$peer_tcp_port`) replaced
    /// (`bmp_daemon_msglog_file`).
    #[serde(default)]
    pub msglog_file: Option<String>,
    /// Dump file: `$peer_src_ip`, `$peer_tcp_port` and strftime variables replaced
    /// (`bmp_dump_file`).
    #[serde(default)]
    pub dump_file: Option<String>,
    /// Seconds between dumps; 0 disables them (`bmp_dump_refresh_time`).
    #[serde(default)]
    pub dump_refresh_time: u64,
    /// Approximate bytes of RIB each router may hold.
    #[serde(default)]
    pub max_router_bytes: Option<usize>,
}

fn default_listen() -> String {
    "[::]:1790".to_string()
}

fn default_max_peers() -> usize {
    100
}

impl Default for BmpConfig {
    fn default() -> Self {
        Self {
            listen: default_listen(),
            max_peers: default_max_peers(),
            allow: Vec::new(),
            allow_file: None,
            msglog_file: None,
            dump_file: None,
            dump_refresh_time: 0,
            max_router_bytes: None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_from_empty_toml() {
        let c: BmpConfig = serde_json::from_str("{}").expect("parse");
        assert_eq!(c, BmpConfig::default());
        assert_eq!(c.listen, "[::]:1790");
        assert_eq!(c.max_peers, 100);
        assert!(serde_json::from_str::<BmpConfig>(r#"{"bogus": 1}"#).is_err());
    }
}
