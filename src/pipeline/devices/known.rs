//! A device's place in the cache, four words, and what [`Known`] reads from and writes to it:
//! the packing of the id, the recent IP and user hashes, when it was last and first told and its
//! tags.
//! Apart from the cache itself because only this file knows which bits mean what.

use jiff::Timestamp;
use xxhash_rust::xxh3::xxh3_64;

use super::{RECENT, WORDS};

/// What a shard already told the aggregator about one device.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub(super) struct Known {
    pub(super) id: u64,
    /// Feed time of the last delta, in seconds since 1970 held to 32 bits ([`feed_secs`]): a
    /// delta every `TOUCH_SECS` keeps last_seen fresh.
    pub(super) last_sent: u32,
    /// The earliest feed time told: a record a minute before it moves the registry's
    /// `first_seen` back, so it is told too. Kept as its distance below `last_sent`, in
    /// [`BACK_BITS`]; one as far back as they hold (48 days) or further reads as 0, told far
    /// back, so that a backfill of older records does not send a delta per record.
    pub(super) first_sent: u32,
    /// Hashes of the IPs and users told most recently (0: none).
    pub(super) ips: [u32; RECENT],
    pub(super) users: [u32; RECENT],
    /// Where the next IP and user hash go in `ips` and `users`.
    pub(super) next_ip: u8,
    pub(super) next_user: u8,
    /// Tags told; none for an empty place.
    pub(super) tags: u8,
}

/// Bits of the fourth word for [`Known::first_sent`]'s distance below `last_sent`.
pub(super) const BACK_BITS: u32 = 22;
const BACK_MOST: u32 = (1 << BACK_BITS) - 1;
// `next_ip` and `next_user` take a bit each.
const _: () = assert!(RECENT <= 2);

impl Known {
    pub(super) fn load(w: &[u64; WORDS]) -> Known {
        let pair = |w: u64| [w as u32, (w >> 32) as u32];
        let last_sent = told_at(w);
        let back = (w[3] >> 42) as u32 & BACK_MOST;
        Known {
            id: w[0],
            ips: pair(w[1]),
            users: pair(w[2]),
            last_sent,
            first_sent: match back {
                BACK_MOST => 0,
                back => last_sent.saturating_sub(back),
            },
            tags: tags(w),
            next_ip: (w[3] >> 40) as u8 & 1,
            next_user: (w[3] >> 41) as u8 & 1,
        }
    }

    pub(super) fn store(&self, w: &mut [u64; WORDS]) {
        let pair = |p: [u32; RECENT]| u64::from(p[0]) | u64::from(p[1]) << 32;
        let back = self
            .last_sent
            .saturating_sub(self.first_sent)
            .min(BACK_MOST);
        *w = [
            self.id,
            pair(self.ips),
            pair(self.users),
            u64::from(self.last_sent)
                | u64::from(self.tags) << 32
                | u64::from(self.next_ip & 1) << 40
                | u64::from(self.next_user & 1) << 41
                | u64::from(back) << 42,
        ];
    }
}

/// The tags of a place's device; none for an empty place.
pub(super) fn tags(w: &[u64; WORDS]) -> u8 {
    (w[3] >> 32) as u8
}

/// When a place's device was last told ([`Known::last_sent`]).
pub(super) fn told_at(w: &[u64; WORDS]) -> u32 {
    w[3] as u32
}

/// Feed time in 32 bits: seconds since 1970, a time before it as 0 and one after 2106 as the
/// last second. Its only use is to space "still here" deltas, which a feed whose clock is that
/// far off may go without.
pub(super) fn feed_secs(seen: Timestamp) -> u32 {
    u32::try_from(seen.as_second().max(0)).unwrap_or(u32::MAX)
}

/// Adds a value's hash to a device's recent ones; true when it was not there.
pub(super) fn remember(recent: &mut [u32; RECENT], next: &mut u8, value: &str) -> bool {
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

    #[test]
    fn known_round_trips_through_its_words() {
        let k = Known {
            id: u64::MAX - 3,
            last_sent: u32::MAX - 5,
            first_sent: u32::MAX - 5 - (BACK_MOST - 1),
            ips: [1, u32::MAX],
            users: [7, 0],
            next_ip: 1,
            next_user: 0,
            tags: 3,
        };
        let mut w = [0; WORDS];
        k.store(&mut w);
        assert_eq!(Known::load(&w), k);
        // As far back as the bits hold, or further: told far back.
        for first_sent in [7, u32::MAX - 5 - BACK_MOST] {
            Known { first_sent, ..k }.store(&mut w);
            assert_eq!(Known::load(&w), Known { first_sent: 0, ..k });
        }
    }
}
