//! Reading one stream connection (plain TCP or TLS) to its end: bytes into the connection's own
//! buffer, frames out of it with no copy, each frame parsed where it lies.

use std::io;
use std::net::{Shutdown, SocketAddr};
use std::time::{Duration, Instant};

use futures_lite::AsyncReadExt;
use glommio::net::TcpStream;
use jiff::Timestamp;
use wire::frame::Framer;

use super::admission::{Admission, Refusal};
use super::hold::{Hold, Verdict};
use super::nap::nap;
use super::stream::Stream;
use super::{handoff, process_end, process_frames};
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
pub async fn read_frames<S: Stream>(
    shard: &Shard,
    stream: &mut S,
    peer: SocketAddr,
    source: Source,
    mut admission: Admission<'_>,
) -> End {
    let max_frame = shard.limits.max_frame_bytes;
    // The framer never holds more than a maximal frame and its octet-count header unconsumed.
    let buffer_limit = max_frame + 16 + MIN_READ;
    let mut framer = Framer::new(max_frame);
    let first = INITIAL_BUFFER.min(buffer_limit);
    let mut buf = vec![0u8; first];
    // What the buffer holds beyond `first`, charged to the shard's budget.
    let mut charge = shard.budget.charge();
    let (mut start, mut end) = (0usize, 0usize);
    // Frames of earlier reads, not yet sent (see `hold`); while there are some the read timeout
    // is `hold_wait`.
    let mut held: Option<Batch> = None;
    let mut hold = Hold::default();
    let mut hold_wait = Duration::ZERO;
    // Before a sleep that bytes came during (`Hold::next_read`), the last read that emptied the
    // kernel's queue, and how many bytes came: they may have come any time since, so the clock
    // of the reads that take them starts there. A TLS stream takes them in several reads, each
    // giving no more plaintext than it took from the socket, so counting what reads give keeps
    // that clock until all that came has been read.
    let mut empty_since: Option<(Instant, usize)> = None;
    // When the drain began for this connection, and whether its read side is shut yet.
    let mut draining: Option<Instant> = None;
    let mut shut = false;
    let idle = shard.limits.idle_timeout;
    let opened = Instant::now();
    // When the frame that the unconsumed bytes begin started to arrive.
    let mut frame_started: Option<Instant> = None;
    let mut sent_any = stream.has_spoken();
    // Which other shard may parse the next large read.
    let mut turns = Turns::new(shard.index);
    let ended = loop {
        // A peer whose reads never wait would keep the shard's other connections from running
        // (their deadlines going by meanwhile): give way when the shard's time slice is up.
        glommio::yield_if_needed().await;
        if buf.len() - end < MIN_READ {
            buf.copy_within(start..end, 0);
            end -= start;
            start = 0;
            if buf.len() - end < MIN_READ && buf.len() < buffer_limit {
                // A frame outgrew the buffer: it may grow as far as the budget lets it.
                let grown = (buf.len() * 2).min(buffer_limit);
                if !charge.try_grow(grown - first) {
                    // What is held goes first: it must not wait on other connections.
                    if let Some(batch) = held.take() {
                        if !send(shard, batch, &mut frame_started).await {
                            break End::Stopped;
                        }
                    }
                    // The frame began before: its deadline is the longest the read may wait.
                    let patience = frame_started.map_or(idle, |t| idle.saturating_sub(t.elapsed()));
                    let granted = futures_lite::future::or(
                        async {
                            Some(
                                shard
                                    .grow(source, &mut charge, grown - first, patience)
                                    .await,
                            )
                        },
                        async {
                            shard.shutdown.wait().await;
                            None
                        },
                    )
                    .await;
                    match granted {
                        Some(true) => {}
                        Some(false) => break End::Idle,
                        // Draining: the frame can no longer be read whole.
                        None => break End::Drained,
                    }
                }
                buf.resize(grown, 0);
            }
        }
        let deadline = if let Some(started) = frame_started {
            Some(idle.saturating_sub(started.elapsed()))
        } else if !sent_any {
            Some(idle.saturating_sub(opened.elapsed()))
        } else if buf.len() > first && stream.resumes_after_timeout() {
            Some(QUIET_RELEASE)
        } else {
            None
        };
        // A deadline that passed while this task waited its turn on the shard still gets one
        // short read: bytes that are already there are the sender's progress, not idleness.
        let deadline = deadline.map(|d| d.max(LAST_LOOK));
        let deadline = if held.is_some() {
            Some(hold_wait)
        } else if let Some(since) = draining {
            if !shut && since.elapsed() >= DRAIN_AT_MOST {
                // A peer that keeps sending: what the kernel holds now is the last of it.
                shut = true;
                let _ = stream.socket().shutdown(Shutdown::Read).await;
            }
            Some(DRAIN_QUIET)
        } else {
            deadline
        };
        let _ = stream.socket().set_read_timeout(deadline);
        let read = if draining.is_some() {
            // The drain bounds its reads with a timer of its own. glommio arms a read's timer
            // once and keeps it until a read returns bytes or it fires, whatever the timeout
            // set since: the read the drain interrupted left the deadline of the frame in
            // progress armed (up to idle_timeout_secs), and the drain waited for it.
            let limit = deadline.unwrap_or(DRAIN_QUIET);
            let read = futures_lite::future::or(stream.read(&mut buf[end..]), async {
                glommio::timer::sleep(limit).await;
                Err(io::ErrorKind::TimedOut.into())
            });
            Some(read.await)
        } else {
            futures_lite::future::or(async { Some(stream.read(&mut buf[end..]).await) }, async {
                shard.shutdown.wait().await;
                None
            })
            .await
        };
        let Some(read) = read else {
            // glommio reads wait for readiness and then read, so the read dropped here took
            // nothing: the bytes are still in the kernel for the reads after the shutdown.
            // The read side is not shut yet: once shut, a read that empties the receive queue
            // returns the end, and bytes a peer wrote just before closing, still on their way,
            // would be lost (seen: half of a fast LSS sender's last 600 KB).
            draining = Some(Instant::now());
            continue;
        };
        let n = match read {
            Ok(0) if shut => break End::Drained,
            Ok(0) => break End::Closed,
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::TimedOut => match held.take() {
                // Nothing more came at once: send what is held, then wait as long as usual.
                Some(batch) => {
                    if !send(shard, batch, &mut frame_started).await {
                        break End::Stopped;
                    }
                    continue;
                }
                // Draining, and the peer went quiet: it has sent all it had.
                None if draining.is_some() => break End::Drained,
                // Quiet between frames ([`QUIET_RELEASE`]): the grown buffer goes back.
                None if frame_started.is_none() && sent_any && start == end => {
                    release(&mut buf, &mut charge, first, first);
                    (start, end) = (0, 0);
                    continue;
                }
                None => break End::Idle,
            },
            // A drain that shut the socket, or a TLS peer that closes without close_notify.
            Err(e) if e.kind() == io::ErrorKind::UnexpectedEof && shut => break End::Drained,
            Err(e) if e.kind() == io::ErrorKind::UnexpectedEof => break End::Abrupt,
            Err(_) => break End::Error,
        };
        if let Err(refusal) = admission.check(peer.ip(), stream.peer_chain()) {
            break End::Refused(refusal);
        }
        let filled = end + n == buf.len();
        end += n;
        sent_any = true;
        let read_at = Instant::now();
        hold.read(n, read_at);
        let clock = match empty_since.take() {
            Some((since, came)) => {
                if came > n {
                    empty_since = Some((since, came - n));
                }
                since
            }
            None => read_at,
        };
        let origin = Origin {
            peer,
            received: Timestamp::now(),
            source,
        };
        // A large read may go to another shard that has time for it (a hot connection).
        if held.is_none() {
            let lent = handoff::lend(
                shard,
                &mut turns,
                &mut framer,
                &mut buf,
                start..end,
                &origin,
                clock,
            );
            match lent.await {
                handoff::Lent::No => {}
                handoff::Lent::Yes { left, handed } => {
                    shard.count(source, |c| {
                        c.add(Counter::BytesRead, n as u64);
                        c.add(Counter::Handoffs, u64::from(handed));
                    });
                    (start, end) = (0, left);
                    frame_started = (left > 0).then_some(read_at);
                    // The connection goes on with a fresh buffer as large as its own had grown:
                    // with nothing left in it, it gives back what a frame no longer needs.
                    if left == 0 {
                        release(
                            &mut buf,
                            &mut charge,
                            keep_between_frames(stream, first),
                            first,
                        );
                    }
                    continue;
                }
                handoff::Lent::Stopped => break End::Stopped,
            }
        }
        let mut batch = held.take().unwrap_or_else(|| {
            let mut batch = shard.batch(source, n);
            batch.read_at = Some(clock);
            batch
        });
        batch.counters.add(Counter::BytesRead, n as u64);
        let consumed = process_frames(
            &mut framer,
            &mut shard.pipeline.borrow_mut(),
            &buf[start..end],
            &origin,
            &mut batch,
        );
        start += consumed;
        batch.parse_time += read_at.elapsed();
        if start == end {
            start = 0;
            end = 0;
            // A frame too long to keep is skipped as it comes, so all was taken, but it is not
            // over: its deadline holds from its first byte (it held its slot for ever).
            if framer.at_boundary() {
                frame_started = None;
            } else if frame_started.is_none() {
                frame_started = Some(read_at);
            }
            // A large frame is done: what it needed goes back to the budget.
            release(
                &mut buf,
                &mut charge,
                keep_between_frames(stream, first),
                first,
            );
        } else if consumed > 0 || frame_started.is_none() {
            // What is left began in this read: a frame ended in it, or none was in progress.
            frame_started = Some(read_at);
        }
        // A busy peer gets a larger buffer when the budget has room; it does not wait for one.
        let busy = (buf.len() * 2).min(BUSY_BUFFER);
        if filled && busy > buf.len() && charge.try_grow(busy - first) {
            buf.resize(busy, 0);
        }
        let age = batch
            .read_at
            .map_or(Duration::ZERO, |first| first.elapsed());
        if let Verdict::Hold { pause, wait } =
            hold.verdict(read_into(&batch), age, filled, read_at.elapsed())
        {
            if stream.resumes_after_timeout() {
                held = Some(batch);
                hold_wait = wait;
                if !pause.is_zero() {
                    // The batch's clock started at its first read already.
                    nap(stream.socket(), pause).await;
                }
                continue;
            }
        }
        let sending = Instant::now();
        if !send(shard, batch, &mut frame_started).await {
            break End::Stopped;
        }
        // A full channel kept this connection from reading: no pause of the peer's.
        hold.waited(sending.elapsed());
        let pause = hold.next_read(filled, read_at.elapsed());
        if !pause.is_zero() && draining.is_none() && stream.may_sleep(pause) {
            let came = nap(stream.socket(), pause).await;
            if came > 0 {
                // The read emptied the kernel's queue: what came, came since.
                empty_since = Some((read_at, came));
            }
        }
    };
    if let Some(batch) = held {
        shard.send(batch).await;
    }
    let origin = Origin {
        peer,
        received: Timestamp::now(),
        source,
    };
    let mut batch = Batch::counts(shard.index, source);
    process_end(
        &mut framer,
        &mut shard.pipeline.borrow_mut(),
        &buf[start..end],
        ended == End::Closed,
        &origin,
        &mut batch,
    );
    match ended {
        End::Idle => batch.counters.incr(Counter::IdleTimeouts),
        End::Error => batch.counters.incr(Counter::ReadErrors),
        End::Refused(ref why) => refused(shard, &mut batch, peer, source, why),
        End::Closed | End::Abrupt | End::Drained | End::Stopped => {}
    }
    batch.counters.incr(Counter::ConnectionsClosed);
    shard.send(batch).await;
    ended
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
