//! The shard-local device map (DESIGN §4 "Device maps"): what this shard already told the
//! aggregator about each device, so that a delta is sent only when something is new, never per
//! event.
//!
//! A cache, allocated once at its largest: buckets of [`WAYS`] devices in one zeroed allocation
//! (the OS hands its pages over as they are first written). A device goes in its first bucket,
//! found by its id's low bits, or when that is full in its second, found by the bits from the 32nd
//! on: two choices keep every bucket from overflowing until the cache is far fuller than one would
//! (about one device in a hundred ends up in its second while it grows, more as it fills). Only a
//! prefix of the allocation is in use, which doubles, splitting each bucket in two, whenever a new
//! device finds both its buckets full ([`DeviceCache::grow`]): so 10,000 devices lie on 256 to
//! 1,024 pages (512 mostly, as their ids fall), which the processor's TLB holds, instead of some
//! 5,800 pages spread over the whole (a miss to memory and a page walk per record, and 23 MiB of a
//! shard's memory). It never allocates after that. Once all of it is in use, a device that finds
//! both its buckets full takes the place of the one told least recently in either, which costs a
//! repeated delta; never a lost device. Per device it keeps the hashes of the last [`RECENT`] IPs
//! and users it told: a device that comes back to an older one sends it again, and the registry,
//! which keeps them all, ignores it.

use jiff::Timestamp;
use wire::device::Tag;
use xxhash_rust::xxh3::xxh3_64;

use crate::batch::{Batch, DeviceDelta};

/// Devices per bucket.
const WAYS: usize = 4;
/// IP and user hashes remembered per device.
const RECENT: usize = 2;
/// A device's place: id, IP hashes, user hashes, then last_sent, tags and where the next hashes
/// go. Four words make a bucket 128 bytes: two cache lines where the allocation starts on a
/// line's boundary (mimalloc starts one of 32 MiB on a page's), three where it does not.
const WORDS: usize = 4;

/// Feed-time seconds between two "still here" deltas of one device.
const TOUCH_SECS: i64 = 60;

/// What a shard already told the aggregator about one device.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
struct Known {
    id: u64,
    /// Feed time of the last delta, in seconds since 1970 held to 32 bits ([`feed_secs`]): a
    /// delta every `TOUCH_SECS` keeps last_seen fresh.
    last_sent: u32,
    /// Hashes of the IPs and users told most recently (0: none).
    ips: [u32; RECENT],
    users: [u32; RECENT],
    /// Where the next IP and user hash go in `ips` and `users`.
    next_ip: u8,
    next_user: u8,
    /// Tags told; none for an empty place.
    tags: u8,
}

impl Known {
    fn load(w: &[u64; WORDS]) -> Known {
        let pair = |w: u64| [w as u32, (w >> 32) as u32];
        Known {
            id: w[0],
            ips: pair(w[1]),
            users: pair(w[2]),
            last_sent: told_at(w),
            tags: tags(w),
            next_ip: (w[3] >> 40) as u8,
            next_user: (w[3] >> 48) as u8,
        }
    }

    fn store(&self, w: &mut [u64; WORDS]) {
        let pair = |p: [u32; RECENT]| u64::from(p[0]) | u64::from(p[1]) << 32;
        *w = [
            self.id,
            pair(self.ips),
            pair(self.users),
            u64::from(self.last_sent)
                | u64::from(self.tags) << 32
                | u64::from(self.next_ip) << 40
                | u64::from(self.next_user) << 48,
        ];
    }
}

/// The tags of a place's device; none for an empty place.
fn tags(w: &[u64; WORDS]) -> u8 {
    (w[3] >> 32) as u8
}

/// When a place's device was last told ([`Known::last_sent`]).
fn told_at(w: &[u64; WORDS]) -> u32 {
    w[3] as u32
}

/// Feed time in 32 bits: seconds since 1970, a time before it as 0 and one after 2106 as the
/// last second. Its only use is to space "still here" deltas, which a feed whose clock is that
/// far off may go without.
fn feed_secs(seen: Timestamp) -> u32 {
    u32::try_from(seen.as_second().max(0)).unwrap_or(u32::MAX)
}

/// Buckets in use at first: 512 KiB, until both buckets of a new device are full, at some
/// thousands of devices.
const FIRST_IN_USE: usize = 1 << 12;

