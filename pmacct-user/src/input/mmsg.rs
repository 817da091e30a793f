//! Batched UDP receive: one `recvmmsg(2)` call returns up to [`RecvBatch::capacity`] datagrams,
//! so a busy collector socket pays one syscall per batch instead of one per datagram.

use std::io;
use std::mem;
use std::net::{Ipv4Addr, Ipv6Addr, SocketAddr, SocketAddrV4, SocketAddrV6};
use std::os::fd::RawFd;

/// Largest datagram kept whole; longer ones are reported as truncated.
pub const MAX_DATAGRAM: usize = 65_535;

/// Receive buffers and the kernel's per-message results for one socket.
pub struct RecvBatch {
    bufs: Vec<Vec<u8>>,
    addrs: Vec<libc::sockaddr_storage>,
    iovs: Vec<libc::iovec>,
    hdrs: Vec<libc::mmsghdr>,
    /// Messages filled by the last [`RecvBatch::recv`].
    filled: usize,
}

/// One received datagram.
pub struct Datagram<'a> {
    pub payload: &'a [u8],
    /// Sender; `None` for an address family other than IPv4/IPv6.
    pub src: Option<SocketAddr>,
    /// The datagram was longer than [`MAX_DATAGRAM`] and was cut.
    pub truncated: bool,
}

impl RecvBatch {
    /// Buffers for `n` datagrams (at least 1) of up to [`MAX_DATAGRAM`] bytes each.
    pub fn new(n: usize) -> Self {
        let n = n.max(1);
        // SAFETY: all-zero is a valid value for these plain C structs.
        let zero_addr: libc::sockaddr_storage = unsafe { mem::zeroed() };
        let zero_hdr: libc::mmsghdr = unsafe { mem::zeroed() };
        Self {
            bufs: (0..n).map(|_| vec![0u8; MAX_DATAGRAM]).collect(),
            addrs: vec![zero_addr; n],
            iovs: vec![libc::iovec { iov_base: std::ptr::null_mut(), iov_len: 0 }; n],
            hdrs: vec![zero_hdr; n],
            filled: 0,
        }
    }

    /// How many datagrams one call can return.
    pub fn capacity(&self) -> usize {
        self.bufs.len()
    }

    /// Waits (up to the socket's receive timeout) for at least one datagram, then takes every
    /// datagram already queued, up to the capacity. Returns how many were received.
    pub fn recv(&mut self, fd: RawFd) -> io::Result<usize> {
        self.filled = 0;
        for i in 0..self.bufs.len() {
            self.iovs[i] =
                libc::iovec { iov_base: self.bufs[i].as_mut_ptr().cast(), iov_len: MAX_DATAGRAM };
            let hdr = &mut self.hdrs[i];
            hdr.msg_hdr.msg_name = (&mut self.addrs[i] as *mut libc::sockaddr_storage).cast();
            hdr.msg_hdr.msg_namelen = mem::size_of::<libc::sockaddr_storage>() as libc::socklen_t;
            hdr.msg_hdr.msg_iov = &mut self.iovs[i];
            hdr.msg_hdr.msg_iovlen = 1;
            hdr.msg_hdr.msg_control = std::ptr::null_mut();
            hdr.msg_hdr.msg_controllen = 0;
            hdr.msg_hdr.msg_flags = 0;
            hdr.msg_len = 0;
        }
        let vlen = libc::c_uint::try_from(self.hdrs.len()).unwrap_or(libc::c_uint::MAX);
        // SAFETY: every header points at live buffers of this struct with matching lengths, and
        // nothing else touches them until the call returns.
        let rc = unsafe {
            libc::recvmmsg(
                fd,
                self.hdrs.as_mut_ptr(),
                vlen,
                libc::MSG_WAITFORONE,
                std::ptr::null_mut(),
            )
        };
        if rc < 0 {
            return Err(io::Error::last_os_error());
        }
        self.filled = rc as usize;
        Ok(self.filled)
    }

