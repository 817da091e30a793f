//! The columns a print plugin writes, in pmacct 1.7's order: the aggregate's primitives, a
//! `sum_*` primitive in its `src_` column, `timestamp_min` / `timestamp_max` after
//! `timestamp_arrival` when stitching is on, the custom primitives (`aggregate_primitives`) last
//! in `aggregate` order; `flows` is a counter, not a column. A `*_host_coords` primitive is two
//! columns, latitude then longitude. JSON puts the GeoIP keys after `port_dst` (pmacct's
//! `compose_json` order), the other outputs after `TOS`.

use std::borrow::Cow;

use super::value::{TimestampFormat, json_is_string, write_value_ts};
use crate::aggregate::{Primitive, PrimitiveSet};
use crate::record::{Counters, FlowFields};

/// One printed column.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Column {
    Prim(Primitive),
    /// The longitude of `src_host_coords` / `dst_host_coords` (the primitive's own column is
    /// the latitude).
    Lon(Primitive),
    /// `timestamp_min`: start of the first flow of the aggregate (stitching).
    StampMin,
    /// `timestamp_max`: end of the last flow of the aggregate (stitching).
    StampMax,
    /// A custom primitive: its index in [`crate::aggregate::custom`]'s registry.
    Custom(usize),
}

/// Sort key of a column: declaration order, a `sum_*` at its `src_` primitive, the stitching
/// stamps right after `timestamp_arrival`.
fn rank(c: Column) -> u16 {
    let at = |p: Primitive| u16::from(p as u8) * 4;
    match c {
        Column::Lon(p) => at(p) + 1,
        Column::Prim(Primitive::SumHost) => at(Primitive::SrcHost),
        Column::Prim(Primitive::SumNet) => at(Primitive::SrcNet),
        Column::Prim(Primitive::SumAs) => at(Primitive::SrcAs),
        Column::Prim(Primitive::SumPort) => at(Primitive::SrcPort),
        Column::Prim(Primitive::SumMac) => at(Primitive::SrcMac),
        Column::Prim(p) => at(p),
        Column::StampMin => at(Primitive::TimestampExport) + 1,
        Column::StampMax => at(Primitive::TimestampExport) + 2,
        Column::Custom(_) => u16::MAX,
    }
}

/// pmacct 1.7.7's JSON key order (`compose_json`'s handler order, plugin_cmn_json.c), which
/// differs from the CSV column order for the source-side BGP primitives (after `peer_ip_dst`),
/// the GeoIP ones (after `port_dst`) and `timestamp_export` (after `export_proto_sysid`).
/// `out_vlan` and `fwd_status`, which 1.7.7 does not have, sit by their CSV neighbours.
const JSON_ORDER: &[Primitive] = {
    use Primitive::*;
    &[
        Tag,
        Tag2,
        Label,
        Class,
        SrcMac,
        DstMac,
        Vlan,
        OutVlan,
        Cos,
        Etype,
        SrcAs,
        DstAs,
        StdComm,
        ExtComm,
        LrgComm,
        AsPath,
        LocalPref,
        Med,
        DstRoa,
        PeerSrcAs,
        PeerDstAs,
        PeerSrcIp,
        PeerDstIp,
        SrcStdComm,
        SrcExtComm,
        SrcLrgComm,
        SrcAsPath,
        SrcLocalPref,
        SrcMed,
        SrcRoa,
        InIface,
        OutIface,
        MplsVpnRd,
        MplsPwId,
        SrcHost,
        SrcNet,
        DstHost,
        DstNet,
        SrcMask,
        DstMask,
        SrcPort,
        DstPort,
        SrcHostCountry,
        DstHostCountry,
        SrcHostPocode,
        DstHostPocode,
        SrcHostCoords,
        DstHostCoords,
        TcpFlags,
        Proto,
        Tos,
        SamplingRate,
        SamplingDirection,
        PostNatSrcHost,
        PostNatDstHost,
        PostNatSrcPort,
        PostNatDstPort,
        NatEvent,
        FwdStatus,
        MplsLabelTop,
        MplsLabelBottom,
        MplsStackDepth,
        TunnelSrcMac,
        TunnelDstMac,
        TunnelSrcHost,
        TunnelDstHost,
        TunnelProto,
        TunnelTos,
        TunnelSrcPort,
        TunnelDstPort,
        Vxlan,
        TimestampStart,
        TimestampEnd,
        TimestampArrival,
        ExportProtoSeqno,
        ExportProtoVersion,
        ExportProtoSysid,
        TimestampExport,
    ]
};