/// The shard-local device map.
pub struct DeviceCache {
    /// Plain words, so that the allocation is zeroed by the OS rather than written here.
    buckets: Vec<[[u64; WORDS]; WAYS]>,
    /// Memory pages of `buckets` written at least once, a bit each ([`DeviceCache::touch`]).
    written: Vec<u64>,
    /// Buckets in use, from the first: a power of two.
    in_use: usize,
}

/// Bytes of a memory page, and of a bucket.
const PAGE: usize = 4096;
const BUCKET: usize = WAYS * WORDS * 8;

/// The pages bucket `index` of buckets from address `base` lies on: each page's number, and
/// its bit in `written`.
fn pages(base: usize, index: usize) -> impl Iterator<Item = (usize, usize, u64)> {
    let first = (base + index * BUCKET) / PAGE;
    let last = (base + index * BUCKET + BUCKET - 1) / PAGE;
    (first..=last).map(move |page| {
        let bit = page - base / PAGE;
        (page, bit / 64, 1u64 << (bit % 64))
    })
}

impl DeviceCache {
    /// A cache of at least `capacity` devices (rounded up to a power of two), allocated now.
    pub fn new(capacity: usize) -> Self {
        let buckets = capacity.div_ceil(WAYS).next_power_of_two();
        let pages = (buckets * BUCKET).div_ceil(PAGE) + 1;
        DeviceCache {
            buckets: vec![[[0; WORDS]; WAYS]; buckets],
            written: vec![0; pages.div_ceil(64)],
            in_use: buckets.min(FIRST_IN_USE),
        }
    }

    /// The first bucket of device `id`.
    fn index(&self, id: u64) -> usize {
        id as usize & (self.in_use - 1)
    }

    /// The second bucket of device `id`: from other bits of its id, so that devices that share
    /// a first bucket rarely share a second.
    fn second(&self, id: u64) -> usize {
        (id >> 32) as usize & (self.in_use - 1)
    }

    /// Doubles the buckets in use, if it can: each device of bucket `i` stays there or moves to
    /// bucket `i + in_use`, as the next bit of the id bits that chose `i` says. Growing only when
    /// both buckets of a new device are full keeps devices from pushing each other out while there
    /// is room: a device seen in turn with the eight of its two buckets would otherwise push one
    /// out at every record, to be told again. Each doubling is a pass over what is in use; the last
    /// (at about 100,000 devices, 70,000 to 140,000 as their ids fall) reads 16 MiB and has the
    /// kernel hand over 16 more, a stall of milliseconds once in a shard's life. Nine hostnames
    /// whose ids share both sets of bits (a feed could choose them) grow it to the whole
    /// allocation: the bound it always had.
    fn grow(&mut self) -> bool {
        let old = self.in_use;
        if old * 2 > self.buckets.len() {
            return false;
        }
        self.in_use = old * 2;
        for from in 0..old {
            // Read as written: a page never written must not be mapped by a read (`touch`).
            self.touch(from);
            debug_assert!(self.is_written(from));
            for way in 0..WAYS {
                let w = self.buckets[from][way];
                let first = w[0] as usize & (old - 1) == from;
                let to = if first {
                    self.index(w[0])
                } else {
                    self.second(w[0])
                };
                if tags(&w) == 0 || to == from {
                    continue;
                }
                self.touch(to);
                // The upper half is new, so bucket `to` has room for all of `from`'s.
                let place = empty(&self.buckets[to]);
                debug_assert!(place.is_some(), "bucket {to} was in use before it split");
                if let Some(place) = place {
                    self.buckets[to][place] = w;
                    self.buckets[from][way] = [0; WORDS];
                }
            }
        }
        true
    }

    /// Writes a zero to each page of bucket `index` not written before, before the bucket is
    /// read. A page the OS has not handed over yet, read first, is mapped to its shared zero
    /// page, and the first write then replaces that mapping, which makes the kernel flush the
    /// TLB of every core running a thread of ztel (an inter-processor interrupt each, costly in
    /// a VM): that took a third of a shard's CPU while 10,000 devices arrived. Written first,
    /// the page is simply handed over.
    fn touch(&mut self, index: usize) {
        let base = self.buckets.as_ptr() as usize;
        for (page, word, mask) in pages(base, index) {
            if self.written[word] & mask != 0 {
                continue;
            }
            self.written[word] |= mask;
            // The page's first word of the cache: zero, since nothing wrote that page yet.
            let at = (page * PAGE).max(base) - base;
            let w = at / 8;
            let per_bucket = WAYS * WORDS;
            self.buckets[w / per_bucket][w % per_bucket / WORDS][w % WORDS] = 0;
        }
    }

