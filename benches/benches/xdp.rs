//! Per-packet cost of the XDP programs, measured by the kernel through `BPF_PROG_TEST_RUN`
//! (`cargo xtask bench xdp`; needs root and `cargo xtask build-ebpf`).
//!
//! Each row loads the object afresh, warms up (for the N-flow rows: one pass over all N keys, so
//! the measured rounds update existing flows, the steady state), then runs `rounds` test runs of
//! `repeat` packets and reports the kernel's ns/run: median, min and max over the rounds.
//!
//! Options (after `--`): `--repeat=N` (default 1000000), `--rounds=N` (5), `--flows=N` (1000000),
//! `--only=TEXT` (only the cases whose name contains TEXT).

use anyhow::{Context, Result, bail};
use pmacct_benches::{LoadOptions, Loaded, PROGRAM_BENCH_UPDATE, packet, read_object};
use pmacct_common::{ProgramConfig, action, field, names, stats};

/// Command-line settings.
struct Settings {
    repeat: u32,
    rounds: usize,
    flows: u32,
    /// Only the cases whose name contains this.
    only: Option<String>,
}

fn settings() -> Result<Settings> {
    let mut s = Settings { repeat: 1_000_000, rounds: 5, flows: 1_000_000, only: None };
    for arg in std::env::args().skip(1) {
        let num = |v: &str| v.parse::<u32>().with_context(|| format!("bad number in {arg}"));
        if let Some(v) = arg.strip_prefix("--repeat=") {
            s.repeat = num(v)?;
        } else if let Some(v) = arg.strip_prefix("--rounds=") {
            s.rounds = num(v)?.max(1) as usize;
        } else if let Some(v) = arg.strip_prefix("--flows=") {
            s.flows = num(v)?.max(1);
        } else if let Some(v) = arg.strip_prefix("--only=") {
            s.only = Some(v.to_string());
        } // anything else (cargo passes `--bench`) is ignored
    }
    Ok(s)
}

/// One measured row.
struct Row {
    name: String,
    median: u32,
    min: u32,
    max: u32,
}

/// Loads `program`, warms up with `warmup` runs (reporting their cost), measures.
fn measure(
    object: &[u8],
    s: &Settings,
    name: &str,
    program: &str,
    opts: LoadOptions,
    warmup: u32,
) -> Result<(Row, Loaded)> {
    let pkt = packet::tcp_ipv4();
    let l = Loaded::new(object, program, opts).with_context(|| format!("loading {name}"))?;
    let w = l.run(&pkt, warmup.max(1))?;
    if warmup > 1000 {
        println!(
            "  ({name}: warm-up pass of {warmup} runs, inserting: {} ns/packet)",
            w.ns_per_run
        );
    }
    let mut ns = Vec::with_capacity(s.rounds);
    for _ in 0..s.rounds {
        ns.push(l.run(&pkt, s.repeat)?.ns_per_run);
    }
    ns.sort_unstable();
    let row =
        Row { name: name.to_string(), median: ns[ns.len() / 2], min: ns[0], max: ns[ns.len() - 1] };
    Ok((row, l))
}

/// Sum over CPUs of one `STATS` counter.
fn stat(l: &Loaded, idx: u32) -> Result<u64> {
    let map = l.ebpf.map(names::STATS).context("STATS missing")?;
    let arr: aya::maps::PerCpuArray<_, u64> = aya::maps::PerCpuArray::try_from(map)?;
    Ok(arr.get(&idx, 0)?.iter().sum())
}

fn pin_to_cpu0() {
    // SAFETY: a zeroed cpu_set_t with one bit set, passed with its size, for this thread.
    unsafe {
        let mut set: libc::cpu_set_t = std::mem::zeroed();
        libc::CPU_SET(0, &mut set);
        libc::sched_setaffinity(0, std::mem::size_of::<libc::cpu_set_t>(), &set);
    }
}

