//! The shard-local device map (DESIGN §4 "Device maps"): what this shard already told the
//! aggregator about each device, so that a delta is sent only when something is new, never per
//! event.

use jiff::Timestamp;
use wire::device::{IdMap, Tag};
use xxhash_rust::xxh3::xxh3_64;

use crate::batch::{DeviceDelta, MAX_PER_DEVICE};

/// What a shard already told the aggregator about one device.
#[derive(Default)]
struct Known {
    tags: u8,
    ips: Vec<u64>,
    users: Vec<u64>,
    /// Feed time (seconds) of the last delta: a delta every `TOUCH_SECS` keeps last_seen fresh.
    last_sent: i64,
}

/// Feed-time seconds between two "still here" deltas of one device.
const TOUCH_SECS: i64 = 60;

/// The shard-local device map. It is a cache: when it holds `capacity` devices it is cleared,
/// which costs only repeated deltas, never a lost device.
pub struct DeviceCache {
    known: IdMap<Known>,
    capacity: usize,
}

impl DeviceCache {
    pub fn new(capacity: usize) -> Self {
        DeviceCache {
            known: IdMap::default(),
            capacity,
        }
    }

    /// Records a sighting and returns the delta to send, if the aggregator has not heard it yet.
    pub fn observe(
        &mut self,
        id: u64,
        key: &str,
        tag: Tag,
        ip: Option<&str>,
        user: Option<&str>,
        seen: Timestamp,
    ) -> Option<DeviceDelta> {
        if self.known.len() >= self.capacity && !self.known.contains_key(&id) {
            self.known.clear();
        }
        let mut fresh = false;
        let known = self.known.entry(id).or_insert_with(|| {
            fresh = true;
            Known::default()
        });
        let mut news = fresh;
        if known.tags & tag as u8 == 0 {
            known.tags |= tag as u8;
            news = true;
        }
        let new_ip = ip.filter(|ip| remember(&mut known.ips, ip));
        let new_user = user.filter(|u| remember(&mut known.users, u));
        let secs = seen.as_second();
        let stale = secs >= known.last_sent + TOUCH_SECS;
        if !(news || new_ip.is_some() || new_user.is_some() || stale) {
            return None;
        }
        known.last_sent = known.last_sent.max(secs);
        Some(DeviceDelta {
            id,
            key: key.to_owned(),
            tag,
            ip: new_ip.map(str::to_owned),
            user: new_user.map(str::to_owned),
            seen,
        })
    }
}

/// Adds a value's hash to a bounded set; true when it was not there and there was room.
fn remember(set: &mut Vec<u64>, value: &str) -> bool {
    let h = xxh3_64(value.as_bytes());
    if set.len() >= MAX_PER_DEVICE || set.contains(&h) {
        return false;
    }
    set.push(h);
    true
}

#[cfg(test)]
mod tests {
    use super::*;
    use wire::device::device_id;

    fn ts(s: i64) -> Timestamp {
        Timestamp::from_second(s).unwrap()
    }

    #[test]
    fn cache_sends_only_news() {
        let mut c = DeviceCache::new(100);
        let id = device_id("pc1");
        let first = c.observe(id, "pc1", Tag::Zia, Some("10.0.0.1"), Some("a@x"), ts(1000));
        assert!(first.is_some());
        assert!(c
            .observe(id, "pc1", Tag::Zia, Some("10.0.0.1"), Some("a@x"), ts(1001))
            .is_none());
        let ip = c
            .observe(id, "pc1", Tag::Zia, Some("10.0.0.2"), Some("a@x"), ts(1002))
            .unwrap();
        assert_eq!(ip.ip.as_deref(), Some("10.0.0.2"));
        assert_eq!(ip.user, None);
        assert!(c
            .observe(id, "pc1", Tag::Zpa, None, None, ts(1003))
            .is_some());
        // A minute of feed time later the device is touched again.
        assert!(c
            .observe(id, "pc1", Tag::Zia, None, None, ts(1063))
            .is_some());
    }

    #[test]
    fn cache_is_bounded() {
        let mut c = DeviceCache::new(2);
        for i in 0..10u64 {
            c.observe(i, "k", Tag::Zia, None, None, ts(1));
            assert!(c.known.len() <= 2);
        }
    }
}
