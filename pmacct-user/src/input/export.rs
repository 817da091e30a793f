//! The decoder behind each collector type (NetFlow/IPFIX, sFlow), as [`ExportDecoder`]s.

use super::udp::DecoderFactory;
use crate::config::{CollectorConfig, CollectorKind};

/// Errors building a collector's decoder.
#[derive(Debug, thiserror::Error)]
pub enum ExportError {
    #[error("collector type {0:?}: no decoder for it in this build")]
    Unavailable(CollectorKind),
}

/// A factory of decoders configured by `cfg` (one per socket thread, one per replay).
pub fn factory(cfg: &CollectorConfig) -> Result<DecoderFactory, ExportError> {
    match cfg.kind {
        CollectorKind::Netflow | CollectorKind::Sflow => Err(ExportError::Unavailable(cfg.kind)),
    }
}
