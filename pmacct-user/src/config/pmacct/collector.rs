//! nfacctd / sfacctd keys: where the collector listens and how it decodes.

use std::path::PathBuf;

use super::{Ctx, Line};
use crate::config::{CollectorConfig, CollectorKind, ConfigError, SavefileKind};

/// Which pmacct daemon a config file is written for: it decides what `pcap_savefile` holds and
/// which collector the `nfacctd_*` / `sfacctd_*` keys configure.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Flavor {
    /// pmacctd: packets from interfaces or a capture.
    #[default]
    Pmacctd,
    /// nfacctd: NetFlow/IPFIX.
    Nfacctd,
    /// sfacctd: sFlow.
    Sfacctd,
    /// pmbmpd: the BMP daemon alone (no plugins, no flows).
    Pmbmpd,
}

impl Flavor {
    pub(super) fn collector(self) -> Option<CollectorKind> {
        match self {
            Flavor::Pmacctd | Flavor::Pmbmpd => None,
            Flavor::Nfacctd => Some(CollectorKind::Netflow),
            Flavor::Sfacctd => Some(CollectorKind::Sflow),
        }
    }

    pub(super) fn savefile_kind(self) -> SavefileKind {
        match self {
            Flavor::Pmacctd | Flavor::Pmbmpd => SavefileKind::Packets,
            Flavor::Nfacctd => SavefileKind::Netflow,
            Flavor::Sfacctd => SavefileKind::Sflow,
        }
    }
}

/// Collector keys seen so far.
#[derive(Debug, Default)]
pub(super) struct CollectorKeys {
    ip: Option<String>,
    port: Option<u16>,
    allow_file: Option<PathBuf>,
    time_new: bool,
    renormalize: bool,
    templates_file: Option<PathBuf>,
    counter_file: Option<PathBuf>,
    pipe_size: Option<usize>,
    sampling_map: Option<PathBuf>,
}

fn parse_bool(ctx: Ctx<'_>, line: &Line) -> Result<bool, ConfigError> {
    match line.value.to_ascii_lowercase().as_str() {
        "true" => Ok(true),
        "false" => Ok(false),
        _ => Err(ctx.err(line.number, &line.key, &line.value, "expected true or false")),
    }
}

impl CollectorKeys {
    /// Handles `line` if it is a collector key of the config's flavor; `Ok(false)` otherwise.
    /// Keys of the other collector (`sfacctd_*` in an nfacctd config) are left to the caller,
    /// which reports them as not applying.
    pub(super) fn line(
        &mut self,
        ctx: Ctx<'_>,
        flavor: Flavor,
        line: &Line,
    ) -> Result<bool, ConfigError> {
        if line.key == "sampling_map" && flavor != Flavor::Pmacctd {
            self.sampling_map = Some(ctx.base_dir.join(&line.value));
            return Ok(true);
        }
        let prefix = match flavor {
            Flavor::Nfacctd => "nfacctd_",
            Flavor::Sfacctd => "sfacctd_",
            Flavor::Pmacctd | Flavor::Pmbmpd => return Ok(false),
        };
        let Some(key) = line.key.strip_prefix(prefix) else { return Ok(false) };
        match key {
            "ip" => self.ip = Some(line.value.clone()),
            "port" => {
                let port = line.value.parse::<u16>().ok().filter(|p| *p > 0).ok_or_else(|| {
                    ctx.err(line.number, &line.key, &line.value, "expected a UDP port 1-65535")
                })?;
                self.port = Some(port);
            }
            "pipe_size" => {
                let bytes =
                    line.value.parse::<usize>().ok().filter(|b| *b > 0).ok_or_else(|| {
                        ctx.err(line.number, &line.key, &line.value, "expected a size in bytes")
                    })?;
                self.pipe_size = Some(bytes);
            }
            "allow_file" => self.allow_file = Some(ctx.base_dir.join(&line.value)),
            "time_new" if flavor == Flavor::Nfacctd => self.time_new = parse_bool(ctx, line)?,
            "renormalize" => self.renormalize = parse_bool(ctx, line)?,
            "templates_file" if flavor == Flavor::Nfacctd => {
                self.templates_file = Some(PathBuf::from(&line.value));
            }
            "counter_file" if flavor == Flavor::Sfacctd => {
                self.counter_file = Some(PathBuf::from(&line.value));
            }
            "counter_output" if flavor == Flavor::Sfacctd => {
                if !line.value.eq_ignore_ascii_case("json") {
                    return Err(ctx.err(
                        line.number,
                        &line.key,
                        &line.value,
                        "only json is supported",
                    ));
                }
            }
            _ => return Ok(false),
        }
        Ok(true)
    }

    /// The collector this config describes. With a capture file (`pcap_savefile`) pmacct does
    /// not listen on the network, so neither do we.
    pub(super) fn finish(self, kind: CollectorKind, reading_capture: bool) -> CollectorConfig {
        let mut c = CollectorConfig::new(kind);
        if !reading_capture {
            let port = self.port.unwrap_or(kind.default_port());
            let listen = match self.ip.as_deref() {
                None | Some("") | Some("::") => format!("[::]:{port}"),
                Some(ip) if ip.contains(':') => format!("[{ip}]:{port}"),
                Some(ip) => format!("{ip}:{port}"),
            };
            c.listen = vec![listen];
        }
        if let Some(bytes) = self.pipe_size {
            c.recv_buffer_bytes = bytes;
        }
        c.allow_file = self.allow_file;
        c.time_new = self.time_new;
        c.renormalize = self.renormalize;
        c.templates_file = self.templates_file;
        c.counter_file = self.counter_file;
        c.sampling_map = self.sampling_map;
        c
    }
}
