//! Flow samples (0:1 compact, 0:3 expanded) and their flow records, read into a [`FlowState`]
//! the way sfacctd 1.7.7's `readv5FlowSample` fills an `SFSample` (src/sflow.c), then turned
//! into a [`FlowRecord`] as its `SF_*_handler`s do (src/pkt_handlers.c).

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use super::SflowError;
use super::extended::{self, ExtendedGateway};
use super::header;
use super::reader::Reader;
use crate::record::{Counters, FlowFields, FlowRecord};

/// Flow record types (enterprise 0 unless noted).
const REC_HEADER: u32 = 1;
const REC_ETHERNET: u32 = 2;
const REC_IPV4: u32 = 3;
const REC_IPV6: u32 = 4;
const REC_SWITCH: u32 = 1001;
const REC_ROUTER: u32 = 1002;
const REC_GATEWAY: u32 = 1003;
const REC_USER: u32 = 1004;
const REC_URL: u32 = 1005;
const REC_MPLS: u32 = 1006;
/// pmacct's own tag record (enterprise 43874, format 2): `tag`, `tag2` as 64-bit values.
const REC_PMACCT_TAG: u32 = (43874 << 12) + 2;

const IPPROTO_TCP: u8 = 6;
const IPPROTO_UDP: u8 = 17;

/// Everything one flow sample says, as sfacctd keeps it in an `SFSample`.
#[derive(Clone, Debug, Default)]
pub(super) struct FlowState {
    /// Flow sample sequence number (`samplesGenerated`).
    pub seq: u32,
    pub ds_class: u32,
    pub ds_index: u32,
    /// `sampling_rate` (pmacct `meanSkipCount`).
    pub sampling_rate: u32,
    pub sample_pool: u32,
    pub drops: u32,
    /// Input/output interface as pmacct keeps it: compact samples keep the 2 format bits
    /// (0x3FFFFFFF = internal, 0x4000_0000 | reason = discarded, 0x8000_0000 | n = multiple);
    /// expanded samples carry the format apart ([`FlowState::input_format`]).
    pub input: u32,
    pub output: u32,
    pub input_format: u32,
    pub output_format: u32,
    /// `frame_length` of the header record, or the sampled IPv4/IPv6 length (pmacct's
    /// `sampledPacketSize`): the bytes a sample counts.
    pub frame_length: u32,
    pub stripped: u32,
    pub eth_src: [u8; 6],
    pub eth_dst: [u8; 6],
    pub eth_type: u32,
    pub in_vlan: u32,
    pub out_vlan: u32,
    pub in_priority: u32,
    pub out_priority: u32,
    pub got_v4: bool,
    pub got_v6: bool,
    pub src_v4: [u8; 4],
    pub dst_v4: [u8; 4],
    pub src_v6: [u8; 16],
    pub dst_v6: [u8; 16],
    pub proto: u8,
    pub tos: u8,
    pub src_port: u16,
    pub dst_port: u16,
    pub tcp_flags: u8,
    pub src_mask: u32,
    pub dst_mask: u32,
    /// Extended router next hop.
    pub next_hop: Option<IpAddr>,
    pub gateway: Option<ExtendedGateway>,
    pub mpls_top: u32,
    pub mpls_bottom: u32,
    pub mpls_depth: u8,
    pub tag: u64,
    pub tag2: u64,
    /// Records skipped as unknown (counted per agent).
    pub unknown_records: u32,
    /// The tunnelled packet of a sampled header (pmacct's `sppi` and `vni`).
    pub tunnel: header::Tunnel,
    /// This state is a tunnel's inner packet: pmacct's `sppi` has no `sppi` of its own, so
    /// tunnels are followed one level deep.
    pub inner: bool,
}

fn truncated(what: &'static str) -> SflowError {
    SflowError::Truncated { what }
}

