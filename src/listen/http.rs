//! Cloud NSS over HTTP(S) (DESIGN §3): `POST` batches of records, as a JSON array (Zscaler's
//! "JSON Array Notation") or as newline-delimited JSON, authenticated by a key in a request header.
//!
//! A connection is accepted like TCP (allow-list and connection limit before a byte is read),
//! optionally wrapped in TLS, then serves HTTP/1.1 requests one after the other (keep-alive,
//! pipelining). Each request's body is read whole into the connection's own buffer, checked to be
//! JSON, and only then are its records handed one by one, in place, to [`Pipeline::process`]: a
//! body that is not JSON is refused (400) before anything of it reaches the shard's device cache.
//! The 200 is sent only once the request's batch was taken by the aggregator's channel, so a full
//! channel delays the answer instead of losing records: the sender keeps the batch until then.
//!
//! Every answer is a defined outcome, counted:
//! - 200 (`Content-Length: 0`): the batch was taken; records that failed are dead letters as usual.
//! - 400: the head is malformed, the body is not JSON, or its framing is contradictory
//!   (`Content-Length` and `Transfer-Encoding` together, a bad chunk).
//! - 401 without the key header, 403 with a wrong key (and for every request when no key is set).
//! - 405 for a method other than `POST`; 411 without a body length; 413 over the body limit
//!   (`limits.max_frame_bytes × 64`: 16 MiB by default); 415 for a `Content-Encoding` (the body
//!   must be plain JSON); 417 for an `Expect` other than `100-continue`; 431 for a head over
//!   16 KiB or with more than 64 fields; 501 for a transfer coding other than `chunked`.
//! - 503 while the collector drains.
//!
//! After any answer other than 200 and 400 the body was not read, so the connection is closed
//! (after a short linger that lets the peer read the answer instead of seeing a reset).

use std::io;
use std::net::SocketAddr;
use std::ops::Range;
use std::os::fd::AsRawFd;
use std::rc::Rc;
use std::sync::Arc;
use std::time::{Duration, Instant};

use arc_swap::{ArcSwap, ArcSwapOption};
use futures_lite::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use futures_rustls::TlsAcceptor;
use glommio::net::{TcpListener, TcpStream};
use jiff::Timestamp;
use rustls::ServerConfig;

use super::conn::End;
use super::tcp::accept_admitted;
use crate::config::{AllowList, HttpInput};
use crate::metrics::Counter;
use crate::pipeline::{Batch, Origin, Pipeline};
use crate::shard::Shard;

/// The body limit is this many maximal frames: room for a batch of Cloud NSS's largest size.
pub const BODY_FRAMES: usize = 64;
/// Longest request head (request line and header fields).
const MAX_HEAD: usize = 16 << 10;
/// Most header fields in a request head.
const MAX_FIELDS: usize = 64;
/// Longest chunk-size line (size and extensions).
const MAX_CHUNK_LINE: usize = 1024;
/// A connection's buffer starts at this size; a larger one (grown for a large body) is given
/// back once the request is done, so that idle keep-alive connections stay small.
const INITIAL_BUFFER: usize = 64 << 10;
/// Smallest free space a read is given.
const MIN_READ: usize = 16 << 10;
/// How long, and how many bytes at most, a connection closed after a refusal keeps reading (and
/// discarding) what the peer still sends, so that its close does not reset the answer away.
const LINGER_TIME: Duration = Duration::from_secs(1);
const LINGER_BYTES: usize = 1 << 20;
/// A handshake that takes longer (or longer than the idle timeout, if shorter) is abandoned.
const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);

/// Who may post: the header that carries the key and the keys it may hold. Swapped on SIGHUP.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Auth {
    header: String,
    keys: Vec<Box<[u8]>>,
}

impl Auth {
    pub fn new(input: &HttpInput) -> Auth {
        Auth {
            header: input.header.clone(),
            keys: input
                .keys
                .iter()
                .map(|k| k.as_bytes().to_vec().into_boxed_slice())
                .collect(),
        }
    }

    /// Whether `presented` is one of the keys. Every key is compared, each in time that depends
    /// only on the lengths, so the answer's timing tells nothing about how close a guess was.
    fn admits(&self, presented: &[u8]) -> bool {
        let mut found = 0u8;
        for key in &self.keys {
            found |= u8::from(constant_time_eq(key, presented));
        }
        found == 1
    }
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    let diff = a.iter().zip(b).fold(0u8, |d, (x, y)| d | (x ^ y));
    std::hint::black_box(diff) == 0
}

/// What the HTTP input of a shard reads at each connection or request.
#[derive(Clone)]
pub struct Input {
    pub allow: Arc<ArcSwap<AllowList>>,
    pub auth: Arc<ArcSwap<Auth>>,
    /// `Some` for HTTPS (the configuration current at accept time is used), `None` for plain
    /// HTTP. Which of the two is decided at start.
    pub tls: Option<Arc<ArcSwapOption<ServerConfig>>>,
}

/// Accepts until the shard drains.
pub async fn accept_loop(shard: Rc<Shard>, listener: TcpListener, input: Input) {
    let input = Rc::new(input);
    while let Some((stream, peer)) =
        accept_admitted(&shard, &listener, &input.allow, "input.http").await
    {
        glommio::spawn_local(serve(shard.clone(), stream, peer, input.clone())).detach();
    }
}

async fn serve(shard: Rc<Shard>, stream: TcpStream, peer: SocketAddr, input: Rc<Input>) {
    let id = shard.register(stream.as_raw_fd());
    let idle = shard.limits.idle_timeout;
    let _ = stream.set_read_timeout(Some(idle));
    let _ = stream.set_write_timeout(Some(idle));
    let mut connection = Connection::new(&shard, &input, peer);
    let ended = match &input.tls {
        None => {
            let mut stream = stream;
            connection.run(&mut stream).await
        }
        Some(config) => match handshake(&shard, stream, peer, config).await {
            Some(mut tls) => connection.run(&mut tls).await,
            None => End::Error,
        },
    };
    let mut batch = Batch {
        shard: shard.index,
        ..Batch::default()
    };
    batch
        .counters
        .add(Counter::BytesRead, connection.unreported);
    match ended {
        End::Idle => batch.counters.incr(Counter::IdleTimeouts),
        End::Error if connection.read_failed => batch.counters.incr(Counter::ReadErrors),
        End::Error | End::Closed | End::Stopped => {}
    }
    batch.counters.incr(Counter::ConnectionsClosed);
    shard.send(batch).await;
    shard.unregister(id);
}

