//! One turn of a connection's read loop ([`super::read_frames`]): room in the buffer, the read's
//! deadline, the read and what it gave, then the frames it completed parsed, held or sent.

use std::io;
use std::net::Shutdown;
use std::time::{Duration, Instant};

use futures_lite::AsyncReadExt;
use jiff::Timestamp;

use super::{
    keep_between_frames, read_into, release, send, Conn, End, Took, BUSY_BUFFER, DRAIN_AT_MOST,
    DRAIN_QUIET, LAST_LOOK, MIN_READ, QUIET_RELEASE,
};
use crate::batch::counters::Counter;
use crate::batch::Origin;
use crate::input::hold::Verdict;
use crate::input::nap::nap;
use crate::input::stream::Stream;
use crate::input::{handoff, process_frames};

impl Conn<'_> {
    /// At least [`MIN_READ`] free at the buffer's end: the unconsumed bytes moved to its start,
    /// and the buffer grown for a frame that outgrew it, as far as the budget lets it (waiting
    /// for room until the frame's deadline).
    pub(super) async fn make_room(&mut self) -> Result<(), End> {
        if self.buf.len() - self.end >= MIN_READ {
            return Ok(());
        }
        self.buf.copy_within(self.start..self.end, 0);
        self.end -= self.start;
        self.start = 0;
        if self.buf.len() - self.end >= MIN_READ || self.buf.len() >= self.limit {
            return Ok(());
        }
        // A frame outgrew the buffer: it may grow as far as the budget lets it.
        let grown = (self.buf.len() * 2).min(self.limit);
        let beyond_first = grown - self.first;
        if !self.charge.try_grow(beyond_first) {
            // What is held goes first: it must not wait on other connections.
            if let Some(batch) = self.held.take() {
                if !send(self.shard, batch, &mut self.frame_started).await {
                    return Err(End::Stopped);
                }
            }
            // The frame began before: its deadline is the longest the read may wait.
            let idle = self.idle;
            let patience = self
                .frame_started
                .map_or(idle, |t| idle.saturating_sub(t.elapsed()));
            let (shard, source, charge) = (self.shard, self.source, &mut self.charge);
            let granted = futures_lite::future::or(
                async { Some(shard.grow(source, charge, beyond_first, patience).await) },
                async {
                    shard.shutdown.wait().await;
                    None
                },
            )
            .await;
            match granted {
                Some(true) => {}
                Some(false) => return Err(End::Idle),
                // Draining: the frame can no longer be read whole.
                None => return Err(End::Drained),
            }
        }
        self.buf.resize(grown, 0);
        Ok(())
    }

    /// How long the next read may wait: the frame in progress's deadline, or a silent
    /// connection's, or [`QUIET_RELEASE`] for a grown buffer; the hold's wait while frames are
    /// held; [`DRAIN_QUIET`] while draining (shutting the read side of a peer that keeps
    /// sending after [`DRAIN_AT_MOST`]).
    pub(super) async fn deadline<S: Stream>(&mut self, stream: &S) -> Option<Duration> {
        let idle = self.idle;
        let deadline = if let Some(started) = self.frame_started {
            Some(idle.saturating_sub(started.elapsed()))
        } else if !self.sent_any {
            Some(idle.saturating_sub(self.opened.elapsed()))
        } else if self.buf.len() > self.first && stream.resumes_after_timeout() {
            Some(QUIET_RELEASE)
        } else {
            None
        };
        // A deadline that passed while this task waited its turn on the shard still gets one
        // short read: bytes that are already there are the sender's progress, not idleness.
        let deadline = deadline.map(|d| d.max(LAST_LOOK));
        if self.held.is_some() {
            Some(self.hold_wait)
        } else if let Some(since) = self.draining {
            if !self.shut && since.elapsed() >= DRAIN_AT_MOST {
                // A peer that keeps sending: what the kernel holds now is the last of it.
                self.shut = true;
                let _ = stream.socket().shutdown(Shutdown::Read).await;
            }
            Some(DRAIN_QUIET)
        } else {
            deadline
        }
    }

    /// One read into the buffer's free end; `None` when the collector began to drain first.
    pub(super) async fn read<S: Stream>(
        &mut self,
        stream: &mut S,
        deadline: Option<Duration>,
    ) -> Option<io::Result<usize>> {
        let (shard, room) = (self.shard, &mut self.buf[self.end..]);
        if self.draining.is_some() {
            // The drain bounds its reads with a timer of its own. glommio arms a read's timer
            // once and keeps it until a read returns bytes or it fires, whatever the timeout
            // set since: the read the drain interrupted left the deadline of the frame in
            // progress armed (up to idle_timeout_secs), and the drain waited for it.
            let limit = deadline.unwrap_or(DRAIN_QUIET);
            let read = futures_lite::future::or(stream.read(room), async {
                glommio::timer::sleep(limit).await;
                Err(io::ErrorKind::TimedOut.into())
            });
            Some(read.await)
        } else {
            futures_lite::future::or(async { Some(stream.read(room).await) }, async {
                shard.shutdown.wait().await;
                None
            })
            .await
        }
    }

    /// What a read's outcome means: bytes, a timeout that sends what is held or gives back a
    /// quiet connection's grown buffer, or the connection's end.
    pub(super) async fn took(&mut self, read: io::Result<usize>) -> Took {
        match read {
            Ok(0) if self.shut => Took::End(End::Drained),
            Ok(0) => Took::End(End::Closed),
            Ok(n) => Took::Bytes(n),
            Err(e) if e.kind() == io::ErrorKind::TimedOut => match self.held.take() {
                // Nothing more came at once: send what is held, then wait as long as usual.
                Some(batch) => match send(self.shard, batch, &mut self.frame_started).await {
                    true => Took::Again,
                    false => Took::End(End::Stopped),
                },
                // Draining, and the peer went quiet: it has sent all it had.
                None if self.draining.is_some() => Took::End(End::Drained),
                // Quiet between frames ([`QUIET_RELEASE`]): the grown buffer goes back.
                None if self.frame_started.is_none() && self.sent_any && self.start == self.end => {
                    release(&mut self.buf, &mut self.charge, self.first, self.first);
                    (self.start, self.end) = (0, 0);
                    Took::Again
                }
                None => Took::End(End::Idle),
            },
            // A drain that shut the socket, or a TLS peer that closes without close_notify.
            Err(e) if e.kind() == io::ErrorKind::UnexpectedEof && self.shut => {
                Took::End(End::Drained)
            }
            Err(e) if e.kind() == io::ErrorKind::UnexpectedEof => Took::End(End::Abrupt),
            Err(_) => Took::End(End::Error),
        }
    }

    /// The `n` bytes just read: lent to another shard when the read is large and one has time
    /// for it, else parsed here into a batch that is held for the next read or sent; then the
    /// buffer sized for what is left and the pause before the next read.
    pub(super) async fn frames<S: Stream>(&mut self, stream: &S, n: usize) -> Result<(), End> {
        let shard = self.shard;
        let filled = self.end + n == self.buf.len();
        self.end += n;
        self.sent_any = true;
        let read_at = Instant::now();
        self.hold.read(n, read_at);
        let clock = match self.empty_since.take() {
            Some((since, came)) => {
                if came > n {
                    self.empty_since = Some((since, came - n));
                }
                since
            }
            None => read_at,
        };
        let origin = Origin {
            peer: self.peer,
            received: Timestamp::now(),
            source: self.source,
        };
        // A large read may go to another shard that has time for it (a hot connection).
        if self.held.is_none() {
            let lent = handoff::lend(
                shard,
                &mut self.turns,
                &mut self.framer,
                &mut self.buf,
                self.start..self.end,
                &origin,
                clock,
            );
            match lent.await {
                handoff::Lent::No => {}
                handoff::Lent::Yes { left, handed } => {
                    shard.count(self.source, |c| {
                        c.add(Counter::BytesRead, n as u64);
                        c.add(Counter::Handoffs, u64::from(handed));
                    });
                    (self.start, self.end) = (0, left);
                    self.frame_started = (left > 0).then_some(read_at);
                    // The connection goes on with a fresh buffer as large as its own had grown:
                    // with nothing left in it, it gives back what a frame no longer needs.
                    if left == 0 {
                        let keep = keep_between_frames(stream, self.first);
                        release(&mut self.buf, &mut self.charge, keep, self.first);
                    }
                    return Ok(());
                }
                handoff::Lent::Stopped => return Err(End::Stopped),
            }
        }
        let mut batch = self.held.take().unwrap_or_else(|| {
            let mut batch = shard.batch(self.source, n);
            batch.read_at = Some(clock);
            batch
        });
        batch.counters.add(Counter::BytesRead, n as u64);
        let consumed = process_frames(
            &mut self.framer,
            &mut shard.pipeline.borrow_mut(),
            &self.buf[self.start..self.end],
            &origin,
            &mut batch,
        );
        self.start += consumed;
        batch.parse_time += read_at.elapsed();
        if self.start == self.end {
            (self.start, self.end) = (0, 0);
            // A frame too long to keep is skipped as it comes, so all was taken, but it is not
            // over: its deadline holds from its first byte (it held its slot for ever).
            if self.framer.at_boundary() {
                self.frame_started = None;
            } else if self.frame_started.is_none() {
                self.frame_started = Some(read_at);
            }
            // A large frame is done: what it needed goes back to the budget.
            let keep = keep_between_frames(stream, self.first);
            release(&mut self.buf, &mut self.charge, keep, self.first);
        } else if consumed > 0 || self.frame_started.is_none() {
            // What is left began in this read: a frame ended in it, or none was in progress.
            self.frame_started = Some(read_at);
        }
        // A busy peer gets a larger buffer when the budget has room; it does not wait for one.
        let busy = (self.buf.len() * 2).min(BUSY_BUFFER);
        if filled && busy > self.buf.len() && self.charge.try_grow(busy - self.first) {
            self.buf.resize(busy, 0);
        }
        let age = batch
            .read_at
            .map_or(Duration::ZERO, |first| first.elapsed());
        if let Verdict::Hold { pause, wait } =
            self.hold
                .verdict(read_into(&batch), age, filled, read_at.elapsed())
        {
            if stream.resumes_after_timeout() {
                self.held = Some(batch);
                self.hold_wait = wait;
                if !pause.is_zero() {
                    // The batch's clock started at its first read already.
                    nap(stream.socket(), pause).await;
                }
                return Ok(());
            }
        }
        let sending = Instant::now();
        if !send(shard, batch, &mut self.frame_started).await {
            return Err(End::Stopped);
        }
        // A full channel kept this connection from reading: no pause of the peer's.
        self.hold.waited(sending.elapsed());
        let pause = self.hold.next_read(filled, read_at.elapsed());
        if !pause.is_zero() && self.draining.is_none() && stream.may_sleep(pause) {
            let came = nap(stream.socket(), pause).await;
            if came > 0 {
                // The read emptied the kernel's queue: what came, came since.
                self.empty_since = Some((read_at, came));
            }
        }
        Ok(())
    }
}
