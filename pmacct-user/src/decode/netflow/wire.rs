//! Bounds-checked big-endian readers over wire bytes: every read returns `None` past the end,
//! so no decoder path can panic on a short or hostile datagram.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// `n` bytes at `off`, if they are all inside `b`.
#[inline]
pub fn slice(b: &[u8], off: usize, n: usize) -> Option<&[u8]> {
    b.get(off..off.checked_add(n)?)
}

#[inline]
pub fn u8_at(b: &[u8], off: usize) -> Option<u8> {
    b.get(off).copied()
}

#[inline]
pub fn u16_at(b: &[u8], off: usize) -> Option<u16> {
    let s = slice(b, off, 2)?;
    Some(u16::from_be_bytes([s[0], s[1]]))
}

#[inline]
pub fn u32_at(b: &[u8], off: usize) -> Option<u32> {
    let s: [u8; 4] = slice(b, off, 4)?.try_into().ok()?;
    Some(u32::from_be_bytes(s))
}

/// An unsigned big-endian integer of 1..=8 bytes (IPFIX reduced-size encoding); 0 for an
/// empty slice, the low 8 bytes for a longer one.
#[inline]
pub fn uint(s: &[u8]) -> u64 {
    match *s {
        [a] => u64::from(a),
        [a, b] => u64::from(u16::from_be_bytes([a, b])),
        [a, b, c, d] => u64::from(u32::from_be_bytes([a, b, c, d])),
        [a, b, c, d, e, f, g, h] => u64::from_be_bytes([a, b, c, d, e, f, g, h]),
        _ => {
            let s = if s.len() > 8 { &s[s.len() - 8..] } else { s };
            s.iter().fold(0u64, |acc, b| (acc << 8) | u64::from(*b))
        }
    }
}

/// An IPv4 address from the first 4 bytes (shorter slices are zero-padded, as pmacct's
/// `memcpy(MIN(len, 4))` leaves them).
#[inline]
pub fn ipv4(s: &[u8]) -> IpAddr {
    // Whole addresses are read directly: a variable-length copy into a small array costs a
    // `memcpy` call and a store-forwarding stall when the array is read back.
    if let Some(o) = s.first_chunk::<4>() {
        return IpAddr::V4(Ipv4Addr::from(*o));
    }
    let mut o = [0u8; 4];
    let n = s.len().min(4);
    o[..n].copy_from_slice(&s[..n]);
    IpAddr::V4(Ipv4Addr::from(o))
}

/// An IPv6 address from the first 16 bytes (zero-padded when shorter).
#[inline]
pub fn ipv6(s: &[u8]) -> IpAddr {
    if let Some(o) = s.first_chunk::<16>() {
        return IpAddr::V6(Ipv6Addr::from(*o));
    }
    let mut o = [0u8; 16];
    let n = s.len().min(16);
    o[..n].copy_from_slice(&s[..n]);
    IpAddr::V6(Ipv6Addr::from(o))
}

/// A MAC from the first 6 bytes (zero-padded when shorter).
#[inline]
pub fn mac(s: &[u8]) -> [u8; 6] {
    if let Some(o) = s.first_chunk::<6>() {
        return *o;
    }
    let mut o = [0u8; 6];
    let n = s.len().min(6);
    o[..n].copy_from_slice(&s[..n]);
    o
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_are_bounded() {
        let b = [1u8, 2, 3];
        assert_eq!(u16_at(&b, 1), Some(0x0203));
        assert_eq!(u16_at(&b, 2), None);
        assert_eq!(u32_at(&b, 0), None);
        assert_eq!(slice(&b, usize::MAX, 2), None);
        assert_eq!(uint(&[1, 0]), 256);
        assert_eq!(uint(&[]), 0);
        assert_eq!(ipv4(&[10, 0]), "10.0.0.0".parse::<IpAddr>().unwrap());
        assert_eq!(ipv4(&[10, 0, 0, 1, 9]), "10.0.0.1".parse::<IpAddr>().unwrap());
        for n in 0..=10 {
            let b: Vec<u8> = (1..=n).collect();
            let fold =
                b[b.len().saturating_sub(8)..].iter().fold(0u64, |a, x| a << 8 | u64::from(*x));
            assert_eq!(uint(&b), fold, "{n} bytes");
        }
        assert_eq!(mac(&[1, 2, 3, 4, 5, 6, 7]), [1, 2, 3, 4, 5, 6]);
        assert_eq!(mac(&[1, 2]), [1, 2, 0, 0, 0, 0]);
    }
}
