//! The Kafka sink's settings (pmacct's `kafka_*` keys; `[plugin.kafka]` in the native config)
//! and pmacct's `kafka_config_file` (librdkafka properties).

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::sink::broker::dynname::{self, DynName, NameKind};

/// Where and how a plugin's aggregates are produced.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct KafkaConfig {
    /// `kafka_broker_host` (default 127.0.0.1): one host, or a comma-separated list of
    /// `host[:port]` (then `broker_port` is not used), as pmacct takes it.
    pub broker_host: String,
    /// `kafka_broker_port` (default 9092).
    pub broker_port: u16,
    /// `kafka_topic` (default `pmacct.acct`); may hold `$peer_src_ip`, `$tag`, `$tag2`,
    /// `$post_tag`, `$post_tag2`.
    pub topic: String,
    /// `kafka_topic_rr`: message k goes to `<topic>_<k mod N>`; 0 disables it.
    pub topic_rr: u32,
    /// `kafka_partition`: a fixed partition; -1 (default): librdkafka's partitioner (by key).
    pub partition: i32,
    /// `kafka_partition_key`: the message key; may hold the topic's variables and `$src_host`,
    /// `$dst_host`, `$src_port`, `$dst_port`, `$proto`, `$in_iface`.
    pub partition_key: Option<String>,
    /// `kafka_config_file`: librdkafka settings, pmacct's `global, <key>, <value>` /
    /// `topic, <key>, <value>` lines (also `<key> = <value>` property lines).
    pub config_file: Option<PathBuf>,
    /// `kafka_multi_values`: bytes of newline-terminated JSON objects per message; 0: one
    /// aggregate per message.
    pub multi_values: usize,
    /// Seconds the broker has to acknowledge a message (librdkafka `message.timeout.ms`)
    /// before the send counts as failed and is retried (native config only).
    pub timeout_secs: u64,
}

impl Default for KafkaConfig {
    fn default() -> Self {
        Self {
            broker_host: "127.0.0.1".into(),
            broker_port: 9092,
            topic: "pmacct.acct".into(),
            topic_rr: 0,
            partition: -1,
            partition_key: None,
            config_file: None,
            multi_values: 0,
            timeout_secs: 10,
        }
    }
}

/// A setting the sink cannot work with, named by its pmacct key.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum KafkaConfigError {
    #[error("kafka_topic '{0}': variables cannot be combined with kafka_topic_rr")]
    DynamicWithRr(String),
    #[error("kafka_topic '{0}': variables cannot be combined with kafka_multi_values")]
    DynamicWithMultiValues(String),
    #[error(
        "kafka_topic '{key}': unsupported variable '{var}' (use {})",
        dynname::supported(NameKind::Topic)
    )]
    TopicVariable { key: String, var: String },
    #[error(
        "kafka_partition_key '{key}': unsupported variable '{var}' (use {})",
        dynname::supported(NameKind::PartitionKey)
    )]
    KeyVariable { key: String, var: String },
    #[error("kafka_partition {0}: expected -1 (partitioner) or a partition number >= 0")]
    Partition(i32),
    #[error("kafka_config_file {path}: {error}")]
    ConfigFile { path: String, error: String },
    #[error("kafka: {0}")]
    Client(String),
}

/// The names of a validated config.
#[derive(Clone, Debug)]
pub struct Names {
    pub topic: DynName,
    pub key: Option<DynName>,
}

impl KafkaConfig {
    /// Checks the combinations pmacct refuses too; gives the topic and key with their
    /// variables.
    pub fn validate(&self) -> Result<Names, KafkaConfigError> {
        let topic = DynName::parse(&self.topic, NameKind::Topic)
            .map_err(|var| KafkaConfigError::TopicVariable { key: self.topic.clone(), var })?;
        if topic.is_dynamic() {
            if self.topic_rr > 0 {
                return Err(KafkaConfigError::DynamicWithRr(self.topic.clone()));
            }
            if self.multi_values > 0 {
                return Err(KafkaConfigError::DynamicWithMultiValues(self.topic.clone()));
            }
        }
        let key = match &self.partition_key {
            Some(k) => Some(
                DynName::parse(k, NameKind::PartitionKey)
                    .map_err(|var| KafkaConfigError::KeyVariable { key: k.clone(), var })?,
            ),
            None => None,
        };
        if self.partition < -1 {
            return Err(KafkaConfigError::Partition(self.partition));
        }
        Ok(Names { topic, key })
    }

