//! Value formatting shared by the print formats: protocol names, MACs, addresses, timestamps.

use std::fmt::Write as _;
use std::net::IpAddr;

use chrono::{DateTime, Local, TimeZone, Utc};

use crate::aggregate::Primitive;
use crate::record::{Counters, FlowFields};

/// pmacct 1.7's `_protocols` table (src/pmacct-data.h): names for the numbers it knows; every
/// other number below 134 is printed as its decimal string, as is anything from 134 up.
pub fn proto_name(proto: u8) -> Option<&'static str> {
    Some(match proto {
        1 => "icmp",
        2 => "igmp",
        3 => "ggp",
        4 => "ipencap",
        6 => "tcp",
        8 => "egp",
        9 => "igp",
        17 => "udp",
        18 => "mux",
        41 => "ipv6",
        43 => "ipv6-route",
        44 => "ipv6-frag",
        46 => "rsvp",
        47 => "gre",
        50 => "esp",
        51 => "ah",
        55 => "mobile",
        56 => "tlsp",
        58 => "ipv6-icmp",
        59 => "ipv6-nonxt",
        60 => "ipv6-opts",
        80 => "iso-ip",
        83 => "vines",
        88 => "eigrp",
        89 => "ospf",
        91 => "larp",
        93 => "ax.25",
        94 => "ipip",
        98 => "encap",
        102 => "pnni",
        103 => "pim",
        108 => "IPcomp",
        111 => "ipx-in-ip",
        112 => "vrrp",
        115 => "l2tp",
        124 => "isis",
        132 => "sctp",
        133 => "fc",
        _ => return None,
    })
}

/// Appends the protocol as pmacct prints it (name, else decimal).
pub fn write_proto(out: &mut String, proto: u8) {
    match proto_name(proto) {
        Some(n) => out.push_str(n),
        None => {
            let _ = write!(out, "{proto}");
        }
    }
}

/// Parses a protocol given as a pmacct name or a number.
pub fn parse_proto(s: &str) -> Option<u8> {
    s.parse::<u8>().ok().or_else(|| (0..=255u8).find(|p| proto_name(*p) == Some(s)))
}

/// Appends a MAC as pmacct's `etheraddr_string` does: lowercase, colon-separated.
pub fn write_mac(out: &mut String, mac: &[u8; 6]) {
    let _ = write!(
        out,
        "{:02x}:{:02x}:{:02x}:{:02x}:{:02x}:{:02x}",
        mac[0], mac[1], mac[2], mac[3], mac[4], mac[5]
    );
}

/// Appends an address as glibc's `inet_ntop` prints it (Rust's `Display` differs only for
/// IPv4-compatible addresses `::a.b.c.d`, which glibc prints in dotted form).
pub fn write_ip(out: &mut String, ip: &IpAddr) {
    if let IpAddr::V4(v4) = ip {
        // The common case, without `fmt` machinery (a flush prints millions of addresses).
        let [a, b, c, d] = v4.octets();
        push_dec(out, u64::from(a));
        for o in [b, c, d] {
            out.push('.');
            push_dec(out, u64::from(o));
        }
        return;
    }
    if let IpAddr::V6(v6) = ip {
        let s = v6.segments();
        if s[..6].iter().all(|w| *w == 0) && s[6] != 0 {
            let o = v6.octets();
            let _ = write!(out, "::{}.{}.{}.{}", o[12], o[13], o[14], o[15]);
            return;
        }
    }
    let _ = write!(out, "{ip}");
}

/// "000" to "999", three digits each.
const PAD3: &str = {
    const fn table() -> [u8; 3000] {
        let mut t = [0u8; 3000];
        let mut i = 0;
        while i < 1000 {
            t[3 * i] = b'0' + (i / 100) as u8;
            t[3 * i + 1] = b'0' + (i / 10 % 10) as u8;
            t[3 * i + 2] = b'0' + (i % 10) as u8;
            i += 1;
        }
        t
    }
    const BYTES: [u8; 3000] = table();
    match std::str::from_utf8(&BYTES) {
        Ok(s) => s,
        Err(_) => panic!("ASCII digits"),
    }
};