/// Reads one flow sample body (after the sample's tag and length) into `st`.
pub(super) fn read_flow_sample(
    r: &mut Reader<'_>,
    expanded: bool,
    keep_gateway: bool,
    st: &mut FlowState,
) -> Result<(), SflowError> {
    let t = || truncated("flow sample header");
    st.seq = r.u32().ok_or_else(t)?;
    if expanded {
        st.ds_class = r.u32().ok_or_else(t)?;
        st.ds_index = r.u32().ok_or_else(t)?;
    } else {
        let id = r.u32().ok_or_else(t)?;
        st.ds_class = id >> 24;
        st.ds_index = id & 0x00FF_FFFF;
    }
    st.sampling_rate = r.u32().ok_or_else(t)?;
    st.sample_pool = r.u32().ok_or_else(t)?;
    st.drops = r.u32().ok_or_else(t)?;
    if expanded {
        st.input_format = r.u32().ok_or_else(t)?;
        st.input = r.u32().ok_or_else(t)?;
        st.output_format = r.u32().ok_or_else(t)?;
        st.output = r.u32().ok_or_else(t)?;
    } else {
        // pmacct keeps the format bits in the value ("skip 0x3fffffff mask").
        st.input = r.u32().ok_or_else(t)?;
        st.output = r.u32().ok_or_else(t)?;
        st.input_format = st.input >> 30;
        st.output_format = st.output >> 30;
    }
    let n = r.u32().ok_or_else(t)?;
    for _ in 0..n {
        let tag = r.u32().ok_or_else(|| truncated("flow record tag"))?;
        let len = r.u32().ok_or_else(|| truncated("flow record length"))?;
        let len = usize::try_from(len).map_err(|_| truncated("flow record"))?;
        let mut body = r.sub(len).ok_or_else(|| truncated("flow record"))?;
        let known = read_record(tag, &mut body, keep_gateway, st)?;
        if !known {
            st.unknown_records += 1;
        } else if body.remaining() != 0 {
            // pmacct's lengthCheck: a record whose size disagrees with its type drops the sample.
            return Err(SflowError::LengthMismatch { tag, declared: len, parsed: body.pos() });
        }
    }
    Ok(())
}

/// Reads one flow record; `false` for a type skipped by length.
fn read_record(
    tag: u32,
    r: &mut Reader<'_>,
    keep_gateway: bool,
    st: &mut FlowState,
) -> Result<bool, SflowError> {
    match tag {
        REC_HEADER => {
            let t = || truncated("sampled header record");
            let protocol = r.u32().ok_or_else(t)?;
            st.frame_length = r.u32().ok_or_else(t)?;
            st.stripped = r.u32().ok_or_else(t)?;
            let hlen = usize::try_from(r.u32().ok_or_else(t)?).map_err(|_| t())?;
            let hdr = r.opaque(hlen).ok_or_else(t)?;
            header::decode_header(protocol, hdr, st);
        }
        REC_ETHERNET => {
            let t = || truncated("sampled Ethernet record");
            let len = r.u32().ok_or_else(t)?;
            st.eth_src = mac(r.opaque(6).ok_or_else(t)?);
            st.eth_dst = mac(r.opaque(6).ok_or_else(t)?);
            st.eth_type = r.u32().ok_or_else(t)?;
            if st.eth_type == u32::from(header::ETHERTYPE_IPV4) {
                st.got_v4 = true;
            } else if st.eth_type == u32::from(header::ETHERTYPE_IPV6) {
                st.got_v6 = true;
            }
            // Overwritten by a later sampled IPv4/IPv6 record, as in pmacct.
            if st.frame_length == 0 {
                st.frame_length = len;
            }
        }
        REC_IPV4 => {
            let t = || truncated("sampled IPv4 record");
            st.frame_length = r.u32().ok_or_else(t)?;
            st.proto = r.u32().ok_or_else(t)? as u8;
            st.src_v4 = r.u32().ok_or_else(t)?.to_be_bytes();
            st.dst_v4 = r.u32().ok_or_else(t)?.to_be_bytes();
            st.src_port = r.u32().ok_or_else(t)? as u16;
            st.dst_port = r.u32().ok_or_else(t)? as u16;
            r.u32().ok_or_else(t)?; // tcp_flags: not read by sfacctd 1.7.7
            st.tos = r.u32().ok_or_else(t)? as u8;
            st.got_v4 = true;
        }
        REC_IPV6 => {
            let t = || truncated("sampled IPv6 record");
            st.frame_length = r.u32().ok_or_else(t)?;
            st.proto = r.u32().ok_or_else(t)? as u8;
            st.src_v6 = v6(r.bytes(16).ok_or_else(t)?);
            st.dst_v6 = v6(r.bytes(16).ok_or_else(t)?);
            st.src_port = r.u32().ok_or_else(t)? as u16;
            st.dst_port = r.u32().ok_or_else(t)? as u16;
            r.u32().ok_or_else(t)?; // tcp_flags: not read by sfacctd 1.7.7
            st.tos = r.u32().ok_or_else(t)? as u8;
            st.got_v6 = true;
        }
        REC_SWITCH => {
            let t = || truncated("extended switch record");
            st.in_vlan = r.u32().ok_or_else(t)?;
            st.in_priority = r.u32().ok_or_else(t)?;
            st.out_vlan = r.u32().ok_or_else(t)?;
            st.out_priority = r.u32().ok_or_else(t)?;
        }
        REC_ROUTER => {
            let t = || truncated("extended router record");
            st.next_hop = extended::address(r)?;
            st.src_mask = r.u32().ok_or_else(t)?;
            st.dst_mask = r.u32().ok_or_else(t)?;
        }
        REC_GATEWAY => {
            let gw = extended::read_gateway(r, keep_gateway)?;
            st.gateway = Some(gw);
        }
        REC_USER | REC_URL => extended::skip_strings(tag == REC_USER, r)?,
        REC_MPLS => extended::read_mpls(r, st)?,
        REC_PMACCT_TAG => {
            let t = || truncated("pmacct tag record");
            st.tag = r.u64().ok_or_else(t)?;
            st.tag2 = r.u64().ok_or_else(t)?;
        }
        _ => return Ok(false),
    }
    Ok(true)
}

