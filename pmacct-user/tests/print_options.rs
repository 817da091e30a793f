//! print options side by side with nfacctd 1.7.7: `print_output_separator`,
//! `print_output_file_append`, `timestamps_since_epoch`, `timestamps_utc`, `timestamps_secs`,
//! in CSV and JSON, on flow timestamps (`timestamp_start`, `timestamp_end`: from the export,
//! not from the arrival time).

mod pmacct_side_by_side;

use pmacct_side_by_side::{PluginSpec, available, compare_prepared};

const AGG: &str = "src_host, dst_host, proto, timestamp_start, timestamp_end";

fn plugins() -> Vec<PluginSpec> {
    vec![
        PluginSpec::new("plain", &[("aggregate", AGG)]),
        PluginSpec::new(
            "epoch_semicolon",
            &[
                ("aggregate", AGG),
                ("timestamps_since_epoch", "true"),
                ("print_output_separator", ";"),
            ],
        ),
        PluginSpec::new(
            "utc_secs_tab",
            &[
                ("aggregate", AGG),
                ("timestamps_utc", "true"),
                ("timestamps_secs", "true"),
                ("print_output_separator", "\\t"),
            ],
        ),
        PluginSpec::new(
            "json_epoch_secs",
            &[
                ("aggregate", AGG),
                ("print_output", "json"),
                ("timestamps_since_epoch", "true"),
                ("timestamps_secs", "true"),
            ],
        ),
        PluginSpec::new(
            "appended",
            &[("aggregate", "src_host, proto"), ("print_output_file_append", "true")],
        ),
    ]
}

#[test]
fn print_options_match_nfacctd() {
    if !available("nfacctd") {
        eprintln!("nfacctd or shared data absent: skipped");
        return;
    }
    let mut failures = Vec::new();
    for capture in ["softflowd_v9", "pmacct_nfprobe_ipfix"] {
        failures.extend(compare_prepared("nfacctd", capture, "", &plugins(), 1000, |dir| {
            std::fs::write(dir.join("appended"), "left,from,before\n").expect("pre-existing file");
        }));
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
