//! Reading one stream connection (plain TCP or TLS) to its end: bytes into the connection's own
//! buffer, frames out of it with no copy, each frame parsed where it lies.

mod turn;

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use glommio::net::TcpStream;
use jiff::Timestamp;
use wire::frame::Framer;

use super::admission::{Admission, Refusal};
use super::hold::Hold;
use super::process_end;
use super::stream::Stream;
use crate::batch::counters::Counter;
use crate::batch::{Batch, Origin, Source};
use crate::shard::budget::Charge;
use crate::shard::handoff::Turns;
use crate::shard::notices::{and_more, Notice};
use crate::shard::Shard;

/// Smallest free space a read is given: less and the buffer is compacted or grown first.
const MIN_READ: usize = 16 << 10;
/// A connection's buffer starts here and grows for frames that need it, and for a busy peer.
const INITIAL_BUFFER: usize = 64 << 10;
/// A peer whose reads fill the buffer gets a buffer up to this size: larger reads make fewer,
/// larger batches, and each batch costs both threads a fixed amount (a wake-up, clock reads, a
/// write). Idle connections keep the initial size.
const BUSY_BUFFER: usize = 256 << 10;
/// A plain connection that brings nothing for this long between frames gives back what its
/// buffer grew to: kept, a quiet feed's buffer held the shard's budget, and once enough did, a
/// later large frame waited for it until its idle limit and was cut short.
const QUIET_RELEASE: Duration = Duration::from_secs(1);

/// While draining, a connection that brings nothing for this long has sent all it had.
const DRAIN_QUIET: Duration = Duration::from_millis(100);
/// While draining, a connection that keeps sending has its read side shut after this long.
const DRAIN_AT_MOST: Duration = Duration::from_secs(2);
/// How long the read after a passed deadline waits for bytes before the connection is idle.
const LAST_LOOK: Duration = Duration::from_millis(1);

/// TCP keepalive on a connection: a quiet feed stays open at a frame boundary (DESIGN §6), so a
/// peer that vanished (a reboot, a cut link) is found by the kernel's probes instead: about two
/// minutes of silence, then a probe every 15 s, five unanswered and the connection is closed.
pub fn keep_alive(stream: &TcpStream) {
    use std::os::fd::{AsRawFd, BorrowedFd};
    let fd = stream.as_raw_fd();
    // SAFETY: the descriptor belongs to `stream`, which outlives this borrow.
    let fd = unsafe { BorrowedFd::borrow_raw(fd) };
    let keepalive = socket2::TcpKeepalive::new()
        .with_time(Duration::from_secs(120))
        .with_interval(Duration::from_secs(15))
        .with_retries(5);
    let _ = socket2::SockRef::from(&fd).set_tcp_keepalive(&keepalive);
}

/// How a connection ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum End {
    /// The peer closed (a TLS peer with close_notify): it ended its last line, LF or not.
    Closed,
    /// A TLS peer closed without close_notify: what it sent last may have been cut off on the
    /// way (RFC 8446 §6.1).
    Abrupt,
    /// The drain ended it: the peer went quiet or its read side was shut, or the frame in
    /// progress could no longer be given room.
    Drained,
    /// A frame was begun and not finished within `idle_timeout_secs` (a slow sender), or the
    /// peer sent nothing at all for that long.
    Idle,
    /// A read failed (reset, TLS error).
    Error,
    /// The aggregator is gone: the collector is stopping.
    Stopped,
    /// A reload took the peer's admission away (its address from the allow-list, or the CA of
    /// its client certificate): what it had not read is dropped.
    Refused(Refusal),
}