/// Appends `v` in decimal (what `write!(out, "{v}")` prints), three digits at a time from a
/// table: no `fmt` machinery, no per-digit pushes.
pub fn push_dec(out: &mut String, v: u64) {
    if v < 1000 {
        let i = v as usize * 3;
        let lead = if v < 10 {
            2
        } else if v < 100 {
            1
        } else {
            0
        };
        out.push_str(PAD3.get(i + lead..i + 3).unwrap_or_default());
        return;
    }
    push_dec(out, v / 1000);
    let i = (v % 1000) as usize * 3;
    out.push_str(PAD3.get(i..i + 3).unwrap_or_default());
}

/// How timestamps are printed (pmacct's `timestamps_utc`, `timestamps_since_epoch`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct TimestampFormat {
    /// Print in UTC instead of local time (pmacct default: false).
    pub utc: bool,
    /// Print seconds since the epoch (pmacct default: false).
    pub since_epoch: bool,
    /// `timestamps_secs`: the `timestamp_*` primitives truncated to the second (still printed
    /// with `.000000`, as pmacct 1.7.7 does).
    pub secs: bool,
}

impl TimestampFormat {
    /// pmacct's `compose_timestamp` without microseconds: `%Y-%m-%d %H:%M:%S` (local unless
    /// `utc`), `0000-00-00 00:00:00` for 0, or the decimal epoch seconds.
    pub fn format(self, secs: i64) -> String {
        if self.since_epoch {
            return secs.to_string();
        }
        if secs == 0 {
            return "0000-00-00 00:00:00".to_string();
        }
        const F: &str = "%Y-%m-%d %H:%M:%S";
        if self.utc {
            DateTime::<Utc>::from_timestamp(secs, 0)
                .map(|d| d.format(F).to_string())
                .unwrap_or_else(|| secs.to_string())
        } else {
            Local
                .timestamp_opt(secs, 0)
                .earliest()
                .map(|d| d.format(F).to_string())
                .unwrap_or_else(|| secs.to_string())
        }
    }

    /// pmacct's `compose_timestamp` with microseconds, as the `timestamp_*` primitives print:
    /// `%Y-%m-%d %H:%M:%S.%06u` (`0000-00-00 00:00:00.000000` for 0) or `secs.usecs` since the
    /// epoch. `us` is Unix microseconds.
    pub fn format_us(self, us: u64) -> String {
        let secs = (us / 1_000_000) as i64;
        // pmacct's timestamps_secs zeroes the microseconds but keeps printing them.
        let frac = if self.secs { 0 } else { us % 1_000_000 };
        if self.since_epoch {
            return format!("{secs}.{frac:06}");
        }
        format!("{}.{frac:06}", self.format(secs))
    }
}

/// Whether a primitive's JSON value is a string (else an integer).
pub fn json_is_string(p: Primitive) -> bool {
    p.is_variable_length()
        || matches!(
            p,
            Primitive::SrcMac
                | Primitive::DstMac
                | Primitive::Etype
                | Primitive::PeerSrcIp
                | Primitive::PeerDstIp
                | Primitive::SrcHost
                | Primitive::DstHost
                | Primitive::SrcNet
                | Primitive::DstNet
                | Primitive::TcpFlags
                | Primitive::Proto
                | Primitive::SamplingDirection
                | Primitive::SrcRoa
                | Primitive::DstRoa
                | Primitive::PostNatSrcHost
                | Primitive::PostNatDstHost
                | Primitive::FwdStatus
                | Primitive::Class
                | Primitive::MplsVpnRd
                | Primitive::TimestampStart
                | Primitive::TimestampEnd
                | Primitive::TimestampArrival
                | Primitive::TimestampExport
                | Primitive::TunnelSrcMac
                | Primitive::TunnelDstMac
                | Primitive::TunnelSrcHost
                | Primitive::TunnelDstHost
                | Primitive::TunnelProto
                | Primitive::SumHost
                | Primitive::SumNet
                | Primitive::SumMac
                | Primitive::SrcHostCountry
                | Primitive::DstHostCountry
                | Primitive::SrcHostPocode
                | Primitive::DstHostPocode
        )
}