/// Sort key of a column in JSON: its place in [`JSON_ORDER`] (a `sum_*` at its `src_`
/// primitive, the stitching stamps right after `timestamp_arrival`, custom primitives last).
fn json_rank(c: Column) -> u32 {
    let at = |p: Primitive| {
        let p = match p {
            Primitive::SumHost => Primitive::SrcHost,
            Primitive::SumNet => Primitive::SrcNet,
            Primitive::SumAs => Primitive::SrcAs,
            Primitive::SumPort => Primitive::SrcPort,
            Primitive::SumMac => Primitive::SrcMac,
            p => p,
        };
        // Unlisted (none today): after everything listed, in CSV order.
        let i = JSON_ORDER.iter().position(|q| *q == p).unwrap_or(JSON_ORDER.len() + p as usize);
        i as u32 * 4
    };
    match c {
        Column::Prim(p) => at(p),
        Column::Lon(p) => at(p) + 1,
        Column::StampMin => at(Primitive::TimestampArrival) + 1,
        Column::StampMax => at(Primitive::TimestampArrival) + 2,
        Column::Custom(_) => u32::MAX,
    }
}

/// A plugin's columns and whether it prints the `flows` counter.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Columns {
    pub cols: Vec<Column>,
    pub flows: bool,
    /// `cols` in JSON order.
    pub json: Vec<Column>,
}

impl Columns {
    /// The columns of `set`, with the stitching stamps when `stitching`.
    pub fn new(set: PrimitiveSet, stitching: bool) -> Columns {
        let mut cols: Vec<Column> =
            set.iter().filter(|p| *p != Primitive::Flows).map(Column::Prim).collect();
        for p in [Primitive::SrcHostCoords, Primitive::DstHostCoords] {
            if set.contains(p) {
                cols.push(Column::Lon(p));
            }
        }
        if stitching {
            cols.extend([Column::StampMin, Column::StampMax]);
        }
        cols.sort_by_key(|c| rank(*c));
        let mut json = cols.clone();
        json.sort_by_key(|c| json_rank(*c));
        Columns { cols, flows: set.contains(Primitive::Flows), json }
    }

    /// These columns and the custom primitives `custom` (registry indices), in that order.
    pub fn with_custom(mut self, custom: &[usize]) -> Columns {
        self.cols.extend(custom.iter().map(|i| Column::Custom(*i)));
        self.json.extend(custom.iter().map(|i| Column::Custom(*i)));
        self
    }

    /// The columns without `label` (pmacct 1.7's formatted output has none).
    pub fn without_label(&self) -> impl Iterator<Item = Column> + '_ {
        self.cols.iter().copied().filter(|c| *c != Column::Prim(Primitive::Label))
    }
}

