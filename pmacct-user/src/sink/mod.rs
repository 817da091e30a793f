//! Sinks: where a plugin's flushed aggregates go (print, memory).

pub mod memory;
pub mod print;
