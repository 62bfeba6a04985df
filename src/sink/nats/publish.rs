//! The NATS thread's work: take the aggregator's frames into the queue, and publish them oldest
//! first on the publishing connection ([`super::conn`]), a few rounds in flight. A round is HPUB
//! frames ([`super::outgoing`]), written while the acknowledgements of earlier rounds are read; its
//! frames leave the queue only when every one of them was acknowledged (and its devices merged
//! into the registry bucket, or refused by it: [`control::merge_all`]). After a failure the connection is dropped, what waited in memory
//! goes to the spool, and everything unacknowledged is published again, under the same ids
//! (JetStream drops those it already has).

use std::collections::VecDeque;
use std::path::PathBuf;
use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use async_nats::jetstream::kv;
use async_nats::Client;
use tokio::sync::{mpsc, Notify};

use super::conn::{self, Conn, Setup};
use super::connect::{self, ConnectFailure};
use super::control::{self, Failure, Prepared};
use super::frame;
use super::intake::{intake, lock};
use super::kv::Written;
use super::outgoing::Outgoing;
use super::queue::Queue;
use super::round::{handle, Encoder, Pings, Round};
use super::Link;
use crate::config;

/// Bytes of frames per round, and rounds in flight: enough to keep a local server busy while
/// the oldest round's acknowledgements come back.
const ROUND_BYTES: usize = 512 << 10;
const ROUNDS: usize = 4;
/// A round not acknowledged in this time failed: published again.
const ACK_TIMEOUT: Duration = Duration::from_secs(5);
/// After the aggregator's last batch: how long a connected publisher goes on emptying the spool
/// before it leaves the rest for the next start.
pub(super) const DRAIN_TIMEOUT: Duration = Duration::from_secs(10);
pub const RETRY: Duration = Duration::from_millis(250);
/// Between connection attempts, and before publishing again after a failure.
const BACKOFF: Duration = Duration::from_secs(1);
/// An idle connection is checked with a PING this often; two unanswered ones end it.
const PING_INTERVAL: Duration = Duration::from_secs(20);
/// With every round in flight written (and the spool read as far as `ROUNDS` allow),
/// acknowledgements are let gather this long between
/// reads: a read per handful of them cost more (wake-ups, epoll, syscalls) than the records.
/// The thread sleeps rather than awaiting a timer: the runtime's epoll is edge-triggered, so
/// every packet of acknowledgements the server flushed woke it during an awaited sleep, ten
/// times a millisecond, to find nothing to do (a quarter of the thread's CPU went to those
/// wake-ups). The thread yields after each such sleep, so that the intake and the control
/// client, on the same runtime, wait at most about that millisecond.
const ACK_GATHER: Duration = Duration::from_millis(1);

/// What the thread needs of the config.
pub struct Settings {
    cfg: config::Nats,
    dir: PathBuf,
    setup: Setup,
}

impl Settings {
    pub fn of(cfg: &config::Nats, dir: PathBuf, setup: Setup) -> Settings {
        Settings {
            cfg: cfg.clone(),
            dir,
            setup,
        }
    }
}

