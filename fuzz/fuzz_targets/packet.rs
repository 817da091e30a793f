//! Any bytes under any link type: `decode::packet::parse` must return, never panic.
#![no_main]

use libfuzzer_sys::fuzz_target;
use pmacct_user::decode::packet::{DecodeOptions, LinkType, parse_with};

const LINKS: [u32; 8] = [0, 1, 101, 108, 113, 228, 229, 276];

fuzz_target!(|data: &[u8]| {
    let Some((sel, frame)) = data.split_first() else { return };
    let link = LinkType(LINKS[usize::from(*sel) % LINKS.len()]);
    let opts = DecodeOptions { sctp_ports: sel & 0x80 != 0 };
    let _ = parse_with(link, frame, &opts);
});
