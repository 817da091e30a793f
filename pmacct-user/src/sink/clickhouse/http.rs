//! The few ClickHouse calls the sink makes, through the official `clickhouse` crate over HTTP:
//! run a statement, read a table's columns, insert a RowBinary body. Row validation is off
//! (`RowBinary`, not `RowBinaryWithNamesAndTypes`, which 18.16 lacks): the sink builds its rows
//! for a schema it has checked itself ([`super::schema::Schema::check`]).

use std::time::Duration;

use clickhouse::Compression;

/// A failed call: transport error or the server's own message.
#[derive(Debug, thiserror::Error)]
pub enum HttpError {
    #[error("ClickHouse at {url}: {message}")]
    Server { url: String, message: String },
    #[error("ClickHouse at {url}: no answer within {secs} s")]
    Timeout { url: String, secs: u64 },
    #[error("ClickHouse at {url}: cannot start the I/O runtime: {source}")]
    Runtime { url: String, source: std::io::Error },
}

/// One server.
pub struct Client {
    inner: clickhouse::Client,
    rt: tokio::runtime::Runtime,
    url: String,
    timeout: Duration,
}

impl Client {
    pub fn new(
        url: &str,
        user: Option<String>,
        password: Option<String>,
        timeout: Duration,
    ) -> Result<Self, HttpError> {
        let url = url.trim_end_matches('/').to_string();
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|source| HttpError::Runtime { url: url.clone(), source })?;
        let _in_runtime = rt.enter();
        let mut inner = clickhouse::Client::default()
            .with_url(&url)
            .with_compression(Compression::None)
            .with_validation(false);
        if let Some(u) = user {
            inner = inner.with_user(u);
        }
        if let Some(p) = password {
            inner = inner.with_password(p);
        }
        Ok(Self { inner, rt, url, timeout })
    }

    fn run<T>(
        &self,
        f: impl std::future::Future<Output = clickhouse::error::Result<T>>,
    ) -> Result<T, HttpError> {
        let timeout = self.timeout;
        match self.rt.block_on(async move { tokio::time::timeout(timeout, f).await }) {
            Ok(Ok(v)) => Ok(v),
            Ok(Err(e)) => Err(HttpError::Server { url: self.url.clone(), message: e.to_string() }),
            Err(_) => {
                Err(HttpError::Timeout { url: self.url.clone(), secs: self.timeout.as_secs() })
            }
        }
    }

    /// Runs one statement.
    pub fn execute(&self, sql: &str) -> Result<(), HttpError> {
        self.run(self.inner.query(sql).execute())
    }

    /// `(name, type)` of a table's columns (`database.table`), from `system.columns`.
    pub fn describe(&self, table: &str) -> Result<Vec<(String, String)>, HttpError> {
        let (db, name) = table.split_once('.').unwrap_or(("default", table));
        let q = self
            .inner
            .query("SELECT name, type FROM system.columns WHERE database = ? AND table = ?")
            .bind(db)
            .bind(name);
        self.run(q.fetch_all::<(String, String)>())
    }

    /// `INSERT INTO table (columns) FORMAT RowBinary` with `rows` as the body.
    pub fn insert(&self, table: &str, columns: &str, rows: &[u8]) -> Result<(), HttpError> {
        let sql = format!("INSERT INTO {table} ({columns}) FORMAT RowBinary");
        let body = bytes::Bytes::copy_from_slice(rows);
        self.run(async {
            let mut insert = self.inner.insert_formatted_with(sql);
            insert.send(body).await?;
            insert.end().await
        })
    }
}
