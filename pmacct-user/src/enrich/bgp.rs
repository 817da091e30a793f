//! Flow enrichment from the BMP daemon's RIB: pmacct's `bgp_ext_handler` and
//! `bgp_peer_dst_ip_handler` with `nfacctd_as: bmp` / `nfacctd_net: bmp` (or `bgp`), the
//! `bgp_src_*_type: bgp` keys and `bgp_agent_map` (pmacct 1.7.7 `pkt_handlers.c`,
//! `bmp/bmp_lookup.c`).
//!
//! Per record, the exporter (`peer_src_ip`, or what `bgp_agent_map` maps it to) names the BMP
//! router whose table is used, or a BGP peer of a monitored router (route reflector). From the
//! route to the destination: `as_path`, `std_comm`, `ext_comm`, `lrg_comm`, `local_pref`,
//! `med`, `peer_dst_as` (first AS of the path), `dst_as` (last AS, under the bgp method),
//! `peer_dst_ip` (next hop) and `dst_mask` (under `nfacctd_net: bgp`). From the route to the
//! source: `src_as` (bgp method), `src_mask` (bgp net method), and `peer_src_as`,
//! `src_as_path`, `src_std_comm`, `src_ext_comm`, `src_lrg_comm`, `src_local_pref`, `src_med`
//! each only when its `bgp_*_type` is `bgp`. Without a route nothing is changed.
//!
//! With `rpki_roas_file`, `dst_roa` (and `src_roa` under `bgp_src_roa_type: bgp`) is the RPKI
//! state of the matched route and its less-specific covering routes ([`RoaTable::vector`]),
//! computed only for plugins that aggregate it. As in pmacct 1.7.7, a plugin gets the states
//! only when its aggregate also holds one of the primitives that make nfacctd send it the BGP
//! block ([`CARRIES_BGP`]); otherwise they print `u`.

use std::collections::HashMap;
use std::net::IpAddr;
use std::path::{Path, PathBuf};
use std::sync::{Arc, RwLock};

use serde::{Deserialize, Serialize};

use super::labels;
use super::netmethod::{BGP, FALLBACK, masked};
use super::pretag::{in_prefix, prefix};
use crate::aggregate::{Primitive, PrimitiveSet};
use crate::decode::bgp::Prefix;
use crate::record::FlowFields;
use crate::routing::roa::RoaTable;
use crate::routing::{RouteAttrs, RouteLookup};

/// A routing source shared with its writer (the BMP daemon's RIB).
pub type SharedRoutes = Arc<RwLock<dyn RouteLookup>>;

/// Which source-side primitives come from the RIB (pmacct's `bgp_peer_src_as_type` and
/// `bgp_src_*_type` set to `bgp`), and the exporter → router map. Global keys in pmacct;
/// every plugin carries a copy.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct BgpLookupConfig {
    /// `bgp_agent_map` / `bmp_agent_map`: exporter → BMP router (or BGP peer) address.
    pub agent_map: Option<PathBuf>,
    /// `bgp_peer_src_as_type: bgp`: `peer_src_as` = first AS of the route to the source.
    pub peer_src_as: bool,
    /// `bgp_src_as_path_type: bgp`.
    pub src_as_path: bool,
    /// `bgp_src_std_comm_type: bgp`.
    pub src_std_comm: bool,
    /// `bgp_src_ext_comm_type: bgp`.
    pub src_ext_comm: bool,
    /// `bgp_src_lrg_comm_type: bgp`.
    pub src_lrg_comm: bool,
    /// `bgp_src_local_pref_type: bgp`.
    pub src_local_pref: bool,
    /// `bgp_src_med_type: bgp`.
    pub src_med: bool,
    /// `bgp_src_roa_type: bgp`.
    pub src_roa: bool,
    /// `rpki_roas_file`: the ROAs `src_roa`/`dst_roa` validate routes against.
    pub roas_file: Option<PathBuf>,
}

