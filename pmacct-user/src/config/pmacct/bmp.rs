//! `bmp_daemon*` / `bmp_dump_*` keys (pmacct 1.7.7's names) into [`BmpConfig`].
//!
//! - Mapped: `bmp_daemon` (true/false; implied by pmbmpd), `bmp_daemon_ip`, `bmp_daemon_port`
//!   (default 1790), `bmp_daemon_max_peers` (default 4, as pmbmpd 1.7.7), `bmp_daemon_allow_file`,
//!   `bmp_daemon_msglog_file`, `bmp_dump_file`, `bmp_dump_refresh_time`.
//! - Accepted because they only restate what we do: `bmp_daemon_msglog_output: json`,
//!   `bmp_dump_output: json` (other formats are an error).
//! - Accepted without effect, with a note: `bmp_daemon_pipe_size`, `bmp_daemon_ipprec`,
//!   `bmp_daemon_batch`, `bmp_daemon_batch_interval`, `bmp_table_peer_buckets`,
//!   `bmp_table_per_peer_buckets`, `bmp_table_attr_hash_buckets`, `bmp_table_per_peer_hash`,
//!   `bmp_dump_workers`.
//! - Message log to Kafka: `bmp_daemon_msglog_kafka_topic` (turns it on; `$peer_src_ip`,
//!   `$bmp_router`, `$peer_tcp_port`, `$bmp_router_port`), `_topic_rr`, `_broker_host`,
//!   `_broker_port`, `_partition`, `_partition_key` (fixed), `_config_file`; `_retry` without
//!   effect (librdkafka reconnects by itself). Unlike pmacct, a msglog file and Kafka may both
//!   be set.
//! - Every other `bmp_*` key falls through to the caller's "not implemented" warning.

use std::path::PathBuf;

use super::{Ctx, Flavor, Line};
use crate::config::{BmpConfig, ConfigError};
use crate::sink::kafka::KafkaConfig;

/// `bmp_*` keys accepted without effect, with the reason.
const NO_EFFECT: &[(&str, &str)] = &[
    ("bmp_daemon_pipe_size", "routers are read by their own threads; there is no pipe"),
    ("bmp_daemon_ipprec", "the listener does not mark its packets"),
    ("bmp_daemon_batch", "routers are accepted as they connect"),
    ("bmp_daemon_batch_interval", "routers are accepted as they connect"),
    ("bmp_table_peer_buckets", "the RIB grows as needed"),
    ("bmp_table_per_peer_buckets", "the RIB grows as needed"),
    ("bmp_table_attr_hash_buckets", "the RIB grows as needed"),
    ("bmp_table_per_peer_hash", "the RIB grows as needed"),
    ("bmp_dump_workers", "one dump thread writes every router"),
];

/// BMP keys seen so far.
#[derive(Debug, Default)]
pub(super) struct BmpKeys {
    enabled: Option<bool>,
    ip: Option<String>,
    port: Option<u16>,
    max_peers: Option<usize>,
    allow_file: Option<PathBuf>,
    msglog_file: Option<String>,
    dump_file: Option<String>,
    dump_refresh_time: Option<u64>,
    kafka: Option<KafkaConfig>,
    kafka_topic: bool,
}

fn parse_bool(ctx: Ctx<'_>, line: &Line) -> Result<bool, ConfigError> {
    match line.value.to_ascii_lowercase().as_str() {
        "true" => Ok(true),
        "false" => Ok(false),
        _ => Err(ctx.err(line.number, &line.key, &line.value, "expected true or false")),
    }
}

