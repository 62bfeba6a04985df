//! Devices: keys and ids, the shard-local cache that decides when the aggregator must hear about a
//! device, and the registry the aggregator keeps.

use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};

use jiff::Timestamp;
use xxhash_rust::xxh3::xxh3_64;

use crate::json::Object;
use crate::key;

/// The stable id of a device key: xxh3 of the lower-cased key (DESIGN §2.4). The same hostname
/// gets the same id on every shard, restart and collector, with no coordination.
pub fn device_id(key: &str) -> u64 {
    let key = key.trim();
    if key.is_ascii() && key.len() <= 256 {
        // Lower-case on the stack: this runs for every record.
        let mut buf = [0u8; 256];
        let lower = &mut buf[..key.len()];
        lower.copy_from_slice(key.as_bytes());
        lower.make_ascii_lowercase();
        xxh3_64(lower)
    } else {
        xxh3_64(key.to_lowercase().as_bytes())
    }
}

/// Tags a device gains from the telemetry that names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tag {
    Zia = 1,
    Zpa = 2,
}

impl Tag {
    pub fn name(self) -> &'static str {
        match self {
            Tag::Zia => "ZIA",
            Tag::Zpa => "ZPA",
        }
    }
}

/// The most IPs and users remembered per device: a NAT gateway's hostname must not grow without
/// bound.
pub const MAX_PER_DEVICE: usize = 32;

/// What a shard tells the aggregator about a device: sent only when something is new.
#[derive(Debug, Clone, PartialEq)]
pub struct DeviceDelta {
    pub id: u64,
    /// The key as seen (hostname, else IP or user).
    pub key: String,
    pub tag: Tag,
    pub ip: Option<String>,
    pub user: Option<String>,
    /// The record's time.
    pub seen: Timestamp,
}

/// Device ids are already hashes: hashing them again would only cost time.
#[derive(Default)]
pub struct IdHasher(u64);

impl Hasher for IdHasher {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 = self.0.rotate_left(8) ^ u64::from(b);
        }
    }
    fn write_u64(&mut self, n: u64) {
        self.0 = n;
    }
}

type IdMap<V> = HashMap<u64, V, BuildHasherDefault<IdHasher>>;

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

/// A device as the registry knows it.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Device {
    pub hostname: String,
    tags: u8,
    pub first_seen: Timestamp,
    pub last_seen: Timestamp,
    pub ips: Vec<String>,
    pub users: Vec<String>,
}

impl Device {
    pub fn tags(&self) -> impl Iterator<Item = &'static str> + '_ {
        [Tag::Zia, Tag::Zpa]
            .into_iter()
            .filter(|t| self.tags & *t as u8 != 0)
            .map(Tag::name)
    }
}

/// What happened to a device, for the devices file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DeviceEvent {
    Created,
    Tagged,
}

/// The truth about devices, owned by the aggregator.
#[derive(Default)]
pub struct Registry {
    devices: IdMap<Device>,
}

impl Registry {
    pub fn len(&self) -> usize {
        self.devices.len()
    }

    pub fn is_empty(&self) -> bool {
        self.devices.is_empty()
    }

    pub fn get(&self, id: u64) -> Option<&Device> {
        self.devices.get(&id)
    }

    /// Puts back a device saved earlier.
    pub fn insert(&mut self, id: u64, device: Device) {
        self.devices.insert(id, device);
    }

    pub fn iter(&self) -> impl Iterator<Item = (u64, &Device)> {
        self.devices.iter().map(|(id, d)| (*id, d))
    }

    /// Merges a shard's delta; returns the event to log when the device is new or gained a tag.
    pub fn apply(&mut self, d: &DeviceDelta) -> Option<DeviceEvent> {
        let mut event = None;
        let device = self.devices.entry(d.id).or_insert_with(|| {
            event = Some(DeviceEvent::Created);
            Device {
                hostname: d.key.clone(),
                tags: 0,
                first_seen: d.seen,
                last_seen: d.seen,
                ips: Vec::new(),
                users: Vec::new(),
            }
        });
        if device.tags & d.tag as u8 == 0 {
            device.tags |= d.tag as u8;
            event.get_or_insert(DeviceEvent::Tagged);
        }
        device.first_seen = device.first_seen.min(d.seen);
        device.last_seen = device.last_seen.max(d.seen);
        for (value, list) in [(&d.ip, &mut device.ips), (&d.user, &mut device.users)] {
            if let Some(v) = value {
                if list.len() < MAX_PER_DEVICE && !list.contains(v) {
                    list.push(v.clone());
                }
            }
        }
        event
    }
}

/// Appends a device event line (DESIGN §2.4).
pub fn write_event(event: DeviceEvent, id: u64, device: &Device, ts: Timestamp, out: &mut Vec<u8>) {
    let mut o = Object::begin(out);
    o.time(key!("ts"), ts);
    o.str(
        key!("event"),
        match event {
            DeviceEvent::Created => "created",
            DeviceEvent::Tagged => "tagged",
        },
    );
    o.hex_id(key!("device_id"), id);
    o.str(key!("hostname"), &device.hostname);
    o.str_array(key!("tags"), device.tags());
    o.time(key!("first_seen"), device.first_seen);
    o.str_array(key!("ips"), device.ips.iter().map(String::as_str));
    o.str_array(key!("users"), device.users.iter().map(String::as_str));
    o.end_line();
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ts(s: i64) -> Timestamp {
        Timestamp::from_second(s).unwrap()
    }

    #[test]
    fn id_ignores_case_and_padding() {
        assert_eq!(device_id("TestMachine35"), device_id(" testmachine35 "));
        assert_ne!(device_id("TestMachine35"), device_id("TestMachine36"));
        assert_eq!(device_id("ÉCOLE-PC"), device_id("école-pc"));
        assert_eq!(device_id("testmachine35"), xxh3_64(b"testmachine35"));
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

    #[test]
    fn registry_creates_then_tags() {
        let mut r = Registry::default();
        let mut d = DeviceDelta {
            id: 7,
            key: "pc1".into(),
            tag: Tag::Zia,
            ip: Some("10.0.0.1".into()),
            user: None,
            seen: ts(100),
        };
        assert_eq!(r.apply(&d), Some(DeviceEvent::Created));
        assert_eq!(r.apply(&d), None);
        d.tag = Tag::Zpa;
        d.seen = ts(50);
        assert_eq!(r.apply(&d), Some(DeviceEvent::Tagged));
        let dev = r.get(7).unwrap();
        assert_eq!(dev.first_seen, ts(50));
        assert_eq!(dev.last_seen, ts(100));
        assert_eq!(dev.ips, vec!["10.0.0.1"]);
        assert_eq!(dev.tags().collect::<Vec<_>>(), vec!["ZIA", "ZPA"]);
    }
}