/// The TLS handshake within its time limit; failures are counted and logged.
async fn handshake(
    shard: &Shard,
    stream: TcpStream,
    peer: SocketAddr,
    config: &ArcSwapOption<ServerConfig>,
) -> Option<futures_rustls::server::TlsStream<TcpStream>> {
    let config = config.load_full()?;
    let limit = HANDSHAKE_TIMEOUT.min(shard.limits.idle_timeout);
    let accepted = futures_lite::future::or(
        async { Some(TlsAcceptor::from(config).accept(stream).await) },
        async {
            glommio::timer::sleep(limit).await;
            None
        },
    )
    .await;
    match accepted {
        Some(Ok(tls)) => {
            tracing::debug!(%peer, "HTTPS client connected");
            Some(tls)
        }
        Some(Err(e)) => {
            tracing::warn!(%peer, "input.http: TLS handshake failed: {e}");
            shard.count(|c| c.incr(Counter::TlsHandshakeFailures));
            None
        }
        None => {
            tracing::warn!(%peer, "input.http: TLS handshake timed out after {limit:?}");
            shard.count(|c| c.incr(Counter::TlsHandshakeFailures));
            None
        }
    }
}

/// An answer other than 200.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Refusal {
    status: u16,
    /// Why, in one line for the peer's log (the answer's body).
    message: String,
}

impl Refusal {
    fn new(status: u16, message: impl Into<String>) -> Refusal {
        Refusal {
            status,
            message: message.into(),
        }
    }

    fn counter(&self) -> Option<Counter> {
        match self.status {
            401 | 403 => Some(Counter::HttpRejectedAuth),
            503 => None,
            _ => Some(Counter::HttpBadRequests),
        }
    }
}

fn reason_phrase(status: u16) -> &'static str {
    match status {
        100 => "Continue",
        200 => "OK",
        400 => "Bad Request",
        401 => "Unauthorized",
        403 => "Forbidden",
        405 => "Method Not Allowed",
        411 => "Length Required",
        413 => "Content Too Large",
        415 => "Unsupported Media Type",
        417 => "Expectation Failed",
        431 => "Request Header Fields Too Large",
        501 => "Not Implemented",
        503 => "Service Unavailable",
        _ => "Error",
    }
}

/// How the request's body is delimited.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Framing {
    /// `Content-Length` (`u64::MAX` when the number does not even fit).
    Length(u64),
    Chunked,
}

/// What the key header said.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum KeyCheck {
    Good,
    Missing,
    Wrong,
    /// No key is configured: nobody may post.
    NoKeys,
}

/// What a request head says, taken out of the buffer so that the buffer can be read into again.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Head {
    /// Bytes of the request line and header fields, blank line included.
    len: usize,
    post: bool,
    /// HTTP/1.0: no keep-alive unless asked for, no `100 Continue`.
    http10: bool,
    /// The connection ends after this request (`Connection: close`, or HTTP/1.0 without
    /// `keep-alive`).
    close: bool,
    /// `None` without `Content-Length` or `Transfer-Encoding`; an error for contradictory or
    /// invalid framing.
    framing: Result<Option<Framing>, Refusal>,
    key: KeyCheck,
    /// `Expect: 100-continue`; an unknown expectation is `Err`.
    expect_continue: Result<bool, Refusal>,
    /// A `Content-Encoding` other than `identity`.
    encoding: Option<String>,
}

/// The result of parsing what the buffer holds of a head.
#[derive(Debug)]
enum HeadParse {
    Complete(Head),
    Partial,
    Invalid(Refusal),
}

fn parse_head(buf: &[u8], auth: &Auth) -> HeadParse {
    let mut fields = [httparse::EMPTY_HEADER; MAX_FIELDS];
    let mut request = httparse::Request::new(&mut fields);
    let len = match request.parse(buf) {
        Ok(httparse::Status::Complete(len)) => len,
        Ok(httparse::Status::Partial) => return HeadParse::Partial,
        Err(httparse::Error::TooManyHeaders) => {
            return HeadParse::Invalid(Refusal::new(
                431,
                format!("more than {MAX_FIELDS} header fields"),
            ))
        }
        Err(e) => {
            return HeadParse::Invalid(Refusal::new(400, format!("malformed request head: {e}")))
        }
    };
    if len > MAX_HEAD {
        return HeadParse::Invalid(head_too_large());
    }
    let http10 = request.version == Some(0);
    let mut close = http10;
    let mut length: Option<u64> = None;
    let mut length_error = None;
    let mut transfer: Option<String> = None;
    let mut presented: Option<&[u8]> = None;
    let mut expect_continue = Ok(false);
    let mut encoding = None;
    for field in request.headers.iter() {
        let name = field.name;
        let value = field.value.trim_ascii();
        if name.eq_ignore_ascii_case(&auth.header) {
            presented.get_or_insert(value);
        } else if name.eq_ignore_ascii_case("content-length") {
            // "5, 5" is a list of one value repeated (RFC 9110 §8.6); anything else is an error.
            for item in value.split(|&b| b == b',') {
                match parse_length(item.trim_ascii()) {
                    Some(n) if length.is_none_or(|l| l == n) => length = Some(n),
                    Some(_) => length_error = Some("Content-Length values disagree"),
                    None => length_error = Some("Content-Length is not a number"),
                }
            }
        } else if name.eq_ignore_ascii_case("transfer-encoding") {
            let text = String::from_utf8_lossy(value);
            match &mut transfer {
                Some(t) => {
                    t.push_str(", ");
                    t.push_str(&text);
                }
                None => transfer = Some(text.into_owned()),
            }
        } else if name.eq_ignore_ascii_case("connection") {
            for token in value.split(|&b| b == b',').map(<[u8]>::trim_ascii) {
                if token.eq_ignore_ascii_case(b"close") {
                    close = true;
                } else if token.eq_ignore_ascii_case(b"keep-alive") && http10 {
                    close = false;
                }
            }
        } else if name.eq_ignore_ascii_case("expect") {
            expect_continue = if value.eq_ignore_ascii_case(b"100-continue") {
                Ok(true)
            } else {
                Err(Refusal::new(
                    417,
                    format!(
                        "Expect {:?} is not supported",
                        String::from_utf8_lossy(value)
                    ),
                ))
            };
        } else if name.eq_ignore_ascii_case("content-encoding")
            && !value.is_empty()
            && !value.eq_ignore_ascii_case(b"identity")
        {
            encoding = Some(String::from_utf8_lossy(value).into_owned());
        }
    }
    // A message with both framings is how requests are smuggled past proxies (RFC 9112 §6.3):
    // refuse it rather than pick one.
    let framing = match (transfer, length, length_error) {
        (_, _, Some(message)) => Err(Refusal::new(400, message)),
        (Some(_), Some(_), None) => Err(Refusal::new(
            400,
            "both Content-Length and Transfer-Encoding",
        )),
        (Some(t), None, None) if t.trim().eq_ignore_ascii_case("chunked") => {
            Ok(Some(Framing::Chunked))
        }
        (Some(t), None, None) => Err(Refusal::new(
            501,
            format!("Transfer-Encoding {t:?} is not supported: send Content-Length or chunked"),
        )),
        (None, Some(n), None) => Ok(Some(Framing::Length(n))),
        (None, None, None) => Ok(None),
    };
    let key = match presented {
        _ if auth.keys.is_empty() => KeyCheck::NoKeys,
        None => KeyCheck::Missing,
        Some(value) if auth.admits(value) => KeyCheck::Good,
        Some(_) => KeyCheck::Wrong,
    };
    HeadParse::Complete(Head {
        len,
        post: request.method == Some("POST"),
        http10,
        close,
        framing,
        key,
        expect_continue,
        encoding,
    })
}

