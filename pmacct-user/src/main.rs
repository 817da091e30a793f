//! `pmacct-rs`: the daemon and its tools.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use clap::{Parser, Subcommand};
use pmacct_user::config::pmacct::Flavor;
use pmacct_user::config::{self, Config};
use pmacct_user::daemon::{Daemon, Signals};
use tracing::{info, warn};

#[derive(Parser)]
#[command(name = "pmacct-rs", version, about = "pmacct rebuilt in Rust: XDP flow accounting")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run the daemon.
    Run {
        /// Native config (TOML, or YAML by extension).
        #[arg(short, long, conflicts_with = "pmacct_config")]
        config: Option<PathBuf>,
        /// A pmacct config file (pmacctd.conf syntax).
        #[arg(long)]
        pmacct_config: Option<PathBuf>,
        /// Override a native key, e.g. `--set daemon.drain_interval_ms=200` (repeatable).
        #[arg(long = "set", value_name = "KEY=VALUE")]
        overrides: Vec<String>,
    },
    /// Drop-in for pmacctd: read a pmacct config file and run.
    Pmacctd {
        /// pmacct config file.
        #[arg(short = 'f')]
        file: PathBuf,
    },
    /// Drop-in for nfacctd (NetFlow v5/v9/IPFIX): read a pmacct config file and run.
    Nfacctd {
        #[arg(short = 'f')]
        file: PathBuf,
    },
    /// Drop-in for sfacctd (sFlow v5): read a pmacct config file and run.
    Sfacctd {
        #[arg(short = 'f')]
        file: PathBuf,
    },
    /// Drop-in for pmbmpd (BMP collector): read a pmacct config file and run.
    Pmbmpd {
        #[arg(short = 'f')]
        file: PathBuf,
    },
    /// Feed the export datagrams (NetFlow/IPFIX or sFlow) of a capture through the collectors
    /// as if they arrived live, flush and exit. A capture of BMP TCP sessions goes through the
    /// BMP daemon instead (each connection reassembled, the router being its TCP source).
    Replay {
        /// pcap or pcapng file of export datagrams (any UDP port).
        #[arg(long)]
        pcap: PathBuf,
        /// Play it this many times.
        #[arg(long, default_value_t = 1)]
        repeat: u32,
        /// Native config (plugins, collector settings).
        #[arg(short, long, conflicts_with = "pmacct_config")]
        config: Option<PathBuf>,
        /// A pmacct config file (nfacctd/sfacctd syntax).
        #[arg(long)]
        pmacct_config: Option<PathBuf>,
        #[arg(long = "set", value_name = "KEY=VALUE")]
        overrides: Vec<String>,
    },
    /// Validate a config file and print the resulting native config.
    CheckConfig {
        file: PathBuf,
        /// The file is in pmacct syntax (default: by extension `.conf`).
        #[arg(long)]
        pmacct: bool,
        /// Which pmacct daemon a pmacct-syntax file is written for.
        #[arg(long, default_value = "pmacctd", value_parser = FLAVORS)]
        flavor: String,
    },
    /// Convert a pmacct config file into the native TOML config (to stdout). Keys accepted but
    /// not acted on are listed as comments at the top.
    ConvertConfig {
        /// pmacct config file.
        file: PathBuf,
        /// Which pmacct daemon it is written for.
        #[arg(long, default_value = "pmacctd", value_parser = FLAVORS)]
        flavor: String,
    },
    /// Query a memory plugin (like pmacct's client: `-s`, `-c`/`-M`, `-T`, `-e`).
    Query(QueryCli),
}

/// `pmacct-rs query` flags, modelled on pmacct's `pmacct` client.
#[derive(clap::Args)]
struct QueryCli {
    /// Memory plugin socket (pmacct `imt_path`; `pmacct -p`).
    #[arg(short = 'p', long, default_value = pmacct_user::sink::memory::DEFAULT_IMT_PATH)]
    socket: PathBuf,
    /// Show every aggregate (`pmacct -s`): what a query without `-T`, `-M`, `-e` or `--stats`
    /// does anyway; accepted so pmacct client command lines work unchanged.
    #[arg(short = 's', long = "show")]
    _show: bool,
    /// Top N aggregates (`pmacct -T`); 0 shows all (`pmacct -s`).
    #[arg(short = 'T', long, default_value_t = 0)]
    top: usize,
    /// Sort by `bytes` or `packets`.
    #[arg(long, default_value = "bytes", value_parser = ["bytes", "packets"])]
    sort: String,
    /// Match on primitives, e.g. `src_host=10.0.0.1,proto=tcp` (`pmacct -c ... -M ...`).
    #[arg(short = 'M', long = "match")]
    filter: Option<String>,
    /// Erase the matching aggregates, or all (`pmacct -e`).
    #[arg(short = 'e', long, conflicts_with_all = ["stats"])]
    erase: bool,
    /// Table statistics instead of entries.
    #[arg(long)]
    stats: bool,
    /// JSON instead of a table.
    #[arg(long)]
    json: bool,
}

