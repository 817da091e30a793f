//! The AMQP sink's settings (pmacct's `amqp_*` keys; `[plugin.amqp]` in the native config).

use serde::{Deserialize, Serialize};

use crate::sink::broker::dynname::{self, DynName, NameKind};

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
    /// `amqp_routing_key` (default `acct`); may hold `$peer_src_ip`, `$tag`, `$tag2`,
    /// `$post_tag`, `$post_tag2`.
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
        "amqp_routing_key '{key}': unsupported variable '{var}' (use {})",
        dynname::supported(NameKind::Topic)
    )]
    Variable { key: String, var: String },
    #[error("amqp_exchange_type '{0}': expected direct, fanout, topic or headers")]
    ExchangeType(String),
    #[error("amqp: cannot start the I/O runtime: {0}")]
    Runtime(String),
}

impl AmqpConfig {
    /// Checks the combinations pmacct refuses too; gives the routing key with its variables.
    pub fn validate(&self) -> Result<DynName, AmqpConfigError> {
        let key = DynName::parse(&self.routing_key, NameKind::Topic)
            .map_err(|var| AmqpConfigError::Variable { key: self.routing_key.clone(), var })?;
        if key.is_dynamic() {
            if self.routing_key_rr > 0 {
                return Err(AmqpConfigError::DynamicWithRr(self.routing_key.clone()));
            }
            if self.multi_values > 0 {
                return Err(AmqpConfigError::DynamicWithMultiValues(self.routing_key.clone()));
            }
        }
        if !["direct", "fanout", "topic", "headers"].contains(&self.exchange_type.as_str()) {
            return Err(AmqpConfigError::ExchangeType(self.exchange_type.clone()));
        }
        Ok(key)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refuses_what_pmacct_refuses() {
        let ok = AmqpConfig { routing_key: "acct.$peer_src_ip.$tag2".into(), ..Default::default() };
        assert!(ok.validate().is_ok());
        let rr = AmqpConfig { routing_key_rr: 3, ..ok.clone() };
        assert!(matches!(rr.validate(), Err(AmqpConfigError::DynamicWithRr(_))));
        let mv = AmqpConfig { multi_values: 1024, ..ok.clone() };
        assert!(matches!(mv.validate(), Err(AmqpConfigError::DynamicWithMultiValues(_))));
        let bad = AmqpConfig { routing_key: "x.$src_host".into(), ..Default::default() };
        assert_eq!(
            bad.validate().unwrap_err().to_string(),
            "amqp_routing_key 'x.$src_host': unsupported variable '$src_host' (use $peer_src_ip, $tag, $tag2, $post_tag, $post_tag2)"
        );
        let plain_rr = AmqpConfig { routing_key_rr: 3, ..Default::default() };
        assert!(plain_rr.validate().is_ok());
    }
}
