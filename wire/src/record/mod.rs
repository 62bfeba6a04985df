//! Records (DESIGN §2.4) as JSON lines, written on the shard into the batch buffer: fields in a
//! fixed order, absent values left out. `json` is the writer, `time` the RFC 3339 text.

pub mod json;
pub mod time;

use crate::decode::Decoded;
use crate::device::device_id;
use crate::event::{ActivityEvent, Event, WebEvent};
use crate::key;
use json::Object;
use time::TimeCache;

/// Writes records; keeps what consecutive records share.
#[derive(Debug, Default)]
pub struct Writer {
    time: TimeCache,
}

impl Writer {
    /// Appends the record of a decoded frame as one JSON line; returns the device id it names
    /// (DESIGN §2.4: the hostname's, else the client IP's or the user's), if any.
    pub fn write(&mut self, decoded: &Decoded<'_>, out: &mut Vec<u8>) -> Option<u64> {
        match &decoded.event {
            Event::ZiaWeb(ev) => {
                let id = device_id(ev.device_key());
                self.zia_web(ev, id, decoded.plain, out);
                Some(id)
            }
            Event::ZpaUserActivity(ev) => {
                let id = ev.device_key().map(device_id);
                self.zpa_user_activity(ev, id, decoded.plain, out);
                id
            }
        }
    }

    /// Appends the `zia.web` connection record of `ev` as one JSON line. `plain` says that the
    /// frame was read by the fast path, so that its borrowed values need no escaping.
    pub fn zia_web(&mut self, ev: &WebEvent<'_>, device_id: u64, plain: bool, out: &mut Vec<u8>) {
        let mut o = begin(out, plain);
        o.time_cached(key!("ts"), ev.ts, &mut self.time);
        o.raw(key!("kind"), "\"zia.web\"");
        o.hex_id(key!("device_id"), device_id);
        o.text(key!("device"), ev.hostname.as_ref());
        o.text(key!("user"), ev.user.as_ref());
        o.text(key!("owner"), ev.owner.as_ref());
        o.text(key!("src_ip"), ev.src_ip.as_ref());
        o.u64(key!("src_port"), ev.src_port.into());
        o.text(key!("dst_ip"), ev.dst_ip.as_ref());
        o.opt_u64(key!("dst_port"), ev.dst_port.map(u64::from));
        o.text(key!("dst_host"), ev.dst_host.as_ref());
        o.raw(key!("transport"), "\"tcp\"");
        o.text(key!("app_proto"), ev.app_proto.as_ref());
        o.opt_u64(key!("bytes_out"), ev.bytes_out);
        o.opt_u64(key!("bytes_in"), ev.bytes_in);
        o.text(key!("action"), ev.action.as_ref());
        o.text(key!("method"), ev.method.as_ref());
        o.opt_u64(key!("status"), ev.status);
        o.text(key!("url"), ev.url.as_ref());
        o.text(key!("category"), ev.category.as_ref());
        o.opt_u64(key!("record_id"), ev.record_id);
        o.raw(key!("tags"), "[\"ZIA\"]");
        o.end_line();
    }

    /// Appends the `zpa.user_activity` connection record of `ev` as one JSON line. Records of the
    /// LSS service's own pseudo-user carry the extra tag `LSS_CLIENT` and, without a hostname, no
    /// device.
    pub fn zpa_user_activity(
        &mut self,
        ev: &ActivityEvent<'_>,
        device_id: Option<u64>,
        plain: bool,
        out: &mut Vec<u8>,
    ) {
        let mut o = begin(out, plain);
        o.time_cached(key!("ts"), ev.ts, &mut self.time);
        o.raw(key!("kind"), "\"zpa.user_activity\"");
        if let Some(id) = device_id {
            o.hex_id(key!("device_id"), id);
        }
        o.text(key!("device"), ev.hostname.as_ref());
        o.text(key!("user"), ev.user.as_ref());
        o.text(key!("client_ip"), ev.client_ip.as_ref());
        o.text(key!("client_public_ip"), ev.client_public_ip.as_ref());
        o.text(key!("connector"), ev.connector.as_ref());
        o.text(key!("connector_ip"), ev.connector_ip.as_ref());
        o.opt_u64(key!("connector_port"), ev.connector_port.map(u64::from));
        o.text(key!("dst_ip"), ev.dst_ip.as_ref());
        o.opt_u64(key!("dst_port"), ev.dst_port.map(u64::from));
        o.text(key!("dst_host"), ev.dst_host.as_ref());
        o.text(key!("transport"), ev.transport.as_ref());
        o.text(key!("app"), ev.app.as_ref());
        o.text(key!("app_group"), ev.app_group.as_ref());
        o.text(key!("policy"), ev.policy.as_ref());
        o.text(key!("status"), ev.status.as_ref());
        o.text(key!("session_id"), ev.session_id.as_ref());
        o.text(key!("connection_id"), ev.connection_id.as_ref());
        o.opt_u64(key!("bytes_out"), ev.bytes_out);
        o.opt_u64(key!("bytes_in"), ev.bytes_in);
        if let Some(end) = ev.end {
            o.time(key!("end"), end);
        }
        if ev.is_lss_client() {
            o.raw(key!("tags"), "[\"ZPA\",\"LSS_CLIENT\"]");
        } else {
            o.raw(key!("tags"), "[\"ZPA\"]");
        }
        o.end_line();
    }
}

/// Room for a whole record at once, so that the writes that follow do not grow the buffer.
const RECORD_RESERVE: usize = 4096;

fn begin(out: &mut Vec<u8>, plain: bool) -> Object<'_> {
    out.reserve(RECORD_RESERVE);
    if plain {
        Object::begin_plain_borrowed(out)
    } else {
        Object::begin(out)
    }
}
