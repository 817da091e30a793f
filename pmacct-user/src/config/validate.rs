//! Semantic checks run after a [`Config`] is built, whatever its source. The `history` and
//! `history_roundoff` syntax is the time-bin engine's own ([`History::parse`],
//! [`validate_roundoff`]), so config and engine cannot disagree.

use std::collections::HashSet;

use super::{Config, ConfigError, PluginKind, Problem};
use crate::aggregate::Primitive;
use crate::aggregate::timebin::{History, validate_roundoff};

const HISTORY_EXPECTED: &str =
    "<count><unit> with unit one of m h d w M, or seconds in whole minutes (e.g. 5m, 1h, 300)";
const ROUNDOFF_EXPECTED: &str = "letters from `m h d w M` (`w` excludes `d` and `M`)";

impl Config {
    /// Semantic checks the types cannot express. Collects every problem, not only the first.
    pub fn validate(&self) -> Result<(), ConfigError> {
        let mut problems = Vec::new();
        let mut push = |key: String, value: &str, expected: &str| {
            problems.push(Problem { key, value: value.to_string(), expected: expected.to_string() })
        };

        let mut ifnames = HashSet::new();
        for (i, iface) in self.interfaces.iter().enumerate() {
            let key = format!("interface[{i}]");
            if iface.name.trim().is_empty() {
                push(format!("{key}.name"), &iface.name, "a non-empty interface name");
            } else if !ifnames.insert(iface.name.as_str()) {
                push(format!("{key}.name"), &iface.name, "each interface listed once");
            }
            if iface.sampling_rate < 1 {
                push(
                    format!("{key}.sampling_rate"),
                    &iface.sampling_rate.to_string(),
                    "an integer >= 1",
                );
            }
        }

        if let Some(sf) = &self.savefile {
            if sf.path.as_os_str().is_empty() {
                push("savefile.path".into(), "", "the path of a pcap file");
            }
            if sf.sampling_rate < 1 {
                push(
                    "savefile.sampling_rate".into(),
                    &sf.sampling_rate.to_string(),
                    "an integer >= 1",
                );
            }
            if sf.replay < 1 {
                push("savefile.replay".into(), &sf.replay.to_string(), "an integer >= 1");
            }
        }

        for (i, c) in self.collectors.iter().enumerate() {
            let key = format!("collector[{i}]");
            for (j, l) in c.listen.iter().enumerate() {
                if l.parse::<std::net::SocketAddr>().is_err() {
                    push(
                        format!("{key}.listen[{j}]"),
                        l,
                        "address:port, e.g. 0.0.0.0:2100 or [::]:2100",
                    );
                }
            }
            for (j, a) in c.allow.iter().enumerate() {
                if crate::input::allow::parse_entry(a).is_none() {
                    push(format!("{key}.allow[{j}]"), a, "an IP address or prefix (10.0.0.0/8)");
                }
            }
        }
        if let Some(sf) = &self.savefile
            && sf.kind != super::SavefileKind::Packets
            && self.collectors.len() > 1
            && self.collectors.iter().filter(|c| Some(c.kind) == sf.kind.collector()).count() > 1
        {
            push(
                "savefile.kind".into(),
                &format!("{:?}", sf.kind),
                "one collector of that type to take its settings from",
            );
        }

        if self.daemon.drain_interval_ms < 1 {
            push("daemon.drain_interval_ms".into(), "0", "an integer >= 1");
        }
        if self.xdp.max_flows < 1 {
            push("xdp.max_flows".into(), "0", "an integer >= 1");
        }

        let mut bmp_problems = Vec::new();
        if let Some(b) = &self.bmp {
            b.validate(&mut bmp_problems);
        }
        // pmbmpd has no plugins: the BMP daemon alone is a valid configuration.
        if self.plugins.is_empty() && self.bmp.is_none() {
            push(
                "plugin".into(),
                "",
                "at least one plugin (e.g. a [[plugin]] table of type print)",
            );
        }
        let mut names = HashSet::new();
        for (i, p) in self.plugins.iter().enumerate() {
            let key = if p.name.is_empty() {
                format!("plugin[{i}]")
            } else {
                format!("plugin[{}]", p.name)
            };
            if p.name.trim().is_empty() {
                push(format!("{key}.name"), &p.name, "a non-empty plugin name");
            } else if !names.insert(p.name.as_str()) {
                push(format!("{key}.name"), &p.name, "plugin names to be unique");
            }
            let custom = match &p.aggregate_primitives {
                Some(path) => match crate::aggregate::custom::load(path) {
                    Ok(defs) => defs,
                    Err(e) => {
                        let why = format!("a readable custom primitives file ({e})");
                        push(
                            format!("{key}.aggregate_primitives"),
                            &path.display().to_string(),
                            &why,
                        );
                        Vec::new()
                    }
                },
                None => Vec::new(),
            };
            for prim in &p.aggregate {
                let name = prim.trim();
                if Primitive::from_name(name).is_none()
                    && !name.eq_ignore_ascii_case("none")
                    && !custom.iter().any(|d| d.name.eq_ignore_ascii_case(name))
                {
                    let known: Vec<&str> = Primitive::ALL.iter().map(|p| p.name()).collect();
                    push(
                        format!("{key}.aggregate"),
                        prim,
                        &format!(
                            "a known primitive ({}) or one defined in aggregate_primitives",
                            known.join(", ")
                        ),
                    );
                }
            }
            if p.kind == PluginKind::Print && p.output == super::PrintFormat::Formatted {
                let vlen = p.aggregate.iter().filter_map(|a| Primitive::from_name(a.trim()));
                for prim in vlen.filter(|x| x.is_variable_length()) {
                    push(
                        format!("{key}.aggregate"),
                        prim.name(),
                        "no variable-length primitive (label, as_path, std_comm, ...) with \
                         formatted output, as in pmacct: use csv or json",
                    );
                }
            }
            for (name, v, as_key) in
                [("networks.as", &p.networks.asn, true), ("networks.net", &p.networks.net, false)]
            {
                let bgp = v.as_deref().and_then(|v| {
                    crate::enrich::netmethod::parse_method(v, as_key).ok().map(|m| (v, m))
                });
                if let Some((v, m)) = bgp
                    && m & crate::enrich::netmethod::BGP != 0
                    && m & crate::enrich::netmethod::FALLBACK == 0
                    && self.bmp.is_none()
                {
                    push(
                        format!("{key}.{name}"),
                        v,
                        "a BMP daemon to look routes up in (bmp_daemon: true, or a [bmp] section)",
                    );
                }
            }
            if let Some(path) = &p.geoipv2_file
                && let Err(e) = crate::enrich::geoip::GeoDb::open(path)
            {
                let why = format!("a readable MaxMind DB ({})", e.reason);
                push(format!("{key}.geoipv2_file"), &path.display().to_string(), &why);
            }
            if let Some(f) = &p.aggregate_filter
                && let Err(e) = crate::aggregate::filter::Filter::parse(f)
            {
                let why = format!("a supported pcap-filter expression ({e})");
                push(format!("{key}.aggregate_filter"), f, &why);
            }
            if p.refresh_time < 1 {
                push(format!("{key}.refresh_time"), "0", "seconds >= 1");
            }
            if let Some(h) = &p.history
                && History::parse(h).is_err()
            {
                push(format!("{key}.history"), h, HISTORY_EXPECTED);
            }
            if let Some(r) = &p.history_roundoff
                && validate_roundoff(r).is_err()
            {
                push(format!("{key}.history_roundoff"), r, ROUNDOFF_EXPECTED);
            }
            if p.history_roundoff.is_some() && p.history.is_none() {
                push(
                    format!("{key}.history_roundoff"),
                    p.history_roundoff.as_deref().unwrap_or(""),
                    "history to be set too",
                );
            }
            if p.stitching && p.pro_rating {
                push(
                    format!("{key}.pro_rating"),
                    "true",
                    "pro_rating and stitching not both (pmacct refuses them together too)",
                );
            }
            if p.kind != PluginKind::Print {
                if let Some(f) = &p.output_file {
                    push(format!("{key}.output_file"), f, "output_file only on print plugins");
                }
                if p.output != super::PrintFormat::default() {
                    push(
                        format!("{key}.output"),
                        &format!("{:?}", p.output).to_lowercase(),
                        "output only on print plugins",
                    );
                }
            }
            if p.kind != PluginKind::Memory
                && let Some(path) = &p.imt_path
            {
                push(
                    format!("{key}.imt_path"),
                    &path.display().to_string(),
                    "imt_path only on memory plugins",
                );
            }
        }

        problems.extend(bmp_problems);
        if problems.is_empty() { Ok(()) } else { Err(ConfigError::Invalid(problems)) }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::PluginConfig;

    #[test]
    fn collects_every_problem() {
        let mut p = PluginConfig::new("p", PluginKind::Memory);
        p.aggregate = vec!["src_host".into(), "bogus".into()];
        p.output_file = Some("/tmp/x".into());
        let mut q = PluginConfig::new("p", PluginKind::Print);
        q.history = Some("90s".into());
        q.refresh_time = 0;
        let cfg = Config { plugins: vec![p, q], ..Config::default() };
        let err = cfg.validate().unwrap_err().to_string();
        for needle in [
            "plugin[p].aggregate = \"bogus\"",
            "plugin[p].output_file",
            "plugin[p].name = \"p\": expected plugin names to be unique",
            "plugin[p].history = \"90s\"",
            "plugin[p].refresh_time",
        ] {
            assert!(err.contains(needle), "missing {needle} in {err}");
        }
    }

    #[test]
    fn no_plugin_is_an_error() {
        let err = Config::default().validate().unwrap_err().to_string();
        assert!(err.contains("at least one plugin"), "{err}");
    }

    #[test]
    fn variable_length_primitives_are_refused_with_formatted_output() {
        let mut p = PluginConfig::new("p", PluginKind::Print);
        p.aggregate = vec!["src_host".into(), "as_path".into(), "std_comm".into()];
        let cfg = Config { plugins: vec![p.clone()], ..Config::default() };
        let err = cfg.validate().unwrap_err().to_string();
        assert!(err.contains("plugin[p].aggregate = \"as_path\""), "{err}");
        assert!(err.contains("plugin[p].aggregate = \"std_comm\""), "{err}");
        assert!(err.contains("use csv or json"), "{err}");
        p.output = crate::config::PrintFormat::Csv;
        assert!(Config { plugins: vec![p], ..Config::default() }.validate().is_ok());
    }
}
