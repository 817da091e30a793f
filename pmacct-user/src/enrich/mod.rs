//! Enrichment applied to records before aggregation: `sampling_map` ([`sampling`]).

pub mod sampling;
