//! `[output.nats]`: records and device events to a JetStream stream, devices to a KV bucket
//! (DESIGN §4 "Scale-out"). Off unless `output.nats.url` is set: then nothing here runs.
//!
//! The aggregator encodes what goes out as [`frame`]s in an [`outbox::Outbox`] (a large batch's
//! records stay in the batch's records buffer, which goes along) and hands them, every 2 ms or
//! megabyte, through a bounded channel to a thread of its own running a small tokio runtime (the
//! shards' glommio executors never see it). There the frames wait in a [`queue::Queue`] (in
//! memory while NATS takes them, in the on-disk [`spool::Spool`] while it does not) and are
//! published from it ([`publish`]) on a connection that speaks the NATS protocol itself
//! ([`conn`], [`proto`]): a round of records is HPUB headers and the payloads where they lie,
//! in vectored writes ([`outgoing`]), many rounds in flight; frames leave the queue only once
//! JetStream acknowledged them. Their buffers go back to the aggregator for its next batches.
//! The stream, the registry bucket and its merges go through async-nats ([`control`]), a few
//! requests per connection or per changed device. A full queue stops the thread taking from the channel, which
//! stops the aggregator taking batches, which stops the shards reading: the inputs are pushed
//! back as by a full channel.

pub mod conn;
pub mod connect;
pub mod control;
pub mod frame;
mod intake;
pub mod kv;
pub mod outbox;
mod outgoing;
pub mod proto;
mod publish;
pub mod queue;
mod round;
pub mod seal;
pub mod spool;
pub mod subject;

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::Duration;

use async_nats::jetstream::kv::Store;

use crate::config;
use connect::ConnectFailure;
use frame::Frames;
use kv::KvDevice;
use outbox::Outbox;
use queue::Queue;
use spool::Spool;

/// Batches of frames that may wait between the aggregator and the NATS thread.
/// Few: each is up to about a megabyte with the records buffers it holds, and what waits beyond
/// them is the aggregator's backlog, which its own bound stops.
const CHANNEL_CHUNKS: usize = 4;
/// Buffers the NATS thread is done with that may wait for the aggregator to reuse them, and the
/// sizes worth keeping. Every hand-over is a buffer and they are held until acknowledged, so
/// dozens are in flight at once; buffers that are not reused came back as fresh pages, and
/// zeroing them took more than half of the aggregator.
const SPARE_BUFFERS: usize = 64;
const SPARE_CAPACITY: std::ops::RangeInclusive<usize> = (4 << 10)..=(4 << 20);
/// How long `/devices/{hostname}` waits for the bucket before it answers from the local registry.
const READ_TIMEOUT: Duration = Duration::from_secs(2);

/// Counts of the NATS side, for `/metrics`.
#[derive(Debug, Default)]
pub struct Stats {
    /// Messages sent to JetStream (a message published again after a failure counts again).
    pub published: AtomicU64,
    /// Messages JetStream acknowledged, of which `duplicates` it said it already had.
    pub acknowledged: AtomicU64,
    pub duplicates: AtomicU64,
    /// Messages sent and not acknowledged yet.
    pub acks_pending: AtomicU64,
    /// Publish rounds that failed (an error or no acknowledgement in time); published again.
    pub failures: AtomicU64,
    /// Messages that can never be published, passed over: larger than the server takes,
    /// damaged in the spool, or refused by the stream for what they are; and device merges the
    /// registry bucket refused.
    pub unpublishable: AtomicU64,
    /// Unacknowledged bytes and records (and device events) in the spool on disk.
    pub spool_bytes: AtomicU64,
    pub spool_records: AtomicU64,
    /// Bytes ever written to the spool on disk.
    pub spooled_bytes: AtomicU64,
    /// [`Queue::durable_end`]: the aggregator's duplicate window remembers records across a
    /// crash only up to there.
    pub durable_end: AtomicU64,
    /// Connected, with the stream and the bucket ready: publishing.
    pub connected: AtomicBool,
    /// Publishing connections made after the first.
    pub reconnects: AtomicU64,
    /// Device merges written to the registry bucket, and compare-and-set conflicts met.
    pub registry_merges: AtomicU64,
    pub registry_conflicts: AtomicU64,
}

impl Stats {
    /// The spool's gauges and counter, as `queue` has them now.
    fn note_spool(&self, queue: &Queue) {
        let (bytes, messages) = queue.on_disk();
        self.spool_bytes.store(bytes, Ordering::Relaxed);
        self.spool_records.store(messages, Ordering::Relaxed);
        self.spooled_bytes.store(queue.spooled(), Ordering::Relaxed);
        // Release: the aggregator that reads it saves identities whose frames this thread
        // appended or had acknowledged before.
        self.durable_end
            .store(queue.durable_end(), Ordering::Release);
    }
}

