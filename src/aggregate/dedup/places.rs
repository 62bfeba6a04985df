//! The duplicate window's table: where in the ring each identity is, found by its hash.
//!
//! hashbrown's table did this before, and it grew twice over in a running collector. A removal
//! there leaves a tombstone where the probe group is full, and once tombstones have used up the
//! room for inserts, the table rehashes; it rehashes in place only when at most half full, so a
//! window of 2^20 identities in its 2^21 slots doubled to 2^22 after about ten million records:
//! 20 MiB instead of 10, and the aggregator stopped for 34 to 77 ms while every batch waited.
//! While it first grew to hold the window, its last doubling had stopped it for 24 to 61 ms.
//!
//! This table has its final size from the start, at most half full, and no tombstones: linear
//! probing, and a removal shifts the slots after it back (Knuth's algorithm R), so a probe
//! never passes an empty slot that once held something. A slot is 8 bytes: the low 32 bits of
//! the identity's hash, which name its home slot and sort out nearly every other identity
//! without reading the ring, then the place. Half full, finding that an identity is new (what
//! nearly every record asks) reads about 2.5 slots on average, mostly within the one cache line
//! that [`Places::prefetch`] fetches ahead.

/// An empty slot: a full one holds its place plus one.
const EMPTY: u64 = 0;

/// Ring places beside their identities' hashes, in a table at most half full.
pub struct Places {
    slots: Box<[u64]>,
    /// Slots less one: their count is a power of two.
    mask: usize,
    len: usize,
}

/// The largest window a table can serve: its slots, twice as many, must be named by 32 bits.
pub const MOST: usize = 1 << 30;

impl Places {
    /// Room for `capacity` places (at most [`MOST`]), in twice as many slots.
    ///
    /// Every slot is written now: a slot read before its page was first written maps the
    /// kernel's zero page, and the write after it replaces the mapping with a flush of every
    /// core's TLB (the cost the shard's device cache met, `pipeline/devices.rs`). That makes the
    /// table's memory resident from the start, 16 MiB for the default window; filled at random,
    /// it would be within a few thousand records anyway.
    pub fn new(capacity: usize) -> Places {
        let slots = (2 * capacity.clamp(1, MOST)).next_power_of_two();
        let mut table = Vec::with_capacity(slots);
        table.resize(slots, EMPTY);
        Places {
            slots: table.into_boxed_slice(),
            mask: slots - 1,
            len: 0,
        }
    }

    #[cfg(test)]
    pub fn len(&self) -> usize {
        self.len
    }

    /// Slots in all, each of 8 bytes.
    #[cfg(test)]
    pub fn slots(&self) -> usize {
        self.slots.len()
    }

    /// Asks the processor for the cache line where a lookup of `hash` starts, so that a lookup
    /// some records later does not wait for memory.
    #[inline]
    pub fn prefetch(&self, hash: u64) {
        #[cfg(target_arch = "x86_64")]
        {
            use std::arch::x86_64::{_mm_prefetch, _MM_HINT_T0};
            let slot = &self.slots[self.home(hash)];
            // SAFETY: a prefetch only hints; the address is of a slot of the table.
            unsafe { _mm_prefetch::<_MM_HINT_T0>((slot as *const u64).cast()) };
        }
        #[cfg(not(target_arch = "x86_64"))]
        let _ = hash;
    }

    /// The place stored under `hash` for which `is` says yes (it compares the identity there),
    /// as the slot it is in.
    #[inline]
    pub fn find(&self, hash: u64, mut is: impl FnMut(u32) -> bool) -> Option<usize> {
        let tag = hash as u32;
        let mut i = self.home(hash);
        loop {
            let slot = self.slots[i];
            if slot == EMPTY {
                return None;
            }
            if (slot >> 32) as u32 == tag && is(place(slot)) {
                return Some(i);
            }
            i = (i + 1) & self.mask;
        }
    }

