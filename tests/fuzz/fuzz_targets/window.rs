//! The duplicate window (`aggregate::dedup::Window`, its table of places an `aggregate::slots`
//! table: linear probing with backward-shift removal, hand-written) against a set and a queue: an
//! identity offered is new exactly when the model has not seen it among the last `capacity` new
//! ones.
//!
//! Input: `[capacity, then 3 bytes per offer…]`. Each offer's identity is built from its bytes so
//! that many share a home slot (the table's hash is the identity's halves folded, and its home is
//! the low bits) while differing above it, and so that some repeat: the probing, the wrap around
//! the table's end and the removals that shift slots back are what a random identity rarely
//! reaches.
#![no_main]

use std::collections::{HashSet, VecDeque};

use ztel::aggregate::dedup::Window;

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let Some((&capacity, offers)) = data.split_first() else {
        return;
    };
    let capacity = usize::from(capacity % 64) + 1;
    let mut window = Window::new(capacity);
    let (mut seen, mut order) = (HashSet::new(), VecDeque::new());
    for (i, offer) in offers.chunks_exact(3).enumerate() {
        let [home, above, high] = [offer[0], offer[1], offer[2]].map(u128::from);
        let identity = home | above << 40 | high << 64;
        if let Some(ahead) = offers.get(3 * (i + 2)..3 * (i + 3)) {
            // A hint only, for an identity offered later: it must change nothing.
            window.prefetch(u128::from(ahead[0]) | u128::from(ahead[2]) << 64, 2);
        }
        let new = !seen.contains(&identity);
        if new {
            seen.insert(identity);
            order.push_back(identity);
            if order.len() > capacity {
                let oldest = order.pop_front().expect("the queue is not empty");
                seen.remove(&oldest);
            }
        }
        assert_eq!(window.first(identity, 0), new, "offer {i}: {identity:#x}");
        assert_eq!(window.len(), order.len());
    }
});
