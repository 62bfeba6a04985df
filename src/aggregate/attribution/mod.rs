//! ZPA attribution: who was behind a connection.
//!
//! With ZPA, a remote user reaches an internal server through an App Connector, so a network
//! sensor next to the server sees only `connector_ip:connector_port → server_ip:server_port`. The
//! LSS User Activity records name the user, device and session behind each such connection. The
//! aggregator feeds them here as [`Sighting`]s, and `/attribution` (DESIGN §2.3) answers "who was
//! behind this 4-tuple at that time" from the table.
//!
//! Each entry is one connection, valid from its start to its end plus a grace period (a sensor's
//! clock and flow timeouts lag the connector's), or, while no end is known, until [`MAX_OPEN`]
//! after its last sighting. Ports are reused, so one key may hold several connections, each with its
//! own window; and as a 4-tuple carries one connection at a time, a connection still open when
//! a later one starts on its key is taken to have ended then (its close was lost, or comes
//! late). The table is bounded: it expires what can no longer match (after a retention, for
//! lookups made late), then evicts the entries whose windows end first, so that a long-lived
//! connection outlasts ones waiting out their grace or retention.
//!
//! Bookkeeping, all O(1) amortised per sighting (no full scan on insert):
//! - `store`: the entries, each with a sequence number that grows with insertion (so it also
//!   orders entries by age), and the two ways a sighting or a lookup finds its entries, by key
//!   and by connection id (store.rs);
//! - `deadlines`: a min-heap of (last instant an entry can match, sequence number), for expiry
//!   and eviction.
//!
//! `deadlines` is lazy: removing an entry or moving its deadline leaves stale items behind,
//! skipped when met and swept out once they outnumber live entries.
//!
//! At a million entries this is the collector's largest table, so an entry is kept small
//! (252 heap bytes, from 757 with plain maps and owned strings: tests/attribution_memory.rs):
//! users, device names and session ids, which repeat over a user's connections, are pooled
//! with a count of their holders (interner.rs); timestamps are packed (stamp.rs); and the
//! indexes hold 4-byte slots, finding keys and connection ids in the entries rather than
//! keeping copies.

use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::time::Duration;

use jiff::{SignedDuration, Timestamp};

pub use crate::batch::FlowKey;

mod entry;
mod interner;
mod persist;
mod stamp;
mod store;

use entry::{Entry, NewEntry, Slot};
pub use persist::{LoadError, Loaded};
use stamp::Stamp;
use store::Store;

/// How long an entry without an end stays valid after its last sighting. LSS sends a record when a
/// connection opens and when it closes (and "active" ones in between); a connection whose close
/// was lost must not hold its key forever.
pub const MAX_OPEN: Duration = Duration::from_secs(24 * 3600);

/// How far ahead of the collector's clock the feed's may run ([`Attribution::expire`]): clocks
/// apart by minutes, not by more.
pub const AHEAD_AT_MOST: SignedDuration = SignedDuration::from_mins(10);

/// One ZPA record's view of a connection (owned strings; see [`SightingRef`] for borrowed ones).
#[derive(Debug, Clone, PartialEq)]
pub struct Sighting {
    pub key: FlowKey,
    pub user: String,
    pub device: Option<String>,
    pub device_id: Option<u64>,
    pub session_id: Option<String>,
    pub connection_id: Option<String>,
    /// When the connection started (TimestampConnectionStart).
    pub start: Timestamp,
    /// When it ended (TimestampConnectionEnd), once known.
    pub end: Option<Timestamp>,
    /// The record's time: an open connection stays valid [`MAX_OPEN`] after its last sighting.
    pub seen: Timestamp,
}

/// A [`Sighting`] borrowing its strings from a batch: the table copies only those it has not
/// got, so a known user's next connection allocates nothing for it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SightingRef<'a> {
    pub key: FlowKey,
    pub user: &'a str,
    pub device: Option<&'a str>,
    pub device_id: Option<u64>,
    pub session_id: Option<&'a str>,
    pub connection_id: Option<&'a str>,
    pub start: Timestamp,
    pub end: Option<Timestamp>,
    pub seen: Timestamp,
}

impl Sighting {
    pub fn borrowed(&self) -> SightingRef<'_> {
        SightingRef {
            key: self.key,
            user: &self.user,
            device: self.device.as_deref(),
            device_id: self.device_id,
            session_id: self.session_id.as_deref(),
            connection_id: self.connection_id.as_deref(),
            start: self.start,
            end: self.end,
            seen: self.seen,
        }
    }
}

