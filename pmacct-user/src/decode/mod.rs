//! Decoders: pure functions over byte slices.
