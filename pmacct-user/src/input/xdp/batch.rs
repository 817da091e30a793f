//! `BPF_MAP_LOOKUP_AND_DELETE_BATCH` on the idle per-CPU flow map: one syscall per few thousand
//! entries instead of three per entry (next key, lookup, delete). aya has no wrapper for it, so
//! this issues the `bpf(2)` call itself. Used only on a map no program writes any more.

use std::io;
use std::os::fd::{AsFd, AsRawFd};

use aya::maps::MapData;
use pmacct_common::{FlowCounters, FlowKey};

const BPF_MAP_LOOKUP_AND_DELETE_BATCH: libc::c_long = 25;
/// Entries asked for per call.
const CHUNK: usize = 4096;

/// The `batch` member of `union bpf_attr`.
#[repr(C)]
#[derive(Default)]
struct BatchAttr {
    in_batch: u64,
    out_batch: u64,
    keys: u64,
    values: u64,
    count: u32,
    map_fd: u32,
    elem_flags: u64,
    flags: u64,
}

/// Reads and deletes every entry of a `PERCPU_HASH<FlowKey, FlowCounters>`, handing each key and
/// its per-CPU values (`ncpus` of them) to `f`. On an error (batch operations unsupported, say)
/// the entries already handed to `f` are deleted and the rest stay in the map, so the caller can
/// fall back to per-key calls without counting anything twice.
pub fn drain_percpu(
    map: &MapData,
    ncpus: usize,
    mut f: impl FnMut(&FlowKey, &[FlowCounters]),
) -> io::Result<usize> {
    let fd = map.fd().as_fd().as_raw_fd();
    let mut keys = vec![FlowKey::default(); CHUNK];
    // Per-CPU values are laid out CPU after CPU, each rounded up to 8 bytes (40 already is).
    let mut values = vec![FlowCounters::default(); CHUNK * ncpus];
    // Hash maps use a 4-byte bucket cursor as the batch token.
    let mut cursor: u32 = 0;
    let mut first = true;
    let mut total = 0;
    loop {
        let mut attr = BatchAttr {
            in_batch: if first { 0 } else { &cursor as *const u32 as u64 },
            out_batch: &mut cursor as *mut u32 as u64,
            keys: keys.as_mut_ptr() as u64,
            values: values.as_mut_ptr() as u64,
            count: CHUNK as u32,
            map_fd: fd as u32,
            ..BatchAttr::default()
        };
        // SAFETY: attr points at buffers sized for `count` keys and `count * ncpus` values, and
        // at a 4-byte cursor, all alive for the call; the kernel writes only within them.
        let rc = unsafe {
            libc::syscall(
                libc::SYS_bpf,
                BPF_MAP_LOOKUP_AND_DELETE_BATCH,
                &mut attr as *mut BatchAttr,
                std::mem::size_of::<BatchAttr>(),
            )
        };
        let err = (rc < 0).then(io::Error::last_os_error);
        let n = (attr.count as usize).min(CHUNK);
        // On ENOENT (end of map) the last entries are still returned in `count`.
        if err.is_none() || err.as_ref().and_then(io::Error::raw_os_error) == Some(libc::ENOENT) {
            for i in 0..n {
                f(&keys[i], &values[i * ncpus..(i + 1) * ncpus]);
            }
            total += n;
        }
        match err {
            None => first = false,
            Some(e) if e.raw_os_error() == Some(libc::ENOENT) => return Ok(total),
            Some(e) => return Err(e),
        }
    }
}
