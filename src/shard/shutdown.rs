//! The drain signal: set once (by a signal, or by whoever runs the collector in-process) and
//! awaited by every listener and connection on every shard, without polling.

use std::sync::atomic::{AtomicBool, Ordering};

use event_listener::Event;

/// Set once when the collector starts draining; every shard's tasks await it.
#[derive(Default)]
pub struct Shutdown {
    draining: AtomicBool,
    begun: Event,
}

impl Shutdown {
    pub fn begin(&self) {
        self.draining.store(true, Ordering::SeqCst);
        self.begun.notify(usize::MAX);
    }

    pub fn is_draining(&self) -> bool {
        self.draining.load(Ordering::SeqCst)
    }

    /// Resolves once a drain has begun.
    pub async fn wait(&self) {
        loop {
            if self.is_draining() {
                return;
            }
            // Listen first, then look again: a drain begun in between is not missed.
            let begun = self.begun.listen();
            if self.is_draining() {
                return;
            }
            begun.await;
        }
    }
}
