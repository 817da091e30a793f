//! Per-plugin network and AS resolution: `nfacctd_net` / `nfacctd_as` (and the `sfacctd_`,
//! `pmacctd_` spellings), `networks_file`, `networks_mask`, `networks_file_no_lpm`.
//!
//! Mirrors pmacct 1.7.7: the core keeps the exporter's masks and ASNs only under the `netflow`
//! (`sflow`) method (`pkt_handlers.c`), then each plugin runs `set_net_funcs` (`net_aggr.c`):
//! static mask, networks_file lookups for masks / ASNs / next hop, and finally `src_net` =
//! `src_host` masked by the resulting `src_mask`.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::path::PathBuf;
use std::sync::Arc;

use serde::{Deserialize, Serialize};

use super::networks::{NetEntry, NetworksError, NetworksTable};
use crate::aggregate::{Primitive, PrimitiveSet};
use crate::record::FlowFields;

/// Keep what the export protocol says.
pub const KEEP: u32 = 0x01;
/// Look up the networks_file.
pub const NEW: u32 = 0x02;
/// BGP / BMP RIB.
pub const BGP: u32 = 0x04;
/// `networks_mask`.
pub const STATIC: u32 = 0x08;
/// IS-IS.
pub const IGP: u32 = 0x10;
/// `longest`: the longest of the sources wins.
pub const FALLBACK: u32 = 0x8000_0000;

/// A plugin's network settings (pmacct keys in the comments).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct NetworksConfig {
    /// `networks_file`.
    pub file: Option<PathBuf>,
    /// `networks_mask` (bits).
    pub mask: Option<u8>,
    /// `nfacctd_net`: netflow | sflow | file | mask | longest (fallback); default netflow.
    pub net: Option<String>,
    /// `nfacctd_as`: netflow | sflow | file | longest (fallback); default netflow.
    #[serde(rename = "as")]
    pub asn: Option<String>,
    /// `networks_file_no_lpm`.
    pub no_lpm: bool,
    /// `networks_file_filter`: addresses outside every listed network are zeroed.
    pub filter: bool,
}

/// A value of `nfacctd_net` / `nfacctd_as` we cannot use.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum MethodError {
    #[error("unknown method `{0}` (expected netflow, sflow, file, mask, bgp, bmp, longest)")]
    Unknown(String),
    #[error("method `{0}` needs an IS-IS daemon, which pmacct-rs does not have")]
    Unsupported(String),
}

/// `nfacctd_net` value → pmacct's flag bits. `as_key`: `nfacctd_as` (no `mask`).
pub fn parse_method(value: &str, as_key: bool) -> Result<u32, MethodError> {
    match value.trim().to_ascii_lowercase().as_str() {
        "netflow" | "sflow" => Ok(KEEP),
        "file" => Ok(NEW),
        "mask" if !as_key => Ok(STATIC),
        // The BMP daemon's RIB is the bgp source ([`super::bgp`]); without one the BGP bit
        // adds nothing (as in pmacct without a BGP daemon).
        "longest" | "fallback" => Ok(FALLBACK | KEEP | BGP),
        "bgp" | "bmp" => Ok(BGP),
        v @ "igp" => Err(MethodError::Unsupported(v.into())),
        v => Err(MethodError::Unknown(v.into())),
    }
}