    /// Stores `place` under `hash`. The caller keeps to the capacity: the table is then never
    /// more than half full, and a probe always meets an empty slot.
    #[inline]
    pub fn insert(&mut self, hash: u64, place: u32) {
        debug_assert!(self.len < self.slots.len() / 2);
        let mut i = self.home(hash);
        while self.slots[i] != EMPTY {
            i = (i + 1) & self.mask;
        }
        self.slots[i] = (hash << 32) | (u64::from(place) + 1);
        self.len += 1;
    }

    /// Empties slot `i` (one [`Places::find`] returned), moving back the slots after it that
    /// their probes would no longer reach across the gap.
    #[inline]
    pub fn remove(&mut self, mut i: usize) {
        debug_assert_ne!(self.slots[i], EMPTY);
        let mut j = i;
        loop {
            j = (j + 1) & self.mask;
            let slot = self.slots[j];
            if slot == EMPTY {
                break;
            }
            // A slot stays where it is if its home lies cyclically in (i, j]: its probe starts
            // after the gap. Otherwise its probe passes the gap, which it fills.
            let home = (slot >> 32) as usize & self.mask;
            let stays = if i <= j {
                i < home && home <= j
            } else {
                i < home || home <= j
            };
            if !stays {
                self.slots[i] = slot;
                i = j;
            }
        }
        self.slots[i] = EMPTY;
        self.len -= 1;
    }

    /// The home slot of a hash: its low bits, which the slot keeps (the table has at most
    /// 2^31 slots).
    #[inline]
    fn home(&self, hash: u64) -> usize {
        (hash as u32 as usize) & self.mask
    }
}

/// The ring place a full slot holds.
#[inline]
fn place(slot: u64) -> u32 {
    (slot as u32).wrapping_sub(1)
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use super::*;

    /// Every place in the table, as the model holds them: found where it is, and nothing else.
    fn agrees(table: &Places, model: &HashMap<u32, u64>) {
        assert_eq!(table.len(), model.len());
        for (&place, &hash) in model {
            let found = table.find(hash, |p| p == place);
            assert!(found.is_some(), "place {place} lost");
        }
    }

    #[test]
    fn removals_keep_every_other_place_findable_across_the_end_of_the_table() {
        // 64 slots. Hashes whose homes crowd the last slots and the first, so that runs wrap
        // around the end, with tags that differ above the home bits.
        let mut table = Places::new(32);
        assert_eq!(table.slots(), 64);
        let mut model: HashMap<u32, u64> = HashMap::new();
        let mut x = 0x9e37_79b9_7f4a_7c15u64;
        let mut next = || {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x
        };
        for step in 0..200_000u32 {
            let r = next();
            let full = model.len() == 32;
            if !model.is_empty() && (full || r % 3 == 0) {
                // Remove one at random.
                let &place = model.keys().nth((r >> 8) as usize % model.len()).unwrap();
                let hash = model.remove(&place).unwrap();
                let i = table.find(hash, |p| p == place).unwrap();
                table.remove(i);
            } else {
                let home = [62u64, 63, 0, 1, 5][(r >> 40) as usize % 5];
                let hash = (r & !0x3f) | home;
                table.insert(hash, step);
                model.insert(step, hash);
            }
            if step % 97 == 0 {
                agrees(&table, &model);
            }
        }
        agrees(&table, &model);
    }

    #[test]
    fn a_tag_that_matches_is_checked_by_the_caller() {
        let mut table = Places::new(4);
        // Two identities with one hash: the caller's comparison tells them apart.
        table.insert(7, 1);
        table.insert(7, 2);
        assert!(table.find(7, |p| p == 2).is_some());
        assert!(table.find(7, |p| p == 3).is_none());
        assert!(table.find(8, |_| true).is_none());
        let i = table.find(7, |p| p == 1).unwrap();
        table.remove(i);
        assert!(table.find(7, |p| p == 2).is_some());
        assert_eq!(table.len(), 1);
    }
}
