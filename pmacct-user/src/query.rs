//! Client of the memory plugin (what `pmacct-rs query` runs, like `pmacct -s`): sends one
//! request over the plugin's Unix socket and renders the reply as JSON or a formatted table.

use std::io::{BufRead, BufReader, Write};
use std::os::unix::net::UnixStream;
use std::path::PathBuf;
use std::time::Duration;

use serde_json::Value;

use crate::aggregate::Primitive;
use crate::sink::memory::{DEFAULT_IMT_PATH, Request, Response};
use crate::sink::print::columns::Column;

pub use crate::sink::memory::SortBy;

/// How to render the reply.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum QueryOutput {
    /// The reply as one JSON object.
    Json,
    /// A pmacct-style formatted table (`pmacct -s`), `For a total of: N entries` at the end.
    #[default]
    Table,
}

/// Arguments of one query.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct QueryArgs {
    /// Socket of the memory plugin (`imt_path`).
    pub socket: PathBuf,
    pub request: Request,
    pub output: QueryOutput,
    /// Give up after this long.
    pub timeout: Duration,
}

impl Default for QueryArgs {
    fn default() -> Self {
        QueryArgs {
            socket: PathBuf::from(DEFAULT_IMT_PATH),
            request: Request::Top { by: SortBy::Bytes, n: 0, filter: None },
            output: QueryOutput::Table,
            timeout: Duration::from_secs(10),
        }
    }
}

/// A failed query.
#[derive(Debug, thiserror::Error)]
pub enum QueryError {
    #[error("cannot talk to the memory plugin at {path}: {source}")]
    Io { path: String, source: std::io::Error },
    #[error("malformed reply from the memory plugin: {0}")]
    Reply(String),
    #[error("memory plugin refused the request: {0}")]
    Refused(String),
}

/// Sends one request and returns the decoded reply (errors reported by the server included).
pub fn send_request(args: &QueryArgs) -> Result<Response, QueryError> {
    let io = |source| QueryError::Io { path: args.socket.display().to_string(), source };
    let mut conn = UnixStream::connect(&args.socket).map_err(io)?;
    conn.set_read_timeout(Some(args.timeout)).map_err(io)?;
    conn.set_write_timeout(Some(args.timeout)).map_err(io)?;
    let mut line =
        serde_json::to_string(&args.request).map_err(|e| QueryError::Reply(e.to_string()))?;
    line.push('\n');
    conn.write_all(line.as_bytes()).map_err(io)?;
    let mut reply = String::new();
    BufReader::new(conn).read_line(&mut reply).map_err(io)?;
    serde_json::from_str(&reply).map_err(|e| QueryError::Reply(e.to_string()))
}

/// Runs a query and renders it; a server-side error becomes [`QueryError::Refused`].
pub fn run_query(args: &QueryArgs) -> Result<String, QueryError> {
    let resp = send_request(args)?;
    if !resp.ok {
        return Err(QueryError::Refused(resp.error.unwrap_or_default()));
    }
    Ok(match args.output {
        QueryOutput::Json => {
            let mut s =
                serde_json::to_string(&resp).map_err(|e| QueryError::Reply(e.to_string()))?;
            s.push('\n');
            s
        }
        QueryOutput::Table => render_table(&resp),
    })
}

fn pad(out: &mut String, used: usize, width: usize) {
    for _ in used..width {
        out.push(' ');
    }
}