/// A `bgp_agent_map` or `rpki_roas_file` that cannot be loaded.
#[derive(Debug, thiserror::Error)]
pub enum LookupFilesError {
    #[error(transparent)]
    AgentMap(#[from] AgentMapError),
    #[error(transparent)]
    Roas(#[from] crate::routing::roa::RoaError),
}

/// A `bgp_agent_map` that cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum AgentMapError {
    #[error("bgp_agent_map {path}: {source}")]
    Io { path: PathBuf, source: std::io::Error },
    #[error("bgp_agent_map line {line}: {reason}")]
    Line { line: usize, reason: String },
}

/// `bgp_agent_map`: `bgp_ip=<router> ip=<exporter address or prefix>` per line, `!`/`#`
/// comments, first match wins.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct AgentMap {
    rules: Vec<(IpAddr, (u128, u128, bool))>,
}

impl AgentMap {
    /// Reads `path`.
    pub fn load(path: &Path) -> Result<AgentMap, AgentMapError> {
        let text = std::fs::read_to_string(path)
            .map_err(|source| AgentMapError::Io { path: path.to_path_buf(), source })?;
        Self::parse(&text)
    }

    /// Parses map text.
    pub fn parse(text: &str) -> Result<AgentMap, AgentMapError> {
        let mut rules = Vec::new();
        for (i, raw) in text.lines().enumerate() {
            let line = raw.trim();
            if line.is_empty() || line.starts_with('!') || line.starts_with('#') {
                continue;
            }
            let err = |reason: String| AgentMapError::Line { line: i + 1, reason };
            let (mut router, mut ip) = (None, None);
            for pair in line.split_whitespace() {
                let Some((k, v)) = pair.split_once('=') else {
                    return Err(err(format!("expected key=value, found `{pair}`")));
                };
                match k.to_ascii_lowercase().as_str() {
                    "bgp_ip" | "bmp_ip" | "id" => {
                        let a = v.parse::<IpAddr>();
                        router = Some(a.map_err(|_| err(format!("`{k}={v}`: not an address")))?);
                    }
                    "ip" => {
                        let p = prefix(v);
                        ip = Some(p.ok_or_else(|| err(format!("`ip={v}`: not an address")))?);
                    }
                    other => {
                        return Err(err(format!("unsupported key `{other}` (valid: bgp_ip, ip)")));
                    }
                }
            }
            let router = router.ok_or_else(|| err("missing `bgp_ip` (the router)".into()))?;
            let ip = ip.ok_or_else(|| err("missing `ip` (the exporter)".into()))?;
            rules.push((router, ip));
        }
        Ok(AgentMap { rules })
    }

    /// The router address for flows from `exporter`.
    pub fn lookup(&self, exporter: IpAddr) -> Option<IpAddr> {
        self.rules.iter().find(|(_, p)| in_prefix(&exporter, *p)).map(|(r, _)| *r)
    }

    /// Rules loaded.
    pub fn len(&self) -> usize {
        self.rules.len()
    }

    /// True when the map has no rule.
    pub fn is_empty(&self) -> bool {
        self.rules.is_empty()
    }
}

/// The primitives that make pmacct 1.7.7 hand a plugin its `pkt_bgp_primitives` (where the ROA
/// states travel): `bgp_config_checks` sets `PIPE_TYPE_BGP` for these only.
pub const CARRIES_BGP: [Primitive; 9] = [
    Primitive::LocalPref,
    Primitive::Med,
    Primitive::PeerSrcAs,
    Primitive::PeerDstAs,
    Primitive::PeerSrcIp,
    Primitive::PeerDstIp,
    Primitive::SrcMed,
    Primitive::SrcLocalPref,
    Primitive::MplsVpnRd,
];

/// The interned strings of one attribute set: as_path, std, ext, large communities.
type Strings = [u32; 4];

/// Most attribute sets whose interned strings a plugin remembers before starting over.
const CACHE_LIMIT: usize = 65_536;

/// A plugin's RIB lookups.
#[derive(Debug)]
pub struct BgpStage {
    rib: SharedRoutes,
    map: Option<Arc<AgentMap>>,
    src: SrcFromBgp,
    /// `nfacctd_as` / `nfacctd_net` flag bits ([`super::netmethod`]).
    asm: u32,
    net: u32,
    set: PrimitiveSet,
    /// Interned strings per attribute set. The key is the `Arc`'s address and the `Arc` is kept
    /// in the value, so an address cannot be reused while cached.
    strings: HashMap<usize, (Arc<RouteAttrs>, Strings)>,
    /// The ROAs (`rpki_roas_file`), when loaded.
    roas: Option<Arc<RoaTable>>,
    /// Scratch for the covering routes of one lookup.
    vector: Vec<(Prefix, u32)>,
}

