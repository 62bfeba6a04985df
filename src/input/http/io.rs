//! hyper's I/O traits over the futures-io streams glommio and futures-rustls provide, with the
//! deadlines of DESIGN §6 that a per-read timeout cannot give:
//! - a request (its head, then its body) must arrive within `idle_timeout_secs` of its first
//!   byte, however slowly the bytes trickle in;
//! - once the collector drains, writes get [`DRAIN_WRITE`]: a client that pipelines requests and
//!   never reads its answers would otherwise hold the drain for the whole write timeout;
//! - once the collector drains, the rest of a request in progress gets [`DRAIN_READ`]: hyper
//!   answers that request before the drain ends the connection, and a peer that stopped mid-head
//!   or mid-body would otherwise hold the drain for its idle timeout (300 s by default, past
//!   systemd's stop timeout). It gets no 200 for it, so it sends the batch again.
//!
//! It also counts the bytes read for `ztel_bytes_read_total` as they arrive, like the TCP input:
//! into the shard's pending counts, which reach `/metrics` within half a second however long the
//! request takes (DESIGN §5), a slow or stuck upload included.

use std::cell::Cell;
use std::future::Future;
use std::io;
use std::pin::Pin;
use std::rc::Rc;
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use futures_lite::{AsyncRead, AsyncWrite};
use glommio::timer::Timer;

use crate::batch::counters::Counter;
use crate::batch::Source;
use crate::shard::Shard;

/// How long a draining collector waits for a connection's writes.
pub const DRAIN_WRITE: Duration = Duration::from_secs(2);
/// How long a draining collector waits for the rest of a request in progress.
pub const DRAIN_READ: Duration = Duration::from_secs(2);

/// What a read that the drain cut short fails with: the drain's doing, not the peer's idleness.
#[derive(Debug, thiserror::Error)]
#[error("the drain ended a request in progress")]
pub struct DrainCut;

/// What a connection's reads and its requests share.
#[derive(Debug, Default)]
pub struct Progress {
    /// When the request in progress began to arrive; the request handler clears it once the
    /// body is read.
    pub began: Cell<Option<Instant>>,
    /// A request was read and waits for its answer (see [`Answering`]).
    pub answering: Cell<bool>,
}

/// Marks a read request as waiting for its answer, until dropped. Meanwhile hyper keeps a read
/// open to notice a peer that goes away, and that read's timeout must not end the connection:
/// the wait is the collector's (a full channel), not the peer's idleness, and a sender whose
/// request gets no answer sends the batch again.
pub struct Answering<'a>(&'a Progress);

impl<'a> Answering<'a> {
    pub fn start(progress: &'a Progress) -> Self {
        progress.answering.set(true);
        Answering(progress)
    }
}

impl Drop for Answering<'_> {
    fn drop(&mut self) {
        self.0.answering.set(false);
    }
}

/// A stream as hyper drives it.
pub struct Io<S> {
    stream: S,
    progress: Rc<Progress>,
    /// Its limits, its drain, and its counts.
    shard: Rc<Shard>,
    /// Whether the bytes read are counted: not those of a peer outside the allow-list, which
    /// is counted as refused and as nothing else.
    counted: bool,
    /// The drain's deadline for writes, from the first write that had to wait during the drain.
    drain_deadline: Option<Timer>,
    /// The drain's deadline for the request in progress, from its first read that had to wait
    /// during the drain.
    drain_read: Option<Timer>,
}

impl<S> Io<S> {
    pub fn new(stream: S, progress: Rc<Progress>, shard: Rc<Shard>, counted: bool) -> Self {
        Io {
            stream,
            progress,
            shard,
            counted,
            drain_deadline: None,
            drain_read: None,
        }
    }

    pub fn into_inner(self) -> S {
        self.stream
    }
}

impl<S: AsyncRead + Unpin> hyper::rt::Read for Io<S> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        mut buf: hyper::rt::ReadBufCursor<'_>,
    ) -> Poll<io::Result<()>> {
        // SAFETY: the bytes are zeroed before they are handed out as initialised, and `advance`
        // is told only how many the read filled.
        let n = unsafe {
            let unfilled = buf.as_mut();
            std::ptr::write_bytes(unfilled.as_mut_ptr(), 0, unfilled.len());
            let bytes =
                std::slice::from_raw_parts_mut(unfilled.as_mut_ptr().cast::<u8>(), unfilled.len());
            match Pin::new(&mut self.stream).poll_read(cx, bytes) {
                Poll::Ready(Ok(n)) => n,
                // The answer, once ready, wakes this task, and hyper then reads again.
                Poll::Ready(Err(e))
                    if e.kind() == io::ErrorKind::TimedOut && self.progress.answering.get() =>
                {
                    return Poll::Pending
                }
                Poll::Ready(Err(e)) => return Poll::Ready(Err(e)),
                Poll::Pending => return self.read_waiting(cx),
            }
        };
        // SAFETY: `n` bytes were written by the read above.
        unsafe { buf.advance(n) };
        if n > 0 {
            if self.counted {
                self.shard
                    .count(Source::Http, |c| c.add(Counter::BytesRead, n as u64));
            }
            let progress = &self.progress;
            match progress.began.get() {
                None => progress.began.set(Some(Instant::now())),
                Some(began) if began.elapsed() > self.shard.limits.idle_timeout => {
                    return Poll::Ready(Err(io::ErrorKind::TimedOut.into()));
                }
                Some(_) => {}
            }
        }
        Poll::Ready(Ok(()))
    }
}

impl<S> Io<S> {
    /// A read that must wait: during a drain, with a request in progress (its first byte came,
    /// its body is not read whole), an error once [`DRAIN_READ`] has passed. Between requests
    /// hyper ends the connection itself, and while a request waits for its answer the read only
    /// watches for a peer that goes away.
    fn read_waiting(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        if !self.shard.shutdown.is_draining() || self.progress.began.get().is_none() {
            return Poll::Pending;
        }
        let deadline = self
            .drain_read
            .get_or_insert_with(|| Timer::new(DRAIN_READ));
        match Pin::new(deadline).poll(cx) {
            Poll::Ready(_) => Poll::Ready(Err(io::Error::new(io::ErrorKind::TimedOut, DrainCut))),
            Poll::Pending => Poll::Pending,
        }
    }

    /// A write that must wait: during a drain, an error once [`DRAIN_WRITE`] has passed.
    fn waiting<T>(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<T>> {
        if !self.shard.shutdown.is_draining() {
            return Poll::Pending;
        }
        let deadline = self
            .drain_deadline
            .get_or_insert_with(|| Timer::new(DRAIN_WRITE));
        match Pin::new(deadline).poll(cx) {
            Poll::Ready(_) => Poll::Ready(Err(io::ErrorKind::TimedOut.into())),
            Poll::Pending => Poll::Pending,
        }
    }
}

impl<S: AsyncWrite + Unpin> hyper::rt::Write for Io<S> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        match Pin::new(&mut self.stream).poll_write(cx, buf) {
            Poll::Pending => self.waiting(cx),
            done => done,
        }
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match Pin::new(&mut self.stream).poll_flush(cx) {
            Poll::Pending => self.waiting(cx),
            done => done,
        }
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.stream).poll_close(cx)
    }
}
