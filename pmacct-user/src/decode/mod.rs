//! Decoders: pure functions over byte slices.

pub mod bgp;
pub mod bmp;
pub mod netflow;
pub mod packet;
pub mod sflow;
