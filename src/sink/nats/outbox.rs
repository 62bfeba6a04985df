//! The aggregator's end of the NATS side: it encodes records, device events and device merges
//! as frames and hands them over every few milliseconds or megabyte, never waiting. What the channel cannot take
//! yet stays here and counts in the aggregator's backlog, which then stops taking batches (the
//! same push-back as a sink that cannot write).

use std::collections::{HashMap, HashSet, VecDeque};
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::sync::mpsc::{error::TrySendError, Sender};

use wire::event::Kind;

use super::frame::{self, Frames};
use super::kv::KvDevice;
use super::Link;
use crate::aggregate::registry::Device;

/// A batch of frames this large is handed over without waiting for the next batch.
const HAND_OVER_AT: usize = 1 << 20;
/// A batch's records buffer is taken, instead of its records copied, when it holds at least
/// this much and at least a quarter of its capacity: a buffer NATS holds until acknowledged is
/// then at most four times the bytes the batch received (and counts whole against the bounds,
/// [`Frames::size`]), and a small batch, cheap to copy, does not hold a buffer of a megabyte.
const TAKE_AT_LEAST: usize = 16 << 10;
/// The bucket's `last_seen` moves in steps this long: a device seen again within the same
/// step, with nothing else new, is not merged again (every record of a device would otherwise
/// be a compare-and-set on the bucket). The local registry keeps it to the second.
const LAST_SEEN_STEP: i64 = 60;
/// Devices that changed are merged into the bucket this often, each once with all it knows
/// by then. Merging at every change cost the NATS thread more than all the records when devices
/// churn (a new IP or user every few records: a merge is two requests to the server and a
/// decode and an encode of the device); the bucket is about this much behind.
const MERGE_EVERY: Duration = Duration::from_secs(1);
/// Merges per sweep, at most; the devices left wait for the next sweeps, oldest first. A
/// merge cost the NATS thread about 30 µs (two requests through async-nats, a decode and an
/// encode; since `kv::Written`, a device this collector wrote last needs one request) and the
/// aggregator about 6 (an encode; 88,515 merges in a run of 400,000 Sekoia
/// lines with churn over 10,000 devices, 2.7 s and 0.55 s): with 10,000 devices that all gained
/// an IP or a user every second, merges were most of what both threads did, and the slower
/// collector then merged more per record. `perf/threads.sh --nats --count 3000000 --devices
/// 10000 --loadgen "--dialect sekoia --header 3164 --churn 4"`: the NATS thread 5.6 to 6.9 µs
/// an event and the aggregator 2.2 to 2.8 without this bound, 1.9 and 1.4 with it. This many a
/// second is under a tenth of a core; beyond it, the bucket is further behind.
const MERGES_AT_MOST: usize = 2_000;
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
    /// The batch being written is large enough for its records buffer to be taken
    /// ([`Outbox::begin`]).
    by_reference: bool,
    /// Records of the batch being written point into its records buffer, which becomes the
    /// next of `building.bodies` ([`Outbox::take_records`]).
    body_pending: bool,
    /// Frames the channel had no room for, oldest first.
    waiting: VecDeque<Frames>,
    waiting_bytes: usize,
    link: Arc<Link>,
    /// Reused: a record's identity as hex, a device as JSON.
    id: [u8; 32],
    json: Vec<u8>,
    /// What each device was when last handed for a merge ([`fingerprint`]).
    merged: HashMap<u64, u64>,
    /// Devices changed and not yet merged, each once, in the order they first changed.
    changed: HashSet<u64>,
    changed_order: VecDeque<u64>,
    last_sweep: Instant,
}

impl Outbox {
    pub fn new(tx: Sender<Frames>, prefix: &str, link: Arc<Link>) -> Outbox {
        Outbox {
            tx: Some(tx),
            records: format!("{prefix}.records.").into_bytes(),
            devices: format!("{prefix}.devices").into_bytes(),
            building: Frames::default(),
            by_reference: false,
            body_pending: false,
            waiting: VecDeque::new(),
            waiting_bytes: 0,
            link,
            id: [0; 32],
            json: Vec::new(),
            merged: HashMap::new(),
            changed: HashSet::new(),
            changed_order: VecDeque::new(),
            last_sweep: Instant::now(),
        }
    }

    /// A batch whose records buffer holds `len` bytes of `capacity` is about to be offered.
    pub fn begin(&mut self, len: usize, capacity: usize) {
        self.by_reference = len >= TAKE_AT_LEAST && len >= capacity / 4;
    }

