//! Transport layer: ports for TCP and UDP (and SCTP on request), TCP flags. ICMP and ICMPv6 get
//! no ports, as in pmacctd 1.7 (`src_port_handler` knows TCP and UDP only).

use super::{DecodeOptions, be16};
use crate::record::FlowRecord;

const IPPROTO_TCP: u8 = 6;
const IPPROTO_UDP: u8 = 17;
const IPPROTO_SCTP: u8 = 132;
const TCP_FLAGS_OFF: usize = 13;

/// Fills ports and TCP flags from the L4 header at the start of `d`. Returns false when a
/// TCP/UDP header is too short to hold the ports.
pub(super) fn parse_l4(proto: u8, d: &[u8], opts: &DecodeOptions, rec: &mut FlowRecord) -> bool {
    let wants_ports = match proto {
        IPPROTO_TCP | IPPROTO_UDP => true,
        IPPROTO_SCTP => opts.sctp_ports,
        _ => false,
    };
    if !wants_ports {
        return true;
    }
    let (Some(sp), Some(dp)) = (be16(d, 0), be16(d, 2)) else {
        return proto == IPPROTO_SCTP;
    };
    rec.fields.src_port = sp;
    rec.fields.dst_port = dp;
    if proto == IPPROTO_TCP {
        rec.counters.tcp_flags = d.get(TCP_FLAGS_OFF).copied().unwrap_or(0);
    }
    true
}