/// Renders a reply as pmacct's formatted output (same columns and widths as `print_output:
/// formatted`), or a short summary for `erase`/`stats`.
pub fn render_table(resp: &Response) -> String {
    if let Some(n) = resp.erased {
        return format!("OK: erased {n} entries\n");
    }
    if let Some(s) = resp.stats {
        return format!(
            "Entries: {}\nPackets: {}\nBytes: {}\nFlows: {}\nUpdates: {}\nLast update: {}\n",
            s.entries, s.packets, s.bytes, s.flows, s.updates, s.last_update
        );
    }
    // A coords primitive is two columns (latitude, longitude), as in the print plugin.
    let mut cols: Vec<Column> = Vec::new();
    for p in resp.primitives.iter().filter_map(|n| Primitive::from_name(n)) {
        cols.push(Column::Prim(p));
        if matches!(p, Primitive::SrcHostCoords | Primitive::DstHostCoords) {
            cols.push(Column::Lon(p));
        }
    }
    // Custom primitives (`aggregate_primitives`) print last, under their names, as wide as
    // their definitions make them (pmacct's `pmacct -s` does the same).
    let custom: Vec<(&str, usize)> = resp
        .primitives
        .iter()
        .filter_map(|n| resp.custom.iter().find(|c| &c.name == n))
        .map(|c| (c.name.as_str(), c.width))
        .collect();
    let mut out = String::new();
    for c in &cols {
        let h = c.header();
        out.push_str(&h);
        pad(&mut out, h.len(), c.header_width());
    }
    for (name, width) in &custom {
        out.push_str(name);
        pad(&mut out, name.len(), width + 2);
    }
    out.push_str("PACKETS               BYTES\n");
    let text = |v: Option<&Value>| match v {
        Some(Value::String(s)) => s.clone(),
        Some(v) => v.to_string(),
        None => String::new(),
    };
    for e in &resp.entries {
        for c in &cols {
            let (w, s) = c.formatted_width();
            let v = match (c, e.get(c.json_key().as_ref())) {
                // Coordinates travel as JSON numbers; pmacct prints them with `%f`.
                (
                    Column::Lon(_)
                    | Column::Prim(Primitive::SrcHostCoords | Primitive::DstHostCoords),
                    Some(Value::Number(n)),
                ) => crate::sink::print::geo::c_f(n.as_f64().unwrap_or(0.0)),
                (_, v) => text(v),
            };
            out.push_str(&v);
            pad(&mut out, v.len(), w);
            pad(&mut out, 0, s);
        }
        for (name, width) in &custom {
            let v = text(e.get(*name));
            out.push_str(&v);
            pad(&mut out, v.len(), *width);
            pad(&mut out, 0, 2);
        }
        let pk = text(e.get("packets"));
        out.push_str(&pk);
        pad(&mut out, pk.len(), 20);
        pad(&mut out, 0, 2);
        out.push_str(&text(e.get("bytes")));
        out.push('\n');
    }
    out.push_str(&format!("\nFor a total of: {} entries\n", resp.entries.len()));
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::aggregate::PrimitiveSet;
    use crate::record::{Counters, FlowFields};
    use crate::sink::memory::entry_json;

    #[test]
    fn geoip_columns_in_the_table() {
        let set = PrimitiveSet::parse("src_host_country, src_host_coords").expect("set");
        let k = FlowFields {
            src_country: *b"GB",
            src_lat: 51.5142f64.to_bits(),
            src_lon: (-0.0931f64).to_bits(),
            ..FlowFields::default()
        };
        let c = Counters { packets: 1, bytes: 60, ..Counters::default() };
        let e = entry_json(set, &k, &c);
        assert_eq!(e.get("lat_ip_src").and_then(Value::as_f64), Some(51.5142));
        assert_eq!(e.get("lon_ip_src").and_then(Value::as_f64), Some(-0.0931));
        let resp = Response {
            ok: true,
            primitives: set.iter().map(|p| p.name().to_string()).collect(),
            entries: vec![e],
            ..Response::default()
        };
        let table = render_table(&resp);
        let mut lines = table.lines();
        assert_eq!(
            lines.next(),
            Some("SH_COUNTRY  SH_LAT        SH_LON        PACKETS               BYTES")
        );
        assert_eq!(
            lines.next(),
            Some("GB          51.514200  -0.093100  1                     60")
        );
    }
}
