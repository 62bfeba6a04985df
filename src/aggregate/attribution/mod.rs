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
//! - `entries`: sequence number → entry; numbers grow with insertion, so they also order entries
//!   by age;
//! - `by_key` and `by_connection`: the two ways a sighting or a lookup finds its entries;
//! - `deadlines`: a min-heap of (last instant an entry can match, sequence number), for expiry
//!   and eviction.
//!
//! `deadlines` is lazy: removing an entry or moving its deadline leaves stale items behind,
//! skipped when met and swept out once they outnumber live entries.

use std::cmp::Reverse;
use std::collections::{BinaryHeap, HashMap};
use std::time::Duration;

use jiff::{SignedDuration, Timestamp};
use wire::record::time::rfc3339;

pub use crate::batch::FlowKey;

/// How long an entry without an end stays valid after its last sighting. LSS sends a record when a
/// connection opens and when it closes (and "active" ones in between); a connection whose close
/// was lost must not hold its key forever.
pub const MAX_OPEN: Duration = Duration::from_secs(24 * 3600);

/// One ZPA record's view of a connection (owned strings: built by the aggregator from a batch).
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

/// One connection in the table.
#[derive(Debug)]
struct Entry {
    key: FlowKey,
    user: String,
    device: Option<String>,
    device_id: Option<u64>,
    session_id: Option<String>,
    connection_id: Option<String>,
    start: Timestamp,
    end: Option<Timestamp>,
    /// The latest record time among its sightings.
    last_seen: Timestamp,
    /// The start of the next connection on its key, while it has no end of its own: it ended
    /// then at the latest.
    superseded: Option<Timestamp>,
    /// The last instant at which it can match, kept in step with `end`, `last_seen` and
    /// `superseded`.
    until: Timestamp,
}

impl Entry {
    /// A connection on its key started at `next`: without an end of its own, it ended then at
    /// the latest.
    fn superseded_at(&mut self, next: Timestamp) {
        self.superseded = Some(self.superseded.map_or(next, |t| t.min(next)));
    }

    fn matches(&self, at: Timestamp) -> bool {
        self.start <= at && at <= self.until
    }

    fn attributed(&self) -> Attributed {
        Attributed {
            user: self.user.clone(),
            device: self.device.clone(),
            device_id: self.device_id.map(|id| format!("{id:016x}")),
            session_id: self.session_id.clone(),
            connection_id: self.connection_id.clone(),
            start: rfc3339(self.start),
            end: self.end.map(rfc3339),
        }
    }
}

/// `ts + d`, saturating at the end of jiff's range rather than failing: a huge grace period
/// means "keep for ever", not an error.
fn add(ts: Timestamp, d: SignedDuration) -> Timestamp {
    ts.checked_add(d).unwrap_or(Timestamp::MAX)
}

/// Connections kept on one 4-tuple at most (see [`Attribution::record`]).
const PER_KEY: usize = 32;

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
    entries: HashMap<u64, Entry>,
    by_key: HashMap<FlowKey, Vec<u64>>,
    by_connection: HashMap<String, u64>,
    deadlines: BinaryHeap<Reverse<(Timestamp, u64)>>,
    next_seq: u64,
    /// The `now` of the last [`Attribution::expire`]: a full table expires against it before
    /// evicting. Record times are not used for this, so that one record with a wild clock cannot
    /// empty the table.
    clock: Timestamp,
}

