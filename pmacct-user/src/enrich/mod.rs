//! Enrichment applied to records before aggregation: networks_file / networks_mask network and
//! AS resolution ([`networks`], [`netmethod`]), `pre_tag_map` ([`pretag`]) with its filters
//! ([`tagfilter`]) and label interning ([`labels`]); `sampling_map` ([`sampling`]); RIB
//! lookups from the BMP daemon ([`bgp`]); `geoipv2_file` countries, postal codes and coordinates
//! ([`geoip`]).

pub mod bgp;
pub mod geoip;
pub mod labels;
pub mod netmethod;
pub mod networks;
pub mod pretag;
pub mod sampling;
pub mod tagfilter;
