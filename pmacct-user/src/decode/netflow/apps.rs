//! What options data announces besides sampling, and how data records use it, as nfacctd 1.7.7
//! does (`src/nfacctd.c` options processing, `NF_process_classifiers`,
//! `NF_mpls_vpn_id_handler`, `NF_mpls_vpn_rd_handler`, `NF_mpls_pw_id_handler`):
//! - application names (IE 95 applicationId + 96 applicationName) for the `class` primitive;
//! - VRF id → route distinguisher maps (IE 234/235 + 90) for `mpls_vpn_rd`.
//!
//! Tables live per (exporter, domain) and per exporter (options whose scope is the system,
//! pmacct's global entry). Data records look application ids up in their domain's table, then in
//! the exporter's; VRF ids only in the exporter's (as pmacct).

use rustc_hash::FxHashMap;

use super::fields::{Slot, View};
use crate::record::{FlowFields, RD_TYPE_VRFID, rd_from_wire};

/// pmacct keeps application names up to `MAX_PROTOCOL_LEN - 1` bytes.
const MAX_NAME: usize = 31;

/// Options-announced tables of one scope.
#[derive(Debug, Default)]
pub struct OptionTables {
    /// Application id (the bytes after the classification engine id, as pmacct keys them) →
    /// interned application name.
    classes: FxHashMap<u32, u32>,
    /// Ingress and egress VRF id → route distinguisher; absent until the first announcement
    /// (pmacct then keeps bare VRF ids as `vrfid:N`).
    rd_maps: Option<(FxHashMap<u32, u64>, FxHashMap<u32, u64>)>,
}

/// Whether an options record speaks for the whole exporter: its template has pmacct's
/// `NF9_OPT_SCOPE_SYSTEM` element (id 1, the v9 System scope).
pub fn system_scope(v: &View<'_>) -> bool {
    v.get(Slot::IN_BYTES).is_some()
}

/// The application id as pmacct keys it: the 1, 2 or 4 bytes after the engine id, copied
/// into a 32-bit word as they are (its `memcpy` into a `pm_class_t`).
fn app_id(v: &View<'_>) -> Option<u32> {
    let b = v.get(Slot::APPLICATION_ID).filter(|b| matches!(b.len(), 2 | 3 | 5))?;
    let mut w = [0u8; 4];
    w[..b.len() - 1].copy_from_slice(&b[1..]);
    Some(u32::from_le_bytes(w))
}

/// A VRF id field as pmacct reads it: up to 4 bytes into a network-order word.
fn vrf_id(v: &View<'_>, s: Slot) -> u32 {
    let mut w = [0u8; 4];
    if let Some(b) = v.get(s) {
        let n = b.len().min(4);
        w[..n].copy_from_slice(&b[..n]);
    }
    u32::from_be_bytes(w)
}

impl OptionTables {
    /// Learns what an options data record announces (sampling is handled elsewhere).
    pub fn learn(&mut self, v: &View<'_>) {
        if let (Some(id), Some(name)) = (app_id(v), v.get(Slot::APPLICATION_NAME))
            && !name.is_empty()
        {
            let name = &name[..name.len().min(MAX_NAME)];
            let name = name.split(|b| *b == 0).next().unwrap_or_default();
            let name = String::from_utf8_lossy(name);
            self.classes.insert(id, crate::enrich::labels::intern(&name));
        }
        if let (Some(4), Some(rd)) = (
            v.get(Slot::INGRESS_VRFID).map(<[u8]>::len),
            v.get(Slot::MPLS_VPN_RD).and_then(|b| <[u8; 8]>::try_from(b).ok()),
        ) {
            let (ingress, egress) = (vrf_id(v, Slot::INGRESS_VRFID), vrf_id(v, Slot::EGRESS_VRFID));
            let (in_map, out_map) = self.rd_maps.get_or_insert_with(Default::default);
            // pmacct's map insert keeps the first value of a key.
            if ingress != 0 {
                in_map.entry(ingress).or_insert(rd_from_wire(rd));
            }
            if egress != 0 {
                out_map.entry(egress).or_insert(rd_from_wire(rd));
            }
        }
    }
}

/// Fills `class`, `mpls_vpn_rd` and `mpls_pw_id` of a data record from its fields and the
/// tables of its domain and exporter.
pub fn resolve(v: &View<'_>, domain: &OptionTables, global: &OptionTables, f: &mut FlowFields) {
    if let Some(id) = app_id(v) {
        f.class = domain.classes.get(&id).or_else(|| global.classes.get(&id)).copied().unwrap_or(0);
    }
    f.mpls_vpn_rd = vpn_rd(v, global);
    if let Some(b) = v.get(Slot::PSEUDOWIREID).filter(|b| b.len() >= 4) {
        f.mpls_pw_id = u32::from_be_bytes([b[0], b[1], b[2], b[3]]);
    }
}