/// Reads `stream` until it ends, handing a batch to the aggregator after every read (or after a
/// few small reads that came in quick succession).
///
/// `idle_timeout_secs` bounds a frame in progress from its first byte, however slowly the rest
/// trickles in, and a connection that never sent a byte; a connection idle at a frame boundary
/// stays open (NSS and LSS keep one connection per feed, and quiet feeds send nothing for hours),
/// with TCP keepalive to find a dead peer.
///
/// When the collector drains, a connection is read until its peer closes or goes quiet for
/// `DRAIN_QUIET`, so that what a peer sent before the drain is not lost, even the bytes still on
/// their way; a peer that keeps sending has the read side shut after `DRAIN_AT_MOST`, and the
/// reads that follow return what the kernel already holds, then the end.
///
/// Each turn of the loop: room in the buffer ([`Conn::make_room`]), the read's deadline
/// ([`Conn::deadline`]), the read ([`Conn::read`], [`Conn::took`]), the peer's admission, then
/// the frames it completed parsed, held or sent ([`Conn::frames`]).
pub async fn read_frames<S: Stream>(
    shard: &Shard,
    stream: &mut S,
    peer: SocketAddr,
    source: Source,
    mut admission: Admission<'_>,
) -> End {
    let mut conn = Conn::new(shard, peer, source, stream.has_spoken());
    let ended = loop {
        // A peer whose reads never wait would keep the shard's other connections from running
        // (their deadlines going by meanwhile): give way when the shard's time slice is up.
        glommio::yield_if_needed().await;
        if let Err(end) = conn.make_room().await {
            break end;
        }
        let deadline = conn.deadline(stream).await;
        let _ = stream.socket().set_read_timeout(deadline);
        let Some(read) = conn.read(stream, deadline).await else {
            // glommio reads wait for readiness and then read, so the read dropped here took
            // nothing: the bytes are still in the kernel for the reads after the shutdown.
            // The read side is not shut yet: once shut, a read that empties the receive queue
            // returns the end, and bytes a peer wrote just before closing, still on their way,
            // would be lost (seen: half of a fast LSS sender's last 600 KB).
            conn.draining = Some(Instant::now());
            continue;
        };
        let n = match conn.took(read).await {
            Took::Bytes(n) => n,
            Took::Again => continue,
            Took::End(end) => break end,
        };
        if let Err(refusal) = admission.check(peer.ip(), stream.peer_chain()) {
            break End::Refused(refusal);
        }
        if let Err(end) = conn.frames(stream, n).await {
            break end;
        }
    };
    conn.finish(ended).await
}

/// What a read gave.
enum Took {
    Bytes(usize),
    /// Nothing, and the connection goes on: read again.
    Again,
    End(End),
}

/// One connection's state between reads.
struct Conn<'s> {
    shard: &'s Shard,
    peer: SocketAddr,
    source: Source,
    framer: Framer,
    buf: Vec<u8>,
    /// The size `buf` starts at; what it holds beyond that is charged to the shard's budget.
    first: usize,
    /// The framer never holds more than a maximal frame and its octet-count header unconsumed.
    limit: usize,
    charge: Charge<'s>,
    /// The bytes read and not consumed yet: `buf[start..end]`.
    start: usize,
    end: usize,
    /// Frames of earlier reads, not yet sent (see `hold`); while there are some the read timeout
    /// is `hold_wait`.
    held: Option<Batch>,
    hold: Hold,
    hold_wait: Duration,
    /// Before a sleep that bytes came during (`Hold::next_read`), the last read that emptied the
    /// kernel's queue, and how many bytes came: they may have come any time since, so the clock
    /// of the reads that take them starts there. A TLS stream takes them in several reads, each
    /// giving no more plaintext than it took from the socket, so counting what reads give keeps
    /// that clock until all that came has been read.
    empty_since: Option<(Instant, usize)>,
    /// When the drain began for this connection, and whether its read side is shut yet.
    draining: Option<Instant>,
    shut: bool,
    idle: Duration,
    opened: Instant,
    /// When the frame that the unconsumed bytes begin started to arrive.
    frame_started: Option<Instant>,
    sent_any: bool,
    /// Which other shard may parse the next large read.
    turns: Turns,
}

