//! pmacct's GeoIP v2 primitives (`src_host_country`, `dst_host_country`, `src_host_pocode`,
//! `dst_host_pocode`, `src_host_coords`, `dst_host_coords`) from a MaxMind DB named by
//! `geoipv2_file`, as pmacct 1.7.7's `*_geoipv2_handler`s fill them (`pkt_handlers.c`):
//!
//! - the record's source / destination address is looked up (an IPv4 address in an IPv6
//!   database through its IPv4 subtree, as libmaxminddb does); an address the database does
//!   not hold, or one it cannot hold (IPv6 in an IPv4 database), gives empty values;
//! - country: `country.iso_code` when it is a UTF-8 string, else empty. pmacct means to print
//!   `O1` for an address not found, but its `strncpy` copies `strlen` of the zeroed buffer,
//!   i.e. nothing: the value is empty, and so is ours. We keep 2 bytes (ISO 3166-1 codes, which
//!   is what MaxMind databases hold; pmacct's buffer would keep a third);
//! - postal code: `postal.code` when a UTF-8 string, cut to pmacct's 11 bytes, else empty;
//! - coords: `location.latitude` / `location.longitude` when stored as doubles (pmacct takes
//!   no other type), else 0.
//!
//! Lookups happen per plugin and only for plugins that aggregate a GeoIP primitive
//! ([`GeoStage`]); a database is read once per file and shared ([`GeoDb::open`]).

use std::collections::HashMap;
use std::net::IpAddr;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock, Weak};
use std::time::SystemTime;

use maxminddb::{PathElement, Reader};

use crate::aggregate::{Primitive, PrimitiveSet};
use crate::record::FlowFields;

/// pmacct's `PM_POCODE_T_STRLEN - 1`: the bytes of a postal code it keeps.
const POCODE_MAX: usize = 11;

/// A `geoipv2_file` that cannot be used.
#[derive(Debug, thiserror::Error)]
#[error("geoipv2_file {}: {reason}", path.display())]
pub struct GeoipError {
    pub path: PathBuf,
    pub reason: String,
}

/// A loaded MaxMind DB.
pub struct GeoDb {
    reader: Reader<Vec<u8>>,
    path: PathBuf,
}

impl std::fmt::Debug for GeoDb {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GeoDb").field("path", &self.path).finish_non_exhaustive()
    }
}

/// Size and modification time: a file replaced on disk is read again.
type Stamp = (u64, Option<SystemTime>);

fn stamp(path: &Path) -> Result<Stamp, GeoipError> {
    let m = std::fs::metadata(path)
        .map_err(|e| GeoipError { path: path.to_path_buf(), reason: e.to_string() })?;
    Ok((m.len(), m.modified().ok()))
}

/// Databases in use, by path (with the stamp they were read at).
type Cache = HashMap<PathBuf, (Stamp, Weak<GeoDb>)>;

/// Databases in use: plugins naming the same file share one copy.
fn cache() -> &'static Mutex<Cache> {
    static C: OnceLock<Mutex<Cache>> = OnceLock::new();
    C.get_or_init(Default::default)
}

/// One side's GeoIP values.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Geo {
    pub country: [u8; 2],
    /// Postal code id in [`crate::enrich::labels`].
    pub pocode: u32,
    pub lat: f64,
    pub lon: f64,
}

/// Which values a side needs.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
struct Want {
    country: bool,
    pocode: bool,
    coords: bool,
}

impl Want {
    fn any(self) -> bool {
        self.country || self.pocode || self.coords
    }
}

impl GeoDb {
    /// Opens `path`, or returns the copy already loaded when the file did not change since.
    pub fn open(path: &Path) -> Result<Arc<GeoDb>, GeoipError> {
        let st = stamp(path)?;
        let mut c = cache().lock().unwrap_or_else(|e| e.into_inner());
        if let Some((s, weak)) = c.get(path)
            && *s == st
            && let Some(db) = weak.upgrade()
        {
            return Ok(db);
        }
        let reader = Reader::open_readfile(path)
            .map_err(|e| GeoipError { path: path.to_path_buf(), reason: e.to_string() })?;
        let db = Arc::new(GeoDb { reader, path: path.to_path_buf() });
        c.retain(|_, (_, w)| w.strong_count() > 0);
        c.insert(path.to_path_buf(), (st, Arc::downgrade(&db)));
        Ok(db)
    }

