//! `cargo xtask bench bmp`: a generated full table ([`table::FULL`]) sent over one TCP session to
//! `pmacct-rs pmbmpd` and to pmbmpd 1.7.7 (Debian) in the same run, with the same config.
//!
//! Method, the same for both daemons:
//! - Config: listen on 127.0.0.1, no msglog, `bmp_dump_file` + `bmp_dump_refresh_time: 60`
//!   (pmbmpd keeps a RIB when it dumps; the dump also proves what was loaded).
//! - Started, given 1 s, idle RSS read. The stream is sent starting in the first seconds of a
//!   wall-clock minute (dumps run at multiples of 60 s, so none runs during a load under ~55 s).
//! - Load time: from the first byte sent until the daemon's CPU time (utime + stime of its
//!   process tree from /proc) last grew, once the whole stream was written and the CPU had been
//!   flat for 2 s. The session stays open (closing it flushes the router's routes).
//! - Memory: peak RSS of the tree while loading; bytes per prefix = (RSS loaded − RSS idle) /
//!   prefixes.
//! - Check: the next dump is awaited and its route lines counted.

mod table;

use std::io::Write;
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use anyhow::{Context, Result, bail};

use crate::toolchain::{run, workspace_root};

/// (RSS kB, peak RSS kB, CPU clock ticks) of `pid` and its descendants.
fn tree_usage(pid: u32) -> (u64, u64, u64) {
    let (mut rss, mut hwm, mut ticks) = (0, 0, 0);
    let mut stack = vec![pid];
    while let Some(p) = stack.pop() {
        if let Ok(status) = std::fs::read_to_string(format!("/proc/{p}/status")) {
            let kb = |key: &str| {
                status
                    .lines()
                    .find_map(|l| l.strip_prefix(key))
                    .and_then(|v| v.split_whitespace().next()?.parse::<u64>().ok())
                    .unwrap_or(0)
            };
            rss += kb("VmRSS:");
            hwm += kb("VmHWM:");
        }
        if let Ok(stat) = std::fs::read_to_string(format!("/proc/{p}/stat"))
            && let Some(rest) = stat.rsplit_once(')').map(|(_, r)| r)
        {
            let f: Vec<&str> = rest.split_whitespace().collect();
            // After the command: state is field 3, utime 14, stime 15 (1-based in proc(5)).
            let get = |i: usize| f.get(i - 3).and_then(|v| v.parse::<u64>().ok()).unwrap_or(0);
            ticks += get(14) + get(15);
        }
        let children =
            std::fs::read_to_string(format!("/proc/{p}/task/{p}/children")).unwrap_or_default();
        stack.extend(children.split_whitespace().filter_map(|c| c.parse::<u32>().ok()));
    }
    (rss, hwm, ticks)
}

struct Result1 {
    load_secs: f64,
    cpu_secs: f64,
    idle_kb: u64,
    loaded_kb: u64,
    peak_kb: u64,
    dumped: u64,
}

fn free_port() -> Result<u16> {
    Ok(std::net::TcpListener::bind("127.0.0.1:0")?.local_addr()?.port())
}

/// Kills the daemon when dropped.
struct Guard(Child);

