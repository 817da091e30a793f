//! `cargo xtask setup`: installs what is missing, skips what is present.

use std::os::unix::fs::symlink;
use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{Context, Result, bail};

use crate::toolchain::{self, LLVM_MAJOR, NIGHTLY, USER_TOOLCHAIN, llvm_prefix, output, run};

/// The bpf-linker release known to build and link our object with LLVM 23.
const BPF_LINKER_VERSION: &str = "0.13.0";

/// The Kafka broker the Kafka sink tests start (crates.io), and its features: `libsql` for
/// its SQLite storage (what the outage tests kill and restart), `dynostore` for memory/S3.
const TANSU_VERSION: &str = "0.6.0";
const TANSU_FEATURES: &str = "dynostore,libsql";

/// Debian packages the tests need (`cmake` and `libcurl4-openssl-dev` build the bundled
/// librdkafka of the Kafka sink).
const APT_PACKAGES: &[&str] = &[
    "pmacct",
    "tcpreplay",
    "tcpdump",
    "iproute2",
    "bpftool",
    "gobgpd",
    "xz-utils",
    "clickhouse-server",
    "rabbitmq-server",
    "python3-venv",
    "cmake",
    "libcurl4-openssl-dev",
    "frr",
];

/// chdb (ClickHouse 26.x in-process, PyPI) for the modern-schema ClickHouse tests.
const CHDB_VERSION: &str = "4.4.0";

/// Everything, in order.
pub fn setup(apt: bool) -> Result<()> {
    toolchains()?;
    let prefix = llvm_folder()?;
    bpf_linker(&prefix)?;
    if apt {
        apt_packages()?;
        chdb_venv()?;
    }
    tansu()?;
    eprintln!("setup complete");
    Ok(())
}

fn toolchains() -> Result<()> {
    toolchain_with(USER_TOOLCHAIN, &["clippy", "rustfmt"])?;
    toolchain_with(NIGHTLY, &["rust-src"])
}

/// Installs `name` with `components` unless it and they are all present already.
fn toolchain_with(name: &str, components: &[&str]) -> Result<()> {
    let installed = output(Command::new("rustup").args([
        "component",
        "list",
        "--installed",
        "--toolchain",
        name,
    ]));
    if let Some(list) = installed {
        let has = |c: &str| list.lines().any(|l| l.starts_with(&format!("{c}-")) || l == c);
        if components.iter().all(|c| has(c)) {
            eprintln!("toolchain {name} (+ {}): present", components.join(", "));
            return Ok(());
        }
    }
    run(Command::new("rustup")
        .args(["toolchain", "install", name, "--profile", "minimal", "--component"])
        .arg(components.join(",")))
}

/// Creates `<prefix>/lib/{libLLVM.so, libLLVM.so.<ver>}` pointing at the nightly's libLLVM.
fn llvm_folder() -> Result<PathBuf> {
    let prefix = llvm_prefix()?;
    let sysroot = output(toolchain::rustup_run(NIGHTLY, "rustc").args(["--print", "sysroot"]))
        .context("rustc --print sysroot failed for the nightly")?;
    let sysroot_lib = Path::new(sysroot.trim()).join("lib");
    let lib_name = std::fs::read_dir(&sysroot_lib)
        .with_context(|| format!("reading {}", sysroot_lib.display()))?
        .filter_map(|e| e.ok())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .find(|n| n.starts_with(&format!("libLLVM.so.{LLVM_MAJOR}")))
        .with_context(|| format!("no libLLVM.so.{LLVM_MAJOR}* in {}", sysroot_lib.display()))?;
    let target = sysroot_lib.join(&lib_name);
    let lib = prefix.join("lib");
    std::fs::create_dir_all(&lib).with_context(|| format!("creating {}", lib.display()))?;
    for link in [lib.join("libLLVM.so"), lib.join(&lib_name)] {
        if std::fs::read_link(&link).is_ok_and(|t| t == target) {
            continue;
        }
        let _ = std::fs::remove_file(&link);
        symlink(&target, &link).with_context(|| format!("linking {}", link.display()))?;
        eprintln!("{} -> {}", link.display(), target.display());
    }
    eprintln!("LLVM prefix: {}", prefix.display());
    Ok(prefix)
}

/// Installs bpf-linker unless one built for our LLVM major answers `--version`.
fn bpf_linker(prefix: &Path) -> Result<()> {
    if let Some(v) = output(Command::new("bpf-linker").arg("--version")) {
        let ok = linked_llvm_major().is_none_or(|m| m == LLVM_MAJOR);
        if ok {
            eprintln!("{}: present", v.trim());
            return Ok(());
        }
        eprintln!("bpf-linker is built for another LLVM: reinstalling");
    }
    let mut cmd = toolchain::rustup_run(USER_TOOLCHAIN, "cargo");
    cmd.args(["install", "--force", "bpf-linker", "--version", BPF_LINKER_VERSION])
        .env("LLVM_PREFIX", prefix);
    run(&mut cmd)
}

