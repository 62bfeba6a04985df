//! An index over dense storage: an open-addressing table of `u32` positions into a caller's
//! `Vec`, keyed by a hash the caller computes. The registry and its strings keep their items in
//! flat arrays (a few bytes each, no allocation per item); this is how they find one by key.
//!
//! Eight bytes a slot (the position and the hash's low half), at most three quarters full:
//! a probe compares hashes before it touches the storage, and growing rehashes from the slots
//! alone, never from the storage.

/// A table of positions, found by hash.
#[derive(Default)]
pub struct Slots {
    /// (position + 1, low 32 bits of the hash); position + 1 = 0 is an empty slot.
    slots: Vec<(u32, u32)>,
    len: usize,
}

/// The fewest slots a table that holds anything has.
const MIN_SLOTS: usize = 16;

impl Slots {
    /// A table that holds `n` positions without growing.
    pub fn with_capacity(n: usize) -> Slots {
        let mut slots = Slots::default();
        if n > 0 {
            slots.resize(slots_for(n));
        }
        slots
    }

    /// The position whose hash is `hash` and for which `is` says yes.
    pub fn find(&self, hash: u64, mut is: impl FnMut(u32) -> bool) -> Option<u32> {
        if self.slots.is_empty() {
            return None;
        }
        let mask = self.slots.len() - 1;
        let low = hash as u32;
        let mut at = low as usize & mask;
        loop {
            let (entry, h) = self.slots[at];
            if entry == 0 {
                return None;
            }
            if h == low && is(entry - 1) {
                return Some(entry - 1);
            }
            at = (at + 1) & mask;
        }
    }

    /// Adds `position` under `hash`; the caller has checked that it is not there yet.
    pub fn insert(&mut self, hash: u64, position: u32) {
        if (self.len + 1) * 4 > self.slots.len() * 3 {
            self.resize(slots_for(self.len + 1).max(self.slots.len() * 2));
        }
        place(&mut self.slots, hash as u32, position + 1);
        self.len += 1;
    }

    /// Bytes held.
    pub fn heap_bytes(&self) -> usize {
        self.slots.capacity() * std::mem::size_of::<(u32, u32)>()
    }

    fn resize(&mut self, slots: usize) {
        let old = std::mem::replace(&mut self.slots, vec![(0, 0); slots]);
        for (entry, h) in old.into_iter().filter(|(entry, _)| *entry != 0) {
            place(&mut self.slots, h, entry);
        }
    }
}

/// Slots for `n` positions at most three quarters full: a power of two.
fn slots_for(n: usize) -> usize {
    (n + n / 3 + 1).next_power_of_two().max(MIN_SLOTS)
}

fn place(slots: &mut [(u32, u32)], low: u32, entry: u32) {
    let mask = slots.len() - 1;
    let mut at = low as usize & mask;
    while slots[at].0 != 0 {
        at = (at + 1) & mask;
    }
    slots[at] = (entry, low);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_what_was_inserted_across_growth_and_collisions() {
        let keys: Vec<u64> = (0..10_000u64)
            .map(|k| k.wrapping_mul(0x9e37_79b9))
            .collect();
        let mut slots = Slots::default();
        for (i, k) in keys.iter().enumerate() {
            // Every fourth key shares its hash with the one before: found by the storage.
            let hash = if i % 4 == 3 { keys[i - 1] } else { *k };
            assert_eq!(slots.find(hash, |p| keys[p as usize] == *k), None);
            slots.insert(hash, i as u32);
        }
        for (i, k) in keys.iter().enumerate() {
            let hash = if i % 4 == 3 { keys[i - 1] } else { *k };
            assert_eq!(slots.find(hash, |p| keys[p as usize] == *k), Some(i as u32));
        }
        assert_eq!(slots.find(7, |_| false), None);
        assert!(slots.heap_bytes() <= 16_384 * 8);
    }

    #[test]
    fn sized_ahead_does_not_grow() {
        let mut slots = Slots::with_capacity(1000);
        let before = slots.heap_bytes();
        for i in 0..1000u32 {
            slots.insert(u64::from(i) * 7919, i);
        }
        assert_eq!(slots.heap_bytes(), before);
    }
}
