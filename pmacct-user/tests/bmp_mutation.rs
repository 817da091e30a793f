//! Cheap in-tree fuzzing: real frames (the gobgpd fixture) with random byte mutations,
//! truncations and length fix-ups, decoded with live session state and loaded into a RIB.
//! Must never panic. (cargo-fuzz targets `bmp` and `bgp` in fuzz/ do the same, unbounded.)

use pmacct_user::decode::bgp::{AfiSafi, DecodeContext, parse_message};
use pmacct_user::decode::bmp::{self, BmpFramer, BmpMessage, SessionTable};
use pmacct_user::routing::{PeerId, Rib};

const STREAM: &[u8] = include_bytes!("data/bmp/gobgpd-3.10-loopback.bmp");

struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
}

fn frames() -> Vec<Vec<u8>> {
    let mut f = BmpFramer::new();
    f.push(STREAM);
    let mut v = Vec::new();
    while let Ok(Some(m)) = f.next_frame() {
        v.push(m.to_vec());
    }
    v
}

#[test]
fn mutated_frames_never_panic() {
    let frames = frames();
    assert!(frames.len() > 30);
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    let router = std::net::IpAddr::from([127, 0, 0, 1]);
    let (mut ok, mut err) = (0usize, 0usize);
    for round in 0..20_000 {
        let mut sessions = SessionTable::new();
        let _ = bmp::decode(&frames[1], &mut sessions); // the Peer Up
        let mut rib = Rib::new();
        let mut m = frames[rng.below(frames.len())].clone();
        for _ in 0..1 + rng.below(4) {
            let i = 6 + rng.below(m.len().saturating_sub(6));
            if let Some(b) = m.get_mut(i) {
                *b = match rng.below(3) {
                    0 => *b ^ (1 << rng.below(8)),
                    1 => rng.next() as u8,
                    _ => [0, 0xff, 0x80, 1][rng.below(4)],
                };
            }
        }
        if round % 5 == 0 {
            m.truncate(6 + rng.below(m.len()));
        }
        let len = (m.len() as u32).to_be_bytes();
        m[1..5].copy_from_slice(&len);
        match bmp::decode(&m, &mut sessions) {
            Ok(BmpMessage::RouteMonitoring(r)) => {
                ok += 1;
                let _ =
                    rib.apply_update(router, PeerId::from_bmp(&r.peer), 1, &r.update, &r.context);
                let _ = rib.lookup(router, r.peer.addr);
            }
            Ok(_) => ok += 1,
            Err(_) => err += 1,
        }
        // The BGP PDU on its own under every context.
        if let Some(pdu) = m.get(48..) {
            for four in [false, true] {
                let mut ctx = DecodeContext { four_octet_as: four, add_path: Vec::new() };
                ctx.set_add_path(AfiSafi::IPV4_UNICAST, round % 2 == 0);
                let _ = parse_message(pdu, &ctx);
            }
        }
    }
    eprintln!("{ok} decoded, {err} rejected");
    assert!(ok > 0 && err > 0);
    // The whole stream with random damage through the framer.
    for _ in 0..200 {
        let mut s = STREAM.to_vec();
        let i = rng.below(s.len());
        s[i] = rng.next() as u8;
        let mut f = BmpFramer::new();
        let mut sessions = SessionTable::new();
        for c in s.chunks(1 + rng.below(300)) {
            f.push(c);
            while let Ok(Some(m)) = f.next_frame() {
                let m = m.to_vec();
                let _ = bmp::decode(&m, &mut sessions);
            }
        }
    }
}
