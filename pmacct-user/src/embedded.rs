//! The XDP object built by `cargo xtask build-ebpf`, embedded at build time (see `build.rs`).

/// The `pmacct-ebpf` ELF object, 8-byte aligned as the ELF parser wants.
pub static XDP_OBJECT: &[u8] =
    aya::include_bytes_aligned!(concat!(env!("OUT_DIR"), "/pmacct.bpf.o"));