/// The same counts as plain numbers, in the aggregator's snapshot.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Figures {
    pub published: u64,
    pub acknowledged: u64,
    pub duplicates: u64,
    pub acks_pending: u64,
    pub failures: u64,
    pub unpublishable: u64,
    pub spool_bytes: u64,
    pub spool_records: u64,
    pub spooled_bytes: u64,
    pub connected: bool,
    pub reconnects: u64,
    pub registry_merges: u64,
    pub registry_conflicts: u64,
}

/// What the aggregator, the admin endpoint and the NATS thread share.
pub struct Link {
    /// Shared with the client's event callback as well (which must not hold the runtime).
    pub stats: Arc<Stats>,
    /// Set when the aggregator hands over its last batches: the spool then takes them even when
    /// full, since they cannot be pushed back any more.
    pub closing: AtomicBool,
    /// The registry bucket, once the thread has opened it.
    registry: Mutex<Option<Store>>,
    runtime: tokio::runtime::Runtime,
    /// Buffers of frames, and records buffers that held payloads, for the aggregator to reuse
    /// (a records buffer goes into the next batch whose records NATS takes).
    frames: Spares,
    bodies: Spares,
    /// A token the NATS thread leaves each time it takes a hand-over from the channel, so that
    /// an aggregator held back by a full channel tries again at once ([`Link::wait_taken`]).
    taken: (
        crossbeam_channel::Sender<()>,
        crossbeam_channel::Receiver<()>,
    ),
    /// A token the NATS thread leaves when it ends, everything it could not publish spooled:
    /// the aggregator's last save of its duplicate window waits for it ([`Link::wait_finished`]).
    finished: (
        crossbeam_channel::Sender<()>,
        crossbeam_channel::Receiver<()>,
    ),
}

/// Empty buffers waiting to be reused.
struct Spares(
    crossbeam_channel::Sender<Vec<u8>>,
    crossbeam_channel::Receiver<Vec<u8>>,
);

impl Spares {
    fn new() -> Spares {
        let (tx, rx) = crossbeam_channel::bounded(SPARE_BUFFERS);
        Spares(tx, rx)
    }

    fn give_back(&self, mut buffer: Vec<u8>) {
        if SPARE_CAPACITY.contains(&buffer.capacity()) {
            buffer.clear();
            let _ = self.0.try_send(buffer);
        }
    }
}

impl Link {
    fn new(runtime: tokio::runtime::Runtime) -> Link {
        Link {
            stats: Arc::new(Stats::default()),
            closing: AtomicBool::new(false),
            registry: Mutex::new(None),
            runtime,
            frames: Spares::new(),
            bodies: Spares::new(),
            taken: crossbeam_channel::bounded(1),
            finished: crossbeam_channel::bounded(1),
        }
    }

    /// A link with no NATS thread behind it, for the tests of its ends.
    #[cfg(test)]
    pub fn for_tests() -> Link {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .build()
            .expect("a runtime");
        Link::new(runtime)
    }

    pub fn figures(&self) -> Figures {
        let s = &self.stats;
        let get = |a: &AtomicU64| a.load(Ordering::Relaxed);
        Figures {
            published: get(&s.published),
            acknowledged: get(&s.acknowledged),
            duplicates: get(&s.duplicates),
            acks_pending: get(&s.acks_pending),
            failures: get(&s.failures),
            unpublishable: get(&s.unpublishable),
            spool_bytes: get(&s.spool_bytes),
            spool_records: get(&s.spool_records),
            spooled_bytes: get(&s.spooled_bytes),
            connected: s.connected.load(Ordering::Relaxed),
            reconnects: get(&s.reconnects),
            registry_merges: get(&s.registry_merges),
            registry_conflicts: get(&s.registry_conflicts),
        }
    }

    /// Buffers the NATS thread is done with, for the aggregator's next batches (each dropped
    /// when enough wait, or when it is too small or too large to be worth keeping).
    pub fn give_back(&self, frames: Frames) {
        self.frames.give_back(frames.bytes);
        for body in frames.bodies {
            self.bodies.give_back(body);
        }
    }

    /// Called by the NATS thread when it took a hand-over: the channel has room again.
    pub fn took(&self) {
        // Full: a token already waits, and one is all a waiter needs.
        let _ = self.taken.0.try_send(());
    }