/// The answer to a lookup, ready to serialise for the HTTP answer. Absent values are left out,
/// as in every other output (DESIGN §2.4).
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Attributed {
    pub user: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub device: Option<String>,
    /// 16 hex digits, as in the records and device events.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub device_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub session_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub connection_id: Option<String>,
    /// RFC 3339, UTC.
    pub start: String,
    /// RFC 3339, UTC: the connection's end (without the grace period).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub end: Option<String>,
}

/// An item of `deadlines`: the last instant an entry can match, then its sequence number (the
/// oldest inserted first among equals); the slot only finds it. 24 bytes, packed like the
/// entries' timestamps: the heap holds up to one and a half items per entry.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
#[repr(C, packed(4))]
struct Deadline {
    until: Stamp,
    seq: u64,
    slot: Slot,
}

/// How many `deadlines` items `entries` live entries may have before the stale ones are swept.
fn stale_limit(entries: usize) -> usize {
    entries + entries / 2 + 64
}

/// `ts + d`, saturating at the end of jiff's range rather than failing: a huge grace period
/// means "keep for ever", not an error.
fn add(ts: Timestamp, d: SignedDuration) -> Timestamp {
    ts.checked_add(d).unwrap_or(Timestamp::MAX)
}

/// Connections kept on one 4-tuple at most (see [`Attribution::record`]).
const PER_KEY: usize = 32;

/// The most entries a table holds whatever its capacity: slots and string symbols are 32-bit.
const MAX_CAPACITY: usize = 1 << 30;

/// The ZPA attribution table, owned by the aggregator (behind a mutex for the admin endpoint).
pub struct Attribution {
    capacity: usize,
    grace: SignedDuration,
    max_open: SignedDuration,
    /// How long an entry is kept after the last instant it can match, for lookups of earlier
    /// times (a sensor asking minutes late, a delayed feed's records): 0 unless [`retaining`].
    ///
    /// [`retaining`]: Attribution::retaining
    retain: SignedDuration,
    store: Store,
    deadlines: BinaryHeap<Reverse<Deadline>>,
    next_seq: u64,
    /// The `now` of the last [`Attribution::expire`]: a full table expires against it before
    /// evicting. It is the feed's time, whose record times stop at their arrival, so that one
    /// record with a wild clock cannot empty the table.
    clock: Timestamp,
}

impl Attribution {
    /// A table of at most `capacity` connections (at least 1), each valid until its end plus
    /// `grace`.
    pub fn new(capacity: usize, grace: Duration) -> Self {
        let capacity = capacity.clamp(1, MAX_CAPACITY);
        Attribution {
            capacity,
            grace: SignedDuration::try_from(grace).unwrap_or(SignedDuration::MAX),
            max_open: SignedDuration::try_from(MAX_OPEN).unwrap_or(SignedDuration::MAX),
            retain: SignedDuration::ZERO,
            store: Store::new(capacity),
            deadlines: BinaryHeap::new(),
            next_seq: 0,
            clock: Timestamp::MIN,
        }
    }

    /// Keeps each entry `retain` after the last instant it can match: a lookup whose `at` lies
    /// in its window still finds it when asked that much later. A full table drops these first.
    pub fn retaining(mut self, retain: Duration) -> Self {
        self.retain = SignedDuration::try_from(retain).unwrap_or(SignedDuration::MAX);
        self
    }

    /// Merges a sighting: see [`Attribution::record_ref`].
    pub fn record(&mut self, s: Sighting) {
        self.record_ref(s.borrowed());
    }