/// A `Content-Length` value: digits only; one too large for u64 is `u64::MAX` (over any limit).
fn parse_length(digits: &[u8]) -> Option<u64> {
    if digits.is_empty() || !digits.iter().all(u8::is_ascii_digit) {
        return None;
    }
    Some(digits.iter().try_fold(0u64, |n, d| {
        n.checked_mul(10)?.checked_add(u64::from(d - b'0'))
    }))
    .map(|n| n.unwrap_or(u64::MAX))
}

fn head_too_large() -> Refusal {
    Refusal::new(431, format!("request head over {} KiB", MAX_HEAD >> 10))
}

/// The first refusal a complete head earns, in the order that tells an unauthenticated peer the
/// least: method, key, then framing. `None`: read the body.
fn check(head: &Head, auth: &Auth, draining: bool, max_body: u64) -> Option<Refusal> {
    if draining {
        return Some(Refusal::new(503, "the collector is shutting down; retry"));
    }
    if !head.post {
        return Some(Refusal::new(405, "only POST is accepted"));
    }
    match head.key {
        KeyCheck::Good => {}
        KeyCheck::Missing => {
            return Some(Refusal::new(401, format!("missing {} header", auth.header)))
        }
        KeyCheck::Wrong => return Some(Refusal::new(403, format!("wrong {}", auth.header))),
        KeyCheck::NoKeys => {
            return Some(Refusal::new(
                403,
                "no key is configured (input.http.keys): every request is refused",
            ))
        }
    }
    match &head.framing {
        Err(refusal) => return Some(refusal.clone()),
        Ok(None) => {
            return Some(Refusal::new(
                411,
                "Content-Length required (or Transfer-Encoding: chunked)",
            ))
        }
        Ok(Some(Framing::Length(n))) if *n > max_body => {
            return Some(Refusal::new(
                413,
                format!("body over {max_body} bytes (limits.max_frame_bytes x {BODY_FRAMES})"),
            ))
        }
        Ok(Some(_)) => {}
    }
    if let Some(coding) = &head.encoding {
        return Some(Refusal::new(
            415,
            format!("Content-Encoding {coding:?} is not supported: send plain JSON"),
        ));
    }
    if let Err(refusal) = &head.expect_continue {
        return Some(refusal.clone());
    }
    None
}

/// A body read whole: its range in the buffer and where the next request starts; or a refusal;
/// or how the connection ended before the body was complete.
type BodyRead = Result<Result<(Range<usize>, usize), Refusal>, End>;

/// One connection's requests, in its own buffer.
struct Connection<'a> {
    shard: &'a Shard,
    input: &'a Input,
    peer: SocketAddr,
    buf: Vec<u8>,
    /// Unconsumed bytes are `buf[start..end]`.
    start: usize,
    end: usize,
    /// Bytes read and not yet counted in a batch.
    unreported: u64,
    /// When the last read returned: the body's last read is where latency starts.
    last_read: Instant,
    /// The connection ended on a failed read (not a timeout or a close).
    read_failed: bool,
}

impl<'a> Connection<'a> {
    fn new(shard: &'a Shard, input: &'a Input, peer: SocketAddr) -> Self {
        Connection {
            shard,
            input,
            peer,
            buf: vec![0u8; INITIAL_BUFFER],
            start: 0,
            end: 0,
            unreported: 0,
            last_read: Instant::now(),
            read_failed: false,
        }
    }

    fn max_body(&self) -> usize {
        self.shard
            .limits
            .max_frame_bytes
            .saturating_mul(BODY_FRAMES)
    }

    /// Reads into `buf[end..]` (which must not be empty).
    async fn read<S: AsyncRead + Unpin>(&mut self, stream: &mut S) -> Result<(), End> {
        let n = match stream.read(&mut self.buf[self.end..]).await {
            Ok(0) => return Err(End::Closed),
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::TimedOut => return Err(End::Idle),
            // A TLS peer that closes without close_notify, or a drain that shut the socket.
            Err(e) if e.kind() == io::ErrorKind::UnexpectedEof => return Err(End::Closed),
            Err(_) => {
                self.read_failed = true;
                return Err(End::Error);
            }
        };
        self.end += n;
        self.unreported += n as u64;
        self.last_read = Instant::now();
        Ok(())
    }

    /// Makes at least `MIN_READ` bytes free after `end`, growing the buffer up to `limit`.
    fn make_room(&mut self, limit: usize) {
        if self.buf.len() - self.end < MIN_READ && self.buf.len() < limit {
            let len = (self.buf.len() * 2).max(self.end + MIN_READ).min(limit);
            self.buf.resize(len, 0);
        }
    }