/// Runs until the aggregator has closed the channel and the spool is empty, or NATS cannot take
/// the rest.
pub async fn run(
    link: Arc<Link>,
    settings: Settings,
    rx: mpsc::Receiver<frame::Frames>,
    queue: Queue,
    first: Option<Client>,
) {
    let queue = Arc::new(Mutex::new(queue));
    let wake = Arc::new(Notify::new());
    let room = Arc::new(Notify::new());
    let intake = tokio::spawn(intake(
        rx,
        queue.clone(),
        link.clone(),
        wake.clone(),
        room.clone(),
    ));
    let mut p = Publisher {
        link: link.clone(),
        settings,
        queue: queue.clone(),
        control: first,
        bucket: None,
        written: Default::default(),
        refusals: Default::default(),
        stream_ok: false,
        stream_warning: None,
        conn: None,
        next_endpoint: 0,
        connections: 0,
        rounds: VecDeque::new(),
        out: Outgoing::default(),
        unflushed: false,
        failures: 0,
        last_attempt: None,
        last_ping: Instant::now(),
        pings: Pings::default(),
        encoder: Encoder::default(),
    };
    let mut drain_until: Option<Instant> = None;
    loop {
        if drain_until.is_none() && intake.is_finished() {
            drain_until = Some(Instant::now() + DRAIN_TIMEOUT);
        }
        let empty = lock(&queue).is_empty();
        if let Some(until) = drain_until {
            if empty || Instant::now() >= until || p.conn.is_none() {
                break;
            }
        }
        if !p.prepare().await {
            if drain_until.is_some() {
                break;
            }
            tokio::time::sleep(RETRY).await;
            continue;
        }
        if let Err(e) = p.fill() {
            p.failed(&e);
            continue;
        }
        if let Err(e) = p.step(&wake).await {
            p.failed(&e);
            continue;
        }
        match p.finish_done().await {
            Ok(0) => p.back_if_idle(),
            Ok(_) => room.notify_one(),
            Err(e) => p.failed(&e),
        }
    }
    p.rounds.clear();
    link.stats.acks_pending.store(0, Ordering::Relaxed);
    link.stats.connected.store(false, Ordering::Relaxed);
    link.set_registry(None);
    let mut s = lock(&queue);
    s.rewind();
    let spilled = s.set_live(false);
    // What went to the spool is safe: the aggregator's last save of its duplicate window, after
    // this thread ends, may remember those records.
    link.stats.note_spool(&s);
    if let Err(e) = spilled {
        crate::logging::say(
            tracing::Level::ERROR,
            format_args!(
                "output.nats: cannot write the spool at shutdown ({e}); {} records and device \
                 events not acknowledged by NATS are in the records file only",
                s.messages()
            ),
        );
    }
    if !s.is_empty() {
        // The one line the operator needs: nothing is lost, it waits on disk.
        crate::logging::say(
            tracing::Level::WARN,
            format_args!(
                "output.nats: {} records and device events ({} bytes) not acknowledged by NATS \
                 stay in {}; they are published at the next start",
                s.messages(),
                s.bytes(),
                p.settings.dir.display()
            ),
        );
    }
    intake.abort();
    link.finish();
}

struct Publisher {
    link: Arc<Link>,
    settings: Settings,
    queue: Arc<Mutex<Queue>>,
    /// async-nats, for the stream, the bucket and the merges; it reconnects by itself.
    control: Option<Client>,
    bucket: Option<kv::Store>,
    /// What this collector last wrote of each device, for its next merge.
    written: Written,
    /// Merges the bucket refused, for the log.
    refusals: control::Refusals,
    /// The stream was made or checked on this connection.
    stream_ok: bool,
    /// What the stream last refused of the config, as warned of.
    stream_warning: Option<String>,
    /// The publishing connection.
    conn: Option<Conn>,
    next_endpoint: usize,
    /// Publishing connections made so far.
    connections: u64,
    rounds: VecDeque<Round>,
    /// HPUB frames (and PINGs and PONGs) to write.
    out: Outgoing,
    /// Written bytes a TLS stream may still hold.
    unflushed: bool,
    /// Failed attempts in a row (connections, the stream, rounds), for the log; `/metrics`
    /// counts failed rounds only.
    failures: u64,
    last_attempt: Option<Instant>,
    last_ping: Instant,
    pings: Pings,
    encoder: Encoder,
}

