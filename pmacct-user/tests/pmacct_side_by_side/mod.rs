//! Run nfacctd/sfacctd 1.7.7 and `pmacct-rs nfacctd|sfacctd -f` on the same config and the same
//! capture (`pcap_savefile`), and compare each print plugin's rows as sets.
#![allow(dead_code)]

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// The binary under test.
pub const BIN: &str = env!("CARGO_BIN_EXE_pmacct-rs");

/// A file under `../shared/data`.
pub fn shared(rel: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/data").join(rel)
}

/// True when the pmacct daemon `name` and the shared captures are there.
pub fn available(daemon: &str) -> bool {
    let ok = Command::new("sh")
        .args(["-c", &format!("command -v {daemon}")])
        .stdout(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    ok && shared("exports").exists()
}

/// One print plugin: name, its `key[name]: value` lines (without `print_output_file`).
pub struct PluginSpec {
    pub name: String,
    pub keys: Vec<(String, String)>,
}

impl PluginSpec {
    pub fn new(name: &str, keys: &[(&str, &str)]) -> Self {
        PluginSpec {
            name: name.into(),
            keys: keys.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect(),
        }
    }
}

/// The config text: `global` lines, then per-plugin lines, output files under `out`.
pub fn conf(capture: &Path, global: &str, plugins: &[PluginSpec], out: &Path) -> String {
    let names: Vec<String> = plugins.iter().map(|p| format!("print[{}]", p.name)).collect();
    let mut s = format!(
        "daemonize: false\npcap_savefile: {}\npcap_savefile_wait: false\nplugins: {}\n\
         print_output: csv\nprint_refresh_time: 86400\n{global}",
        capture.display(),
        names.join(", ")
    );
    for p in plugins {
        for (k, v) in &p.keys {
            s += &format!("{k}[{}]: {v}\n", p.name);
        }
        s += &format!("print_output_file[{}]: {}\n", p.name, out.join(&p.name).display());
    }
    s
}

/// Lines only pmacct-rs gets (pmacct would reject the key).
pub const OURS_ONLY: &str = "metrics_listen: none\n";

/// Rows of a plugin's output file (empty when pmacct wrote none). The writer's process id in
/// `print_markers` lines is replaced by `PID`.
pub fn rows(path: &Path) -> BTreeSet<String> {
    std::fs::read_to_string(path)
        .map(|s| s.lines().filter(|l| !l.trim().is_empty()).map(normalize_pid).collect())
        .unwrap_or_default()
}

fn normalize_pid(line: &str) -> String {
    for (open, close) in [("--START (", ")--"), ("--END (", ")--")] {
        if let Some(rest) = line.strip_prefix(open)
            && rest.strip_suffix(close).is_some_and(|n| n.bytes().all(|b| b.is_ascii_digit()))
        {
            return format!("{open}PID{close}");
        }
    }
    if let Some(at) = line.find("\"writer_id\": \"") {
        let start = at + "\"writer_id\": \"".len();
        if let Some(end) = line[start..].find('"') {
            let id = &line[start..start + end];
            if let Some((name, _)) = id.rsplit_once('/') {
                return format!("{}{name}/PID{}", &line[..start], &line[start + end..]);
            }
        }
    }
    line.to_string()
}

/// Runs pmacct's `daemon -f conf`. Its plugins are child processes that can still be writing
/// when the core exits, so waits until each logged the end of its purge.
pub fn run_pmacct(daemon: &str, conf: &Path, plugins: usize) {
    let log = conf.with_extension("pmacct.log");
    let status = Command::new(daemon)
        .arg("-f")
        .arg(conf)
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(&log).expect("log"))
        .status()
        .expect("run pmacct");
    assert!(status.success(), "{daemon} failed");
    let start = Instant::now();
    loop {
        let text = std::fs::read_to_string(&log).unwrap_or_default();
        if text.matches("Purging cache - END").count() >= plugins {
            return;
        }
        assert!(start.elapsed() < Duration::from_secs(60), "{daemon} plugins never ended:\n{text}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// Runs `pmacct-rs daemon -f conf`.
pub fn run_ours(daemon: &str, conf: &Path) -> String {
    let out = Command::new(BIN)
        .args([daemon, "-f"])
        .arg(conf)
        .env("PMACCT_LOG", "info")
        .output()
        .expect("run pmacct-rs");
    let log = String::from_utf8_lossy(&out.stderr).to_string();
    assert!(out.status.success(), "pmacct-rs {daemon} -f failed:\n{log}");
    log
}

/// Runs both on `capture` with the same config and returns, per plugin, a description of any
/// difference (empty: identical row sets). Also checks that at least `min_rows` rows were
/// printed over all plugins, so a test on empty output cannot pass.
pub fn compare(
    daemon: &str,
    capture: &str,
    global: &str,
    plugins: &[PluginSpec],
    min_rows: usize,
) -> Vec<String> {
    compare_prepared(daemon, capture, global, plugins, min_rows, |_| {})
}

/// [`compare`], with `prepare` called on each output directory before its daemon runs (e.g. to
/// leave a file for `print_output_file_append`).
pub fn compare_prepared(
    daemon: &str,
    capture: &str,
    global: &str,
    plugins: &[PluginSpec],
    min_rows: usize,
    prepare: impl Fn(&Path),
) -> Vec<String> {
    compare_inner(daemon, capture, global, plugins, min_rows, prepare, &[])
}

/// [`compare`] with some fields left out of both outputs (fields that depend on the wall clock,
/// such as `timestamp_max` of sFlow samples): CSV columns by header name, JSON keys by their
/// lowercase name.
pub fn compare_without(
    daemon: &str,
    capture: &str,
    global: &str,
    plugins: &[PluginSpec],
    min_rows: usize,
    drop: &[&str],
) -> Vec<String> {
    compare_inner(daemon, capture, global, plugins, min_rows, |_| {}, drop)
}

/// The rows of a CSV (comma-separated, header first) or JSON-lines output without the fields
/// in `drop`.
fn strip_fields(path: &Path, drop: &[&str]) -> BTreeSet<String> {
    let text = std::fs::read_to_string(path).unwrap_or_default();
    let mut lines = text.lines().filter(|l| !l.trim().is_empty());
    let Some(first) = lines.next() else { return BTreeSet::new() };
    if first.starts_with('{') {
        return std::iter::once(first)
            .chain(lines)
            .map(|l| {
                let mut l = l.to_string();
                for key in drop {
                    let pat = format!(", \"{}\": ", key.to_lowercase());
                    if let Some(at) = l.find(&pat) {
                        let rest = &l[at + pat.len()..];
                        let end = if let Some(r) = rest.strip_prefix('"') {
                            r.find('"').map_or(rest.len(), |e| e + 2)
                        } else {
                            rest.find([',', '}']).unwrap_or(rest.len())
                        };
                        l.replace_range(at..at + pat.len() + end, "");
                    }
                }
                l
            })
            .collect();
    }
    let header: Vec<&str> = first.split(',').collect();
    let keep: Vec<bool> =
        header.iter().map(|h| !drop.iter().any(|d| d.eq_ignore_ascii_case(h))).collect();
    std::iter::once(first)
        .chain(lines)
        .map(|l| {
            l.split(',')
                .zip(&keep)
                .filter(|(_, k)| **k)
                .map(|(v, _)| v)
                .collect::<Vec<_>>()
                .join(",")
        })
        .collect()
}

fn compare_inner(
    daemon: &str,
    capture: &str,
    global: &str,
    plugins: &[PluginSpec],
    min_rows: usize,
    prepare: impl Fn(&Path),
    drop: &[&str],
) -> Vec<String> {
    // KEEP_SIDE_BY_SIDE=1 leaves the configs and outputs behind for a look.
    let mut tmp = Some(tempfile::tempdir().expect("tmp"));
    let dir = match std::env::var_os("KEEP_SIDE_BY_SIDE") {
        Some(_) => tmp.take().map(tempfile::TempDir::keep).expect("tmp"),
        None => tmp.as_ref().map(|t| t.path().to_path_buf()).expect("tmp"),
    };
    eprintln!("side by side in {}", dir.display());
    let (pm, ours) = (dir.join("pmacct"), dir.join("ours"));
    std::fs::create_dir_all(&pm).expect("dir");
    std::fs::create_dir_all(&ours).expect("dir");
    // `traffic/small` names a file under the data directory; a bare name an export capture; an
    // absolute path a capture of its own.
    let cap = if capture.starts_with('/') {
        // An absolute path: a capture the test built.
        std::path::PathBuf::from(capture)
    } else if capture.contains('/') {
        shared(&format!("{capture}.pcap"))
    } else {
        shared(&format!("exports/{capture}.pcap"))
    };
    let pm_conf = dir.join("pmacct.conf");
    let our_conf = dir.join("ours.conf");
    std::fs::write(&pm_conf, conf(&cap, global, plugins, &pm)).expect("conf");
    // Tests run in parallel: no Prometheus endpoint (its default port would collide).
    let our_text = conf(&cap, global, plugins, &ours) + OURS_ONLY;
    std::fs::write(&our_conf, our_text).expect("conf");
    prepare(&pm);
    prepare(&ours);
    run_pmacct(daemon, &pm_conf, plugins.len());
    run_ours(daemon, &our_conf);
    let mut failures = Vec::new();
    let mut total = 0;
    for p in plugins {
        let (want, got) = if drop.is_empty() {
            (rows(&pm.join(&p.name)), rows(&ours.join(&p.name)))
        } else {
            (strip_fields(&pm.join(&p.name), drop), strip_fields(&ours.join(&p.name), drop))
        };
        // pmacct writes no file (not even a header) for an empty purge.
        let data = |s: &BTreeSet<String>| {
            s.iter().filter(|l| !l.starts_with(|c: char| c.is_ascii_uppercase())).count()
        };
        total += data(&want);
        eprintln!("{capture} {}: pmacct {} rows, ours {}", p.name, data(&want), data(&got));
        if data(&want) == 0 && data(&got) == 0 {
            continue;
        }
        if want != got {
            let missing: Vec<_> = want.difference(&got).take(3).collect();
            let extra: Vec<_> = got.difference(&want).take(3).collect();
            failures.push(format!(
                "{capture} {} ({:?}): pmacct {} lines, ours {}; missing {missing:?}; extra {extra:?}",
                p.name,
                p.keys,
                want.len(),
                got.len()
            ));
        }
    }
    assert!(total >= min_rows, "{capture}: only {total} rows in all, the test would prove nothing");
    failures
}
