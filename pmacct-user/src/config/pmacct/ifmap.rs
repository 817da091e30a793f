//! pmacct's `pcap_interfaces_map`: lines of `ifindex=N ifname=X [direction=in|out]`.

use super::{Ctx, Line};
use crate::config::ConfigError;

/// Reads the map named by `line` (relative to the config's directory) and returns the interface
/// names in file order. `ifindex` and `direction` are checked but not used (noted once).
pub(super) fn read(
    ctx: Ctx<'_>,
    line: &Line,
    warnings: &mut Vec<String>,
) -> Result<Vec<String>, ConfigError> {
    let path = ctx.base_dir.join(&line.value);
    let text = std::fs::read_to_string(&path).map_err(|e| {
        ctx.err(line.number, &line.key, &line.value, format!("cannot read {}: {e}", path.display()))
    })?;
    let label = path.display().to_string();
    let (names, extras) =
        parse(&text, Ctx { file: &label, base_dir: ctx.base_dir, flavor: ctx.flavor })?;
    if extras {
        warnings.push(format!(
            "line {}: pcap_interfaces_map: ifindex/direction are not used yet (in_iface/out_iface are not filled from the map)",
            line.number
        ));
    }
    Ok(names)
}

/// Parses map text; returns names and whether `ifindex`/`direction` appeared.
pub(super) fn parse(text: &str, ctx: Ctx<'_>) -> Result<(Vec<String>, bool), ConfigError> {
    let mut names = Vec::new();
    let mut extras = false;
    for (i, raw) in text.lines().enumerate() {
        let number = i + 1;
        let l = raw.trim();
        if l.is_empty() || l.starts_with('!') || l.starts_with('#') {
            continue;
        }
        let mut name = None;
        for field in l.split_whitespace() {
            let Some((k, v)) = field.split_once('=') else {
                return Err(ctx.err(number, field, "", "expected key=value (ifindex=N ifname=X)"));
            };
            match k.to_ascii_lowercase().as_str() {
                "ifname" if !v.is_empty() => name = Some(v.to_string()),
                "ifindex" => {
                    if v.parse::<u32>().map_or(true, |n| n == 0) {
                        return Err(ctx.err(number, k, v, "expected a positive 32-bit integer"));
                    }
                    extras = true;
                }
                "direction" => {
                    if !matches!(v, "in" | "out") {
                        return Err(ctx.err(number, k, v, "expected in or out"));
                    }
                    extras = true;
                }
                _ => {
                    return Err(ctx.err(
                        number,
                        k,
                        v,
                        "unknown key (expected ifname, ifindex, direction)",
                    ));
                }
            }
        }
        match name {
            Some(n) => names.push(n),
            None => return Err(ctx.err(number, "ifname", "", "every map line needs ifname=X")),
        }
    }
    Ok((names, extras))
}
