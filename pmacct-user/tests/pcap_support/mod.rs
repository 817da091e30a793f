//! Writing classic pcap files of Ethernet/IPv4/UDP frames, so tests can hand generated or
//! rewrapped export datagrams to pmacct and to pmacct-rs as a `pcap_savefile`.
#![allow(dead_code)]

use std::net::Ipv4Addr;
use std::path::Path;

fn checksum(header: &[u8]) -> u16 {
    let mut sum: u32 = header.chunks(2).map(|c| u32::from(u16::from_be_bytes([c[0], c[1]]))).sum();
    while sum > 0xffff {
        sum = (sum & 0xffff) + (sum >> 16);
    }
    !(sum as u16)
}

/// One Ethernet/IPv4/UDP frame carrying `payload` from `src`:2055 to 192.0.2.1:`port`.
pub fn frame(src: Ipv4Addr, port: u16, payload: &[u8]) -> Vec<u8> {
    let mut f = Vec::with_capacity(42 + payload.len());
    f.extend_from_slice(&[0x02, 0, 0, 0, 0, 1, 0x02, 0, 0, 0, 0, 2, 0x08, 0x00]);
    let total = u16::try_from(28 + payload.len()).expect("datagram fits IPv4");
    let mut ip = [0u8; 20];
    ip[0] = 0x45;
    ip[2..4].copy_from_slice(&total.to_be_bytes());
    ip[8] = 64;
    ip[9] = 17;
    ip[12..16].copy_from_slice(&src.octets());
    ip[16..20].copy_from_slice(&[192, 0, 2, 1]);
    let sum = checksum(&ip);
    ip[10..12].copy_from_slice(&sum.to_be_bytes());
    f.extend_from_slice(&ip);
    f.extend_from_slice(&2055u16.to_be_bytes());
    f.extend_from_slice(&port.to_be_bytes());
    f.extend_from_slice(&(total - 20).to_be_bytes());
    f.extend_from_slice(&[0, 0]);
    f.extend_from_slice(payload);
    f
}

/// A classic pcap (microseconds, Ethernet) being built in memory.
pub struct PcapWriter {
    bytes: Vec<u8>,
    frames: u32,
}

impl Default for PcapWriter {
    fn default() -> Self {
        let mut bytes = Vec::new();
        for v in [0xa1b2_c3d4u32.to_le_bytes().as_slice(), &2u16.to_le_bytes(), &4u16.to_le_bytes()]
        {
            bytes.extend_from_slice(v);
        }
        bytes.extend_from_slice(&[0; 8]);
        bytes.extend_from_slice(&65_535u32.to_le_bytes());
        bytes.extend_from_slice(&1u32.to_le_bytes());
        PcapWriter { bytes, frames: 0 }
    }
}

impl PcapWriter {
    /// Appends a datagram from `src` to UDP `port`, one second after the previous one.
    pub fn datagram(&mut self, src: Ipv4Addr, port: u16, payload: &[u8]) {
        self.frame(&frame(src, port, payload));
    }

    /// Appends a whole Ethernet frame, one second after the previous one.
    pub fn frame(&mut self, fr: &[u8]) {
        let len = u32::try_from(fr.len()).expect("frame length");
        self.bytes.extend_from_slice(&(1_700_000_000 + self.frames).to_le_bytes());
        self.bytes.extend_from_slice(&0u32.to_le_bytes());
        self.bytes.extend_from_slice(&len.to_le_bytes());
        self.bytes.extend_from_slice(&len.to_le_bytes());
        self.bytes.extend_from_slice(fr);
        self.frames += 1;
    }

    /// Frames written so far.
    pub fn frames(&self) -> usize {
        self.frames as usize
    }

    /// Writes the file.
    pub fn write(&self, out: &Path) {
        std::fs::write(out, &self.bytes).expect("write capture");
    }
}
