//! One Cloud NSS request, from its head to its answer (DESIGN §3 "HTTP"). hyper has parsed the
//! head; ztel's rules come on top, in the order that tells an unauthenticated peer the least:
//! draining, address, then method, key, framing, encoding and expectation ([`super::head`]).
//! Only then is the body read, and it grows as bytes arrive, never by what the head declares: a
//! body over the limit is refused with 413 as soon as its bytes pass it. A gzip body is read whole (within the limit),
//! then inflated within the same limit ([`super::gzip`]).
//!
//! The 200 is sent only once the request's records are safe (see [`Receipt`]): taken by the
//! aggregator's channel, so that a full channel delays the answer instead of losing records, and
//! then written, so that a crash of the collector cannot lose records Cloud NSS will not send
//! again. A records output that cannot write for [`WRITTEN_WITHIN`] gets the sender a 503; its
//! retry is then a repeat (or, when the batch was never taken, no repeat), answered once the
//! records are written.
//!
//! What a request holds is charged to the shard's buffer budget for as long as it holds it: the
//! body as it is read, what a gzip body inflates to as it inflates, then the batch's records until
//! the channel takes them (a full channel would otherwise let every connection hold a body's
//! worth, however small the body was on the wire).
//!
//! A request never waits for the budget while it holds part of it. Once its body (a gzip body's
//! packed and inflated bytes together) outgrows the connection's own first buffer, which is free
//! of charge, it reserves at once the most it may come to hold (the declared length, or the
//! largest body when none is declared, plus what a gzip body may inflate to), and from then on
//! needs nothing more; a body that stays within that buffer reserves nothing. Bodies that grew
//! step by step, keeping their share while waiting for more, stalled every request once partial
//! bodies had spent the budget: none could finish until the deadline cut them all (100 uploads
//! of 15 MiB at once took one). The reservation is budget only: memory still grows as the bytes
//! arrive, and a peer that declares a large body and sends no more holds its reservation until
//! its request's deadline at most.

use std::cell::RefCell;
use std::net::SocketAddr;
use std::rc::Rc;
use std::time::Instant;

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::header::CONTENT_ENCODING;
use hyper::{Request, Response, StatusCode};
use jiff::Timestamp;

use super::answer::{budget_short, respond, too_large, unwritten, Refusal};
use super::body::{process_body, shape, without_bom, NotJson, Shape};
use super::gzip::{is_gzip, GzipError, Inflater};
use super::head;
use super::io::{Answering, Progress};
use super::written::{written, WRITTEN_WITHIN};
use super::Input;
use crate::batch::counters::Counter;
use crate::batch::receipt::Receipt;
use crate::batch::{Batch, Origin, Source};
use crate::shard::budget::Charge;
use crate::shard::notices::{and_more, Notice};
use crate::shard::Shard;

/// The body limit is this many maximal frames: room for a batch of Cloud NSS's largest size.
pub const BODY_FRAMES: usize = 64;
/// A connection's body buffer is given back once a request made it larger than this, so that
/// idle keep-alive connections stay small.
pub(super) const KEEP_BUFFER: usize = 64 << 10;

/// What every request of one connection shares.
pub struct Requests {
    pub shard: Rc<Shard>,
    pub input: Rc<Input>,
    pub peer: SocketAddr,
    /// When the request began; whether it waits for its answer.
    pub progress: Rc<Progress>,
    /// The body being read, reused from one request to the next.
    body: RefCell<Vec<u8>>,
}

/// The request ended before its body did: the connection is over, hyper closes it.
#[derive(Debug)]
pub struct BodyFailed(hyper::Error);

impl std::fmt::Display for BodyFailed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "reading the body: {}", self.0)
    }
}

impl std::error::Error for BodyFailed {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        Some(&self.0)
    }
}

impl Requests {
    pub fn new(
        shard: Rc<Shard>,
        input: Rc<Input>,
        peer: SocketAddr,
        progress: Rc<Progress>,
    ) -> Self {
        Requests {
            shard,
            input,
            peer,
            progress,
            body: RefCell::new(Vec::new()),
        }
    }

    fn max_body(&self) -> usize {
        self.shard
            .limits
            .max_frame_bytes
            .saturating_mul(BODY_FRAMES)
    }