    /// Merges a sighting: the same connection_id (or, without one, the same key and start)
    /// updates its entry (end, device); otherwise a new entry. Several connections may reuse one
    /// key over time (ports are reused): keep them all, each with its own validity window.
    ///
    /// An entry that has no connection_id yet takes the sighting's. An end, once known, is kept
    /// when a later sighting has none (a replayed "active" record must not reopen it).
    pub fn record_ref(&mut self, s: SightingRef<'_>) {
        let key = s.key.canonical();
        if let Some(slot) = self.find(&key, &s) {
            self.update(slot, &s);
            return;
        }
        if self.store.len() >= self.capacity {
            self.expire(self.clock);
            // Then the entries whose windows end first (the oldest inserted among equals).
            while self.store.len() >= self.capacity {
                let Some(Reverse(d)) = self.deadlines.pop() else {
                    break;
                };
                if self.is_live(d) {
                    self.store.remove(d.slot);
                }
            }
        }
        // Past PER_KEY connections on one key, the one that started first goes: each new one
        // scans them all, and a key that every record shares (a feed that writes one connector
        // port for all, or a port reused all hour) made that quadratic, the aggregator taking a
        // few hundred records a second. A lookup wants the connection of its time, which is
        // one of the newest unless the key saw more than PER_KEY connections since.
        if let Some(oldest) = self.oldest_beyond(&key) {
            self.store.remove(oldest);
        }
        let seq = self.next_seq;
        self.next_seq += 1;
        let strings = &mut self.store.strings;
        let mut entry = Entry::new(NewEntry {
            seq,
            key,
            user: strings.intern(s.user),
            device: s.device.map(|d| strings.intern(d)),
            device_id: s.device_id,
            session_id: s.session_id.map(|d| strings.intern(d)),
            connection_id: s.connection_id.map(Box::from),
            start: s.start,
            end: s.end,
            last_seen: s.seen,
        });
        // Connections on the same key: an open one that started before this one ended when it
        // started, and this one, if open, when the next after it started; unless a record saw
        // it after that (then two flows share the key, a TCP and a UDP one say, and both live).
        let mut superseded = Vec::new();
        for (other, e) in self.store.on_key(&key) {
            if e.start() < s.start && e.end().is_none() && e.last_seen() <= s.start {
                superseded.push(other);
            } else if e.start() > s.start && s.end.is_none() && s.seen <= e.start() {
                entry.superseded_at(e.start());
            }
        }
        for other in superseded {
            self.change(other, |e| e.superseded_at(s.start));
        }
        let until = self.until(&entry);
        let slot = self.store.insert(entry);
        self.push_deadline(Deadline {
            until: Stamp::new(until),
            seq,
            slot,
        });
        self.compact();
    }

    /// Who was behind `key` at `at`: an entry whose start <= at and (no end yet, or at <= end +
    /// grace). When several match, the one with the latest start. An entry with no end stays valid
    /// while it is younger than `max_open` (24 h) after its last sighting, then expires.
    pub fn lookup(&self, key: &FlowKey, at: Timestamp) -> Option<Attributed> {
        self.store
            .on_key(&key.canonical())
            .map(|(_, e)| e)
            .filter(|e| e.start() <= at && at <= self.until(e))
            // Equal starts: the later inserted wins.
            .max_by_key(|e| (e.start(), e.seq))
            .map(|e| e.attributed(&self.store.strings))
    }

    pub fn len(&self) -> usize {
        self.store.len()
    }

    pub fn is_empty(&self) -> bool {
        self.store.len() == 0
    }

    /// Drops entries that could match nothing at or after `now` less the retention (ended more
    /// than grace ago, or open but unseen for max_open). Called by the aggregator every few
    /// seconds with the feed's time, the latest of its records' (each no later than it arrived:
    /// `pipeline`); costs O(log n) per entry dropped, nothing for the live ones. A `now` further
    /// ahead of the collector's clock than [`AHEAD_AT_MOST`] counts as that: a feed time saved
    /// by a collector whose clock ran ahead, and was set back since, would expire connections
    /// early until real time caught up with it.
    pub fn expire(&mut self, now: Timestamp) {
        let ahead = Timestamp::now()
            .checked_add(AHEAD_AT_MOST)
            .unwrap_or(Timestamp::MAX);
        let now = now.min(ahead);
        self.clock = now;
        let before = Stamp::new(now.checked_sub(self.retain).unwrap_or(Timestamp::MIN));
        while let Some(&Reverse(d)) = self.deadlines.peek() {
            if d.until >= before {
                break;
            }
            self.deadlines.pop();
            // A stale item: the entry is gone or its deadline has moved on since.
            if self.is_live(d) {
                self.store.remove(d.slot);
            }
        }
        self.compact();
    }

    /// The last instant `e` can match. Worked out when needed rather than kept: 12 bytes an
    /// entry for a few additions.
    fn until(&self, e: &Entry) -> Timestamp {
        match (e.end(), e.superseded()) {
            (Some(end), _) => add(end, self.grace),
            (None, Some(next)) => add(next, self.grace).min(add(e.last_seen(), self.max_open)),
            (None, None) => add(e.last_seen(), self.max_open),
        }
    }

    /// Whether a `deadlines` item is its entry's current deadline (else it is stale).
    fn is_live(&self, d: Deadline) -> bool {
        self.store
            .get(d.slot)
            .is_some_and(|e| e.seq == d.seq && Stamp::new(self.until(e)) == d.until)
    }