/// The `bgp_*_type: bgp` switches of [`BgpLookupConfig`], copied out of it.
#[derive(Clone, Copy, Debug)]
struct SrcFromBgp {
    peer_src_as: bool,
    as_path: bool,
    std_comm: bool,
    ext_comm: bool,
    lrg_comm: bool,
    local_pref: bool,
    med: bool,
    roa: bool,
}

/// What a route lookup hands to [`BgpStage::fill`]: attributes, prefix length and, when the
/// plugin aggregates it, the RPKI state.
struct Found {
    attrs: Arc<RouteAttrs>,
    len: u8,
    roa: Option<u8>,
}

impl BgpStage {
    /// A stage for a plugin with aggregate `set` and methods `asm`/`net`; `None` when the
    /// plugin has nothing to take from the RIB.
    pub fn new(
        rib: SharedRoutes,
        map: Option<Arc<AgentMap>>,
        cfg: &BgpLookupConfig,
        asm: u32,
        net: u32,
        set: PrimitiveSet,
    ) -> Option<BgpStage> {
        use Primitive as P;
        let always = [
            P::AsPath,
            P::StdComm,
            P::ExtComm,
            P::LrgComm,
            P::LocalPref,
            P::Med,
            P::PeerDstAs,
            P::SrcAsPath,
            P::SrcStdComm,
            P::SrcExtComm,
            P::SrcLrgComm,
            P::SrcLocalPref,
            P::SrcMed,
            P::SrcRoa,
            P::DstRoa,
            P::PeerSrcAs,
        ];
        let wanted = always.iter().any(|p| set.contains(*p))
            || (asm & BGP != 0 && (set.contains(P::SrcAs) || set.contains(P::DstAs)))
            || (net & BGP != 0
                && [P::SrcMask, P::DstMask, P::SrcNet, P::DstNet, P::PeerDstIp]
                    .iter()
                    .any(|p| set.contains(*p)));
        wanted.then(|| BgpStage {
            rib,
            map,
            src: SrcFromBgp {
                peer_src_as: cfg.peer_src_as,
                as_path: cfg.src_as_path,
                std_comm: cfg.src_std_comm,
                ext_comm: cfg.src_ext_comm,
                lrg_comm: cfg.src_lrg_comm,
                local_pref: cfg.src_local_pref,
                med: cfg.src_med,
                roa: cfg.src_roa,
            },
            asm,
            net,
            set,
            strings: HashMap::new(),
            roas: None,
            vector: Vec::new(),
        })
    }

    /// Validates routes against `roas` from now on (`rpki_roas_file`, loaded or reloaded).
    pub fn set_roas(&mut self, roas: Option<Arc<RoaTable>>) {
        self.roas = roas;
    }

    /// Fills `f` from the routes to its source and destination.
    pub fn apply(&mut self, f: &mut FlowFields) {
        let exporter = f.peer_src_ip;
        let target = self.map.as_ref().and_then(|m| m.lookup(exporter)).unwrap_or(exporter);
        let roas = self.roas.as_deref();
        let carried = CARRIES_BGP.iter().any(|p| self.set.contains(*p));
        let want_src_roa = carried && self.src.roa && self.set.contains(Primitive::SrcRoa);
        let want_dst_roa = carried && self.set.contains(Primitive::DstRoa);
        let vector = &mut self.vector;
        let (src, dst) = {
            let Ok(rib) = self.rib.read() else { return };
            let mut find = |ip: IpAddr, want_roa: bool| {
                let m = rib.lookup_for(target, ip)?;
                let roa = roas.filter(|_| want_roa).map(|t| {
                    rib.covering_for(target, ip, vector);
                    t.vector(vector.iter().copied())
                });
                Some(Found { attrs: m.attrs.clone(), len: m.prefix.len, roa })
            };
            (find(f.src_ip, want_src_roa), find(f.dst_ip, want_dst_roa))
        };
        if let Some(d) = dst {
            self.fill_dst(f, &d);
        }
        if let Some(s) = src {
            self.fill_src(f, &s);
        }
    }

