//! Inputs: XDP map drain, capture files. Each yields [`crate::record::FlowRecord`]s.
