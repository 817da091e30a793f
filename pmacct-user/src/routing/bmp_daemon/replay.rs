//! Replaying a capture of BMP TCP sessions (`pmacct-rs replay --pcap`): each connection is
//! reassembled in order ([`super::tcp`]) and fed to the daemon's per-router logic as if
//! that router had connected: the router is the TCP source of the stream, message arrival
//! times are the capture's, the session ends at its FIN or RST (or the end of the capture),
//! with pmacct's `log_close` and the router's routes dropped.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::path::Path;
use std::sync::atomic::Ordering;

use super::router::{End, Session};
use super::tcp::{self, Reassembler, StreamEvent, TcpStats};
use super::{BmpDaemon, Shared};
use crate::input::pcap::{CaptureReader, PcapError};

/// Why a replay failed.
#[derive(Debug, thiserror::Error)]
pub enum ReplayError {
    /// The capture could not be read.
    #[error("reading {path}: {source}")]
    Capture {
        /// File.
        path: String,
        /// Cause.
        source: PcapError,
    },
}

/// What a replay did.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ReplayStats {
    /// Frames read.
    pub packets: u64,
    /// TCP reassembly counters.
    pub tcp: TcpStats,
    /// Router sessions replayed.
    pub sessions: u64,
    /// Sessions that ended because their stream could not be framed.
    pub broken: u64,
}

/// Whether the capture holds BMP over TCP: the first TCP payload starts like a BMP v3 message
/// (version 3, a length of at least 6, a message type up to 6).
pub fn is_bmp_capture(path: &Path) -> Result<bool, ReplayError> {
    let err = |source| ReplayError::Capture { path: path.display().to_string(), source };
    let mut rd = CaptureReader::open(path).map_err(err)?;
    while let Some(p) = rd.next_packet().map_err(err)? {
        if let Some(s) = tcp::segment(p.link_type, p.data)
            && !s.payload.is_empty()
        {
            return Ok(match s.payload {
                [3, a, b, c, d, t, ..] => u32::from_be_bytes([*a, *b, *c, *d]) >= 6 && *t <= 6,
                _ => false,
            });
        }
    }
    Ok(false)
}

impl BmpDaemon {
    /// Feeds every BMP session of a capture through the daemon, in capture order.
    pub fn replay_pcap(&self, path: &Path) -> Result<ReplayStats, ReplayError> {
        let err = |source| ReplayError::Capture { path: path.display().to_string(), source };
        let shared: &Shared = &self.shared;
        let mut rd = CaptureReader::open(path).map_err(err)?;
        let mut re = Reassembler::new();
        let mut live: HashMap<SocketAddr, (Session<'_>, Option<End>)> = HashMap::new();
        let mut stats = ReplayStats::default();
        let mut next_id = u64::MAX / 2;
        while let Some(p) = rd.next_packet().map_err(err)? {
            stats.packets += 1;
            let Some(seg) = tcp::segment(p.link_type, p.data) else { continue };
            let ts = (p.ts_us / 1_000_000, (p.ts_us % 1_000_000) as u32);
            re.push(&seg, &mut |router, ev| {
                on_event(shared, &mut live, &mut stats, &mut next_id, router, ev, ts);
            });
        }
        re.finish(&mut |router, ev| {
            on_event(shared, &mut live, &mut stats, &mut next_id, router, ev, (0, 0));
        });
        stats.tcp = re.stats;
        Ok(stats)
    }
}

fn on_event<'a>(
    shared: &'a Shared,
    live: &mut HashMap<SocketAddr, (Session<'a>, Option<End>)>,
    stats: &mut ReplayStats,
    next_id: &mut u64,
    router: SocketAddr,
    ev: StreamEvent<'_>,
    ts: (u64, u32),
) {
    match ev {
        StreamEvent::Open => {
            if let Some((s, end)) = live.remove(&router) {
                s.close(&end.unwrap_or(End::Eof));
            }
            *next_id += 1;
            let c = &shared.counters;
            c.routers.fetch_add(1, Ordering::Relaxed);
            c.connections.fetch_add(1, Ordering::Relaxed);
            stats.sessions += 1;
            tracing::info!(%router, "BMP router connected (capture)");
            live.insert(router, (Session::open(shared, router, *next_id), None));
        }
        StreamEvent::Data(bytes) => {
            if let Some((s, end)) = live.get_mut(&router)
                && end.is_none()
                && let Err(e) = s.feed(bytes, Some(ts))
            {
                // As live: a stream that lost framing is closed; the rest of it is ignored.
                stats.broken += 1;
                *end = Some(e);
            }
        }
        StreamEvent::Close => {
            if let Some((s, end)) = live.remove(&router) {
                s.close(&end.unwrap_or(End::Eof));
            }
        }
    }
}
