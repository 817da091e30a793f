//! The memory plugin's wire protocol: one JSON object per line each way over the Unix socket.
//!
//! Requests (`cmd` tag):
//! - `{"cmd":"top","by":"bytes","n":10,"match":"proto=tcp"}` — top N by bytes or packets
//!   (`n` 0 = all), optional filter;
//! - `{"cmd":"match","match":"src_host=10.0.0.1"}` — every matching aggregate;
//! - `{"cmd":"erase","match":"..."}` — remove matching aggregates (all without `match`);
//! - `{"cmd":"stats"}` — table size and totals.
//!
//! Responses: `{"ok":true,"primitives":[...],"entries":[{<pmacct JSON keys>,"packets":..,"bytes":..}],...}`
//! or `{"ok":false,"error":"..."}`.

use serde::{Deserialize, Serialize};

/// Sort order for `top`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SortBy {
    #[default]
    Bytes,
    Packets,
}

/// One request to the memory plugin.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "cmd", rename_all = "lowercase")]
pub enum Request {
    Top {
        #[serde(default)]
        by: SortBy,
        #[serde(default)]
        n: usize,
        #[serde(default, rename = "match", skip_serializing_if = "Option::is_none")]
        filter: Option<String>,
    },
    Match {
        #[serde(default, rename = "match")]
        filter: String,
    },
    Erase {
        #[serde(default, rename = "match", skip_serializing_if = "Option::is_none")]
        filter: Option<String>,
    },
    Stats,
}

/// Reply to a request.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Response {
    pub ok: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// The table's aggregate, by pmacct primitive name, in print order.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub primitives: Vec<String>,
    /// The custom primitives (`aggregate_primitives`) among `primitives`, with their formatted
    /// column width (the client has no definitions to work it out).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub custom: Vec<CustomColumn>,
    /// Aggregates as pmacct JSON objects (keys `ip_src`, ..., `packets`, `bytes`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub entries: Vec<serde_json::Map<String, serde_json::Value>>,
    /// `erase`: how many aggregates were removed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub erased: Option<u64>,
    /// `stats`: table figures.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stats: Option<TableStats>,
}

/// A custom primitive of the table: its name (also its key in entries) and formatted width.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct CustomColumn {
    pub name: String,
    pub width: usize,
}

/// `stats` reply body.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct TableStats {
    pub entries: u64,
    pub packets: u64,
    pub bytes: u64,
    pub flows: u64,
    /// Flushes merged into the table.
    pub updates: u64,
    /// Unix time of the last merged flush (0 = none).
    pub last_update: i64,
}
