//! Cloud NSS over HTTP(S) (DESIGN §3 "HTTP"): `POST` batches of records, authenticated by a key in
//! a request header. The endpoint that Zscaler's cloud reaches from the internet runs on hyper's
//! HTTP/1 server over the shard's glommio streams; ztel's rules ([`request`]) and the body's shape
//! ([`body`]) sit on top.
//!
//! A connection is accepted like TCP (allow-list and connection limit before a byte is read),
//! optionally wrapped in TLS, then serves requests one after the other (keep-alive); a peer
//! outside the allow-list is not closed unread as on TCP but answered 403 ([`outsider`]). Heads
//! hyper cannot parse get its own answers (400, 431 over [`MAX_HEAD`]) and are counted here.
//! After an answer that leaves a body unread the connection is closed after a short linger, so
//! that the peer reads the answer instead of a reset.

mod answer;
pub mod auth;
pub mod body;
#[cfg(feature = "fuzzing")]
pub mod fuzz;
pub mod gzip;
mod head;
mod io;
mod outsider;
pub mod request;
#[cfg(test)]
mod tests;
mod written;

use std::future::Future;
use std::net::SocketAddr;
use std::rc::Rc;
use std::sync::Arc;
use std::time::Duration;

use arc_swap::{ArcSwap, ArcSwapOption};
use bytes::Bytes;
use futures_lite::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use glommio::net::{TcpListener, TcpStream};
use http_body_util::Full;
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Request, Response};

pub use auth::Auth;
pub use request::BODY_FRAMES;

use super::allow::AllowList;
use super::certs::TlsServer;
use super::tcp::{accept_checked, Accepted};
use crate::batch::counters::Counter;
use crate::batch::{Batch, Source};
use crate::shard::Shard;
use io::{Io, Progress};
use request::Requests;

/// Longest request head: hyper's read buffer, which no head may outgrow.
pub const MAX_HEAD: usize = 16 << 10;
/// How long, and how many bytes at most, a connection closed after a refusal keeps reading (and
/// discarding) what the peer still sends, so that its close does not reset the answer away.
const LINGER_TIME: Duration = Duration::from_secs(1);
const LINGER_BYTES: usize = 1 << 20;

/// What the HTTP input of a shard reads at each connection or request.
#[derive(Clone)]
pub struct Input {
    pub allow: Arc<ArcSwap<AllowList>>,
    pub auth: Arc<ArcSwap<Auth>>,
    /// `Some` for HTTPS (the configuration current at accept time is used), `None` for plain
    /// HTTP. Which of the two is decided at start.
    pub tls: Option<Arc<ArcSwapOption<TlsServer>>>,
}

/// Accepts until the shard drains.
pub async fn accept_loop(shard: Rc<Shard>, listener: TcpListener, input: Input) {
    let input = Rc::new(input);
    let outsiders = outsider::Answering::default();
    loop {
        let accepted = accept_checked(
            &shard,
            &listener,
            &input.allow,
            Source::Http,
            outsiders.policy(),
        );
        match accepted.await {
            None => return,
            Some(Accepted::Admitted(stream, peer)) => {
                shard.spawn_connection(serve(shard.clone(), stream, peer, input.clone()));
            }
            Some(Accepted::Refused(stream, peer)) => {
                let answer = outsider::answer(shard.clone(), stream, peer, input.clone());
                shard.spawn_outside_limit(outsiders.hold(answer));
            }
        }
    }
}

/// How a connection ended, for its counters.
enum End {
    Done,
    /// hyper answered a head it could not parse (400) or that was too large (431).
    Unparsed,
    Idle,
    Error,
    /// The TLS handshake failed: counted as that where it failed, not as a read error too.
    Handshake,
}

async fn serve(shard: Rc<Shard>, stream: TcpStream, peer: SocketAddr, input: Rc<Input>) {
    let idle = shard.limits.idle_timeout;
    let _ = stream.set_read_timeout(Some(idle));
    let _ = stream.set_write_timeout(Some(idle));
    let progress = Rc::new(Progress::default());
    let requests = Rc::new(Requests::new(shard.clone(), input.clone(), peer, progress));
    let ended = match &input.tls {
        None => serve_http(&shard, stream, requests).await,
        Some(config) => {
            match super::handshake::accept(&shard, stream, peer, config, Source::Http).await {
                Some((tls, _)) => serve_http(&shard, tls, requests).await,
                None => End::Handshake,
            }
        }
    };
    end_connection(&shard, ended).await;
}

