//! A shard as its tasks see it: one glommio executor's parsing state, counters, limits and its end
//! of the aggregator's channel. Its parsing state is its own; what it shares is the hand-off of
//! a hot connection's reads to idle shards ([`handoff`]) and the stop signal ([`Shutdown`]), and
//! what leaves a shard leaves as a [`Batch`]. The executors (`executor`) run the shards; the
//! inputs run on them.

pub mod budget;
pub mod handoff;
pub mod notices;
pub mod shutdown;

use std::cell::{Cell, RefCell};
use std::future::Future;
use std::sync::Arc;
use std::time::{Duration, Instant};

use glommio::sync::{Gate, Semaphore};

use crate::batch::channel::{BatchSender, Offer};
use crate::batch::counters::{Counter, Counters};
use crate::batch::pool::Pool;
use crate::batch::{Batch, PerInput, Source};
use crate::pipeline::Pipeline;
use budget::{Budget, Charge};
use handoff::{Blocks, Exchange};
use notices::Notices;
use shutdown::Shutdown;

#[derive(Debug, Clone, Copy)]
pub struct ShardLimits {
    pub max_frame_bytes: usize,
    pub max_connections: usize,
    pub idle_timeout: Duration,
    /// Bytes of connection buffers beyond each connection's first (`limits.buffer_budget_bytes`).
    pub buffer_budget: usize,
}

/// A shard's state, shared by its tasks (all on one thread).
pub struct Shard {
    pub index: usize,
    pub limits: ShardLimits,
    pub pipeline: RefCell<Pipeline>,
    pub budget: Budget,
    /// Rate limits of the log lines about peers.
    pub notices: Notices,
    /// Counts made outside a connection's batch (accepts, refusals), per input, sent with the
    /// next batch of that input or by the ticker.
    pending: RefCell<PerInput>,
    /// Connections open on this shard, for `max_connections`.
    open: Cell<usize>,
    /// Told when a connection ends: an accept at the limit waits for its slot.
    slot_freed: event_listener::Event,
    /// Since when accepts have found the shard at `max_connections` with no slot freed: the
    /// patience of [`Shard::slot_within`] runs from there for all of them.
    full_since: Cell<Option<Instant>>,
    /// Every connection task enters it; the drain closes it and waits for them to finish.
    connections: Gate,
    tx: BatchSender,
    /// Where this shard's batches come back from the aggregator, for reuse.
    pool: Pool,
    /// The other shards' inboxes, for a connection that brings more than this shard parses;
    /// `None` with one shard.
    pub exchange: Option<Arc<Exchange>>,
    /// Read buffers lent to other shards come back here.
    pub blocks: Blocks,
    /// Connections waiting for room in the channel take turns, first come first served: without
    /// it a busy connection that finds room at once can starve one that has been waiting, past
    /// its deadline.
    turn: Semaphore,
    pub shutdown: Arc<Shutdown>,
}

/// A connection's place in [`Shard::open`], given back when the task ends however it ends.
struct Open<'a>(&'a Shard);

impl Drop for Open<'_> {
    fn drop(&mut self) {
        self.0.open.set(self.0.open.get() - 1);
        self.0.slot_freed.notify(1);
    }
}

impl Shard {
    pub fn new(
        index: usize,
        limits: ShardLimits,
        pipeline: Pipeline,
        tx: BatchSender,
        shutdown: Arc<Shutdown>,
    ) -> Self {
        Shard {
            index,
            limits,
            pipeline: RefCell::new(pipeline),
            budget: Budget::new(limits.buffer_budget),
            notices: Notices::default(),
            pending: RefCell::new(PerInput::default()),
            open: Cell::new(0),
            slot_freed: event_listener::Event::new(),
            full_since: Cell::new(None),
            connections: Gate::new(),
            tx,
            pool: Pool::none(),
            exchange: None,
            blocks: Blocks::new(0),
            turn: Semaphore::new(1),
            shutdown,
        }
    }

    /// The shard takes its batches from `pool` (the aggregator returns them there).
    pub fn with_pool(mut self, pool: Pool) -> Self {
        self.pool = pool;
        self
    }

    /// Busy connections of this shard may hand reads to the other shards of `exchange`.
    pub fn with_exchange(mut self, exchange: Arc<Exchange>) -> Self {
        let peers = exchange.shards().saturating_sub(1);
        if peers > 0 {
            self.blocks = Blocks::new(handoff::OUT_PER_PEER * peers);
            self.exchange = Some(exchange);
        }
        self
    }

    /// An empty batch for the frames of a read of `bytes` on `source`: one the aggregator gave
    /// back when there is one, so that the shard does not fault in fresh pages for every read.
    pub fn batch(&self, source: Source, bytes: usize) -> Batch {
        self.pool.take(self.index, source, bytes)
    }

    /// Counts something that happened on `source` outside a batch.
    pub fn count(&self, source: Source, f: impl FnOnce(&mut Counters)) {
        f(&mut self.pending.borrow_mut()[source as usize]);
    }

    pub fn open_connections(&self) -> usize {
        self.open.get()
    }

    /// Whether fewer than `max_connections` are open, waiting for one to end up to `patience`
    /// after the shard first found itself full. A burst of short connections (a sender that
    /// connects for every line) can reach the limit for the moment its closed connections take
    /// to end; their slots come back within it. The patience is shared: accepts wait in turn,
    /// so a flood of held connections must not make each one after the first wait it again.
    pub async fn slot_within(&self, patience: Duration) -> bool {
        let free = || self.open.get() < self.limits.max_connections;
        if free() {
            self.full_since.set(None);
            return true;
        }
        let since = self.full_since.get().unwrap_or_else(Instant::now);
        self.full_since.set(Some(since));
        let patience = patience.saturating_sub(since.elapsed());
        let deadline = glommio::timer::sleep(patience);
        futures_lite::pin!(deadline);
        while !free() {
            let freed = self.slot_freed.listen();
            if free() {
                break;
            }
            let woke = futures_lite::future::or(
                async {
                    freed.await;
                    true
                },
                async {
                    (&mut deadline).await;
                    false
                },
            );
            if !woke.await {
                break;
            }
        }
        let got = free();
        if got {
            self.full_since.set(None);
        }
        got
    }

