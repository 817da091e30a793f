//! Flows enriched from a live BMP feed, nfacctd 1.7.7 and pmacct-rs side by side: gobgpd A
//! streams BMP to both while gobgpd B announces `routes` over iBGP; once both msglogs hold every
//! route, the datagrams of `exports/pmacct_nfprobe_ipfix.pcap` go to both over UDP from
//! 127.0.0.1 (the BMP router's address), then both stop on SIGINT and print what they hold.
//! Needs `mod bmp_support; mod daemon; mod pmacct_side_by_side;` in the test crate.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::bmp_support::gobgp::{self, Pair, Procs, free_port, gobgp};
use crate::daemon;
use crate::pmacct_side_by_side::{BIN, OURS_ONLY};

/// Where a run left its output: a directory per side (`msglog.json` and the plugin files).
pub struct Run {
    pub pmacct: PathBuf,
    pub ours: PathBuf,
    pub our_log: String,
}

/// Waits for `child` to exit; panics after `limit` (the caller's [`Procs`] kills it).
fn wait(child: &mut Child, what: &str, limit: Duration) {
    let start = Instant::now();
    loop {
        if let Ok(Some(status)) = child.try_wait() {
            assert!(status.success(), "{what} failed: {status}");
            return;
        }
        assert!(start.elapsed() < limit, "{what} did not finish in {limit:?}");
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// A temporary directory, kept (and named on stderr) when `KEEP_SIDE_BY_SIDE` is set.
pub fn workdir() -> tempfile::TempDir {
    let keep = std::env::var_os("KEEP_SIDE_BY_SIDE").is_some();
    let dir = tempfile::Builder::new().disable_cleanup(keep).tempdir().expect("tmp");
    eprintln!("working in {}", dir.path().display());
    dir
}

/// Something done between two sends of the capture, given the pids of nfacctd and ours.
pub type Between<'a> = &'a dyn Fn(i32, i32);

/// Runs both collectors in `dir` with `conf(udp_port, bmp_port, output_dir)`, announces
/// `routes` (`(family, "prefix attrs...")`, as `gobgp global rib add` takes them) and sends the
/// capture, then once more after each of `between`. `plugins` is how many print plugins
/// nfacctd runs (to wait for their purges).
pub fn run(
    dir: &Path,
    conf: impl Fn(u16, u16, &Path) -> String,
    routes: &[(&str, &str)],
    plugins: usize,
    between: &[Between<'_>],
) -> Run {
    let (pm, ours) = (dir.join("pmacct"), dir.join("ours"));
    std::fs::create_dir_all(&pm).expect("dir");
    std::fs::create_dir_all(&ours).expect("dir");
    let (pm_port, our_port) = (free_port(), free_port());
    let (pm_udp, our_udp) = (daemon::free_udp_port(), daemon::free_udp_port());
    let pm_conf = dir.join("pmacct.conf");
    let our_conf = dir.join("ours.conf");
    std::fs::write(&pm_conf, conf(pm_udp, pm_port, &pm)).expect("conf");
    std::fs::write(&our_conf, conf(our_udp, our_port, &ours) + OURS_ONLY).expect("conf");
    let pm_log = dir.join("pmacct.log");
    let mut daemons = Procs(Vec::new());
    let nfacctd = Command::new("nfacctd")
        .arg("-f")
        .arg(&pm_conf)
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(&pm_log).expect("log"))
        .spawn()
        .expect("nfacctd");
    daemons.0.push(nfacctd);
    let our_log = dir.join("ours.log");
    let ours_proc = Command::new(BIN)
        .args(["nfacctd", "-f"])
        .arg(&our_conf)
        .env("PMACCT_LOG", "info")
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(&our_log).expect("log"))
        .spawn()
        .expect("pmacct-rs");
    daemons.0.push(ours_proc);
    // Both listen for BMP before gobgpd starts; gobgpd connects to both. nfacctd opens its BMP
    // socket late with rpki_roas_file (its BMP thread sleeps 5 s after starting the RPKI one).
    let logged = |what: &str| std::fs::read_to_string(&pm_log).unwrap_or_default().contains(what);
    gobgp::wait_for_long("nfacctd's BMP socket", Duration::from_secs(30), || {
        logged("waiting for BMP data")
    });
    std::thread::sleep(Duration::from_secs(1));
    let pair = Pair::start(dir, &[pm_port, our_port], None);
    let started = Instant::now();
    gobgp::wait_api(pair.api_b);
    for (family, route) in routes {
        let mut args = vec!["global", "rib", "-a", family, "add"];
        args.extend(route.split(' '));
        gobgp(pair.api_b, &args);
    }
    // Flows go out once both collectors logged every route.
    let prefixes: Vec<&str> = routes.iter().filter_map(|(_, r)| r.split(' ').next()).collect();
    gobgp::wait_for_long("the routes in both msglogs", Duration::from_secs(60), || {
        [&pm, &ours].iter().all(|d| {
            let log = std::fs::read_to_string(d.join("msglog.json")).unwrap_or_default();
            prefixes.iter().all(|p| log.contains(&format!("\"{p}\"")))
        })
    });
    eprintln!("routes in both RIBs after {:?}", started.elapsed());
    // nfacctd starts its plugins and collector (and its signal handlers) after sleeping 5 s
    // past the BMP thread's start (10 s with rpki_roas_file).
    gobgp::wait_for_long("nfacctd's collector", Duration::from_secs(30), || {
        logged("waiting for NetFlow")
    });
    std::thread::sleep(Duration::from_secs(2));
    let pid = |i: usize| daemons.0.get(i).and_then(|c| i32::try_from(c.id()).ok()).expect("pid");
    for round in std::iter::once(None).chain(between.iter().map(Some)) {
        if let Some(f) = round {
            f(pid(0), pid(1));
        }
        let sent = daemon::send_capture("pmacct_nfprobe_ipfix", pm_udp);
        assert_eq!(daemon::send_capture("pmacct_nfprobe_ipfix", our_udp), sent);
        std::thread::sleep(Duration::from_secs(1));
    }
    for child in &daemons.0 {
        let pid = i32::try_from(child.id()).expect("pid");
        // SAFETY: signalling our own child process.
        unsafe { libc::kill(pid, libc::SIGINT) };
    }
    for (child, what) in daemons.0.iter_mut().zip(["nfacctd", "pmacct-rs nfacctd"]) {
        wait(child, what, Duration::from_secs(60));
    }
    drop(pair);
    // nfacctd's plugins are child processes that may still be writing.
    gobgp::wait_for_long("nfacctd's plugins", Duration::from_secs(60), || {
        let text = std::fs::read_to_string(&pm_log).unwrap_or_default();
        text.matches("Purging cache - END").count() >= plugins
    });
    Run { pmacct: pm, ours, our_log: std::fs::read_to_string(&our_log).unwrap_or_default() }
}