    /// Whether every page of bucket `index` was written first ([`touch`](Self::touch)).
    fn is_written(&self, index: usize) -> bool {
        pages(self.buckets.as_ptr() as usize, index)
            .all(|(_, word, mask)| self.written[word] & mask != 0)
    }

    /// The place a device takes when both its buckets are full and the cache cannot grow: that
    /// of the device told least recently in either (a busy device is not pushed out while one
    /// gone quiet keeps its place in the other bucket), as its bucket and way.
    fn evictee(&self, first: usize, second: usize) -> (usize, usize) {
        [first, second]
            .into_iter()
            .flat_map(|bucket| (0..WAYS).map(move |way| (bucket, way)))
            .min_by_key(|&(bucket, way)| told_at(&self.buckets[bucket][way]))
            .unwrap_or((first, 0))
    }

    /// Asks the processor to bring device `id`'s first bucket into its cache now, so that
    /// [`observe`](Self::observe), called after other work, does not wait for memory: with
    /// thousands of devices the lookup misses the processor's nearer caches. A prefetch never
    /// faults, so a page not written yet stays unmapped (see [`touch`](Self::touch)).
    #[inline]
    pub fn prefetch(&self, id: u64) {
        #[cfg(target_arch = "x86_64")]
        {
            use std::arch::x86_64::{_mm_prefetch, _MM_HINT_T0};
            let bucket = self
                .buckets
                .as_ptr()
                .wrapping_add(self.index(id))
                .cast::<i8>();
            // Addresses at most 64 bytes apart, through the bucket's last byte: every cache
            // line the bucket touches, wherever it starts.
            for line in 0..BUCKET.div_ceil(64) + 1 {
                let at = bucket.wrapping_add((64 * line).min(BUCKET - 1));
                // SAFETY: a prefetch is a hint that reads nothing and cannot fault.
                unsafe { _mm_prefetch::<_MM_HINT_T0>(at) };
            }
        }
        #[cfg(not(target_arch = "x86_64"))]
        let _ = id;
    }

    /// Records a sighting; when the aggregator has not heard it yet, adds the delta to `batch`
    /// (its text to the batch's text) and returns true.
    #[allow(clippy::too_many_arguments)]
    pub fn observe(
        &mut self,
        id: u64,
        key: &str,
        tag: Tag,
        ip: Option<&str>,
        user: Option<&str>,
        seen: Timestamp,
        batch: &mut Batch,
    ) -> bool {
        let (bucket, way) = loop {
            let (first, second) = (self.index(id), self.second(id));
            self.touch(first);
            if let Some(way) = find(&self.buckets[first], id) {
                break (first, way);
            }
            self.touch(second);
            if let Some(way) = find(&self.buckets[second], id) {
                break (second, way);
            }
            // A new device, or one pushed out before.
            if let Some(way) = empty(&self.buckets[first]) {
                break (first, way);
            }
            if let Some(way) = empty(&self.buckets[second]) {
                break (second, way);
            }
            if !self.grow() {
                break self.evictee(first, second);
            }
        };
        let bucket = &mut self.buckets[bucket];
        let mut known = Known::load(&bucket[way]);
        let mut news = false;
        if known.tags == 0 || known.id != id {
            known = Known {
                id,
                ..Known::default()
            };
            news = true;
        }
        if known.tags & tag as u8 == 0 {
            known.tags |= tag as u8;
            news = true;
        }
        let new_ip = ip.filter(|ip| remember(&mut known.ips, &mut known.next_ip, ip));
        let new_user = user.filter(|u| remember(&mut known.users, &mut known.next_user, u));
        let secs = feed_secs(seen);
        let stale = i64::from(secs) >= i64::from(known.last_sent) + TOUCH_SECS;
        if !(news || new_ip.is_some() || new_user.is_some() || stale) {
            return false;
        }
        known.last_sent = known.last_sent.max(secs);
        known.store(&mut bucket[way]);
        let delta = DeviceDelta {
            id,
            key: batch.keep_text(key),
            tag,
            ip: new_ip.map(|ip| batch.keep_text(ip)),
            user: new_user.map(|u| batch.keep_text(u)),
            seen,
        };
        batch.devices.push(delta);
        true
    }
}

