//! Hand-built classic and pcapng files.

use super::*;

fn w32(v: &mut Vec<u8>, x: u32, be: bool) {
    v.extend_from_slice(&if be { x.to_be_bytes() } else { x.to_le_bytes() });
}

fn w16(v: &mut Vec<u8>, x: u16, be: bool) {
    v.extend_from_slice(&if be { x.to_be_bytes() } else { x.to_le_bytes() });
}

fn classic(be: bool, nanos: bool, link: u32, pkts: &[(u32, u32, &[u8], u32)]) -> Vec<u8> {
    let mut v = Vec::new();
    w32(&mut v, if nanos { 0xA1B2_3C4D } else { 0xA1B2_C3D4 }, be);
    w16(&mut v, 2, be);
    w16(&mut v, 4, be);
    w32(&mut v, 0, be);
    w32(&mut v, 0, be);
    w32(&mut v, 65535, be);
    w32(&mut v, link, be);
    for (sec, frac, data, orig) in pkts {
        w32(&mut v, *sec, be);
        w32(&mut v, *frac, be);
        w32(&mut v, data.len() as u32, be);
        w32(&mut v, *orig, be);
        v.extend_from_slice(data);
    }
    v
}

/// (timestamp µs, link type, data, original length) of one packet.
type Row = (u64, u32, Vec<u8>, u32);

fn read_all(bytes: &[u8]) -> Result<Vec<Row>, PcapError> {
    let mut r = CaptureReader::new(bytes)?;
    let mut out = Vec::new();
    while let Some(p) = r.next_packet()? {
        out.push((p.ts_us, p.link_type.0, p.data.to_vec(), p.orig_len));
    }
    Ok(out)
}

#[test]
fn classic_all_variants() {
    for be in [false, true] {
        for nanos in [false, true] {
            let frac = if nanos { 123_456_789 } else { 123_456 };
            let f = classic(be, nanos, 1, &[(10, frac, b"abcd", 60), (11, 0, b"", 0)]);
            let r = CaptureReader::new(&f[..]).unwrap();
            assert_eq!(r.format(), CaptureFormat::Pcap);
            let got = read_all(&f).unwrap();
            assert_eq!(got[0], (10_123_456, 1, b"abcd".to_vec(), 60), "be={be} nanos={nanos}");
            assert_eq!(got[1], (11_000_000, 1, vec![], 0));
            assert_eq!(got.len(), 2);
        }
    }
}

#[test]
fn classic_link_type_fcs_bits_ignored() {
    let f = classic(false, false, 0x1000_0071, &[(1, 0, b"x", 1)]);
    assert_eq!(read_all(&f).unwrap()[0].1, 113);
}

#[test]
fn bad_magic_and_huge_record() {
    assert!(matches!(
        CaptureReader::new(&[0xD4u8, 0xC3, 0xB2, 0xA1, 0, 0][..]),
        Err(PcapError::Truncated(_))
    ));
    assert!(matches!(CaptureReader::new(&[0u8; 24][..]), Err(PcapError::BadMagic(0))));
    let mut f = classic(false, false, 1, &[]);
    f.extend_from_slice(&[0, 0, 0, 0, 0, 0, 0, 0, 0xFF, 0xFF, 0xFF, 0x7F, 0, 0, 0, 0]);
    assert!(matches!(read_all(&f), Err(PcapError::TooLarge(_))));
}

fn block(v: &mut Vec<u8>, ty: u32, body: &[u8], be: bool) {
    let padded = body.len().div_ceil(4) * 4;
    let total = (12 + padded) as u32;
    w32(v, ty, be);
    w32(v, total, be);
    v.extend_from_slice(body);
    v.extend(std::iter::repeat_n(0, padded - body.len()));
    w32(v, total, be);
}

fn shb(v: &mut Vec<u8>, be: bool) {
    let mut b = Vec::new();
    w32(&mut b, 0x1A2B_3C4D, be);
    w16(&mut b, 1, be);
    w16(&mut b, 0, be);
    b.extend_from_slice(&[0xFF; 8]);
    block(v, 0x0A0D_0D0A, &b, be);
}

