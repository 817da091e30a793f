//! `cargo xtask fuzz [--seconds N]`: every cargo-fuzz target of `fuzz/` for a bounded time,
//! seeded from the real captures in `../shared/data` (installs cargo-fuzz if missing). A crash
//! fails the command.

use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{Context, Result};

use crate::toolchain::{
    NIGHTLY, USER_TOOLCHAIN, bpf_object, output, run, rustup_run, workspace_root,
};

/// Targets and the shared data that seeds each (files under `../shared/data`).
const TARGETS: &[(&str, &[&str])] = &[
    ("packet", &["traffic"]),
    ("pcap", &["traffic", "exports"]),
    (
        "netflow",
        &["vendors/telegraf", "vendors/logstash-codec-netflow", "vendors/graylog-plugin-netflow"],
    ),
    ("sflow", &["vendors/cistern-sflow", "vendors/telegraf", "vendors/logstash-codec-sflow"]),
    ("bmp", &[]),
    ("bgp", &[]),
];

fn ensure_cargo_fuzz() -> Result<()> {
    if output(Command::new("cargo-fuzz").arg("--version")).is_some() {
        return Ok(());
    }
    run(rustup_run(USER_TOOLCHAIN, "cargo").args(["install", "cargo-fuzz", "--locked"]))
}

/// Small files (≤ 64 KiB) under the seed folders, copied into a fresh corpus directory.
fn seed(corpus: &Path, dirs: &[&str]) -> Result<()> {
    std::fs::create_dir_all(corpus)?;
    let data = workspace_root().join("../shared/data");
    let mut stack: Vec<PathBuf> = dirs.iter().map(|d| data.join(d)).collect();
    let mut n = 0;
    while let Some(p) = stack.pop() {
        if p.is_dir() {
            for e in std::fs::read_dir(&p)?.flatten() {
                stack.push(e.path());
            }
        } else if p.metadata().is_ok_and(|m| m.len() <= 65_536) && n < 500 {
            std::fs::copy(&p, corpus.join(format!("seed-{n}")))?;
            n += 1;
        }
    }
    Ok(())
}

/// Runs every target for `seconds`.
pub fn fuzz(seconds: u32) -> Result<()> {
    ensure_cargo_fuzz()?;
    let root = workspace_root();
    let object = bpf_object("release");
    for (target, seeds) in TARGETS {
        let corpus = root.join("target/fuzz-corpus").join(target);
        seed(&corpus, seeds).with_context(|| format!("seeding {target}"))?;
        let mut cmd = rustup_run(NIGHTLY, "cargo");
        cmd.current_dir(root.join("fuzz"))
            .env("PMACCT_EBPF_OBJECT", &object)
            .args(["fuzz", "run", target])
            .arg(&corpus)
            .args([
                "--",
                &format!("-max_total_time={seconds}"),
                "-max_len=65536",
                "-rss_limit_mb=4096",
            ]);
        // libFuzzer's progress lines go to a log; its last lines are shown.
        let logs = root.join("target/fuzz-logs");
        std::fs::create_dir_all(&logs)?;
        let log = logs.join(format!("{target}.log"));
        cmd.stderr(std::fs::File::create(&log)?);
        let res = run(&mut cmd);
        let text = std::fs::read_to_string(&log).unwrap_or_default();
        let tail: Vec<&str> = text.lines().rev().take(if res.is_ok() { 2 } else { 60 }).collect();
        for l in tail.iter().rev() {
            eprintln!("  {l}");
        }
        res.with_context(|| {
            format!(
                "fuzz target {target} failed: see {} and fuzz/artifacts/{target}",
                log.display()
            )
        })?;
    }
    Ok(())
}
