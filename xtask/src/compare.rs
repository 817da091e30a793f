//! `cargo xtask bench netflow|sflow`: the same capture through `pmacct-rs` and through pmacct
//! 1.7.7 (nfacctd / sfacctd from Debian) in one run, with the same config (5-tuple print plugin,
//! `pcap_savefile`, one purge at the end), timed, peak memory of each process tree sampled from
//! /proc, outputs compared as sets of rows. Then the criterion decode benchmark of that kind.

use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};

use crate::toolchain::{self, run, workspace_root};

/// What to compare.
#[derive(Clone, Copy, Debug)]
pub enum Kind {
    Netflow,
    Sflow,
}

impl Kind {
    fn daemon(self) -> &'static str {
        match self {
            Kind::Netflow => "nfacctd",
            Kind::Sflow => "sfacctd",
        }
    }

    fn captures(self) -> &'static [&'static str] {
        match self {
            Kind::Netflow => {
                &["big_pmacct_nfprobe_ipfix", "big_pmacct_nfprobe_v9", "big_softflowd_v5"]
            }
            Kind::Sflow => &["big_pmacct_sfprobe"],
        }
    }

    fn bench(self) -> &'static str {
        match self {
            Kind::Netflow => "netflow",
            Kind::Sflow => "sflow",
        }
    }
}

/// `../shared/data/bench/<name>.pcap.xz`, decompressed once into `target/bench-data/`.
fn capture(name: &str) -> Result<PathBuf> {
    let root = workspace_root();
    let xz = root.join("../shared/data/bench").join(format!("{name}.pcap.xz"));
    let dir = root.join("target/bench-data");
    std::fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
    let out = dir.join(format!("{name}.pcap"));
    if !out.exists() {
        let tmp = dir.join(format!("{name}.pcap.part"));
        let file = std::fs::File::create(&tmp)?;
        let status = Command::new("xz")
            .args(["-dkc"])
            .arg(&xz)
            .stdout(file)
            .status()
            .context("running xz (apt-get install xz-utils)")?;
        if !status.success() {
            bail!("xz -d {} failed", xz.display());
        }
        std::fs::rename(&tmp, &out)?;
    }
    Ok(out)
}

fn config(pcap: &Path, out: &Path) -> String {
    format!(
        "daemonize: false\npcap_savefile: {}\npcap_savefile_wait: false\nplugins: print[p]\n\
         aggregate[p]: src_host, dst_host, src_port, dst_port, proto\nprint_output[p]: csv\n\
         print_output_file[p]: {}\nprint_refresh_time[p]: 86400\n\
         plugin_pipe_size: 102400000\nplugin_buffer_size: 102400\n",
        pcap.display(),
        out.display()
    )
}

/// Resident set size (kB) of `pid` and all its descendants.
fn tree_rss_kb(pid: u32) -> u64 {
    let mut total = 0;
    let mut stack = vec![pid];
    while let Some(p) = stack.pop() {
        if let Ok(status) = std::fs::read_to_string(format!("/proc/{p}/status")) {
            total += status
                .lines()
                .find_map(|l| l.strip_prefix("VmRSS:"))
                .and_then(|v| v.split_whitespace().next()?.parse::<u64>().ok())
                .unwrap_or(0);
        }
        let children =
            std::fs::read_to_string(format!("/proc/{p}/task/{p}/children")).unwrap_or_default();
        stack.extend(children.split_whitespace().filter_map(|c| c.parse::<u32>().ok()));
    }
    total
}

struct Measured {
    secs: f64,
    /// User + system CPU of the process and the children it reaped (pmacct's plugins).
    cpu_secs: f64,
    peak_rss_kb: u64,
    stderr: String,
}

/// Runs `cmd` to completion, sampling its process tree's RSS every 5 ms.
/// End-to-end runs per daemon and capture.
const ROUNDS: usize = 3;

/// The lower CPU time and wall time of two runs, the higher peak RSS.
fn best(a: Option<Measured>, b: Measured) -> Measured {
    match a {
        None => b,
        Some(a) => Measured {
            secs: a.secs.min(b.secs),
            cpu_secs: a.cpu_secs.min(b.cpu_secs),
            peak_rss_kb: a.peak_rss_kb.max(b.peak_rss_kb),
            stderr: b.stderr,
        },
    }
}

fn measure(cmd: &mut Command) -> Result<Measured> {
    eprintln!("+ {}", toolchain::render(cmd));
    let log = tempfile_path("stderr");
    cmd.stdout(Stdio::null()).stderr(std::fs::File::create(&log)?);
    let cpu_before = children_cpu();
    let start = Instant::now();
    let mut child = cmd.spawn().with_context(|| format!("starting {}", toolchain::render(cmd)))?;
    let mut peak = 0;
    let status = loop {
        peak = peak.max(tree_rss_kb(child.id()));
        if let Some(s) = child.try_wait()? {
            break s;
        }
        std::thread::sleep(Duration::from_millis(5));
    };
    let secs = start.elapsed().as_secs_f64();
    let cpu_secs = children_cpu() - cpu_before;
    let stderr = std::fs::read_to_string(&log).unwrap_or_default();
    let _ = std::fs::remove_file(&log);
    if !status.success() {
        bail!("{} failed ({status}):\n{stderr}", toolchain::render(cmd));
    }
    Ok(Measured { secs, cpu_secs, peak_rss_kb: peak, stderr })
}

