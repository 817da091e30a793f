//! Packet parsing for the pmacct-rs XDP program.
//!
//! Kept free of kernel helpers so that it compiles (and is unit-tested) on the host too; the
//! programs themselves live in `main.rs`.
#![cfg_attr(not(test), no_std)]

pub mod parse;