    /// Answers one request.
    pub async fn handle(
        self: Rc<Self>,
        request: Request<Incoming>,
    ) -> Result<Response<Full<Bytes>>, BodyFailed> {
        let mut batch = Batch::counts(self.shard.index, Source::Http);
        batch.counters.incr(Counter::HttpRequests);
        // Dropped only once the batch was sent: see the module's notes.
        let mut charge = self.shard.budget.charge();
        let answer = match self.check(&request) {
            Some(refusal) => Err(refusal),
            None => match self.take(request, &mut batch, &mut charge).await {
                Ok(answer) => answer,
                Err(failed) => {
                    // A malformed chunk size, or a peer gone mid-body: no answer can follow,
                    // but the request is counted, as a bad one.
                    batch.counters.incr(Counter::HttpBadRequests);
                    self.shard.send(batch).await;
                    return Err(failed);
                }
            },
        };
        // The next request's deadline starts with its first byte.
        self.progress.began.set(None);
        let _answering = Answering::start(&self.progress);
        let answer = match answer {
            Ok(()) => {
                // The 200 means the records are safe: taken by the channel, then written.
                let kept = !batch.records.is_empty() || !batch.dead.is_empty();
                let receipt = kept.then(Receipt::default);
                batch.receipt = receipt.clone();
                let requests = batch.counters.get(Counter::HttpRequests);
                let deadline = Instant::now() + WRITTEN_WITHIN;
                // The channel stays full while the aggregator takes no batch (its outputs hold
                // more than they can write): the request gives up with the same deadline, its
                // batch untaken, so the sender's retry is no repeat.
                let sent = self.shard.send_within(batch, WRITTEN_WITHIN).await;
                match sent {
                    Some(true) => {}
                    Some(false) => {
                        let refusal = Refusal::closing(
                            StatusCode::SERVICE_UNAVAILABLE,
                            "the collector is shutting down; retry",
                        );
                        return Ok(respond(refusal.status, &refusal.message, true));
                    }
                    None => {
                        // Received all the same; its records were never made as far as the
                        // counts go.
                        self.shard
                            .count(Source::Http, |c| c.add(Counter::HttpRequests, requests));
                        let refusal = unwritten();
                        return Ok(respond(refusal.status, &refusal.message, true));
                    }
                }
                drop(charge);
                if let Some(receipt) = receipt {
                    if !written(&receipt, deadline, &self.shard.shutdown).await {
                        let refusal = unwritten();
                        return Ok(respond(refusal.status, &refusal.message, true));
                    }
                }
                return Ok(respond(StatusCode::OK, "", false));
            }
            Err(refusal) => refusal,
        };
        if let Some(counter) = answer.counter() {
            batch.counters.incr(counter);
        }
        let (status, message) = (answer.status.as_u16(), &answer.message);
        if matches!(status, 401 | 403) {
            // Once a second at most, as refused addresses: every feed that shares Zscaler's
            // egress addresses can send a wrong key, request after request.
            if let Some(held) = self.shard.notices.due(Notice::Unauthorized, Source::Http) {
                tracing::warn!(peer = %self.peer, "input.http: {status} {message}{}", and_more(held));
            }
        } else {
            tracing::debug!(peer = %self.peer, "input.http: {status} {message}");
        }
        self.shard.send(batch).await;
        Ok(respond(answer.status, &answer.message, answer.close))
    }

    /// The first refusal the head earns; `None`: read the body.
    fn check(&self, request: &Request<Incoming>) -> Option<Refusal> {
        if self.shard.shutdown.is_draining() {
            return Some(Refusal::closing(
                StatusCode::SERVICE_UNAVAILABLE,
                "the collector is shutting down; retry",
            ));
        }
        // The allow-list as it is now: an address a SIGHUP took off it keeps no keep-alive
        // connection it opened before (a new one would be refused at accept).
        let ip = self.peer.ip();
        if !self.input.allow.load().admits(ip) {
            return Some(Refusal::closing(
                StatusCode::FORBIDDEN,
                format!("{ip} is not in input.http.allowed_ips"),
            ));
        }
        head::refusal(request, &self.input.auth.load(), self.max_body())
    }