/// The place of device `id` in `bucket`.
fn find(bucket: &[[u64; WORDS]; WAYS], id: u64) -> Option<usize> {
    bucket.iter().position(|w| w[0] == id && tags(w) != 0)
}

/// An empty place in `bucket`.
fn empty(bucket: &[[u64; WORDS]; WAYS]) -> Option<usize> {
    bucket.iter().position(|w| tags(w) == 0)
}

/// Adds a value's hash to a device's recent ones; true when it was not there.
fn remember(recent: &mut [u32; RECENT], next: &mut u8, value: &str) -> bool {
    // 0 marks an unused place.
    let h = (xxh3_64(value.as_bytes()) as u32).max(1);
    if recent.contains(&h) {
        return false;
    }
    let at = usize::from(*next) % RECENT;
    recent[at] = h;
    *next = ((at + 1) % RECENT) as u8;
    true
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::batch::{Source, Span};
    use wire::device::device_id;

    fn text<'b>(batch: &'b Batch, span: &Option<Span>) -> Option<&'b str> {
        span.as_ref().map(|s| batch.text(s))
    }

    fn ts(s: i64) -> Timestamp {
        Timestamp::from_second(s).unwrap()
    }

    fn observe(
        c: &mut DeviceCache,
        key: &str,
        tag: Tag,
        ip: Option<&str>,
        user: Option<&str>,
        s: i64,
        batch: &mut Batch,
    ) -> bool {
        c.observe(device_id(key), key, tag, ip, user, ts(s), batch)
    }

    #[test]
    fn cache_sends_only_news() {
        let mut c = DeviceCache::new(100);
        let mut b = Batch::new(0, Source::Tcp);
        assert!(observe(
            &mut c,
            "pc1",
            Tag::Zia,
            Some("10.0.0.1"),
            Some("a@x"),
            1000,
            &mut b
        ));
        assert!(!observe(
            &mut c,
            "pc1",
            Tag::Zia,
            Some("10.0.0.1"),
            Some("a@x"),
            1001,
            &mut b
        ));
        assert!(observe(
            &mut c,
            "pc1",
            Tag::Zia,
            Some("10.0.0.2"),
            Some("a@x"),
            1002,
            &mut b
        ));
        assert!(observe(&mut c, "pc1", Tag::Zpa, None, None, 1003, &mut b));
        // A minute of feed time later the device is touched again.
        assert!(observe(&mut c, "pc1", Tag::Zia, None, None, 1063, &mut b));
        assert_eq!(b.devices.len(), 4);
        let first = &b.devices[0];
        assert_eq!(b.text(&first.key), "pc1");
        assert_eq!(text(&b, &first.ip), Some("10.0.0.1"));
        assert_eq!(text(&b, &first.user), Some("a@x"));
        let ip = &b.devices[1];
        assert_eq!(text(&b, &ip.ip), Some("10.0.0.2"));
        assert_eq!(ip.user, None);
        assert_eq!(b.devices[2].tag, Tag::Zpa);
        assert_eq!(b.devices[3].seen, ts(1063));
    }

    #[test]
    fn churn_sends_each_new_value_and_a_return_to_an_old_one() {
        let mut c = DeviceCache::new(100);
        let mut b = Batch::new(0, Source::Tcp);
        let ips: Vec<String> = (0..10).map(|i| format!("10.0.0.{i}")).collect();
        for ip in &ips {
            assert!(observe(
                &mut c,
                "pc1",
                Tag::Zia,
                Some(ip),
                Some("a@x"),
                1000,
                &mut b
            ));
        }
        // The last two are remembered; an older one is told again (the registry ignores it).
        assert!(!observe(
            &mut c,
            "pc1",
            Tag::Zia,
            Some(&ips[9]),
            Some("a@x"),
            1000,
            &mut b
        ));
        assert!(!observe(
            &mut c,
            "pc1",
            Tag::Zia,
            Some(&ips[8]),
            Some("a@x"),
            1000,
            &mut b
        ));
        assert!(observe(
            &mut c,
            "pc1",
            Tag::Zia,
            Some(&ips[0]),
            Some("a@x"),
            1000,
            &mut b
        ));
        let told: Vec<&str> = b.devices.iter().filter_map(|d| text(&b, &d.ip)).collect();
        assert_eq!(told.len(), 11);
        assert_eq!(
            told[..10],
            ips.iter().map(String::as_str).collect::<Vec<_>>()[..]
        );
        // The user was told once.
        assert_eq!(b.devices.iter().filter(|d| d.user.is_some()).count(), 1);
    }

    #[test]
    fn cache_is_bounded_and_a_device_pushed_out_is_told_again() {
        let mut c = DeviceCache::new(8);
        assert_eq!(c.buckets.len(), 2);
        let mut b = Batch::new(0, Source::Tcp);
        for i in 0..100u64 {
            assert!(c.observe(i, "k", Tag::Zia, None, None, ts(i as i64), &mut b));
        }
        assert_eq!(c.in_use, 2, "all in use, so it pushes out");
        // The most recent ones are still known; the first was pushed out.
        assert!(!c.observe(99, "k", Tag::Zia, None, None, ts(100), &mut b));
        assert!(c.observe(0, "k", Tag::Zia, None, None, ts(100), &mut b));
    }

    #[test]
    fn writing_each_page_first_forgets_no_device() {
        // Devices arrive in no order of their buckets, so pages are first written from any
        // bucket in them, including one that straddles two pages. All of the cache in use, so
        // that its 3,000 devices are spread over all its pages and no bucket overflows.
        let mut c = DeviceCache::new(1 << 16);
        c.in_use = c.buckets.len();
        let mut b = Batch::new(0, Source::Tcp);
        let ids: Vec<u64> = (0..3000u64).map(|i| xxh3_64(&i.to_le_bytes())).collect();
        for (i, &id) in ids.iter().enumerate() {
            assert!(c.observe(
                id,
                "k",
                Tag::Zia,
                Some("10.0.0.1"),
                None,
                ts(i as i64),
                &mut b
            ));
        }
        for (i, &id) in ids.iter().enumerate() {
            let at = ts(i as i64 + 1);
            assert!(
                !c.observe(id, "k", Tag::Zia, Some("10.0.0.1"), None, at, &mut b),
                "{i}"
            );
        }
        let pages = (c.buckets.len() * BUCKET).div_ceil(PAGE);
        let written: u32 = c.written.iter().map(|w| w.count_ones()).sum();
        assert!(written as usize <= pages + 1 && written as usize > pages / 2);
    }

    #[test]
    fn growing_keeps_the_devices_it_knew() {
        let mut c = DeviceCache::new(1 << 20);
        let mut b = Batch::new(0, Source::Tcp);
        let ids: Vec<u64> = (0..10_000u64).map(|i| xxh3_64(&i.to_le_bytes())).collect();
        for (i, &id) in ids.iter().enumerate() {
            assert!(c.observe(id, "k", Tag::Zia, None, None, ts(i as i64), &mut b));
        }
        assert!(c.in_use > FIRST_IN_USE && c.in_use < c.buckets.len());
        let mut places = 0;
        for (i, bucket) in c.buckets.iter().enumerate() {
            for w in bucket.iter().filter(|w| tags(w) != 0) {
                assert!(
                    c.index(w[0]) == i || c.second(w[0]) == i,
                    "in one of its buckets"
                );
                places += 1;
            }
        }
        assert_eq!(places, ids.len());
        // Every one is known: none is told again.
        for &id in &ids {
            assert!(!c.observe(id, "k", Tag::Zia, None, None, ts(1), &mut b));
        }
    }

    #[test]
    fn nine_devices_of_one_pair_of_buckets_seen_in_turn_are_each_told_once() {
        let mut c = DeviceCache::new(1 << 20);
        let mut b = Batch::new(0, Source::Tcp);
        // First bucket 7 and second bucket 0 while FIRST_IN_USE are in use; the next bit parts
        // the first buckets once twice as many are. The first four fill bucket 7, the next
        // four bucket 0, and the ninth finds both full: the cache grows, and it goes in its
        // first bucket then, FIRST_IN_USE + 7.
        let shift = FIRST_IN_USE.trailing_zeros();
        let ks = [0u64, 2, 4, 6, 8, 10, 12, 14, 1];
        let ids: Vec<u64> = ks.iter().map(|k| k << shift | 7).collect();
        for round in 0..3 {
            for &id in &ids {
                let told = c.observe(id, "k", Tag::Zia, None, None, ts(1), &mut b);
                assert_eq!(told, round == 0, "round {round}");
            }
        }
        assert_eq!(c.in_use, 2 * FIRST_IN_USE);
        assert_eq!(b.devices.len(), 9);
        let ninth = |w: &[u64; WORDS]| w[0] == ids[8] && tags(w) != 0;
        assert!(c.buckets[FIRST_IN_USE + 7].iter().any(ninth));
        assert!(
            c.buckets[0].iter().all(|w| tags(w) != 0),
            "four in their second bucket"
        );
    }

    #[test]
    fn nine_devices_whose_ids_share_every_bit_in_use_grow_it_to_its_end_then_push_out() {
        // Twice FIRST_IN_USE buckets in all, and ids alike in every bit either prefix uses.
        let mut c = DeviceCache::new(2 * FIRST_IN_USE * WAYS);
        let mut b = Batch::new(0, Source::Tcp);
        let shift = (2 * FIRST_IN_USE).trailing_zeros();
        let ids: Vec<u64> = (0..9u64).map(|k| k << shift | 7).collect();
        // The four of the first bucket (7) seen last, those of the second (0) before them.
        let seen = [10, 11, 12, 13, 0, 1, 2, 3, 20];
        for (&id, &at) in ids.iter().zip(&seen) {
            assert!(c.observe(id, "k", Tag::Zia, None, None, ts(at), &mut b));
        }
        assert_eq!(c.in_use, c.buckets.len(), "grown as far as it goes");
        // The ninth pushed out the one told least recently of both its buckets: in the second.
        assert!(!c.observe(ids[8], "k", Tag::Zia, None, None, ts(21), &mut b));
        assert!(!c.observe(ids[0], "k", Tag::Zia, None, None, ts(21), &mut b));
        assert!(c.observe(ids[4], "k", Tag::Zia, None, None, ts(21), &mut b));
    }

    #[test]
    fn ten_thousand_devices_use_a_sixteenth_of_the_pages() {
        // The cache of a shard (DEVICE_CACHE_CAPACITY): 32 MiB, of whose 8,192 pages 10,000
        // devices touched some 5,800 before the cache grew from a prefix.
        let mut c = DeviceCache::new(1 << 20);
        let mut b = Batch::new(0, Source::Tcp);
        for i in 0..10_000u64 {
            let id = xxh3_64(&i.to_le_bytes());
            c.observe(id, "k", Tag::Zia, None, None, ts(1), &mut b);
        }
        // These ids grow it to 16,384 buckets in use: 512 pages of 8,192. Others stop at 8,192,
        // rarely 32,768. With one bucket per device it grew to 65,536 (2,048 pages).
        let written: u32 = c.written.iter().map(|w| w.count_ones()).sum();
        assert!(written <= 530, "{written} pages");
    }

    #[test]
    fn feed_times_beyond_32_bits_are_held_not_wrapped() {
        let mut c = DeviceCache::new(100);
        let mut b = Batch::new(0, Source::Tcp);
        let far = i64::from(u32::MAX) + 100;
        assert!(c.observe(1, "k", Tag::Zia, None, None, ts(far), &mut b));
        // Wrapped, `far` would be second 99, and 1,000 a minute later than that.
        assert!(!c.observe(1, "k", Tag::Zia, None, None, ts(1000), &mut b));
        assert!(!c.observe(1, "k", Tag::Zia, None, None, ts(far + 600), &mut b));
        // Before 1970: a device is told once, then spaced from second 0.
        assert!(c.observe(2, "k", Tag::Zia, None, None, ts(-5000), &mut b));
        assert!(!c.observe(2, "k", Tag::Zia, None, None, ts(-100), &mut b));
        assert!(c.observe(2, "k", Tag::Zia, None, None, ts(TOUCH_SECS), &mut b));
    }

    #[test]
    fn known_round_trips_through_its_words() {
        let k = Known {
            id: u64::MAX - 3,
            last_sent: u32::MAX - 5,
            ips: [1, u32::MAX],
            users: [7, 0],
            next_ip: 1,
            next_user: 0,
            tags: 3,
        };
        let mut w = [0; WORDS];
        k.store(&mut w);
        assert_eq!(Known::load(&w), k);
    }
}