/// CPU seconds (user + system) of every child reaped so far (and their reaped descendants).
fn children_cpu() -> f64 {
    // SAFETY: getrusage fills a zeroed rusage struct.
    let ru = unsafe {
        let mut ru: libc::rusage = std::mem::zeroed();
        libc::getrusage(libc::RUSAGE_CHILDREN, &mut ru);
        ru
    };
    let t = |tv: libc::timeval| tv.tv_sec as f64 + tv.tv_usec as f64 / 1e6;
    t(ru.ru_utime) + t(ru.ru_stime)
}

fn tempfile_path(tag: &str) -> PathBuf {
    std::env::temp_dir().join(format!("pmacct-rs-bench-{}-{tag}", std::process::id()))
}

fn rows(path: &Path) -> Result<HashSet<String>> {
    let text =
        std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    Ok(text.lines().map(str::to_string).collect())
}

/// Flow records (NetFlow) or samples (sFlow) our daemon decoded, from its log.
fn records_from_log(stderr: &str) -> Option<u64> {
    stderr.lines().rev().find_map(|l| {
        let i = l.find("records=")?;
        l[i + 8..].split(|c: char| !c.is_ascii_digit()).next()?.parse().ok()
    })
}

/// Builds the release `pmacct-rs` the comparisons run.
fn build_release() -> Result<()> {
    let mut build = Command::new(std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into()));
    build.current_dir(workspace_root()).args(["build", "--release", "--bin", "pmacct-rs"]);
    run(&mut build)
}

/// `bench udp|aggregate`: the release daemon, then a comparison that runs both daemons live
/// (benches/benches/`bench`.rs).
pub fn bench_live(bench: &str, args: &[String]) -> Result<()> {
    build_release()?;
    let mut cmd = Command::new(std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into()));
    cmd.current_dir(workspace_root())
        .args(["bench", "--package", "pmacct-benches", "--bench", bench, "--"])
        .args(args);
    run(&mut cmd)
}

/// Runs the comparison for `kind` and then its criterion benchmark.
pub fn bench(kind: Kind, args: &[String]) -> Result<()> {
    let root = workspace_root();
    build_release()?;
    let ours_bin = root.join("target/release/pmacct-rs");
    let dir = root.join("target/bench-out");
    std::fs::create_dir_all(&dir)?;
    println!(
        "\n| capture | records | pmacct-rs wall s | {d} wall s | pmacct-rs CPU s | {d} CPU s | pmacct-rs records/CPU-s | {d} records/CPU-s | speed-up (CPU) | speed-up (wall) | pmacct-rs peak RSS MiB | {d} peak RSS MiB | same rows |",
        d = kind.daemon()
    );
    println!("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|");
    for name in kind.captures() {
        let pcap = capture(name)?;
        let (our_out, their_out) =
            (dir.join(format!("{name}.ours.csv")), dir.join(format!("{name}.pmacct.csv")));
        let (our_conf, their_conf) =
            (dir.join(format!("{name}.ours.conf")), dir.join(format!("{name}.pmacct.conf")));
        std::fs::write(&our_conf, config(&pcap, &our_out))?;
        std::fs::write(&their_conf, config(&pcap, &their_out))?;
        // The two daemons alternately, the best of ROUNDS each: on a shared machine the
        // minimum is the figure least stretched by other load.
        let (mut ours, mut theirs) = (None::<Measured>, None::<Measured>);
        for _ in 0..ROUNDS {
            let o = measure(
                Command::new(&ours_bin)
                    .args([kind.daemon(), "-f"])
                    .arg(&our_conf)
                    .env("PMACCT_LOG", "info"),
            )?;
            let t = measure(Command::new(kind.daemon()).arg("-f").arg(&their_conf))?;
            ours = Some(best(ours, o));
            theirs = Some(best(theirs, t));
        }
        let (ours, theirs) = (ours.context("no run")?, theirs.context("no run")?);
        let records = records_from_log(&ours.stderr).unwrap_or(0);
        let same = rows(&our_out)? == rows(&their_out)?;
        let mib = |kb: u64| kb as f64 / 1024.0;
        println!(
            "| {name} | {records} | {:.2} | {:.2} | {:.2} | {:.2} | {:.0} | {:.0} | {:.1}× | {:.1}× | {:.1} | {:.1} | {} |",
            ours.secs,
            theirs.secs,
            ours.cpu_secs,
            theirs.cpu_secs,
            records as f64 / ours.cpu_secs,
            records as f64 / theirs.cpu_secs,
            theirs.cpu_secs / ours.cpu_secs,
            theirs.secs / ours.secs,
            mib(ours.peak_rss_kb),
            mib(theirs.peak_rss_kb),
            if same { "yes" } else { "NO" }
        );
        if !same {
            eprintln!("outputs differ: {} vs {}", our_out.display(), their_out.display());
        }
    }
    let mut cmd = Command::new(std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into()));
    cmd.current_dir(&root)
        .args(["bench", "--package", "pmacct-benches", "--bench", kind.bench(), "--"])
        .args(args);
    run(&mut cmd)
}
