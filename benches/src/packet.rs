//! Test frames.

/// An Ethernet/IPv4/TCP SYN frame, 10.0.0.1:40000 → 192.168.1.2:80, no payload (54 bytes; the
/// kernel's test run pads nothing, the program sees exactly these bytes).
pub fn tcp_ipv4() -> Vec<u8> {
    let mut p = vec![2, 0, 0, 0, 0, 2, 2, 0, 0, 0, 0, 1, 0x08, 0x00];
    // IPv4: version/IHL, TOS, total length 40, id, DF, TTL 64, TCP, checksum, addresses.
    p.extend_from_slice(&[0x45, 0, 0, 40, 0, 1, 0x40, 0, 64, 6, 0, 0]);
    p.extend_from_slice(&[10, 0, 0, 1, 192, 168, 1, 2]);
    // TCP: ports, seq, ack, data offset 5, SYN, window, checksum, urgent.
    p.extend_from_slice(&40000u16.to_be_bytes());
    p.extend_from_slice(&80u16.to_be_bytes());
    p.extend_from_slice(&[0, 0, 0, 1, 0, 0, 0, 0, 0x50, 0x02, 0xff, 0xff, 0, 0, 0, 0]);
    p
}

/// An ARP request frame (not IP).
pub fn arp() -> Vec<u8> {
    let mut p = vec![0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 2, 0, 0, 0, 0, 1, 0x08, 0x06];
    p.extend_from_slice(&[0, 1, 8, 0, 6, 4, 0, 1]);
    p.extend_from_slice(&[2, 0, 0, 0, 0, 1, 10, 0, 0, 1, 0, 0, 0, 0, 0, 0, 10, 0, 0, 2]);
    p
}
