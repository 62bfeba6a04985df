//! A sink's pipes: stdout written without blocking when it is a pipe (as a FIFO output is), and
//! the wait at shutdown for a pipe's reader.

use std::fs::File;
use std::io;
use std::os::unix::fs::MetadataExt;
use std::time::{Duration, Instant};

use super::{Sink, Target};

impl Sink {
    /// At shutdown, for a pipe (a FIFO, a stdout pipe): waits for its reader to take what is
    /// pending, as long as it takes some every `quiet`, for `at_most` in all; what is left is the
    /// caller's to spill. A live reader takes everything (one flush fills the pipe and leaves
    /// the rest, a line in part among it); a stopped one does not hold the drain. Files and
    /// terminals were written whole by `flush`.
    pub fn drain_stream(&mut self, quiet: Duration, at_most: Duration) {
        let Target::Stream { file, .. } = &self.target else {
            return;
        };
        let fd = std::os::fd::AsRawFd::as_raw_fd(file);
        let started = Instant::now();
        let mut moved = started;
        while !self.pending.is_empty() {
            let before = (self.pending.len(), self.torn);
            if self.write_out().is_err() {
                return;
            }
            let now = Instant::now();
            if (self.pending.len(), self.torn) != before {
                moved = now;
            }
            let left = quiet
                .saturating_sub(now - moved)
                .min(at_most.saturating_sub(now - started));
            if self.pending.is_empty() || left.is_zero() {
                return;
            }
            let mut poll = libc::pollfd {
                fd,
                events: libc::POLLOUT,
                revents: 0,
            };
            let ms = libc::c_int::try_from(left.as_millis().max(1)).unwrap_or(libc::c_int::MAX);
            // SAFETY: one pollfd, ours, for the call's length.
            unsafe { libc::poll(&mut poll, 1, ms) };
        }
    }
}

/// Stdout, when it is a pipe or a socket (not stderr's too), as a file of its own (a duplicate
/// descriptor) set not to block, and its flags before.
pub(super) fn stdout_pipe() -> Option<(File, libc::c_int)> {
    use std::os::fd::{AsFd, AsRawFd};
    use std::os::unix::fs::FileTypeExt;
    let file = File::from(io::stdout().as_fd().try_clone_to_owned().ok()?);
    let meta = file.metadata().ok()?;
    let kind = meta.file_type();
    if !(kind.is_fifo() || kind.is_socket()) {
        return None;
    }
    // Not when stderr is the same pipe (`2>&1`): the log's lines, the drain's summary among
    // them, would fail on a full pipe rather than wait for it.
    let stderr = File::from(io::stderr().as_fd().try_clone_to_owned().ok()?);
    if stderr
        .metadata()
        .is_ok_and(|e| (e.dev(), e.ino()) == (meta.dev(), meta.ino()))
    {
        return None;
    }
    let fd = file.as_raw_fd();
    // SAFETY: fcntl on a descriptor `file` owns; F_GETFL and F_SETFL take and give plain flags.
    let flags = unsafe { libc::fcntl(fd, libc::F_GETFL) };
    if flags < 0 || unsafe { libc::fcntl(fd, libc::F_SETFL, flags | libc::O_NONBLOCK) } < 0 {
        return None;
    }
    Some((file, flags))
}

impl Drop for Sink {
    fn drop(&mut self) {
        if let Target::Stream {
            file,
            restore: Some(flags),
            ..
        } = &self.target
        {
            // SAFETY: fcntl on the descriptor `file` owns, with the flags it had.
            unsafe { libc::fcntl(std::os::fd::AsRawFd::as_raw_fd(file), libc::F_SETFL, *flags) };
        }
    }
}
