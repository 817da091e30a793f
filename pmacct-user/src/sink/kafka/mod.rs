//! Kafka sink, as pmacct's kafka plugin: every aggregate a JSON object exactly as the print
//! plugin's JSON with pmacct's `writer_id`, one per message or newline-terminated up to
//! `kafka_multi_values` bytes, produced to `kafka_topic` (variables, or round-robin over
//! `<topic>_<n>`), to `kafka_partition` or by the partitioner, keyed by `kafka_partition_key`.
//!
//! A message counts as sent only when its delivery report says the broker acknowledged it
//! (librdkafka's `acks=all` default); an item with a failed or missing report is retried
//! whole through the delivery queue (retry, spool, counted drops): at least once — the
//! messages of a retried item the broker had taken arrive twice.

pub mod config;

use std::time::Duration;

use rdkafka::ClientConfig;
use rdkafka::producer::{FutureProducer, FutureRecord, Producer, PurgeConfig};

pub use config::{KafkaConfig, KafkaConfigError};

use super::broker::{self, DynName, PostTags, RoundRobin};
use super::delivery::{Item, Transport};
use crate::aggregate::FlushBatch;

/// Produces flushes to a Kafka broker.
pub struct KafkaSink {
    cfg: KafkaConfig,
    writer_id: String,
    producer: FutureProducer,
    rt: tokio::runtime::Runtime,
    topic: DynName,
    key: Option<DynName>,
    post: PostTags,
    rr: RoundRobin,
    /// Stitching stamps and custom primitives in every object.
    extras: broker::ColumnExtras,
}

impl KafkaSink {
    /// Checks the settings and makes the producer (librdkafka connects in the background and
    /// reconnects by itself).
    pub fn new(plugin: &str, cfg: KafkaConfig, post: PostTags) -> Result<Self, KafkaConfigError> {
        let names = cfg.validate()?;
        Self::build(plugin, cfg, names, post)
    }

    /// A producer of lines rendered elsewhere (the BMP msglog), queued with [`push_message`]:
    /// the items carry their topics, `topic` and `partition_key` are not used.
    pub fn for_lines(client: &str, cfg: KafkaConfig) -> Result<Self, KafkaConfigError> {
        let names =
            KafkaConfig { topic: String::new(), partition_key: None, ..cfg.clone() }.validate()?;
        Self::build(client, cfg, names, PostTags::default())
    }

    fn build(
        plugin: &str,
        cfg: KafkaConfig,
        names: config::Names,
        post: PostTags,
    ) -> Result<Self, KafkaConfigError> {
        let mut client = ClientConfig::new();
        client
            .set("bootstrap.servers", cfg.bootstrap())
            .set("client.id", format!("pmacct-rs/{plugin}"))
            .set("message.timeout.ms", (cfg.timeout_secs.max(1) * 1000).to_string());
        if let Some(path) = &cfg.config_file {
            for (k, v) in config::read_config_file(path)? {
                client.set(k, v);
            }
        }
        let producer: FutureProducer =
            client.create().map_err(|e| KafkaConfigError::Client(e.to_string()))?;
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_time()
            .build()
            .map_err(|e| KafkaConfigError::Client(format!("cannot start the I/O runtime: {e}")))?;
        Ok(Self {
            writer_id: broker::writer_id(plugin),
            rr: RoundRobin::new(cfg.topic_rr),
            cfg,
            producer,
            rt,
            topic: names.topic,
            key: names.key,
            post,
            extras: broker::ColumnExtras::default(),
        })
    }

    /// The objects also carry the plugin's stitching stamps and custom primitives (as the
    /// AMQP sink's, pmacct's composition).
    pub fn with_columns(mut self, stitching: bool, custom: Vec<usize>) -> Self {
        self.extras = broker::ColumnExtras { stitching, custom };
        self
    }

    /// How long a send waits for its delivery reports: librdkafka reports every message by
    /// `message.timeout.ms` (set from `timeout_secs` unless the config file changes it).
    fn report_wait(&self) -> Duration {
        Duration::from_secs(self.cfg.timeout_secs.max(1) + 5)
    }
}

impl Transport for KafkaSink {
    fn encode(&mut self, batch: &FlushBatch) -> Vec<Item> {
        let mut items: Vec<Item> = Vec::new();
        let (topic, key, post) = (&self.topic, &self.key, self.post);
        broker::for_each_message(
            batch,
            &self.writer_id,
            self.cfg.multi_values,
            &self.extras,
            |k, rows, msg| {
                let topic = topic.expand(batch.primitives, k, post);
                let key =
                    key.as_ref().map(|n| n.expand(batch.primitives, k, post)).unwrap_or_default();
                push_message(&mut items, &topic, key.as_bytes(), msg.as_bytes(), rows);
            },
        );
        items
    }