    /// Changes an entry, keeping `deadlines` in step with its new deadline.
    fn change(&mut self, slot: Slot, f: impl FnOnce(&mut Entry)) {
        let Some(before) = self.store.get(slot).map(|e| self.until(e)) else {
            return;
        };
        let Some(e) = self.store.get_mut(slot) else {
            return;
        };
        f(e);
        let seq = e.seq;
        let Some(until) = self.store.get(slot).map(|e| self.until(e)) else {
            return;
        };
        if until != before {
            self.push_deadline(Deadline {
                until: Stamp::new(until),
                seq,
                slot,
            });
        }
    }

    /// The entry a sighting updates, if any.
    fn find(&self, key: &FlowKey, s: &SightingRef<'_>) -> Option<Slot> {
        if let Some(id) = s.connection_id {
            if let Some(slot) = self.store.by_connection(id) {
                // A connection id names one connection; a different 4-tuple under the same id is
                // a new entry rather than a silent move.
                if self.store.get(slot).is_some_and(|e| e.key == *key) {
                    return Some(slot);
                }
            }
        }
        // The first inserted of those that match.
        self.store
            .on_key(key)
            .filter(|(_, e)| {
                e.start() == s.start
                    && match (e.connection_id.as_deref(), s.connection_id) {
                        (Some(a), Some(b)) => a == b,
                        _ => true,
                    }
            })
            .min_by_key(|(_, e)| e.seq)
            .map(|(slot, _)| slot)
    }

    fn update(&mut self, slot: Slot, s: &SightingRef<'_>) {
        let strings = &mut self.store.strings;
        // Pooled before the entry lets go of its old strings, which may be the same.
        let device = s.device.map(|d| strings.intern(d));
        let session_id = s.session_id.map(|d| strings.intern(d));
        let mut released = [None, None];
        let mut new_id = false;
        self.change(slot, |e| {
            if let Some(end) = s.end {
                e.set_end(end);
            }
            if device.is_some() {
                released[0] = std::mem::replace(&mut e.device, device);
            }
            if s.device_id.is_some() {
                e.device_id = s.device_id;
            }
            if e.session_id.is_none() {
                e.session_id = session_id;
            } else {
                released[1] = session_id;
            }
            if e.connection_id.is_none() {
                if let Some(id) = s.connection_id {
                    e.connection_id = Some(id.into());
                    new_id = true;
                }
            }
            e.set_last_seen(e.last_seen().max(s.seen));
            if e.superseded().is_some_and(|next| e.last_seen() > next) {
                // Seen after the next connection on its key started: it did not end then.
                e.clear_superseded();
            }
        });
        for sym in released.into_iter().flatten() {
            self.store.strings.release(sym);
        }
        if new_id {
            self.store.index_connection(slot);
        }
        self.compact();
    }

    /// The entry on `key` that started first (the first inserted among equals), when the key
    /// holds [`PER_KEY`] of them already.
    fn oldest_beyond(&self, key: &FlowKey) -> Option<Slot> {
        // Fewer than PER_KEY: none.
        self.store.on_key(key).nth(PER_KEY - 1)?;
        self.store
            .on_key(key)
            .min_by_key(|(_, e)| (e.start(), e.seq))
            .map(|(slot, _)| slot)
    }

    /// Adds a `deadlines` item, growing the heap as [`store::growth`] says: by a quarter, up to
    /// what a full table needs (its compaction limit, plus what one sighting pushes before
    /// [`Attribution::compact`]).
    fn push_deadline(&mut self, d: Deadline) {
        if self.deadlines.len() == self.deadlines.capacity() {
            let most = stale_limit(self.capacity) + PER_KEY + 1;
            self.deadlines
                .reserve_exact(store::growth(self.deadlines.len(), most));
        }
        self.deadlines.push(Reverse(d));
    }

    /// Sweeps stale items out of `deadlines` once they are half as many as the live entries:
    /// O(n) every n/2 pushes at the least, so O(1) amortised, and it stays within a small
    /// multiple of `capacity`. In place, so that a sweep does not hold a second heap.
    fn compact(&mut self) {
        if self.deadlines.len() > stale_limit(self.store.len()) {
            let mut deadlines = std::mem::take(&mut self.deadlines);
            deadlines.retain(|&Reverse(d)| self.is_live(d));
            self.deadlines = deadlines;
        }
    }
}

#[cfg(test)]
mod tests;
