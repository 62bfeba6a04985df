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
//! A changed device waits [`HAND_AFTER`] before it is handed over, and a change meanwhile is
//! saved with it. Handing devices over as soon as 512 had changed saved a device whose IP or
//! user changes every few records at nearly every change: with 10,000 such devices, 50,000
//! saves a second, and the registry thread took a sixth of what the shard did
//! (`perf/threads.sh`). Now each is saved about once a second, and a crash loses about the last
//! 1.3 s of changes.
//!
//! The aggregator offers devices every 10 ms (its `Save` job), so at most about 50,000 devices
//! a second are handed over: under a flood of new devices beyond that, the rest wait in the
//! registry, oldest first, and a crash loses more. Their records and device events are in the
//! files all the same.
//!
//! Each hand-over also says how far into the devices file the devices handed so far hold every
//! event ([`Encoded::through`]), and the store keeps that with them: at start the events after
//! it are merged into the registry (`registry/tail.rs`), so that a crash does not make the
//! collector announce a device or tag again.
//!
//! Nothing is handed over while the devices file holds back events (a full disk): a device saved
//! before its event is written would, after a crash, be known and never announced. The
//! aggregator writes the file out before each offer, so this waits only for a failing file.
//!
//! One buffer goes back and forth, and the thread takes nothing while a commit fails: the
//! devices that change meanwhile stay unsaved in the registry. So a slow or failing disk holds
//! one commit's devices in memory at most, never a queue of them.

use std::collections::VecDeque;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use crossbeam_channel::{Receiver, RecvTimeoutError, Sender};

use super::registry::Registry;
use super::store::{Encoded, Store};
use crate::sink::Sink;

/// Between the first attempts of a save that failed; doubled at each failure up to
/// [`RETRY_MOST`]: each attempt opens the store again, which after an I/O error reads the whole
/// file to repair it (180 MB for a million devices), not a thing to do four times a second for
/// as long as a disk stays full.
const RETRY: Duration = Duration::from_millis(250);
/// The longest wait between attempts: a disk that has room again is used within it.
const RETRY_MOST: Duration = Duration::from_secs(8);
/// Devices encoded per hand-over, at most.
const AT_MOST: usize = 512;
/// How long a changed device waits in the registry before it is handed over (a device that
/// changes again meanwhile is encoded once).
const HAND_AFTER: Duration = Duration::from_secs(1);
/// How finely the saver tells how long devices have waited: it notes the registry's count of
/// changed devices this often, and hands a device over [`HAND_AFTER`] after the first note
/// that counts it, so at most this much later than it is due.
const NOTE_EVERY: Duration = Duration::from_millis(100);
/// The most notes kept waiting for their devices to be handed over (`Saver::covering`).
const MAX_COVERING: usize = 64;
/// How long the thread gathers devices before it commits them: five commits a second, as many
/// as before the thread. With [`HAND_AFTER`], a crash loses the changes of the last 1.3 s or so.
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
    /// Devices committed to the store, once a commit each (a device saved again in a later
    /// commit counts again).
    saved: AtomicU64,
    /// Set at shutdown: a failing save is given up after one more attempt.
    closing: AtomicBool,
}

pub struct Saver {
    tx: Option<Sender<Encoded>>,
    /// The buffer, back from the thread once it has taken the devices in.
    back: Receiver<Encoded>,
    progress: Arc<Progress>,
    thread: Option<JoinHandle<()>>,
    /// The registry's count of changed devices ([`Registry::marks`]), noted every
    /// [`NOTE_EVERY`] while some are unsaved, with when and the devices file's bytes taken then:
    /// the devices below a count were changed before its time, and every event before those
    /// bytes is of a device below it. Those less than [`HAND_AFTER`] old; a dozen at most.
    notes: VecDeque<Note>,
    /// The count of the newest note that has left `notes`, [`HAND_AFTER`] old: the devices
    /// below it may be handed over.
    due: u64,
    /// The notes that have left `notes` and whose devices are not all handed over yet: once
    /// they are, every event before the note's bytes is in what was handed. A few a second
    /// while a flood of new devices keeps more unsaved than the saves take.
    covering: VecDeque<Note>,
    /// The devices file's bytes taken before which the last hand-over held every event.
    through: Option<u64>,
}

/// The registry's count of changed devices, the devices file's bytes taken, and when.
#[derive(Clone, Copy)]
struct Note {
    marks: u64,
    taken: u64,
    at: Instant,
}

impl Saver {
    /// Starts the thread that writes to `store`.
    pub fn start(mut store: Store) -> std::io::Result<Saver> {
        let (tx, rx) = crossbeam_channel::bounded(1);
        let (back_tx, back) = crossbeam_channel::bounded(1);
        let progress = Arc::new(Progress::default());
        // The one buffer starts on the aggregator's side.
        let _ = back_tx.send(Encoded::default());
        let thread = {
            let progress = progress.clone();
            std::thread::Builder::new()
                .name("registry".into())
                .spawn(move || run(&mut store, &rx, &back_tx, &progress))?
        };
        Ok(Saver {
            tx: Some(tx),
            back,
            progress,
            thread: Some(thread),
            notes: VecDeque::new(),
            due: 0,
            covering: VecDeque::new(),
            through: None,
        })
    }