/// Appends one primitive's value as pmacct prints it in CSV and formatted output (and, quoted
/// where [`json_is_string`], in JSON). `tcpflags` comes from the counters. Timestamps use
/// pmacct's defaults (local time); see [`write_value_ts`].
pub fn write_value(out: &mut String, p: Primitive, k: &FlowFields, c: &Counters) {
    write_value_ts(out, p, k, c, TimestampFormat::default());
}

/// An interned AS path or community list as pmacct prints it in CSV and JSON: the spaces
/// between members turned into `_` (`65001_65002`, `65000:1_65000:2`).
fn write_bgp_string(out: &mut String, id: u32) -> std::fmt::Result {
    let s = crate::enrich::labels::name(id);
    out.extend(s.chars().map(|c| if c == ' ' { '_' } else { c }));
    Ok(())
}

/// An address pmacct may hold at family 0 (printed as an empty string): ours is `0.0.0.0`.
fn write_unset_empty(out: &mut String, ip: &IpAddr) {
    if !ip.is_unspecified() || ip.is_ipv6() {
        write_ip(out, ip);
    }
}

/// pmacct's `sampling_direction` letter for [`FlowFields::direction`].
pub const fn direction_letter(direction: u8) -> &'static str {
    match direction {
        1 => "i",
        2 => "e",
        _ => "u",
    }
}

