//! Device events: the line the devices file gets when a device is created or gains a tag
//! (DESIGN §2.4).

use jiff::Timestamp;
use wire::key;
use wire::record::json::Object;

use super::Device;

/// What happened to a device, for the devices file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DeviceEvent {
    Created,
    Tagged,
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
    o.str(key!("hostname"), device.hostname);
    o.str_array(key!("tags"), device.tags());
    o.time(key!("first_seen"), device.first_seen);
    o.str_array(key!("ips"), device.ips());
    o.str_array(key!("users"), device.users());
    o.end_line();
}
