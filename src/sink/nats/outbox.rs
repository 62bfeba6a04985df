//! The aggregator's end of the NATS side: it encodes records, device events and device merges
//! as frames and hands them over every few milliseconds or megabyte, never waiting. What the channel cannot take
//! yet stays here and counts in the aggregator's backlog, which then stops taking batches (the
//! same push-back as a sink that cannot write).

use std::collections::{HashMap, HashSet, VecDeque};
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::sync::mpsc::{error::TrySendError, Sender};

use super::frame::{self, Frames};
use super::kv::KvDevice;
use super::Link;
use crate::aggregate::registry::Device;

/// A batch of frames this large is handed over without waiting for the next batch.
const HAND_OVER_AT: usize = 1 << 20;
/// The bucket's `last_seen` moves in steps this long: a device seen again within the same
/// step, with nothing else new, is not merged again (every record of a device would otherwise
/// be a compare-and-set on the bucket). The local registry keeps it to the second.
const LAST_SEEN_STEP: i64 = 60;
/// Devices that changed are merged into the bucket this often, each once with all it knows
/// by then. Merging at every change cost the NATS thread more than all the records when devices
/// churn (a new IP or user every few records: a merge is two requests to the server and a
/// decode and an encode of the device); the bucket is about this much behind.
const MERGE_EVERY: Duration = Duration::from_secs(1);
/// Devices whose last merge is remembered; past it the memory starts over (and every device is
/// merged once more).
const REMEMBERED: usize = 1 << 20;

pub struct Outbox {
    tx: Option<Sender<Frames>>,
    /// "<prefix>.records.", to which the kind is appended.
    records: Vec<u8>,
    /// "<prefix>.devices".
    devices: Vec<u8>,
    /// Frames being gathered.
    building: Frames,
    /// Frames the channel had no room for, oldest first.
    waiting: VecDeque<Frames>,
    waiting_bytes: usize,
    link: Arc<Link>,
    /// Reused: a record's identity as hex, a device as JSON.
    id: [u8; 32],
    json: Vec<u8>,
    /// What each device was when last handed for a merge ([`fingerprint`]).
    merged: HashMap<u64, u64>,
    /// Devices changed since the last sweep, to merge at the next.
    changed: HashSet<u64>,
    last_sweep: Instant,
    kind_key: memchr::memmem::Finder<'static>,
}

impl Outbox {
    pub fn new(tx: Sender<Frames>, prefix: &str, link: Arc<Link>) -> Outbox {
        Outbox {
            tx: Some(tx),
            records: format!("{prefix}.records.").into_bytes(),
            devices: format!("{prefix}.devices").into_bytes(),
            building: Frames::default(),
            waiting: VecDeque::new(),
            waiting_bytes: 0,
            link,
            id: [0; 32],
            json: Vec::new(),
            merged: HashMap::new(),
            changed: HashSet::new(),
            last_sweep: Instant::now(),
            kind_key: memchr::memmem::Finder::new(KIND_KEY),
        }
    }

    /// A record line (without its newline) and its identity (DESIGN §3 "Duplicates"): the
    /// 128-bit hash of its payload, as 32 hex digits, is its `Nats-Msg-Id`, so that two
    /// collectors that received the same line publish the same id.
    pub fn record(&mut self, line: &[u8], identity: u128) {
        const HEX: &[u8; 16] = b"0123456789abcdef";
        for (i, digit) in self.id.iter_mut().enumerate() {
            *digit = HEX[(identity >> (124 - 4 * i) & 0xf) as usize];
        }
        let subject_len = self.records.len();
        self.records
            .extend_from_slice(kind_of(&self.kind_key, line));
        frame::publish(&mut self.building.bytes, &self.records, &self.id, line);
        self.building.messages += 1;
        self.records.truncate(subject_len);
    }

    /// A device event line (without its newline), with an id that names the change, so that
    /// two collectors telling the same change publish it once.
    pub fn device_event(&mut self, line: &[u8], id: &str) {
        frame::publish(&mut self.building.bytes, &self.devices, id.as_bytes(), line);
        self.building.messages += 1;
    }

    /// A device that changed: offered at the next sweep ([`Outbox::take_changed`]) to
    /// [`Outbox::device`], which merges it unless the bucket was already told all it knows.
    pub fn device_changed(&mut self, id: u64) {
        self.changed.insert(id);
    }

    /// True when devices changed and the last sweep was [`MERGE_EVERY`] ago.
    pub fn merges_due(&self, now: Instant) -> bool {
        !self.changed.is_empty() && now.duration_since(self.last_sweep) >= MERGE_EVERY
    }

    /// The devices changed since the last sweep, for the caller to pass to [`Outbox::device`]
    /// as the registry has them now.
    pub fn take_changed(&mut self, now: Instant) -> HashSet<u64> {
        self.last_sweep = now;
        std::mem::take(&mut self.changed)
    }

    /// A device to merge into the registry bucket, unless the bucket was already told all it
    /// knows (to the [`LAST_SEEN_STEP`]).
    pub fn device(&mut self, id: u64, device: &Device<'_>) {
        let print = fingerprint(device);
        if self.merged.get(&id) == Some(&print) {
            return;
        }
        if self.merged.len() >= REMEMBERED {
            self.merged.clear();
        }
        self.merged.insert(id, print);
        self.json.clear();
        if serde_json::to_writer(&mut self.json, &KvDevice::of(id, device)).is_ok() {
            frame::merge(&mut self.building.bytes, id, &self.json);
        }
    }

