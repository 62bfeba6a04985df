//! Where the attribution table keeps its entries, and the two ways a sighting or a lookup
//! finds them: by 4-tuple and by connection id.
//!
//! Built for bytes per entry. Entries live in a vector of slots (reused once freed) rather
//! than a map keyed by sequence number; the indexes hold 4-byte slots and find their keys in
//! the entries themselves, so neither a 4-tuple nor a connection id is stored twice:
//! - `by_key` holds the newest entry of each 4-tuple, and each entry the next older one on its
//!   key (at most `PER_KEY` long, and most keys hold one);
//! - `by_connection` holds, per connection id, the entry last recorded with it.

use std::collections::hash_map::RandomState;
use std::hash::BuildHasher;

use hashbrown::HashTable;

use super::entry::{Entry, Slot, NIL};
use super::interner::Interner;
use super::FlowKey;

#[derive(Debug, Default)]
pub(super) struct Store {
    slots: Vec<Option<Entry>>,
    /// The most entries the table holds: `slots` never grows past it.
    capacity: usize,
    /// Slots to reuse before `slots` grows.
    free: Vec<Slot>,
    len: usize,
    pub(super) by_key: HashTable<Slot>,
    pub(super) by_connection: HashTable<Slot>,
    /// Users, device names and session ids of the entries.
    pub(super) strings: Interner,
    /// Keyed per process as std's maps are: feeds choose ports and connection ids.
    hasher: RandomState,
}

impl Store {
    pub(super) fn new(capacity: usize) -> Store {
        Store {
            capacity,
            ..Store::default()
        }
    }

    pub(super) fn len(&self) -> usize {
        self.len
    }

    pub(super) fn get(&self, slot: Slot) -> Option<&Entry> {
        self.slots.get(slot as usize)?.as_ref()
    }

    pub(super) fn get_mut(&mut self, slot: Slot) -> Option<&mut Entry> {
        self.slots.get_mut(slot as usize)?.as_mut()
    }