    /// Waits until the NATS thread takes a hand-over, for at most `at_most`; false when it took
    /// none. A token left from a take nobody waited for ends the wait at once: the caller tries
    /// the channel again and, still full, waits once more.
    pub fn wait_taken(&self, at_most: Duration) -> bool {
        self.taken.1.recv_timeout(at_most).is_ok()
    }

    /// Called by the NATS thread as it ends.
    pub fn finish(&self) {
        let _ = self.finished.0.try_send(());
    }

    /// Waits until the NATS thread has ended, for at most `at_most`; false when it has not.
    pub fn wait_finished(&self, at_most: Duration) -> bool {
        self.finished.1.recv_timeout(at_most).is_ok()
    }

    /// An empty buffer for frames, if one waits.
    pub fn spare(&self) -> Option<Vec<u8>> {
        self.frames.1.try_recv().ok()
    }

    /// An empty records buffer, if one waits.
    pub fn spare_body(&self) -> Option<Vec<u8>> {
        self.bodies.1.try_recv().ok()
    }

    pub fn is_connected(&self) -> bool {
        self.stats.connected.load(Ordering::Relaxed)
    }

    /// The device as the shared registry holds it; an error when NATS cannot say now (down, or
    /// the bucket not open yet). Blocks the calling (admin) thread for at most [`READ_TIMEOUT`].
    pub fn device(&self, id: u64) -> Result<Option<KvDevice>, String> {
        let store = match self.registry.lock() {
            Ok(guard) => guard.clone(),
            Err(_) => None,
        };
        let Some(store) = store.filter(|_| self.is_connected()) else {
            return Err("NATS is not connected".into());
        };
        self.runtime.handle().block_on(async {
            match tokio::time::timeout(READ_TIMEOUT, kv::get(&store, id)).await {
                Ok(result) => result.map_err(|e| e.to_string()),
                Err(_) => Err("the registry bucket did not answer in time".into()),
            }
        })
    }

    fn set_registry(&self, store: Option<Store>) {
        if let Ok(mut guard) = self.registry.lock() {
            *guard = store;
        }
    }
}

/// Why `[output.nats]` could not start.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error("output.nats: cannot open the spool {path}: {source}")]
    Spool {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("output.nats: cannot start its runtime: {0}")]
    Runtime(std::io::Error),
    #[error("{0}")]
    Refused(String),
}

/// The running NATS side.
pub struct Nats {
    pub outbox: Outbox,
    pub link: Arc<Link>,
    pub thread: JoinHandle<()>,
}

/// Opens the spool, tries a first connection (a refusal is an error, an outage is not) and starts
/// the NATS thread.
pub fn start(cfg: &config::Nats, data_dir: &Path) -> Result<Nats, StartError> {
    let dir = data_dir.join(config::SPOOL_DIR);
    let spool = Spool::open(&dir, cfg.spool_bytes).map_err(|source| StartError::Spool {
        path: dir.clone(),
        source,
    })?;
    if !spool.is_empty() {
        tracing::info!(
            "{} records and device events ({} bytes) from an earlier run wait in {}; they are \
             published once NATS answers",
            spool.messages(),
            spool.bytes(),
            dir.display()
        );
    }
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .thread_name("nats")
        .build()
        .map_err(StartError::Runtime)?;
    let link = Arc::new(Link::new(runtime));
    let queue = Queue::new(spool, cfg.spool_bytes);
    link.stats.note_spool(&queue);
    let first = match link.runtime.block_on(connect::connect(cfg)) {
        Ok(client) => Some(client),
        Err(ConnectFailure::Refused(message)) => return Err(StartError::Refused(message)),
        Err(ConnectFailure::Unreachable(message)) => {
            tracing::warn!(
                "output.nats: {message}; records are spooled in {} until NATS answers",
                dir.display()
            );
            None
        }
    };
    let setup = conn::Setup::of(cfg).map_err(StartError::Refused)?;
    let (tx, rx) = tokio::sync::mpsc::channel(CHANNEL_CHUNKS);
    let settings = publish::Settings::of(cfg, dir, setup);
    let thread_link = link.clone();
    let thread = std::thread::Builder::new()
        .name("nats".into())
        .spawn(move || {
            let run = publish::run(thread_link.clone(), settings, rx, queue, first);
            thread_link.runtime.block_on(run);
        })
        .map_err(StartError::Runtime)?;
    Ok(Nats {
        outbox: Outbox::new(tx, &cfg.subject_prefix, link.clone()),
        link,
        thread,
    })
}
