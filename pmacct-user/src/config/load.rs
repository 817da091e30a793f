//! Layered loading of the native config (figment): file (TOML or YAML) → `PMACCT_*` env → CLI.
