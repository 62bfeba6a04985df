//! The socket calls that socket2 does not offer: integer options such as SO_RCVBUFFORCE and
//! SO_RCVLOWAT, and FIONREAD.

use std::os::fd::RawFd;

/// Sets the SOL_SOCKET option `name` of `fd` to `value` (capped at `c_int::MAX`); false when
/// the kernel refused.
pub fn set_int(fd: RawFd, name: libc::c_int, value: usize) -> bool {
    let value = libc::c_int::try_from(value).unwrap_or(libc::c_int::MAX);
    // SAFETY: setsockopt reads one c_int, from a live one, of the size given.
    let done = unsafe {
        libc::setsockopt(
            fd,
            libc::SOL_SOCKET,
            name,
            (&value as *const libc::c_int).cast(),
            std::mem::size_of::<libc::c_int>() as libc::socklen_t,
        )
    };
    done == 0
}

/// The bytes waiting in `fd`'s receive queue (FIONREAD); zero when unknown.
pub fn queued(fd: RawFd) -> usize {
    let mut bytes: libc::c_int = 0;
    // SAFETY: FIONREAD writes one c_int, to a live one.
    let done = unsafe { libc::ioctl(fd, libc::FIONREAD, &mut bytes) };
    if done == 0 {
        usize::try_from(bytes).unwrap_or(0)
    } else {
        0
    }
}

/// Whether the peer of `fd` has ended its side (its FIN is in): nothing more will come after
/// what is queued.
pub fn peer_closed(fd: RawFd) -> bool {
    let mut poll = libc::pollfd {
        fd,
        events: libc::POLLRDHUP,
        revents: 0,
    };
    // SAFETY: poll reads and writes one pollfd, a live one, and does not wait (timeout 0).
    let ready = unsafe { libc::poll(&mut poll, 1, 0) };
    ready > 0 && poll.revents & (libc::POLLRDHUP | libc::POLLHUP) != 0
}