/// [`write_value`] with the `timestamp_*` primitives printed per `ts`.
pub fn write_value_ts(
    out: &mut String,
    p: Primitive,
    k: &FlowFields,
    c: &Counters,
    ts: TimestampFormat,
) {
    let _ = match p {
        Primitive::Tag => write!(out, "{}", k.tag),
        Primitive::Tag2 => write!(out, "{}", k.tag2),
        Primitive::Label => {
            out.push_str(&crate::enrich::labels::name(k.label));
            Ok(())
        }
        Primitive::SrcMac => {
            write_mac(out, &k.src_mac);
            Ok(())
        }
        Primitive::DstMac => {
            write_mac(out, &k.dst_mac);
            Ok(())
        }
        Primitive::Vlan => write!(out, "{}", k.vlan),
        Primitive::Cos => write!(out, "{}", k.cos),
        Primitive::Etype => write!(out, "{:x}", k.etype),
        Primitive::SrcAs => write!(out, "{}", k.src_as),
        Primitive::DstAs => write!(out, "{}", k.dst_as),
        Primitive::PeerSrcIp => {
            write_ip(out, &k.peer_src_ip);
            Ok(())
        }
        Primitive::PeerDstIp => {
            // pmacct keeps a next hop nobody set at address family 0, which `addr_to_str`
            // prints as an empty string; 0.0.0.0 is our "unset".
            write_unset_empty(out, &k.peer_dst_ip);
            Ok(())
        }
        Primitive::InIface => write!(out, "{}", k.in_iface),
        Primitive::OutIface => write!(out, "{}", k.out_iface),
        Primitive::SrcHost => {
            write_ip(out, &k.src_ip);
            Ok(())
        }
        Primitive::DstHost => {
            write_ip(out, &k.dst_ip);
            Ok(())
        }
        Primitive::SrcNet => {
            write_ip(out, &k.src_net);
            Ok(())
        }
        Primitive::DstNet => {
            write_ip(out, &k.dst_net);
            Ok(())
        }
        Primitive::SrcMask => write!(out, "{}", k.src_mask),
        Primitive::DstMask => write!(out, "{}", k.dst_mask),
        Primitive::SrcPort => write!(out, "{}", k.src_port),
        Primitive::DstPort => write!(out, "{}", k.dst_port),
        Primitive::TcpFlags => write!(out, "{}", c.tcp_flags),
        Primitive::Proto => {
            write_proto(out, k.proto);
            Ok(())
        }
        Primitive::Tos => write!(out, "{}", k.tos),
        Primitive::SrcHostCountry
        | Primitive::DstHostCountry
        | Primitive::SrcHostPocode
        | Primitive::DstHostPocode
        | Primitive::SrcHostCoords
        | Primitive::DstHostCoords => {
            super::geo::write(out, p, k);
            Ok(())
        }
        Primitive::SamplingRate => write!(out, "{}", k.sampling_rate),
        Primitive::OutVlan => write!(out, "{}", k.out_vlan),
        Primitive::LocalPref => write!(out, "{}", k.local_pref),
        Primitive::SrcLocalPref => write!(out, "{}", k.src_local_pref),
        Primitive::Med => write!(out, "{}", k.med),
        Primitive::SrcMed => write!(out, "{}", k.src_med),
        Primitive::SrcRoa => out.write_str(crate::routing::roa::roa_str(k.src_roa)),
        Primitive::DstRoa => out.write_str(crate::routing::roa::roa_str(k.dst_roa)),
        Primitive::AsPath => write_bgp_string(out, k.as_path),
        Primitive::SrcAsPath => write_bgp_string(out, k.src_as_path),
        Primitive::StdComm => write_bgp_string(out, k.std_comm),
        Primitive::ExtComm => write_bgp_string(out, k.ext_comm),
        Primitive::LrgComm => write_bgp_string(out, k.lrg_comm),
        Primitive::SrcStdComm => write_bgp_string(out, k.src_std_comm),
        Primitive::SrcExtComm => write_bgp_string(out, k.src_ext_comm),
        Primitive::SrcLrgComm => write_bgp_string(out, k.src_lrg_comm),
        Primitive::PeerSrcAs => write!(out, "{}", k.peer_src_as),
        Primitive::PeerDstAs => write!(out, "{}", k.peer_dst_as),
        Primitive::SamplingDirection => {
            out.push_str(direction_letter(k.direction));
            Ok(())
        }
        Primitive::PostNatSrcHost => {
            write_ip(out, &k.post_nat_src_ip);
            Ok(())
        }
        Primitive::PostNatDstHost => {
            write_ip(out, &k.post_nat_dst_ip);
            Ok(())
        }
        Primitive::PostNatSrcPort => write!(out, "{}", k.post_nat_src_port),
        Primitive::PostNatDstPort => write!(out, "{}", k.post_nat_dst_port),
        Primitive::NatEvent => write!(out, "{}", k.nat_event),
        Primitive::FwdStatus => write!(out, "{}", k.fwd_status),
        Primitive::Class => {
            match k.class {
                0 => out.push_str("unknown"),
                id => out.push_str(&crate::enrich::labels::name(id)),
            }
            Ok(())
        }
        Primitive::MplsVpnRd => {
            crate::record::write_rd(out, k.mpls_vpn_rd);
            Ok(())
        }
        Primitive::MplsPwId => write!(out, "{}", k.mpls_pw_id),
        Primitive::MplsLabelTop => write!(out, "{}", k.mpls_label_top),
        Primitive::MplsLabelBottom => write!(out, "{}", k.mpls_label_bottom),
        Primitive::MplsStackDepth => write!(out, "{}", k.mpls_stack_depth),
        Primitive::TunnelSrcMac => {
            write_mac(out, &k.tunnel_src_mac);
            Ok(())
        }
        Primitive::TunnelDstMac => {
            write_mac(out, &k.tunnel_dst_mac);
            Ok(())
        }
        // pmacct keeps no address (family 0) for a packet that is not tunnelled and prints it
        // empty; 0.0.0.0 is our "unset".
        Primitive::TunnelSrcHost => {
            write_unset_empty(out, &k.tunnel_src_ip);
            Ok(())
        }
        Primitive::TunnelDstHost => {
            write_unset_empty(out, &k.tunnel_dst_ip);
            Ok(())
        }
        Primitive::TunnelProto => {
            write_proto(out, k.tunnel_proto);
            Ok(())
        }
        Primitive::TunnelTos => write!(out, "{}", k.tunnel_tos),
        Primitive::TunnelSrcPort => write!(out, "{}", k.tunnel_src_port),
        Primitive::TunnelDstPort => write!(out, "{}", k.tunnel_dst_port),
        Primitive::Vxlan => write!(out, "{}", k.vni),
        Primitive::TimestampStart => {
            out.push_str(&ts.format_us(k.timestamp_start));
            Ok(())
        }
        Primitive::TimestampEnd => {
            out.push_str(&ts.format_us(k.timestamp_end));
            Ok(())
        }
        Primitive::TimestampArrival => {
            out.push_str(&ts.format_us(k.timestamp_arrival));
            Ok(())
        }
        Primitive::TimestampExport => {
            out.push_str(&ts.format_us(k.timestamp_export));
            Ok(())
        }
        Primitive::ExportProtoSeqno => write!(out, "{}", k.export_proto_seqno),
        Primitive::ExportProtoVersion => write!(out, "{}", k.export_proto_version),
        Primitive::ExportProtoSysid => write!(out, "{}", k.export_proto_sysid),
        Primitive::Flows => write!(out, "{}", c.flows),
        Primitive::SumHost => {
            write_ip(out, &k.src_ip);
            Ok(())
        }
        Primitive::SumNet => {
            write_ip(out, &k.src_net);
            Ok(())
        }
        Primitive::SumAs => write!(out, "{}", k.src_as),
        Primitive::SumPort => write!(out, "{}", k.src_port),
        Primitive::SumMac => {
            write_mac(out, &k.src_mac);
            Ok(())
        }
    };
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn protocols_and_addresses() {
        let mut s = String::new();
        for p in [0u8, 1, 6, 17, 58, 108, 133, 134, 255] {
            write_proto(&mut s, p);
            s.push(' ');
        }
        assert_eq!(s, "0 icmp tcp udp ipv6-icmp IPcomp fc 134 255 ");
        assert_eq!(parse_proto("tcp"), Some(6));
        assert_eq!(parse_proto("47"), Some(47));
        assert_eq!(parse_proto("bogus"), None);
        let mut s = String::new();
        write_mac(&mut s, &[0x02, 0xff, 0, 0, 0, 0x0a]);
        s.push(' ');
        for ip in ["2001:db8:1::414d", "::1", "::", "::1.2.3.4", "::ffff:10.0.0.1", "0.0.0.0"] {
            write_ip(&mut s, &ip.parse().unwrap());
            s.push(' ');
        }
        assert_eq!(
            s,
            "02:ff:00:00:00:0a 2001:db8:1::414d ::1 :: ::1.2.3.4 ::ffff:10.0.0.1 0.0.0.0 "
        );
    }

    #[test]
    fn timestamps() {
        let utc = TimestampFormat { utc: true, since_epoch: false, secs: false };
        assert_eq!(utc.format(1_767_225_300), "2025-12-31 23:55:00");
        assert_eq!(utc.format(0), "0000-00-00 00:00:00");
        let epoch = TimestampFormat { utc: false, since_epoch: true, secs: false };
        assert_eq!(epoch.format(1_767_225_300), "1767225300");
        assert_eq!(utc.format_us(1_767_225_300_000_042), "2025-12-31 23:55:00.000042");
        assert_eq!(utc.format_us(0), "0000-00-00 00:00:00.000000");
        assert_eq!(epoch.format_us(1_767_225_300_123_456), "1767225300.123456");
    }

    #[test]
    fn new_primitives() {
        let k = FlowFields {
            direction: 2,
            post_nat_src_ip: "10.1.1.1".parse().unwrap(),
            mpls_label_top: 16001,
            export_proto_version: 10,
            timestamp_start: 1_000_000,
            ..Default::default()
        };
        let c = Counters::default();
        let ts = TimestampFormat { utc: true, since_epoch: false, secs: false };
        let mut s = String::new();
        for p in [
            Primitive::SamplingDirection,
            Primitive::PostNatSrcHost,
            Primitive::PostNatDstHost,
            Primitive::MplsLabelTop,
            Primitive::ExportProtoVersion,
            Primitive::TimestampStart,
        ] {
            write_value_ts(&mut s, p, &k, &c, ts);
            s.push(',');
        }
        assert_eq!(s, "e,10.1.1.1,0.0.0.0,16001,10,1970-01-01 00:00:01.000000,");
        assert_eq!(direction_letter(0), "u");
    }

    #[test]
    fn fast_integers_and_ipv4_print_like_display() {
        for v in [0u64, 7, 9, 10, 99, 100, 999, 1000, 1001, 10_010, 65535, 1 << 32, u64::MAX] {
            let mut s = String::from("x");
            push_dec(&mut s, v);
            assert_eq!(s, format!("x{v}"));
        }
        for ip in ["0.0.0.0", "10.0.0.1", "255.255.255.255", "192.168.100.9"] {
            let ip: IpAddr = ip.parse().unwrap();
            let mut s = String::new();
            write_ip(&mut s, &ip);
            assert_eq!(s, ip.to_string());
        }
    }
}
