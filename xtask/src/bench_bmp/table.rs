//! A generated full-table BMP stream: Initiation, Peer Up of one eBGP peer (AS 65010, IPv4
//! and IPv6 unicast, 4-byte AS), then Route Monitoring (pre-policy Adj-RIB-In) of 1,000,000
//! IPv4 and 200,000 IPv6 prefixes, as a router sends them: prefixes sharing attributes packed
//! into one UPDATE (1 to 12 per UPDATE), 100,000 IPv4 and 20,000 IPv6 distinct attribute sets
//! (AS_PATH of 2 to 6 hops, 0 to 3 communities, a MED on every third set). Deterministic.

/// Prefix counts and attribute-set counts of the table.
pub struct Table {
    pub v4: u32,
    pub v6: u32,
    pub v4_sets: u32,
    pub v6_sets: u32,
}

/// A small table to check the set-up quickly (`-- --small`).
pub const SMALL: Table = Table { v4: 10_000, v6: 2_000, v4_sets: 1_000, v6_sets: 200 };

/// The full table of the benchmark.
pub const FULL: Table = Table { v4: 1_000_000, v6: 200_000, v4_sets: 100_000, v6_sets: 20_000 };

const PEER_AS: u32 = 65010;
const PEER_V4: [u8; 4] = [192, 0, 2, 1];

fn mix(mut x: u64) -> u64 {
    x ^= x >> 33;
    x = x.wrapping_mul(0xff51_afd7_ed55_8ccd);
    x ^= x >> 33;
    x
}

fn bmp(kind: u8, body: &[u8]) -> Vec<u8> {
    let mut m = vec![3];
    m.extend_from_slice(&(6 + body.len() as u32).to_be_bytes());
    m.push(kind);
    m.extend_from_slice(body);
    m
}

fn per_peer() -> Vec<u8> {
    let mut h = vec![0u8, 0];
    h.extend_from_slice(&[0; 8]);
    h.extend_from_slice(&[0; 12]);
    h.extend_from_slice(&PEER_V4);
    h.extend_from_slice(&PEER_AS.to_be_bytes());
    h.extend_from_slice(&PEER_V4);
    h.extend_from_slice(&1_764_000_000u32.to_be_bytes());
    h.extend_from_slice(&0u32.to_be_bytes());
    h
}

fn bgp(kind: u8, body: &[u8]) -> Vec<u8> {
    let mut m = vec![0xff; 16];
    m.extend_from_slice(&(19 + body.len() as u16).to_be_bytes());
    m.push(kind);
    m.extend_from_slice(body);
    m
}

fn open(asn: u32, id: [u8; 4]) -> Vec<u8> {
    let mut caps = Vec::new();
    for (afi, safi) in [(1u16, 1u8), (2, 1)] {
        caps.extend_from_slice(&[1, 4]);
        caps.extend_from_slice(&afi.to_be_bytes());
        caps.extend_from_slice(&[0, safi]);
    }
    caps.extend_from_slice(&[65, 4]);
    caps.extend_from_slice(&asn.to_be_bytes());
    let mut b = vec![4];
    b.extend_from_slice(&23456u16.to_be_bytes());
    b.extend_from_slice(&90u16.to_be_bytes());
    b.extend_from_slice(&id);
    b.push(caps.len() as u8 + 2);
    b.extend_from_slice(&[2, caps.len() as u8]);
    b.extend_from_slice(&caps);
    bgp(1, &b)
}

fn attr(flags: u8, kind: u8, value: &[u8]) -> Vec<u8> {
    let mut a = if value.len() > 255 {
        let mut a = vec![flags | 0x10, kind];
        a.extend_from_slice(&(value.len() as u16).to_be_bytes());
        a
    } else {
        vec![flags, kind, value.len() as u8]
    };
    a.extend_from_slice(value);
    a
}

