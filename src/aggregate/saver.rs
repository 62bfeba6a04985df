//! The registry's saves to `devices.redb`, on a thread of their own. A save of the devices that
//! changed in 200 ms is a redb transaction and a sync to disk: with 10,000 devices whose IP or
//! user changes every few records it took the aggregator 22 ms on average (44 ms at most), five
//! times a second, and every batch that came meanwhile waited in the channel.
//!
//! Now the aggregator only encodes the changed devices while it holds the registry (about a
//! microsecond a device, for one with dozens of IPs and users), at most [`AT_MOST`] at a time so
//! that batches wait about half a millisecond at most, and hands them over. The thread gathers what it
//! receives for [`COMMIT_AFTER`] and commits it in one transaction: redb copies every page a
//! transaction touches, so a commit per piece cost three times the CPU per device.
//!
//! The aggregator offers devices every 10 ms (its `Save` job), so at most about 50,000 changes
//! a second are handed over: under a flood of new or changing devices beyond that, the rest
//! wait in the registry, oldest first, and a crash loses more than the last 300 ms of changes.
//! Their records and device events are in the files all the same.
//!
//! One buffer goes back and forth, and the thread takes nothing while a commit fails: the
//! devices that change meanwhile stay unsaved in the registry. So a slow or failing disk holds
//! one commit's devices in memory at most, never a queue of them.

use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use crossbeam_channel::{Receiver, RecvTimeoutError, Sender};

use super::registry::Registry;
use super::store::{Encoded, Store};

/// Between attempts of a save that failed.
const RETRY: Duration = Duration::from_millis(250);
/// Devices encoded per hand-over, at most.
const AT_MOST: usize = 512;
/// How long changed devices wait in the registry for others, unless [`AT_MOST`] have changed
/// (a device that changes again meanwhile is encoded once).
const HAND_EVERY: Duration = Duration::from_millis(100);
/// How long the thread gathers devices before it commits them: five commits a second, as many
/// as before the thread. With [`HAND_EVERY`], a crash loses the changes of the last 300 ms or so.
const COMMIT_AFTER: Duration = Duration::from_millis(200);
/// Encoded bytes after which the thread commits at once: at shutdown the aggregator hands over
/// every device left unsaved, a whole registry's worth after a flood of new devices.
const COMMIT_BYTES: usize = 16 << 20;
/// Memory the thread keeps between commits: a commit of ordinary churn (a few thousand devices).
const KEEP_BYTES: usize = 1 << 20;

/// What the aggregator reads of the thread, for the admin endpoint.
#[derive(Default)]
struct Progress {
    /// Devices handed over and not yet in the store.
    in_flight: AtomicUsize,
    /// Saves that failed.
    errors: AtomicU64,
    /// Set at shutdown: a failing save is given up after one more attempt.
    closing: AtomicBool,
}

pub struct Saver {
    tx: Option<Sender<Encoded>>,
    /// The buffer, back from the thread once it has taken the devices in.
    back: Receiver<Encoded>,
    progress: Arc<Progress>,
    thread: Option<JoinHandle<()>>,
    /// When devices were last handed over.
    last: Instant,
}

impl Saver {
    /// Starts the thread that writes to `store`.
    pub fn start(store: Store) -> std::io::Result<Saver> {
        let (tx, rx) = crossbeam_channel::bounded(1);
        let (back_tx, back) = crossbeam_channel::bounded(1);
        let progress = Arc::new(Progress::default());
        // The one buffer starts on the aggregator's side.
        let _ = back_tx.send(Encoded::default());
        let thread = {
            let progress = progress.clone();
            std::thread::Builder::new()
                .name("registry".into())
                .spawn(move || run(&store, &rx, &back_tx, &progress))?
        };
        Ok(Saver {
            tx: Some(tx),
            back,
            progress,
            thread: Some(thread),
            last: Instant::now(),
        })
    }

    /// Hands the thread the registry's unsaved devices (at most [`AT_MOST`]) once they have
    /// waited [`HAND_EVERY`] or are that many, unless the thread has not given the buffer back
    /// (it holds the last piece while it commits, and while a commit fails). Called often: it
    /// costs a look at two numbers when there is nothing to do.
    pub fn save(&mut self, registry: &mut Registry) {
        let unsaved = registry.unsaved();
        if unsaved == 0 || (unsaved < AT_MOST && self.last.elapsed() < HAND_EVERY) {
            return;
        }
        if let Ok(encoded) = self.back.try_recv() {
            self.hand(encoded, registry);
        }
    }