/// What a networks setup cannot use.
#[derive(Debug, thiserror::Error)]
pub enum NetSetupError {
    #[error(transparent)]
    Method(#[from] MethodError),
    #[error(transparent)]
    File(#[from] NetworksError),
    #[error("{0} selected but no networks_file is set")]
    NoFile(&'static str),
    #[error("nfacctd_net: mask selected but no networks_mask is set")]
    NoMask,
}

/// One plugin's resolver, built once from its [`NetworksConfig`] and aggregate.
#[derive(Clone, Debug)]
pub struct NetResolver {
    table: Option<Arc<NetworksTable>>,
    net: u32,
    asm: u32,
    mask: u8,
    no_lpm: bool,
    filter: bool,
    set: PrimitiveSet,
}

/// The zero address of `ip`'s family (pmacct zeroes the address, keeps the family).
fn unspecified(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V4(_) => IpAddr::V4(Ipv4Addr::UNSPECIFIED),
        IpAddr::V6(_) => IpAddr::V6(Ipv6Addr::UNSPECIFIED),
    }
}

pub(crate) fn masked(ip: IpAddr, len: u8) -> IpAddr {
    match ip {
        IpAddr::V4(a) => {
            let m = u32::MAX.checked_shl(32 - u32::from(len.min(32))).unwrap_or(0);
            IpAddr::V4(Ipv4Addr::from_bits(a.to_bits() & m))
        }
        IpAddr::V6(a) => {
            let m = u128::MAX.checked_shl(128 - u32::from(len.min(128))).unwrap_or(0);
            IpAddr::V6(Ipv6Addr::from_bits(a.to_bits() & m))
        }
    }
}

impl NetResolver {
    /// Builds the resolver; `None` when the plugin needs none (no net primitive, no file, no
    /// mask, default methods). Returns the networks_file warnings too.
    pub fn new(
        cfg: &NetworksConfig,
        set: PrimitiveSet,
    ) -> Result<(Option<NetResolver>, Vec<String>), NetSetupError> {
        let mut net =
            cfg.net.as_deref().map(|v| parse_method(v, false)).transpose()?.unwrap_or(KEEP);
        let mut asm =
            cfg.asn.as_deref().map(|v| parse_method(v, true)).transpose()?.unwrap_or(KEEP);
        let (table, warnings) = match &cfg.file {
            Some(p) => {
                let (t, w) = NetworksTable::load(p)?;
                (Some(Arc::new(t)), w)
            }
            None => (None, Vec::new()),
        };
        let has_file = table.is_some();
        let any = |ps: &[Primitive]| ps.iter().any(|p| set.contains(*p));
        // nfacctd.c: checks only when the aggregate uses what the method feeds.
        if any(&[Primitive::SrcAs, Primitive::DstAs]) {
            if asm & NEW != 0 && !has_file {
                return Err(NetSetupError::NoFile("nfacctd_as: file"));
            }
            if asm & FALLBACK != 0 && has_file {
                asm |= NEW;
            }
        }
        let net_prims = [
            Primitive::SrcNet,
            Primitive::DstNet,
            Primitive::SrcMask,
            Primitive::DstMask,
            Primitive::PeerDstIp,
        ];
        if any(&net_prims) {
            if net == NEW && !has_file {
                return Err(NetSetupError::NoFile("nfacctd_net: file"));
            }
            if net == STATIC && cfg.mask.is_none() {
                return Err(NetSetupError::NoMask);
            }
            if net & FALLBACK != 0 && has_file {
                net |= NEW;
            }
        }
        let default = net == KEEP && asm == KEEP && !has_file && cfg.mask.is_none();
        if default && !any(&[Primitive::SrcNet, Primitive::DstNet]) {
            return Ok((None, warnings));
        }
        let r = NetResolver {
            table,
            net,
            asm,
            mask: cfg.mask.unwrap_or(0),
            no_lpm: cfg.no_lpm,
            filter: cfg.filter,
            set,
        };
        Ok((Some(r), warnings))
    }

    /// Fills masks, ASNs, next hop and `src_net`/`dst_net` of `f` as pmacct's plugin would.
    pub fn apply(&self, f: &mut FlowFields) {
        let has = |p| self.set.contains(p);
        // Core: the exporter's masks and ASNs only under the netflow/sflow method.
        if self.net & KEEP == 0 {
            f.src_mask = 0;
            f.dst_mask = 0;
        }
        if self.asm & KEEP == 0 {
            (f.src_as, f.dst_as, f.peer_src_as, f.peer_dst_as) = (0, 0, 0, 0);
            // sfacctd installs its as_path / std_comm / local_pref handlers only under the
            // sflow method too.
            (f.as_path, f.std_comm, f.local_pref) = (0, 0, 0);
        }
        if self.net & STATIC != 0 && self.mask != 0 {
            if has(Primitive::SrcNet) {
                f.src_net = masked(f.src_ip, self.mask);
            }
            if has(Primitive::DstNet) {
                f.dst_net = masked(f.dst_ip, self.mask);
            }
            if has(Primitive::SrcMask) {
                f.src_mask = self.mask;
            }
            if has(Primitive::DstMask) {
                f.dst_mask = self.mask;
            }
        }
        let Some(t) = &self.table else {
            f.src_net = masked(f.src_ip, f.src_mask);
            f.dst_net = masked(f.dst_ip, f.dst_mask);
            return;
        };
        let src = t.lookup(f.src_ip).copied();
        if self.filter && src.is_none() && has(Primitive::SrcHost) {
            f.src_ip = unspecified(f.src_ip);
        }
        if self.net & NEW != 0 {
            f.src_mask = self.pick_mask(f.src_mask, src.as_ref());
        }
        if self.asm & NEW != 0 {
            // peer_src_as is not taken from the file: pmacct 1.7.7 installs the lookup but
            // prints the exporter's value (bgp_peer_src_as_type governs it), checked side by
            // side.
            let (len, asn) = src.map_or((0, 0), |e| (e.len, e.asn));
            if has(Primitive::SrcAs) {
                f.src_as = self.pick(f.src_as, asn, len, f.src_mask, self.asm);
            }
        }
        f.src_net = masked(f.src_ip, f.src_mask);
        let dst = t.lookup(f.dst_ip).copied();
        if self.filter && dst.is_none() && has(Primitive::DstHost) {
            f.dst_ip = unspecified(f.dst_ip);
        }
        if self.net & NEW != 0 {
            f.dst_mask = self.pick_mask(f.dst_mask, dst.as_ref());
        }
        let (len, asn, peer) = dst.map_or((0, 0, 0), |e| (e.len, e.asn, e.peer_as));
        if self.asm & NEW != 0 {
            if has(Primitive::DstAs) {
                f.dst_as = self.pick(f.dst_as, asn, len, f.dst_mask, self.asm);
            }
            if has(Primitive::PeerDstAs) {
                f.peer_dst_as = self.pick(f.peer_dst_as, peer, len, f.dst_mask, self.asm);
            }
        }
        if self.net & NEW != 0 && has(Primitive::PeerDstIp) {
            let nh = dst.map_or(IpAddr::V4(Ipv4Addr::UNSPECIFIED), |e| e.nh);
            if self.net & FALLBACK == 0 || (if self.no_lpm { len != 0 } else { len >= f.dst_mask })
            {
                f.peer_dst_ip = nh;
            }
        }
        f.dst_net = masked(f.dst_ip, f.dst_mask);
    }

    /// `search_*_nmask`: the file's mask, or under `longest` the longer one.
    fn pick_mask(&self, current: u8, e: Option<&NetEntry>) -> u8 {
        let m = e.map_or(0, |e| e.len);
        if self.net & FALLBACK == 0 || (self.filter && e.is_none()) {
            m
        } else if self.no_lpm {
            if m != 0 { m } else { current }
        } else {
            m.max(current)
        }
    }

    /// `search_*_as`: the file's value, or under `longest` only when its prefix is at least as
    /// long as the mask in use.
    fn pick(&self, current: u32, file: u32, len: u8, mask: u8, method: u32) -> u32 {
        if method & FALLBACK == 0 {
            file
        } else if self.no_lpm {
            if len != 0 { file } else { current }
        } else if len >= mask {
            file
        } else {
            current
        }
    }
}

#[cfg(test)]
#[path = "netmethod_tests.rs"]
mod tests;
