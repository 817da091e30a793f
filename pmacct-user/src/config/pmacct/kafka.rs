//! pmacct's `kafka_*` plugin keys onto [`KafkaConfig`].

use std::path::Path;

use crate::sink::kafka::KafkaConfig;

fn number<T: std::str::FromStr>(value: &str) -> Result<T, String> {
    value.trim().parse().map_err(|_| "expected a number".to_string())
}

/// What `kafka_<field>: value` did: applied, accepted without effect (the note says why), or
/// not a key pmacct-rs knows (listed with the other ignored keys).
pub(super) enum Applied {
    Set,
    NoEffect(&'static str),
    Unknown,
}

/// Applies `kafka_<field>: value` (paths relative to `base`); the error says what was
/// expected.
pub(super) fn apply(
    cfg: &mut KafkaConfig,
    field: &str,
    value: &str,
    base: &Path,
) -> Result<Applied, String> {
    match field {
        "broker_host" => cfg.broker_host = value.trim().to_string(),
        "broker_port" => cfg.broker_port = number(value)?,
        "topic" => cfg.topic = value.trim().to_string(),
        "topic_rr" => cfg.topic_rr = number(value)?,
        "partition" => cfg.partition = number(value)?,
        "partition_key" => cfg.partition_key = Some(value.trim().to_string()),
        "partition_dynamic" => match value.trim().to_ascii_lowercase().as_str() {
            // librdkafka's default partitioner already hashes the key (consistent_random).
            "true" | "false" => {
                return Ok(Applied::NoEffect(
                    "messages with a key are partitioned by it (librdkafka's consistent_random partitioner)",
                ));
            }
            _ => return Err("expected true or false".into()),
        },
        "config_file" => cfg.config_file = Some(base.join(value.trim())),
        "multi_values" => cfg.multi_values = number(value)?,
        "max_writers" => {
            number::<u32>(value)?;
            return Ok(Applied::NoEffect(
                "one writer thread per plugin; what it cannot send waits in its queue and spool",
            ));
        }
        "output" if value.trim().eq_ignore_ascii_case("json") => {}
        "output" => return Err("only json is supported".into()),
        _ => return Ok(Applied::Unknown),
    }
    cfg.validate().map(|_| Applied::Set).map_err(|e| e.to_string())
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use crate::config::PluginKind;
    use crate::config::pmacct::{Flavor, parse_pmacct_as};

    #[test]
    fn kafka_plugins_from_a_pmacct_config() {
        let text = "plugins: kafka[k], print[p]\naggregate: src_host, peer_src_ip\n\
                    kafka_broker_host: 10.0.0.5\nkafka_broker_port[k]: 9093\n\
                    kafka_topic[k]: flows.$peer_src_ip\nkafka_partition_key[k]: $src_host\n\
                    kafka_partition[k]: 2\nkafka_refresh_time[k]: 30\nkafka_output[k]: json\n\
                    kafka_max_writers[k]: 4\nkafka_config_file[k]: rdkafka.conf\npost_tag[k]: 7\n\
                    kafka_cache_entries[k]: 1000\n";
        let (cfg, warnings) = parse_pmacct_as(text, Path::new("/etc/p"), Flavor::Nfacctd).unwrap();
        let k = cfg.plugins.iter().find(|p| p.name == "k").unwrap();
        assert_eq!(k.kind, PluginKind::Kafka);
        assert_eq!(k.refresh_time, 30);
        assert_eq!(k.pretag.post_tag, Some(7));
        let kafka = k.kafka.as_ref().unwrap();
        assert_eq!(kafka.bootstrap(), "10.0.0.5:9093");
        assert_eq!(kafka.topic, "flows.$peer_src_ip");
        assert_eq!((kafka.partition, kafka.partition_key.as_deref()), (2, Some("$src_host")));
        assert_eq!(kafka.config_file.as_deref(), Some(Path::new("/etc/p/rdkafka.conf")));
        assert!(warnings.iter().any(|w| w.contains("kafka_max_writers")), "{warnings:?}");
        assert!(
            warnings.iter().any(|w| w.contains("kafka_cache_entries (line 13)")),
            "{warnings:?}"
        );
        assert!(cfg.plugins.iter().find(|p| p.name == "p").unwrap().kafka.is_none());
        let err = parse_pmacct_as(
            "plugins: kafka[k]\naggregate: src_host\nkafka_topic_rr: 2\nkafka_topic: x.$tag\n",
            Path::new("/"),
            Flavor::Nfacctd,
        )
        .unwrap_err()
        .to_string();
        assert!(err.contains("kafka_topic") && err.contains("kafka_topic_rr"), "{err}");
    }
}
