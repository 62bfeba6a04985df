//! Peers outside `input.http.allowed_ips` (DESIGN §3 "HTTP": 401/403 for key or address). TCP
//! and TLS syslog close them before a byte is read; here that would show a Cloud NSS admin a
//! TLS or connection error where a 403 says what to fix. So the peer gets its TLS handshake,
//! then a 403 with `Connection: close` to its first request, and the connection ends: the body
//! is not read and nothing is kept. The accept counts and logs it as refused; a TLS handshake
//! that fails is counted and logged as a handshake failure as well, as any is (an admin asking
//! why handshakes fail needs them all, whoever the peer), but neither the connection nor its
//! request is counted.
//!
//! What it may hold is bounded more tightly than an admitted peer's: the handshake's time limit,
//! then that limit again for the head and the answer (an admitted peer gets the idle timeout),
//! and at most [`AT_ONCE`] of them per shard. They hold none of `max_connections`, whose slots
//! are the admitted peers' alone: outsiders that took them refused Cloud NSS as over the limit
//! when `max_connections` was no more than [`AT_ONCE`]. Past [`AT_ONCE`], outsiders are closed
//! unanswered, as on TCP: a flood from addresses nobody admitted must not take the connection
//! slots, or the handshakes' CPU, that Cloud NSS needs.

use std::cell::Cell;
use std::convert::Infallible;
use std::future::Future;
use std::net::SocketAddr;
use std::rc::Rc;

use futures_lite::{AsyncRead, AsyncWrite};
use glommio::net::TcpStream;
use hyper::StatusCode;

use super::answer::respond;
use super::io::{Io, Progress};
use super::{serve_with, Input};
use crate::batch::Source;
use crate::input::handshake;
use crate::input::tcp::Outsiders;
use crate::shard::Shard;

/// Outsiders a shard answers at once.
pub const AT_ONCE: usize = 64;

/// How many outsiders a shard's HTTP input is answering.
#[derive(Default)]
pub struct Answering(Rc<Cell<usize>>);

impl Answering {
    /// What the next accept does with an outsider.
    pub fn policy(&self) -> Outsiders {
        if self.0.get() < AT_ONCE {
            Outsiders::Answer
        } else {
            Outsiders::Close
        }
    }

    /// `answer`, counted among those being answered until it ends (or is dropped unrun).
    pub fn hold(&self, answer: impl Future<Output = ()>) -> impl Future<Output = ()> {
        let held = Held::new(self.0.clone());
        async move {
            let _held = held;
            answer.await;
        }
    }
}

struct Held(Rc<Cell<usize>>);

impl Held {
    fn new(count: Rc<Cell<usize>>) -> Self {
        count.set(count.get() + 1);
        Held(count)
    }
}

impl Drop for Held {
    fn drop(&mut self) {
        self.0.set(self.0.get() - 1);
    }
}

/// Answers one outsider's connection with 403 and closes it.
pub async fn answer(shard: Rc<Shard>, stream: TcpStream, peer: SocketAddr, input: Rc<Input>) {
    let limit = handshake::time_limit(&shard);
    let _ = stream.set_read_timeout(Some(limit));
    let _ = stream.set_write_timeout(Some(limit));
    match &input.tls {
        None => forbid(&shard, stream, peer).await,
        Some(config) => {
            // A failed handshake is counted and logged there, as any.
            if let Some((tls, _)) =
                handshake::accept(&shard, stream, peer, config, Source::Http).await
            {
                forbid(&shard, tls, peer).await;
            }
        }
    }
}

/// Reads the first request's head (an HTTP client reads no answer to a request it has not
/// sent), answers 403 and closes, all within the handshake's time limit: a peer that trickles
/// its head is cut off there.
async fn forbid<S>(shard: &Rc<Shard>, stream: S, peer: SocketAddr)
where
    S: AsyncRead + AsyncWrite + Unpin + 'static,
{
    // The address as the collector saw it: behind a NAT, the one to add to the list.
    let message = format!("{} is not in input.http.allowed_ips", peer.ip());
    let handle = |_request| {
        let answer = respond(StatusCode::FORBIDDEN, &message, true);
        std::future::ready(Ok::<_, Infallible>(answer))
    };
    let io = Io::new(stream, Rc::new(Progress::default()), shard.clone(), false);
    let served = serve_with(shard, io, handle);
    // How it ended is not counted: the accept counted the refusal, and that is all it was.
    futures_lite::future::or(
        async {
            served.await;
        },
        glommio::timer::sleep(handshake::time_limit(shard)),
    )
    .await;
}
