//! `sampling_map` (pmacct 1.7.7 `examples/sampling.map.example`): per exporter (and input or
//! output interface), the sampling rate to use instead of the one the exporter advertises.
//!
//! One rule per line, `key=value` pairs separated by blanks, `!` comments; the first full match
//! wins. Keys: `id` (SET: the rate), `ip` (the NetFlow exporter or sFlow agent, address or
//! prefix), `in`, `out` (interfaces; a negative value negates: `in=-2` is "not 2").

use std::path::{Path, PathBuf};

use super::pretag::{in_prefix, prefix};
use crate::record::FlowRecord;

/// An exporter prefix: (network bits, mask, IPv6), as `pre_tag_map`'s `ip` key.
type Prefix = (u128, u128, bool);

/// An interface test: the index, and whether it is negated.
type Iface = Option<(u32, bool)>;

#[derive(Clone, Debug, PartialEq, Eq)]
struct Rule {
    rate: u32,
    ip: Prefix,
    input: Iface,
    output: Iface,
}

/// A loaded map.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SamplingMap {
    rules: Vec<Rule>,
}

/// A map that cannot be used, with the line and the reason.
#[derive(Debug, thiserror::Error)]
pub enum SamplingMapError {
    #[error("sampling_map {path}: {source}")]
    Io { path: PathBuf, source: std::io::Error },
    #[error("sampling_map line {line}: {reason}")]
    Line { line: usize, reason: String },
}

fn iface(key: &str, v: &str) -> Result<Iface, String> {
    let (neg, n) = match v.strip_prefix('-') {
        Some(n) => (true, n),
        None => (false, v),
    };
    let n = n.parse::<u32>().map_err(|_| format!("`{key}={v}`: expected an interface index"))?;
    Ok(Some((n, neg)))
}

fn matches(test: Iface, value: u32) -> bool {
    match test {
        None => true,
        Some((n, neg)) => (value == n) != neg,
    }
}

impl SamplingMap {
    /// Reads `path`.
    pub fn load(path: &Path) -> Result<SamplingMap, SamplingMapError> {
        let text = std::fs::read_to_string(path)
            .map_err(|source| SamplingMapError::Io { path: path.to_path_buf(), source })?;
        Self::parse(&text)
    }

    /// Parses map text.
    pub fn parse(text: &str) -> Result<SamplingMap, SamplingMapError> {
        let mut rules = Vec::new();
        for (i, raw) in text.lines().enumerate() {
            let line = raw.trim();
            if line.is_empty() || line.starts_with('!') || line.starts_with('#') {
                continue;
            }
            let err = |reason: String| SamplingMapError::Line { line: i + 1, reason };
            let (mut rate, mut ip, mut input, mut output) = (None, None, None, None);
            for pair in line.split_whitespace() {
                let Some((k, v)) = pair.split_once('=') else {
                    return Err(err(format!("expected key=value, found `{pair}`")));
                };
                match k.to_ascii_lowercase().as_str() {
                    "id" => {
                        let r = v.parse::<u32>().ok().filter(|r| *r > 0);
                        rate =
                            Some(r.ok_or_else(|| err(format!("`id={v}`: expected a rate > 0")))?);
                    }
                    "ip" => {
                        let p = prefix(v);
                        ip = Some(p.ok_or_else(|| {
                            err(format!("`ip={v}`: expected an address or prefix"))
                        })?);
                    }
                    "in" => input = iface("in", v).map_err(err)?,
                    "out" => output = iface("out", v).map_err(err)?,
                    other => {
                        return Err(err(format!(
                            "unsupported key `{other}` (valid: id, ip, in, out)"
                        )));
                    }
                }
            }
            let rate = rate.ok_or_else(|| err("missing `id` (the sampling rate)".into()))?;
            let ip = ip.ok_or_else(|| err("missing `ip` (the exporter)".into()))?;
            rules.push(Rule { rate, ip, input, output });
        }
        Ok(SamplingMap { rules })
    }

    /// Rules loaded.
    pub fn len(&self) -> usize {
        self.rules.len()
    }

    /// True when the map has no rule.
    pub fn is_empty(&self) -> bool {
        self.rules.is_empty()
    }

