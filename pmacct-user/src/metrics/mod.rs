//! Prometheus metrics registry and HTTP endpoint.