    /// Reads the body (hyper sends `100 Continue` first when the peer asked), checks its shape
    /// and processes its records into `batch`, growing `charge` with what the request holds.
    /// `Err`: the connection broke mid-body.
    async fn take(
        &self,
        request: Request<Incoming>,
        batch: &mut Batch,
        charge: &mut Charge<'_>,
    ) -> Result<Result<(), Refusal>, BodyFailed> {
        let max_body = self.max_body();
        let gzip = request
            .headers()
            .get(CONTENT_ENCODING)
            .is_some_and(|c| is_gzip(c.as_bytes()));
        // The head was checked: a declared length is within the limit, and hyper ends the body
        // there. Without one (chunked), the body may be as large as the limit.
        let wire = head::declared_length(&request).map_or(max_body, |n| (n as usize).min(max_body));
        // The most the request may come to hold; a gzip body keeps its packed bytes while it
        // inflates, to one byte past the limit at most.
        let claim = Claim(if gzip { wire + max_body + 1 } else { wire });
        // Out of its cell while the body streams in: no borrow is held across an await.
        let mut body = std::mem::take(&mut *self.body.borrow_mut());
        body.clear();
        let answer = if gzip {
            let mut packed = Vec::new();
            match self
                .read_body(request, &mut packed, wire, claim, charge)
                .await
            {
                Ok(Ok(())) => Ok(
                    match self
                        .inflate(packed, &mut body, max_body, claim, charge)
                        .await
                    {
                        Ok(()) => self.process(&body, batch),
                        Err(refusal) => Err(refusal),
                    },
                ),
                other => other,
            }
        } else {
            match self
                .read_body(request, &mut body, wire, claim, charge)
                .await
            {
                Ok(Ok(())) => Ok(self.process(&body, batch)),
                other => other,
            }
        };
        if body.capacity() <= KEEP_BUFFER {
            *self.body.borrow_mut() = body;
        }
        // From here until the channel takes the batch, its records are what the request holds:
        // they take the body's place in the charge. They are made already, so what they need
        // beyond the body's share is charged only if the budget has it now: waiting could only
        // end in refusing records whose effects (device deltas) the shard has already taken.
        let records = self.share(batch.records.capacity().saturating_sub(KEEP_BUFFER));
        charge.try_grow(records);
        charge.shrink(records);
        answer
    }

    /// Appends the body to `body` as its bytes arrive, up to `wire` (its declared length, else
    /// the limit). Past the connection's first buffer it needs its `claim` of the shard's buffer
    /// budget: while the budget is short, the read waits, within the request's deadline.
    async fn read_body(
        &self,
        request: Request<Incoming>,
        body: &mut Vec<u8>,
        wire: usize,
        claim: Claim,
        charge: &mut Charge<'_>,
    ) -> Result<Result<(), Refusal>, BodyFailed> {
        let max_body = self.max_body();
        let mut incoming = request.into_body();
        while let Some(frame) = incoming.frame().await {
            let frame = frame.map_err(BodyFailed)?;
            if let Ok(data) = frame.into_data() {
                let needed = body.len() + data.len();
                if needed > max_body {
                    return Ok(Err(too_large(max_body)));
                }
                if needed > body.capacity() {
                    // Doubling stops at the declared length: the claim covers no more.
                    let grown = needed.max((body.capacity() * 2).min(wire));
                    if !self.grow(charge, grown, claim).await {
                        return Ok(Err(budget_short()));
                    }
                    body.reserve_exact(grown - body.len());
                }
                body.extend_from_slice(&data);
            }
        }
        Ok(Ok(()))
    }

