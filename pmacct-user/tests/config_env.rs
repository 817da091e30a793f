//! `PMACCT_*` environment layer. One test in its own binary: it mutates the process environment.

use pmacct_user::config;

#[test]
fn env_overrides_file_and_is_overridden_by_set() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("c.toml");
    std::fs::write(
        &path,
        "[daemon]\nmetrics_listen = \"127.0.0.1:1\"\nlog_level = \"info\"\n\
         [[plugin]]\nname = \"p\"\ntype = \"print\"\naggregate = [\"src_host\"]\n",
    )
    .unwrap();
    // SAFETY: this binary runs only this test, so no other thread reads the environment.
    unsafe {
        std::env::set_var("PMACCT_DAEMON__METRICS_LISTEN", "0.0.0.0:9464");
        std::env::set_var("PMACCT_DAEMON__LOG_LEVEL", "debug");
        std::env::set_var("PMACCT_XDP__MAX_FLOWS", "4096");
        std::env::set_var("PMACCT_CONFIG", "/ignored/flat/variable");
    }
    let cfg = config::load(Some(&path), &[("daemon.log_level".into(), "warn".into())]).unwrap();
    assert_eq!(cfg.daemon.metrics_listen.as_deref(), Some("0.0.0.0:9464"));
    assert_eq!(cfg.xdp.max_flows, 4096);
    assert_eq!(cfg.daemon.log_level, "warn", "--set wins over env");

    // A type error from the environment names the key and the variable's source.
    unsafe { std::env::set_var("PMACCT_XDP__MAX_FLOWS", "lots") };
    let msg = config::load(Some(&path), &[]).unwrap_err().to_string();
    assert!(msg.contains("xdp.max_flows"), "{msg}");
    assert!(msg.contains("PMACCT_XDP__MAX_FLOWS"), "{msg}");
    unsafe { std::env::remove_var("PMACCT_XDP__MAX_FLOWS") };
}