/// One benchmark case: which program, how loaded, how many warm-up runs.
struct Case {
    name: String,
    program: &'static str,
    opts: LoadOptions,
    warmup: u32,
}

fn cases(s: &Settings) -> Vec<Case> {
    let base = LoadOptions::default();
    let drop_all = ProgramConfig::new(field::ALL, 1, action::DROP);
    let cap = s.flows + s.flows / 8;
    let case = |name: String, program, opts, warmup| Case { name, program, opts, warmup };
    vec![
        case("bare XDP_PASS".into(), names::PROGRAM_BARE, base, 1),
        case(
            "pmacct_xdp, 1 flow".into(),
            names::PROGRAM,
            LoadOptions { config: drop_all, ..base },
            1,
        ),
        case(
            format!("pmacct_xdp, {} flows", s.flows),
            names::PROGRAM,
            LoadOptions { config: drop_all, spread: s.flows, flows: cap, ..base },
            s.flows,
        ),
        case(
            "pmacct_xdp, sampling 1:100".into(),
            names::PROGRAM,
            LoadOptions { config: ProgramConfig::new(field::ALL, 100, action::DROP), ..base },
            1,
        ),
        case(
            "bare PERCPU_HASH update, 1 flow".into(),
            PROGRAM_BENCH_UPDATE,
            LoadOptions { bench_flows: 16, ..base },
            1,
        ),
        case(
            format!("bare PERCPU_HASH update, {} flows", s.flows),
            PROGRAM_BENCH_UPDATE,
            LoadOptions { spread: s.flows, bench_flows: cap, ..base },
            s.flows,
        ),
    ]
}

fn main() -> Result<()> {
    let s = settings()?;
    // SAFETY: geteuid has no preconditions.
    if unsafe { libc::geteuid() } != 0 {
        bail!("the XDP benchmark loads programs and calls BPF_PROG_TEST_RUN: run it as root");
    }
    let object = read_object()?;
    pin_to_cpu0();
    println!(
        "XDP per-packet cost (BPF_PROG_TEST_RUN, repeat {}, {} rounds, TCP/IPv4 54-byte frame)",
        s.repeat, s.rounds
    );
    let mut rows = Vec::new();
    for c in cases(&s) {
        if !s.only.as_ref().is_none_or(|o| c.name.contains(o.as_str())) {
            continue;
        }
        let (row, l) = measure(&object, &s, &c.name, c.program, c.opts, c.warmup)?;
        let full = stat(&l, stats::MAP_FULL)?;
        if full != 0 {
            bail!(
                "{}: {full} map-full events: the map is too small, figures not comparable",
                c.name
            );
        }
        rows.push(row);
    }
    let find = |prefix: &str| rows.iter().find(|r| r.name.starts_with(prefix)).map(|r| r.median);
    let many = format!("pmacct_xdp, {} flows", s.flows);
    let upd = format!("bare PERCPU_HASH update, {} flows", s.flows);
    println!();
    println!("| case | ns/packet (median) | min | max | target |");
    println!("|---|---:|---:|---:|---|");
    for r in &rows {
        let target = if r.name == "pmacct_xdp, 1 flow" {
            verdict(r.median <= 60, "≤ 60 ns")
        } else if r.name == "pmacct_xdp, sampling 1:100" {
            verdict(r.median <= 35, "≤ 35 ns")
        } else if r.name == many {
            match find(&upd) {
                Some(b) => {
                    let ratio = f64::from(r.median) / f64::from(b.max(1));
                    verdict(ratio <= 1.3, &format!("≤ 1.3× bare update: {ratio:.2}×"))
                }
                None => "(bare update not measured)".to_string(),
            }
        } else {
            String::new()
        };
        println!("| {} | {} | {} | {} | {} |", r.name, r.median, r.min, r.max, target);
    }
    Ok(())
}

fn verdict(ok: bool, what: &str) -> String {
    format!("{what} — {}", if ok { "met" } else { "NOT met" })
}
