//! Decoders: pure functions over byte slices.

pub mod packet;
