//! The aggregator's end of the NATS side: it encodes records, device events and device merges
//! as frames and hands them over every few milliseconds or megabyte, never waiting. What the channel cannot take
//! yet stays here and counts in the aggregator's backlog, which then stops taking batches (the
//! same push-back as a sink that cannot write).
//!
//! Here the outbox and its hand-over; records and device events are encoded in `encode`, the
//! registry bucket's merges are gathered and swept in `merges`.

mod encode;
mod merges;
#[cfg(test)]
mod tests;

use std::collections::{HashMap, HashSet, VecDeque};
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::sync::mpsc::{error::TrySendError, Sender};

use super::frame::Frames;
use super::Link;

/// A batch of frames this large is handed over without waiting for the next batch.
const HAND_OVER_AT: usize = 1 << 20;

pub struct Outbox {
    tx: Option<Sender<Frames>>,
    /// "<prefix>.records.", to which the kind is appended.
    records: Vec<u8>,
    /// "<prefix>.devices".
    devices: Vec<u8>,
    /// Frames being gathered.
    building: Frames,
    /// The batch being written is large enough for its records buffer to be taken
    /// ([`Outbox::begin`]).
    by_reference: bool,
    /// Records of the batch being written point into its records buffer, which becomes the
    /// next of `building.bodies` ([`Outbox::take_records`]).
    body_pending: bool,
    /// Frames the channel had no room for, oldest first.
    waiting: VecDeque<Frames>,
    waiting_bytes: usize,
    link: Arc<Link>,
    /// Reused: a record's identity as hex, a device as JSON.
    id: [u8; 32],
    json: Vec<u8>,
    /// What each device was when last handed for a merge (`merges::fingerprint`).
    merged: HashMap<u64, u64>,
    /// Devices changed and not yet merged, each once, in the order they first changed.
    changed: HashSet<u64>,
    changed_order: VecDeque<u64>,
    last_sweep: Instant,
}

impl Outbox {
    pub fn new(tx: Sender<Frames>, prefix: &str, link: Arc<Link>) -> Outbox {
        Outbox {
            tx: Some(tx),
            records: format!("{prefix}.records.").into_bytes(),
            devices: format!("{prefix}.devices").into_bytes(),
            building: Frames::default(),
            by_reference: false,
            body_pending: false,
            waiting: VecDeque::new(),
            waiting_bytes: 0,
            link,
            id: [0; 32],
            json: Vec::new(),
            merged: HashMap::new(),
            changed: HashSet::new(),
            changed_order: VecDeque::new(),
            last_sweep: Instant::now(),
        }
    }

    /// Hands over what was gathered, and what waited, as far as the channel has room.
    pub fn send(&mut self) {
        debug_assert!(
            !self.body_pending,
            "a hand-over between a batch and its records"
        );
        if !self.building.bytes.is_empty() {
            // Not a megabyte reserved up front: many batches are one shard batch, far smaller.
            let next = Frames {
                bytes: self.link.spare().unwrap_or_default(),
                ..Frames::default()
            };
            let full = std::mem::replace(&mut self.building, next);
            self.waiting_bytes += full.size();
            self.waiting.push_back(full);
        }
        let Some(tx) = &self.tx else {
            return;
        };
        while let Some(chunk) = self.waiting.pop_front() {
            let len = chunk.size();
            match tx.try_send(chunk) {
                Ok(()) => self.waiting_bytes -= len,
                Err(TrySendError::Full(chunk)) => {
                    self.waiting.push_front(chunk);
                    return;
                }
                Err(TrySendError::Closed(_)) => {
                    // The NATS thread is gone (it only ends after `close`): nothing can take
                    // these, and holding them would stall the collector for good.
                    tracing::error!("output.nats: the NATS thread stopped; {len} bytes dropped");
                    self.waiting_bytes -= len;
                }
            }
        }
    }

    /// True when a batch was gathered past the size worth handing over at once (the records
    /// buffers it holds count: its frames alone may be a few bytes per record).
    pub fn is_full(&self) -> bool {
        self.building.size() >= HAND_OVER_AT
    }

    /// The NATS side's counts, for the snapshot.
    pub fn figures(&self) -> super::Figures {
        self.link.figures()
    }

    /// Bytes not yet handed over.
    pub fn backlog(&self) -> usize {
        self.waiting_bytes + self.building.size()
    }

    /// True when frames wait for room in the channel: the NATS thread's queue is full.
    pub fn is_waiting(&self) -> bool {
        !self.waiting.is_empty()
    }

    /// Waits, for at most `at_most`, until the NATS thread takes a hand-over and so makes room
    /// in the channel; false when it took none in that time. The aggregator, held back by
    /// [`Outbox::backlog`], then hands over again at once: room comes back as acknowledgements
    /// do, milliseconds apart. Waiting the 250 ms a sink that cannot write is given left
    /// nats-server and the collector idle most of the time: at full speed NATS mode took 33,515
    /// to 35,038 events a second against 296,334 to 375,247 files alone (`perf/nats.sh --runs 3
    /// --count 400000`), and 63,139 to 78,304 with this wait.
    pub fn wait_for_room(&self, at_most: Duration) -> bool {
        self.link.wait_taken(at_most)
    }

    /// Where in the records sink the records end that NATS keeps safe, acknowledged or spooled
    /// ([`super::queue::Queue::durable_end`]): the duplicate window remembers records across a
    /// crash only up to there, or a collector killed with records in the NATS thread's memory
    /// would drop the feed's replay of them as repeats, and they would never reach the stream.
    pub fn durable_end(&self) -> u64 {
        self.link.stats.durable_end.load(Ordering::Acquire)
    }

    /// After [`Outbox::close`]: waits until the NATS thread has ended (it publishes for at most
    /// its drain time, then spools the rest), so that the duplicate window's last save
    /// remembers every record. False when it did not end in time.
    pub fn wait_finished(&self) -> bool {
        self.link
            .wait_finished(super::publish::DRAIN_TIMEOUT + Duration::from_secs(5))
    }

    /// At shutdown: hands over everything, waiting for room (the spool now takes it even when
    /// full), then closes the channel so that the NATS thread finishes.
    pub fn close(&mut self) {
        self.link.closing.store(true, Ordering::SeqCst);
        if !self.building.bytes.is_empty() {
            let last = std::mem::take(&mut self.building);
            self.waiting_bytes += last.size();
            self.waiting.push_back(last);
        }
        if let Some(tx) = self.tx.take() {
            for chunk in self.waiting.drain(..) {
                if tx.blocking_send(chunk).is_err() {
                    tracing::error!("output.nats: the NATS thread stopped before the drain");
                    break;
                }
            }
        }
        self.waiting.clear();
        self.waiting_bytes = 0;
    }
}