    /// Serves requests until the connection ends.
    async fn run<S: AsyncRead + AsyncWrite + Unpin>(&mut self, stream: &mut S) -> End {
        loop {
            // What is left of the last read is the start of the next request.
            self.buf.copy_within(self.start..self.end, 0);
            self.end -= self.start;
            self.start = 0;
            if self.buf.len() > INITIAL_BUFFER && self.end <= INITIAL_BUFFER / 2 {
                self.buf.truncate(INITIAL_BUFFER);
                self.buf.shrink_to_fit();
            }
            let head = loop {
                let parsed = parse_head(&self.buf[..self.end], &self.input.auth.load());
                match parsed {
                    HeadParse::Complete(head) => break head,
                    HeadParse::Partial if self.end < MAX_HEAD => {}
                    HeadParse::Partial => return self.refuse(stream, head_too_large()).await,
                    HeadParse::Invalid(refusal) => return self.refuse(stream, refusal).await,
                }
                self.make_room(INITIAL_BUFFER);
                if let Err(end) = self.read(stream).await {
                    if self.end > 0 {
                        tracing::debug!(peer = %self.peer, "input.http: closed mid-head");
                    }
                    return end;
                }
            };
            let max_body = self.max_body();
            let auth = self.input.auth.load_full();
            if let Some(refusal) = check(
                &head,
                &auth,
                self.shard.shutdown.is_draining(),
                max_body as u64,
            ) {
                return self.refuse(stream, refusal).await;
            }
            // The peer waits for this before it sends the body (unless some of it came already).
            let go_on = head.expect_continue == Ok(true) && !head.http10 && self.end == head.len;
            if go_on
                && write(stream, b"HTTP/1.1 100 Continue\r\n\r\n")
                    .await
                    .is_err()
            {
                return End::Error;
            }
            let body = match head.framing {
                Ok(Some(Framing::Length(n))) => self.read_length(stream, head.len, n).await,
                Ok(Some(Framing::Chunked)) => self.read_chunked(stream, head.len, max_body).await,
                // `check` refused every other framing.
                Ok(None) | Err(_) => return End::Error,
            };
            let body = match body {
                Ok(Ok(body)) => body,
                Ok(Err(refusal)) => return self.refuse(stream, refusal).await,
                Err(end) => {
                    tracing::debug!(peer = %self.peer, "input.http: closed before the body was complete");
                    return end;
                }
            };
            match self.take(body).await {
                Ok(()) => {
                    if head.close {
                        let _ = answer(stream, 200, "", true, head.http10).await;
                        close(stream, &mut self.buf).await;
                        return End::Closed;
                    }
                    if answer(stream, 200, "", false, head.http10).await.is_err() {
                        return End::Error;
                    }
                }
                Err(Some(refusal)) => {
                    // The body was read: the connection can go on.
                    if answer(
                        stream,
                        refusal.status,
                        &refusal.message,
                        head.close,
                        head.http10,
                    )
                    .await
                    .is_err()
                    {
                        return End::Error;
                    }
                    if head.close {
                        close(stream, &mut self.buf).await;
                        return End::Closed;
                    }
                }
                Err(None) => {
                    let refusal = Refusal::new(503, "the collector is shutting down; retry");
                    return self.refuse(stream, refusal).await;
                }
            }
        }
    }

    /// Reads a body of `n` bytes that starts at `at`; returns its range.
    async fn read_length<S: AsyncRead + Unpin>(
        &mut self,
        stream: &mut S,
        at: usize,
        n: u64,
    ) -> BodyRead {
        // `check` has bounded n by the body limit.
        let end = at + usize::try_from(n).unwrap_or(usize::MAX - at);
        if self.buf.len() < end {
            self.buf.resize(end, 0);
        }
        while self.end < end {
            self.read(stream).await?;
        }
        Ok(Ok((at..end, end)))
    }

    /// Reads a chunked body that starts at `at`, decoding it where it lies; returns the decoded
    /// body's range and where the next request starts.
    async fn read_chunked<S: AsyncRead + Unpin>(
        &mut self,
        stream: &mut S,
        at: usize,
        max_body: usize,
    ) -> BodyRead {
        let mut decoder = Chunked::default();
        let mut out = at;
        let mut raw = at;
        // Decoded bytes, at most a chunk line or the trailers pending, and room to read.
        let limit = at + max_body + MAX_HEAD + MAX_CHUNK_LINE + MIN_READ;
        loop {
            let budget = (at + max_body - out) as u64;
            match decoder.decode(&mut self.buf[..self.end], &mut out, &mut raw, budget) {
                Ok(true) => return Ok(Ok((at..out, raw))),
                Ok(false) => {}
                Err(ChunkError::Malformed) => {
                    return Ok(Err(Refusal::new(400, "malformed chunked body")))
                }
                Err(ChunkError::TooLarge) => {
                    return Ok(Err(Refusal::new(
                        413,
                        format!(
                            "body over {max_body} bytes (limits.max_frame_bytes x {BODY_FRAMES})"
                        ),
                    )))
                }
                Err(ChunkError::TrailersTooLarge) => return Ok(Err(head_too_large())),
            }
            // Everything decoded so far sits below `raw`: move the undecoded rest down to it.
            self.buf.copy_within(raw..self.end, out);
            self.end -= raw - out;
            raw = out;
            self.make_room(limit);
            self.read(stream).await?;
        }
    }

    /// Checks and processes one body, hands its batch to the aggregator. `Err(Some)`: the body is
    /// refused (400); `Err(None)`: the aggregator is gone.
    async fn take(&mut self, (body, next): (Range<usize>, usize)) -> Result<(), Option<Refusal>> {
        let read_at = self.last_read;
        let origin = Origin {
            peer: self.peer,
            received: Timestamp::now(),
        };
        let bytes = &mut self.buf[body];
        let shape = shape(bytes);
        let mut batch = match shape {
            Ok(Shape::Empty) | Err(_) => Batch {
                shard: self.shard.index,
                ..Batch::default()
            },
            Ok(_) => Batch::new(self.shard.index),
        };
        batch.read_at = Some(read_at);
        batch.counters.incr(Counter::HttpRequests);
        batch.counters.add(Counter::BytesRead, self.unreported);
        self.unreported = 0;
        let refused = match shape {
            Ok(shape) => {
                process_body(
                    &mut self.shard.pipeline.borrow_mut(),
                    bytes,
                    shape,
                    self.shard.limits.max_frame_bytes,
                    &origin,
                    &mut batch,
                );
                None
            }
            Err(NotJson) => {
                batch.counters.incr(Counter::HttpBadRequests);
                tracing::debug!(peer = %self.peer, "input.http: body is not JSON");
                Some(Refusal::new(
                    400,
                    "body is neither a JSON array nor newline-delimited JSON objects",
                ))
            }
        };
        batch.parse_time = read_at.elapsed();
        self.start = next;
        if !self.shard.send(batch).await {
            return Err(None);
        }
        refused.map_or(Ok(()), |r| Err(Some(r)))
    }

