//! Layered loading of the native config (figment): defaults → file (TOML, or YAML for
//! `.yaml`/`.yml`) → environment `PMACCT_*` → CLI `--set key.path=value` overrides.
//!
//! Environment variables use `__` to nest: `PMACCT_DAEMON__METRICS_LISTEN=0.0.0.0:9464`,
//! `PMACCT_XDP__MAX_FLOWS=65536` (flat `PMACCT_FOO` variables are left to the CLI). Overrides use dots and may address a list element by index or,
//! for `plugin` and `interface`, by name: `plugin.p.refresh_time=30`, `interface.0.action=drop`.
//! Values are parsed like figment parses env values: `30` is a number, `true` a bool,
//! `[a, b]` a list, `"30"` a string.

use std::path::Path;

use figment::providers::{Env, Format, Serialized, Toml, Yaml};
use figment::value::{Dict, Map, Value};
use figment::{Figment, Metadata, Profile, Provider};

use super::{Config, ConfigError};

/// Loads the native config: defaults, then `path` (TOML, or YAML by extension), then `PMACCT_*`
/// env, then `overrides` (`("plugin.p.refresh_time", "30")`), then [`Config::validate`].
pub fn load(path: Option<&Path>, overrides: &[(String, String)]) -> Result<Config, ConfigError> {
    let mut figment = Figment::from(Serialized::defaults(Config::default()));
    if let Some(path) = path {
        check_readable(path)?;
        figment = if is_yaml(path) {
            figment.merge(Yaml::file_exact(path))
        } else {
            figment.merge(Toml::file_exact(path))
        };
    }
    finish(figment, overrides)
}

/// Like [`load`], but a file ending in `.conf` is read as a pmacct config
/// ([`read_pmacct`](super::read_pmacct)); env and overrides still apply on top. Returns the
/// pmacct reader's warnings (empty for native files).
pub fn load_any(
    path: Option<&Path>,
    overrides: &[(String, String)],
) -> Result<(Config, Vec<String>), ConfigError> {
    match path {
        Some(p) if p.extension().is_some_and(|e| e == "conf") => {
            let (base, warnings) = super::read_pmacct(p)?;
            let figment = Figment::from(Serialized::defaults(base));
            Ok((finish(figment, overrides)?, warnings))
        }
        _ => Ok((load(path, overrides)?, Vec::new())),
    }
}

/// Splits one `--set` argument `key.path=value`.
pub fn parse_override(arg: &str) -> Result<(String, String), ConfigError> {
    match arg.split_once('=') {
        Some((k, v)) if !k.trim().is_empty() => Ok((k.trim().to_string(), v.trim().to_string())),
        _ => Err(ConfigError::Override {
            arg: arg.to_string(),
            reason: "expected key.path=value (e.g. daemon.log_level=debug)".into(),
        }),
    }
}

fn is_yaml(path: &Path) -> bool {
    path.extension().is_some_and(|e| e == "yaml" || e == "yml")
}

/// figment silently skips a missing file; an operator naming a file means it must exist.
fn check_readable(path: &Path) -> Result<(), ConfigError> {
    std::fs::File::open(path)
        .map(drop)
        .map_err(|source| ConfigError::Io { path: path.to_path_buf(), source })
}

fn finish(figment: Figment, overrides: &[(String, String)]) -> Result<Config, ConfigError> {
    // Only nested variables (`PMACCT_<SECTION>__<KEY>`) are config: `PMACCT_CONFIG` and other
    // flat ones belong to the CLI and would otherwise be rejected as unknown keys.
    let env = Env::prefixed("PMACCT_").filter(|k| k.as_str().contains("__")).split("__");
    let mut figment = figment.merge(env);
    for (key, value) in overrides {
        figment = apply_override(figment, key, value)?;
    }
    let config: Config = figment.extract()?;
    config.validate()?;
    Ok(config)
}

/// Lists whose elements may be addressed by `name` as well as by index.
const NAMED_LISTS: &[&str] = &["plugin", "interface"];

fn apply_override(figment: Figment, key: &str, raw: &str) -> Result<Figment, ConfigError> {
    let bad = |reason: String| ConfigError::Override { arg: format!("{key}={raw}"), reason };
    let value: Value = raw.parse().unwrap_or_else(|never: std::convert::Infallible| match never {});
    let segments: Vec<&str> = key.split('.').map(str::trim).collect();
    if segments.iter().any(|s| s.is_empty()) {
        return Err(bad("empty key segment".into()));
    }
    let provider_name = format!("--set {key}");
    let root = segments[0];
    let dict = if NAMED_LISTS.contains(&root) && segments.len() >= 3 {
        // Replace the whole list with a copy whose addressed element is modified.
        let mut list = match figment.find_value(root) {
            Ok(Value::Array(_, items)) => items,
            _ => return Err(bad(format!("`{root}` has no elements to address"))),
        };
        let selector = segments[1];
        let index = match selector.parse::<usize>() {
            Ok(i) if i < list.len() => i,
            _ => list
                .iter()
                .position(|item| item.find_ref("name").and_then(Value::as_str) == Some(selector))
                .ok_or_else(|| bad(format!("no `{root}` named or numbered `{selector}`")))?,
        };
        let Value::Dict(_, element) = &mut list[index] else {
            return Err(bad(format!("`{root}.{selector}` is not a table")));
        };
        set_path(element, &segments[2..], value);
        let mut dict = Dict::new();
        dict.insert(root.to_string(), Value::from(list));
        dict
    } else {
        let mut dict = Dict::new();
        set_path(&mut dict, &segments, value);
        dict
    };
    Ok(figment.merge(Overrides { name: provider_name, dict }))
}

/// Sets `path` inside `dict`, creating tables on the way.
fn set_path(dict: &mut Dict, path: &[&str], value: Value) {
    match path {
        [] => {}
        [last] => {
            dict.insert((*last).to_string(), value);
        }
        [first, rest @ ..] => {
            let entry =
                dict.entry((*first).to_string()).or_insert_with(|| Value::from(Dict::new()));
            if !matches!(entry, Value::Dict(..)) {
                *entry = Value::from(Dict::new());
            }
            if let Value::Dict(_, child) = entry {
                set_path(child, rest, value);
            }
        }
    }
}

/// A figment provider for `--set` values, named after the argument so errors point at it.
struct Overrides {
    name: String,
    dict: Dict,
}

impl Provider for Overrides {
    fn metadata(&self) -> Metadata {
        Metadata::named(self.name.clone())
    }

    fn data(&self) -> Result<Map<Profile, Dict>, figment::Error> {
        Ok(Profile::Default.collect(self.dict.clone()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_override_splits_at_first_equals() {
        assert_eq!(
            parse_override("daemon.metrics_listen=[::1]:9464").ok(),
            Some(("daemon.metrics_listen".to_string(), "[::1]:9464".to_string()))
        );
        assert!(parse_override("novalue").is_err());
        assert!(parse_override("=x").is_err());
    }

    #[test]
    fn set_path_nests() {
        let mut d = Dict::new();
        set_path(&mut d, &["a", "b"], Value::from(1u32));
        let v = Value::from(d);
        assert_eq!(v.find_ref("a.b").and_then(Value::to_u128), Some(1));
    }
}