fn mac(b: &[u8]) -> [u8; 6] {
    b.try_into().unwrap_or_default()
}

fn v6(b: &[u8]) -> [u8; 16] {
    b.try_into().unwrap_or_default()
}

/// Datagram-level values a flow record carries.
#[derive(Clone, Copy, Debug)]
pub(super) struct RecordContext {
    /// Agent address (`peer_src_ip`).
    pub agent: IpAddr,
    pub sub_agent: u32,
    /// Datagram sequence number.
    pub seq: u32,
    pub arrival_us: u64,
    pub use_ip_next_hop: bool,
}

impl FlowState {
    /// True when sfacctd accounts the sample: it carries IPv4/IPv6, or no L3 type at all (its
    /// "VLAN or MPLS accounting case"); other Ethernet types (ARP, ...) are not accounted.
    pub(super) fn accounted(&self) -> bool {
        self.got_v4 || self.got_v6 || self.eth_type == 0
    }

    /// The record sfacctd's handlers build: 1 packet of `frame_length` bytes (before
    /// renormalisation), ports only for TCP/UDP, VLAN `in_vlan` else `out_vlan`, interfaces as
    /// carried, `peer_src_ip` the agent address.
    pub(super) fn to_record(&self, cx: &RecordContext) -> FlowRecord {
        let (agent, arrival_us) = (cx.agent, cx.arrival_us);
        let zero4 = IpAddr::V4(Ipv4Addr::UNSPECIFIED);
        let (src_ip, dst_ip) = if self.got_v4 {
            (IpAddr::V4(Ipv4Addr::from(self.src_v4)), IpAddr::V4(Ipv4Addr::from(self.dst_v4)))
        } else if self.got_v6 {
            (IpAddr::V6(Ipv6Addr::from(self.src_v6)), IpAddr::V6(Ipv6Addr::from(self.dst_v6)))
        } else {
            (zero4, zero4)
        };
        let l4 = self.proto == IPPROTO_TCP || self.proto == IPPROTO_UDP;
        let gw = self.gateway.as_ref();
        // SF_peer_dst_ip_handler: BGP next hop, else an IPv6 router next hop, else an IPv4 one
        // only with use_ip_next_hop.
        let peer_dst_ip = match (gw.and_then(|g| g.next_hop), self.next_hop) {
            (Some(bgp), _) => bgp,
            (None, Some(nh @ IpAddr::V6(_))) => nh,
            (None, Some(nh @ IpAddr::V4(_))) if cx.use_ip_next_hop => nh,
            _ => zero4,
        };
        let peer_dst_ip = in_flow_family(peer_dst_ip, self.got_v4, self.got_v6);
        let vlan = if self.in_vlan != 0 { self.in_vlan } else { self.out_vlan };
        let cos = if self.in_priority != 0 { self.in_priority } else { self.out_priority };
        let fields = FlowFields {
            src_mac: self.eth_src,
            dst_mac: self.eth_dst,
            vlan: vlan as u16,
            cos: cos as u8,
            etype: self.eth_type as u16,
            src_ip,
            dst_ip,
            src_mask: self.src_mask.min(128) as u8,
            dst_mask: self.dst_mask.min(128) as u8,
            src_port: if l4 { self.src_port } else { 0 },
            dst_port: if l4 { self.dst_port } else { 0 },
            proto: self.proto,
            tos: self.tos,
            in_iface: self.input,
            out_iface: self.output,
            src_as: gw.map_or(0, |g| g.src_as),
            dst_as: gw.map_or(0, |g| g.dst_as),
            peer_src_ip: agent,
            peer_dst_ip,
            sampling_rate: self.sampling_rate,
            tag: self.tag,
            tag2: self.tag2,
            peer_src_as: gw.map_or(0, |g| g.src_peer_as),
            peer_dst_as: gw.map_or(0, |g| g.dst_peer_as),
            local_pref: gw.map_or(0, |g| g.local_pref),
            as_path: gw.map_or(0, |g| g.as_path),
            std_comm: gw.map_or(0, |g| g.communities),
            out_vlan: self.out_vlan as u16,
            mpls_label_top: self.mpls_top,
            mpls_label_bottom: self.mpls_bottom,
            mpls_stack_depth: self.mpls_depth,
            timestamp_arrival: arrival_us,
            export_proto_version: 5,
            export_proto_seqno: cx.seq,
            export_proto_sysid: cx.sub_agent,
            nexthop: self.next_hop.unwrap_or(zero4),
            tunnel_src_mac: self.tunnel.src_mac,
            tunnel_dst_mac: self.tunnel.dst_mac,
            tunnel_src_ip: self.tunnel.src_ip,
            tunnel_dst_ip: self.tunnel.dst_ip,
            tunnel_proto: self.tunnel.proto,
            tunnel_tos: self.tunnel.tos,
            tunnel_src_port: self.tunnel.src_port,
            tunnel_dst_port: self.tunnel.dst_port,
            vni: self.tunnel.vni,
            ..FlowFields::default()
        };
        let counters = Counters {
            packets: 1,
            bytes: u64::from(self.frame_length),
            flows: 1,
            tcp_flags: if self.proto == IPPROTO_TCP { self.tcp_flags } else { 0 },
            first_us: arrival_us,
            last_us: 0,
        };
        FlowRecord { fields, counters }
    }
}

/// The next hop as pmacct prints it (`addr_to_str2` with the flow's family): an IPv6 next hop
/// of an IPv4 flow only when it is IPv4-mapped, an IPv4 one of an IPv6 flow as
/// `::ffff:a.b.c.d`, none for a flow that is not IP.
fn in_flow_family(nh: IpAddr, v4_flow: bool, v6_flow: bool) -> IpAddr {
    let none = IpAddr::V4(Ipv4Addr::UNSPECIFIED);
    match nh {
        _ if nh == none => none,
        IpAddr::V4(a) if v6_flow => IpAddr::V6(a.to_ipv6_mapped()),
        IpAddr::V4(_) if v4_flow => nh,
        IpAddr::V6(a) if v4_flow => a.to_ipv4_mapped().map_or(none, IpAddr::V4),
        IpAddr::V6(_) if v6_flow => nh,
        _ => none,
    }
}
