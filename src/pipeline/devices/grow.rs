//! What the cache does when both buckets of a new device are full: it doubles the buckets in
//! use ([`DeviceCache::grow`]), and once it cannot, the device takes the place of the one told
//! least recently ([`DeviceCache::evictee`]). Apart from the lookup, which calls these only for
//! a new device.

use super::known::{tags, told_at};
use super::{empty, DeviceCache, WAYS, WORDS};

impl DeviceCache {
    /// Doubles the buckets in use, if it can: each device of bucket `i` stays there or moves to
    /// bucket `i + in_use`, as the next bit of the id bits that chose `i` says. Growing only when
    /// both buckets of a new device are full keeps devices from pushing each other out while there
    /// is room: a device seen in turn with the eight of its two buckets would otherwise push one
    /// out at every record, to be told again. Each doubling is a pass over what is in use; the last
    /// (at about 100,000 devices, 70,000 to 140,000 as their ids fall) reads 16 MiB and has the
    /// kernel hand over 16 more, a stall of milliseconds once in a shard's life. Nine hostnames
    /// whose ids share both sets of bits (a feed could choose them) grow it to the whole
    /// allocation: the bound it always had.
    pub(super) fn grow(&mut self) -> bool {
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

    /// The place a device takes when both its buckets are full and the cache cannot grow: that
    /// of the device told least recently in either (a busy device is not pushed out while one
    /// gone quiet keeps its place in the other bucket), as its bucket and way.
    pub(super) fn evictee(&self, first: usize, second: usize) -> (usize, usize) {
        [first, second]
            .into_iter()
            .flat_map(|bucket| (0..WAYS).map(move |way| (bucket, way)))
            .min_by_key(|&(bucket, way)| told_at(&self.buckets[bucket][way]))
            .unwrap_or((first, 0))
    }
}