    /// The file it was read from.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Looks `ip` up; `Err` when the database cannot hold the address or is corrupt there
    /// (pmacct logs those and leaves the values empty).
    pub fn lookup(&self, ip: IpAddr) -> Result<Geo, maxminddb::MaxMindDbError> {
        self.lookup_some(ip, Want { country: true, pocode: true, coords: true })
    }

    fn lookup_some(&self, ip: IpAddr, want: Want) -> Result<Geo, maxminddb::MaxMindDbError> {
        let mut g = Geo::default();
        let found = self.reader.lookup(ip)?;
        if !found.has_data() {
            return Ok(g);
        }
        // A path that is missing or that runs through another type gives no value, as
        // MMDB_get_value's MMDB_LOOKUP_PATH_DOES_NOT_MATCH_DATA_ERROR does in pmacct; the
        // typed decodes refuse any type but the one pmacct checks for.
        let string = |a, b| {
            found.decode_path::<&str>(&[PathElement::Key(a), PathElement::Key(b)]).ok().flatten()
        };
        let double = |a, b| {
            found.decode_path::<f64>(&[PathElement::Key(a), PathElement::Key(b)]).ok().flatten()
        };
        if want.country
            && let Some(code) = string("country", "iso_code")
        {
            for (dst, b) in g.country.iter_mut().zip(code.bytes()) {
                *dst = b;
            }
        }
        if want.pocode
            && let Some(code) = string("postal", "code")
        {
            g.pocode = crate::enrich::labels::intern(truncate(code, POCODE_MAX));
        }
        if want.coords {
            g.lat = double("location", "latitude").unwrap_or(0.0);
            g.lon = double("location", "longitude").unwrap_or(0.0);
        }
        Ok(g)
    }
}

/// `s` cut to at most `max` bytes on a character boundary.
fn truncate(s: &str, max: usize) -> &str {
    if s.len() <= max {
        return s;
    }
    let mut end = max;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    &s[..end]
}

/// A plugin's GeoIP enrichment: the database and the values its aggregate asks for.
#[derive(Debug)]
pub struct GeoStage {
    db: Arc<GeoDb>,
    src: Want,
    dst: Want,
    /// Lookups that failed (address the database cannot hold, corrupt data).
    errors: AtomicU64,
}

impl GeoStage {
    /// The stage for a plugin aggregating `set`: `None` when it has no GeoIP primitive or no
    /// `geoipv2_file` is set (pmacct then leaves the values empty).
    pub fn new(file: Option<&Path>, set: PrimitiveSet) -> Result<Option<GeoStage>, GeoipError> {
        let src = Want {
            country: set.contains(Primitive::SrcHostCountry),
            pocode: set.contains(Primitive::SrcHostPocode),
            coords: set.contains(Primitive::SrcHostCoords),
        };
        let dst = Want {
            country: set.contains(Primitive::DstHostCountry),
            pocode: set.contains(Primitive::DstHostPocode),
            coords: set.contains(Primitive::DstHostCoords),
        };
        let Some(file) = file.filter(|_| src.any() || dst.any()) else { return Ok(None) };
        Ok(Some(GeoStage { db: GeoDb::open(file)?, src, dst, errors: AtomicU64::new(0) }))
    }

    /// The database in use.
    pub fn db(&self) -> &Arc<GeoDb> {
        &self.db
    }

    /// Lookups that failed so far.
    pub fn errors(&self) -> u64 {
        self.errors.load(Ordering::Relaxed)
    }

    /// Fills the wanted GeoIP fields of `f` from its addresses.
    pub fn apply(&self, f: &mut FlowFields) {
        if self.src.any() {
            let g = self.side(f.src_ip, self.src);
            f.src_country = g.country;
            f.src_pocode = g.pocode;
            f.src_lat = g.lat.to_bits();
            f.src_lon = g.lon.to_bits();
        }
        if self.dst.any() {
            let g = self.side(f.dst_ip, self.dst);
            f.dst_country = g.country;
            f.dst_pocode = g.pocode;
            f.dst_lat = g.lat.to_bits();
            f.dst_lon = g.lon.to_bits();
        }
    }

    fn side(&self, ip: IpAddr, want: Want) -> Geo {
        match self.db.lookup_some(ip, want) {
            Ok(g) => g,
            Err(e) => {
                if self.errors.fetch_add(1, Ordering::Relaxed) == 0 {
                    tracing::warn!(file = %self.db.path.display(), %ip, error = %e,
                        "geoipv2_file lookup failed (values left empty; further failures counted)");
                }
                Geo::default()
            }
        }
    }
}

#[cfg(test)]
#[path = "geoip_tests.rs"]
mod tests;
