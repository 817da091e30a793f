//! AMQP sink (RabbitMQ), as pmacct's amqp plugin: every aggregate a JSON object exactly as the
//! print plugin's JSON (pmacct's `compose_json`), one per message or newline-separated up to
//! `amqp_multi_values` bytes, published to `amqp_exchange` with `amqp_routing_key` (variables,
//! or round-robin over `<key>_<n>`). A message counts as sent only once the broker confirmed
//! it (publisher confirms); the delivery queue retries and spools the rest.

pub mod config;

use lapin::options::{BasicPublishOptions, ConfirmSelectOptions, ExchangeDeclareOptions};
use lapin::types::FieldTable;
use lapin::{BasicProperties, Channel, Connection, ConnectionProperties, ExchangeKind};

pub use config::{AmqpConfig, AmqpConfigError};

use super::broker::{self, DynName, PostTags, RoundRobin};
use super::delivery::{Item, Transport};
use crate::aggregate::FlushBatch;

/// Publishes flushes to a broker.
pub struct AmqpSink {
    cfg: AmqpConfig,
    /// pmacct's `writer_id` (`<plugin name>/<pid>`), added to every object.
    writer_id: String,
    rt: tokio::runtime::Runtime,
    conn: Option<(Connection, Channel)>,
    /// `amqp_routing_key` with its variables found.
    key: DynName,
    post: PostTags,
    /// `amqp_routing_key_rr`.
    rr: RoundRobin,
    /// Stitching stamps and custom primitives in every object (pmacct's amqp plugin).
    extras: broker::ColumnExtras,
}

impl AmqpSink {
    /// Checks the settings; the broker is connected on the first send (and again after a loss).
    pub fn new(plugin: &str, cfg: AmqpConfig, post: PostTags) -> Result<Self, AmqpConfigError> {
        let key = cfg.validate()?;
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .thread_name("amqp-io")
            .enable_all()
            .build()
            .map_err(|e| AmqpConfigError::Runtime(e.to_string()))?;
        let writer_id = broker::writer_id(plugin);
        let rr = RoundRobin::new(cfg.routing_key_rr);
        Ok(Self { cfg, writer_id, rt, conn: None, key, post, rr, extras: Default::default() })
    }

    /// The objects also carry the plugin's stitching stamps and custom primitives, as pmacct's
    /// amqp plugin composes them (the print plugin's JSON columns).
    pub fn with_columns(mut self, stitching: bool, custom: Vec<usize>) -> Self {
        self.extras = broker::ColumnExtras { stitching, custom };
        self
    }

    fn timeout(&self) -> std::time::Duration {
        std::time::Duration::from_secs(self.cfg.timeout_secs.max(1))
    }

    fn uri(&self) -> String {
        let host = if self.cfg.host.contains(':') {
            self.cfg.host.clone()
        } else {
            format!("{}:5672", self.cfg.host)
        };
        let vhost = self.cfg.vhost.replace('/', "%2f");
        format!("amqp://{}:{}@{host}/{vhost}", self.cfg.user, self.cfg.password)
    }

    fn connect(&mut self) -> Result<(), String> {
        if self
            .conn
            .as_ref()
            .is_some_and(|(c, ch)| c.status().connected() && ch.status().connected())
        {
            return Ok(());
        }
        self.conn = None;
        let uri = self.uri();
        let cfg = self.cfg.clone();
        let limit = self.timeout();
        // The timer is made inside the runtime (tokio's timers need its context).
        let conn = self.rt.block_on(async move {
            tokio::time::timeout(limit, async move {
                let conn = Connection::connect(&uri, ConnectionProperties::default()).await?;
                let ch = conn.create_channel().await?;
                ch.confirm_select(ConfirmSelectOptions::default()).await?;
                let kind = match cfg.exchange_type.as_str() {
                    "fanout" => ExchangeKind::Fanout,
                    "topic" => ExchangeKind::Topic,
                    "headers" => ExchangeKind::Headers,
                    _ => ExchangeKind::Direct,
                };
                // As pmacct declares it: not passive, not durable, not auto-deleted.
                ch.exchange_declare(
                    cfg.exchange.as_str().into(),
                    kind,
                    ExchangeDeclareOptions::default(),
                    FieldTable::default(),
                )
                .await?;
                Ok::<_, lapin::Error>((conn, ch))
            })
            .await
        });
        match conn {
            Ok(Ok(c)) => {
                self.conn = Some(c);
                Ok(())
            }
            Ok(Err(e)) => Err(format!("AMQP broker {}: {e}", self.cfg.host)),
            Err(_) => Err(format!("AMQP broker {}: no answer in {limit:?}", self.cfg.host)),
        }
    }
}

impl Transport for AmqpSink {
    fn encode(&mut self, batch: &FlushBatch) -> Vec<Item> {
        let mut items: Vec<Item> = Vec::new();
        let (key, post) = (&self.key, self.post);
        broker::for_each_message(
            batch,
            &self.writer_id,
            self.cfg.multi_values,
            &self.extras,
            |k, rows, msg| {
                let key = key.expand(batch.primitives, k, post);
                push_into(&mut items, &key, rows, msg.as_bytes());
            },
        );
        items
    }

