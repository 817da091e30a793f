//! The BMP daemon's metrics (`pmacct_bmp_*`).

use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::registry::Registry;

/// Counters and gauges of the BMP daemon, fed from
/// [`BmpStats`](crate::routing::bmp_daemon::BmpStats).
#[derive(Default)]
pub struct BmpMetrics {
    /// Routers connected now.
    pub routers: Gauge,
    /// Routes held in the RIB (every router, peer and view).
    pub routes: Gauge,
    /// Router sessions accepted.
    pub connections: Counter,
    /// BMP messages decoded.
    pub messages: Counter,
    /// Messages that failed to decode and streams that lost framing.
    pub errors: Counter,
    /// Connections from routers outside the allow-list.
    pub denied: Counter,
    /// Connections refused at `max_peers`.
    pub rejected: Counter,
    /// Routes not stored because of the per-router memory limit.
    pub rib_rejected: Counter,
    /// Dumps written.
    pub dumps: Counter,
    /// Messages discarded for want of a Peer Up.
    pub no_peer_up: Counter,
}

impl BmpMetrics {
    pub(super) fn register(&self, r: &mut Registry) {
        r.register("bmp_routers", "BMP routers connected", self.routers.clone());
        r.register("bmp_routes", "Routes held in the BMP RIB", self.routes.clone());
        r.register("bmp_connections", "BMP router sessions accepted", self.connections.clone());
        r.register("bmp_messages", "BMP messages decoded", self.messages.clone());
        r.register("bmp_errors", "BMP messages or streams rejected", self.errors.clone());
        r.register("bmp_denied", "BMP routers outside the allow-list", self.denied.clone());
        r.register("bmp_rejected", "BMP routers refused at max_peers", self.rejected.clone());
        r.register(
            "bmp_rib_rejected",
            "Routes not stored: per-router memory limit",
            self.rib_rejected.clone(),
        );
        r.register("bmp_dumps", "BMP dumps written", self.dumps.clone());
        r.register(
            "bmp_no_peer_up",
            "BMP messages discarded for want of a Peer Up",
            self.no_peer_up.clone(),
        );
    }
}
