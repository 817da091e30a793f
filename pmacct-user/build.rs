//! Embeds the XDP object built by `cargo xtask build-ebpf` into the daemon.
//!
//! The object is looked up at `$PMACCT_EBPF_OBJECT` or
//! `<target dir>/bpfel-unknown-none/release/pmacct`. A missing object is a build error that says
//! which command makes it.

use std::env;
use std::path::PathBuf;

fn main() {
    println!("cargo:rerun-if-env-changed=PMACCT_EBPF_OBJECT");
    println!("cargo:rerun-if-env-changed=CARGO_TARGET_DIR");
    let manifest =
        PathBuf::from(env::var("CARGO_MANIFEST_DIR").expect("cargo sets CARGO_MANIFEST_DIR"));
    let object = match env::var_os("PMACCT_EBPF_OBJECT") {
        Some(p) => PathBuf::from(p),
        None => {
            let target = env::var_os("CARGO_TARGET_DIR")
                .map(PathBuf::from)
                .map(|t| if t.is_absolute() { t } else { manifest.join("..").join(t) })
                .unwrap_or_else(|| manifest.join("../target"));
            target.join("bpfel-unknown-none/release/pmacct")
        }
    };
    println!("cargo:rerun-if-changed={}", object.display());
    if !object.is_file() {
        panic!(
            "\n\nThe XDP object {} is missing.\nBuild it first with:\n\n    cargo xtask setup        # once: toolchains and bpf-linker\n    cargo xtask build-ebpf\n\n",
            object.display()
        );
    }
    let out = PathBuf::from(env::var("OUT_DIR").expect("cargo sets OUT_DIR")).join("pmacct.bpf.o");
    std::fs::copy(&object, &out).unwrap_or_else(|e| panic!("copying {}: {e}", object.display()));
}
