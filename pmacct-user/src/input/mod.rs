//! Inputs: XDP map drain, capture files. Each yields [`crate::record::FlowRecord`]s.

pub mod datagram;
pub mod pcap;
pub mod savefile;
pub mod xdp;