/// `NF_mpls_vpn_id_handler` then `NF_mpls_vpn_rd_handler`.
fn vpn_rd(v: &View<'_>, global: &OptionTables) -> u64 {
    let direction = v.get(Slot::DIRECTION).and_then(|b| b.first().copied()).unwrap_or(0);
    let (ingress, egress) = (vrf_id(v, Slot::INGRESS_VRFID), vrf_id(v, Slot::EGRESS_VRFID));
    let bare = |id: u32| (u64::from(RD_TYPE_VRFID) << 48) | u64::from(id);
    let mut rd = 0u64;
    if ingress != 0 && (direction == 0 || egress == 0) {
        match &global.rd_maps {
            Some((in_map, _)) => rd = in_map.get(&ingress).copied().unwrap_or(rd),
            None => rd = bare(ingress),
        }
    }
    if egress != 0 && (direction == 1 || ingress == 0) {
        match &global.rd_maps {
            Some((_, out_map)) => rd = out_map.get(&egress).copied().unwrap_or(rd),
            None => rd = bare(egress),
        }
    }
    // The RD element counts only while the value part (pmacct's `rd.val`) is still zero.
    if rd & 0xffff_ffff == 0
        && let Some(b) = v.get(Slot::MPLS_VPN_RD).filter(|b| !b.is_empty())
    {
        let mut w = [0u8; 8];
        let n = b.len().min(8);
        w[..n].copy_from_slice(&b[..n]);
        rd = rd_from_wire(w);
    }
    rd
}

/// Whether a template has an element only [`resolve`] reads (such templates take the generic
/// decoding path, which has the tables at hand).
pub fn needs_tables(slots: &[u16]) -> bool {
    [
        Slot::APPLICATION_ID,
        Slot::INGRESS_VRFID,
        Slot::EGRESS_VRFID,
        Slot::MPLS_VPN_RD,
        Slot::PSEUDOWIREID,
    ]
    .iter()
    .any(|s| slots.get(*s as usize).is_some_and(|i| *i != u16::MAX))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::decode::netflow::template::{FieldSpec, Template};

    fn tpl(fields: &[(u16, u16)], options: bool) -> Template {
        let f = fields.iter().map(|(id, len)| FieldSpec { id: *id, pen: 0, len: *len }).collect();
        Template::new(f, u16::from(options), options)
    }

    fn view<'a>(t: &'a Template, data: &'a [u8]) -> View<'a> {
        View { data, tpl: t, locs: &t.fixed.as_ref().unwrap().0 }
    }

    fn resolved(
        t: &Template,
        data: &[u8],
        dom: &OptionTables,
        global: &OptionTables,
    ) -> FlowFields {
        let mut f = FlowFields::default();
        resolve(&view(t, data), dom, global, &mut f);
        f
    }

    #[test]
    fn application_names_by_domain_then_exporter() {
        let opt = tpl(&[(95, 3), (96, 8)], true);
        let (mut dom, mut global) = (OptionTables::default(), OptionTables::default());
        dom.learn(&view(&opt, &[3, 0, 80, b'h', b't', b't', b'p', 0, 0, 0, 0]));
        global.learn(&view(&opt, &[3, 1, 187, b'h', b't', b't', b'p', b's', 0, 0, 0]));
        let data = tpl(&[(8, 4), (95, 3)], false);
        assert!(needs_tables(&data.slots));
        let name = |f: FlowFields| crate::enrich::labels::name(f.class).to_string();
        assert_eq!(name(resolved(&data, &[10, 0, 0, 1, 3, 0, 80], &dom, &global)), "http");
        assert_eq!(name(resolved(&data, &[10, 0, 0, 1, 3, 1, 187], &dom, &global)), "https");
        assert_eq!(resolved(&data, &[10, 0, 0, 1, 3, 0, 81], &dom, &global).class, 0);
        // Lengths other than 2, 3 and 5 are not application ids to pmacct.
        let odd = tpl(&[(95, 4)], false);
        assert_eq!(resolved(&odd, &[3, 0, 0, 80], &dom, &global).class, 0);
    }

    #[test]
    fn route_distinguishers_from_vrf_ids_and_the_rd_element() {
        let show = |rd: u64| {
            let mut s = String::new();
            crate::record::write_rd(&mut s, rd);
            s
        };
        let (dom, mut global) = (OptionTables::default(), OptionTables::default());
        let data = tpl(&[(234, 4), (235, 4), (61, 1)], false);
        // No map announced yet: the bare VRF id.
        let f = resolved(&data, &[0, 0, 0, 7, 0, 0, 0, 0, 0], &dom, &global);
        assert_eq!(show(f.mpls_vpn_rd), "vrfid:7");
        let opt = tpl(&[(1, 4), (234, 4), (90, 8)], true);
        global.learn(&view(&opt, &[0, 0, 0, 0, 0, 0, 0, 7, 0, 0, 0xfd, 0xe8, 0, 0, 0, 5]));
        global.learn(&view(&opt, &[0, 0, 0, 0, 0, 0, 0, 7, 0, 0, 0xfd, 0xe8, 0, 0, 0, 6]));
        let f = resolved(&data, &[0, 0, 0, 7, 0, 0, 0, 0, 0], &dom, &global);
        assert_eq!(show(f.mpls_vpn_rd), "0:65000:5", "the first announcement stays");
        // Egress lookups use the egress map, which this announcement did not fill.
        let f = resolved(&data, &[0, 0, 0, 0, 0, 0, 0, 7, 1], &dom, &global);
        assert_eq!(f.mpls_vpn_rd, 0);
        let with_rd = tpl(&[(90, 8), (249, 4)], false);
        let f = resolved(&with_rd, &[0, 1, 192, 0, 2, 1, 0, 9, 0, 0, 1, 0], &dom, &global);
        assert_eq!((show(f.mpls_vpn_rd).as_str(), f.mpls_pw_id), ("1:192.0.2.1:9", 256));
    }
}