impl Column {
    /// CSV / formatted header (a custom primitive's name as defined, as pmacct prints it).
    pub fn header(self) -> Cow<'static, str> {
        match self {
            Column::Prim(p) => Cow::Borrowed(p.header()),
            Column::Lon(Primitive::DstHostCoords) => Cow::Borrowed("DH_LON"),
            Column::Lon(_) => Cow::Borrowed("SH_LON"),
            Column::StampMin => Cow::Borrowed("TIMESTAMP_MIN"),
            Column::StampMax => Cow::Borrowed("TIMESTAMP_MAX"),
            Column::Custom(i) => Cow::Owned(custom_name(i)),
        }
    }

    /// JSON key.
    pub fn json_key(self) -> Cow<'static, str> {
        match self {
            Column::Prim(p) => Cow::Borrowed(p.json_key()),
            Column::Lon(Primitive::DstHostCoords) => Cow::Borrowed("lon_ip_dst"),
            Column::Lon(_) => Cow::Borrowed("lon_ip_src"),
            Column::StampMin => Cow::Borrowed("timestamp_min"),
            Column::StampMax => Cow::Borrowed("timestamp_max"),
            Column::Custom(i) => Cow::Owned(custom_name(i)),
        }
    }

    /// Whether the JSON value is a string (custom primitives always are, in pmacct).
    pub fn json_is_string(self) -> bool {
        match self {
            Column::Prim(p) => json_is_string(p),
            Column::Lon(_) => false,
            Column::StampMin | Column::StampMax | Column::Custom(_) => true,
        }
    }

    /// `tunnel_src_host` / `tunnel_dst_host`, whose unset value prints empty.
    pub fn is_tunnel_host(self) -> bool {
        matches!(self, Column::Prim(Primitive::TunnelSrcHost | Primitive::TunnelDstHost))
    }

    /// Appends the value as pmacct prints it.
    pub fn write(self, out: &mut String, k: &FlowFields, c: &Counters, ts: TimestampFormat) {
        match self {
            Column::Prim(p) => write_value_ts(out, p, k, c, ts),
            Column::Lon(p) => out.push_str(&super::geo::c_f(super::geo::coord(p, k, true))),
            // pmacct's compose_timestamp with microseconds, like the timestamp_* primitives.
            Column::StampMin => out.push_str(&ts.format_us(c.first_us)),
            Column::StampMax => out.push_str(&ts.format_us(c.last_us)),
            Column::Custom(i) => {
                let defs = crate::aggregate::custom::defined();
                let vals = crate::aggregate::custom::values(k.custom);
                if let Some(d) = defs.get(i) {
                    d.write(out, vals.get(i).and_then(|v| v.as_deref()));
                }
            }
        }
    }

    /// Appends the value as pmacct's JSON has it (before quoting): as [`Column::write`],
    /// except coordinates, which are jansson reals there.
    pub fn write_json(self, out: &mut String, k: &FlowFields, c: &Counters, ts: TimestampFormat) {
        match self {
            Column::Prim(p @ (Primitive::SrcHostCoords | Primitive::DstHostCoords))
            | Column::Lon(p) => {
                let lon = matches!(self, Column::Lon(_));
                out.push_str(
                    &super::geo::json_real(super::geo::coord(p, k, lon)).unwrap_or_default(),
                );
            }
            _ => self.write(out, k, c, ts),
        }
    }

    /// True when pmacct's JSON leaves this column out for key `k` (a custom string that is not
    /// valid UTF-8, a coordinate jansson cannot encode).
    pub fn json_omitted(self, k: &FlowFields) -> bool {
        match self {
            Column::Prim(p @ (Primitive::SrcHostCoords | Primitive::DstHostCoords))
            | Column::Lon(p) => {
                let lon = matches!(self, Column::Lon(_));
                return !super::geo::coord(p, k, lon).is_finite();
            }
            _ => {}
        }
        let Column::Custom(i) = self else { return false };
        let vals = crate::aggregate::custom::values(k.custom);
        crate::aggregate::custom::defined()
            .get(i)
            .is_some_and(|d| d.json_invalid(vals.get(i).and_then(|v| v.as_deref())))
    }

    /// `(value width, spaces after)` in formatted output.
    pub fn formatted_width(self) -> (usize, usize) {
        match self {
            Column::Prim(p) => super::formatted::column(p),
            Column::Lon(p) => super::formatted::column(p),
            Column::StampMin | Column::StampMax => (30, 1),
            Column::Custom(i) => (
                crate::aggregate::custom::defined().get(i).map_or(0, |d| d.formatted_value_width()),
                2,
            ),
        }
    }

    /// Width of the formatted header cell.
    pub fn header_width(self) -> usize {
        match self {
            Column::Prim(p) | Column::Lon(p) => super::formatted::header_width(p),
            Column::StampMin | Column::StampMax => 31,
            Column::Custom(i) => custom_width(i) + 2,
        }
    }
}

