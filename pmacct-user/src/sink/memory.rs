//! memory plugin: in-memory table served over a Unix socket to `pmacct-rs query`.
