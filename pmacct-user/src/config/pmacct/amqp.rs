//! pmacct's `amqp_*` plugin keys onto [`AmqpConfig`].

use crate::sink::amqp::AmqpConfig;

fn flag(value: &str) -> Result<bool, String> {
    match value.to_ascii_lowercase().as_str() {
        "true" => Ok(true),
        "false" => Ok(false),
        _ => Err("expected true or false".into()),
    }
}

fn number<T: std::str::FromStr>(value: &str) -> Result<T, String> {
    value.trim().parse().map_err(|_| "expected a non-negative number".to_string())
}

/// Applies `amqp_<field>: value`; the error says what was expected.
pub(super) fn apply(cfg: &mut AmqpConfig, field: &str, value: &str) -> Result<(), String> {
    match field {
        "host" => cfg.host = value.to_string(),
        "vhost" => cfg.vhost = value.to_string(),
        "user" => cfg.user = value.to_string(),
        "passwd" => cfg.password = value.to_string(),
        "exchange" => cfg.exchange = value.to_string(),
        "exchange_type" => cfg.exchange_type = value.to_ascii_lowercase(),
        "routing_key" => cfg.routing_key = value.to_string(),
        "routing_key_rr" => cfg.routing_key_rr = number(value)?,
        "persistent_msg" => cfg.persistent = flag(value)?,
        "multi_values" => cfg.multi_values = number(value)?,
        "output" if value.eq_ignore_ascii_case("json") => {}
        "output" => return Err("only json is supported".into()),
        _ => return Err(format!("amqp_{field} is not supported")),
    }
    cfg.validate().map(drop).map_err(|e| e.to_string())
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use crate::config::PluginKind;
    use crate::config::pmacct::{Flavor, parse_pmacct_as};

    #[test]
    fn amqp_plugins_from_a_pmacct_config() {
        let text = "plugins: amqp[a], print[p]\naggregate: src_host\namqp_host: 10.0.0.5\n\
                    amqp_exchange[a]: flows\namqp_routing_key[a]: acct\namqp_routing_key_rr[a]: 4\n\
                    amqp_persistent_msg: true\namqp_refresh_time[a]: 30\namqp_multi_values[a]: 65536\n";
        let (cfg, _) = parse_pmacct_as(text, Path::new("/"), Flavor::Nfacctd).unwrap();
        let a = cfg.plugins.iter().find(|p| p.name == "a").unwrap();
        assert_eq!(a.kind, PluginKind::Amqp);
        assert_eq!(a.refresh_time, 30);
        let amqp = a.amqp.as_ref().unwrap();
        assert_eq!((amqp.host.as_str(), amqp.exchange.as_str()), ("10.0.0.5", "flows"));
        assert_eq!((amqp.routing_key_rr, amqp.persistent, amqp.multi_values), (4, true, 65536));
        assert!(cfg.plugins.iter().find(|p| p.name == "p").unwrap().amqp.is_none());
        let err = parse_pmacct_as(
            "plugins: amqp[a]\naggregate: src_host\namqp_routing_key_rr: 2\namqp_routing_key: x.$peer_src_ip\n",
            Path::new("/"),
            Flavor::Nfacctd,
        )
        .unwrap_err()
        .to_string();
        assert!(err.contains("amqp_routing_key") && err.contains("amqp_routing_key_rr"), "{err}");
    }
}