    /// The registry counts the devices as saved from here; [`Saver::in_flight`] counts them
    /// until they are.
    fn hand(&mut self, mut encoded: Encoded, registry: &mut Registry) {
        let Some(tx) = &self.tx else {
            return;
        };
        encoded.extend(registry.unsaved_devices().take(AT_MOST));
        registry.saved_first(encoded.len());
        self.last = Instant::now();
        self.progress
            .in_flight
            .fetch_add(encoded.len(), Ordering::SeqCst);
        // The buffer is the only one, so the one-slot channel is empty.
        let _ = tx.send(encoded);
    }

    /// Devices handed over and not yet saved.
    pub fn in_flight(&self) -> usize {
        self.progress.in_flight.load(Ordering::SeqCst)
    }

    /// Saves that failed so far.
    pub fn errors(&self) -> u64 {
        self.progress.errors.load(Ordering::Relaxed)
    }

    /// At shutdown: hands over what is left, and waits for the thread to commit it (a failing
    /// commit is tried once more, not retried).
    pub fn finish(&mut self, registry: &mut Registry) {
        self.progress.closing.store(true, Ordering::SeqCst);
        while registry.unsaved() > 0 {
            let Ok(encoded) = self.back.recv() else {
                break;
            };
            self.hand(encoded, registry);
        }
        self.tx = None;
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

/// Makes the calling thread give way to the shards and the aggregator: a save is background
/// work of several milliseconds of CPU. Under a real-time policy (`chrt`, as `perf/latency.sh
/// --rt` runs ztel) a thread of equal priority is never preempted, so a save held a core that
/// the aggregator waited for; the ordinary policy, at a lower priority (nice 10), gives way.
fn background() {
    // SAFETY: plain system calls on the calling thread, with a parameter that lives through
    // the call; failure leaves the priority as it was, which is only slower.
    unsafe {
        let param = libc::sched_param { sched_priority: 0 };
        libc::sched_setscheduler(0, libc::SCHED_OTHER, &param);
        libc::setpriority(libc::PRIO_PROCESS, libc::gettid() as libc::id_t, 10);
    }
}

fn run(store: &Store, rx: &Receiver<Encoded>, back: &Sender<Encoded>, progress: &Progress) {
    background();
    // The devices received since the last commit, and when the first of them came.
    let mut pending = Encoded::default();
    let mut since: Option<Instant> = None;
    let mut failures = 0u64;
    loop {
        let wait = since.map_or(Duration::MAX, |t| COMMIT_AFTER.saturating_sub(t.elapsed()));
        match rx.recv_timeout(wait) {
            Ok(mut piece) => {
                pending.append(&piece);
                since.get_or_insert_with(Instant::now);
                piece.clear();
                let _ = back.send(piece);
                if pending.bytes() < COMMIT_BYTES {
                    continue;
                }
            }
            Err(RecvTimeoutError::Timeout) => {}
            Err(RecvTimeoutError::Disconnected) => {
                commit(store, &mut pending, progress, &mut failures);
                return;
            }
        }
        commit(store, &mut pending, progress, &mut failures);
        since = None;
    }
}

/// Saves `pending` in one transaction, retrying until it works (meanwhile nothing more is
/// taken, so the aggregator keeps the devices that change), or at shutdown once more only.
fn commit(store: &Store, pending: &mut Encoded, progress: &Progress, failures: &mut u64) {
    if pending.is_empty() {
        return;
    }
    while let Err(e) = store.save(pending) {
        *failures += 1;
        progress.errors.fetch_add(1, Ordering::Relaxed);
        let closing = progress.closing.load(Ordering::SeqCst);
        // One line per failure would flood the log while a disk is full.
        if failures.is_power_of_two() || closing {
            tracing::error!(
                failures = *failures,
                "cannot save {} devices: {e}{}",
                pending.len(),
                if closing {
                    "; they are in devices.jsonl, and the registry relearns them from the feeds"
                } else {
                    ""
                }
            );
        }
        if closing {
            break;
        }
        std::thread::sleep(RETRY);
    }
    progress
        .in_flight
        .fetch_sub(pending.len(), Ordering::SeqCst);
    pending.clear_to(KEEP_BYTES);
}

#[cfg(test)]
mod tests;
