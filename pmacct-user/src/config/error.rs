//! Errors of config loading and validation. Every message names the key, the value and what was
//! expected, so an operator can fix the file without reading code.

use std::fmt;
use std::path::PathBuf;

/// One semantic problem found by [`Config::validate`](super::Config::validate).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Problem {
    /// Key path in the native config (`plugin[p].aggregate`, `interface[0].name`).
    pub key: String,
    /// The offending value as written (may be empty).
    pub value: String,
    /// What was expected instead.
    pub expected: String,
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} = {:?}: expected {}", self.key, self.value, self.expected)
    }
}

/// Why a configuration could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// A file could not be read.
    #[error("cannot read config file {path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// figment could not build a [`Config`](super::Config) (type errors, unknown keys, bad
    /// TOML/YAML). The message lists every error with its key path and source.
    #[error("{}", render_figment(.0))]
    Figment(Box<figment::Error>),
    /// A `--set` argument is not `key.path=value`, or addresses something that does not exist.
    #[error("bad override `{arg}`: {reason}")]
    Override { arg: String, reason: String },
    /// The config parsed but is not usable.
    #[error("invalid configuration:{}", render_problems(.0))]
    Invalid(Vec<Problem>),
    /// A pmacct config file line is malformed or has a value we cannot honour.
    #[error("{file}:{line}: {key}: {value:?}: {reason}")]
    Pmacct {
        /// The file (or `<text>` when parsed from a string).
        file: String,
        /// 1-based line number; 0 when the problem is not tied to a line.
        line: usize,
        key: String,
        value: String,
        reason: String,
    },
}

impl From<figment::Error> for ConfigError {
    fn from(e: figment::Error) -> Self {
        ConfigError::Figment(Box::new(e))
    }
}

fn render_problems(problems: &[Problem]) -> String {
    problems.iter().map(|p| format!("\n  - {p}")).collect()
}

/// Renders each figment error as `key \`a.b\` (from <source>): <what went wrong>`.
fn render_figment(error: &figment::Error) -> String {
    let lines: Vec<String> = error
        .clone()
        .into_iter()
        .map(|e| {
            let key = if e.path.is_empty() { "<root>".to_string() } else { e.path.join(".") };
            let source = match &e.metadata {
                // Name the variable as the operator wrote it (see `load`: prefix and `__`).
                Some(md) if md.name.contains("environment") && !e.path.is_empty() => {
                    format!("environment variable PMACCT_{}", e.path.join("__").to_uppercase())
                }
                Some(md) => match &md.source {
                    Some(src) => format!("{} {}", md.name, src),
                    None => md.name.to_string(),
                },
                None => "unknown source".to_string(),
            };
            format!("config key `{key}` (from {source}): {}", e.kind)
        })
        .collect();
    lines.join("\n")
}
