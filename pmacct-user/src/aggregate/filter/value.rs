//! Values in a filter: addresses, networks, ports, protocol names, MACs.

use std::net::{IpAddr, Ipv4Addr};

/// Protocol names pcap-filter accepts after `proto` (with or without the `\` escape).
pub fn proto_number(s: &str) -> Option<u8> {
    let s = s.strip_prefix('\\').unwrap_or(s);
    if let Ok(n) = s.parse::<u8>() {
        return Some(n);
    }
    Some(match s.to_ascii_lowercase().as_str() {
        "icmp" => 1,
        "igmp" => 2,
        "tcp" => 6,
        "udp" => 17,
        "gre" => 47,
        "esp" => 50,
        "ah" => 51,
        "icmp6" => 58,
        "pim" => 103,
        "vrrp" => 112,
        "sctp" => 132,
        _ => return None,
    })
}

/// A port number or one of the common service names of `/etc/services`.
pub fn port_number(s: &str) -> Option<u16> {
    if let Ok(n) = s.parse::<u16>() {
        return Some(n);
    }
    Some(match s.to_ascii_lowercase().as_str() {
        "ftp-data" => 20,
        "ftp" => 21,
        "ssh" => 22,
        "telnet" => 23,
        "smtp" => 25,
        "domain" => 53,
        "http" | "www" => 80,
        "pop3" => 110,
        "ntp" => 123,
        "snmp" => 161,
        "bgp" => 179,
        "https" => 443,
        _ => return None,
    })
}

/// `A-B` or a single port (a range of one).
pub fn port_range(s: &str) -> Option<(u16, u16)> {
    match s.split_once('-') {
        Some((a, b)) => {
            let (a, b) = (port_number(a)?, port_number(b)?);
            Some((a.min(b), a.max(b)))
        }
        None => port_number(s).map(|p| (p, p)),
    }
}

/// Address bits in the low end of a `u128`, and whether it is IPv6.
pub fn ip_bits(ip: &IpAddr) -> (u128, bool) {
    match ip {
        IpAddr::V4(a) => (u128::from(a.to_bits()), false),
        IpAddr::V6(a) => (a.to_bits(), true),
    }
}

/// Mask of `len` leading ones in a `width`-bit address.
pub fn prefix_mask(len: u8, width: u8) -> u128 {
    if len == 0 {
        return 0;
    }
    let all: u128 = if width == 128 { u128::MAX } else { (1u128 << width) - 1 };
    all & !((1u128 << (width - len)) - 1)
}

/// pcap-filter's IPv4 network forms: `10`, `10.1`, `10.1.2` (mask from the octet count) and
/// `10.1.2.3`. Returns the address and the implied prefix length.
pub fn v4_net(s: &str) -> Option<(Ipv4Addr, u8)> {
    let parts: Vec<&str> = s.split('.').collect();
    if parts.is_empty() || parts.len() > 4 {
        return None;
    }
    let mut octets = [0u8; 4];
    for (i, p) in parts.iter().enumerate() {
        octets[i] = p.parse().ok()?;
    }
    Some((Ipv4Addr::from(octets), 8 * parts.len() as u8))
}

/// `aa:bb:cc:dd:ee:ff` (also with `-` or `.` separators as pcap-filter accepts).
pub fn mac(s: &str) -> Option<[u8; 6]> {
    let hex: String = s.chars().filter(|c| !matches!(c, ':' | '-' | '.')).collect();
    if hex.len() != 12 {
        return None;
    }
    let mut out = [0u8; 6];
    for (i, o) in out.iter_mut().enumerate() {
        *o = u8::from_str_radix(hex.get(2 * i..2 * i + 2)?, 16).ok()?;
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values() {
        assert_eq!(proto_number("\\tcp"), Some(6));
        assert_eq!(proto_number("47"), Some(47));
        assert_eq!(proto_number("bogus"), None);
        assert_eq!(port_range("1024-1"), Some((1, 1024)));
        assert_eq!(port_range("domain"), Some((53, 53)));
        assert_eq!(port_range("70000"), None);
        assert_eq!(prefix_mask(8, 32), 0xff00_0000);
        assert_eq!(prefix_mask(0, 32), 0);
        assert_eq!(prefix_mask(128, 128), u128::MAX);
        assert_eq!(v4_net("10.1"), Some((Ipv4Addr::new(10, 1, 0, 0), 16)));
        assert_eq!(v4_net("10.1.300"), None);
        assert_eq!(mac("00:11:22:aa:bb:cc"), Some([0, 0x11, 0x22, 0xaa, 0xbb, 0xcc]));
        assert_eq!(mac("00:11:22"), None);
    }
}