/// Counts the end of a connection: how it ended.
async fn end_connection(shard: &Shard, ended: End) {
    let mut batch = Batch::counts(shard.index, Source::Http);
    match ended {
        End::Unparsed => {
            batch.counters.incr(Counter::HttpRequests);
            batch.counters.incr(Counter::HttpBadRequests);
        }
        End::Idle => batch.counters.incr(Counter::IdleTimeouts),
        End::Error => batch.counters.incr(Counter::ReadErrors),
        End::Done | End::Handshake => {}
    }
    batch.counters.incr(Counter::ConnectionsClosed);
    shard.send(batch).await;
}

/// Serves requests with ztel's rules ([`Requests`]) until the peer closes, an answer closes,
/// or the drain ends the connection after the request in progress.
async fn serve_http<S>(shard: &Rc<Shard>, stream: S, requests: Rc<Requests>) -> End
where
    S: AsyncRead + AsyncWrite + Unpin + 'static,
{
    let io = Io::new(stream, requests.progress.clone(), shard.clone(), true);
    // Boxed: hyper polls the service future through an Unpin bound; one box per request.
    let handle = move |request| Box::pin(requests.clone().handle(request));
    serve_with(shard, io, handle).await
}

/// Serves requests on `io` with `handle`, as [`serve_http`] says.
async fn serve_with<S, H, A, E>(shard: &Shard, io: Io<S>, handle: H) -> End
where
    S: AsyncRead + AsyncWrite + Unpin + 'static,
    H: Fn(Request<Incoming>) -> A + Unpin,
    A: Future<Output = Result<Response<Full<Bytes>>, E>> + Unpin,
    E: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    let mut connection = http1::Builder::new()
        .max_buf_size(MAX_HEAD)
        .serve_connection(io, service_fn(handle));
    let finished = futures_lite::future::or(
        async { Some(std::future::poll_fn(|cx| connection.poll_without_shutdown(cx)).await) },
        async {
            shard.shutdown.wait().await;
            None
        },
    )
    .await;
    let result = match finished {
        Some(result) => result,
        None => {
            // Answers the request in progress, then ends; a new one gets no chance to start.
            std::pin::Pin::new(&mut connection).graceful_shutdown();
            std::future::poll_fn(|cx| connection.poll_without_shutdown(cx)).await
        }
    };
    let end = match &result {
        Ok(()) => End::Done,
        Err(e) => classify(e),
    };
    // hyper is done with the stream: close it ourselves, with a linger.
    let mut stream = connection.into_parts().io.into_inner();
    close(&mut stream).await;
    end
}

/// How the connection ended, from hyper's error.
fn classify(e: &hyper::Error) -> End {
    if e.is_parse() || e.is_parse_too_large() {
        return End::Unparsed;
    }
    if e.is_timeout() {
        return End::Idle;
    }
    // The I/O error under hyper's, or under a body read that failed inside a request.
    let mut source = std::error::Error::source(e);
    let mut io = None;
    while let Some(s) = source {
        if let Some(found) = s.downcast_ref::<std::io::Error>() {
            io = Some(found);
            break;
        }
        source = s.source();
    }
    if io
        .and_then(|e| e.get_ref())
        .is_some_and(|e| e.is::<io::DrainCut>())
    {
        return End::Done;
    }
    match io.map(std::io::Error::kind) {
        Some(std::io::ErrorKind::TimedOut) => End::Idle,
        // A peer gone mid-request, or a TLS peer that closes without close_notify.
        Some(std::io::ErrorKind::UnexpectedEof) | None => End::Done,
        Some(_) => End::Error,
    }
}

/// Closes our side (TLS: close_notify), then reads and drops what the peer still sends for a
/// moment: closing with unread bytes would make the kernel reset the connection, and the peer
/// could lose the answer.
async fn close<S: AsyncRead + AsyncWrite + Unpin>(stream: &mut S) {
    if stream.close().await.is_err() {
        return;
    }
    let mut scratch = [0u8; 4096];
    let mut discarded = 0;
    futures_lite::future::or(
        async {
            while discarded < LINGER_BYTES {
                match stream.read(&mut scratch).await {
                    Ok(0) | Err(_) => break,
                    Ok(n) => discarded += n,
                }
            }
        },
        glommio::timer::sleep(LINGER_TIME),
    )
    .await;
}
