//! `test`, `run` and `bench`: build the XDP object, then hand over to cargo.

use std::process::Command;

use anyhow::Result;

use crate::{ebpf, setup, toolchain};

/// Default arguments of `cargo xtask run`: the shipped config, which needs no external service.
const DEFAULT_RUN_ARGS: [&str; 3] = ["run", "--config", "deploy/pmacct-rs.toml"];

/// The userspace cargo: the one running xtask (`$CARGO`), else `cargo` from PATH.
fn cargo() -> Command {
    Command::new(std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into()))
}

/// setup (idempotent: a fresh machine gets what the tests need), build-ebpf, then
/// `cargo test --workspace --exclude pmacct-ebpf <args>`, then the parser's host unit tests
/// (`cargo test -p pmacct-ebpf --lib`).
pub fn test(args: &[String]) -> Result<()> {
    setup::setup(true)?;
    ebpf::build(true)?;
    let root = toolchain::workspace_root();
    let mut cmd = cargo();
    cmd.current_dir(&root).args(["test", "--workspace", "--exclude", "pmacct-ebpf"]).args(args);
    toolchain::run(&mut cmd)?;
    let mut cmd = cargo();
    cmd.current_dir(&root).args(["test", "--package", "pmacct-ebpf", "--lib"]);
    toolchain::run(&mut cmd)
}

/// setup, build-ebpf, then `cargo run --release --bin pmacct-rs -- <args>` (default:
/// `run --config deploy/pmacct-rs.toml`).
pub fn run(args: &[String]) -> Result<()> {
    setup::setup(true)?;
    ebpf::build(true)?;
    let mut cmd = cargo();
    cmd.current_dir(toolchain::workspace_root()).args([
        "run",
        "--release",
        "--bin",
        "pmacct-rs",
        "--",
    ]);
    if args.is_empty() {
        cmd.args(DEFAULT_RUN_ARGS);
    } else {
        cmd.args(args);
    }
    toolchain::run(&mut cmd)
}

/// build-ebpf, then the `xdp` benchmark of the `pmacct-benches` crate (prints a table).
pub fn bench_xdp(args: &[String]) -> Result<()> {
    ebpf::build(true)?;
    let mut cmd = cargo();
    cmd.current_dir(toolchain::workspace_root())
        .args(["bench", "--package", "pmacct-benches", "--bench", "xdp", "--"])
        .args(args);
    toolchain::run(&mut cmd)
}
