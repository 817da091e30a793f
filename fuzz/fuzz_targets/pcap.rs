//! Any file: the capture reader and the savefile accountant must return, never panic.
#![no_main]

use libfuzzer_sys::fuzz_target;
use pmacct_user::input::pcap::CaptureReader;
use pmacct_user::input::savefile::{Accountant, SavefileOptions};

fuzz_target!(|data: &[u8]| {
    let Ok(mut reader) = CaptureReader::new(data) else { return };
    let mut acc = Accountant::new(SavefileOptions::default());
    let _ = acc.run(&mut reader, &mut |_| {});
});
