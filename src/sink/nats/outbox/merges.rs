//! Merges into the registry bucket: devices that changed are remembered, and a sweep a second
//! hands over a merge of each, unless the bucket was already told all it knows. Apart from the
//! records because a merge is per device and per sweep, never per record.

use std::time::{Duration, Instant};

use super::Outbox;
use crate::sink::nats::frame;
use crate::sink::nats::kv::{DeviceView, KvDevice};

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

impl Outbox {
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
    pub fn sweep<D: DeviceView>(
        &mut self,
        now: Instant,
        all: bool,
        mut device_of: impl FnMut(u64) -> Option<D>,
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
    fn device(&mut self, id: u64, device: &impl DeviceView) -> bool {
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
}

/// What a merge of the device would tell the bucket: its tags only accumulate, so their count
/// says when they changed; its lists change only by taking a value they lack at the end (the
/// oldest leaving at the cap, when the length stays), so their length and last value do.
fn fingerprint(d: &impl DeviceView) -> u64 {
    fn last<'a>(values: impl Iterator<Item = &'a str>) -> u64 {
        values
            .last()
            .map_or(0, |v| xxhash_rust::xxh3::xxh3_64(v.as_bytes()))
    }
    let parts = [
        d.tags().count() as u64,
        d.ips().len() as u64,
        d.users().len() as u64,
        d.first_seen().as_second() as u64,
        d.last_seen().as_second().div_euclid(LAST_SEEN_STEP) as u64,
        last(d.ips()),
        last(d.users()),
    ];
    let mut bytes = [0u8; 56];
    for (chunk, part) in bytes.chunks_exact_mut(8).zip(parts) {
        chunk.copy_from_slice(&part.to_le_bytes());
    }
    xxhash_rust::xxh3::xxh3_64(&bytes)
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;
    use crate::sink::nats::frame::{Frame, Frames};
    use crate::sink::nats::Link;

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

    /// At the cap a new IP pushes the oldest out and the list keeps its length: the device is
    /// merged again all the same, within the same minute of `last_seen`.
    #[test]
    fn a_device_at_the_cap_with_a_new_ip_is_merged_again() {
        use crate::aggregate::registry::Registry;
        use crate::batch::{DeviceNews, MAX_PER_DEVICE};
        let (tx, mut rx) = tokio::sync::mpsc::channel(8);
        let mut outbox = Outbox::new(tx, "z", Arc::new(Link::for_tests()));
        let mut registry = Registry::default();
        let id = wire::device::device_id("laptop");
        let see = |registry: &mut Registry, i: usize| {
            let ip = format!("10.9.0.{i}");
            registry.apply(&DeviceNews {
                id,
                key: "laptop",
                tag: wire::device::Tag::Zia,
                seen: jiff::Timestamp::from_second(1_700_000_000).unwrap(),
                ip: Some(&ip),
                user: None,
            });
        };
        for i in 0..MAX_PER_DEVICE {
            see(&mut registry, i);
        }
        let mut now = Instant::now();
        let mut sweep = |registry: &Registry, outbox: &mut Outbox| {
            now += MERGE_EVERY;
            outbox.device_changed(id);
            let merges = outbox.sweep(now, false, |id| registry.get(id));
            outbox.send();
            merges
        };
        assert_eq!(sweep(&registry, &mut outbox), 1);
        assert_eq!(merged_ids(&rx.try_recv().unwrap()), [id]);
        assert_eq!(sweep(&registry, &mut outbox), 0, "nothing new");
        see(&mut registry, MAX_PER_DEVICE);
        assert_eq!(sweep(&registry, &mut outbox), 1, "a new IP at the cap");
    }
}
