//! hyper's I/O traits over the futures-io streams glommio and futures-rustls provide, counting the
//! bytes read for `ztel_bytes_read_total`.

use std::cell::Cell;
use std::io;
use std::pin::Pin;
use std::rc::Rc;
use std::task::{Context, Poll};

use futures_lite::{AsyncRead, AsyncWrite};

/// A stream as hyper drives it.
pub struct Io<S> {
    stream: S,
    /// Bytes read and not yet counted in a batch.
    read: Rc<Cell<u64>>,
}

impl<S> Io<S> {
    pub fn new(stream: S, read: Rc<Cell<u64>>) -> Self {
        Io { stream, read }
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
                Poll::Ready(Err(e)) => return Poll::Ready(Err(e)),
                Poll::Pending => return Poll::Pending,
            }
        };
        // SAFETY: `n` bytes were written by the read above.
        unsafe { buf.advance(n) };
        self.read.set(self.read.get() + n as u64);
        Poll::Ready(Ok(()))
    }
}

impl<S: AsyncWrite + Unpin> hyper::rt::Write for Io<S> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.stream).poll_write(cx, buf)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.stream).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.stream).poll_close(cx)
    }
}
