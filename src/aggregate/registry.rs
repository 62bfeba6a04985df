//! The device registry: the truth about devices, owned by the aggregator, merged from the shards'
//! deltas, persisted by [`super::store`], and the device events of the devices file.

use jiff::Timestamp;
use wire::device::{IdMap, Tag};
use wire::key;
use wire::record::json::Object;

use crate::batch::{DeviceDelta, MAX_PER_DEVICE};

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
    /// Devices new since the admin endpoint's index last took them, oldest first. The index
    /// takes them a chunk at a time ([`Registry::take_created`]), so that no admin request works
    /// on the whole registry under the lock the aggregator takes for every batch. Eight bytes a
    /// device until then.
    created: Vec<u64>,
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
        if self.devices.insert(id, device).is_none() {
            self.created.push(id);
        }
    }

    /// Moves up to `most` of the devices created since the last call into `into`, with their
    /// hostnames, oldest first.
    pub fn take_created(&mut self, most: usize, into: &mut Vec<(String, u64)>) {
        let n = most.min(self.created.len());
        for id in self.created.drain(..n) {
            if let Some(device) = self.devices.get(&id) {
                into.push((device.hostname.clone(), id));
            }
        }
    }

    pub fn iter(&self) -> impl Iterator<Item = (u64, &Device)> {
        self.devices.iter().map(|(id, d)| (*id, d))
    }

    /// Merges a shard's delta; returns the event to log when the device is new or gained a tag.
    pub fn apply(&mut self, d: &DeviceDelta) -> Option<DeviceEvent> {
        let mut event = None;
        let device = self.devices.entry(d.id).or_insert_with(|| {
            event = Some(DeviceEvent::Created);
            self.created.push(d.id);
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

impl DeviceEvent {
    pub fn as_str(self) -> &'static str {
        match self {
            DeviceEvent::Created => "created",
            DeviceEvent::Tagged => "tagged",
        }
    }
}

/// Appends a device event line (DESIGN §2.4).
pub fn write_event(event: DeviceEvent, id: u64, device: &Device, ts: Timestamp, out: &mut Vec<u8>) {
    let mut o = Object::begin(out);
    o.time(key!("ts"), ts);
    o.str(key!("event"), event.as_str());
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
