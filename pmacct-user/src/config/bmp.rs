//! The BMP collector's settings (pmacct's `bmp_daemon_*` and `bmp_dump_*` keys).

use std::path::PathBuf;

use serde::{Deserialize, Serialize};

use super::Problem;

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
    /// Message log to Kafka (`bmp_daemon_msglog_kafka_*`): broker, `topic` with
    /// `$peer_src_ip` / `$bmp_router` and `$peer_tcp_port` / `$bmp_router_port`, `topic_rr`,
    /// `partition`, `config_file`, `timeout_secs` as the kafka plugin's.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub msglog_kafka: Option<crate::sink::kafka::KafkaConfig>,
    /// Queue, spool and retries of that stream.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub msglog_kafka_delivery: Option<crate::sink::delivery::DeliveryConfig>,
}

fn default_listen() -> String {
    "[::]:1790".to_string()
}

/// pmacct 1.7.7's `bmp_daemon_max_peers` default: `BMP_MAX_PEERS_DEFAULT` (4) in
/// `src/bmp/bmp.h`, which pmbmpd logs at start ("maximum BMP peers allowed: 4"); CONFIG-KEYS
/// says 10, which is the BGP daemon's.
fn default_max_peers() -> usize {
    4
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
            msglog_kafka: None,
            msglog_kafka_delivery: None,
        }
    }
}

impl BmpConfig {
    /// Semantic checks; problems are named `bmp.<field>`.
    pub(super) fn validate(&self, problems: &mut Vec<Problem>) {
        let mut push = |key: &str, value: String, expected: &str| {
            problems.push(Problem {
                key: format!("bmp.{key}"),
                value,
                expected: expected.to_string(),
            })
        };
        if self.listen.parse::<std::net::SocketAddr>().is_err() {
            push("listen", self.listen.clone(), "address:port, e.g. 0.0.0.0:1790 or [::]:1790");
        }
        if self.max_peers < 1 {
            push("max_peers", "0".into(), "an integer >= 1");
        }
        for (i, a) in self.allow.iter().enumerate() {
            if crate::input::allow::parse_entry(a).is_none() {
                push(&format!("allow[{i}]"), a.clone(), "an IP address or prefix (10.0.0.0/8)");
            }
        }
        if let Some(f) = &self.allow_file
            && !f.is_file()
        {
            push("allow_file", f.display().to_string(), "a readable file of addresses/prefixes");
        }
        for (key, v) in [("msglog_file", &self.msglog_file), ("dump_file", &self.dump_file)] {
            if v.as_deref().is_some_and(|s| s.trim().is_empty()) {
                push(key, String::new(), "a file name template");
            }
        }
        if self.dump_refresh_time > 86_400 {
            push(
                "dump_refresh_time",
                self.dump_refresh_time.to_string(),
                "seconds between dumps, at most 86400 (0 disables dumps)",
            );
        }
        if let Some(k) = &self.msglog_kafka {
            if k.topic.trim().is_empty() {
                push("msglog_kafka.topic", String::new(), "a topic name");
            }
            if k.topic.contains('$') && k.topic_rr > 0 {
                push(
                    "msglog_kafka.topic_rr",
                    k.topic_rr.to_string(),
                    "0 with a topic with variables",
                );
            }
        }
        if self.dump_refresh_time > 0 && self.dump_file.is_none() {
            push("dump_file", String::new(), "a dump file template when dump_refresh_time is set");
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
        assert_eq!(c.max_peers, 4);
        assert!(serde_json::from_str::<BmpConfig>(r#"{"bogus": 1}"#).is_err());
    }
}
