//! `nfacctd_pro_rating` side by side with nfacctd 1.7.7: flows spanning several time bins split
//! over them in proportion to time. JSON rows carry the bin (`stamp_inserted`); `stamp_updated`
//! is the flush time (wall clock) and is left out.

mod pmacct_side_by_side;

use pmacct_side_by_side::{PluginSpec, available, compare_without};

fn plugins() -> Vec<PluginSpec> {
    let json_1m = |name: &str, agg: &str, pro: &str| {
        PluginSpec::new(
            name,
            &[
                ("aggregate", agg),
                ("print_output", "json"),
                ("print_history", "1m"),
                ("print_history_roundoff", "m"),
                ("nfacctd_pro_rating", pro),
            ],
        )
    };
    vec![
        json_1m("hosts", "src_host, dst_host", "true"),
        json_1m("proto_flows", "proto, flows", "true"),
        // The same without pro rating: whole flows in the bin of their start.
        json_1m("proto_whole", "proto", "false"),
        PluginSpec::new(
            "five_min",
            &[
                ("aggregate", "dst_port"),
                ("print_output", "json"),
                ("print_history", "5m"),
                ("print_history_roundoff", "m"),
                ("nfacctd_pro_rating", "true"),
            ],
        ),
        PluginSpec::new(
            "csv",
            &[
                ("aggregate", "src_port, flows"),
                ("print_history", "1m"),
                ("print_history_roundoff", "m"),
                ("nfacctd_pro_rating", "true"),
            ],
        ),
    ]
}

#[test]
fn pro_rating_matches_nfacctd() {
    if !available("nfacctd") {
        eprintln!("nfacctd or shared data absent: skipped");
        return;
    }
    let mut failures = Vec::new();
    for capture in ["softflowd_v5", "softflowd_v9", "pmacct_nfprobe_ipfix"] {
        failures.extend(compare_without(
            "nfacctd",
            capture,
            "",
            &plugins(),
            500,
            &["stamp_updated"],
        ));
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
