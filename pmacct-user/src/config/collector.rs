//! Flow-export collectors (pmacct's nfacctd and sfacctd): where they listen and how they decode.

use std::path::PathBuf;

use serde::{Deserialize, Serialize};

/// Which protocol a collector speaks.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum CollectorKind {
    /// NetFlow v5, v9 and IPFIX (pmacct's nfacctd).
    Netflow,
    /// sFlow v5 (pmacct's sfacctd).
    Sflow,
}

impl CollectorKind {
    /// pmacct's default port: 2100 for nfacctd, 6343 for sfacctd.
    pub const fn default_port(self) -> u16 {
        match self {
            CollectorKind::Netflow => 2100,
            CollectorKind::Sflow => 6343,
        }
    }
}

/// One collector: UDP listeners plus decoder settings.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CollectorConfig {
    #[serde(rename = "type")]
    pub kind: CollectorKind,
    /// `address:port` to listen on (pmacct `nfacctd_ip`/`nfacctd_port`). Empty: no sockets (the
    /// settings still apply to captures replayed into this kind).
    #[serde(default)]
    pub listen: Vec<String>,
    /// SO_REUSEPORT sockets per address; 0 = one per CPU.
    #[serde(default)]
    pub sockets: usize,
    /// Receive buffer per socket, bytes (SO_RCVBUFFORCE when root).
    #[serde(default = "default_rcvbuf")]
    pub recv_buffer_bytes: usize,
    /// Exporters allowed (addresses or prefixes); empty = all (pmacct `nfacctd_allow_file`).
    #[serde(default)]
    pub allow: Vec<String>,
    /// File of allowed exporters, one address or prefix a line (pmacct `*_allow_file`).
    #[serde(default)]
    pub allow_file: Option<PathBuf>,
    /// Multiply counters by the sampling rate (pmacct `nfacctd_renormalize`/`sfacctd_renormalize`).
    #[serde(default)]
    pub renormalize: bool,
    /// NetFlow: time-stamp flows with their arrival instead of the exporter's times
    /// (pmacct `nfacctd_time_new`).
    #[serde(default)]
    pub time_new: bool,
    /// NetFlow: where templates are saved and reloaded at start (pmacct `nfacctd_templates_file`).
    #[serde(default)]
    pub templates_file: Option<PathBuf>,
    /// sFlow: counter samples as JSON lines (pmacct `sfacctd_counter_file`).
    #[serde(default)]
    pub counter_file: Option<PathBuf>,
    /// Sampling rates per exporter/interface overriding the advertised ones (pmacct
    /// `sampling_map`).
    #[serde(default)]
    pub sampling_map: Option<PathBuf>,
    /// Set at start, not configured: some plugin aggregates `as_path` or `std_comm`, so the
    /// sFlow decoder builds them from extended gateway records ([`crate::config::Config::needs_bgp_strings`]).
    #[serde(skip)]
    pub bgp_strings: bool,
}

fn default_rcvbuf() -> usize {
    32 * 1024 * 1024
}

impl CollectorConfig {
    /// A collector of `kind` with pmacct's defaults and no listener.
    pub fn new(kind: CollectorKind) -> Self {
        Self {
            kind,
            listen: Vec::new(),
            sockets: 0,
            recv_buffer_bytes: default_rcvbuf(),
            allow: Vec::new(),
            allow_file: None,
            renormalize: false,
            time_new: false,
            templates_file: None,
            counter_file: None,
            sampling_map: None,
            bgp_strings: false,
        }
    }
}

/// What a capture file (`[savefile]`) holds.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SavefileKind {
    /// Packets accounted like pmacctd does.
    #[default]
    Packets,
    /// NetFlow/IPFIX export datagrams, decoded like nfacctd does.
    Netflow,
    /// sFlow datagrams, decoded like sfacctd does.
    Sflow,
}

impl SavefileKind {
    /// The collector type whose settings decode this kind of capture.
    pub const fn collector(self) -> Option<CollectorKind> {
        match self {
            SavefileKind::Packets => None,
            SavefileKind::Netflow => Some(CollectorKind::Netflow),
            SavefileKind::Sflow => Some(CollectorKind::Sflow),
        }
    }
}