    /// Inflates a gzip body that was read whole into `body`, a piece at a time: before each piece
    /// is made, the charge grows to the room it may take, beside the packed body's. The two
    /// together share the connection's first buffer, free of charge: the claim is taken only
    /// once they outgrow it, so a small gzip request never waits for a large one's share.
    async fn inflate(
        &self,
        packed: Vec<u8>,
        body: &mut Vec<u8>,
        max_body: usize,
        claim: Claim,
        charge: &mut Charge<'_>,
    ) -> Result<(), Refusal> {
        // Zero bytes are no gzip stream (not even its header), but they are an empty body, which
        // is answered 200 as it is without the header: a sender probing with one must not see
        // 400 for the encoding it named.
        if packed.is_empty() {
            return Ok(());
        }
        // What the packed body leaves of the first buffer. A buffer kept from an earlier
        // request gives back what it has beyond that, so that the two stay within it.
        let free = KEEP_BUFFER.saturating_sub(packed.capacity());
        body.shrink_to(free);
        let mut inflater = Inflater::new(&packed, max_body);
        loop {
            match inflater.fill(body) {
                Ok(true) => return Ok(()),
                Ok(false) => {
                    // First to what is free, then doubling: a body that inflates within the
                    // first buffer reserves nothing. One byte past the limit is room enough to
                    // tell a body that passes it.
                    let grown = if body.capacity() < free {
                        free
                    } else {
                        (body.capacity() * 2).max(KEEP_BUFFER)
                    }
                    .min(max_body + 1);
                    if !self.grow(charge, packed.capacity() + grown, claim).await {
                        return Err(budget_short());
                    }
                    body.reserve_exact(grown - body.len());
                }
                Err(GzipError::TooLarge(max)) => return Err(Refusal::closing(
                    StatusCode::PAYLOAD_TOO_LARGE,
                    format!("gzip body inflates to over {max} bytes (limits.max_frame_bytes x {BODY_FRAMES})"),
                )),
                // The body was read whole: the connection can go on.
                Err(e @ GzipError::Corrupt(_)) => return Err(Refusal {
                    status: StatusCode::BAD_REQUEST,
                    message: e.to_string(),
                    close: false,
                }),
            }
        }
    }

    /// Makes the request's charge cover `bytes` of buffers. Within the connection's first buffer
    /// that costs nothing; past it, the charge grows to the whole `claim` at once (see the
    /// module's notes), waiting while the budget is short, at most until the request's
    /// deadline. Later calls then find it covered and return at once.
    async fn grow(&self, charge: &mut Charge<'_>, bytes: usize, claim: Claim) -> bool {
        if bytes <= KEEP_BUFFER {
            return true;
        }
        let idle = self.shard.limits.idle_timeout;
        let patience = self
            .progress
            .began
            .get()
            .map_or(idle, |t| idle.saturating_sub(t.elapsed()));
        let reserved = self.share(bytes.max(claim.0) - KEEP_BUFFER);
        self.shard
            .grow(Source::Http, charge, reserved, patience)
            .await
    }

    /// What a request may be charged of `bytes`: at most the whole budget, so that the largest
    /// body fits however it came (the config checks that the budget holds one), though a gzip
    /// one holds its packed and inflated bodies at once. Such a request has the budget to
    /// itself while it holds it all.
    fn share(&self, bytes: usize) -> usize {
        bytes.min(self.shard.limits.buffer_budget)
    }

    /// Checks a whole body's shape and processes its records into `batch`.
    fn process(&self, body: &[u8], batch: &mut Batch) -> Result<(), Refusal> {
        let body = without_bom(body);
        let read_at = Instant::now();
        batch.read_at = Some(read_at);
        let refused = match shape(body) {
            Ok(shape) => {
                if shape != Shape::Empty {
                    batch.records.reserve(body.len() + (4 << 10));
                }
                let origin = Origin {
                    peer: self.peer,
                    received: Timestamp::now(),
                    source: Source::Http,
                };
                let mut pipeline = self.shard.pipeline.borrow_mut();
                process_body(
                    &mut pipeline,
                    body,
                    shape,
                    self.shard.limits.max_frame_bytes,
                    &origin,
                    batch,
                );
                Ok(())
            }
            Err(NotJson) => Err(Refusal {
                status: StatusCode::BAD_REQUEST,
                message:
                    "body is neither JSON (an array, objects a line) nor lines in a feed format"
                        .into(),
                // The body was read: the connection can go on.
                close: false,
            }),
        };
        batch.parse_time = read_at.elapsed();
        refused
    }
}

/// The most bytes of buffers a request may come to hold, its first buffer included: what it
/// reserves of the budget before it needs any (see the module's notes).
#[derive(Debug, Clone, Copy)]
struct Claim(usize);
