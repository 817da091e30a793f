//! `bpf(BPF_PROG_TEST_RUN)` for XDP programs (aya has no API for it).

use std::io;
use std::os::fd::RawFd;

/// `BPF_PROG_TEST_RUN` command number.
const BPF_PROG_TEST_RUN: libc::c_long = 10;

/// The `test` member of `union bpf_attr` (zero-padded to a multiple of 8 bytes).
#[repr(C)]
#[derive(Default)]
struct TestRunAttr {
    prog_fd: u32,
    retval: u32,
    data_size_in: u32,
    data_size_out: u32,
    data_in: u64,
    data_out: u64,
    repeat: u32,
    duration: u32,
    ctx_size_in: u32,
    ctx_size_out: u32,
    ctx_in: u64,
    ctx_out: u64,
    flags: u32,
    cpu: u32,
    batch_size: u32,
    _pad: u32,
}

/// What the kernel reported for one test run.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RunResult {
    /// The program's return value of the last run (an `XDP_*` action).
    pub retval: u32,
    /// Average ns per program run, as measured by the kernel.
    pub ns_per_run: u32,
}

/// Runs program `fd` `repeat` times on a copy of `packet` (the kernel re-uses one frame).
pub fn test_run(fd: RawFd, packet: &[u8], repeat: u32) -> io::Result<RunResult> {
    let fd = u32::try_from(fd).map_err(|_| io::Error::from(io::ErrorKind::InvalidInput))?;
    let len =
        u32::try_from(packet.len()).map_err(|_| io::Error::from(io::ErrorKind::InvalidInput))?;
    let mut attr = TestRunAttr {
        prog_fd: fd,
        data_size_in: len,
        data_in: packet.as_ptr() as u64,
        repeat,
        ..TestRunAttr::default()
    };
    // SAFETY: `attr` is a valid, zero-padded `bpf_attr` prefix of the size passed; `data_in`
    // points at `len` readable bytes that outlive the call; no output buffers are given.
    let rc = unsafe {
        libc::syscall(
            libc::SYS_bpf,
            BPF_PROG_TEST_RUN,
            &mut attr as *mut TestRunAttr,
            std::mem::size_of::<TestRunAttr>(),
        )
    };
    if rc != 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(RunResult { retval: attr.retval, ns_per_run: attr.duration })
}