    /// Answers with a refusal whose body was not read, and closes.
    async fn refuse<S: AsyncRead + AsyncWrite + Unpin>(
        &mut self,
        stream: &mut S,
        refusal: Refusal,
    ) -> End {
        let mut batch = Batch {
            shard: self.shard.index,
            ..Batch::default()
        };
        batch.counters.incr(Counter::HttpRequests);
        if let Some(counter) = refusal.counter() {
            batch.counters.incr(counter);
        }
        batch.counters.add(Counter::BytesRead, self.unreported);
        self.unreported = 0;
        if refusal.status == 401 || refusal.status == 403 {
            tracing::warn!(peer = %self.peer, "input.http: {} {}", refusal.status, refusal.message);
        } else {
            tracing::debug!(peer = %self.peer, "input.http: {} {}", refusal.status, refusal.message);
        }
        self.shard.send(batch).await;
        let _ = answer(stream, refusal.status, &refusal.message, true, false).await;
        close(stream, &mut self.buf).await;
        End::Closed
    }
}

/// Writes a whole answer.
async fn answer<S: AsyncWrite + Unpin>(
    stream: &mut S,
    status: u16,
    message: &str,
    close: bool,
    http10: bool,
) -> io::Result<()> {
    let mut out = String::with_capacity(160 + message.len());
    out.push_str("HTTP/1.1 ");
    out.push_str(itoa::Buffer::new().format(status));
    out.push(' ');
    out.push_str(reason_phrase(status));
    out.push_str("\r\nDate: ");
    out.push_str(
        &jiff::fmt::rfc2822::DateTimePrinter::new()
            .timestamp_to_rfc9110_string(&Timestamp::now())
            .unwrap_or_default(),
    );
    out.push_str("\r\nServer: ztel\r\n");
    if status == 405 {
        out.push_str("Allow: POST\r\n");
    }
    if close {
        out.push_str("Connection: close\r\n");
    } else if http10 {
        out.push_str("Connection: keep-alive\r\n");
    }
    let body = if message.is_empty() {
        String::new()
    } else {
        format!("{message}\n")
    };
    if !body.is_empty() {
        out.push_str("Content-Type: text/plain; charset=utf-8\r\n");
    }
    out.push_str("Content-Length: ");
    out.push_str(itoa::Buffer::new().format(body.len()));
    out.push_str("\r\n\r\n");
    out.push_str(&body);
    write(stream, out.as_bytes()).await
}

async fn write<S: AsyncWrite + Unpin>(stream: &mut S, bytes: &[u8]) -> io::Result<()> {
    stream.write_all(bytes).await?;
    stream.flush().await
}

/// Closes our side (TLS: close_notify), then reads and drops what the peer still sends for a
/// moment: closing with unread bytes would make the kernel reset the connection, and the peer
/// could lose the answer.
async fn close<S: AsyncRead + AsyncWrite + Unpin>(stream: &mut S, scratch: &mut [u8]) {
    if stream.close().await.is_err() {
        return;
    }
    let mut discarded = 0;
    futures_lite::future::or(
        async {
            while discarded < LINGER_BYTES {
                match stream.read(scratch).await {
                    Ok(0) | Err(_) => break,
                    Ok(n) => discarded += n,
                }
            }
        },
        glommio::timer::sleep(LINGER_TIME),
    )
    .await;
}

/// What a body holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Shape {
    /// Only whitespace: no record (a connectivity test), answered 200.
    Empty,
    /// A JSON array: each element is a record.
    Array,
    /// Newline-delimited JSON: each non-blank line is a record.
    Lines,
}

/// The body is not JSON in a shape this input takes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct NotJson;

/// Decides what a body is, and checks it all, before anything of it is processed: processing
/// has effects (the shard's device cache) that a refused body must not have.
fn shape(body: &[u8]) -> Result<Shape, NotJson> {
    match body.iter().find(|b| !b.is_ascii_whitespace()) {
        None => Ok(Shape::Empty),
        Some(b'[') => {
            let mut scan = ArrayScan::new(body)?;
            while scan.next(body)?.is_some() {}
            Ok(Shape::Array)
        }
        Some(b'{') => {
            let mut lines = Lines { pos: 0 };
            while let Some(line) = lines.next(body) {
                if body[line.start] != b'{' {
                    return Err(NotJson);
                }
            }
            Ok(Shape::Lines)
        }
        Some(_) => Err(NotJson),
    }
}

/// Hands every record of a checked body to the pipeline, each in place. A record over
/// `max_frame` is skipped and counted, as on TCP.
fn process_body(
    pipeline: &mut Pipeline,
    body: &mut [u8],
    shape: Shape,
    max_frame: usize,
    origin: &Origin,
    batch: &mut Batch,
) {
    let mut one = |body: &mut [u8], range: Range<usize>, batch: &mut Batch| {
        if range.len() > max_frame {
            batch.counters.incr(Counter::OversizeFrames);
        } else {
            pipeline.process(&body[range], origin, batch);
        }
    };
    match shape {
        Shape::Empty => {}
        Shape::Array => {
            // The body was checked: the scan cannot fail now. Each element is parsed (and
            // rewritten by simd-json) only after the scan has moved past it.
            let Ok(mut scan) = ArrayScan::new(body) else {
                return;
            };
            while let Ok(Some(range)) = scan.next(body) {
                one(body, range, batch);
            }
        }
        Shape::Lines => {
            let mut lines = Lines { pos: 0 };
            while let Some(range) = lines.next(body) {
                one(body, range, batch);
            }
        }
    }
}

/// The non-blank lines of a body, whitespace trimmed.
struct Lines {
    pos: usize,
}