/// The LLVM major bpf-linker links against, from `ldd` (`libLLVM.so.<major>...`), if known.
fn linked_llvm_major() -> Option<u32> {
    let path = output(Command::new("sh").args(["-c", "command -v bpf-linker"]))?;
    let ldd = output(Command::new("ldd").arg(path.trim()))?;
    let rest = ldd.split("libLLVM.so.").nth(1)?;
    rest.split(|c: char| !c.is_ascii_digit()).next()?.parse().ok()
}

/// Where the chdb virtualenv lives (cached between runs on a machine); the tests read it too.
pub fn chdb_venv_dir() -> PathBuf {
    let home = std::env::var_os("HOME").map_or_else(|| PathBuf::from("/root"), PathBuf::from);
    home.join(".cache/pmacct-rs/chdb")
}

/// A Python virtualenv with chdb, for `tests/sink_clickhouse_modern.rs` (~1 GB, ~2 min).
fn chdb_venv() -> Result<()> {
    let dir = chdb_venv_dir();
    let python = dir.join("bin/python");
    let probe = format!(
        "import chdb, importlib.metadata as m; assert m.version('chdb') == '{CHDB_VERSION}'"
    );
    if python.exists() && Command::new(&python).args(["-c", &probe]).output()?.status.success() {
        eprintln!("chdb {CHDB_VERSION} in {}: present", dir.display());
        return Ok(());
    }
    if output(Command::new("sh").args(["-c", "command -v python3"])).is_none() {
        eprintln!("no python3: skipping chdb (the modern ClickHouse tests will fail)");
        return Ok(());
    }
    run(Command::new("python3").args(["-m", "venv", "--clear"]).arg(&dir))?;
    run(Command::new(dir.join("bin/pip")).args([
        "install",
        "--quiet",
        &format!("chdb=={CHDB_VERSION}"),
    ]))
}

/// `tansu` on PATH or in `~/.cargo/bin` (where `cargo install` puts it).
fn tansu_binary() -> Option<PathBuf> {
    let on_path = std::env::var_os("PATH")
        .map(|p| std::env::split_paths(&p).map(|d| d.join("tansu")).collect::<Vec<_>>())
        .unwrap_or_default();
    let home = std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cargo/bin/tansu"));
    on_path.into_iter().chain(home).find(|p| p.is_file())
}

/// Installs the tansu broker unless present (the binary is kept between runs on a machine;
/// a clean install compiles ~500 crates: about 16 minutes on 2 cores).
fn tansu() -> Result<()> {
    if let Some(p) = tansu_binary() {
        eprintln!("tansu: present ({})", p.display());
        return Ok(());
    }
    let mut cmd = toolchain::rustup_run(USER_TOOLCHAIN, "cargo");
    cmd.args(["install", "tansu", "--locked", "--version", TANSU_VERSION])
        .args(["--features", TANSU_FEATURES]);
    run(&mut cmd)
}

/// `apt-get install` of the missing [`APT_PACKAGES`] (Debian, as root only).
fn apt_packages() -> Result<()> {
    if output(Command::new("sh").args(["-c", "command -v apt-get"])).is_none() {
        eprintln!("no apt-get: skipping system packages ({})", APT_PACKAGES.join(" "));
        return Ok(());
    }
    let uid = output(Command::new("id").arg("-u")).unwrap_or_default();
    if uid.trim() != "0" {
        eprintln!("not root: skipping system packages ({})", APT_PACKAGES.join(" "));
        return Ok(());
    }
    let missing: Vec<&str> = APT_PACKAGES
        .iter()
        .copied()
        .filter(|p| {
            let st = output(Command::new("dpkg-query").args(["-W", "-f=${Status}", p]));
            !st.is_some_and(|s| s.contains("install ok installed"))
        })
        .collect();
    if missing.is_empty() {
        eprintln!("system packages: present");
        return Ok(());
    }
    run(Command::new("apt-get").arg("update"))?;
    let mut cmd = Command::new("apt-get");
    cmd.args(["install", "-y", "--no-install-recommends"]).args(&missing);
    cmd.env("DEBIAN_FRONTEND", "noninteractive");
    run(&mut cmd)?;
    if missing.iter().any(|p| output(Command::new("dpkg-query").args(["-W", p])).is_none()) {
        bail!("some of {} did not install", missing.join(" "));
    }
    Ok(())
}
