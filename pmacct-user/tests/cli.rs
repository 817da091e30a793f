//! The `pmacct-rs` command line: check-config on good and bad files (native and pmacct syntax).

use std::path::Path;
use std::process::{Command, Output};

const BIN: &str = env!("CARGO_BIN_EXE_pmacct-rs");

fn repo(rel: &str) -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..").join(rel)
}

fn check(file: &Path, extra: &[&str]) -> Output {
    Command::new(BIN).arg("check-config").arg(file).args(extra).output().expect("run")
}

#[test]
fn shipped_configs_are_valid() {
    let out = check(&repo("deploy/pmacct-rs.toml"), &[]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains(": OK") && text.contains("[[plugin]]"), "{text}");
    let out = check(&repo("deploy/examples/pmacctd.conf"), &[]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
}

#[test]
fn bad_configs_name_the_key_and_value() {
    let dir = tempfile::tempdir().expect("tmp");
    let native = dir.path().join("bad.toml");
    std::fs::write(
        &native,
        "[[plugin]]\nname = \"p\"\ntype = \"print\"\naggregate = [\"src_host\", \"src_nett\"]\n",
    )
    .expect("write");
    let out = check(&native, &[]);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("plugin[p].aggregate") && err.contains("src_nett"), "{err}");

    let pmacct = dir.path().join("bad.conf");
    std::fs::write(&pmacct, "plugins: print[p]\naggregate[p]: src_host, bogus_primitive\n")
        .expect("write");
    let out = check(&pmacct, &[]);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("aggregate") && err.contains("bogus_primitive") && err.contains("bad.conf:2:"),
        "{err}"
    );

    let typed = dir.path().join("typed.toml");
    std::fs::write(&typed, "[daemon]\ndrain_interval_ms = \"soon\"\n").expect("write");
    let out = check(&typed, &[]);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("daemon.drain_interval_ms") && err.contains("soon"), "{err}");
}