    /// Hands over what was gathered, and what waited, as far as the channel has room.
    pub fn send(&mut self) {
        if !self.building.bytes.is_empty() {
            // Not a megabyte reserved up front: many batches are one shard batch, far smaller.
            let next = Frames {
                bytes: self.link.spare().unwrap_or_default(),
                messages: 0,
            };
            let full = std::mem::replace(&mut self.building, next);
            self.waiting_bytes += full.bytes.len();
            self.waiting.push_back(full);
        }
        let Some(tx) = &self.tx else {
            return;
        };
        while let Some(chunk) = self.waiting.pop_front() {
            let len = chunk.bytes.len();
            match tx.try_send(chunk) {
                Ok(()) => self.waiting_bytes -= len,
                Err(TrySendError::Full(chunk)) => {
                    self.waiting.push_front(chunk);
                    return;
                }
                Err(TrySendError::Closed(_)) => {
                    // The NATS thread is gone (it only ends after `close`): nothing can take
                    // these, and holding them would stall the collector for good.
                    tracing::error!("output.nats: the NATS thread stopped; {len} bytes dropped");
                    self.waiting_bytes -= len;
                }
            }
        }
    }

    /// True when a batch was gathered past the size worth handing over at once.
    pub fn is_full(&self) -> bool {
        self.building.bytes.len() >= HAND_OVER_AT
    }

    /// The NATS side's counts, for the snapshot.
    pub fn figures(&self) -> super::Figures {
        self.link.figures()
    }

    /// Bytes not yet handed over.
    pub fn backlog(&self) -> usize {
        self.waiting_bytes + self.building.bytes.len()
    }

    /// At shutdown: hands over everything, waiting for room (the spool now takes it even when
    /// full), then closes the channel so that the NATS thread finishes.
    pub fn close(&mut self) {
        self.link.closing.store(true, Ordering::SeqCst);
        if !self.building.bytes.is_empty() {
            let last = std::mem::take(&mut self.building);
            self.waiting_bytes += last.bytes.len();
            self.waiting.push_back(last);
        }
        if let Some(tx) = self.tx.take() {
            for chunk in self.waiting.drain(..) {
                if tx.blocking_send(chunk).is_err() {
                    tracing::error!("output.nats: the NATS thread stopped before the drain");
                    break;
                }
            }
        }
        self.waiting.clear();
        self.waiting_bytes = 0;
    }
}

/// What a merge of the device would tell the bucket: its lists only grow (to their cap) and its
/// tags only accumulate, so their lengths say when they changed.
fn fingerprint(d: &Device<'_>) -> u64 {
    let parts = [
        d.tags().count() as u64,
        d.ips().len() as u64,
        d.users().len() as u64,
        d.first_seen.as_second() as u64,
        d.last_seen.as_second().div_euclid(LAST_SEEN_STEP) as u64,
    ];
    let mut bytes = [0u8; 40];
    for (chunk, part) in bytes.chunks_exact_mut(8).zip(parts) {
        chunk.copy_from_slice(&part.to_le_bytes());
    }
    xxhash_rust::xxh3::xxh3_64(&bytes)
}

const KIND_KEY: &[u8] = b"\"kind\":\"";

/// The `kind` of a record line: ztel writes it second, after `ts` (DESIGN §2.4). A kind that is
/// missing or not a plain token (it becomes part of a subject) is "unknown".
fn kind_of<'a>(key: &memchr::memmem::Finder<'_>, line: &'a [u8]) -> &'a [u8] {
    const UNKNOWN: &[u8] = b"unknown";
    let head = &line[..line.len().min(160)];
    let Some(at) = key.find(head) else {
        return UNKNOWN;
    };
    let rest = &line[at + KIND_KEY.len()..];
    let Some(end) = memchr::memchr(b'"', rest) else {
        return UNKNOWN;
    };
    let kind = &rest[..end];
    let plain = kind
        .iter()
        .all(|b| b.is_ascii_alphanumeric() || *b == b'.' || *b == b'_');
    // Dots separate a subject's tokens: none may be empty.
    let tokens = !kind.is_empty()
        && kind.first() != Some(&b'.')
        && kind.last() != Some(&b'.')
        && !kind.windows(2).any(|w| w == b"..");
    if plain && tokens {
        kind
    } else {
        UNKNOWN
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_kind_names_the_subject() {
        let key = memchr::memmem::Finder::new(KIND_KEY);
        let kind_of = |line| kind_of(&key, line);
        assert_eq!(
            kind_of(br#"{"ts":"2024-01-01T00:00:00Z","kind":"zia.web","x":1}"#),
            b"zia.web"
        );
        assert_eq!(
            kind_of(br#"{"kind":"zpa.user_activity"}"#),
            b"zpa.user_activity"
        );
        for bad in [
            &br#"{"kind":"a b"}"#[..],
            br#"{"kind":"a.>"}"#,
            br#"{"kind":""}"#,
            br#"{"kind":".a"}"#,
            br#"{"kind":"a."}"#,
            br#"{"kind":"a..b"}"#,
            b"{\"kind\":\"caf\xc3\xa9\"}",
            br#"{"ts":1}"#,
        ] {
            assert_eq!(kind_of(bad), b"unknown", "{}", String::from_utf8_lossy(bad));
        }
    }
}
