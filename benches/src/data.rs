//! The large captures of `../shared/data/bench/`, decompressed once into `target/bench-data/`.

use std::path::{Path, PathBuf};
use std::process::Command;

/// `target/bench-data/<name>` (e.g. `big_pmacct_sfprobe.pcap`), made from
/// `../shared/data/bench/<name>.xz` on first use. Panics with the command that failed: this is
/// benchmark setup, and a bench without its data cannot run.
pub fn capture(name: &str) -> PathBuf {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let out = root.join("target/bench-data").join(name);
    if !out.exists() {
        let xz = root.join("../shared/data/bench").join(format!("{name}.xz"));
        std::fs::create_dir_all(out.parent().unwrap_or(Path::new("."))).expect("target dir");
        let data = Command::new("xz").arg("-dkc").arg(&xz).output().expect("xz runs");
        assert!(data.status.success(), "xz -dkc {} failed", xz.display());
        let tmp = out.with_extension("tmp");
        std::fs::write(&tmp, &data.stdout).expect("write capture");
        std::fs::rename(&tmp, &out).expect("rename capture");
    }
    out
}
