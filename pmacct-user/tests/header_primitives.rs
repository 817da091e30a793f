//! `timestamp_export` (the NetFlow/IPFIX header's export time) and `fw_event` (pmacct's other
//! name of `nat_event`), side by side with nfacctd 1.7.7 on v5, v9 and IPFIX exports, in CSV,
//! JSON and formatted output, with the timestamp options.

mod pmacct_side_by_side;

use pmacct_side_by_side::{PluginSpec, available, compare};

#[test]
fn export_time_and_fw_event_print_what_nfacctd_prints() {
    if !available("nfacctd") {
        eprintln!("nfacctd or shared data absent: skipped");
        return;
    }
    let plugins = [
        PluginSpec::new("csv", &[("aggregate", "dst_host, timestamp_export, fw_event")]),
        PluginSpec::new(
            "json",
            &[
                ("aggregate", "proto, timestamp_export, timestamp_start, export_proto_version"),
                ("print_output", "json"),
            ],
        ),
        PluginSpec::new(
            "formatted",
            &[("aggregate", "proto, timestamp_export"), ("print_output", "formatted")],
        ),
        PluginSpec::new(
            "epoch",
            &[("aggregate", "timestamp_export"), ("timestamps_since_epoch", "true")],
        ),
    ];
    for capture in ["softflowd_v5", "softflowd_v9", "pmacct_nfprobe_ipfix"] {
        let failures = compare("nfacctd", capture, "", &plugins, 20);
        assert!(failures.is_empty(), "{failures:#?}");
    }
}
