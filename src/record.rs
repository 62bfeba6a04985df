//! Connection records (DESIGN §2.4), serialised on the shard into the batch buffer.

use crate::json::Object;
use crate::parse::zia::WebEvent;

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
