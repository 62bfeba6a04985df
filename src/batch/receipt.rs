//! A batch's word, from the aggregator back to its sender, that its records are safe: whole
//! lines in their file (or spilled), and with `[output.nats]` acknowledged by JetStream or in the
//! spool. A crash of the process no longer loses them then.
//!
//! The HTTP input answers 200 only then: Cloud NSS does not send again what it got a 200 for,
//! and records that memory held when the process died would be gone for good. (NSS and LSS
//! over TCP have no such answer; NSS replays what it sent before a reconnect, and the duplicate
//! window drops what was written already.)
//!
//! The sender is woken by the signature, as a shard waiting for room in the channel is woken by
//! the aggregator's take: no polling, so the 200 follows the write at once.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use event_listener::Event;

/// Shared between the sender, which waits, and the aggregator, which signs. One per request,
/// never one per record.
#[derive(Debug, Clone, Default)]
pub struct Receipt(Arc<Inner>);

#[derive(Debug, Default)]
struct Inner {
    signed: AtomicBool,
    event: Event,
}

impl Receipt {
    /// The aggregator's side: the records are safe.
    pub fn sign(&self) {
        self.0.signed.store(true, Ordering::Release);
        self.0.event.notify(usize::MAX);
    }

    /// The sender's side.
    pub fn is_signed(&self) -> bool {
        self.0.signed.load(Ordering::Acquire)
    }

    /// Resolves once signed (the caller bounds the wait with a timer of its own).
    pub async fn signed(&self) {
        loop {
            if self.is_signed() {
                return;
            }
            // Listen first, then look again: a signature in between is not missed.
            let listener = self.0.event.listen();
            if self.is_signed() {
                return;
            }
            listener.await;
        }
    }

    /// No sender waits for it any more (it gave up, and answered 503): signing it is moot.
    pub fn is_abandoned(&self) -> bool {
        Arc::strong_count(&self.0) == 1
    }
}