    /// Runs a connection's task inside the shard's gate, counted as open until it ends. Returns
    /// false (and drops the task) once the gate is closed.
    pub fn spawn_connection(
        self: &std::rc::Rc<Self>,
        task: impl Future<Output = ()> + 'static,
    ) -> bool {
        let shard = self.clone();
        self.open.set(self.open.get() + 1);
        let spawned = self.spawn_in_gate(async move {
            let _open = Open(&shard);
            task.await;
        });
        if !spawned {
            self.open.set(self.open.get() - 1);
        }
        spawned
    }

    /// Runs a task inside the shard's gate, like a connection's, but holding none of
    /// `max_connections`: a peer outside the allow-list being answered, which the HTTP input
    /// bounds by a count of its own so that it never takes an admitted peer's slot. Returns
    /// false (and drops the task) once the gate is closed.
    pub fn spawn_outside_limit(&self, task: impl Future<Output = ()> + 'static) -> bool {
        self.spawn_in_gate(task)
    }

    fn spawn_in_gate(&self, task: impl Future<Output = ()> + 'static) -> bool {
        match self.connections.spawn(task) {
            Ok(task) => {
                task.detach();
                true
            }
            Err(_) => false,
        }
    }

    /// Waits until every connection task has ended; new ones are refused from now on.
    pub async fn close_connections(&self) {
        // Closing twice is the only error, and nothing closes it twice.
        let _ = self.connections.close().await;
    }

    /// Hands a batch to the aggregator. When the channel is full this waits, and the caller's
    /// socket is not read meanwhile: TCP pushes back on the sender instead of anything being
    /// dropped. Returns false only when the aggregator is gone.
    pub async fn send(&self, mut batch: Batch) -> bool {
        self.take_pending(&mut batch);
        if batch.is_empty() {
            return true;
        }
        // The semaphore is never closed; were it, the batch would still go, only unordered.
        let _turn = self.turn.acquire_permit(1).await;
        self.tx.send(batch).await
    }

    /// [`Shard::send`], giving up after `limit`: `None` then, the batch dropped untaken. The
    /// counts pending stay pending for the ticker (merged into a batch that may be dropped,
    /// they would be lost).
    pub async fn send_within(&self, batch: Batch, limit: Duration) -> Option<bool> {
        if batch.is_empty() {
            return Some(true);
        }
        let send = async {
            let _turn = self.turn.acquire_permit(1).await;
            Some(self.tx.send(batch).await)
        };
        futures_lite::future::or(send, async {
            glommio::timer::sleep(limit).await;
            None
        })
        .await
    }

    /// Offers a batch without waiting (for inputs that cannot push back). The pending counts
    /// stay pending, for the ticker: a batch the full channel hands back is held until there is
    /// room, and counts moved into it (the datagrams UDP drops meanwhile) would wait with it.
    pub fn offer(&self, batch: Batch) -> Offer {
        if batch.is_empty() {
            return Offer::Sent;
        }
        self.tx.offer(batch)
    }

    /// Resolves when the aggregator next takes a batch.
    pub async fn room(&self) {
        self.tx.room().await;
    }

    /// Grows `charge` to `bytes` of the shard's buffer budget, waiting at most `patience` (and
    /// counting the wait) while others hold it. False when the budget stayed short.
    pub async fn grow(
        &self,
        source: Source,
        charge: &mut Charge<'_>,
        bytes: usize,
        patience: Duration,
    ) -> bool {
        if charge.try_grow(bytes) {
            return true;
        }
        self.count(source, |c| c.incr(Counter::BufferWaits));
        charge.grow(bytes, patience).await.is_ok()
    }

    /// Sends the counts made outside a connection's batch (accepts, refusals, handshake
    /// failures, datagrams dropped) every `period`, so that `/metrics` shows them while no record
    /// flows: a refused feed is exactly the one that sends none. Offered on the side channel,
    /// which the aggregator reads even while it takes no batch, never awaited: a full one keeps
    /// them for the next tick or the next batch. Ends when the drain begins (the drain sends
    /// the last counts itself).
    pub async fn send_counts_every(&self, period: Duration) {
        loop {
            let drained = futures_lite::future::or(
                async {
                    glommio::timer::sleep(period).await;
                    false
                },
                async {
                    self.shutdown.wait().await;
                    true
                },
            )
            .await;
            if drained {
                self.notices.say_held();
                return;
            }
            self.notices.say_overdue();
            for source in Source::ALL {
                if self.pending.borrow()[source as usize].is_zero() {
                    continue;
                }
                let mut batch = Batch::counts(self.index, source);
                self.take_pending(&mut batch);
                if let Err(batch) = self.tx.offer_counts(batch) {
                    self.pending.borrow_mut()[source as usize].merge(&batch.counters);
                }
            }
        }
    }

    /// Sends whatever counts are pending, one batch per input: the drain's last word.
    pub async fn send_pending(&self) {
        for source in Source::ALL {
            self.send(Batch::counts(self.index, source)).await;
        }
    }

    fn take_pending(&self, batch: &mut Batch) {
        let pending = std::mem::take(&mut self.pending.borrow_mut()[batch.source as usize]);
        batch.counters.merge(&pending);
    }
}