    /// `bootstrap.servers` as pmacct builds it: a list as given, one host with the port
    /// (an IPv6 address in brackets).
    pub fn bootstrap(&self) -> String {
        let host = self.broker_host.trim();
        if host.contains(',') {
            host.to_string()
        } else if host.parse::<std::net::Ipv6Addr>().is_ok() {
            format!("[{host}]:{}", self.broker_port)
        } else if host.contains(':') {
            host.to_string()
        } else {
            format!("{host}:{}", self.broker_port)
        }
    }
}

/// Reads `kafka_config_file`: pmacct's CSV lines `global, <key>, <value>` and
/// `topic, <key>, <value>` (the value may hold commas), and `<key> = <value>` property lines;
/// blank lines and `#` comments skipped. Anything else is an error naming the line.
pub fn read_config_file(path: &Path) -> Result<Vec<(String, String)>, KafkaConfigError> {
    let err =
        |error: String| KafkaConfigError::ConfigFile { path: path.display().to_string(), error };
    let text = std::fs::read_to_string(path).map_err(|e| err(e.to_string()))?;
    let mut out = Vec::new();
    for (n, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let mut csv = line.splitn(3, ',').map(str::trim);
        let first = csv.next().unwrap_or_default().to_ascii_lowercase();
        let pair = if first == "global" || first == "topic" {
            match (csv.next(), csv.next()) {
                (Some(k), Some(v)) if !k.is_empty() => Some((k.to_string(), v.to_string())),
                _ => None,
            }
        } else {
            line.split_once('=')
                .map(|(k, v)| (k.trim().to_string(), v.trim().to_string()))
                .filter(|(k, _)| !k.is_empty() && !k.contains(','))
        };
        match pair {
            Some(p) => out.push(p),
            None => {
                return Err(err(format!(
                    "line {}: expected `global, <key>, <value>`, `topic, <key>, <value>` or `<key> = <value>`",
                    n + 1
                )));
            }
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refuses_what_pmacct_refuses() {
        let ok = KafkaConfig { topic: "acct.$peer_src_ip.$tag2".into(), ..Default::default() };
        assert!(ok.validate().is_ok_and(|n| n.topic.is_dynamic()));
        let rr = KafkaConfig { topic_rr: 3, ..ok.clone() };
        assert!(matches!(rr.validate(), Err(KafkaConfigError::DynamicWithRr(_))));
        let mv = KafkaConfig { multi_values: 1024, ..ok.clone() };
        assert!(matches!(mv.validate(), Err(KafkaConfigError::DynamicWithMultiValues(_))));
        let bad = KafkaConfig { topic: "x.$src_host".into(), ..Default::default() };
        assert_eq!(
            bad.validate().unwrap_err().to_string(),
            "kafka_topic 'x.$src_host': unsupported variable '$src_host' (use $peer_src_ip, $tag, $tag2, $post_tag, $post_tag2)"
        );
        let key =
            KafkaConfig { partition_key: Some("$src_host-$in_iface".into()), ..Default::default() };
        assert!(key.validate().is_ok_and(|n| n.key.is_some_and(|k| k.is_dynamic())));
        let part = KafkaConfig { partition: -2, ..Default::default() };
        assert_eq!(part.validate().unwrap_err(), KafkaConfigError::Partition(-2));
    }

    #[test]
    fn bootstrap_as_pmacct() {
        let c = |h: &str| KafkaConfig {
            broker_host: h.into(),
            broker_port: 9093,
            ..Default::default()
        };
        assert_eq!(c("10.0.0.1").bootstrap(), "10.0.0.1:9093");
        assert_eq!(c("::1").bootstrap(), "[::1]:9093");
        assert_eq!(c("b1:10000,b2").bootstrap(), "b1:10000,b2");
    }

    #[test]
    fn config_file_lines() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("k.conf");
        std::fs::write(
            &p,
            "# comment\ntopic, compression.codec, snappy\nglobal, socket.keepalive.enable, true\n\n\
             client.id = pm\nglobal, debug, broker,topic\n",
        )
        .unwrap();
        let got = read_config_file(&p).unwrap();
        let want = [
            ("compression.codec", "snappy"),
            ("socket.keepalive.enable", "true"),
            ("client.id", "pm"),
            ("debug", "broker,topic"),
        ];
        assert_eq!(got, want.map(|(k, v)| (k.to_string(), v.to_string())));
        std::fs::write(&p, "global, lonely\n").unwrap();
        assert!(read_config_file(&p).unwrap_err().to_string().contains("line 1"));
    }
}
