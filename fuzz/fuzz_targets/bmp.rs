//! Any byte stream, framed and decoded as BMP with a live session table, and loaded into a
//! RIB: must return, never panic.
#![no_main]

use libfuzzer_sys::fuzz_target;
use pmacct_user::decode::bmp::{self, BmpFramer, BmpMessage, SessionTable};
use pmacct_user::routing::{PeerId, Rib};

fuzz_target!(|data: &[u8]| {
    let Some((split, rest)) = data.split_first() else { return };
    let router = std::net::IpAddr::from([192, 0, 2, 1]);
    let mut framer = BmpFramer::new();
    let mut sessions = SessionTable::new();
    let mut rib = Rib::with_memory_limit(Some(1 << 20));
    for chunk in rest.chunks(usize::from(*split).max(1)) {
        framer.push(chunk);
        while let Ok(Some(frame)) = framer.next_frame() {
            let frame = frame.to_vec();
            match bmp::decode(&frame, &mut sessions) {
                Ok(BmpMessage::RouteMonitoring(rm)) => {
                    let peer = PeerId::from_bmp(&rm.peer);
                    let _ = rib.apply_update(router, peer, rm.peer.asn, &rm.update, &rm.context);
                    let _ = rib.lookup(router, rm.peer.addr);
                }
                Ok(BmpMessage::PeerDown(d)) => {
                    rib.peer_down_addr(router, d.peer.addr, d.peer.distinguisher_u64());
                }
                _ => {}
            }
        }
    }
});