impl QueryCli {
    fn into_args(self) -> pmacct_user::query::QueryArgs {
        use pmacct_user::query::{QueryArgs, QueryOutput};
        use pmacct_user::sink::memory::{Request, SortBy};
        let by = if self.sort == "packets" { SortBy::Packets } else { SortBy::Bytes };
        let request = if self.stats {
            Request::Stats
        } else if self.erase {
            Request::Erase { filter: self.filter }
        } else if self.top == 0 && self.filter.is_some() {
            Request::Match { filter: self.filter.unwrap_or_default() }
        } else {
            Request::Top { by, n: self.top, filter: self.filter }
        };
        let output = if self.json { QueryOutput::Json } else { QueryOutput::Table };
        QueryArgs { socket: self.socket, request, output, ..QueryArgs::default() }
    }
}

fn parse_overrides(raw: &[String]) -> Result<Vec<(String, String)>> {
    raw.iter().map(|kv| Ok(config::parse_override(kv)?)).collect()
}

fn log_warnings(warnings: Vec<String>) {
    for w in warnings {
        warn!("{w}");
    }
}

fn init_logging(level: &str) {
    let filter = tracing_subscriber::EnvFilter::try_from_env("PMACCT_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(level));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .with_writer(std::io::stderr)
        .try_init();
}

/// The pmacct daemons whose config files we read (`--flavor`).
const FLAVORS: [&str; 3] = ["pmacctd", "nfacctd", "sfacctd"];

fn flavor(name: &str) -> Flavor {
    match name {
        "nfacctd" => Flavor::Nfacctd,
        "sfacctd" => Flavor::Sfacctd,
        _ => Flavor::Pmacctd,
    }
}

fn read_pmacct(path: &Path, flavor: Flavor) -> Result<Config> {
    let (cfg, warnings) = config::pmacct::read_pmacct_as(path, flavor)?;
    log_warnings(warnings);
    cfg.validate()?;
    Ok(cfg)
}

/// Where the running config came from, so SIGHUP can read it again.
#[derive(Clone)]
enum Source {
    Native {
        path: Option<PathBuf>,
        overrides: Vec<(String, String)>,
    },
    Pmacct(PathBuf, Flavor),
    /// Another source with a capture of export datagrams put in as `[savefile]`.
    Replay {
        base: Box<Source>,
        pcap: PathBuf,
        repeat: u32,
    },
}

impl Source {
    fn load(&self) -> Result<(Config, Vec<String>)> {
        Ok(match self {
            Source::Native { path, overrides } => config::load_any(path.as_deref(), overrides)?,
            Source::Pmacct(path, flavor) => {
                let (cfg, warnings) = config::pmacct::read_pmacct_as(path, *flavor)?;
                cfg.validate()?;
                (cfg, warnings)
            }
            Source::Replay { base, pcap, repeat } => {
                let kind = detect_export_kind(pcap)?;
                // A pmacct config is read as nfacctd's or sfacctd's, after what the capture holds.
                let base = match &**base {
                    Source::Pmacct(p, _) if kind == config::SavefileKind::Sflow => {
                        Source::Pmacct(p.clone(), Flavor::Sfacctd)
                    }
                    Source::Pmacct(p, _) => Source::Pmacct(p.clone(), Flavor::Nfacctd),
                    other => other.clone(),
                };
                let (mut cfg, warnings) = base.load()?;
                cfg.savefile = Some(config::SavefileConfig {
                    path: pcap.clone(),
                    kind,
                    wait: false,
                    replay: *repeat,
                    sampling_rate: 1,
                    delay_secs: 0,
                });
                // A replay replaces the network, as pmacct's pcap_savefile does.
                cfg.interfaces.clear();
                for c in &mut cfg.collectors {
                    c.listen.clear();
                }
                cfg.bmp = None;
                cfg.validate()?;
                (cfg, warnings)
            }
        })
    }
}

/// NetFlow/IPFIX or sFlow, from the first UDP datagram of a capture.
fn detect_export_kind(pcap: &Path) -> Result<config::SavefileKind> {
    let mut kind = None;
    pmacct_user::input::datagram::read_datagrams(pcap, &[], |d| {
        if kind.is_none() {
            kind = match d.payload {
                [0, 0, 0, 5, ..] => Some(config::SavefileKind::Sflow),
                [0, 5 | 9 | 10, ..] => Some(config::SavefileKind::Netflow),
                _ => None,
            };
        }
    })
    .with_context(|| format!("reading {}", pcap.display()))?;
    kind.with_context(|| {
        format!("{}: no NetFlow v5/v9, IPFIX or sFlow v5 datagram found", pcap.display())
    })
}

fn run(source: Source) -> Result<()> {
    let (cfg, warnings) = source.load()?;
    init_logging(&cfg.daemon.log_level);
    log_warnings(warnings);
    info!(
        interfaces = cfg.interfaces.len(),
        plugins = cfg.plugins.len(),
        savefile = cfg.savefile.is_some(),
        "starting"
    );
    let signals = Signals::install()?;
    let reloader = Box::new(move || {
        let (cfg, warnings) = source.load()?;
        log_warnings(warnings);
        Ok(cfg)
    });
    let daemon =
        Daemon::new(cfg, signals, pmacct_user::embedded::XDP_OBJECT)?.with_reloader(reloader);
    daemon.run()
}

/// A capture of BMP sessions: the config is read as pmbmpd's; its `[bmp]` settings are used.
fn replay_bmp(base: Source, pcap: &Path, repeat: u32) -> Result<()> {
    let base = match base {
        Source::Pmacct(p, _) => Source::Pmacct(p, Flavor::Pmbmpd),
        other => other,
    };
    let (cfg, warnings) = base.load()?;
    init_logging(&cfg.daemon.log_level);
    log_warnings(warnings);
    let bmp = cfg.bmp.unwrap_or_default();
    pmacct_user::daemon::replay_bmp_capture(&bmp, pcap, repeat)
}

fn main() -> Result<()> {
    let cli = Cli::parse();
    match cli.command {
        Command::Run { config, pmacct_config, overrides } => match pmacct_config {
            Some(p) => run(Source::Pmacct(p, Flavor::Pmacctd)),
            None => run(Source::Native { path: config, overrides: parse_overrides(&overrides)? }),
        },
        Command::Pmacctd { file } => run(Source::Pmacct(file, Flavor::Pmacctd)),
        Command::Nfacctd { file } => run(Source::Pmacct(file, Flavor::Nfacctd)),
        Command::Sfacctd { file } => run(Source::Pmacct(file, Flavor::Sfacctd)),
        Command::Pmbmpd { file } => run(Source::Pmacct(file, Flavor::Pmbmpd)),
        Command::Replay { pcap, repeat, config, pmacct_config, overrides } => {
            let base = match pmacct_config {
                Some(p) => Source::Pmacct(p, Flavor::Nfacctd),
                None => Source::Native { path: config, overrides: parse_overrides(&overrides)? },
            };
            if pmacct_user::routing::bmp_daemon::replay::is_bmp_capture(&pcap)? {
                return replay_bmp(base, &pcap, repeat);
            }
            run(Source::Replay { base: Box::new(base), pcap, repeat })
        }
        Command::CheckConfig { file, pmacct, flavor: f } => {
            init_logging("warn");
            let is_pmacct = pmacct || file.extension().is_some_and(|e| e == "conf");
            let cfg = if is_pmacct {
                read_pmacct(&file, flavor(&f))?
            } else {
                config::load(Some(&file), &[])?
            };
            let toml = toml::to_string_pretty(&cfg).context("rendering config")?;
            println!("# {}: OK\n{toml}", file.display());
            Ok(())
        }
        Command::ConvertConfig { file, flavor: f } => {
            init_logging("error");
            let (cfg, warnings) = config::pmacct::read_pmacct_as(&file, flavor(&f))?;
            cfg.validate()?;
            let toml = toml::to_string_pretty(&cfg).context("rendering config")?;
            println!(
                "# Converted from {} ({f} syntax) by pmacct-rs convert-config.",
                file.display()
            );
            for w in warnings {
                println!("# {w}");
            }
            print!("{toml}");
            Ok(())
        }
        Command::Query(args) => {
            init_logging("warn");
            print!("{}", pmacct_user::query::run_query(&args.into_args())?);
            Ok(())
        }
    }
}
