//! The bounded channel between the shards and the aggregator (DESIGN §4 "Backpressure, not
//! loss"). A shard whose batch does not fit waits, without polling, until the aggregator has taken
//! one: meanwhile it does not read its sockets, so TCP pushes back on the senders.
//!
//! The aggregator waits for a batch on a doorbell of its own, not in crossbeam's `recv`: that
//! spins and then yields the core a few times before it sleeps, and under a real-time policy a
//! yield puts the aggregator behind a shard or a sender that may keep the core for milliseconds
//! (a quarter of the aggregator's CPU went to switching at 180,000 events/s).

use std::sync::atomic::{fence, AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::{self, Thread};
use std::time::{Duration, Instant};

use crossbeam_channel::{Receiver, RecvTimeoutError, Sender, TryRecvError, TrySendError};
use event_listener::Event;

use super::pool::Returns;
use super::Batch;

/// Counts-only batches the side channel holds (see [`BatchSender::offer_counts`]); each shard
/// offers one per input a tick at most, so a few hundred are seconds of ticks.
const COUNTS_CAPACITY: usize = 256;

/// A bounded channel of batches holding `capacity` of them, and beside it a small one for
/// counts alone.
pub fn bounded(capacity: usize) -> (BatchSender, BatchReceiver) {
    let (tx, rx) = crossbeam_channel::bounded(capacity);
    let (counts_tx, counts_rx) = crossbeam_channel::bounded(COUNTS_CAPACITY);
    let taken = Arc::new(Event::new());
    let bell = Arc::new(Doorbell::default());
    (
        BatchSender {
            tx,
            counts: counts_tx,
            taken: taken.clone(),
            bell: bell.clone(),
        },
        BatchReceiver {
            rx,
            counts: counts_rx,
            taken,
            bell,
            returns: Returns::default(),
        },
    )
}

/// How a shard wakes the aggregator that sleeps for a batch: one futex call when it sleeps,
/// none when it is busy. The lock on the sleeping thread is let go before it is woken. (An
/// `event_listener::Event` woke it under a lock that the woken aggregator then contended for: two
/// futex calls per batch, 7 % of a shard's CPU at 10,000 events/s.)
#[derive(Default)]
struct Doorbell {
    /// Set by the aggregator before it sleeps; the first shard to ring takes it.
    asleep: AtomicBool,
    /// The thread that sleeps, set before `asleep`. Taken only by the shard that took `asleep`.
    sleeper: Mutex<Option<Thread>>,
}

impl Doorbell {
    /// The aggregator is about to sleep. It looks at the channel once more after this: with the
    /// fences here and in `ring`, either it sees the batch a shard sent meanwhile or that shard
    /// sees it asleep.
    fn going_to_sleep(&self) {
        {
            let mut sleeper = self.sleeper.lock().unwrap_or_else(|e| e.into_inner());
            if sleeper.as_ref().map(Thread::id) != Some(thread::current().id()) {
                *sleeper = Some(thread::current());
            }
        }
        self.asleep.store(true, Ordering::SeqCst);
        fence(Ordering::SeqCst);
    }

    fn awake(&self) {
        self.asleep.store(false, Ordering::SeqCst);
    }

    /// After a batch was sent (or a shard hung up): wakes the aggregator if it sleeps.
    fn ring(&self) {
        fence(Ordering::SeqCst);
        if self.asleep.load(Ordering::SeqCst) && self.asleep.swap(false, Ordering::SeqCst) {
            // Unparked after the lock is let go: the woken aggregator takes it again before
            // its next sleep, and would otherwise wait for this shard to let go of it.
            let sleeper = self
                .sleeper
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .clone();
            if let Some(thread) = sleeper {
                thread.unpark();
            }
        }
    }
}

/// A shard's end. Cloned once per shard.
#[derive(Clone)]
pub struct BatchSender {
    tx: Sender<Batch>,
    /// Counts without records, which the aggregator takes even while it takes no batch.
    counts: Sender<Batch>,
    /// Notified each time the aggregator takes a batch: there is room again.
    taken: Arc<Event>,
    /// Rung each time a batch is sent, and when a shard hangs up.
    bell: Arc<Doorbell>,
}

impl Drop for BatchSender {
    fn drop(&mut self) {
        // The sender goes first, so that the aggregator woken here sees the hang-up.
        let (gone, _) = crossbeam_channel::bounded(0);
        drop(std::mem::replace(&mut self.tx, gone));
        self.bell.ring();
    }
}

/// What became of a batch offered without waiting.
pub enum Offer {
    Sent,
    /// The channel is full: the batch comes back (boxed: it is the rare, large case).
    Full(Box<Batch>),
    /// The aggregator is gone.
    Closed,
}

impl BatchSender {
    /// Hands a batch over, waiting while the channel is full. False only when the aggregator is
    /// gone (the collector is stopping).
    pub async fn send(&self, mut batch: Batch) -> bool {
        loop {
            batch.sent_at = Some(Instant::now());
            match self.tx.try_send(batch) {
                Ok(()) => {
                    self.bell.ring();
                    return true;
                }
                Err(TrySendError::Disconnected(_)) => return false,
                Err(TrySendError::Full(b)) => batch = b,
            }
            // Listen first, then look again: a batch taken in between is not missed.
            let taken = self.taken.listen();
            if !self.tx.is_full() {
                continue;
            }
            taken.await;
        }
    }

    /// Offers a batch without waiting (for inputs that cannot push back).
    pub fn offer(&self, mut batch: Batch) -> Offer {
        batch.sent_at = Some(Instant::now());
        match self.tx.try_send(batch) {
            Ok(()) => {
                self.bell.ring();
                Offer::Sent
            }
            Err(TrySendError::Full(b)) => Offer::Full(Box::new(b)),
            Err(TrySendError::Disconnected(_)) => Offer::Closed,
        }
    }

    /// Offers a batch of counts alone (no records, devices or dead letters) on the side
    /// channel, which the aggregator reads even while a full disk keeps it from taking
    /// batches: the datagrams UDP drops meanwhile, the peers refused, reach `/metrics` then
    /// too. Gives the batch back when that channel is full.
    pub fn offer_counts(&self, batch: Batch) -> Result<(), Box<Batch>> {
        debug_assert!(batch.records.is_empty() && batch.dead.is_empty());
        self.counts
            .try_send(batch)
            .map_err(|e| Box::new(e.into_inner()))
    }

    /// Resolves when the aggregator next takes a batch (or at once if there is room now).
    pub async fn room(&self) {
        let taken = self.taken.listen();
        if self.tx.is_full() {
            taken.await;
        }
    }
}

/// The aggregator's end.
pub struct BatchReceiver {
    rx: Receiver<Batch>,
    counts: Receiver<Batch>,
    taken: Arc<Event>,
    bell: Arc<Doorbell>,
    /// Where handled batches go back to, per shard.
    returns: Returns,
}

impl BatchReceiver {
    /// Handled batches go back to their shards through `returns`.
    pub fn returning(mut self, returns: Returns) -> Self {
        self.returns = returns;
        self
    }

    /// A batch of counts alone from the side channel, if one waits.
    pub fn try_recv_counts(&self) -> Option<Batch> {
        self.counts.try_recv().ok()
    }

    /// A handled batch goes back to the shard that made it, for its next read.
    pub fn give_back(&self, batch: Batch) {
        self.returns.give_back(batch);
    }

    /// The next batch, waiting at most `wait`; `Err(Disconnected)` once every shard hung up.
    pub fn recv_timeout(&self, wait: Duration) -> Result<Batch, RecvTimeoutError> {
        let deadline = Instant::now().checked_add(wait);
        loop {
            if let Some(batch) = self.try_recv()? {
                return Ok(batch);
            }
            let now = Instant::now();
            if deadline.is_some_and(|d| now >= d) {
                return Err(RecvTimeoutError::Timeout);
            }
            // Say so first, then look again: a batch sent in between is not missed.
            self.bell.going_to_sleep();
            match self.try_recv() {
                Ok(None) => {}
                found => {
                    self.bell.awake();
                    if let Some(batch) = found? {
                        return Ok(batch);
                    }
                }
            }
            // A wake-up for nothing (an unpark meant for an earlier sleep) only loops.
            match deadline {
                Some(d) => thread::park_timeout(d.saturating_duration_since(now)),
                None => thread::park(),
            }
            self.bell.awake();
        }
    }

    /// A batch if one waits; `Err(Disconnected)` once every shard hung up and none waits.
    fn try_recv(&self) -> Result<Option<Batch>, RecvTimeoutError> {
        match self.rx.try_recv() {
            Ok(batch) => {
                self.taken.notify(usize::MAX);
                Ok(Some(batch))
            }
            Err(TryRecvError::Empty) => Ok(None),
            Err(TryRecvError::Disconnected) => Err(RecvTimeoutError::Disconnected),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.rx.is_empty()
    }

    pub fn len(&self) -> usize {
        self.rx.len()
    }

    pub fn capacity(&self) -> usize {
        self.rx.capacity().unwrap_or(0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::batch::Source;

    /// Waits until the aggregator, thread `tid` of this process, has said it goes to sleep and
    /// sleeps (`S` in `/proc`: parked, past its last look at the channel): what a shard does
    /// after this, only a wake-up brings to it. A fixed pause could end before it got there.
    fn until_asleep(bell: &Doorbell, tid: i32) {
        let deadline = Instant::now() + Duration::from_secs(10);
        let parked = || {
            let stat = std::fs::read_to_string(format!("/proc/self/task/{tid}/stat"));
            // The state follows the command's closing parenthesis.
            stat.ok()
                .and_then(|s| s.rsplit_once(") ").map(|(_, rest)| rest.starts_with('S')))
                .unwrap_or(false)
        };
        while !(bell.asleep.load(Ordering::SeqCst) && parked()) {
            assert!(
                Instant::now() < deadline,
                "the aggregator never went to sleep"
            );
            std::thread::yield_now();
        }
    }

    #[test]
    fn the_aggregator_wakes_for_a_batch_and_for_the_last_hang_up() {
        let (tx, rx) = bounded(4);
        let long = Duration::from_secs(60);
        // Nothing sent: the wait ends at its deadline.
        let started = Instant::now();
        assert!(matches!(
            rx.recv_timeout(Duration::from_millis(20)),
            Err(RecvTimeoutError::Timeout)
        ));
        assert!(started.elapsed() >= Duration::from_millis(20));

        // A batch offered while the aggregator sleeps wakes it, long before the deadline.
        // SAFETY: gettid has no preconditions.
        let aggregator = unsafe { libc::gettid() };
        let shard = std::thread::spawn({
            let tx = tx.clone();
            move || {
                until_asleep(&tx.bell, aggregator);
                assert!(matches!(tx.offer(Batch::new(3, Source::Tcp)), Offer::Sent));
            }
        });
        let started = Instant::now();
        let batch = rx.recv_timeout(long).expect("a batch");
        assert_eq!(batch.shard, 3);
        assert!(started.elapsed() < long / 2);
        shard.join().unwrap();

        // The last shard hanging up wakes it too: one clone left, then none.
        let last = std::thread::spawn(move || {
            until_asleep(&tx.bell, aggregator);
            drop(tx);
        });
        let started = Instant::now();
        assert!(matches!(
            rx.recv_timeout(long),
            Err(RecvTimeoutError::Disconnected)
        ));
        assert!(started.elapsed() < long / 2);
        last.join().unwrap();
    }

    /// Four shards send 20,000 batches as fast as the channel takes them, in bursts and alone,
    /// while the aggregator sleeps whenever it finds none: a lost wake-up would leave it asleep
    /// until its 10-second deadline, with batches waiting.
    #[test]
    fn no_batch_is_left_waiting_for_a_sleeping_aggregator() {
        let (tx, rx) = bounded(4);
        let shards: Vec<_> = (0..4)
            .map(|shard| {
                let tx = tx.clone();
                std::thread::spawn(move || {
                    for i in 0..5_000u32 {
                        let mut batch = Box::new(Batch::new(shard, Source::Tcp));
                        loop {
                            match tx.offer(*batch) {
                                Offer::Sent => break,
                                Offer::Full(back) => {
                                    batch = back;
                                    std::thread::yield_now();
                                }
                                Offer::Closed => panic!("the aggregator is gone"),
                            }
                        }
                        if i % 64 == 0 {
                            // A pause now and then, so that the aggregator goes to sleep.
                            std::thread::sleep(Duration::from_micros(50));
                        }
                    }
                })
            })
            .collect();
        drop(tx);
        let mut per_shard = [0u32; 4];
        loop {
            let asked = Instant::now();
            let got = rx.recv_timeout(Duration::from_secs(10));
            assert!(
                asked.elapsed() < Duration::from_secs(5),
                "a wake-up was lost"
            );
            match got {
                Ok(batch) => per_shard[batch.shard] += 1,
                Err(RecvTimeoutError::Disconnected) => break,
                Err(RecvTimeoutError::Timeout) => panic!("a wake-up was lost"),
            }
        }
        assert_eq!(per_shard, [5_000; 4]);
        for shard in shards {
            shard.join().unwrap();
        }
    }
}