    fn send(&mut self, item: &Item) -> Result<(), String> {
        let mut frames = broker::frames(&item.payload);
        let mut reports = Vec::new();
        let mut refused = None;
        while let (Some(key), Some(body)) = (frames.next(), frames.next()) {
            let topic = self.rr.name(&item.meta);
            let mut rec = FutureRecord::to(&topic).payload(body);
            if !key.is_empty() {
                rec = rec.key(key);
            }
            if self.cfg.partition >= 0 {
                rec = rec.partition(self.cfg.partition);
            }
            match self.producer.send_result(rec) {
                Ok(r) => reports.push(r),
                Err((e, _)) => {
                    refused = Some(format!("Kafka producer refused a message for {topic}: {e}"));
                    break;
                }
            }
        }
        let limit = self.report_wait();
        let outcome = self.rt.block_on(async move {
            tokio::time::timeout(limit, async move {
                let (mut failed, mut first) = (0usize, None);
                for r in reports {
                    let err = match r.await {
                        Ok(Ok(_)) => continue,
                        Ok(Err((e, _))) => e.to_string(),
                        Err(_) => "delivery report lost (producer closed)".to_string(),
                    };
                    failed += 1;
                    first.get_or_insert(err);
                }
                (failed, first)
            })
            .await
        });
        let bootstrap = self.cfg.bootstrap();
        match outcome {
            Ok((0, _)) => refused.map_or(Ok(()), Err),
            Ok((n, first)) => Err(format!(
                "Kafka broker {bootstrap}: {n} messages not acknowledged ({})",
                first.unwrap_or_default()
            )),
            Err(_) => {
                // Give up what librdkafka still holds: the item is sent again (at least once).
                self.producer.purge(PurgeConfig::default().queue().inflight());
                Err(format!("Kafka broker {bootstrap}: no delivery reports in {limit:?}"))
            }
        }
    }
}

/// Appends a message (key, body, the rows it holds) to the last item when it goes to the same
/// topic and has room, else to a new one.
pub fn push_message(items: &mut Vec<Item>, topic: &str, key: &[u8], body: &[u8], rows: u64) {
    let fits = |i: &Item| i.meta == topic && i.payload.len() < broker::ITEM_BYTES;
    if !items.last().is_some_and(fits) {
        items.push(Item { rows: 0, meta: topic.to_string(), payload: Vec::new() });
    }
    if let Some(item) = items.last_mut() {
        broker::push_frame(&mut item.payload, key);
        broker::push_frame(&mut item.payload, body);
        item.rows += rows;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sink::broker::tests::batch;

    #[test]
    fn messages_framed_with_their_keys_grouped_by_topic() {
        let cfg = KafkaConfig {
            topic: "flows.$peer_src_ip".into(),
            partition_key: Some("$src_host".into()),
            ..Default::default()
        };
        let mut s = KafkaSink::new("k", cfg, PostTags::default()).unwrap();
        let items = s.encode(&batch(4));
        assert_eq!(items.iter().map(|i| i.rows).sum::<u64>(), 4);
        for item in &items {
            let f: Vec<&[u8]> = broker::frames(&item.payload).collect();
            assert_eq!(f.len() as u64, 2 * item.rows);
            for pair in f.chunks(2) {
                let v: serde_json::Value = serde_json::from_slice(pair[1]).unwrap();
                let peer = v["peer_ip_src"].as_str().unwrap().replace('.', "_");
                assert_eq!(item.meta, format!("flows.{peer}"));
                assert_eq!(pair[0], v["ip_src"].as_str().unwrap().replace('.', "_").as_bytes());
                assert_eq!(v["writer_id"], format!("k/{}", std::process::id()));
            }
        }
    }

    /// No broker listening: the delivery reports say so within `timeout_secs`.
    #[test]
    fn an_absent_broker_fails_the_send() {
        let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        let cfg = KafkaConfig { broker_port: port, timeout_secs: 1, ..Default::default() };
        let mut s = KafkaSink::new("k", cfg, PostTags::default()).unwrap();
        let items = s.encode(&batch(2));
        let started = std::time::Instant::now();
        let err = s.send(&items[0]).unwrap_err();
        assert!(err.contains("2 messages not acknowledged"), "{err}");
        assert!(started.elapsed() < Duration::from_secs(6), "{:?}", started.elapsed());
    }
}
