//! Enrichment applied to records before aggregation: networks_file / networks_mask network and
//! AS resolution ([`networks`], [`netmethod`]).

pub mod netmethod;
pub mod networks;
