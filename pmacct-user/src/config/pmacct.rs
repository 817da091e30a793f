//! Reader for pmacct's own config syntax, so operators keep their `pmacctd.conf`.
//!
//! Syntax (as pmacct 1.7's `cfg.c`): one `key: value` or `key[plugin]: value` per line; lines
//! starting with `!` or `#` are comments; keys are case-insensitive (plugin names are not);
//! the value is everything after the first `:` (so IPv6 addresses and paths keep theirs).
//! `plugins: print[a], memory[b]` declares plugins; an unnamed one is called `default_<type>`
//! as in pmacct. Lines apply in order: a global line sets every plugin, `key[name]` one plugin,
//! and a later line overwrites an earlier one (pmacct's semantics, also for a global line after
//! a named one).
//!
//! What a key becomes is decided in [`keys`]; keys we do not implement are collected into one
//! warning, never silently dropped.

mod amqp;
mod bmp;
mod collector;
mod ifmap;
mod kafka;
mod keys;

pub use collector::Flavor;

use std::path::Path;

use super::{Config, ConfigError, PluginConfig, PluginKind};

/// Reads a pmacctd config file. Relative map paths resolve against the file's directory.
pub fn read_pmacct(path: &Path) -> Result<(Config, Vec<String>), ConfigError> {
    read_pmacct_as(path, Flavor::Pmacctd)
}

/// Reads a config file written for pmacct's `flavor` daemon (pmacctd, nfacctd, sfacctd).
pub fn read_pmacct_as(path: &Path, flavor: Flavor) -> Result<(Config, Vec<String>), ConfigError> {
    let text = std::fs::read_to_string(path)
        .map_err(|source| ConfigError::Io { path: path.to_path_buf(), source })?;
    let base = path.parent().unwrap_or_else(|| Path::new("."));
    parse_with_label(&text, base, &path.display().to_string(), flavor)
}

/// Parses pmacctd config text. `base_dir` resolves relative map paths (`pcap_interfaces_map`).
/// Returns the config and warnings (keys accepted without effect, keys not implemented).
pub fn parse_pmacct(text: &str, base_dir: &Path) -> Result<(Config, Vec<String>), ConfigError> {
    parse_pmacct_as(text, base_dir, Flavor::Pmacctd)
}

/// Parses config text written for pmacct's `flavor` daemon.
pub fn parse_pmacct_as(
    text: &str,
    base_dir: &Path,
    flavor: Flavor,
) -> Result<(Config, Vec<String>), ConfigError> {
    parse_with_label(text, base_dir, "<config>", flavor)
}

/// One meaningful line: `key[name]: value`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Line {
    /// 1-based line number.
    pub number: usize,
    /// Lower-cased key without blanks.
    pub key: String,
    /// Plugin name from `key[name]`, case kept.
    pub plugin: Option<String>,
    /// Value, trimmed.
    pub value: String,
}

/// Error helper carrying the file label.
#[derive(Clone, Copy)]
pub(super) struct Ctx<'a> {
    pub file: &'a str,
    pub base_dir: &'a Path,
    pub flavor: Flavor,
}

impl Ctx<'_> {
    pub fn err(
        &self,
        line: usize,
        key: &str,
        value: &str,
        reason: impl Into<String>,
    ) -> ConfigError {
        ConfigError::Pmacct {
            file: self.file.to_string(),
            line,
            key: key.to_string(),
            value: value.to_string(),
            reason: reason.into(),
        }
    }
}

fn parse_with_label(
    text: &str,
    base_dir: &Path,
    file: &str,
    flavor: Flavor,
) -> Result<(Config, Vec<String>), ConfigError> {
    let ctx = Ctx { file, base_dir, flavor };
    let lines = lex(text, ctx)?;
    let mut warnings = Vec::new();
    let plugins = declare_plugins(&lines, ctx, &mut warnings)?;
    let mut config = keys::apply(&lines, plugins, ctx, &mut warnings)?;
    // pmacct has no metrics endpoint, so a pmacct config that does not ask for one gets the
    // default on a best-effort basis: nfacctd and sfacctd drop-ins on one host must not
    // collide on the port.
    config.daemon.metrics_best_effort = !lines.iter().any(|l| l.key == "metrics_listen");
    config.validate()?;
    Ok((config, warnings))
}

