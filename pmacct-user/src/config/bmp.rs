//! The BMP collector's settings (pmacct's `bmp_daemon_*` and `bmp_dump_*` keys).

use std::path::PathBuf;

use serde::{Deserialize, Serialize};

use super::Problem;
use crate::sink::amqp::AmqpConfig;
use crate::sink::delivery::DeliveryConfig;
use crate::sink::kafka::KafkaConfig;

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
    pub msglog_kafka: Option<KafkaConfig>,
    /// Queue, spool and retries of that stream.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub msglog_kafka_delivery: Option<DeliveryConfig>,
    /// Message log to AMQP (`bmp_daemon_msglog_amqp_*`): `routing_key` with the same
    /// variables, `routing_key_rr`, exchange, host, ... as the amqp plugin's.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub msglog_amqp: Option<AmqpConfig>,
    /// Queue, spool and retries of that stream.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub msglog_amqp_delivery: Option<DeliveryConfig>,
    /// Dumps to Kafka (`bmp_dump_kafka_*`): every dump line one message; `topic` with the
    /// router variables and strftime, `topic_rr`, `partition_key` with the router variables.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dump_kafka: Option<KafkaConfig>,
    /// Queue, spool and retries of that stream.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dump_kafka_delivery: Option<DeliveryConfig>,
    /// Dumps to AMQP (`bmp_dump_amqp_*`), as `dump_kafka`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dump_amqp: Option<AmqpConfig>,
    /// Queue, spool and retries of that stream.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dump_amqp_delivery: Option<DeliveryConfig>,
    /// ROAs for the `roa` field of route lines (pmacct's `rpki_roas_file`, which also feeds
    /// the plugins' `src_roa`/`dst_roa`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rpki_roas_file: Option<PathBuf>,
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
            rpki_roas_file: None,
            msglog_kafka: None,
            msglog_kafka_delivery: None,
            msglog_amqp: None,
            msglog_amqp_delivery: None,
            dump_kafka: None,
            dump_kafka_delivery: None,
            dump_amqp: None,
            dump_amqp_delivery: None,
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
        let names = [
            ("msglog_kafka", self.msglog_kafka.as_ref().map(|k| (&k.topic, k.topic_rr, "topic"))),
            ("dump_kafka", self.dump_kafka.as_ref().map(|k| (&k.topic, k.topic_rr, "topic"))),
            (
                "msglog_amqp",
                self.msglog_amqp
                    .as_ref()
                    .map(|a| (&a.routing_key, a.routing_key_rr, "routing_key")),
            ),
            (
                "dump_amqp",
                self.dump_amqp.as_ref().map(|a| (&a.routing_key, a.routing_key_rr, "routing_key")),
            ),
        ];
        for (out, name) in names {
            let Some((name, rr, field)) = name else { continue };
            if name.trim().is_empty() {
                push(&format!("{out}.{field}"), String::new(), "a name (variables allowed)");
            }
            if name.contains('$') && rr > 0 {
                push(&format!("{out}.{field}_rr"), rr.to_string(), "0 with a name with variables");
            }
        }
        for (out, a) in [("msglog_amqp", &self.msglog_amqp), ("dump_amqp", &self.dump_amqp)] {
            if let Some(a) = a
                && !["direct", "fanout", "topic", "headers"].contains(&a.exchange_type.as_str())
            {
                push(
                    &format!("{out}.exchange_type"),
                    a.exchange_type.clone(),
                    "direct, fanout, topic or headers",
                );
            }
        }
        if self.dump_refresh_time > 0 && !self.dumps_configured() {
            push(
                "dump_file",
                String::new(),
                "a dump file template (or dump_kafka / dump_amqp) when dump_refresh_time is set",
            );
        }
    }

    /// True when dumps go somewhere (file, Kafka or AMQP).
    pub fn dumps_configured(&self) -> bool {
        self.dump_file.is_some() || self.dump_kafka.is_some() || self.dump_amqp.is_some()
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