    /// The record line (without its newline) at `line` of a batch's `records`, and its
    /// identity (DESIGN §3 "Duplicates"): the 128-bit hash of its payload, as 32 hex digits, is
    /// its `Nats-Msg-Id`, so that two collectors that received the same line publish the same
    /// id. In a batch large enough ([`Outbox::begin`]) the line is not copied: once the batch
    /// is written, [`Outbox::take_records`] takes its records buffer.
    pub fn record(
        &mut self,
        records: &[u8],
        line: std::ops::Range<usize>,
        identity: u128,
        kind: Kind,
    ) {
        const HEX: &[u8; 16] = b"0123456789abcdef";
        for (i, digit) in self.id.iter_mut().enumerate() {
            *digit = HEX[(identity >> (124 - 4 * i) & 0xf) as usize];
        }
        let payload = &records[line.clone()];
        let subject_len = self.records.len();
        self.records.extend_from_slice(kind.as_str().as_bytes());
        let body = u32::try_from(self.building.bodies.len());
        let start = u32::try_from(line.start);
        let len = u32::try_from(payload.len());
        match (body, start, len) {
            (Ok(body), Ok(start), Ok(len)) if self.by_reference => {
                frame::body(
                    &mut self.building.bytes,
                    &self.records,
                    &self.id,
                    body,
                    start,
                    len,
                );
                self.building.referenced += payload.len();
                self.body_pending = true;
            }
            // A small batch, or past 4 GiB (no batch is, but a copy is right whatever comes).
            _ => frame::publish(&mut self.building.bytes, &self.records, &self.id, payload),
        }
        self.building.messages += 1;
        self.records.truncate(subject_len);
    }

    /// After a batch's records were offered: when NATS took some, takes the batch's records
    /// buffer (the frames point into it), leaving a spare one in its place for the shard.
    ///
    /// The spare is at least as large as the buffer it replaces. A smaller one would make the
    /// shard grow it for its next read, and growing copies the old buffer whole into pages the
    /// kernel must hand over fresh: with NATS on, that was about 4 % of the shard's time and 43 %
    /// of the process's page faults. Sized so, the buffers in circulation soon all fit the
    /// largest read, and none grows.
    pub fn take_records(&mut self, records: &mut Vec<u8>) {
        if !self.body_pending {
            return;
        }
        self.body_pending = false;
        let capacity = records.capacity();
        let spare = self
            .link
            .spare_body()
            .filter(|spare| spare.capacity() >= capacity)
            .unwrap_or_else(|| Vec::with_capacity(capacity));
        self.building.bodies.push(std::mem::replace(records, spare));
    }

    /// A device event line (without its newline), with an id that names the change, so that
    /// two collectors telling the same change publish it once.
    pub fn device_event(&mut self, line: &[u8], id: &str) {
        frame::publish(&mut self.building.bytes, &self.devices, id.as_bytes(), line);
        self.building.messages += 1;
    }

    /// A device that changed: merged at a sweep ([`Outbox::sweep`]) unless the bucket was
    /// already told all it knows by then.
    pub fn device_changed(&mut self, id: u64) {
        if self.changed.insert(id) {
            self.changed_order.push_back(id);
        }
    }

    /// True when devices changed and the last sweep was [`MERGE_EVERY`] ago.
    pub fn merges_due(&self, now: Instant) -> bool {
        !self.changed.is_empty() && now.duration_since(self.last_sweep) >= MERGE_EVERY
    }

