//! The bounded channel between the shards and the aggregator (DESIGN §4 "Backpressure, not
//! loss"). A shard whose batch does not fit waits, without polling, until the aggregator has taken
//! one: meanwhile it does not read its sockets, so TCP pushes back on the senders.

use std::sync::Arc;
use std::time::{Duration, Instant};

use crossbeam_channel::{Receiver, RecvTimeoutError, Sender, TrySendError};
use event_listener::Event;

use super::pool::Returns;
use super::Batch;

/// A bounded channel of batches holding `capacity` of them.
pub fn bounded(capacity: usize) -> (BatchSender, BatchReceiver) {
    let (tx, rx) = crossbeam_channel::bounded(capacity);
    let taken = Arc::new(Event::new());
    (
        BatchSender {
            tx,
            taken: taken.clone(),
        },
        BatchReceiver {
            rx,
            taken,
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
                Ok(()) => return true,
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
            Ok(()) => Offer::Sent,
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
        let batch = self.rx.recv_timeout(wait)?;
        self.taken.notify(usize::MAX);
        Ok(batch)
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
