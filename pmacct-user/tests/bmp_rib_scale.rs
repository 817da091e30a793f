//! Scale check (ignored by default; run with `--release -- --ignored --nocapture`): N IPv4 routes
//! from one peer as BMP Route Monitoring frames (one prefix per UPDATE, 1000 distinct attribute
//! sets), framed, decoded and loaded; prints routes/s and the RIB's bytes per prefix.

use std::time::Instant;

use pmacct_user::decode::bmp::{self, BmpFramer, BmpMessage, SessionTable};
use pmacct_user::routing::{PeerId, Rib};

fn rm_frame(i: u32) -> Vec<u8> {
    let mut attrs = vec![0x40, 1, 1, 0];
    attrs.extend_from_slice(&[0x40, 2, 14, 2, 3]);
    for asn in [65001u32, 65002, 64512 + i % 1000] {
        attrs.extend_from_slice(&asn.to_be_bytes());
    }
    attrs.extend_from_slice(&[0x40, 3, 4, 192, 0, 2, 1]);
    attrs.extend_from_slice(&[0xc0, 8, 4, 0xfd, 0xe9, 0, 1]);
    let p = (0x0100_0000u32 + (i << 8)).to_be_bytes();
    let nlri = [24, p[0], p[1], p[2]];
    let mut body = vec![0, 0];
    body.extend_from_slice(&u16::try_from(attrs.len()).unwrap_or(0).to_be_bytes());
    body.extend_from_slice(&attrs);
    body.extend_from_slice(&nlri);
    let mut bgp = vec![0xff; 16];
    bgp.extend_from_slice(&u16::try_from(19 + body.len()).unwrap_or(0).to_be_bytes());
    bgp.push(2);
    bgp.extend_from_slice(&body);
    let mut peer = vec![0u8, 0];
    peer.extend_from_slice(&[0; 8]);
    peer.extend_from_slice(&[0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 10, 0, 0, 2]);
    peer.extend_from_slice(&65001u32.to_be_bytes());
    peer.extend_from_slice(&[10, 0, 0, 2, 0, 0, 0, 0, 0, 0, 0, 0]);
    let mut m = vec![3];
    m.extend_from_slice(&u32::try_from(6 + peer.len() + bgp.len()).unwrap_or(0).to_be_bytes());
    m.push(0);
    m.extend_from_slice(&peer);
    m.extend_from_slice(&bgp);
    m
}

#[test]
#[ignore]
fn load_routes() {
    let n: u32 =
        std::env::var("BMP_SCALE_ROUTES").ok().and_then(|v| v.parse().ok()).unwrap_or(1_000_000);
    let stream: Vec<u8> = (0..n).flat_map(rm_frame).collect();
    let router = std::net::IpAddr::from([10, 0, 0, 1]);
    let t = Instant::now();
    let mut f = BmpFramer::new();
    let mut s = SessionTable::new();
    let mut rib = Rib::new();
    for chunk in stream.chunks(65536) {
        f.push(chunk);
        while let Some(m) = f.next_frame().expect("frame") {
            let m = m.to_vec();
            if let Ok(BmpMessage::RouteMonitoring(r)) = bmp::decode(&m, &mut s) {
                rib.apply_update(
                    router,
                    PeerId::from_bmp(&r.peer),
                    r.peer.asn,
                    &r.update,
                    &r.context,
                )
                .expect("rib");
            }
        }
    }
    let dt = t.elapsed().as_secs_f64();
    assert_eq!(rib.route_count(router), n as usize);
    eprintln!(
        "{n} routes in {dt:.2}s: {:.0} routes/s; RIB ~{} bytes/prefix, {} attribute sets",
        f64::from(n) / dt,
        rib.memory_bytes(router) / n as usize,
        rib.attr_sets(router)
    );
}
