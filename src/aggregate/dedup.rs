//! Duplicate records (DESIGN §3): NSS "Duplicate Logs" and LSS replay re-send records after a
//! reconnect, often on another connection and so another shard. The aggregator remembers the
//! identities of the last `capacity` records and drops a record whose identity it has seen.

use std::collections::{HashSet, VecDeque};
use std::hash::BuildHasherDefault;

use wire::device::IdHasher;

/// A bounded window of record identities (already hashes: not hashed again).
pub struct Window {
    seen: HashSet<u128, BuildHasherDefault<IdHasher>>,
    order: VecDeque<u128>,
    capacity: usize,
}

impl Window {
    pub fn new(capacity: usize) -> Self {
        Window {
            seen: HashSet::with_capacity_and_hasher(capacity.min(1 << 16), Default::default()),
            order: VecDeque::new(),
            capacity: capacity.max(1),
        }
    }

    /// True the first time an identity is offered (the record is new), false for a repeat.
    pub fn first(&mut self, identity: u128) -> bool {
        if !self.seen.insert(identity) {
            return false;
        }
        self.order.push_back(identity);
        if self.order.len() > self.capacity {
            if let Some(old) = self.order.pop_front() {
                self.seen.remove(&old);
            }
        }
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn repeats_inside_the_window_are_caught_and_older_ones_forgotten() {
        let mut w = Window::new(3);
        assert!(w.first(1));
        assert!(!w.first(1));
        assert!(w.first(2));
        assert!(w.first(3));
        assert!(w.first(4));
        assert!(w.first(1), "1 left the window");
        assert!(!w.first(4));
        assert!(w.seen.len() <= 3);
    }
}