    fn send(&mut self, item: &Item) -> Result<(), String> {
        self.connect()?;
        let Some((_, ch)) = self.conn.as_ref() else { return Err("not connected".into()) };
        let ch = ch.clone();
        let mut props = BasicProperties::default().with_content_type("application/json".into());
        if self.cfg.persistent {
            props = props.with_delivery_mode(2);
        }
        let keys: Vec<String> =
            broker::frames(&item.payload).map(|_| self.rr.name(&item.meta)).collect();
        let exchange = self.cfg.exchange.clone();
        let payload = item.payload.clone();
        let limit = self.timeout();
        let res = self.rt.block_on(async move {
            tokio::time::timeout(limit, async move {
                let mut confirms = Vec::with_capacity(keys.len());
                for (msg, key) in broker::frames(&payload).zip(&keys) {
                    let c = ch
                        .basic_publish(
                            exchange.as_str().into(),
                            key.as_str().into(),
                            BasicPublishOptions::default(),
                            msg,
                            props.clone(),
                        )
                        .await?;
                    confirms.push(c);
                }
                let mut nacked = 0usize;
                for c in confirms {
                    if c.await?.is_nack() {
                        nacked += 1;
                    }
                }
                Ok::<usize, lapin::Error>(nacked)
            })
            .await
        });
        match res {
            Ok(Ok(0)) => Ok(()),
            Ok(Ok(n)) => Err(format!("broker refused {n} messages (nack)")),
            Ok(Err(e)) => {
                self.conn = None;
                Err(format!("AMQP broker {}: {e}", self.cfg.host))
            }
            Err(_) => {
                // The connection is given up: what it may still deliver makes duplicates
                // (at least once), never a loss.
                self.conn = None;
                Err(format!("AMQP broker {}: no confirms in {limit:?}", self.cfg.host))
            }
        }
    }
}

/// Appends a message to the last item when it goes to the same routing key, else starts one.
fn push_into(items: &mut Vec<Item>, key: &str, rows: u64, msg: &[u8]) {
    match items.last_mut() {
        Some(last) if last.meta == key && last.payload.len() < broker::ITEM_BYTES => {
            broker::push_frame(&mut last.payload, msg);
            last.rows += rows;
        }
        _ => {
            let mut payload = Vec::new();
            broker::push_frame(&mut payload, msg);
            items.push(Item { rows, meta: key.to_string(), payload });
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sink::broker::tests::batch;

    #[test]
    fn one_json_object_per_message_grouped_by_routing_key() {
        let cfg = AmqpConfig { routing_key: "flows.$peer_src_ip".into(), ..Default::default() };
        let mut s = AmqpSink::new("a", cfg, PostTags::default()).unwrap();
        let items = s.encode(&batch(4));
        let total: u64 = items.iter().map(|i| i.rows).sum();
        assert_eq!(total, 4);
        for item in &items {
            // pmacct writes the address with `_` for `.` in names.
            assert!(
                item.meta == "flows.192_0_2_0" || item.meta == "flows.192_0_2_1",
                "{}",
                item.meta
            );
            for m in broker::frames(&item.payload) {
                let text = std::str::from_utf8(m).unwrap();
                assert!(
                    text.starts_with("{\"event_type\": \"purge\", \"peer_ip_src\": "),
                    "{text}"
                );
                assert!(!text.ends_with('\n'));
                let v: serde_json::Value = serde_json::from_str(text).unwrap();
                assert_eq!(v["writer_id"], format!("a/{}", std::process::id()));
                let peer = v["peer_ip_src"].as_str().unwrap().replace('.', "_");
                assert_eq!(format!("flows.{peer}"), item.meta);
            }
        }
    }

    #[test]
    fn multi_values_pack_newline_separated_objects_under_the_bound() {
        let cfg = AmqpConfig { multi_values: 300, ..Default::default() };
        let mut s = AmqpSink::new("a", cfg, PostTags::default()).unwrap();
        let items = s.encode(&batch(10));
        let msgs: Vec<&[u8]> = items.iter().flat_map(|i| broker::frames(&i.payload)).collect();
        assert!(msgs.len() > 1);
        let mut objects = 0;
        for m in &msgs {
            assert!(m.len() <= 300, "{}", m.len());
            for line in std::str::from_utf8(m).unwrap().lines() {
                let _: serde_json::Value = serde_json::from_str(line).unwrap();
                objects += 1;
            }
        }
        assert_eq!(objects, 10);
    }

    /// A peer that accepts TCP but never speaks AMQP (a hung broker): the send fails with a
    /// clear error instead of holding the sink thread.
    #[test]
    fn a_silent_broker_times_out() {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let host = listener.local_addr().unwrap().to_string();
        let cfg = AmqpConfig { host: host.clone(), timeout_secs: 1, ..Default::default() };
        let mut s = AmqpSink::new("a", cfg, PostTags::default()).unwrap();
        let items = s.encode(&batch(1));
        let err = s.send(&items[0]).unwrap_err();
        assert_eq!(err, format!("AMQP broker {host}: no answer in 1s"));
    }
}
