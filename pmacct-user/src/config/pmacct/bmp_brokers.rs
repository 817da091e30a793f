//! The BMP daemon's broker keys (pmacct 1.7.7's names, CONFIG-KEYS): the message log to Kafka
//! (`bmp_daemon_msglog_kafka_*`) and AMQP (`bmp_daemon_msglog_amqp_*`), the dumps to Kafka
//! (`bmp_dump_kafka_*`) and AMQP (`bmp_dump_amqp_*`).
//!
//! - An output is on once its name is set: `_topic` / `_routing_key` (variables `$peer_src_ip`
//!   / `$bmp_router`, `$peer_tcp_port` / `$bmp_router_port`; dump names also strftime).
//! - Kafka: `_topic_rr`, `_broker_host`, `_broker_port`, `_partition`, `_partition_key` (the
//!   same variables), `_config_file`.
//! - AMQP: `_routing_key_rr`, `_exchange`, `_exchange_type`, `_host`, `_vhost`, `_user`,
//!   `_passwd`, `_persistent_msg`.
//! - Accepted without effect, with a note: `bmp_daemon_msglog_{kafka,amqp}_retry` (the
//!   delivery queue retries with backoff), `_amqp_frame_max`, `_amqp_heartbeat_interval`.
//! - A name with variables combined with `_rr` is an error (as the plugins refuse it).
//! - Unlike pmacct, where file, AMQP and Kafka exclude each other, several may be set.

use super::{Ctx, Line};
use crate::config::ConfigError;
use crate::sink::amqp::AmqpConfig;
use crate::sink::kafka::KafkaConfig;

/// The key prefixes, in the order of [`BrokerKeys::outputs`].
const PREFIXES: [&str; 4] =
    ["bmp_daemon_msglog_kafka_", "bmp_dump_kafka_", "bmp_daemon_msglog_amqp_", "bmp_dump_amqp_"];

/// One output's settings as read so far, and whether its name was set.
#[derive(Debug, Default)]
struct Partial<T> {
    cfg: Option<T>,
    named: bool,
}

impl<T> Partial<T> {
    fn get(self) -> Option<T> {
        self.cfg.filter(|_| self.named)
    }
}

/// The broker keys seen so far.
#[derive(Debug, Default)]
pub(super) struct BrokerKeys {
    msglog_kafka: Partial<KafkaConfig>,
    dump_kafka: Partial<KafkaConfig>,
    msglog_amqp: Partial<AmqpConfig>,
    dump_amqp: Partial<AmqpConfig>,
}

/// The outputs that are on: msglog Kafka, dump Kafka, msglog AMQP, dump AMQP.
pub(super) type Outputs =
    (Option<KafkaConfig>, Option<KafkaConfig>, Option<AmqpConfig>, Option<AmqpConfig>);

fn note(warnings: &mut Vec<String>, line: &Line, why: &str) {
    warnings.push(format!(
        "line {}: `{}: {}` accepted without effect: {why}",
        line.number, line.key, line.value
    ));
}

impl BrokerKeys {
    /// True for a key of one of the four outputs.
    pub(super) fn is_broker_key(key: &str) -> bool {
        PREFIXES.iter().any(|p| key.starts_with(p))
    }

    /// Handles `line` if it is a broker key we map or accept; `Ok(false)` otherwise.
    pub(super) fn line(
        &mut self,
        ctx: Ctx<'_>,
        line: &Line,
        warnings: &mut Vec<String>,
    ) -> Result<bool, ConfigError> {
        let Some((i, field)) =
            PREFIXES.iter().enumerate().find_map(|(i, p)| line.key.strip_prefix(p).map(|f| (i, f)))
        else {
            return Ok(false);
        };
        let msglog = i % 2 == 0;
        match i {
            0 => kafka_key(&mut self.msglog_kafka, ctx, line, field, msglog, warnings),
            1 => kafka_key(&mut self.dump_kafka, ctx, line, field, msglog, warnings),
            2 => amqp_key(&mut self.msglog_amqp, ctx, line, field, msglog, warnings),
            _ => amqp_key(&mut self.dump_amqp, ctx, line, field, msglog, warnings),
        }
    }