    /// The rate of the first rule matching the record's exporter and interfaces.
    pub fn lookup(&self, rec: &FlowRecord) -> Option<u32> {
        let f = &rec.fields;
        self.rules
            .iter()
            .find(|r| {
                in_prefix(&f.peer_src_ip, r.ip)
                    && matches(r.input, f.in_iface)
                    && matches(r.output, f.out_iface)
            })
            .map(|r| r.rate)
    }

    /// Applies the map to records a decoder produced without renormalising them, as pmacct's
    /// handlers do: the map's rate, else the advertised one, becomes `sampling_rate`; with
    /// `renormalize` packets and bytes are scaled by it and `sampling_rate` then reads 1.
    pub fn apply(&self, recs: &mut [FlowRecord], renormalize: bool) {
        for rec in recs {
            let rate = self.lookup(rec).unwrap_or(rec.fields.sampling_rate);
            rec.fields.sampling_rate = rate;
            if renormalize && rate > 0 {
                rec.counters.renormalize(rate);
                rec.fields.sampling_rate = 1;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rec(exporter: &str, input: u32, rate: u32, packets: u64) -> FlowRecord {
        let mut r = FlowRecord::default();
        r.fields.peer_src_ip = exporter.parse().unwrap();
        r.fields.in_iface = input;
        r.fields.sampling_rate = rate;
        r.counters.packets = packets;
        r.counters.bytes = packets * 100;
        r.counters.flows = 1;
        r
    }

    #[test]
    fn first_match_wins_with_prefixes_and_negation() {
        let map = SamplingMap::parse(
            "! comment\nid=2048 ip=192.168.2.1 in=5\nid=100 ip=10.0.0.0/8 in=-2\nid=7 ip=0.0.0.0/0\n",
        )
        .unwrap();
        assert_eq!(map.len(), 3);
        assert_eq!(map.lookup(&rec("192.168.2.1", 5, 0, 1)), Some(2048));
        assert_eq!(map.lookup(&rec("192.168.2.1", 6, 0, 1)), Some(7));
        assert_eq!(map.lookup(&rec("10.1.2.3", 3, 0, 1)), Some(100));
        assert_eq!(map.lookup(&rec("10.1.2.3", 2, 0, 1)), Some(7));
        assert_eq!(map.lookup(&rec("2001:db8::1", 2, 0, 1)), None, "no IPv6 rule");
    }

    #[test]
    fn renormalizes_by_the_mapped_rate_else_the_advertised_one() {
        let map = SamplingMap::parse("id=10 ip=192.0.2.1\n").unwrap();
        // Advertised 1:4; the map says 1:10 for the first exporter.
        let mut recs =
            vec![rec("192.0.2.1", 1, 4, 3), rec("192.0.2.9", 1, 4, 3), rec("192.0.2.9", 1, 0, 3)];
        map.apply(&mut recs, true);
        assert_eq!((recs[0].fields.sampling_rate, recs[0].counters.packets), (1, 30));
        assert_eq!((recs[0].counters.bytes, recs[0].counters.flows), (3000, 1));
        assert_eq!((recs[1].fields.sampling_rate, recs[1].counters.packets), (1, 12), "advertised");
        assert_eq!((recs[2].fields.sampling_rate, recs[2].counters.packets), (0, 3), "unknown");
        let mut raw = vec![rec("192.0.2.1", 1, 4, 3)];
        map.apply(&mut raw, false);
        assert_eq!((raw[0].fields.sampling_rate, raw[0].counters.packets), (10, 3));
    }

    #[test]
    fn errors_name_the_line_and_key() {
        let e = SamplingMap::parse("id=1 ip=1.2.3.4\nid=5 ip=1.2.3.4 vlan=3\n").unwrap_err();
        assert_eq!(
            e.to_string(),
            "sampling_map line 2: unsupported key `vlan` (valid: id, ip, in, out)"
        );
        let e = SamplingMap::parse("ip=1.2.3.4\n").unwrap_err();
        assert!(e.to_string().contains("missing `id`"), "{e}");
        assert!(SamplingMap::parse("id=0 ip=1.2.3.4\n").is_err());
    }
}
