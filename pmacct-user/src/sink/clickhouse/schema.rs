//! A plugin's ClickHouse table, derived from its aggregate: one column per primitive (named as
//! in pmacct's JSON output), the counters, and `stamp_inserted` / `stamp_updated`.

use crate::aggregate::{Primitive, PrimitiveSet};
use crate::sink::print::value::json_is_string;

use super::config::Profile;

/// How a column is typed and encoded.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// `UInt64`, the value as pmacct prints it, parsed.
    Number,
    /// `String` (modern: `LowCardinality(String)` where [`Column::low_cardinality`]).
    Text,
    /// `IPv6` (IPv4 mapped); legacy: `String`.
    Address,
    /// `DateTime64(6)` from Unix µs; legacy: `String` as pmacct prints it.
    Timestamp,
    /// `UInt64` counter.
    Counter,
    /// `DateTime` (Unix seconds).
    Stamp,
    /// `Float64`: the latitude of a `*_host_coords` primitive.
    Lat,
    /// `Float64`: its longitude (a coords primitive has both columns, as in pmacct's JSON).
    Lon,
    /// `String`: a custom primitive (`aggregate_primitives`; its registry index), as pmacct
    /// prints it.
    Custom(usize),
}

/// One column.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Column {
    pub name: String,
    /// The primitive it carries, `None` for counters and stamps.
    pub primitive: Option<Primitive>,
    pub kind: Kind,
    /// ClickHouse type as `DESCRIBE TABLE` shows it.
    pub ty: String,
}

/// A column the existing table lacks or types differently.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum SchemaError {
    #[error("table {table}: column '{column}' is missing (expected {expected})")]
    Missing { table: String, column: String, expected: String },
    #[error("table {table}: column '{column}' is {found}, expected {expected}")]
    Type { table: String, column: String, found: String, expected: String },
}

/// A plugin's table.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Schema {
    /// `database.table`.
    pub table: String,
    pub columns: Vec<Column>,
    profile: Profile,
}

fn is_address(p: Primitive) -> bool {
    matches!(
        p,
        Primitive::SrcHost
            | Primitive::DstHost
            | Primitive::PeerSrcIp
            | Primitive::PeerDstIp
            | Primitive::PostNatSrcHost
            | Primitive::PostNatDstHost
            | Primitive::SrcNet
            | Primitive::DstNet
            | Primitive::TunnelSrcHost
            | Primitive::TunnelDstHost
    )
}

fn is_timestamp(p: Primitive) -> bool {
    matches!(
        p,
        Primitive::TimestampStart
            | Primitive::TimestampEnd
            | Primitive::TimestampArrival
            | Primitive::TimestampExport
    )
}

/// The one column of a primitive other than the coords.
fn scalar_column(p: Primitive, modern: bool) -> Column {
    let (kind, ty) = if is_address(p) {
        (Kind::Address, if modern { "IPv6" } else { "String" })
    } else if is_timestamp(p) {
        (Kind::Timestamp, if modern { "DateTime64(6)" } else { "String" })
    } else if json_is_string(p) {
        (Kind::Text, if modern { "LowCardinality(String)" } else { "String" })
    } else {
        (Kind::Number, "UInt64")
    };
    Column { name: p.json_key().into(), primitive: Some(p), kind, ty: ty.into() }
}

impl Schema {
    /// The table `table` for aggregate `set`.
    pub fn new(table: &str, set: PrimitiveSet, profile: Profile) -> Schema {
        let modern = profile == Profile::Modern;
        let mut columns: Vec<Column> = set
            .iter()
            .flat_map(|p| {
                let lon = match p {
                    Primitive::SrcHostCoords => "lon_ip_src",
                    Primitive::DstHostCoords => "lon_ip_dst",
                    _ => return vec![scalar_column(p, modern)],
                };
                let f64col = |name: &str, kind| Column {
                    name: name.into(),
                    primitive: Some(p),
                    kind,
                    ty: "Float64".into(),
                };
                vec![f64col(p.json_key(), Kind::Lat), f64col(lon, Kind::Lon)]
            })
            .collect();
        for name in ["packets", "bytes", "flows"] {
            columns.push(Column {
                name: name.into(),
                primitive: None,
                kind: Kind::Counter,
                ty: "UInt64".into(),
            });
        }
        for name in ["stamp_inserted", "stamp_updated"] {
            columns.push(Column {
                name: name.into(),
                primitive: None,
                kind: Kind::Stamp,
                ty: "DateTime".into(),
            });
        }
        Schema { table: table.into(), columns, profile }
    }

    /// These columns and one `String` column per custom primitive (registry indices of
    /// [`crate::aggregate::custom`], in `aggregate` order), named as defined, before the
    /// counters (pmacct's JSON puts them there too).
    pub fn with_custom(mut self, custom: &[usize]) -> Schema {
        let defs = crate::aggregate::custom::defined();
        let at = self.columns.iter().position(|c| c.kind == Kind::Counter).unwrap_or(0);
        let cols = custom.iter().filter_map(|i| {
            let d = defs.get(*i)?;
            Some(Column {
                name: d.name.clone(),
                primitive: None,
                kind: Kind::Custom(*i),
                ty: "String".into(),
            })
        });
        self.columns.splice(at..at, cols);
        self
    }

