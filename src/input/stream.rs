//! A connection's stream as the read loop ([`super::conn`]) needs it: plain TCP or TLS, and
//! what each allows (a read that may time out and go on, a sleep between reads, the client's
//! certificates).

use std::os::fd::AsRawFd;
use std::time::Duration;

use futures_lite::AsyncRead;
use glommio::net::TcpStream;
use rustls::pki_types::CertificateDer;

use super::{hold, sockopt};

/// A connection's stream as the read loop needs it, plain TCP or TLS.
pub trait Stream: AsyncRead + Unpin {
    /// The TCP socket under it: its read timeout, and its read side, which a drain shuts.
    fn socket(&self) -> &TcpStream;
    /// Whether a read may time out and the connection go on. A timed-out glommio read consumed
    /// nothing (it waits for readiness, then reads), but a TLS stream is not promised to survive
    /// an error from below: there a timeout ends the connection.
    fn resumes_after_timeout(&self) -> bool;
    /// Whether the connection may sleep `pause` ([`Hold::next_read`]) after the read just done,
    /// which left room in the buffer. A plain read took all the kernel held.
    ///
    /// A TLS stream reads the socket 4 KiB at a time (rustls's size), and each read is a batch
    /// of its own (a TLS read cannot be held, see `resumes_after_timeout`). So it sleeps only
    /// when it has taken all there was (the kernel's queue is empty, and rustls holds no
    /// plaintext; else a sleep after every read would cap it at 4 KiB per sleep), and only for
    /// a whole `hold::AT_MOST`: a slow peer, where a wake-up per packet cost more than the
    /// records it brought. A faster one would send a dozen reads' worth during the sleep, read
    /// one by one after it: p99 at half load went from 511 to 1,153 µs (`perf/latency.sh
    /// --tls`) when every TLS connection slept.
    fn may_sleep(&self, pause: Duration) -> bool;
    /// Whether the peer sent bytes before the first read: a TLS handshake is bytes sent, so a
    /// TLS peer quiet after it is a quiet feed at a frame boundary (DESIGN §6), not a mute
    /// connection. It was cut at `idle_timeout_secs`, and an LSS receiver's first record after
    /// a quiet spell went into a closed socket (found by a tester).
    fn has_spoken(&self) -> bool;
    /// The certificates the client showed at a TLS handshake, its own first.
    fn peer_chain(&self) -> Option<&[CertificateDer<'static>]> {
        None
    }
}

impl Stream for TcpStream {
    fn socket(&self) -> &TcpStream {
        self
    }

    fn resumes_after_timeout(&self) -> bool {
        true
    }

    fn may_sleep(&self, _pause: Duration) -> bool {
        true
    }

    fn has_spoken(&self) -> bool {
        false
    }
}

impl Stream for futures_rustls::server::TlsStream<TcpStream> {
    fn socket(&self) -> &TcpStream {
        self.get_ref().0
    }

    fn resumes_after_timeout(&self) -> bool {
        false
    }

    fn may_sleep(&self, pause: Duration) -> bool {
        let (socket, tls) = self.get_ref();
        pause >= hold::AT_MOST && tls.wants_read() && sockopt::queued(socket.as_raw_fd()) == 0
    }

    fn has_spoken(&self) -> bool {
        true
    }

    fn peer_chain(&self) -> Option<&[CertificateDer<'static>]> {
        self.get_ref().1.peer_certificates()
    }
}