    /// Hands the thread the registry's devices that changed at least [`HAND_AFTER`] before
    /// `now` and are still unsaved (at most [`AT_MOST`]), unless the thread has not given the
    /// buffer back (it holds the last piece while it commits, and while a commit fails). Called
    /// often: it costs a look at a few numbers when there is nothing to do. `devices` is the
    /// devices file's sink, whose events the registry's changes wrote.
    pub fn save(&mut self, registry: &mut Registry, devices: &Sink, now: Instant) {
        if registry.unsaved() == 0 {
            return;
        }
        if self
            .notes
            .back()
            .is_none_or(|note| now.saturating_duration_since(note.at) >= NOTE_EVERY)
        {
            self.notes.push_back(Note {
                marks: registry.marks(),
                taken: devices.taken(),
                at: now,
            });
        }
        while let Some(&note) = self.notes.front() {
            if now.saturating_duration_since(note.at) < HAND_AFTER {
                break;
            }
            self.due = note.marks;
            if self.covering.len() >= MAX_COVERING {
                // While saves fail, nothing is handed over and notes would pile up, ten a
                // second for as long as the disk is full (found by review). Every other one
                // goes: each left is as true as before, the places they give only coarser.
                let mut at = 0;
                self.covering.retain(|_| {
                    at += 1;
                    at % 2 == 0
                });
            }
            self.covering.push_back(note);
            self.notes.pop_front();
        }
        let due = registry.unsaved_before(self.due);
        // A device saved before its events are in the devices file would, after a crash, be
        // known without them, and never announced again (an audit killed a collector whose
        // devices file was full: 785 of 1,000 devices never announced). So nothing is handed
        // while the file holds back events (the caller writes them out first); the devices
        // wait in the registry, and a crash meanwhile leaves them to the tail merge at start.
        // (A pipe or stdout, with no tail to merge, is not waited for.)
        if due == 0 || devices.holds_back_a_file() {
            return;
        }
        if let Ok(encoded) = self.back.try_recv() {
            self.hand(encoded, registry, devices, due.min(AT_MOST));
        }
    }

    /// Hands over the first `count` unsaved devices. The registry counts them as saved from
    /// here; [`Saver::in_flight`] counts them until they are.
    fn hand(&mut self, mut encoded: Encoded, registry: &mut Registry, devices: &Sink, n: usize) {
        let Some(tx) = &self.tx else {
            return;
        };
        encoded.extend(registry.unsaved_devices().take(n));
        registry.saved_first(encoded.len());
        // Every event is of a device marked before the registry's count when it was written:
        // those before a note's bytes are in what was handed once the note's devices are.
        let first = registry.first_unsaved_mark();
        let mut through = None;
        if registry.unsaved() == 0 {
            self.covering.clear();
            through = Some(devices.taken());
        }
        while let Some(note) = self.covering.front().filter(|n| n.marks <= first) {
            through = Some(note.taken);
            self.covering.pop_front();
        }
        // Only forward: a note taken before the registry emptied comes due after.
        encoded.through = None;
        if let Some(through) = through.filter(|&t| self.through.is_none_or(|last| t > last)) {
            // A place in a file rotated since is not said: the one saved before stands, which
            // is earlier, and found among the rotated files at start.
            encoded.through = devices.place_of(through);
            if encoded.through.is_some() {
                self.through = Some(through);
            }
        }
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

    /// Devices committed to the store so far, once a commit each (a device saved again in a
    /// later commit counts again).
    pub fn saved(&self) -> u64 {
        self.progress.saved.load(Ordering::Relaxed)
    }

    /// At shutdown: hands over what is left, and waits for the thread to commit it (a failing
    /// commit is tried once more, not retried). Called after the spill: unless the devices
    /// file's backlog could not be spilled either, whose devices are then left unsaved, as
    /// while the collector runs (their IPs and users are lost with the events).
    pub fn finish(&mut self, registry: &mut Registry, devices: &Sink) {
        self.progress.closing.store(true, Ordering::SeqCst);
        while registry.unsaved() > 0 && !devices.holds_back_a_file() {
            let Ok(encoded) = self.back.recv() else {
                break;
            };
            self.hand(encoded, registry, devices, AT_MOST);
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

fn run(store: &mut Store, rx: &Receiver<Encoded>, back: &Sender<Encoded>, progress: &Progress) {
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
/// taken, so the aggregator keeps the devices that change), or at shutdown once more only. A
/// retry opens the store again ([`Store::save`]): the one that failed refuses every save.
fn commit(store: &mut Store, pending: &mut Encoded, progress: &Progress, failures: &mut u64) {
    if pending.is_empty() {
        return;
    }
    let mut failed = 0u64;
    loop {
        let Err(e) = store.save(pending) else {
            // A device changed again before its first piece was committed (at shutdown, when
            // everything left is handed over) is in `pending` twice, and written once.
            progress
                .saved
                .fetch_add(pending.distinct() as u64, Ordering::Relaxed);
            // The errors were logged at powers of two only: say when they are over.
            if failed > 0 {
                tracing::info!(
                    "saved {} devices after {failed} failed attempts",
                    pending.len()
                );
            }
            break;
        };
        failed += 1;
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
        let doubled = RETRY.saturating_mul(1 << (failed - 1).min(16) as u32);
        std::thread::sleep(doubled.min(RETRY_MOST));
    }
    progress
        .in_flight
        .fetch_sub(pending.len(), Ordering::SeqCst);
    pending.clear_to(KEEP_BYTES);
}

#[cfg(test)]
mod tests;
