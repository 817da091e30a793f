//! `cargo xtask <command>`: the project's build tool.
//!
//! * `setup` — toolchains, the LLVM prefix for bpf-linker, bpf-linker, Debian test packages.
//! * `build-ebpf` — the XDP object (`target/bpfel-unknown-none/release/pmacct`).
//! * `test` — build-ebpf, then the workspace tests (extra args are passed to `cargo test`).
//! * `run` — build-ebpf, then `pmacct-rs` with the given args.
//! * `bench xdp` — per-packet cost of the XDP programs through `BPF_PROG_TEST_RUN` (root).
//! * `bench netflow|sflow|udp|aggregate|clickhouse` — the collectors against nfacctd/sfacctd 1.7.7 (see `compare`).
//! * `bench bmp` — a generated full table (1 M IPv4 + 200 k IPv6) loaded over BMP into pmacct-rs
//!   and pmbmpd 1.7.7: load time, routes/s, RSS and bytes per prefix.

mod bench_bmp;
mod compare;
mod ebpf;
mod fuzz;
mod setup;
mod tasks;
mod toolchain;

use anyhow::Result;
use clap::{Parser, Subcommand, ValueEnum};

#[derive(Parser)]
#[command(name = "cargo xtask", about = "pmacct-rs build tool")]
struct Cli {
    #[command(subcommand)]
    cmd: Cmd,
}

#[derive(Subcommand)]
enum Cmd {
    /// Install what building and testing need; skips what is already present.
    Setup {
        /// Do not install Debian packages.
        #[arg(long)]
        no_apt: bool,
    },
    /// Build the XDP object with the pinned nightly and print its path.
    BuildEbpf {
        /// Build the release profile (default) or, with `--release false`, the debug one.
        #[arg(long, default_value_t = true, action = clap::ArgAction::Set)]
        release: bool,
    },
    /// Build the XDP object, then run the workspace tests.
    Test {
        /// Arguments passed to `cargo test` (after `--`).
        #[arg(trailing_var_arg = true, allow_hyphen_values = true)]
        args: Vec<String>,
    },
    /// Build the XDP object, then run the daemon with the given arguments.
    Run {
        #[arg(trailing_var_arg = true, allow_hyphen_values = true)]
        args: Vec<String>,
    },
    /// Run every cargo-fuzz target for a bounded time, seeded from the shared captures.
    Fuzz {
        /// Seconds per target.
        #[arg(long, default_value_t = 30)]
        seconds: u32,
    },
    /// Run a benchmark and print its table.
    Bench {
        #[arg(value_enum)]
        which: Bench,
        /// Arguments passed to the benchmark binary.
        #[arg(trailing_var_arg = true, allow_hyphen_values = true)]
        args: Vec<String>,
    },
}

/// Benchmarks `cargo xtask bench` knows.
#[derive(Clone, Copy, ValueEnum)]
enum Bench {
    /// Per-packet cost of the XDP programs (`BPF_PROG_TEST_RUN`, needs root).
    Xdp,
    /// NetFlow/IPFIX: pmacct-rs vs nfacctd 1.7.7 on the same captures, then the decode bench.
    Netflow,
    /// sFlow: pmacct-rs vs sfacctd 1.7.7 on the same capture, then the decode bench.
    Sflow,
    /// Live UDP ingest: pmacct-rs vs nfacctd 1.7.7 on loopback at paced rates, loss per rate.
    Udp,
    /// Memory per aggregate in a memory plugin holding 1M keys: pmacct-rs vs nfacctd 1.7.7.
    Aggregate,
    /// Rows per second inserted into a private ClickHouse server by the ClickHouse sink.
    Clickhouse,
    /// BMP: a generated full table loaded into pmacct-rs pmbmpd and pmbmpd 1.7.7.
    Bmp,
}

fn main() -> Result<()> {
    match Cli::parse().cmd {
        Cmd::Setup { no_apt } => setup::setup(!no_apt),
        Cmd::BuildEbpf { release } => {
            let object = ebpf::build(release)?;
            println!("{}", object.display());
            Ok(())
        }
        Cmd::Test { args } => tasks::test(&args),
        Cmd::Fuzz { seconds } => {
            ebpf::build(true)?;
            fuzz::fuzz(seconds)
        }
        Cmd::Run { args } => tasks::run(&args),
        Cmd::Bench { which: Bench::Xdp, args } => tasks::bench_xdp(&args),
        Cmd::Bench { which: Bench::Netflow, args } => compare::bench(compare::Kind::Netflow, &args),
        Cmd::Bench { which: Bench::Sflow, args } => compare::bench(compare::Kind::Sflow, &args),
        Cmd::Bench { which: Bench::Udp, args } => compare::bench_live("udp_ingest", &args),
        Cmd::Bench { which: Bench::Aggregate, args } => {
            compare::bench_live("aggregate_memory", &args)
        }
        Cmd::Bench { which: Bench::Clickhouse, args } => {
            compare::bench_live("clickhouse_insert", &args)
        }
        Cmd::Bench { which: Bench::Bmp, args } => bench_bmp::bench(&args),
    }
}