    /// Merges the devices that changed, oldest first, as `device_of` has them now: at most
    /// [`MERGES_AT_MOST`] merges, or all of them when `all` (at shutdown). A device the bucket
    /// was already told all about costs no merge and does not count. Returns the merges.
    pub fn sweep<'r>(
        &mut self,
        now: Instant,
        all: bool,
        mut device_of: impl FnMut(u64) -> Option<Device<'r>>,
    ) -> usize {
        self.last_sweep = now;
        let mut merges = 0;
        while all || merges < MERGES_AT_MOST {
            let Some(id) = self.changed_order.pop_front() else {
                break;
            };
            self.changed.remove(&id);
            if let Some(device) = device_of(id) {
                merges += usize::from(self.device(id, &device));
            }
        }
        merges
    }

    /// A device to merge into the registry bucket, unless the bucket was already told all it
    /// knows (to the [`LAST_SEEN_STEP`]). True when it is merged.
    fn device(&mut self, id: u64, device: &Device<'_>) -> bool {
        let print = fingerprint(device);
        if self.merged.get(&id) == Some(&print) {
            return false;
        }
        if self.merged.len() >= REMEMBERED {
            self.merged.clear();
        }
        self.merged.insert(id, print);
        self.json.clear();
        if serde_json::to_writer(&mut self.json, &KvDevice::of(id, device)).is_ok() {
            frame::merge(&mut self.building.bytes, id, &self.json);
        }
        true
    }

    /// Hands over what was gathered, and what waited, as far as the channel has room.
    pub fn send(&mut self) {
        debug_assert!(
            !self.body_pending,
            "a hand-over between a batch and its records"
        );
        if !self.building.bytes.is_empty() {
            // Not a megabyte reserved up front: many batches are one shard batch, far smaller.
            let next = Frames {
                bytes: self.link.spare().unwrap_or_default(),
                ..Frames::default()
            };
            let full = std::mem::replace(&mut self.building, next);
            self.waiting_bytes += full.size();
            self.waiting.push_back(full);
        }
        let Some(tx) = &self.tx else {
            return;
        };
        while let Some(chunk) = self.waiting.pop_front() {
            let len = chunk.size();
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

    /// True when a batch was gathered past the size worth handing over at once (the records
    /// buffers it holds count: its frames alone may be a few bytes per record).
    pub fn is_full(&self) -> bool {
        self.building.size() >= HAND_OVER_AT
    }

    /// The NATS side's counts, for the snapshot.
    pub fn figures(&self) -> super::Figures {
        self.link.figures()
    }

    /// Bytes not yet handed over.
    pub fn backlog(&self) -> usize {
        self.waiting_bytes + self.building.size()
    }

    /// True when frames wait for room in the channel: the NATS thread's queue is full.
    pub fn is_waiting(&self) -> bool {
        !self.waiting.is_empty()
    }

    /// Waits, for at most `at_most`, until the NATS thread takes a hand-over and so makes room
    /// in the channel; false when it took none in that time. The aggregator, held back by
    /// [`Outbox::backlog`], then hands over again at once: room comes back as acknowledgements
    /// do, milliseconds apart. Waiting the 250 ms a sink that cannot write is given left
    /// nats-server and the collector idle most of the time: at full speed NATS mode took 33,515
    /// to 35,038 events a second against 296,334 to 375,247 files alone (`perf/nats.sh --runs 3
    /// --count 400000`), and 63,139 to 78,304 with this wait.
    pub fn wait_for_room(&self, at_most: Duration) -> bool {
        self.link.wait_taken(at_most)
    }

    /// At shutdown: hands over everything, waiting for room (the spool now takes it even when
    /// full), then closes the channel so that the NATS thread finishes.
    pub fn close(&mut self) {
        self.link.closing.store(true, Ordering::SeqCst);
        if !self.building.bytes.is_empty() {
            let last = std::mem::take(&mut self.building);
            self.waiting_bytes += last.size();
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sink::nats::frame::Frame;

    /// Offers a batch's lines as the aggregator does; the frames handed over.
    fn offer(outbox: &mut Outbox, records: &mut Vec<u8>) {
        outbox.begin(records.len(), records.capacity());
        let mut start = 0;
        let ends: Vec<usize> = memchr::memchr_iter(b'\n', records).collect();
        for (i, end) in ends.into_iter().enumerate() {
            outbox.record(records, start..end, i as u128, Kind::ZiaWeb);
            start = end + 1;
        }
        outbox.take_records(records);
    }

    fn lines(n: usize, pad: usize) -> Vec<u8> {
        let mut out = Vec::new();
        for i in 0..n {
            let pad = "x".repeat(pad);
            out.extend_from_slice(
                format!("{{\"ts\":1,\"kind\":\"zia.web\",\"n\":{i},\"p\":\"{pad}\"}}\n").as_bytes(),
            );
        }
        out
    }

    /// The messages of frames, flattened: (subject, id, payload).
    fn messages(frames: &Frames) -> Vec<(String, String, String)> {
        let flat = frames.flatten();
        let mut out = Vec::new();
        let mut at = 0;
        while at < flat.len() {
            let (frame, n) = frame::read(&flat[at..]).unwrap();
            if let Frame::Publish {
                subject,
                id,
                payload,
            } = frame
            {
                let s = |b: &[u8]| String::from_utf8(b.to_vec()).unwrap();
                out.push((s(subject), s(id), s(payload)));
            }
            at += n;
        }
        out
    }

    /// The merge frames of `frames`, by device id.
    fn merged_ids(frames: &Frames) -> Vec<u64> {
        let flat = frames.flatten();
        let (mut out, mut at) = (Vec::new(), 0);
        while at < flat.len() {
            let (frame, n) = frame::read(&flat[at..]).unwrap();
            if let Frame::Merge { device, .. } = frame {
                out.push(device);
            }
            at += n;
        }
        out
    }

    #[test]
    fn frames_held_back_by_a_full_channel_go_as_soon_as_the_nats_thread_takes_one() {
        let (tx, mut rx) = tokio::sync::mpsc::channel(1);
        let link = Arc::new(Link::for_tests());
        let mut outbox = Outbox::new(tx, "z", link.clone());
        for _ in 0..2 {
            offer(&mut outbox, &mut lines(3, 10));
            outbox.send();
        }
        assert!(outbox.is_waiting(), "the second hand-over has no room");
        assert!(
            !outbox.wait_for_room(Duration::from_millis(20)),
            "nothing was taken"
        );

        // The NATS thread's end, as the intake does it: take a hand-over, say so.
        let nats = std::thread::spawn({
            let link = link.clone();
            move || {
                let first = rx.blocking_recv().expect("a hand-over");
                link.took();
                (first, rx)
            }
        });
        // The bound is only for a failure: the wait ends when the other thread takes.
        assert!(outbox.wait_for_room(Duration::from_secs(60)));
        outbox.send();
        assert!(!outbox.is_waiting());
        assert_eq!(outbox.backlog(), 0);
        let (first, mut rx) = nats.join().expect("the taking thread");
        let second = rx.try_recv().expect("the held-back frames, handed over");
        assert_eq!((first.messages, second.messages), (3, 3));
    }

    #[test]
    fn a_sweep_merges_at_most_its_share_oldest_first_and_shutdown_all() {
        use crate::aggregate::registry::Registry;
        use crate::batch::DeviceNews;
        use wire::device::Tag;
        let (tx, mut rx) = tokio::sync::mpsc::channel(8);
        let mut outbox = Outbox::new(tx, "z", Arc::new(Link::for_tests()));
        let mut registry = Registry::default();
        let hosts: Vec<String> = (0..MERGES_AT_MOST + 500).map(|i| format!("h{i}")).collect();
        let see = |registry: &mut Registry, host: &str, second: i64| {
            registry.apply(&DeviceNews {
                id: wire::device::device_id(host),
                key: host,
                tag: Tag::Zia,
                seen: jiff::Timestamp::from_second(second).unwrap(),
                ip: None,
                user: None,
            });
        };
        let ids: Vec<u64> = hosts.iter().map(|h| wire::device::device_id(h)).collect();
        for (host, id) in hosts.iter().zip(&ids) {
            see(&mut registry, host, 1_700_000_000);
            outbox.device_changed(*id);
        }
        // Changed again while it waits: merged once, in its first place.
        outbox.device_changed(ids[0]);
        let now = Instant::now() + MERGE_EVERY;
        assert!(outbox.merges_due(now));
        let merges = outbox.sweep(now, false, |id| registry.get(id));
        assert_eq!(merges, MERGES_AT_MOST);
        outbox.send();
        assert_eq!(merged_ids(&rx.try_recv().unwrap()), ids[..MERGES_AT_MOST]);
        // The rest wait for the next sweep, a MERGE_EVERY later. A device the bucket already
        // has as it is costs no merge and does not count.
        assert!(!outbox.merges_due(now));
        outbox.device_changed(ids[1]);
        let later = now + MERGE_EVERY;
        assert!(outbox.merges_due(later));
        assert_eq!(outbox.sweep(later, false, |id| registry.get(id)), 500);
        outbox.send();
        assert_eq!(merged_ids(&rx.try_recv().unwrap()), ids[MERGES_AT_MOST..]);
        assert!(!outbox.merges_due(later + MERGE_EVERY));
        // At shutdown every device that changed goes, however many.
        for (host, id) in hosts.iter().zip(&ids) {
            see(&mut registry, host, 1_700_000_000 + 3600);
            outbox.device_changed(*id);
        }
        assert_eq!(outbox.sweep(later, true, |id| registry.get(id)), ids.len());
        assert!(!outbox.merges_due(later + MERGE_EVERY));
        outbox.send();
        assert_eq!(merged_ids(&rx.try_recv().unwrap()).len(), ids.len());
        // Offers of devices the bucket has as they are do not use up a sweep's merges: ten
        // real changes behind all of them are merged in the same sweep.
        for id in &ids[10..] {
            outbox.device_changed(*id);
        }
        for (host, id) in hosts.iter().zip(&ids).take(10) {
            see(&mut registry, host, 1_700_000_000 + 7200);
            outbox.device_changed(*id);
        }
        let last = later + MERGE_EVERY;
        assert_eq!(outbox.sweep(last, false, |id| registry.get(id)), 10);
        assert!(!outbox.merges_due(last + MERGE_EVERY));
        outbox.send();
        assert_eq!(merged_ids(&rx.try_recv().unwrap()), ids[..10]);
    }

    #[test]
    fn a_large_batch_hands_over_its_records_buffer_and_a_small_one_is_copied() {
        let (tx, mut rx) = tokio::sync::mpsc::channel(4);
        let link = Arc::new(Link::for_tests());
        let mut outbox = Outbox::new(tx, "z", link.clone());

        // Large: its buffer goes with the frames, and the batch gets another, empty one.
        let mut large = lines(200, 200);
        let (large_copy, large_ptr) = (large.clone(), large.as_ptr());
        offer(&mut outbox, &mut large);
        assert!(large.is_empty());
        assert_ne!(large.as_ptr(), large_ptr);
        outbox.send();
        let frames = rx.try_recv().unwrap();
        assert_eq!(frames.bodies.len(), 1);
        assert_eq!(frames.bodies[0].as_ptr(), large_ptr, "not copied");
        assert_eq!(frames.messages, 200);
        let (_, first) = frame::read(&frames.bytes).unwrap();
        assert!(matches!(
            frame::read(&frames.bytes).unwrap().0,
            Frame::Body { .. }
        ));
        assert!(first < 100, "a frame without its payload");

        // Small: copied, and the batch keeps its buffer.
        let mut small = lines(3, 10);
        let small_ptr = small.as_ptr();
        let small_copy = small.clone();
        offer(&mut outbox, &mut small);
        assert_eq!((small.as_ptr(), &small), (small_ptr, &small_copy));
        outbox.send();
        let copied = rx.try_recv().unwrap();
        assert!(copied.bodies.is_empty());

        // Either way the same messages, in order, each line whole.
        for (frames, text) in [(&frames, &large_copy), (&copied, &small_copy)] {
            let got = messages(frames);
            let want: Vec<&[u8]> = text
                .split(|b| *b == b'\n')
                .filter(|l| !l.is_empty())
                .collect();
            assert_eq!(got.len(), want.len());
            for (i, ((subject, id, payload), line)) in got.iter().zip(want).enumerate() {
                assert_eq!(subject, "z.records.zia.web");
                assert_eq!(id, &format!("{i:032x}"));
                assert_eq!(payload.as_bytes(), line);
            }
        }

        // Given back once acknowledged, the records buffer goes into the next large batch.
        link.give_back(frames);
        let mut next = lines(200, 200);
        offer(&mut outbox, &mut next);
        assert_eq!(next.as_ptr(), large_ptr, "the spare came back");
    }

    #[test]
    fn a_batch_never_gets_back_a_smaller_buffer_than_it_gave() {
        let (tx, _rx) = tokio::sync::mpsc::channel(4);
        let link = Arc::new(Link::for_tests());
        let mut outbox = Outbox::new(tx, "z", link.clone());

        // A small spare waits, as one does after a burst of small batches.
        let mut small = lines(100, 200);
        offer(&mut outbox, &mut small);
        outbox.send();
        let mut records = Vec::with_capacity(1 << 20);
        records.extend_from_slice(&lines(2000, 200));
        let capacity = records.capacity();
        assert!(small.capacity() < capacity);
        link.give_back(Frames {
            bodies: vec![std::mem::take(&mut small)],
            ..Frames::default()
        });

        // A larger batch is taken: it gets a buffer that holds as much, not the small spare.
        offer(&mut outbox, &mut records);
        assert!(records.is_empty());
        assert!(
            records.capacity() >= capacity,
            "{} < {capacity}",
            records.capacity()
        );

        // No spare at all: the same.
        let mut more = Vec::with_capacity(1 << 20);
        more.extend_from_slice(&lines(2000, 200));
        let capacity = more.capacity();
        offer(&mut outbox, &mut more);
        assert!(more.capacity() >= capacity);

        // A spare as large is taken as it is.
        let mut spare = Vec::with_capacity(2 << 20);
        spare.push(b'x');
        let spare_ptr = spare.as_ptr();
        link.give_back(Frames {
            bodies: vec![spare],
            ..Frames::default()
        });
        let mut last = Vec::with_capacity(1 << 20);
        last.extend_from_slice(&lines(2000, 200));
        offer(&mut outbox, &mut last);
        assert_eq!(last.as_ptr(), spare_ptr);
        assert!(last.is_empty());
    }
}