/// Splits text into [`Line`]s, checking pmacct's syntax rules.
pub(super) fn lex(text: &str, ctx: Ctx<'_>) -> Result<Vec<Line>, ConfigError> {
    let mut out = Vec::new();
    for (i, raw) in text.lines().enumerate() {
        let number = i + 1;
        let line = raw.trim();
        if line.is_empty() || line.starts_with('!') || line.starts_with('#') {
            continue;
        }
        let Some((key_part, value)) = line.split_once(':') else {
            return Err(ctx.err(number, line, "", "syntax error: expected `key: value`"));
        };
        let value = value.trim().to_string();
        let (key, plugin) = match key_part.split_once('[') {
            None => (key_part, None),
            Some((k, rest)) => {
                let Some(name) = rest.trim_end().strip_suffix(']') else {
                    return Err(ctx.err(
                        number,
                        key_part.trim(),
                        &value,
                        "syntax error: `[` without closing `]`",
                    ));
                };
                let name = name.trim();
                if name.is_empty() || name.contains(['[', ']']) {
                    return Err(ctx.err(
                        number,
                        key_part.trim(),
                        &value,
                        "syntax error: expected key[plugin_name]",
                    ));
                }
                (k, Some(name.to_string()))
            }
        };
        let key: String =
            key.chars().filter(|c| !c.is_whitespace()).collect::<String>().to_lowercase();
        if key.is_empty() || key.contains(']') {
            return Err(ctx.err(number, key_part.trim(), &value, "syntax error: missing key"));
        }
        out.push(Line { number, key, plugin, value });
    }
    Ok(out)
}

/// pmacct plugin types we know but do not implement yet.
const UNSUPPORTED_TYPES: &[&str] = &["mysql", "pgsql", "sqlite3", "nfprobe", "sfprobe", "tee"];

/// Builds the plugin list from the first `plugins:` line (pmacct ignores later ones).
fn declare_plugins(
    lines: &[Line],
    ctx: Ctx<'_>,
    warnings: &mut Vec<String>,
) -> Result<Vec<PluginConfig>, ConfigError> {
    let mut decls = lines.iter().filter(|l| l.key == "plugins");
    if ctx.flavor == Flavor::Pmbmpd {
        // pmbmpd runs no plugins.
        if let Some(l) = decls.next() {
            warnings.push(format!("line {}: `plugins` ignored by pmbmpd", l.number));
        }
        return Ok(Vec::new());
    }
    let Some(line) = decls.next() else {
        warnings.push(
            "no `plugins` line: defaulting to one memory plugin `default_memory`, as pmacct does"
                .into(),
        );
        return Ok(vec![PluginConfig::new("default_memory", PluginKind::Memory)]);
    };
    for extra in decls {
        warnings
            .push(format!("line {}: second `plugins` line ignored, as pmacct does", extra.number));
    }
    let mut plugins: Vec<PluginConfig> = Vec::new();
    for token in line.value.split(',').map(str::trim).filter(|t| !t.is_empty()) {
        let (kind, name) = match token.split_once('[') {
            Some((k, rest)) => {
                let name = rest.strip_suffix(']').map(str::trim).filter(|n| !n.is_empty());
                let Some(name) = name else {
                    return Err(ctx.err(
                        line.number,
                        "plugins",
                        token,
                        "expected type or type[name]",
                    ));
                };
                (k.trim().to_lowercase(), name.to_string())
            }
            None => {
                let k = token.to_lowercase();
                let name = format!("default_{k}");
                (k, name)
            }
        };
        let kind = match kind.as_str() {
            "print" => PluginKind::Print,
            "memory" => PluginKind::Memory,
            "amqp" => PluginKind::Amqp,
            "kafka" => PluginKind::Kafka,
            k if UNSUPPORTED_TYPES.contains(&k) => {
                return Err(ctx.err(line.number, "plugins", token, format!("plugin type `{k}` is not supported by pmacct-rs yet (supported: print, memory, amqp, kafka)")));
            }
            k => {
                return Err(ctx.err(
                    line.number,
                    "plugins",
                    token,
                    format!("unknown plugin type `{k}` (supported: print, memory, amqp, kafka)"),
                ));
            }
        };
        if plugins.iter().any(|p| p.name == name) {
            return Err(ctx.err(
                line.number,
                "plugins",
                token,
                format!("plugin name `{name}` is declared twice"),
            ));
        }
        plugins.push(PluginConfig::new(&name, kind));
    }
    if plugins.is_empty() {
        return Err(ctx.err(
            line.number,
            "plugins",
            &line.value,
            "expected at least one plugin (print, memory)",
        ));
    }
    Ok(plugins)
}

#[cfg(test)]
mod tests;