impl Publisher {
    /// Connects (both sides), then makes sure of the stream and the bucket; false while that is
    /// not done.
    async fn prepare(&mut self) -> bool {
        if self.conn.is_some() && self.stream_ok && self.bucket.is_some() {
            return true;
        }
        if self.last_attempt.is_some_and(|at| at.elapsed() < BACKOFF) {
            return false;
        }
        self.last_attempt = Some(Instant::now());
        if self.control.is_none() {
            match connect::connect(&self.settings.cfg).await {
                Ok(client) => self.control = Some(client),
                Err(ConnectFailure::Refused(m) | ConnectFailure::Unreachable(m)) => {
                    self.say_failure(&m);
                    return false;
                }
            }
        }
        if self.conn.is_none() {
            let endpoints = &self.settings.setup.endpoints;
            let ep = endpoints[self.next_endpoint % endpoints.len()].clone();
            match conn::open(&self.settings.setup, &ep).await {
                Ok(c) => {
                    self.connections += 1;
                    if self.connections > 1 {
                        self.link.stats.reconnects.fetch_add(1, Ordering::Relaxed);
                    }
                    tracing::info!("NATS: publishing to {ep}");
                    self.last_ping = Instant::now();
                    self.pings = Pings::default();
                    self.conn = Some(c);
                }
                Err(e) => {
                    self.next_endpoint += 1;
                    self.say_failure(&format!("{ep}: {e}"));
                    return false;
                }
            }
        }
        if !self.stream_ok || self.bucket.is_none() {
            let Some(client) = &self.control else {
                return false;
            };
            match control::prepare(client, &self.settings.cfg).await {
                Ok(Prepared { bucket, warning }) => {
                    // Once, not at every reconnect: it stays true until the stream changes.
                    if let Some(w) = &warning {
                        if Some(w) != self.stream_warning.as_ref() {
                            tracing::warn!("{w}");
                        }
                    }
                    self.stream_warning = warning;
                    self.link.set_registry(Some(bucket.clone()));
                    self.bucket = Some(bucket);
                    self.stream_ok = true;
                    lock(&self.queue).set_live(true).ok();
                    self.link.stats.connected.store(true, Ordering::Relaxed);
                }
                Err(Failure::Stream(e)) => {
                    // Nothing flows until an operator acts: said at every attempt (BACKOFF
                    // apart), not fading like an outage's.
                    self.failures += 1;
                    tracing::error!("output.nats: {e}");
                    return false;
                }
                Err(Failure::Other(e)) => {
                    self.say_failure(&e);
                    return false;
                }
            }
        }
        true
    }

    /// Encodes rounds from the spool until `ROUNDS` are in flight or it has nothing more.
    fn fill(&mut self) -> Result<(), String> {
        let Some(conn) = &self.conn else {
            return Ok(());
        };
        while self.rounds.len() < ROUNDS {
            let chunk = lock(&self.queue)
                .read(ROUND_BYTES)
                .map_err(|e| format!("cannot read the spool: {e}"))?;
            let Some(chunk) = chunk else {
                return Ok(());
            };
            let damaged = chunk.damaged;
            let skipped = self.encoder.skipped;
            let round = self
                .encoder
                .round(chunk, &conn.inbox, conn.max_payload, &mut self.out);
            let stats = &self.link.stats;
            let skipped = self.encoder.skipped - skipped;
            stats
                .unpublishable
                .fetch_add(skipped + damaged, Ordering::Relaxed);
            stats.published.fetch_add(round.count, Ordering::Relaxed);
            stats.acks_pending.fetch_add(round.count, Ordering::Relaxed);
            self.rounds.push_back(round);
        }
        Ok(())
    }

    /// One step of the connection: writes what is pending, or reads what came, or finds the
    /// oldest round late; while nothing is in flight, waits for frames as well.
    async fn step(&mut self, wake: &Notify) -> Result<(), String> {
        let Some(conn) = &mut self.conn else {
            return Ok(());
        };
        // A round with nothing left to acknowledge is the caller's to finish now: one of
        // registry merges alone (a sweep at a quiet moment) would otherwise wait here for acks
        // that never come, and fail.
        if self.rounds.front().is_some_and(|r| r.acked >= r.count) {
            return Ok(());
        }
        let idle = self.rounds.is_empty();
        if idle && self.last_ping.elapsed() >= PING_INTERVAL {
            if self.pings.owed >= 2 {
                return Err("the server answered no PING".into());
            }
            self.out.own().extend_from_slice(b"PING\r\n");
            self.pings.owed += 1;
            self.last_ping = Instant::now();
        }
        let pending = !self.out.is_empty();
        let deadline = self
            .rounds
            .front()
            .map_or_else(|| Instant::now() + RETRY, |r| r.sent + ACK_TIMEOUT);
        let Conn {
            reader,
            writer,
            inbox,
            ..
        } = conn;
        let out = &mut self.out;
        let unflushed = self.unflushed;
        tokio::select! {
            written = async {
                if pending {
                    out.write_to(writer).await
                } else {
                    tokio::io::AsyncWriteExt::flush(writer).await.map(|()| 0)
                }
            }, if pending || unflushed => {
                let n = written.map_err(|e| format!("write: {e}"))?;
                if pending && n == 0 {
                    return Err("the connection closed".into());
                }
                self.unflushed = pending;
                if self.out.is_empty() {
                    self.pings.pong_queued = false;
                }
            }
            read = reader.read() => {
                if read.map_err(|e| format!("read: {e}"))? == 0 {
                    return Err("the server closed the connection".into());
                }
                handle(
                    reader,
                    inbox,
                    &mut self.rounds,
                    self.out.own(),
                    &self.link.stats,
                    &mut self.pings,
                )?;
                let all_written = self.out.is_empty();
                if all_written && self.rounds.front().is_some_and(|r| r.acked < r.count) {
                    std::thread::sleep(ACK_GATHER);
                    tokio::task::yield_now().await;
                }
            }
            _ = wake.notified(), if idle => {}
            _ = tokio::time::sleep_until(deadline.into()) => {
                if !idle {
                    return Err(format!("no acknowledgement in {ACK_TIMEOUT:?}"));
                }
            }
        }
        Ok(())
    }

