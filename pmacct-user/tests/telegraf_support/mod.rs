//! Reading telegraf's `expected.out` (Influx line protocol) in the vendor-capture tests.
#![allow(dead_code)]

use std::collections::HashMap;

/// `(measurement, fields)` of each line; string values unquoted, the `u` of unsigned integers
/// dropped (`in_bytes=87477u` → `87477`).
pub fn parse(text: &str) -> Vec<(String, HashMap<String, String>)> {
    text.lines()
        .filter(|l| !l.trim().is_empty())
        .map(|line| {
            // measurement,tags fields timestamp: split on unquoted spaces and commas.
            let (mut parts, mut cur, mut quoted) = (Vec::new(), String::new(), false);
            for c in line.chars() {
                match c {
                    '"' => quoted = !quoted,
                    ' ' | ',' if !quoted => parts.push(std::mem::take(&mut cur)),
                    c => cur.push(c),
                }
            }
            parts.push(cur);
            let measurement = parts.first().cloned().unwrap_or_default();
            let fields = parts
                .iter()
                .filter_map(|p| p.split_once('='))
                .map(|(k, v)| {
                    let v = v.strip_suffix('u').filter(|n| n.parse::<u64>().is_ok()).unwrap_or(v);
                    (k.to_string(), v.to_string())
                })
                .collect();
            (measurement, fields)
        })
        .collect()
}

/// A MAC as telegraf prints it (`00:50:56:b3:86:e7`).
pub fn mac(m: [u8; 6]) -> String {
    m.iter().map(|b| format!("{b:02x}")).collect::<Vec<_>>().join(":")
}
