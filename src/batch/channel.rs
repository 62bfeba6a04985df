//! The bounded channel between the shards and the aggregator (DESIGN §4 "Backpressure, not
//! loss"). A shard whose batch does not fit waits, without polling, until the aggregator has taken
//! one: meanwhile it does not read its sockets, so TCP pushes back on the senders.
//!
//! The aggregator waits for a batch on an event of its own, not in crossbeam's `recv`: that spins
//! and then yields the core a few times before it sleeps, and under a real-time policy a yield
//! puts the aggregator behind a shard or a sender that may keep the core for milliseconds (a
//! quarter of the aggregator's CPU went to switching at 180,000 events/s).

use std::sync::Arc;
use std::time::{Duration, Instant};

use crossbeam_channel::{Receiver, RecvTimeoutError, Sender, TryRecvError, TrySendError};
use event_listener::{Event, Listener};

use super::pool::Returns;
use super::Batch;

/// A bounded channel of batches holding `capacity` of them.
pub fn bounded(capacity: usize) -> (BatchSender, BatchReceiver) {
    let (tx, rx) = crossbeam_channel::bounded(capacity);
    let taken = Arc::new(Event::new());
    let sent = Arc::new(Event::new());
    (
        BatchSender {
            tx,
            taken: taken.clone(),
            sent: sent.clone(),
        },
        BatchReceiver {
            rx,
            taken,
            sent,
            returns: Returns::default(),
        },
    )
}

/// A shard's end. Cloned once per shard.
#[derive(Clone)]
pub struct BatchSender {
    tx: Sender<Batch>,
    /// Notified each time the aggregator takes a batch: there is room again.
    taken: Arc<Event>,
    /// Notified each time a batch is sent, and when a shard hangs up.
    sent: Arc<Event>,
}

impl Drop for BatchSender {
    fn drop(&mut self) {
        // The sender goes first, so that the aggregator woken here sees the hang-up.
        let (gone, _) = crossbeam_channel::bounded(0);
        drop(std::mem::replace(&mut self.tx, gone));
        self.sent.notify(usize::MAX);
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
                    self.sent.notify(1);
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
                self.sent.notify(1);
                Offer::Sent
            }
            Err(TrySendError::Full(b)) => Offer::Full(Box::new(b)),
            Err(TrySendError::Disconnected(_)) => Offer::Closed,
        }
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
    taken: Arc<Event>,
    sent: Arc<Event>,
    /// Where handled batches go back to, per shard.
    returns: Returns,
}

impl BatchReceiver {
    /// Handled batches go back to their shards through `returns`.
    pub fn returning(mut self, returns: Returns) -> Self {
        self.returns = returns;
        self
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
            // Listen first, then look again: a batch sent in between is not missed.
            let sent = self.sent.listen();
            if let Some(batch) = self.try_recv()? {
                return Ok(batch);
            }
            let woken = match deadline {
                Some(deadline) => sent.wait_deadline(deadline).is_some(),
                None => {
                    sent.wait();
                    true
                }
            };
            if !woken {
                return self.try_recv()?.ok_or(RecvTimeoutError::Timeout);
            }
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
        let shard = std::thread::spawn({
            let tx = tx.clone();
            move || {
                std::thread::sleep(Duration::from_millis(50));
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
            std::thread::sleep(Duration::from_millis(50));
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
}