    /// Finishes the rounds at the front that are wholly acknowledged: merges their devices
    /// into the bucket and moves the spool's head past them. How many.
    async fn finish_done(&mut self) -> Result<usize, String> {
        let mut done = 0;
        while self.rounds.front().is_some_and(|r| r.acked >= r.count) {
            let Some(round) = self.rounds.pop_front() else {
                break;
            };
            let stats = &self.link.stats;
            if !round.merges.is_empty() {
                let Some(bucket) = &self.bucket else {
                    return Err("the registry bucket is not open".into());
                };
                control::merge_all(
                    bucket,
                    round.merges,
                    &mut self.written,
                    stats,
                    &mut self.refusals,
                )
                .await?;
            }
            {
                let mut q = lock(&self.queue);
                q.acknowledge(&round.chunk)
                    .map_err(|e| format!("cannot move the spool's head: {e}"))?;
                stats.note_spool(&q);
            }
            for part in round.chunk.parts {
                if let Ok(frames) = Arc::try_unwrap(part) {
                    self.link.give_back(frames);
                }
            }
            done += 1;
        }
        if done > 0 && self.failures > 0 {
            tracing::info!(
                "output.nats: publishing again after {} failed attempts",
                self.failures
            );
            self.failures = 0;
        }
        Ok(done)
    }

    /// With nothing in flight on a prepared connection, an outage is over even though no round
    /// says so (no records came): said now, and its count ended, so that the next outage's
    /// lines count from one rather than from every attempt since the last record.
    fn back_if_idle(&mut self) {
        if self.failures > 0 && self.rounds.is_empty() && self.conn.is_some() && self.stream_ok {
            tracing::info!(
                "output.nats: connected again after {} failed attempts; nothing waits",
                self.failures
            );
            self.failures = 0;
        }
    }

    /// A round failed: the connection is dropped (it may be mid-frame), and everything
    /// unacknowledged goes out again, from the oldest, on the next one.
    fn failed(&mut self, why: &str) {
        let stats = &self.link.stats;
        stats.failures.fetch_add(1, Ordering::Relaxed);
        if let Some(conn) = self.conn.take() {
            stats.connected.store(false, Ordering::Relaxed);
            tracing::warn!(
                "NATS: publishing to {} stopped ({why}); records are spooled until it is back",
                conn.endpoint
            );
        }
        self.rounds.clear();
        self.out.clear();
        self.unflushed = false;
        stats.acks_pending.store(0, Ordering::Relaxed);
        {
            let mut q = lock(&self.queue);
            q.rewind();
            // Until NATS takes publishes again, batches go to disk, behind what memory held.
            if let Err(e) = q.set_live(false) {
                tracing::error!("output.nats: cannot write the spool: {e}");
            }
            stats.note_spool(&q);
        }
        // A stream deleted under us comes back at the next prepare.
        self.stream_ok = false;
        self.last_attempt = Some(Instant::now());
        self.say_failure(why);
    }

    /// Says a failure at the 1st, 2nd, 4th… in a row: an outage must not flood the log.
    fn say_failure(&mut self, why: &str) {
        self.failures += 1;
        if self.failures.is_power_of_two() {
            tracing::warn!(
                failed_attempts = self.failures,
                "output.nats: {why}; records wait in the spool"
            );
        }
    }
}
