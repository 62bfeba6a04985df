//! One connection in the attribution table, laid out small: a table of a million of them is
//! the collector's largest structure.

use jiff::Timestamp;

use super::interner::{Interner, Sym};
use super::stamp::{OptStamp, Stamp};
use super::{Attributed, FlowKey};
use wire::record::time::rfc3339;

/// An index into the table's entries.
pub(super) type Slot = u32;

/// No slot: the end of a key's chain (a sentinel rather than `Option`, which would double it).
pub(super) const NIL: Slot = Slot::MAX;

#[derive(Debug)]
pub(super) struct Entry {
    /// Insertion order: among equals, lookups prefer the newer entry, eviction the older.
    pub(super) seq: u64,
    pub(super) key: FlowKey,
    pub(super) user: Sym,
    pub(super) device: Option<Sym>,
    pub(super) device_id: Option<u64>,
    pub(super) session_id: Option<Sym>,
    /// Unique to the connection, so kept here rather than in the string pool; the table's
    /// index by connection id points here instead of holding a copy.
    pub(super) connection_id: Option<Box<str>>,
    start: Stamp,
    end: OptStamp,
    /// The latest record time among its sightings.
    last_seen: Stamp,
    /// The start of the next connection on its key, while it has no end of its own: it ended
    /// then at the latest.
    superseded: OptStamp,
    /// The next older entry on the same key.
    pub(super) next_on_key: Slot,
}

/// What a new entry starts with (its strings already in the pool).
pub(super) struct NewEntry {
    pub(super) seq: u64,
    pub(super) key: FlowKey,
    pub(super) user: Sym,
    pub(super) device: Option<Sym>,
    pub(super) device_id: Option<u64>,
    pub(super) session_id: Option<Sym>,
    pub(super) connection_id: Option<Box<str>>,
    pub(super) start: Timestamp,
    pub(super) end: Option<Timestamp>,
    pub(super) last_seen: Timestamp,
}

impl Entry {
    pub(super) fn new(n: NewEntry) -> Entry {
        Entry {
            seq: n.seq,
            key: n.key,
            user: n.user,
            device: n.device,
            device_id: n.device_id,
            session_id: n.session_id,
            connection_id: n.connection_id,
            start: Stamp::new(n.start),
            end: OptStamp::new(n.end),
            last_seen: Stamp::new(n.last_seen),
            superseded: OptStamp::new(None),
            next_on_key: NIL,
        }
    }

    pub(super) fn start(&self) -> Timestamp {
        self.start.get()
    }

    pub(super) fn end(&self) -> Option<Timestamp> {
        self.end.get()
    }

    pub(super) fn set_end(&mut self, end: Timestamp) {
        self.end = OptStamp::new(Some(end));
    }

    pub(super) fn last_seen(&self) -> Timestamp {
        self.last_seen.get()
    }

    pub(super) fn set_last_seen(&mut self, seen: Timestamp) {
        self.last_seen = Stamp::new(seen);
    }

    pub(super) fn superseded(&self) -> Option<Timestamp> {
        self.superseded.get()
    }

    pub(super) fn clear_superseded(&mut self) {
        self.superseded = OptStamp::new(None);
    }

    /// A connection on its key started at `next`: without an end of its own, it ended then at
    /// the latest.
    pub(super) fn superseded_at(&mut self, next: Timestamp) {
        let at = self.superseded().map_or(next, |t| t.min(next));
        self.superseded = OptStamp::new(Some(at));
    }

    pub(super) fn attributed(&self, strings: &Interner) -> Attributed {
        Attributed {
            user: strings.get(self.user).to_owned(),
            device: self.device.map(|d| strings.get(d).to_owned()),
            device_id: self.device_id.map(|id| format!("{id:016x}")),
            session_id: self.session_id.map(|s| strings.get(s).to_owned()),
            connection_id: self.connection_id.as_deref().map(str::to_owned),
            start: rfc3339(self.start()),
            end: self.end().map(rfc3339),
        }
    }
}
