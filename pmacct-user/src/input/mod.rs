//! Inputs: XDP map drain, capture files. Each yields [`crate::record::FlowRecord`]s.

pub mod allow;
pub mod collector;
pub mod datagram;
pub mod export;
pub mod mmsg;
pub mod pcap;
pub mod savefile;
pub mod udp;
pub mod xdp;
