//! Loads the XDP program, attaches it, drains its maps.
