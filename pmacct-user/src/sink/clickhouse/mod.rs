//! ClickHouse sink: each flush inserted as RowBinary over HTTP (in INSERTs of at most
//! `max_rows_per_insert` rows) into a table derived from the
//! plugin's aggregate ([`schema`]), created if missing and checked column by column otherwise.

pub mod config;
pub mod http;
pub mod rowbinary;
pub mod schema;

use std::time::Duration;

pub use config::{ClickhouseConfig, Profile};
pub use schema::{Schema, SchemaError};

use super::delivery::{Item, Transport};
use crate::aggregate::{FlushBatch, PrimitiveSet};
use crate::config::PluginConfig;

/// Why the sink could not start or write.
#[derive(Debug, thiserror::Error)]
pub enum ClickhouseError {
    #[error(transparent)]
    Http(#[from] http::HttpError),
    #[error(transparent)]
    Schema(#[from] SchemaError),
    #[error("plugin '{0}': unknown aggregate primitive")]
    Aggregate(String),
}

/// A plugin's ClickHouse table and the server it lives on.
pub struct ClickhouseSink {
    client: http::Client,
    schema: Schema,
    modern: bool,
    max_rows: usize,
}

impl ClickhouseSink {
    /// Connects, creates the table if needed and checks its columns.
    pub fn start(plugin: &PluginConfig, cfg: &ClickhouseConfig) -> Result<Self, ClickhouseError> {
        let (builtin, custom): (Vec<&String>, Vec<&String>) = plugin
            .aggregate
            .iter()
            .partition(|n| crate::aggregate::Primitive::from_name(n.trim()).is_some());
        let names: Vec<&str> = builtin.iter().map(|n| n.trim()).collect();
        let set = PrimitiveSet::parse(&names.join(","))
            .map_err(|_| ClickhouseError::Aggregate(plugin.name.clone()))?;
        let custom = crate::aggregate::custom::select(plugin, &custom)
            .map_err(|_| ClickhouseError::Aggregate(plugin.name.clone()))?;
        let name = cfg.table.clone().unwrap_or_else(|| format!("pmacct_{}", plugin.name));
        let table = format!("{}.{}", cfg.database, name);
        let schema = Schema::new(&table, set, cfg.profile).with_custom(&custom);
        let client = http::Client::new(
            &cfg.url,
            cfg.user.clone(),
            cfg.password.clone(),
            Duration::from_secs(cfg.timeout_secs.max(1)),
        )?;
        client.execute(&schema.create_sql(cfg.ttl_days))?;
        schema.check(&client.describe(&table)?)?;
        Ok(Self {
            client,
            schema,
            modern: cfg.profile == Profile::Modern,
            max_rows: cfg.max_rows_per_insert,
        })
    }

    /// The table written to.
    pub fn schema(&self) -> &Schema {
        &self.schema
    }
}

/// One INSERT per flush; the item carries its table and column list, so an item spooled before
/// a restart goes where it was meant to.
impl Transport for ClickhouseSink {
    fn encode(&mut self, batch: &FlushBatch) -> Vec<Item> {
        let meta = format!("{}\n{}", self.schema.table, self.schema.column_list());
        rowbinary::encode_chunks(batch, &self.schema, self.modern, self.max_rows)
            .into_iter()
            .filter(|(_, n)| *n > 0)
            .map(|(payload, n)| Item { rows: n as u64, meta: meta.clone(), payload })
            .collect()
    }

    fn send(&mut self, item: &Item) -> Result<(), String> {
        let (table, columns) = item.meta.split_once('\n').unwrap_or((&self.schema.table, ""));
        self.client.insert(table, columns, &item.payload).map_err(|e| e.to_string())
    }
}
