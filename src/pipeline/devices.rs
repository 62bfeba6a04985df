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
//! which keeps them all, moves it last in its list. Its "still here" delta, at most once a minute
//! of feed time, carries its current IP and user, told or not; and a record a minute or more
//! before the earliest it told is told, to move the device's first sighting back.
//!
//! Here the lookup ([`DeviceCache::observe`]); what a place holds is in `known`, growing and
//! pushing out in `grow`, writing each page before its first read in `pages`.

mod grow;
mod known;
mod pages;
#[cfg(test)]
mod tests;

use jiff::Timestamp;
use wire::device::Tag;

use crate::batch::{Batch, DeviceDelta};
use known::{feed_secs, remember, tags, Known};
use pages::PAGE;

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

/// Bytes of a bucket.
const BUCKET: usize = WAYS * WORDS * 8;

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
        // A new device, or one in the place of another: nothing told yet.
        let fresh = known.tags == 0 || known.id != id;
        let mut news = fresh;
        if fresh {
            known = Known {
                id,
                ..Known::default()
            };
        }
        if known.tags & tag as u8 == 0 {
            known.tags |= tag as u8;
            news = true;
        }
        let new_ip = ip.filter(|ip| remember(&mut known.ips, &mut known.next_ip, ip));
        let new_user = user.filter(|u| remember(&mut known.users, &mut known.next_user, u));
        let secs = feed_secs(seen);
        let stale = i64::from(secs) >= i64::from(known.last_sent) + TOUCH_SECS;
        // A record a minute or more before any told moves the registry's `first_seen` back
        // (records out of order: a hot connection's hand-off, a feed's replay). Within the
        // minute it lags as `last_seen` does: a feed sent newest first (an export) costs a
        // delta a minute, as the "still here" ones do, not one per record.
        let earlier = !fresh && i64::from(secs) + TOUCH_SECS <= i64::from(known.first_sent);
        if !(news || new_ip.is_some() || new_user.is_some() || stale || earlier) {
            return false;
        }
        known.first_sent = if fresh {
            secs
        } else {
            known.first_sent.min(secs)
        };
        known.last_sent = known.last_sent.max(secs);
        known.store(&mut bucket[way]);
        // A "still here" delta carries the device's current IP and user even when this shard
        // told them before: another shard may have told the registry 32 newer ones since, and
        // pushed these out of its lists, so that the device's newest sighting would show its
        // old addresses. The registry moves a value it holds last. At most once a minute of feed
        // time per device, so the churn path pays nothing more.
        let (ip, user) = if stale {
            (ip, user)
        } else {
            (new_ip, new_user)
        };
        let delta = DeviceDelta {
            id,
            key: batch.keep_text(key),
            tag,
            ip: ip.map(|ip| batch.keep_text(ip)),
            user: user.map(|u| batch.keep_text(u)),
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