fn custom_name(i: usize) -> String {
    crate::aggregate::custom::defined().get(i).map(|d| d.name.clone()).unwrap_or_default()
}

fn custom_width(i: usize) -> usize {
    crate::aggregate::custom::defined().get(i).map_or(0, |d| d.formatted_width())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn order_follows_pmacct() {
        let set = PrimitiveSet::parse(
            "export_proto_seqno, timestamp_start, sum_host, tag, flows, timestamp_arrival",
        )
        .unwrap();
        let c = Columns::new(set, true);
        let names: Vec<_> = c.cols.iter().map(|c| c.header()).collect();
        assert_eq!(
            names,
            [
                "TAG",
                "SRC_IP",
                "TIMESTAMP_START",
                "TIMESTAMP_ARRIVAL",
                "TIMESTAMP_MIN",
                "TIMESTAMP_MAX",
                "EXPORT_PROTO_SEQNO"
            ]
        );
        assert!(c.flows);
    }

    #[test]
    fn json_keys_follow_pmacct_compose_json() {
        let set = PrimitiveSet::parse(
            "src_std_comm, std_comm, src_med, peer_dst_ip, in_iface, timestamp_export, \
             export_proto_sysid, timestamp_arrival, as_path, src_as_path",
        )
        .unwrap();
        let c = Columns::new(set, true);
        let keys: Vec<_> = c.json.iter().map(|c| c.json_key()).collect();
        assert_eq!(
            keys,
            [
                "comms",
                "as_path",
                "peer_ip_dst",
                "comms_src",
                "as_path_src",
                "med_src",
                "iface_in",
                "timestamp_arrival",
                "timestamp_min",
                "timestamp_max",
                "export_proto_sysid",
                "timestamp_export"
            ]
        );
        // Every key primitive has its JSON place.
        for p in Primitive::ALL {
            let derived = matches!(
                p,
                Primitive::Flows
                    | Primitive::SumHost
                    | Primitive::SumNet
                    | Primitive::SumAs
                    | Primitive::SumPort
                    | Primitive::SumMac
            );
            assert!(derived || JSON_ORDER.contains(p), "{p:?} missing from JSON_ORDER");
        }
    }

    #[test]
    fn geoip_columns_follow_pmacct() {
        let set = PrimitiveSet::parse(
            "dst_host_coords, src_host_pocode, proto, dst_port, src_host_country, tos, \
             sampling_rate, src_host_coords, dst_host_country, dst_host_pocode",
        )
        .unwrap();
        let c = Columns::new(set, false);
        let names: Vec<_> = c.cols.iter().map(|c| c.header()).collect();
        assert_eq!(
            names,
            [
                "DST_PORT",
                "PROTOCOL",
                "TOS",
                "SH_COUNTRY",
                "DH_COUNTRY",
                "SH_POCODE",
                "DH_POCODE",
                "SH_LAT",
                "SH_LON",
                "DH_LAT",
                "DH_LON",
                "SAMPLING_RATE"
            ]
        );
        let keys: Vec<_> = c.json.iter().map(|c| c.json_key()).collect();
        assert_eq!(
            keys,
            [
                "port_dst",
                "country_ip_src",
                "country_ip_dst",
                "pocode_ip_src",
                "pocode_ip_dst",
                "lat_ip_src",
                "lon_ip_src",
                "lat_ip_dst",
                "lon_ip_dst",
                "ip_proto",
                "tos",
                "sampling_rate"
            ]
        );
    }
}
