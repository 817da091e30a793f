//! The few ClickHouse HTTP calls the sink makes: run a statement, read `DESCRIBE TABLE`,
//! insert a RowBinary body.

use std::time::Duration;

/// A failed call: transport error or the server's own message.
#[derive(Debug, thiserror::Error)]
pub enum HttpError {
    #[error("ClickHouse at {url}: {message}")]
    Server { url: String, message: String },
    #[error("ClickHouse at {url}: {source}")]
    Transport { url: String, source: Box<ureq::Error> },
    #[error("ClickHouse at {url}: reading the response: {source}")]
    Read { url: String, source: std::io::Error },
}

/// One server.
#[derive(Clone)]
pub struct Client {
    agent: ureq::Agent,
    url: String,
    user: Option<String>,
    password: Option<String>,
}

impl Client {
    pub fn new(
        url: &str,
        user: Option<String>,
        password: Option<String>,
        timeout: Duration,
    ) -> Self {
        let agent = ureq::AgentBuilder::new().timeout(timeout).build();
        Self { agent, url: url.trim_end_matches('/').to_string(), user, password }
    }

    fn post(&self, query: Option<&str>, body: &[u8]) -> Result<String, HttpError> {
        let mut req = self.agent.post(&format!("{}/", self.url));
        if let Some(q) = query {
            req = req.query("query", q);
        }
        if let Some(u) = &self.user {
            req = req.set("X-ClickHouse-User", u);
        }
        if let Some(p) = &self.password {
            req = req.set("X-ClickHouse-Key", p);
        }
        match req.send_bytes(body) {
            Ok(resp) => resp
                .into_string()
                .map_err(|source| HttpError::Read { url: self.url.clone(), source }),
            Err(ureq::Error::Status(code, resp)) => {
                let text = resp.into_string().unwrap_or_default();
                Err(HttpError::Server {
                    url: self.url.clone(),
                    message: format!("HTTP {code}: {}", text.trim()),
                })
            }
            Err(e) => Err(HttpError::Transport { url: self.url.clone(), source: Box::new(e) }),
        }
    }

    /// Runs one statement (sent as the body).
    pub fn execute(&self, sql: &str) -> Result<String, HttpError> {
        self.post(None, sql.as_bytes())
    }

    /// `(name, type)` of a table's columns.
    pub fn describe(&self, table: &str) -> Result<Vec<(String, String)>, HttpError> {
        let text = self.execute(&format!("DESCRIBE TABLE {table} FORMAT TabSeparated"))?;
        Ok(text
            .lines()
            .filter_map(|l| {
                let mut f = l.split('\t');
                Some((f.next()?.to_string(), f.next()?.to_string()))
            })
            .collect())
    }

    /// `INSERT INTO table (columns) FORMAT RowBinary` with `rows` as the body.
    pub fn insert(&self, table: &str, columns: &str, rows: &[u8]) -> Result<(), HttpError> {
        let q = format!("INSERT INTO {table} ({columns}) FORMAT RowBinary");
        self.post(Some(&q), rows).map(|_| ())
    }
}