impl Attribution {
    /// A table of at most `capacity` connections (at least 1), each valid until its end plus
    /// `grace`.
    pub fn new(capacity: usize, grace: Duration) -> Self {
        Attribution {
            capacity: capacity.max(1),
            grace: SignedDuration::try_from(grace).unwrap_or(SignedDuration::MAX),
            max_open: SignedDuration::try_from(MAX_OPEN).unwrap_or(SignedDuration::MAX),
            retain: SignedDuration::ZERO,
            entries: HashMap::new(),
            by_key: HashMap::new(),
            by_connection: HashMap::new(),
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

    /// Merges a sighting: the same connection_id (or, without one, the same key and start) updates
    /// its entry (end, device); otherwise a new entry. Several connections may reuse one key over
    /// time (ports are reused): keep them all, each with its own validity window.
    ///
    /// An entry that has no connection_id yet takes the sighting's. An end, once known, is kept
    /// when a later sighting has none (a replayed "active" record must not reopen it).
    pub fn record(&mut self, s: Sighting) {
        let key = s.key.canonical();
        if let Some(seq) = self.find(&key, &s) {
            self.update(seq, s);
            return;
        }
        if self.entries.len() >= self.capacity {
            self.expire(self.clock);
            // Then the entries whose windows end first (the oldest inserted among equals).
            while self.entries.len() >= self.capacity {
                let Some(Reverse((until, seq))) = self.deadlines.pop() else {
                    break;
                };
                if self.entries.get(&seq).is_some_and(|e| e.until == until) {
                    self.remove(seq);
                }
            }
        }
        // Past PER_KEY connections on one key, the one that started first goes: each new one
        // scans them all, and a key that every record shares (a feed that writes one connector
        // port for all, or a port reused all hour) made that quadratic, the aggregator taking a
        // few hundred records a second. A lookup wants the connection of its time, which is
        // one of the newest unless the key saw more than PER_KEY connections since.
        if let Some(oldest) = self.oldest_beyond(&key) {
            self.remove(oldest);
        }
        let seq = self.next_seq;
        self.next_seq += 1;
        let mut entry = Entry {
            key,
            user: s.user,
            device: s.device,
            device_id: s.device_id,
            session_id: s.session_id,
            connection_id: s.connection_id,
            start: s.start,
            end: s.end,
            last_seen: s.seen,
            superseded: None,
            until: Timestamp::MIN,
        };
        // Connections on the same key: an open one that started before this one ended when it
        // started, and this one, if open, when the next after it started; unless a record saw
        // it after that (then two flows share the key, a TCP and a UDP one say, and both live).
        let mut superseded = Vec::new();
        for &other in self.by_key.get(&key).into_iter().flatten() {
            let Some(e) = self.entries.get(&other) else {
                continue;
            };
            if e.start < entry.start && e.end.is_none() && e.last_seen <= entry.start {
                superseded.push(other);
            } else if e.start > entry.start && entry.end.is_none() && entry.last_seen <= e.start {
                entry.superseded_at(e.start);
            }
        }
        for other in superseded {
            if let Some(e) = self.entries.get_mut(&other) {
                e.superseded_at(entry.start);
            }
            self.refresh_until(other);
        }
        entry.until = self.until(&entry);
        if let Some(id) = &entry.connection_id {
            self.by_connection.insert(id.clone(), seq);
        }
        self.by_key.entry(key).or_default().push(seq);
        self.deadlines.push(Reverse((entry.until, seq)));
        self.entries.insert(seq, entry);
        self.compact();
    }

    /// Who was behind `key` at `at`: an entry whose start <= at and (no end yet, or at <= end +
    /// grace). When several match, the one with the latest start. An entry with no end stays valid
    /// while it is younger than `max_open` (24 h) after its last sighting, then expires.
    pub fn lookup(&self, key: &FlowKey, at: Timestamp) -> Option<Attributed> {
        self.by_key
            .get(&key.canonical())?
            .iter()
            .filter_map(|seq| self.entries.get(seq).map(|e| (seq, e)))
            .filter(|(_, e)| e.matches(at))
            // Equal starts: the later inserted wins.
            .max_by_key(|(seq, e)| (e.start, **seq))
            .map(|(_, e)| e.attributed())
    }

    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Drops entries that could match nothing at or after `now` less the retention (ended more
    /// than grace ago, or open but unseen for max_open). Called by the aggregator every few
    /// seconds; costs O(log n) per entry dropped, nothing for the live ones.
    pub fn expire(&mut self, now: Timestamp) {
        self.clock = now;
        let before = now.checked_sub(self.retain).unwrap_or(Timestamp::MIN);
        while let Some(&Reverse((until, seq))) = self.deadlines.peek() {
            if until >= before {
                break;
            }
            self.deadlines.pop();
            // A stale item: the entry is gone or its deadline has moved on since.
            if self.entries.get(&seq).is_some_and(|e| e.until == until) {
                self.remove(seq);
            }
        }
        self.compact();
    }

    /// The last instant `e` can match.
    fn until(&self, e: &Entry) -> Timestamp {
        match (e.end, e.superseded) {
            (Some(end), _) => add(end, self.grace),
            (None, Some(next)) => add(next, self.grace).min(add(e.last_seen, self.max_open)),
            (None, None) => add(e.last_seen, self.max_open),
        }
    }

    /// Brings an entry's deadline in step with what it now knows.
    fn refresh_until(&mut self, seq: u64) {
        let Some(until) = self.entries.get(&seq).map(|e| self.until(e)) else {
            return;
        };
        if let Some(e) = self.entries.get_mut(&seq) {
            if until != e.until {
                e.until = until;
                self.deadlines.push(Reverse((until, seq)));
            }
        }
    }

    /// The entry a sighting updates, if any.
    fn find(&self, key: &FlowKey, s: &Sighting) -> Option<u64> {
        if let Some(id) = &s.connection_id {
            if let Some(&seq) = self.by_connection.get(id) {
                // A connection id names one connection; a different 4-tuple under the same id is
                // a new entry rather than a silent move.
                if self.entries.get(&seq).is_some_and(|e| e.key == *key) {
                    return Some(seq);
                }
            }
        }
        self.by_key.get(key)?.iter().copied().find(|seq| {
            self.entries.get(seq).is_some_and(|e| {
                e.start == s.start
                    && match (&e.connection_id, &s.connection_id) {
                        (Some(a), Some(b)) => a == b,
                        _ => true,
                    }
            })
        })
    }

    fn update(&mut self, seq: u64, s: Sighting) {
        let Some(e) = self.entries.get_mut(&seq) else {
            return;
        };
        if s.end.is_some() {
            e.end = s.end;
        }
        if s.device.is_some() {
            e.device = s.device;
        }
        if s.device_id.is_some() {
            e.device_id = s.device_id;
        }
        if e.session_id.is_none() {
            e.session_id = s.session_id;
        }
        if e.connection_id.is_none() {
            if let Some(id) = s.connection_id {
                self.by_connection.insert(id.clone(), seq);
                e.connection_id = Some(id);
            }
        }
        e.last_seen = e.last_seen.max(s.seen);
        if e.superseded.is_some_and(|next| e.last_seen > next) {
            // Seen after the next connection on its key started: it did not end then.
            e.superseded = None;
        }
        self.refresh_until(seq);
        self.compact();
    }

    /// Removes an entry and its index items; stale `deadlines` items stay (lazy).
    /// The entry on `key` that started first (the first inserted among equals), when the key
    /// holds [`PER_KEY`] of them already.
    fn oldest_beyond(&self, key: &FlowKey) -> Option<u64> {
        let seqs = self.by_key.get(key).filter(|seqs| seqs.len() >= PER_KEY)?;
        seqs.iter()
            .copied()
            .min_by_key(|seq| (self.entries.get(seq).map(|e| e.start), *seq))
    }

    fn remove(&mut self, seq: u64) {
        let Some(e) = self.entries.remove(&seq) else {
            return;
        };
        if let Some(seqs) = self.by_key.get_mut(&e.key) {
            seqs.retain(|&s| s != seq);
            if seqs.is_empty() {
                self.by_key.remove(&e.key);
            }
        }
        if let Some(id) = &e.connection_id {
            // The id may since name a newer entry (same id on another key).
            if self.by_connection.get(id) == Some(&seq) {
                self.by_connection.remove(id);
            }
        }
    }

    /// Sweeps stale items out of `deadlines` once they outnumber the live entries: O(n) every n
    /// pushes at the least, so O(1) amortised, and it stays within a small multiple of
    /// `capacity`.
    fn compact(&mut self) {
        let limit = 2 * self.entries.len() + 64;
        if self.deadlines.len() > limit {
            self.deadlines = self
                .entries
                .iter()
                .map(|(&seq, e)| Reverse((e.until, seq)))
                .collect();
        }
    }
}

#[cfg(test)]
mod tests;
