//! The shard's budget for connection buffers (`limits.buffer_budget_bytes`): every connection
//! reads into a first buffer of its own, bounded by `max_connections`; whatever a connection holds
//! beyond that (a frame in progress that outgrew it, an HTTP body) is charged here, and past the
//! budget the read that needs more waits until another connection gives some back. Memory then
//! follows what the shard can hold, not how many peers declare large frames at once.
//!
//! A holder that waits for more while keeping what it has can stall with others doing the same,
//! until their deadlines: an HTTP request therefore takes the most it may need in one
//! [`Charge::grow`] before its body holds any of the budget (`input::http::request`).

use std::time::Duration;

use glommio::sync::Semaphore;

/// The budget, in bytes.
pub struct Budget {
    units: Semaphore,
}

impl Budget {
    pub fn new(bytes: usize) -> Budget {
        Budget {
            units: Semaphore::new(bytes as u64),
        }
    }

    /// A connection's (or a request's) share, empty to begin with.
    pub fn charge(&self) -> Charge<'_> {
        Charge {
            budget: self,
            held: 0,
        }
    }

    /// Bytes not charged to anyone.
    pub fn available(&self) -> u64 {
        self.units.available()
    }
}

/// Bytes charged to one holder, given back when it is dropped.
pub struct Charge<'a> {
    budget: &'a Budget,
    held: u64,
}

/// The budget stayed short for as long as the holder could wait.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Short;

impl Charge<'_> {
    /// Grows the charge to `bytes` if the budget has them now.
    pub fn try_grow(&mut self, bytes: usize) -> bool {
        let more = (bytes as u64).saturating_sub(self.held);
        if more == 0 {
            return true;
        }
        if self.budget.units.try_acquire(more).unwrap_or(false) {
            self.held += more;
            true
        } else {
            false
        }
    }

    /// Grows the charge to `bytes`, waiting at most `patience` for others to give some back.
    /// Waiters are not served strictly in order: a newcomer queues behind them, but when bytes
    /// come back glommio's semaphore (0.9) wakes every waiter they cover, in order, skipping
    /// those they do not, so smaller waiters may pass a larger one. A large claim (a whole HTTP
    /// body's) may therefore wait while smaller ones go by, until its patience runs out: then
    /// `Short`, and the HTTP request is answered 503.
    pub async fn grow(&mut self, bytes: usize, patience: Duration) -> Result<(), Short> {
        let more = (bytes as u64).saturating_sub(self.held);
        if more == 0 {
            return Ok(());
        }
        let acquired = futures_lite::future::or(
            async { self.budget.units.acquire(more).await.is_ok() },
            async {
                glommio::timer::sleep(patience).await;
                false
            },
        )
        .await;
        if acquired {
            self.held += more;
            Ok(())
        } else {
            Err(Short)
        }
    }

    /// Gives back all but `bytes`.
    pub fn shrink(&mut self, bytes: usize) {
        let less = self.held.saturating_sub(bytes as u64);
        self.budget.units.signal(less);
        self.held -= less;
    }
}

impl Drop for Charge<'_> {
    fn drop(&mut self) {
        self.budget.units.signal(self.held);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_charge_waits_for_bytes_given_back_and_gives_its_own_back() {
        glommio::LocalExecutor::default().run(async {
            let budget = Budget::new(100);
            let mut a = budget.charge();
            assert!(a.try_grow(80));
            let mut b = budget.charge();
            assert!(!b.try_grow(30), "only 20 left");
            assert_eq!(
                b.grow(30, Duration::from_millis(20)).await,
                Err(Short),
                "nobody gave any back"
            );
            a.shrink(50);
            assert_eq!(budget.available(), 50);
            b.grow(30, Duration::from_secs(5)).await.expect("30 of 50");
            drop(a);
            drop(b);
            assert_eq!(budget.available(), 100);
        });
    }
}
