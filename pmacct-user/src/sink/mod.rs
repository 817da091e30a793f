//! Sinks: where a plugin's flushed aggregates go (print, memory).