fn idb(v: &mut Vec<u8>, link: u16, tsresol: Option<u8>, tsoffset: Option<u64>, be: bool) {
    let mut b = Vec::new();
    w16(&mut b, link, be);
    w16(&mut b, 0, be);
    w32(&mut b, 0, be);
    if let Some(r) = tsresol {
        w16(&mut b, 9, be);
        w16(&mut b, 1, be);
        b.extend_from_slice(&[r, 0, 0, 0]);
    }
    if let Some(o) = tsoffset {
        w16(&mut b, 14, be);
        w16(&mut b, 8, be);
        b.extend_from_slice(&if be { o.to_be_bytes() } else { o.to_le_bytes() });
    }
    w16(&mut b, 0, be);
    w16(&mut b, 0, be);
    block(v, 1, &b, be);
}

fn epb(v: &mut Vec<u8>, iface: u32, ticks: u64, data: &[u8], orig: u32, be: bool) {
    let mut b = Vec::new();
    w32(&mut b, iface, be);
    w32(&mut b, (ticks >> 32) as u32, be);
    w32(&mut b, ticks as u32, be);
    w32(&mut b, data.len() as u32, be);
    w32(&mut b, orig, be);
    b.extend_from_slice(data);
    block(v, 6, &b, be);
}

fn sample_ng(be: bool) -> Vec<u8> {
    let mut v = Vec::new();
    shb(&mut v, be);
    idb(&mut v, 1, None, None, be);
    idb(&mut v, 101, Some(9), Some(100), be);
    block(&mut v, 0x0BAD, b"custom block skipped", be);
    epb(&mut v, 0, 5_000_001, b"eth", 64, be);
    epb(&mut v, 1, 7_000_000_123_456_789, b"rawip", 1500, be);
    let mut spb = Vec::new();
    w32(&mut spb, 3, be);
    spb.extend_from_slice(b"xyz");
    block(&mut v, 3, &spb, be);
    // A second section with one interface at 2^-10 s resolution.
    shb(&mut v, !be);
    idb(&mut v, 113, Some(0x80 | 10), None, !be);
    epb(&mut v, 0, 3 * 1024 + 512, b"sll", 3, !be);
    v
}

#[test]
fn pcapng_interfaces_resolutions_sections() {
    for be in [false, true] {
        let f = sample_ng(be);
        assert_eq!(CaptureReader::new(&f[..]).unwrap().format(), CaptureFormat::PcapNg);
        let got = read_all(&f).unwrap();
        assert_eq!(
            got,
            vec![
                (5_000_001, 1, b"eth".to_vec(), 64),
                (7_000_100_123_456, 101, b"rawip".to_vec(), 1500),
                (0, 1, b"xyz".to_vec(), 3),
                (3_500_000, 113, b"sll".to_vec(), 3),
            ],
            "be={be}"
        );
    }
}

#[test]
fn pcapng_unknown_interface() {
    let mut v = Vec::new();
    shb(&mut v, false);
    epb(&mut v, 0, 1, b"x", 1, false);
    assert!(matches!(read_all(&v), Err(PcapError::UnknownInterface(0))));
}

/// Every prefix of every sample file yields packets then a clean end or an error; no panic.
#[test]
fn truncation_at_every_offset() {
    let files = [
        classic(false, false, 1, &[(1, 2, b"hello", 5), (3, 4, b"world!", 6)]),
        classic(true, true, 1, &[(1, 2, b"hello", 5)]),
        sample_ng(false),
        sample_ng(true),
    ];
    for f in &files {
        let full = read_all(f).unwrap().len();
        for cut in 0..f.len() {
            if let Ok(got) = read_all(&f[..cut]) {
                assert!(got.len() < full || cut == f.len(), "cut {cut}");
            }
        }
    }
    // Garbage after a valid header.
    let mut x = 0x2545_F491_4F6C_DD1Du64;
    for _ in 0..500 {
        let mut f = if x & 1 == 0 { sample_ng(false) } else { classic(false, false, 1, &[]) };
        for _ in 0..64 {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            let i = (x as usize) % f.len();
            f[i] = (x >> 32) as u8;
        }
        let _ = read_all(&f);
    }
}
