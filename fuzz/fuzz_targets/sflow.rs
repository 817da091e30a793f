//! Any bytes as an sFlow datagram: `SflowDecoder::decode` must return, never panic, and the
//! decoder must stay usable (state carried across inputs, renormalisation and BGP kept on).
#![no_main]

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::Mutex;

use libfuzzer_sys::fuzz_target;
use pmacct_user::decode::sflow::{SflowDecoder, SflowOptions};

static DECODER: Mutex<Option<SflowDecoder>> = Mutex::new(None);

fuzz_target!(|data: &[u8]| {
    let Ok(mut guard) = DECODER.lock() else { return };
    let dec = guard.get_or_insert_with(|| {
        SflowDecoder::new(SflowOptions { renormalize: true, keep_bgp: true, ..Default::default() })
    });
    let src = SocketAddr::new(IpAddr::V4(Ipv4Addr::LOCALHOST), 6343);
    let (mut flows, mut counters) = (Vec::new(), Vec::new());
    let _ = dec.decode(src, 1, data, &mut flows, &mut counters);
    for c in &counters {
        let _ = c.to_json_line();
    }
    let _ = dec.stats();
});
