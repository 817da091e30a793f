//! Any bytes as a NetFlow v5/v9/IPFIX datagram: the decoder must return, never panic. The input
//! is split at 0xFE bytes into several datagrams from one exporter so template
//! state carries over between them.
#![no_main]

use libfuzzer_sys::fuzz_target;
use pmacct_user::decode::netflow::{NetflowDecoder, NetflowOptions};

fuzz_target!(|data: &[u8]| {
    let mut dec = NetflowDecoder::new(NetflowOptions {
        renormalize: true,
        keep_enterprise_fields: true,
        ..Default::default()
    });
    let exporter = "192.0.2.1:2055".parse().expect("addr");
    let mut out = Vec::new();
    for dgram in data.split(|b| *b == 0xfe) {
        let _ = dec.decode(exporter, 0, dgram, &mut out);
    }
    let saved = dec.save_templates();
    let _ = dec.load_templates(&saved);
    let _ = dec.load_templates(data);
});