    /// Every entry, in no particular order.
    pub(super) fn entries(&self) -> impl Iterator<Item = (Slot, &Entry)> + '_ {
        let slots = self.slots.iter().enumerate();
        slots.filter_map(|(s, e)| Some((s as Slot, e.as_ref()?)))
    }

    /// The entries on `key`, newest first.
    pub(super) fn on_key(&self, key: &FlowKey) -> impl Iterator<Item = (Slot, &Entry)> + '_ {
        let slots = &self.slots;
        let head = self
            .by_key
            .find(self.hasher.hash_one(key), |&s| {
                key_of(slots, s) == Some(key)
            })
            .copied()
            .unwrap_or(NIL);
        std::iter::successors(self.get(head).map(|e| (head, e)), move |(_, e)| {
            let next = e.next_on_key;
            self.get(next).map(|e| (next, e))
        })
    }

    /// The entry last recorded with this connection id.
    pub(super) fn by_connection(&self, id: &str) -> Option<Slot> {
        let slots = &self.slots;
        self.by_connection
            .find(self.hasher.hash_one(id), |&s| {
                connection_of(slots, s) == Some(id)
            })
            .copied()
    }

    /// Makes room for `n` more entries at once, at most up to the capacity: a load knows how
    /// many come, and growing the indexes step by step rehashed every item at each step.
    pub(super) fn reserve(&mut self, n: usize) {
        let n = n.min(self.capacity.saturating_sub(self.len));
        let (slots, hasher) = (&self.slots, &self.hasher);
        self.by_key
            .reserve(n, |&s| hash_of(hasher, key_of(slots, s)));
        self.by_connection
            .reserve(n, |&s| hash_of(hasher, connection_of(slots, s)));
        self.slots.reserve_exact(n);
    }

    /// Adds an entry (its strings already counted in the pool) and indexes it.
    pub(super) fn insert(&mut self, mut entry: Entry) -> Slot {
        let key_hash = self.hasher.hash_one(entry.key);
        let slots = &self.slots;
        let head = self
            .by_key
            .find(key_hash, |&s| key_of(slots, s) == Some(&entry.key))
            .copied();
        entry.next_on_key = head.unwrap_or(NIL);
        let slot = match self.free.pop() {
            Some(slot) => {
                self.slots[slot as usize] = Some(entry);
                slot
            }
            None => {
                // The table's capacity keeps slots far below NIL.
                let slot = Slot::try_from(self.slots.len()).unwrap_or(NIL);
                if self.slots.len() == self.slots.capacity() {
                    let more = growth(self.slots.len(), self.capacity);
                    self.slots.reserve_exact(more);
                }
                self.slots.push(Some(entry));
                slot
            }
        };
        self.len += 1;
        let (slots, hasher) = (&self.slots, &self.hasher);
        match self.by_key.find_mut(key_hash, |&s| Some(s) == head) {
            Some(newest) => *newest = slot,
            None => {
                self.by_key
                    .insert_unique(key_hash, slot, |&s| hash_of(hasher, key_of(slots, s)));
            }
        }
        self.index_connection(slot);
        slot
    }

    /// Indexes an entry by its connection id, taking the id over from any older entry.
    pub(super) fn index_connection(&mut self, slot: Slot) {
        let (slots, hasher) = (&self.slots, &self.hasher);
        let Some(id) = connection_of(slots, slot) else {
            return;
        };
        let hash = hasher.hash_one(id);
        match self
            .by_connection
            .find_mut(hash, |&s| connection_of(slots, s) == Some(id))
        {
            Some(last) => *last = slot,
            None => {
                self.by_connection
                    .insert_unique(hash, slot, |&s| hash_of(hasher, connection_of(slots, s)));
            }
        }
    }

    /// Removes an entry and its index items, and releases its strings.
    pub(super) fn remove(&mut self, slot: Slot) {
        let Some(e) = self.get(slot) else {
            return;
        };
        let (key, next) = (e.key, e.next_on_key);
        let key_hash = self.hasher.hash_one(key);
        if let Some(id) = &e.connection_id {
            // The id may since name a newer entry (the same id on another key).
            let hash = self.hasher.hash_one(&**id);
            if let Ok(found) = self.by_connection.find_entry(hash, |&s| s == slot) {
                found.remove();
            }
        }
        let slots = &self.slots;
        if let Ok(mut head) = self
            .by_key
            .find_entry(key_hash, |&s| key_of(slots, s) == Some(&key))
        {
            if *head.get() == slot {
                if next == NIL {
                    head.remove();
                } else {
                    *head.get_mut() = next;
                }
            } else {
                let mut at = *head.get();
                while let Some(e) = self.slots.get_mut(at as usize).and_then(Option::as_mut) {
                    if e.next_on_key == slot {
                        e.next_on_key = next;
                        break;
                    }
                    at = e.next_on_key;
                }
            }
        }
        let Some(e) = self.slots.get_mut(slot as usize).and_then(Option::take) else {
            return;
        };
        self.free.push(slot);
        self.len -= 1;
        for s in [Some(e.user), e.device, e.session_id].into_iter().flatten() {
            self.strings.release(s);
        }
    }
}

/// How much more room to make in a full vector of `len` items that needs at most `most`: a
/// quarter more rather than double (at a million entries of 144 bytes, doubling could leave
/// 100 MB unused), still O(1) amortised a push, and never past `most`.
pub(super) fn growth(len: usize, most: usize) -> usize {
    (len / 4 + 64).min(most.saturating_sub(len)).max(1)
}

/// The hash an index item was inserted with, when a table grows and rehashes it.
fn hash_of<T: std::hash::Hash>(hasher: &RandomState, value: Option<T>) -> u64 {
    value.map_or(0, |v| hasher.hash_one(v))
}

fn key_of(slots: &[Option<Entry>], slot: Slot) -> Option<&FlowKey> {
    Some(&slots.get(slot as usize)?.as_ref()?.key)
}

fn connection_of(slots: &[Option<Entry>], slot: Slot) -> Option<&str> {
    slots.get(slot as usize)?.as_ref()?.connection_id.as_deref()
}