impl Lines {
    fn next(&mut self, body: &[u8]) -> Option<Range<usize>> {
        while self.pos < body.len() {
            let start = self.pos;
            let end = memchr::memchr(b'\n', &body[start..]).map_or(body.len(), |i| start + i);
            self.pos = end + 1;
            let range = trim(body, start..end);
            if !range.is_empty() {
                return Some(range);
            }
        }
        None
    }
}

fn trim(body: &[u8], mut range: Range<usize>) -> Range<usize> {
    while range.start < range.end && body[range.start].is_ascii_whitespace() {
        range.start += 1;
    }
    while range.end > range.start && body[range.end - 1].is_ascii_whitespace() {
        range.end -= 1;
    }
    range
}

/// Finds the elements of a JSON array, one at a time, as byte ranges (whitespace trimmed). It
/// follows strings (with their escapes) and the nesting depth, and checks the array's own
/// syntax: brackets, commas, nothing after the closing bracket. What an element holds is the
/// pipeline's business: one that is not a valid object becomes a dead letter there.
struct ArrayScan {
    pos: usize,
    state: ArrayState,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum ArrayState {
    /// After `[`: an element or `]`.
    Open,
    /// After an element: `,` or `]`.
    Between,
    Done,
}

impl ArrayScan {
    /// Starts after the `[` (which must be the first non-whitespace byte).
    fn new(body: &[u8]) -> Result<ArrayScan, NotJson> {
        let pos = skip_whitespace(body, 0);
        if body.get(pos) != Some(&b'[') {
            return Err(NotJson);
        }
        Ok(ArrayScan {
            pos: pos + 1,
            state: ArrayState::Open,
        })
    }

    fn next(&mut self, body: &[u8]) -> Result<Option<Range<usize>>, NotJson> {
        loop {
            match self.state {
                ArrayState::Done => return Ok(None),
                ArrayState::Open | ArrayState::Between => {
                    self.pos = skip_whitespace(body, self.pos);
                    match body.get(self.pos) {
                        Some(b']') => {
                            self.state = ArrayState::Done;
                            if skip_whitespace(body, self.pos + 1) != body.len() {
                                return Err(NotJson);
                            }
                        }
                        Some(b',') if self.state == ArrayState::Between => {
                            self.pos += 1;
                            let element = self.element(body)?;
                            return Ok(Some(element));
                        }
                        Some(_) if self.state == ArrayState::Open => {
                            let element = self.element(body)?;
                            return Ok(Some(element));
                        }
                        _ => return Err(NotJson),
                    }
                }
            }
        }
    }

    /// One element from `pos`, which is left on the `,` or `]` after it.
    fn element(&mut self, body: &[u8]) -> Result<Range<usize>, NotJson> {
        let start = skip_whitespace(body, self.pos);
        let mut depth = 0usize;
        // A string, object or array at the top level has ended: only `,` or `]` may follow.
        let mut closed = false;
        let mut i = start;
        while let Some(&b) = body.get(i) {
            if closed && !b.is_ascii_whitespace() && b != b',' && b != b']' {
                return Err(NotJson);
            }
            match b {
                b'"' => {
                    i += 1;
                    loop {
                        let rest = body.get(i..).ok_or(NotJson)?;
                        let at = memchr::memchr2(b'"', b'\\', rest).ok_or(NotJson)?;
                        i += at;
                        if body[i] == b'\\' {
                            i += 2;
                        } else {
                            break;
                        }
                    }
                    closed = depth == 0;
                }
                b'{' | b'[' => depth += 1,
                b'}' | b']' if depth > 0 => {
                    depth -= 1;
                    closed = depth == 0;
                }
                b']' | b',' if depth == 0 => break,
                b'}' => return Err(NotJson),
                _ => {}
            }
            i += 1;
        }
        if i >= body.len() {
            return Err(NotJson);
        }
        self.pos = i;
        self.state = ArrayState::Between;
        let range = trim(body, start..i);
        if range.is_empty() {
            return Err(NotJson);
        }
        Ok(range)
    }
}

fn skip_whitespace(body: &[u8], mut pos: usize) -> usize {
    while body.get(pos).is_some_and(u8::is_ascii_whitespace) {
        pos += 1;
    }
    pos
}

/// Why a chunked body was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum ChunkError {
    Malformed,
    /// The decoded body would exceed the limit.
    TooLarge,
    /// Trailer fields over the head limit.
    TrailersTooLarge,
}

/// Decodes `Transfer-Encoding: chunked` (RFC 9112 §7.1) in place: chunk data is moved down over
/// the chunk lines, so the decoded body is contiguous in the connection's buffer. It takes the
/// input as it arrives, in any pieces.
#[derive(Debug, Default)]
struct Chunked {
    state: ChunkState,
    /// Bytes of trailer fields seen.
    trailers: usize,
}

#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
enum ChunkState {
    /// At a chunk-size line.
    #[default]
    Size,
    /// Inside a chunk's data, with this much left.
    Data(u64),
    /// At the line break after a chunk's data.
    DataEnd,
    /// After the last chunk: trailer fields up to a blank line.
    Trailers,
    Done,
}