    /// The `i`-th datagram of the last [`RecvBatch::recv`].
    pub fn get(&self, i: usize) -> Option<Datagram<'_>> {
        if i >= self.filled {
            return None;
        }
        let hdr = &self.hdrs[i];
        let len = (hdr.msg_len as usize).min(MAX_DATAGRAM);
        Some(Datagram {
            payload: self.bufs[i].get(..len)?,
            src: sockaddr_to_std(&self.addrs[i]),
            truncated: hdr.msg_hdr.msg_flags & libc::MSG_TRUNC != 0,
        })
    }
}

/// Converts a kernel-filled `sockaddr_storage` into a `SocketAddr`.
fn sockaddr_to_std(ss: &libc::sockaddr_storage) -> Option<SocketAddr> {
    match libc::c_int::from(ss.ss_family) {
        libc::AF_INET => {
            // SAFETY: the family says the storage holds a sockaddr_in, which it is large enough for.
            let sin: &libc::sockaddr_in = unsafe { &*(ss as *const _ as *const libc::sockaddr_in) };
            let ip = Ipv4Addr::from(u32::from_be(sin.sin_addr.s_addr));
            Some(SocketAddr::V4(SocketAddrV4::new(ip, u16::from_be(sin.sin_port))))
        }
        libc::AF_INET6 => {
            // SAFETY: as above, for sockaddr_in6.
            let sin6: &libc::sockaddr_in6 =
                unsafe { &*(ss as *const _ as *const libc::sockaddr_in6) };
            let ip = Ipv6Addr::from(sin6.sin6_addr.s6_addr);
            Some(SocketAddr::V6(SocketAddrV6::new(
                ip,
                u16::from_be(sin6.sin6_port),
                sin6.sin6_flowinfo,
                sin6.sin6_scope_id,
            )))
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::UdpSocket;
    use std::os::fd::AsRawFd;
    use std::time::Duration;

    #[test]
    fn receives_several_datagrams_in_one_call_with_their_senders() {
        let rx = UdpSocket::bind("127.0.0.1:0").expect("bind");
        rx.set_read_timeout(Some(Duration::from_secs(2))).expect("timeout");
        let to = rx.local_addr().expect("addr");
        let tx = UdpSocket::bind("127.0.0.1:0").expect("bind");
        for i in 0..5u8 {
            tx.send_to(&vec![i; 100 + usize::from(i)], to).expect("send");
        }
        let mut batch = RecvBatch::new(8);
        let mut got = Vec::new();
        while got.len() < 5 {
            let n = batch.recv(rx.as_raw_fd()).expect("recv");
            for i in 0..n {
                let d = batch.get(i).expect("filled");
                assert_eq!(d.src, Some(tx.local_addr().expect("addr")));
                assert!(!d.truncated);
                got.push(d.payload.to_vec());
            }
            assert!(batch.get(n).is_none());
        }
        for (i, p) in got.iter().enumerate() {
            assert_eq!(p.len(), 100 + i);
            assert!(p.iter().all(|&b| usize::from(b) == i));
        }
    }

    #[test]
    fn ipv6_sender_and_timeout() {
        let Ok(rx) = UdpSocket::bind("[::1]:0") else { return }; // no IPv6 loopback here
        rx.set_read_timeout(Some(Duration::from_millis(20))).expect("timeout");
        let mut batch = RecvBatch::new(4);
        let err = batch.recv(rx.as_raw_fd()).expect_err("nothing sent");
        assert!(matches!(err.kind(), io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut));
        let tx = UdpSocket::bind("[::1]:0").expect("bind");
        tx.send_to(b"abc", rx.local_addr().expect("addr")).expect("send");
        assert_eq!(batch.recv(rx.as_raw_fd()).expect("recv"), 1);
        let d = batch.get(0).expect("one");
        assert_eq!(d.payload, b"abc");
        assert_eq!(d.src, Some(tx.local_addr().expect("addr")));
    }
}