    fn strings(&mut self, a: &Arc<RouteAttrs>) -> Strings {
        let key = Arc::as_ptr(a) as usize;
        if let Some((_, s)) = self.strings.get(&key) {
            return *s;
        }
        if self.strings.len() >= CACHE_LIMIT {
            self.strings.clear();
        }
        let s = [
            labels::intern(&a.as_path),
            labels::intern(&a.communities),
            labels::intern(&a.ext_communities),
            labels::intern(&a.large_communities),
        ];
        self.strings.insert(key, (a.clone(), s));
        s
    }

    /// Whether the RIB's value replaces the current one under the method `bits`: always
    /// without `longest`, else when the route is at least as specific as the mask in use.
    fn wins(bits: u32, route_len: u8, current_mask: u8) -> bool {
        bits & FALLBACK == 0 || route_len >= current_mask
    }

    fn fill_dst(&mut self, f: &mut FlowFields, d: &Found) {
        use Primitive as P;
        let set = self.set;
        let has = |p| set.contains(p);
        let a = &d.attrs;
        let as_ok = Self::wins(self.asm, d.len, f.dst_mask);
        if self.net & BGP != 0 && Self::wins(self.net, d.len, f.dst_mask) {
            if has(P::PeerDstIp) {
                f.peer_dst_ip = a.next_hop.unwrap_or(f.peer_dst_ip);
            }
            f.dst_mask = d.len;
            f.dst_net = masked(f.dst_ip, d.len);
        }
        if !as_ok {
            return;
        }
        if self.asm & BGP != 0 && has(P::DstAs) {
            f.dst_as = a.origin_as;
        }
        if [P::AsPath, P::StdComm, P::ExtComm, P::LrgComm].iter().any(|p| has(*p)) {
            [f.as_path, f.std_comm, f.ext_comm, f.lrg_comm] = self.strings(a);
        }
        f.local_pref = a.local_pref.unwrap_or(0);
        f.med = a.med.unwrap_or(0);
        if let Some(roa) = d.roa {
            f.dst_roa = roa;
        }
        if has(P::PeerDstAs) && !a.as_path.is_empty() {
            f.peer_dst_as = a.first_as;
        }
    }

    fn fill_src(&mut self, f: &mut FlowFields, src: &Found) {
        use Primitive as P;
        let set = self.set;
        let has = |p| set.contains(p);
        let a = &src.attrs;
        if self.net & BGP != 0 && Self::wins(self.net, src.len, f.src_mask) {
            f.src_mask = src.len;
            f.src_net = masked(f.src_ip, src.len);
        }
        if !Self::wins(self.asm, src.len, f.src_mask) {
            return;
        }
        if self.asm & BGP != 0 && has(P::SrcAs) {
            f.src_as = a.origin_as;
        }
        let c = self.src;
        if c.peer_src_as && has(P::PeerSrcAs) && !a.as_path.is_empty() {
            f.peer_src_as = a.first_as;
        }
        let wants_strings = (c.as_path && has(P::SrcAsPath))
            || (c.std_comm && has(P::SrcStdComm))
            || (c.ext_comm && has(P::SrcExtComm))
            || (c.lrg_comm && has(P::SrcLrgComm));
        if wants_strings {
            let [path, std, ext, lrg] = self.strings(a);
            if c.as_path {
                f.src_as_path = path;
            }
            if c.std_comm {
                f.src_std_comm = std;
            }
            if c.ext_comm {
                f.src_ext_comm = ext;
            }
            if c.lrg_comm {
                f.src_lrg_comm = lrg;
            }
        }
        if c.local_pref {
            f.src_local_pref = a.local_pref.unwrap_or(0);
        }
        if c.med {
            f.src_med = a.med.unwrap_or(0);
        }
        if let Some(roa) = src.roa {
            f.src_roa = roa;
        }
    }
}

#[cfg(test)]
#[path = "bgp_tests.rs"]
mod tests;
