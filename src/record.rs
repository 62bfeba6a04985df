//! Connection records (DESIGN §2.4), serialised on the shard into the batch buffer.

use crate::json::Object;
use crate::parse::zia::WebEvent;
use crate::parse::zpa::ActivityEvent;

/// Appends the `zia.web` connection record of `ev` as one JSON line.
pub fn write_zia_web(ev: &WebEvent<'_>, device_id: u64, out: &mut Vec<u8>) {
    let mut o = Object::begin(out);
    o.time("ts", ev.ts);
    o.str("kind", "zia.web");
    o.hex_id("device_id", device_id);
    o.opt_str("device", ev.hostname.as_deref());
    o.opt_str("user", ev.user.as_deref());
    o.opt_str("owner", ev.owner.as_deref());
    o.opt_str("src_ip", ev.src_ip.as_deref());
    o.u64("src_port", ev.src_port.into());
    o.opt_str("dst_ip", ev.dst_ip.as_deref());
    o.opt_u64("dst_port", ev.dst_port.map(u64::from));
    o.opt_str("dst_host", ev.dst_host.as_deref());
    o.str("transport", "tcp");
    o.opt_str("app_proto", ev.app_proto.as_deref());
    o.opt_u64("bytes_out", ev.bytes_out);
    o.opt_u64("bytes_in", ev.bytes_in);
    o.opt_str("action", ev.action.as_deref());
    o.opt_str("method", ev.method.as_deref());
    o.opt_u64("status", ev.status);
    o.opt_str("url", ev.url.as_deref());
    o.opt_str("category", ev.category.as_deref());
    o.opt_u64("record_id", ev.record_id);
    o.str_array("tags", ["ZIA"]);
    o.end_line();
}

/// Appends the `zpa.user_activity` connection record of `ev` as one JSON line. Records of the
/// LSS service's own pseudo-user carry the extra tag `LSS_CLIENT` and, without a hostname, no
/// device.
pub fn write_zpa_user_activity(ev: &ActivityEvent<'_>, device_id: Option<u64>, out: &mut Vec<u8>) {
    let mut o = Object::begin(out);
    o.time("ts", ev.ts);
    o.str("kind", "zpa.user_activity");
    if let Some(id) = device_id {
        o.hex_id("device_id", id);
    }
    o.opt_str("device", ev.hostname.as_deref());
    o.opt_str("user", ev.user.as_deref());
    o.opt_str("client_ip", ev.client_ip.as_deref());
    o.opt_str("client_public_ip", ev.client_public_ip.as_deref());
    o.opt_str("connector", ev.connector.as_deref());
    o.opt_str("connector_ip", ev.connector_ip.as_deref());
    o.opt_u64("connector_port", ev.connector_port.map(u64::from));
    o.opt_str("dst_ip", ev.dst_ip.as_deref());
    o.opt_u64("dst_port", ev.dst_port.map(u64::from));
    o.opt_str("dst_host", ev.dst_host.as_deref());
    o.opt_str("transport", ev.transport.as_deref());
    o.opt_str("app", ev.app.as_deref());
    o.opt_str("app_group", ev.app_group.as_deref());
    o.opt_str("policy", ev.policy.as_deref());
    o.opt_str("status", ev.status.as_deref());
    o.opt_str("session_id", ev.session_id.as_deref());
    o.opt_str("connection_id", ev.connection_id.as_deref());
    o.opt_u64("bytes_out", ev.bytes_out);
    o.opt_u64("bytes_in", ev.bytes_in);
    if let Some(end) = ev.end {
        o.time("end", end);
    }
    if ev.is_lss_client() {
        o.str_array("tags", ["ZPA", "LSS_CLIENT"]);
    } else {
        o.str_array("tags", ["ZPA"]);
    }
    o.end_line();
}
