//! The AMQP sink's settings (pmacct's `amqp_*` keys; `[plugin.amqp]` in the native config).

use serde::{Deserialize, Serialize};

/// Where and how a plugin's aggregates are published.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct AmqpConfig {
    /// Broker address, `host[:port]` (pmacct `amqp_host`, default 127.0.0.1; port 5672).
    pub host: String,
    /// `amqp_vhost` (default `/`).
    pub vhost: String,
    /// `amqp_user` / `amqp_passwd` (default guest/guest).
    pub user: String,
    pub password: String,
    /// `amqp_exchange` (default `pmacct`).
    pub exchange: String,
    /// `amqp_exchange_type` (default `direct`).
    pub exchange_type: String,
    /// `amqp_routing_key` (default `acct`); may hold `$peer_src_ip`, `$tag`, `$tag2`.
    pub routing_key: String,
    /// `amqp_routing_key_rr`: message k goes to `<routing_key>_<k mod N>`; 0 disables it.
    pub routing_key_rr: u32,
    /// `amqp_persistent_msg`: delivery mode 2.
    pub persistent: bool,
    /// `amqp_multi_values`: bytes of newline-separated JSON objects per message; 0: one
    /// aggregate per message.
    pub multi_values: usize,
    /// Seconds a connect or a publish (until the broker's confirms) may take before it counts
    /// as failed and is retried (native config only; pmacct has no such key). A broker that
    /// stops answering must not hold the sink thread.
    pub timeout_secs: u64,
}

impl Default for AmqpConfig {
    fn default() -> Self {
        Self {
            host: "127.0.0.1".into(),
            vhost: "/".into(),
            user: "guest".into(),
            password: "guest".into(),
            exchange: "pmacct".into(),
            exchange_type: "direct".into(),
            routing_key: "acct".into(),
            routing_key_rr: 0,
            persistent: false,
            multi_values: 0,
            timeout_secs: 10,
        }
    }
}

/// A setting the sink cannot work with, named by its pmacct key.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum AmqpConfigError {
    #[error("amqp_routing_key '{0}': variables cannot be combined with amqp_routing_key_rr")]
    DynamicWithRr(String),
    #[error("amqp_routing_key '{0}': variables cannot be combined with amqp_multi_values")]
    DynamicWithMultiValues(String),
    #[error(
        "amqp_routing_key '{key}': unsupported variable '{var}' (use $peer_src_ip, $tag, $tag2)"
    )]
    Variable { key: String, var: String },
    #[error("amqp_exchange_type '{0}': expected direct, fanout, topic or headers")]
    ExchangeType(String),
    #[error("amqp: cannot start the I/O runtime: {0}")]
    Runtime(String),
}

/// The variables a routing key may hold.
pub const VARIABLES: [&str; 3] = ["$peer_src_ip", "$tag2", "$tag"];

impl AmqpConfig {
    /// True when the routing key has variables.
    pub fn dynamic(&self) -> bool {
        self.routing_key.contains('$')
    }

    /// Checks the combinations pmacct refuses too.
    pub fn validate(&self) -> Result<(), AmqpConfigError> {
        if self.dynamic() {
            if self.routing_key_rr > 0 {
                return Err(AmqpConfigError::DynamicWithRr(self.routing_key.clone()));
            }
            if self.multi_values > 0 {
                return Err(AmqpConfigError::DynamicWithMultiValues(self.routing_key.clone()));
            }
            let mut rest = self.routing_key.as_str();
            while let Some(i) = rest.find('$') {
                let var = &rest[i..];
                match VARIABLES.iter().find(|v| var.starts_with(**v)) {
                    Some(v) => rest = &var[v.len()..],
                    None => {
                        let end = var[1..].find(|c: char| !c.is_ascii_alphanumeric() && c != '_');
                        return Err(AmqpConfigError::Variable {
                            key: self.routing_key.clone(),
                            var: var[..end.map_or(var.len(), |e| e + 1)].to_string(),
                        });
                    }
                }
            }
        }
        if !["direct", "fanout", "topic", "headers"].contains(&self.exchange_type.as_str()) {
            return Err(AmqpConfigError::ExchangeType(self.exchange_type.clone()));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refuses_what_pmacct_refuses() {
        let ok = AmqpConfig { routing_key: "acct.$peer_src_ip.$tag2".into(), ..Default::default() };
        assert_eq!(ok.validate(), Ok(()));
        let rr = AmqpConfig { routing_key_rr: 3, ..ok.clone() };
        assert!(matches!(rr.validate(), Err(AmqpConfigError::DynamicWithRr(_))));
        let mv = AmqpConfig { multi_values: 1024, ..ok.clone() };
        assert!(matches!(mv.validate(), Err(AmqpConfigError::DynamicWithMultiValues(_))));
        let bad = AmqpConfig { routing_key: "x.$src_host".into(), ..Default::default() };
        assert_eq!(
            bad.validate().unwrap_err().to_string(),
            "amqp_routing_key 'x.$src_host': unsupported variable '$src_host' (use $peer_src_ip, $tag, $tag2)"
        );
        let plain_rr = AmqpConfig { routing_key_rr: 3, ..Default::default() };
        assert_eq!(plain_rr.validate(), Ok(()));
    }
}
