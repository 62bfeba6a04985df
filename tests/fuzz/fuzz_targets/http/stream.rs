//! The client's side of a connection, in memory: it hands ztel the stream in the reads the input
//! cut, records what ztel writes back and how much it had read by then, and can begin the drain
//! at a given read.
//!
//! Once the stream is sent, the client waits for the answers, as NSS does, and closes only when
//! ztel has nothing more to do: while ztel waits for its next read and writes nothing, the read
//! stays `Pending` (the task woken at once) for a few polls, then it ends. A client that
//! half-closes instead (its EOF right after the last byte) is the other choice: hyper then drops
//! the request in progress, as its `half_close(false)` says.

use std::cell::RefCell;
use std::io;
use std::pin::Pin;
use std::rc::Rc;
use std::sync::Arc;
use std::task::{Context, Poll};

use futures_lite::{AsyncRead, AsyncWrite};
use ztel::shard::shutdown::Shutdown;

/// Polls of a read at the end of the stream, with nothing written meanwhile, before the client
/// closes: ztel is then waiting for a request that will not come.
const IDLE_POLLS: u32 = 4;

/// What crossed the connection, for the checks.
#[derive(Debug, Default)]
pub struct Wire {
    /// Bytes of the stream handed to ztel.
    pub read: usize,
    /// Bytes handed to ztel before it closed the connection (what hyper read).
    pub read_before_close: Option<usize>,
    /// What ztel wrote.
    pub out: Vec<u8>,
    /// For each write: where it starts in `out`, and how many bytes ztel had read by then.
    pub writes: Vec<(usize, usize)>,
    /// Whether the drain was begun (by the read it was planned at).
    pub drained: bool,
}

impl Wire {
    /// How many bytes ztel had read when it wrote the byte at `at` of `out`.
    pub fn read_when_written(&self, at: usize) -> usize {
        let i = self.writes.partition_point(|&(start, _)| start <= at);
        self.writes[i.saturating_sub(1)].1
    }
}

pub struct Client {
    stream: Rc<[u8]>,
    /// Where each planned read ends in `stream`; past the last, reads take what ztel asks.
    cuts: Vec<usize>,
    reads: usize,
    /// Each read is answered `Pending` first (the task woken at once), so that hyper and the
    /// service run between reads as they do on a socket.
    pending: bool,
    pended: bool,
    /// Bytes per write at most: short writes.
    write_max: usize,
    drain: Option<(usize, Arc<Shutdown>)>,
    /// EOF as soon as the stream is sent.
    half_close: bool,
    /// Polls at the end of the stream since ztel last wrote, and how much it had written then.
    idle: u32,
    written: usize,
    closed: bool,
    pub wire: Rc<RefCell<Wire>>,
}

impl Client {
    pub fn new(
        stream: Rc<[u8]>,
        cuts: Vec<usize>,
        pending: bool,
        write_max: usize,
        drain: Option<(usize, Arc<Shutdown>)>,
        half_close: bool,
    ) -> Client {
        Client {
            stream,
            cuts,
            reads: 0,
            pending,
            pended: false,
            write_max,
            drain,
            half_close,
            idle: 0,
            written: 0,
            closed: false,
            wire: Rc::default(),
        }
    }
}

impl AsyncRead for Client {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut [u8],
    ) -> Poll<io::Result<usize>> {
        if self.pending && !self.pended {
            self.pended = true;
            cx.waker().wake_by_ref();
            return Poll::Pending;
        }
        self.pended = false;
        if let Some((at, shutdown)) = &self.drain {
            if *at == self.reads {
                shutdown.begin();
                self.wire.borrow_mut().drained = true;
            }
        }
        let wire = self.wire.clone();
        let mut wire = wire.borrow_mut();
        let pos = wire.read;
        if pos == self.stream.len() && !self.half_close {
            if wire.out.len() != self.written {
                self.written = wire.out.len();
                self.idle = 0;
            }
            if self.idle < IDLE_POLLS {
                self.idle += 1;
                cx.waker().wake_by_ref();
                return Poll::Pending;
            }
        }
        self.reads += 1;
        let end = self
            .cuts
            .iter()
            .copied()
            .find(|&c| c > pos)
            .unwrap_or(usize::MAX)
            .min(self.stream.len());
        let n = buf.len().min(end - pos);
        buf[..n].copy_from_slice(&self.stream[pos..pos + n]);
        wire.read += n;
        Poll::Ready(Ok(n))
    }
}

impl AsyncWrite for Client {
    fn poll_write(
        self: Pin<&mut Self>,
        _: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        assert!(!self.closed, "ztel wrote after closing the connection");
        let n = buf.len().min(self.write_max);
        let mut wire = self.wire.borrow_mut();
        let at = (wire.out.len(), wire.read);
        wire.writes.push(at);
        wire.out.extend_from_slice(&buf[..n]);
        Poll::Ready(Ok(n))
    }

    fn poll_flush(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }

    fn poll_close(mut self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<io::Result<()>> {
        if !self.closed {
            self.closed = true;
            let mut wire = self.wire.borrow_mut();
            wire.read_before_close = Some(wire.read);
        }
        Poll::Ready(Ok(()))
    }
}
