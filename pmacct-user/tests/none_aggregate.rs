//! `aggregate: none`: one grand total per plugin (pmacct's "single grand total aggregate"), side
//! by side with nfacctd 1.7.7 in CSV, JSON and formatted output.

mod pmacct_side_by_side;

use pmacct_side_by_side::{PluginSpec, available, compare};

#[test]
fn none_prints_one_grand_total_as_nfacctd() {
    if !available("nfacctd") {
        eprintln!("nfacctd or shared data absent: skipped");
        return;
    }
    let plugins = [
        PluginSpec::new("csv", &[("aggregate", "none")]),
        PluginSpec::new("json", &[("aggregate", "none"), ("print_output", "json")]),
        PluginSpec::new("formatted", &[("aggregate", "none"), ("print_output", "formatted")]),
        PluginSpec::new("flows", &[("aggregate", "none, flows")]),
    ];
    let failures = compare("nfacctd", "pmacct_nfprobe_ipfix", "", &plugins, 4);
    assert!(failures.is_empty(), "{failures:#?}");
}
