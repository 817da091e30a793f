//! Pinned toolchains and the paths derived from them.

use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{Context, Result, bail};

/// Userspace toolchain (must match `rust-toolchain.toml`).
pub const USER_TOOLCHAIN: &str = "1.99.0";
/// Nightly used for the eBPF crate (`-Z build-std=core`, needs `rust-src`).
pub const NIGHTLY: &str = "nightly-2026-10-15";
/// LLVM major version of [`NIGHTLY`]; bpf-linker must be built against the same one.
pub const LLVM_MAJOR: u32 = 23;
/// Target triple of the eBPF object.
pub const BPF_TARGET: &str = "bpfel-unknown-none";
/// Binary name of the eBPF crate (the object file's name).
pub const BPF_BIN: &str = "pmacct";

/// The workspace root (parent of the xtask crate).
pub fn workspace_root() -> PathBuf {
    let here = Path::new(env!("CARGO_MANIFEST_DIR"));
    here.parent().unwrap_or(here).to_path_buf()
}

/// Where the built eBPF object lands for a profile (`release` or `debug`).
pub fn bpf_object(profile: &str) -> PathBuf {
    workspace_root().join("target").join(BPF_TARGET).join(profile).join(BPF_BIN)
}

/// `~/.cache/pmacct-rs/llvm-<major>`: an `LLVM_PREFIX` whose `lib/` points at the nightly's
/// `libLLVM.so`, so bpf-linker links the very LLVM rustc uses.
pub fn llvm_prefix() -> Result<PathBuf> {
    let home = std::env::var_os("HOME").context("HOME is not set")?;
    Ok(PathBuf::from(home).join(format!(".cache/pmacct-rs/llvm-{LLVM_MAJOR}")))
}

/// A `Command` for `rustup run <toolchain> <program>`, with the variables a parent cargo or
/// rustup sets removed so they cannot leak the userspace toolchain into the child.
pub fn rustup_run(toolchain: &str, program: &str) -> Command {
    let mut cmd = Command::new("rustup");
    cmd.args(["run", toolchain, program]);
    for var in [
        "RUSTUP_TOOLCHAIN",
        "RUSTC",
        "RUSTC_WRAPPER",
        "RUSTC_WORKSPACE_WRAPPER",
        "RUSTDOC",
        "CARGO",
        "RUSTFLAGS",
        "CARGO_ENCODED_RUSTFLAGS",
        "CARGO_BUILD_RUSTFLAGS",
        "CARGO_BUILD_TARGET",
        "CARGO_MAKEFLAGS",
        "CARGO_PRIMARY_PACKAGE",
        "CARGO_TARGET_DIR",
    ] {
        cmd.env_remove(var);
    }
    cmd
}

/// Runs `cmd`, failing with its rendering if it does not exit 0.
pub fn run(cmd: &mut Command) -> Result<()> {
    eprintln!("+ {}", render(cmd));
    let status = cmd.status().with_context(|| format!("starting {}", render(cmd)))?;
    if !status.success() {
        bail!("{} failed: {status}", render(cmd));
    }
    Ok(())
}

/// Runs `cmd` and returns its stdout if it exits 0.
pub fn output(cmd: &mut Command) -> Option<String> {
    let out = cmd.output().ok()?;
    out.status.success().then(|| String::from_utf8_lossy(&out.stdout).into_owned())
}

/// A shell-like rendering of a command, for logs and errors.
pub fn render(cmd: &Command) -> String {
    let mut s = cmd.get_program().to_string_lossy().into_owned();
    for a in cmd.get_args() {
        s.push(' ');
        s.push_str(&a.to_string_lossy());
    }
    s
}