/// ORIGIN, AS_PATH, MED, COMMUNITIES of attribute set `s` (family `fam` keeps v4 and v6 apart).
fn common_attrs(s: u32, fam: u64) -> Vec<u8> {
    let h = mix(u64::from(s) | fam << 40);
    let mut a = attr(0x40, 1, &[(h % 3) as u8 % 2]);
    let hops = 2 + (h % 5) as usize;
    let mut path = vec![2u8, hops as u8];
    path.extend_from_slice(&PEER_AS.to_be_bytes());
    for k in 1..hops {
        let asn = 1 + (mix(h ^ k as u64) % 400_000) as u32;
        path.extend_from_slice(&asn.to_be_bytes());
    }
    a.extend(attr(0x40, 2, &path));
    if s.is_multiple_of(3) {
        a.extend(attr(0x80, 4, &((h >> 20) as u32 % 1000).to_be_bytes()));
    }
    let ncomm = (h >> 8) % 4;
    if ncomm > 0 {
        let mut c = Vec::new();
        for k in 0..ncomm {
            c.extend_from_slice(&(PEER_AS as u16).to_be_bytes());
            c.extend_from_slice(&((s % 100) as u16 * 10 + k as u16).to_be_bytes());
        }
        a.extend(attr(0xc0, 8, &c));
    }
    a
}

fn v4_prefix(i: u32) -> (u8, [u8; 4]) {
    let len = [24u8, 24, 24, 24, 22, 20][i as usize % 6];
    let addr = (1u32 << 24).wrapping_add(i << (32 - u32::from(len)));
    (len, addr.to_be_bytes())
}

fn v6_prefix(i: u32) -> (u8, [u8; 16]) {
    let len = [48u8, 48, 48, 44, 40, 32][i as usize % 6];
    let addr = (0x2000u128 << 112) | (u128::from(i) << (128 - u32::from(len)));
    (len, addr.to_be_bytes())
}

fn push_nlri(out: &mut Vec<u8>, len: u8, addr: &[u8]) {
    out.push(len);
    out.extend_from_slice(&addr[..usize::from(len).div_ceil(8)]);
}

fn route_monitoring(update_body: &[u8]) -> Vec<u8> {
    let mut b = per_peer();
    b.extend(bgp(2, update_body));
    bmp(0, &b)
}

/// The stream, and the number of UPDATE messages in it.
pub fn stream(t: &Table) -> (Vec<u8>, u64) {
    let mut out = bmp(4, &[0, 2, 0, 5, b'b', b'e', b'n', b'c', b'h']);
    let mut up = per_peer();
    up.extend_from_slice(&[0; 12]);
    up.extend_from_slice(&[192, 0, 2, 254]);
    up.extend_from_slice(&179u16.to_be_bytes());
    up.extend_from_slice(&40000u16.to_be_bytes());
    up.extend(open(65000, [192, 0, 2, 254]));
    up.extend(open(PEER_AS, PEER_V4));
    out.extend(bmp(3, &up));
    let mut updates = 0u64;
    let mut i = 0u32;
    let mut n = 0u32;
    while i < t.v4 {
        let s = n % t.v4_sets;
        let k = (1 + mix(u64::from(n)) % 12) as u32;
        let mut attrs = common_attrs(s, 4);
        attrs.extend(attr(0x40, 3, &[10, (s >> 16) as u8, (s >> 8) as u8, s as u8]));
        let mut body = vec![0, 0];
        body.extend_from_slice(&(attrs.len() as u16).to_be_bytes());
        body.extend(attrs);
        for j in i..(i + k).min(t.v4) {
            let (len, a) = v4_prefix(j);
            push_nlri(&mut body, len, &a);
        }
        out.extend(route_monitoring(&body));
        updates += 1;
        i += k;
        n += 1;
    }
    let (mut i, mut n) = (0u32, 0u32);
    while i < t.v6 {
        let s = n % t.v6_sets;
        let k = (1 + mix(u64::from(n) | 1 << 50) % 12) as u32;
        let mut mp = vec![0, 2, 1, 16];
        mp.extend_from_slice(&((0x2001_0db8u128 << 96) | u128::from(s)).to_be_bytes());
        mp.push(0);
        for j in i..(i + k).min(t.v6) {
            let (len, a) = v6_prefix(j);
            push_nlri(&mut mp, len, &a);
        }
        let mut attrs = common_attrs(s, 6);
        attrs.extend(attr(0x80, 14, &mp));
        let mut body = vec![0, 0];
        body.extend_from_slice(&(attrs.len() as u16).to_be_bytes());
        body.extend(attrs);
        out.extend(route_monitoring(&body));
        updates += 1;
        i += k;
        n += 1;
    }
    (out, updates)
}