    /// The outputs whose name was set.
    pub(super) fn outputs(self) -> Outputs {
        (
            self.msglog_kafka.get(),
            self.dump_kafka.get(),
            self.msglog_amqp.get(),
            self.dump_amqp.get(),
        )
    }
}

fn kafka_key(
    p: &mut Partial<KafkaConfig>,
    ctx: Ctx<'_>,
    line: &Line,
    field: &str,
    msglog: bool,
    warnings: &mut Vec<String>,
) -> Result<bool, ConfigError> {
    let err = |reason: &str| ctx.err(line.number, &line.key, &line.value, reason);
    let k =
        p.cfg.get_or_insert_with(|| KafkaConfig { topic: String::new(), ..KafkaConfig::default() });
    let v = line.value.trim();
    match field {
        "topic" => {
            k.topic = v.to_string();
            p.named = true;
        }
        "topic_rr" => k.topic_rr = v.parse().map_err(|_| err("expected a number"))?,
        "broker_host" => k.broker_host = v.to_string(),
        "broker_port" => k.broker_port = v.parse().map_err(|_| err("expected a TCP port"))?,
        "partition" => {
            k.partition =
                v.parse().ok().filter(|p| *p >= -1).ok_or_else(|| err("expected >= -1"))?;
        }
        "partition_key" => k.partition_key = Some(v.to_string()),
        "config_file" => k.config_file = Some(ctx.base_dir.join(v)),
        "retry" if msglog => note(warnings, line, "the delivery queue retries with backoff"),
        _ => return Ok(false),
    }
    if p.named && k.topic.contains('$') && k.topic_rr > 0 {
        return Err(err("a topic with variables cannot be combined with _topic_rr"));
    }
    Ok(true)
}

fn amqp_key(
    p: &mut Partial<AmqpConfig>,
    ctx: Ctx<'_>,
    line: &Line,
    field: &str,
    msglog: bool,
    warnings: &mut Vec<String>,
) -> Result<bool, ConfigError> {
    let err = |reason: &str| ctx.err(line.number, &line.key, &line.value, reason);
    let a = p
        .cfg
        .get_or_insert_with(|| AmqpConfig { routing_key: String::new(), ..Default::default() });
    let v = line.value.trim();
    match field {
        "routing_key" => {
            a.routing_key = v.to_string();
            p.named = true;
        }
        "routing_key_rr" => a.routing_key_rr = v.parse().map_err(|_| err("expected a number"))?,
        "exchange" => a.exchange = v.to_string(),
        "exchange_type" => {
            let t = v.to_ascii_lowercase();
            if !["direct", "fanout", "topic", "headers"].contains(&t.as_str()) {
                return Err(err("expected direct, fanout, topic or headers"));
            }
            a.exchange_type = t;
        }
        "host" => a.host = v.to_string(),
        "vhost" => a.vhost = v.to_string(),
        "user" => a.user = v.to_string(),
        "passwd" => a.password = v.to_string(),
        "persistent_msg" => {
            a.persistent = match v.to_ascii_lowercase().as_str() {
                "true" => true,
                "false" => false,
                _ => return Err(err("expected true or false")),
            }
        }
        "retry" if msglog => note(warnings, line, "the delivery queue retries with backoff"),
        "frame_max" | "heartbeat_interval" => {
            note(warnings, line, "the AMQP client negotiates these with the broker")
        }
        _ => return Ok(false),
    }
    if p.named && a.routing_key.contains('$') && a.routing_key_rr > 0 {
        return Err(err("a routing key with variables cannot be combined with _routing_key_rr"));
    }
    Ok(true)
}