impl Drop for Guard {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn load(name: &str, cmd: &mut Command, port: u16, stream: &[u8], dump: &Path) -> Result<Result1> {
    eprintln!("+ {name}: {cmd:?}");
    let child = cmd.stdout(Stdio::null()).spawn().with_context(|| format!("starting {name}"))?;
    let guard = Guard(child);
    let pid = guard.0.id();
    let start = Instant::now();
    while TcpStream::connect(("127.0.0.1", port)).is_err() {
        if start.elapsed() > Duration::from_secs(20) {
            bail!("{name} did not listen on {port}");
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    std::thread::sleep(Duration::from_secs(1));
    // Start in the first seconds of a minute, away from the dumps.
    loop {
        let s = SystemTime::now().duration_since(UNIX_EPOCH)?.as_secs() % 60;
        if (1..4).contains(&s) {
            break;
        }
        std::thread::sleep(Duration::from_millis(200));
    }
    let (idle_kb, _, ticks0) = tree_usage(pid);
    let mut conn = TcpStream::connect(("127.0.0.1", port))?;
    let t0 = Instant::now();
    let writer = {
        let mut c = conn.try_clone()?;
        let data = stream.to_vec();
        std::thread::spawn(move || c.write_all(&data).map(|()| Instant::now()))
    };
    // Busy: at least 2 ticks (20 ms of CPU at 100 Hz) in a 100 ms sample. Idle daemons wake
    // up on timers now and then; that is not loading.
    let (mut prev, mut last_busy, mut busy_ticks) = (ticks0, t0, ticks0);
    let written = loop {
        std::thread::sleep(Duration::from_millis(100));
        let (_, _, ticks) = tree_usage(pid);
        if ticks >= prev + 2 {
            (last_busy, busy_ticks) = (Instant::now(), ticks);
        }
        prev = ticks;
        if writer.is_finished() && last_busy.elapsed() > Duration::from_secs(2) {
            break writer.join().map_err(|_| anyhow::anyhow!("writer panicked"))??;
        }
    };
    let (loaded_kb, peak, _) = tree_usage(pid);
    let load_secs = last_busy.max(written).duration_since(t0).as_secs_f64();
    // SAFETY: sysconf has no memory-safety preconditions.
    let hz = unsafe { libc::sysconf(libc::_SC_CLK_TCK) }.max(1) as f64;
    let cpu_secs = (busy_ticks - ticks0) as f64 / hz;
    eprintln!("  {name}: loaded in {load_secs:.2} s; waiting for its next dump");
    let dumped = wait_dump(dump, Duration::from_secs(150))?;
    conn.flush()?;
    drop(conn);
    drop(guard);
    Ok(Result1 { load_secs, cpu_secs, idle_kb, loaded_kb, peak_kb: peak, dumped })
}

/// Route lines of the first complete dump written under `dir` (file name starts with the
/// last path component of `prefix`).
fn wait_dump(prefix: &Path, limit: Duration) -> Result<u64> {
    let dir = prefix.parent().context("dump dir")?;
    let stem = prefix.file_name().context("dump name")?.to_string_lossy().to_string();
    let start = Instant::now();
    while start.elapsed() < limit {
        for e in std::fs::read_dir(dir)?.filter_map(|e| e.ok()) {
            if !e.file_name().to_string_lossy().starts_with(&stem) {
                continue;
            }
            let text = std::fs::read_to_string(e.path()).unwrap_or_default();
            if text.contains("\"dump_close\"") {
                return Ok(text.lines().filter(|l| l.contains("\"ip_prefix\"")).count() as u64);
            }
        }
        std::thread::sleep(Duration::from_millis(500));
    }
    Ok(0)
}

fn conf(port: u16, dump: &Path, extra: &str) -> String {
    format!(
        "daemonize: false\nbmp_daemon_ip: 127.0.0.1\nbmp_daemon_port: {port}\n\
         bmp_dump_file: {}-$peer_src_ip.json\nbmp_dump_refresh_time: 60\n{extra}",
        dump.display()
    )
}

/// Runs the comparison and prints its table.
pub fn bench(args: &[String]) -> Result<()> {
    let root = workspace_root();
    let mut build = Command::new(std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into()));
    build.current_dir(&root).args(["build", "--release", "--bin", "pmacct-rs"]);
    run(&mut build)?;
    let ours_bin = root.join("target/release/pmacct-rs");
    let dir: PathBuf = root.join("target/bench-out/bmp");
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir)?;
    let t = if args.iter().any(|a| a == "--small") { table::SMALL } else { table::FULL };
    let (stream, updates) = table::stream(&t);
    let prefixes = u64::from(t.v4 + t.v6);
    eprintln!("stream: {} bytes, {updates} UPDATEs, {prefixes} prefixes", stream.len());

    let port = free_port()?;
    let dump = dir.join("dump-ours");
    let c = dir.join("ours.conf");
    std::fs::write(&c, conf(port, &dump, "metrics_listen: none\n"))?;
    let ours = load(
        "pmacct-rs",
        Command::new(&ours_bin)
            .args(["pmbmpd", "-f"])
            .arg(&c)
            .env("PMACCT_LOG", "warn")
            .stderr(std::fs::File::create(dir.join("ours.log"))?),
        port,
        &stream,
        &dump,
    )?;
    let port = free_port()?;
    let dump = dir.join("dump-pmbmpd");
    let c = dir.join("pmbmpd.conf");
    std::fs::write(&c, conf(port, &dump, &format!("logfile: {}/pmbmpd.log\n", dir.display())))?;
    let theirs = load(
        "pmbmpd",
        Command::new("pmbmpd").arg("-f").arg(&c).stderr(Stdio::null()),
        port,
        &stream,
        &dump,
    )?;

    let mib = |kb: u64| kb as f64 / 1024.0;
    let per = |r: &Result1| (r.loaded_kb.saturating_sub(r.idle_kb) * 1024) as f64 / prefixes as f64;
    println!(
        "\nstream: {} MB, {updates} UPDATEs, {prefixes} prefixes ({} IPv4 + {} IPv6)",
        stream.len() / 1_000_000,
        t.v4,
        t.v6
    );
    println!(
        "\n| daemon | load s | routes/s | CPU s | idle RSS MiB | loaded RSS MiB | peak RSS MiB | bytes/prefix | routes in dump |"
    );
    println!("|---|---:|---:|---:|---:|---:|---:|---:|---:|");
    for (name, r) in [("pmacct-rs pmbmpd", &ours), ("pmbmpd 1.7.7", &theirs)] {
        println!(
            "| {name} | {:.2} | {:.0} | {:.2} | {:.1} | {:.1} | {:.1} | {:.0} | {} |",
            r.load_secs,
            prefixes as f64 / r.load_secs,
            r.cpu_secs,
            mib(r.idle_kb),
            mib(r.loaded_kb),
            mib(r.peak_kb),
            per(r),
            r.dumped
        );
    }
    println!(
        "\nspeed-up {:.2}x; memory per prefix {:.2} of pmbmpd's",
        theirs.load_secs / ours.load_secs,
        per(&ours) / per(&theirs)
    );
    Ok(())
}