impl BmpKeys {
    /// Handles `line` if it is a BMP key we map or accept; `Ok(false)` otherwise. Notes for keys
    /// accepted without effect go to `warnings`.
    pub(super) fn line(
        &mut self,
        ctx: Ctx<'_>,
        line: &Line,
        warnings: &mut Vec<String>,
    ) -> Result<bool, ConfigError> {
        let err = |reason: &str| ctx.err(line.number, &line.key, &line.value, reason);
        match line.key.as_str() {
            "bmp_daemon" => self.enabled = Some(parse_bool(ctx, line)?),
            "bmp_daemon_ip" => self.ip = Some(line.value.clone()),
            "bmp_daemon_port" => {
                let p = line.value.parse::<u16>().ok().filter(|p| *p > 0);
                self.port = Some(p.ok_or_else(|| err("expected a TCP port 1-65535"))?);
            }
            "bmp_daemon_max_peers" => {
                let n = line.value.parse::<usize>().ok().filter(|n| *n > 0);
                self.max_peers = Some(n.ok_or_else(|| err("expected an integer >= 1"))?);
            }
            "bmp_daemon_allow_file" => self.allow_file = Some(ctx.base_dir.join(&line.value)),
            "bmp_daemon_msglog_file" => self.msglog_file = Some(line.value.clone()),
            "bmp_dump_file" => self.dump_file = Some(line.value.clone()),
            "bmp_dump_refresh_time" => {
                let n = line.value.parse::<u64>().ok().filter(|n| (60..=86_400).contains(n));
                self.dump_refresh_time =
                    Some(n.ok_or_else(|| err("expected seconds between 60 and 86400"))?);
            }
            k if k.starts_with("bmp_daemon_msglog_kafka_") => {
                return self.kafka_key(ctx, line, warnings);
            }
            "bmp_daemon_msglog_output" | "bmp_dump_output" => {
                if !line.value.eq_ignore_ascii_case("json") {
                    return Err(err("only json is supported (avro and avro_json are not)"));
                }
            }
            k => match NO_EFFECT.iter().find(|(name, _)| *name == k) {
                Some((_, why)) => warnings.push(format!(
                    "line {}: `{k}: {}` accepted without effect: {why}",
                    line.number, line.value
                )),
                None => return Ok(false),
            },
        }
        Ok(true)
    }

    /// `bmp_daemon_msglog_kafka_*`.
    fn kafka_key(
        &mut self,
        ctx: Ctx<'_>,
        line: &Line,
        warnings: &mut Vec<String>,
    ) -> Result<bool, ConfigError> {
        let err = |reason: &str| ctx.err(line.number, &line.key, &line.value, reason);
        let field = line.key.trim_start_matches("bmp_daemon_msglog_kafka_");
        let k = self
            .kafka
            .get_or_insert_with(|| KafkaConfig { topic: String::new(), ..KafkaConfig::default() });
        let v = line.value.trim();
        match field {
            "topic" => {
                k.topic = v.to_string();
                self.kafka_topic = true;
            }
            "topic_rr" => k.topic_rr = v.parse().map_err(|_| err("expected a number"))?,
            "broker_host" => k.broker_host = v.to_string(),
            "broker_port" => k.broker_port = v.parse().map_err(|_| err("expected a TCP port"))?,
            "partition" => {
                k.partition =
                    v.parse().ok().filter(|p| *p >= -1).ok_or_else(|| err("expected >= -1"))?;
            }
            "partition_key" if v.contains('$') => {
                return Err(err("variables in the msglog partition key are not supported"));
            }
            "partition_key" => k.partition_key = Some(v.to_string()),
            "config_file" => k.config_file = Some(ctx.base_dir.join(v)),
            "retry" => warnings.push(format!(
                "line {}: `{}: {v}` accepted without effect: librdkafka reconnects by itself",
                line.number, line.key
            )),
            _ => return Ok(false),
        }
        if self.kafka_topic && k.topic.contains('$') && k.topic_rr > 0 {
            return Err(err("a topic with variables cannot be combined with _topic_rr"));
        }
        Ok(true)
    }

    /// The BMP daemon's settings when it runs: always for pmbmpd, with `bmp_daemon: true`
    /// otherwise. BMP keys without `bmp_daemon: true` are reported, as pmacct ignores them.
    pub(super) fn finish(self, flavor: Flavor, warnings: &mut Vec<String>) -> Option<BmpConfig> {
        let on = flavor == Flavor::Pmbmpd || self.enabled == Some(true);
        if !on {
            let set = self.ip.is_some()
                || self.port.is_some()
                || self.msglog_file.is_some()
                || self.dump_file.is_some();
            if set && self.enabled.is_none() {
                warnings.push(
                    "bmp_daemon_* keys set without `bmp_daemon: true`: the BMP daemon is off"
                        .into(),
                );
            }
            return None;
        }
        let port = self.port.unwrap_or(1790);
        let listen = match self.ip.as_deref() {
            None | Some("") | Some("::") => format!("[::]:{port}"),
            Some(ip) if ip.contains(':') => format!("[{ip}]:{port}"),
            Some(ip) => format!("{ip}:{port}"),
        };
        let d = BmpConfig::default();
        Some(BmpConfig {
            listen,
            max_peers: self.max_peers.unwrap_or(d.max_peers),
            allow_file: self.allow_file,
            msglog_file: self.msglog_file,
            dump_file: self.dump_file,
            dump_refresh_time: self.dump_refresh_time.unwrap_or(0),
            msglog_kafka: self.kafka.filter(|_| self.kafka_topic),
            ..d
        })
    }
}