    /// `CREATE TABLE IF NOT EXISTS`: MergeTree partitioned by day, ordered by time then the
    /// key, rows deleted after `ttl_days` (modern servers).
    pub fn create_sql(&self, ttl_days: Option<u32>) -> String {
        let cols: Vec<String> =
            self.columns.iter().map(|c| format!("`{}` {}", c.name, c.ty)).collect();
        let key: Vec<String> = std::iter::once("stamp_inserted".to_string())
            .chain(
                self.columns
                    .iter()
                    .filter(|c| c.primitive.is_some() && c.kind != Kind::Timestamp)
                    .map(|c| format!("`{}`", c.name)),
            )
            .collect();
        let mut sql = format!(
            "CREATE TABLE IF NOT EXISTS {} ({}) ENGINE = MergeTree() PARTITION BY toYYYYMMDD(stamp_inserted) ORDER BY ({})",
            self.table,
            cols.join(", "),
            key.join(", ")
        );
        if let (Some(days), Profile::Modern) = (ttl_days, self.profile) {
            sql.push_str(&format!(" TTL stamp_inserted + INTERVAL {days} DAY"));
        }
        sql
    }

    /// The column list of an `INSERT`.
    pub fn column_list(&self) -> String {
        self.columns.iter().map(|c| format!("`{}`", c.name)).collect::<Vec<_>>().join(", ")
    }

    /// Checks an existing table's `(name, type)` columns: every column of ours must be there
    /// with our type (further columns of the table are left to their defaults).
    pub fn check(&self, existing: &[(String, String)]) -> Result<(), SchemaError> {
        for c in &self.columns {
            match existing.iter().find(|(n, _)| *n == c.name) {
                None => {
                    return Err(SchemaError::Missing {
                        table: self.table.clone(),
                        column: c.name.clone(),
                        expected: c.ty.clone(),
                    });
                }
                Some((_, ty)) if *ty != c.ty => {
                    return Err(SchemaError::Type {
                        table: self.table.clone(),
                        column: c.name.clone(),
                        found: ty.clone(),
                        expected: c.ty.clone(),
                    });
                }
                Some(_) => {}
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cols(s: &Schema) -> Vec<(String, String)> {
        s.columns.iter().map(|c| (c.name.clone(), c.ty.clone())).collect()
    }

    #[test]
    fn columns_follow_pmacct_json_names() {
        let set = PrimitiveSet::parse("src_host,dst_port,proto,timestamp_start").unwrap();
        let modern = Schema::new("default.t", set, Profile::Modern);
        let names: Vec<&str> = modern.columns.iter().map(|c| c.name.as_str()).collect();
        assert_eq!(
            names,
            [
                "ip_src",
                "port_dst",
                "ip_proto",
                "timestamp_start",
                "packets",
                "bytes",
                "flows",
                "stamp_inserted",
                "stamp_updated"
            ]
        );
        assert_eq!(modern.columns[0].ty, "IPv6");
        assert_eq!(modern.columns[2].ty, "LowCardinality(String)");
        let legacy = Schema::new("default.t", set, Profile::Legacy);
        assert!(legacy.columns.iter().all(|c| !c.ty.contains("IPv6") && !c.ty.contains("Low")));
        let sql = legacy.create_sql(Some(30));
        assert!(
            sql.contains("ORDER BY (stamp_inserted, `ip_src`, `port_dst`, `ip_proto`)"),
            "{sql}"
        );
        assert!(!sql.contains("TTL"), "no TTL on legacy servers");
        assert!(modern.create_sql(Some(30)).ends_with("TTL stamp_inserted + INTERVAL 30 DAY"));
    }

    #[test]
    fn check_names_the_column() {
        let s = Schema::new("db.t", PrimitiveSet::parse("src_host").unwrap(), Profile::Legacy);
        assert_eq!(s.check(&cols(&s)), Ok(()));
        let mut other = cols(&s);
        other.retain(|(n, _)| n != "bytes");
        assert!(
            matches!(s.check(&other), Err(SchemaError::Missing { column, .. }) if column == "bytes")
        );
        let mut other = cols(&s);
        other[0].1 = "UInt32".into();
        let err = s.check(&other).unwrap_err();
        assert_eq!(err.to_string(), "table db.t: column 'ip_src' is UInt32, expected String");
    }

    #[test]
    fn geoip_columns() {
        let set = PrimitiveSet::parse("dst_host_coords,src_host_country,src_host_pocode").unwrap();
        let s = Schema::new("db.t", set, Profile::Modern);
        let got: Vec<(String, String)> = cols(&s).into_iter().take(4).collect();
        let want = [
            ("country_ip_src", "LowCardinality(String)"),
            ("pocode_ip_src", "LowCardinality(String)"),
            ("lat_ip_dst", "Float64"),
            ("lon_ip_dst", "Float64"),
        ];
        assert_eq!(got, want.map(|(a, b)| (a.to_string(), b.to_string())));
    }
}
