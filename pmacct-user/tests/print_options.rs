//! print options side by side with nfacctd 1.7.7: `print_output_separator`,
//! `print_output_file_append`, `print_markers`, `print_latest_file`, `event_csv`,
//! `event_formatted`, `timestamps_since_epoch`, `timestamps_utc`, `timestamps_secs`,
//! in CSV and JSON, on flow timestamps (`timestamp_start`, `timestamp_end`: from the export,
//! not from the arrival time).

mod pmacct_side_by_side;

use pmacct_side_by_side::{
    OURS_ONLY, PluginSpec, available, compare_prepared, run_ours, run_pmacct, shared,
};

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
            "markers_csv",
            &[("aggregate", "src_host, proto"), ("print_markers", "true")],
        ),
        PluginSpec::new(
            "markers_json",
            &[("aggregate", "dst_host"), ("print_output", "json"), ("print_markers", "true")],
        ),
        PluginSpec::new("event_csv", &[("aggregate", AGG), ("print_output", "event_csv")]),
        PluginSpec::new(
            "event_formatted",
            &[("aggregate", "src_host, dst_host, proto"), ("print_output", "event_formatted")],
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

/// `print_latest_file` points at the file written, for pmacct and for us.
#[test]
fn latest_file_matches_nfacctd() {
    if !available("nfacctd") {
        eprintln!("nfacctd or shared data absent: skipped");
        return;
    }
    let dir = tempfile::tempdir().expect("tmp");
    let mut targets = Vec::new();
    for who in ["pmacct", "ours"] {
        let d = dir.path().join(who);
        std::fs::create_dir_all(&d).expect("dir");
        let conf = d.join("c.conf");
        std::fs::write(
            &conf,
            format!(
                "daemonize: false\npcap_savefile: {}\npcap_savefile_wait: false\nplugins: print[p]\n\
                 aggregate: src_host\nprint_output: csv\nprint_refresh_time: 86400\n\
                 print_output_file: {}/out-%Y%m%d.csv\nprint_latest_file: {}/latest\n",
                shared("exports/softflowd_v9.pcap").display(),
                d.display(),
                d.display()
            ),
        )
        .expect("conf");
        if who == "pmacct" {
            run_pmacct("nfacctd", &conf, 1);
        } else {
            let text = std::fs::read_to_string(&conf).expect("conf") + OURS_ONLY;
            std::fs::write(&conf, text).expect("conf");
            run_ours("nfacctd", &conf);
        }
        let link = std::fs::read_link(d.join("latest")).expect("latest is a symlink");
        assert!(link.exists(), "{who}: {} dangling", link.display());
        targets.push(link.strip_prefix(&d).expect("inside its dir").to_path_buf());
    }
    assert_eq!(targets[0], targets[1]);
}