impl Chunked {
    /// Decodes `buf[*raw..]`, moving data to `*out` (`*out <= *raw` always); `budget` is how many
    /// more decoded bytes are allowed. `Ok(true)` once the body is complete (`*raw` is then where
    /// the next request begins); `Ok(false)` when more input is needed.
    fn decode(
        &mut self,
        buf: &mut [u8],
        out: &mut usize,
        raw: &mut usize,
        mut budget: u64,
    ) -> Result<bool, ChunkError> {
        loop {
            let input = &buf[*raw..];
            match self.state {
                ChunkState::Done => return Ok(true),
                ChunkState::Size => {
                    if input.first().is_some_and(|b| !b.is_ascii_hexdigit()) {
                        return Err(ChunkError::Malformed);
                    }
                    match httparse::parse_chunk_size(input) {
                        Ok(httparse::Status::Complete((used, size))) => {
                            if size > budget {
                                return Err(ChunkError::TooLarge);
                            }
                            *raw += used;
                            self.state = if size == 0 {
                                ChunkState::Trailers
                            } else {
                                ChunkState::Data(size)
                            };
                        }
                        Ok(httparse::Status::Partial) if input.len() > MAX_CHUNK_LINE => {
                            return Err(ChunkError::Malformed)
                        }
                        Ok(httparse::Status::Partial) => return Ok(false),
                        Err(_) => return Err(ChunkError::Malformed),
                    }
                }
                ChunkState::Data(left) => {
                    if input.is_empty() {
                        return Ok(false);
                    }
                    let n = input.len().min(usize::try_from(left).unwrap_or(usize::MAX));
                    buf.copy_within(*raw..*raw + n, *out);
                    *raw += n;
                    *out += n;
                    budget -= n as u64;
                    let left = left - n as u64;
                    self.state = if left == 0 {
                        ChunkState::DataEnd
                    } else {
                        ChunkState::Data(left)
                    };
                }
                ChunkState::DataEnd => match input {
                    [b'\r', b'\n', ..] => {
                        *raw += 2;
                        self.state = ChunkState::Size;
                    }
                    [] | [b'\r'] => return Ok(false),
                    _ => return Err(ChunkError::Malformed),
                },
                ChunkState::Trailers => {
                    let Some(lf) = memchr::memchr(b'\n', input) else {
                        if self.trailers + input.len() > MAX_HEAD {
                            return Err(ChunkError::TrailersTooLarge);
                        }
                        return Ok(false);
                    };
                    self.trailers += lf + 1;
                    if self.trailers > MAX_HEAD {
                        return Err(ChunkError::TrailersTooLarge);
                    }
                    let line = &input[..lf];
                    *raw += lf + 1;
                    if line.is_empty() || line == b"\r" {
                        self.state = ChunkState::Done;
                    }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn elements(body: &str) -> Result<Vec<&str>, NotJson> {
        let b = body.as_bytes();
        let mut scan = ArrayScan::new(b)?;
        let mut out = Vec::new();
        while let Some(r) = scan.next(b)? {
            out.push(&body[r]);
        }
        Ok(out)
    }

    #[test]
    fn array_elements_are_found_with_strings_escapes_and_nesting() {
        assert_eq!(elements("[]"), Ok(vec![]));
        assert_eq!(elements(" [ ] \n"), Ok(vec![]));
        assert_eq!(
            elements(r#"[{"a":"x,]}"},{"b":[1,{"c":"\"]"}]} , 5,"s"]"#),
            Ok(vec![
                r#"{"a":"x,]}"}"#,
                r#"{"b":[1,{"c":"\"]"}]}"#,
                "5",
                r#""s""#
            ])
        );
        assert_eq!(
            elements("[\n  {\"a\":\"\\\\\"}\n]\n"),
            Ok(vec![r#"{"a":"\\"}"#])
        );
    }

    #[test]
    fn broken_arrays_are_not_json() {
        for body in [
            "[",
            "[{}",
            "[{},]",
            "[,{}]",
            "[{}{}]",
            "[{}] x",
            r#"[{"a":"unterminated}]"#,
            "[{}}]",
            "[{},,{}]",
            "[{} {}]",
            r#"[{"a":1}"x"]"#,
            r#"["x" "y"]"#,
        ] {
            assert_eq!(shape(body.as_bytes()), Err(NotJson), "{body}");
        }
    }

    #[test]
    fn bodies_are_arrays_lines_empty_or_refused() {
        assert_eq!(shape(b""), Ok(Shape::Empty));
        assert_eq!(shape(b" \r\n"), Ok(Shape::Empty));
        assert_eq!(shape(b"[{}]"), Ok(Shape::Array));
        assert_eq!(shape(b"{\"a\":1}\n\n  {\"b\":2}\r\n"), Ok(Shape::Lines));
        assert_eq!(shape(b"{\"a\":1}\nnot json\n"), Err(NotJson));
        assert_eq!(shape(b"hello"), Err(NotJson));
        assert_eq!(shape(b"<134>{\"a\":1}"), Err(NotJson));
    }

    #[test]
    fn lines_are_trimmed_and_blank_ones_skipped() {
        let body = b"  {\"a\":1}\r\n\n\t{\"b\":2}";
        let mut lines = Lines { pos: 0 };
        let mut got = Vec::new();
        while let Some(r) = lines.next(body) {
            got.push(&body[r]);
        }
        assert_eq!(got, [&b"{\"a\":1}"[..], &b"{\"b\":2}"[..]]);
    }

    /// Decodes `wire` fed in pieces of `step` bytes, as reads would bring it, moving undecoded
    /// bytes down between reads as the connection does. Returns the body and the wire bytes used.
    fn dechunk(wire: &[u8], step: usize, budget: u64) -> Result<(Vec<u8>, usize), ChunkError> {
        let mut buf = Vec::new();
        let (mut out, mut raw, mut fed) = (0, 0, 0);
        let mut decoder = Chunked::default();
        for piece in wire.chunks(step) {
            buf.extend_from_slice(piece);
            fed += piece.len();
            let left = budget - out as u64;
            if decoder.decode(&mut buf, &mut out, &mut raw, left)? {
                return Ok((buf[..out].to_vec(), fed - (buf.len() - raw)));
            }
            buf.drain(out..raw);
            raw = out;
        }
        Err(ChunkError::Malformed)
    }

    #[test]
    fn chunked_bodies_decode_in_place_in_any_pieces() {
        let wire =
            b"4\r\nWiki\r\n6;ext=1\r\npedia \r\nE\r\nin \r\n\r\nchunks.\r\n0\r\nX-T: 1\r\n\r\nPOST";
        for step in 1..=wire.len() {
            let (body, used) = dechunk(wire, step, 1 << 20).unwrap();
            assert_eq!(body, b"Wikipedia in \r\n\r\nchunks.", "step {step}");
            assert_eq!(
                used,
                wire.len() - 4,
                "the next request is left: step {step}"
            );
        }
    }

    #[test]
    fn bad_or_large_chunks_are_refused() {
        assert_eq!(
            dechunk(b"zz\r\nab\r\n0\r\n\r\n", 64, 100),
            Err(ChunkError::Malformed)
        );
        assert_eq!(
            dechunk(b"2\r\nabX\r\n0\r\n\r\n", 64, 100),
            Err(ChunkError::Malformed)
        );
        assert_eq!(
            dechunk(b"\r\n0\r\n\r\n", 64, 100),
            Err(ChunkError::Malformed)
        );
        assert_eq!(
            dechunk(b"65\r\n", 64, 100),
            Err(ChunkError::TooLarge),
            "0x65 = 101 > 100"
        );
        assert_eq!(
            dechunk(b"ffffffffffffffffff\r\n", 64, 100),
            Err(ChunkError::Malformed)
        );
        let mut long = b"0\r\n".to_vec();
        long.extend(std::iter::repeat_n(b'x', MAX_HEAD + 10));
        assert_eq!(dechunk(&long, 4096, 100), Err(ChunkError::TrailersTooLarge));
    }

    fn auth(keys: &[&str]) -> Auth {
        Auth::new(&HttpInput {
            keys: keys.iter().map(|k| k.to_string()).collect(),
            ..HttpInput::default()
        })
    }

    fn head(text: &str, keys: &[&str]) -> Head {
        match parse_head(text.as_bytes(), &auth(keys)) {
            HeadParse::Complete(h) => h,
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn heads_say_framing_key_and_keep_alive() {
        let h = head(
            "POST /nss HTTP/1.1\r\nx-ztel-KEY:  k2 \r\nContent-Length: 12\r\n\r\n",
            &["k1", "k2"],
        );
        assert!(h.post && !h.close && !h.http10);
        assert_eq!(h.key, KeyCheck::Good);
        assert_eq!(h.framing, Ok(Some(Framing::Length(12))));
        let h = head(
            "POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n",
            &["k1"],
        );
        assert!(h.close && h.http10);
        assert_eq!(h.key, KeyCheck::Missing);
        assert_eq!(h.framing, Ok(Some(Framing::Chunked)));
        let h = head(
            "POST / HTTP/1.1\r\nConnection: keep-alive, close\r\nX-Ztel-Key: k3\r\n\r\n",
            &["k1"],
        );
        assert!(h.close);
        assert_eq!(h.key, KeyCheck::Wrong);
        assert_eq!(h.framing, Ok(None));
        assert_eq!(
            head("POST / HTTP/1.1\r\nX-Ztel-Key: k1\r\n\r\n", &[]).key,
            KeyCheck::NoKeys
        );
    }

    #[test]
    fn refusals_come_in_order() {
        let a = auth(&["k1"]);
        let status = |text: &str, draining: bool| {
            let h = head(text, &["k1"]);
            check(&h, &a, draining, 1000).map(|r| r.status)
        };
        let ok = "POST / HTTP/1.1\r\nX-Ztel-Key: k1\r\nContent-Length: 10\r\n\r\n";
        assert_eq!(status(ok, false), None);
        assert_eq!(status(ok, true), Some(503));
        assert_eq!(
            status("GET / HTTP/1.1\r\nContent-Length: 10\r\n\r\n", false),
            Some(405)
        );
        assert_eq!(
            status("POST / HTTP/1.1\r\nContent-Length: 10\r\n\r\n", false),
            Some(401)
        );
        assert_eq!(
            status("POST / HTTP/1.1\r\nX-Ztel-Key: k\r\n\r\n", false),
            Some(403)
        );
        assert_eq!(
            status("POST / HTTP/1.1\r\nX-Ztel-Key: k1\r\n\r\n", false),
            Some(411)
        );
        assert_eq!(
            status(
                "POST / HTTP/1.1\r\nX-Ztel-Key: k1\r\nContent-Length: 1001\r\n\r\n",
                false
            ),
            Some(413)
        );
        assert_eq!(
            status(
                "POST / HTTP/1.1\r\nX-Ztel-Key: k1\r\nContent-Length: 99999999999999999999999\r\n\r\n",
                false
            ),
            Some(413)
        );
        for bad in [
            "Content-Length: 10\r\nTransfer-Encoding: chunked",
            "Content-Length: 10\r\nContent-Length: 11",
            "Content-Length: -1",
        ] {
            let text = format!("POST / HTTP/1.1\r\nX-Ztel-Key: k1\r\n{bad}\r\n\r\n");
            assert_eq!(status(&text, false), Some(400), "{bad}");
        }
        let same = "POST / HTTP/1.1\r\nX-Ztel-Key: k1\r\nContent-Length: 10, 10\r\n\r\n";
        assert_eq!(status(same, false), None);
        let gzip = "POST / HTTP/1.1\r\nX-Ztel-Key: k1\r\nTransfer-Encoding: gzip, chunked\r\n\r\n";
        assert_eq!(status(gzip, false), Some(501));
        let encoded = "POST / HTTP/1.1\r\nX-Ztel-Key: k1\r\nContent-Length: 1\r\nContent-Encoding: gzip\r\n\r\n";
        assert_eq!(status(encoded, false), Some(415));
        let expect =
            "POST / HTTP/1.1\r\nX-Ztel-Key: k1\r\nContent-Length: 1\r\nExpect: teapot\r\n\r\n";
        assert_eq!(status(expect, false), Some(417));
    }

    #[test]
    fn malformed_or_huge_heads_are_refused() {
        let a = auth(&["k1"]);
        assert!(matches!(
            parse_head(b"POST / HTTP/1.1\r\nX-Ztel-Key: k1\r\n", &a),
            HeadParse::Partial
        ));
        assert!(matches!(
            parse_head(b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03", &a),
            HeadParse::Invalid(Refusal { status: 400, .. })
        ));
        let many: String = (0..MAX_FIELDS + 1)
            .map(|i| format!("X-{i}: v\r\n"))
            .collect();
        let text = format!("POST / HTTP/1.1\r\n{many}\r\n");
        assert!(matches!(
            parse_head(text.as_bytes(), &a),
            HeadParse::Invalid(Refusal { status: 431, .. })
        ));
        let long = format!("POST / HTTP/1.1\r\nX-Big: {}\r\n\r\n", "v".repeat(MAX_HEAD));
        assert!(matches!(
            parse_head(long.as_bytes(), &a),
            HeadParse::Invalid(Refusal { status: 431, .. })
        ));
    }

    #[test]
    fn keys_compare_whole() {
        let a = auth(&["secret", "other"]);
        assert!(a.admits(b"secret"));
        assert!(a.admits(b"other"));
        assert!(!a.admits(b"secre"));
        assert!(!a.admits(b"secret2"));
        assert!(!a.admits(b""));
        assert!(!auth(&[]).admits(b""));
    }
}
