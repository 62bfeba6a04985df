//! Batches go back to the shard that made them (the brief's "buffers go back to the shard that
//! made them"). A batch's records buffer is up to 1.5 MiB; made fresh for every read and freed
//! by the aggregator's thread, it never returned to the shard's allocator, so the shard spent a
//! sixth of its time on the kernel zeroing new pages. Now the aggregator clears nothing and
//! sends each batch back on its shard's return channel; the shard clears it and fills it again.

use std::sync::Arc;

use crossbeam_channel::{Receiver, Sender, TrySendError};

use super::counters::Counter;
use super::{Batch, Source};

/// A records buffer larger than this is not kept for reuse: one huge request (an HTTP body of
/// many megabytes) must not pin its memory for the rest of the run.
const KEEP_AT_MOST: usize = 4 << 20;

/// A shard's end: where its batches come back.
pub struct Pool {
    back: Option<Receiver<Batch>>,
}

/// The aggregator's end: a return channel per shard.
#[derive(Clone, Default)]
pub struct Returns {
    to: Arc<[Sender<Batch>]>,
}

/// A pool per shard, each holding at most `capacity` returned batches (size it with the
/// channel: more than that cannot be in flight at once).
pub fn per_shard(shards: usize, capacity: usize) -> (Vec<Pool>, Returns) {
    let (senders, pools): (Vec<_>, Vec<_>) = (0..shards)
        .map(|_| {
            let (tx, rx) = crossbeam_channel::bounded(capacity);
            (tx, Pool { back: Some(rx) })
        })
        .unzip();
    (pools, Returns { to: senders.into() })
}

impl Pool {
    /// A pool nothing comes back to: every batch is made fresh (tests, fuzz targets).
    pub fn none() -> Self {
        Pool { back: None }
    }

    /// A batch for the frames of one read of `bytes`: a returned one, cleared, when there is
    /// one; else a fresh one, counted (`batches_allocated`), so that `/metrics` shows whether
    /// reuse works.
    pub fn take(&self, shard: usize, source: Source, bytes: usize) -> Batch {
        if let Some(mut batch) = self.back.as_ref().and_then(|rx| rx.try_recv().ok()) {
            batch.recycle(shard, source);
            batch.reserve_for(bytes);
            return batch;
        }
        let mut batch = Batch::for_read(shard, source, bytes);
        batch.counters.incr(Counter::BatchesAllocated);
        batch
    }
}

impl Returns {
    /// Sends a batch back to the shard that made it. A full return channel (or a shard that is
    /// gone) means the batch is simply freed here.
    pub fn give_back(&self, batch: Batch) {
        if batch.records.capacity() > KEEP_AT_MOST {
            return;
        }
        if let Some(tx) = self.to.get(batch.shard) {
            match tx.try_send(batch) {
                Ok(()) | Err(TrySendError::Full(_)) | Err(TrySendError::Disconnected(_)) => {}
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::batch::Identity;

    #[test]
    fn a_returned_batch_comes_back_cleared_with_its_buffers() {
        let (pools, returns) = per_shard(2, 4);
        let mut batch = pools[1].take(1, Source::Tcp, 64 << 10);
        assert_eq!(batch.counters.get(Counter::BatchesAllocated), 1);
        batch.records.extend_from_slice(b"{\"a\":1}\n");
        batch.identities.push(Identity {
            hash: 7,
            start: 0,
            end: 8,
            kind: wire::event::Kind::ZiaWeb,
        });
        batch.counters.incr(Counter::Frames);
        batch.read_at = Some(std::time::Instant::now());
        let records = batch.records.as_ptr();
        let capacity = batch.records.capacity();
        returns.give_back(batch);

        let again = pools[1].take(1, Source::Tls, 1 << 10);
        assert_eq!(
            again.records.as_ptr(),
            records,
            "the same buffer, not a new one"
        );
        assert_eq!(again.records.capacity(), capacity);
        assert!(again.records.is_empty() && again.identities.is_empty());
        assert!(
            again.counters.is_zero(),
            "a reused batch counts nothing of its past"
        );
        assert_eq!(again.source, Source::Tls);
        assert!(again.read_at.is_none());
        // Shard 0 got nothing back: its batch is fresh.
        let fresh = pools[0].take(0, Source::Tcp, 1 << 10);
        assert_eq!(fresh.counters.get(Counter::BatchesAllocated), 1);
    }

    #[test]
    fn a_returned_buffer_too_small_for_the_read_is_replaced_with_room_to_spare() {
        let (pools, returns) = per_shard(1, 4);
        // A buffer sized for small reads, then a large read.
        let mut batch = Batch::for_read(0, Source::Tcp, 1 << 10);
        batch.records = Vec::with_capacity(100 << 10);
        let small = batch.records.capacity();
        returns.give_back(batch);

        let big = pools[0].take(0, Source::Tcp, 256 << 10);
        assert_eq!(big.counters.get(Counter::BatchesAllocated), 0, "reused");
        assert!(big.records.capacity() >= (256 << 10) * 3 / 2);
        assert!(
            big.records.capacity() >= 2 * small,
            "grown as `reserve` would"
        );

        // Large enough: kept as it is.
        let buffer = big.records.as_ptr();
        returns.give_back(big);
        let again = pools[0].take(0, Source::Tcp, 64 << 10);
        assert_eq!(again.records.as_ptr(), buffer);
    }

    #[test]
    fn the_pool_holds_at_most_its_capacity_and_no_huge_buffers() {
        let (pools, returns) = per_shard(1, 2);
        for _ in 0..3 {
            returns.give_back(Batch::for_read(0, Source::Tcp, 1 << 10));
        }
        let mut huge = Batch::for_read(0, Source::Http, 1 << 10);
        huge.records.reserve(KEEP_AT_MOST + 1);
        returns.give_back(huge);
        let reused = (0..4)
            .map(|_| pools[0].take(0, Source::Tcp, 1 << 10))
            .filter(|b| b.counters.get(Counter::BatchesAllocated) == 0)
            .count();
        assert_eq!(reused, 2);
    }

    #[test]
    fn without_returns_every_batch_is_fresh() {
        let pool = Pool::none();
        let batch = pool.take(3, Source::Udp, 100);
        assert_eq!(batch.shard, 3);
        assert_eq!(batch.counters.get(Counter::BatchesAllocated), 1);
    }
}
