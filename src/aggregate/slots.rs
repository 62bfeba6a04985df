//! An index over dense storage: an open-addressing table of `u32` positions into a caller's
//! `Vec`, keyed by a hash the caller computes. The registry and its strings keep their items in
//! flat arrays (a few bytes each, no allocation per item); this is how they find one by key.
//!
//! Eight bytes a slot (the position and the hash's low half), at most three quarters full:
//! a probe compares hashes before it touches the storage, and growing rehashes from the slots
//! alone, never from the storage.
//!
//! Linear probing, and a removal shifts the slots after it back (Knuth's algorithm R) instead of
//! leaving a tombstone: the duplicate window removes an identity for every one it adds, and a
//! table of tombstones must rehash. hashbrown's did, and doubled, for the window of 2^20 in its
//! 2^21 slots after about 9.8 million records: 20 MiB instead of 10, and the aggregator stopped
//! for 34 to 77 ms (`aggregate/dedup.rs`). Sized ahead and never more full than that, a table
//! neither grows nor rehashes.

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
    pub fn find(&self, hash: u64, is: impl FnMut(u32) -> bool) -> Option<u32> {
        self.slot_of(hash, is).map(|at| self.slots[at].0 - 1)
    }

    /// The slot of the position whose hash is `hash` and for which `is` says yes.
    fn slot_of(&self, hash: u64, mut is: impl FnMut(u32) -> bool) -> Option<usize> {
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
                return Some(at);
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

    /// Removes `position`, stored under `hash`; false when it is not there. The slots after it
    /// that a probe would no longer reach across the gap move back into it.
    pub fn remove(&mut self, hash: u64, position: u32) -> bool {
        let Some(mut gap) = self.slot_of(hash, |p| p == position) else {
            return false;
        };
        let mask = self.slots.len() - 1;
        let mut at = gap;
        loop {
            at = (at + 1) & mask;
            let (entry, h) = self.slots[at];
            if entry == 0 {
                break;
            }
            // A slot stays if its home lies cyclically in (gap, at]: its probe starts after the
            // gap. Otherwise its probe passes the gap, which it fills.
            let home = h as usize & mask;
            let stays = if gap <= at {
                gap < home && home <= at
            } else {
                gap < home || home <= at
            };
            if !stays {
                self.slots[gap] = (entry, h);
                gap = at;
            }
        }
        self.slots[gap] = (0, 0);
        self.len -= 1;
        true
    }

    /// Asks the processor for the cache line where a probe for `hash` starts, so that a lookup
    /// some items later does not wait for memory.
    #[inline]
    pub fn prefetch(&self, hash: u64) {
        #[cfg(target_arch = "x86_64")]
        if let Some(slot) = self
            .slots
            .get(hash as u32 as usize & self.slots.len().wrapping_sub(1))
        {
            use std::arch::x86_64::{_mm_prefetch, _MM_HINT_T0};
            // SAFETY: a prefetch only hints; the address is of a slot of the table.
            unsafe { _mm_prefetch::<_MM_HINT_T0>((slot as *const (u32, u32)).cast()) };
        }
        #[cfg(not(target_arch = "x86_64"))]
        let _ = hash;
    }

    #[cfg(test)]
    pub(crate) fn len(&self) -> usize {
        self.len
    }

    /// Bytes held.
    pub fn heap_bytes(&self) -> usize {
        self.slots.capacity() * std::mem::size_of::<(u32, u32)>()
    }

    fn resize(&mut self, slots: usize) {
        // Every slot written now, not zeroed memory the OS maps lazily: a probe that read a page
        // first would map the kernel's zero page, and the insert after it would replace the
        // mapping with a flush of every core's TLB (as the shard's device cache met it).
        let mut table = Vec::with_capacity(slots);
        table.resize(slots, (0, 0));
        let old = std::mem::replace(&mut self.slots, table);
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

    /// Every position the model holds is found where it is, and the counts agree.
    fn agrees(slots: &Slots, model: &std::collections::HashMap<u32, u64>) {
        assert_eq!(slots.len(), model.len());
        for (&position, &hash) in model {
            assert_eq!(slots.find(hash, |p| p == position), Some(position), "lost");
        }
    }

    #[test]
    fn removals_keep_every_other_position_findable_across_the_end_of_the_table() {
        // 64 slots. Hashes whose homes crowd the last slots and the first, so that runs wrap
        // around the end, with low halves that differ above the home bits.
        let mut slots = Slots::with_capacity(32);
        assert_eq!(slots.heap_bytes(), 64 * 8);
        let mut model = std::collections::HashMap::new();
        let mut x = 0x9e37_79b9_7f4a_7c15u64;
        let mut next = || {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x
        };
        for step in 0..200_000u32 {
            let r = next();
            if !model.is_empty() && (model.len() == 32 || r % 3 == 0) {
                let &position = model.keys().nth((r >> 8) as usize % model.len()).unwrap();
                let hash = model.remove(&position).unwrap();
                assert!(slots.remove(hash, position));
                assert!(!slots.remove(hash, position), "removed twice");
            } else {
                let home = [62u64, 63, 0, 1, 5][(r >> 40) as usize % 5];
                let hash = (r & !0x3f) | home;
                slots.insert(hash, step);
                model.insert(step, hash);
            }
            if step % 97 == 0 {
                agrees(&slots, &model);
            }
        }
        agrees(&slots, &model);
        assert_eq!(slots.heap_bytes(), 64 * 8, "never grew");
    }

    #[test]
    fn a_shared_hash_is_told_apart_by_the_caller() {
        let mut slots = Slots::with_capacity(4);
        slots.insert(7, 1);
        slots.insert(7, 2);
        assert_eq!(slots.find(7, |p| p == 2), Some(2));
        assert_eq!(slots.find(7, |p| p == 3), None);
        assert!(!slots.remove(7, 3));
        assert!(!slots.remove(8, 1));
        assert!(slots.remove(7, 1));
        assert_eq!(slots.find(7, |p| p == 2), Some(2));
        assert_eq!(slots.len(), 1);
        assert!(!Slots::default().remove(7, 1));
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
