//! Helpers for the XDP benchmarks and load checks: find and load the built object, run a program
//! through `BPF_PROG_TEST_RUN`, build test packets.

pub mod data;
pub mod live;
pub mod packet;
pub mod testrun;

use std::os::fd::{AsFd, AsRawFd, RawFd};
use std::path::PathBuf;

use aya::programs::Xdp;
use aya::{Ebpf, EbpfLoader};
use pmacct_common::{ProgramConfig, names};

/// Name of the bench-only global that spreads keys over N distinct flows (0 in production).
pub const BENCH_SPREAD: &str = "BENCH_SPREAD";
/// Bench-only map written by [`PROGRAM_BENCH_UPDATE`].
pub const BENCH_FLOWS: &str = "BENCH_FLOWS";
/// Bench-only program: one bare `PERCPU_HASH` update per run.
pub const PROGRAM_BENCH_UPDATE: &str = "pmacct_bench_update";

/// Errors of the bench helpers.
#[derive(Debug, thiserror::Error)]
pub enum BenchError {
    #[error("XDP object {path} is missing: run `cargo xtask build-ebpf` first ({source})")]
    MissingObject { path: PathBuf, source: std::io::Error },
    #[error("loading the XDP object: {0}")]
    Load(#[from] aya::EbpfError),
    #[error("program '{0}' missing from the object")]
    MissingProgram(String),
    #[error("program '{name}': {source}")]
    Program { name: String, source: aya::programs::ProgramError },
    #[error("BPF_PROG_TEST_RUN: {0}")]
    TestRun(std::io::Error),
}

/// Path of the release object: `$PMACCT_BPF_OBJECT`, else `target/bpfel-unknown-none/release/pmacct`
/// under the workspace root.
pub fn object_path() -> PathBuf {
    if let Some(p) = std::env::var_os("PMACCT_BPF_OBJECT") {
        return PathBuf::from(p);
    }
    let here = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let root = here.parent().map(PathBuf::from).unwrap_or(here);
    root.join("target/bpfel-unknown-none/release/pmacct")
}

/// Reads the built object, with a hint to build it when it is missing.
pub fn read_object() -> Result<Vec<u8>, BenchError> {
    let path = object_path();
    std::fs::read(&path).map_err(|source| BenchError::MissingObject { path, source })
}

/// How to load the object for one measurement.
#[derive(Clone, Copy, Debug)]
pub struct LoadOptions {
    pub config: ProgramConfig,
    /// Value of [`BENCH_SPREAD`].
    pub spread: u32,
    /// `max_entries` of `FLOWS_0` (the active map); `FLOWS_1` gets 1.
    pub flows: u32,
    /// `max_entries` of [`BENCH_FLOWS`].
    pub bench_flows: u32,
}

impl Default for LoadOptions {
    fn default() -> Self {
        Self { config: ProgramConfig::default(), spread: 0, flows: 1024, bench_flows: 1 }
    }
}

/// A loaded object with one XDP program loaded into the kernel (verifier passed).
pub struct Loaded {
    pub ebpf: Ebpf,
    fd: RawFd,
}

impl Loaded {
    /// Loads `object` with `opts` and verifies `program`.
    pub fn new(object: &[u8], program: &str, opts: LoadOptions) -> Result<Self, BenchError> {
        let mut ebpf = EbpfLoader::new()
            .override_global(names::CONFIG, &opts.config, true)
            .override_global(BENCH_SPREAD, &opts.spread, true)
            .map_max_entries(names::FLOWS_0, opts.flows)
            .map_max_entries(names::FLOWS_1, 1)
            .map_max_entries(BENCH_FLOWS, opts.bench_flows)
            .load(object)?;
        let err = |source| BenchError::Program { name: program.to_string(), source };
        let prog: &mut Xdp = ebpf
            .program_mut(program)
            .ok_or_else(|| BenchError::MissingProgram(program.to_string()))?
            .try_into()
            .map_err(err)?;
        prog.load().map_err(err)?;
        let fd = prog.fd().map_err(err)?.as_fd().as_raw_fd();
        Ok(Self { ebpf, fd })
    }

    /// Runs the program `repeat` times on `packet` in the kernel.
    pub fn run(&self, packet: &[u8], repeat: u32) -> Result<testrun::RunResult, BenchError> {
        testrun::test_run(self.fd, packet, repeat).map_err(BenchError::TestRun)
    }
}