impl<'s> Conn<'s> {
    fn new(shard: &'s Shard, peer: SocketAddr, source: Source, sent_any: bool) -> Conn<'s> {
        let max_frame = shard.limits.max_frame_bytes;
        let limit = max_frame + 16 + MIN_READ;
        let first = INITIAL_BUFFER.min(limit);
        Conn {
            shard,
            peer,
            source,
            framer: Framer::new(max_frame),
            buf: vec![0u8; first],
            first,
            limit,
            charge: shard.budget.charge(),
            start: 0,
            end: 0,
            held: None,
            hold: Hold::default(),
            hold_wait: Duration::ZERO,
            empty_since: None,
            draining: None,
            shut: false,
            idle: shard.limits.idle_timeout,
            opened: Instant::now(),
            frame_started: None,
            sent_any,
            turns: Turns::new(shard.index),
        }
    }

    /// After the last read: what is held sent, what is left of the last frame read as the end
    /// says (a closed peer ended its last line), and the end counted.
    async fn finish(mut self, ended: End) -> End {
        let shard = self.shard;
        if let Some(batch) = self.held.take() {
            shard.send(batch).await;
        }
        let origin = Origin {
            peer: self.peer,
            received: Timestamp::now(),
            source: self.source,
        };
        let mut batch = Batch::counts(shard.index, self.source);
        process_end(
            &mut self.framer,
            &mut shard.pipeline.borrow_mut(),
            &self.buf[self.start..self.end],
            ended == End::Closed,
            &origin,
            &mut batch,
        );
        match ended {
            End::Idle => batch.counters.incr(Counter::IdleTimeouts),
            End::Error => batch.counters.incr(Counter::ReadErrors),
            End::Refused(ref why) => refused(shard, &mut batch, self.peer, self.source, why),
            End::Closed | End::Abrupt | End::Drained | End::Stopped => {}
        }
        batch.counters.incr(Counter::ConnectionsClosed);
        shard.send(batch).await;
        ended
    }
}

/// Counts and says (once a second at most) a connection whose admission a reload took away.
fn refused(shard: &Shard, batch: &mut Batch, peer: SocketAddr, source: Source, why: &Refusal) {
    batch.counters.incr(Counter::ConnectionsRefused);
    if let Some(held) = shard.notices.due(Notice::Cut, source) {
        let input = source.section();
        let mut from = peer.ip().to_string();
        let why = match why {
            Refusal::Address => format!("no longer in {input}.allowed_ips"),
            Refusal::Certificate { why, subject } => {
                if let Some(subject) = subject {
                    from = format!("{from} ({subject})");
                }
                why.clone()
            }
        };
        tracing::warn!(
            "{input}: closed the connection from {from}: {why} (asked again after a reload){}",
            and_more(held)
        );
    }
}

/// Hands a batch to the aggregator. While the channel is full the connection is not read, so the
/// wait is not the sender's: it does not count against the frame in progress's deadline.
async fn send(shard: &Shard, batch: Batch, frame_started: &mut Option<Instant>) -> bool {
    let waiting = Instant::now();
    let sent = shard.send(batch).await;
    if let Some(started) = frame_started {
        *started += waiting.elapsed();
    }
    sent
}

/// The bytes read into `batch`, the hold's measure of it (records may be larger or smaller than
/// their lines): its own count, as pending counts join it only when it is sent.
fn read_into(batch: &Batch) -> usize {
    usize::try_from(batch.counters.get(Counter::BytesRead)).unwrap_or(usize::MAX)
}

/// How much of its buffer a connection keeps once a frame is done: a plain one a busy peer's
/// buffer, until it goes quiet ([`QUIET_RELEASE`]); a TLS one its first, since it cannot wait
/// for quiet (a timed-out TLS read ends the connection) and needs no more (its reads are a few
/// KiB, and never fill it).
fn keep_between_frames<S: Stream>(stream: &S, first: usize) -> usize {
    match stream.resumes_after_timeout() {
        true => BUSY_BUFFER.max(first),
        false => first,
    }
}

/// Shrinks a connection's buffer, whose bytes are all consumed, to at most `keep` bytes, and
/// gives what it held beyond that back to the shard's budget (which is charged what exceeds
/// `first`, the size it started at).
fn release(buf: &mut Vec<u8>, charge: &mut Charge<'_>, keep: usize, first: usize) {
    if buf.len() <= keep {
        return;
    }
    buf.truncate(keep);
    buf.shrink_to_fit();
    charge.shrink(buf.len().saturating_sub(first));
}
