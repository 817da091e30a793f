//! `cargo xtask build-ebpf`: builds `pmacct-ebpf` for `bpfel-unknown-none` with the pinned nightly.

use std::path::PathBuf;

use anyhow::{Result, bail};

use crate::toolchain::{self, BPF_BIN, BPF_TARGET, NIGHTLY};

/// Flags for the target artefacts only (build scripts are built for the host with --target).
/// rustc hands target-cpu and target-feature on to bpf-linker (`--cpu`, `--cpu-features`).
/// * BTF, so the verifier log and bpftool show source lines and types;
/// * BPF ISA v3 (kernel ≥ 5.1: 32-bit jumps and ALU), fewer instructions than the v1 default;
/// * not `+allows-misaligned-mem-access`: it turns the byte-wise packet reads into wide loads,
///   but LLVM then also merges stores into the on-stack key at misaligned offsets (e.g. the MAC
///   at offset 38), and the verifier rejects every misaligned stack access.
const RUSTFLAGS: &[&str] = &["-C", "debuginfo=2", "-C", "target-cpu=v3", "-C", "link-arg=--btf"];

/// Builds the eBPF object and returns its path.
pub fn build(release: bool) -> Result<PathBuf> {
    let root = toolchain::workspace_root();
    let mut cmd = toolchain::rustup_run(NIGHTLY, "cargo");
    cmd.current_dir(&root).args([
        "build",
        "--package",
        "pmacct-ebpf",
        "--bin",
        BPF_BIN,
        "--target",
        BPF_TARGET,
        "-Z",
        "build-std=core",
    ]);
    if release {
        cmd.arg("--release");
    }
    // aya-ebpf picks the kernel arch (pt_regs, c_char) from this; setting CARGO_CFG_BPF_TARGET_ARCH instead would stop its build script from emitting the cfg.
    cmd.env_remove("CARGO_CFG_BPF_TARGET_ARCH");
    cmd.env("AYA_BPF_TARGET_ARCH", std::env::consts::ARCH);
    cmd.env("CARGO_ENCODED_RUSTFLAGS", RUSTFLAGS.join("\x1f"));
    toolchain::run(&mut cmd)?;
    let object = toolchain::bpf_object(if release { "release" } else { "debug" });
    if !object.is_file() {
        bail!("build succeeded but {} is missing", object.display());
    }
    Ok(object)
}
