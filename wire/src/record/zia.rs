//! The ZIA connection records (DESIGN §2.4): `zia.web`, `zia.firewall`, `zia.dns`, fields in the
//! order the schema fixes.

use super::{begin, Writer};
use crate::event::zia_dns::DnsEvent;
use crate::event::zia_firewall::FirewallEvent;
use crate::event::WebEvent;
use crate::key;

impl Writer {
    /// Appends the `zia.web` record of `ev` as one JSON line. `plain` says that the frame was read
    /// by the fast path, so that its borrowed values need no escaping.
    pub fn zia_web(&mut self, ev: &WebEvent<'_>, plain: bool, out: &mut Vec<u8>) {
        let mut o = begin(out, plain);
        o.time_cached(key!("ts"), ev.ts, &mut self.time);
        o.raw(key!("kind"), "\"zia.web\"");
        o.opt_hex_id(key!("device_id"), ev.device.as_ref().map(|d| d.id));
        o.text(key!("device"), ev.hostname.as_ref());
        o.text(key!("user"), ev.user.as_ref());
        o.text(key!("owner"), ev.owner.as_ref());
        o.text(key!("src_ip"), ev.src_ip.as_ref());
        o.opt_u64(key!("src_port"), ev.src_port.map(u64::from));
        o.text(key!("dst_ip"), ev.dst_ip.as_ref());
        o.opt_u64(key!("dst_port"), ev.dst_port.map(u64::from));
        o.text_value(key!("dst_host"), ev.dst_host.as_ref());
        o.raw(key!("transport"), "\"tcp\"");
        o.text(key!("app_proto"), ev.app_proto.as_ref());
        o.opt_u64(key!("bytes_out"), ev.bytes_out);
        o.opt_u64(key!("bytes_in"), ev.bytes_in);
        o.text(key!("action"), ev.action.as_ref());
        o.text(key!("method"), ev.method.as_ref());
        o.opt_u64(key!("http_status"), ev.http_status);
        o.text_value(key!("url"), ev.url.as_ref());
        o.text(key!("category"), ev.category.as_ref());
        o.text(key!("app"), ev.app.as_ref());
        o.text_value(key!("user_agent"), ev.user_agent.as_ref());
        o.text_value(key!("referer"), ev.referer.as_ref());
        o.text_value(key!("location"), ev.location.as_ref());
        o.text_value(key!("department"), ev.department.as_ref());
        o.text_value(key!("threat"), ev.threat.as_ref());
        o.text(key!("threat_category"), ev.threat_category.as_ref());
        o.opt_u64(key!("risk"), ev.risk);
        o.id(key!("record_id"), ev.record_id);
        o.raw(key!("tags"), "[\"ZIA\"]");
        o.end_line();
    }

    /// Appends the `zia.firewall` record of `ev` as one JSON line.
    pub fn zia_firewall(&mut self, ev: &FirewallEvent<'_>, plain: bool, out: &mut Vec<u8>) {
        let mut o = begin(out, plain);
        o.time_cached(key!("ts"), ev.ts, &mut self.time);
        o.raw(key!("kind"), "\"zia.firewall\"");
        o.opt_hex_id(key!("device_id"), ev.device.as_ref().map(|d| d.id));
        o.text(key!("device"), ev.hostname.as_ref());
        o.text(key!("user"), ev.user.as_ref());
        o.text(key!("src_ip"), ev.src_ip.as_ref());
        o.opt_u64(key!("src_port"), ev.src_port.map(u64::from));
        o.text(key!("dst_ip"), ev.dst_ip.as_ref());
        o.opt_u64(key!("dst_port"), ev.dst_port.map(u64::from));
        o.text(key!("dst_host"), ev.dst_host.as_ref());
        o.text(key!("nat_ip"), ev.nat_ip.as_ref());
        o.opt_u64(key!("nat_port"), ev.nat_port.map(u64::from));
        o.text(key!("transport"), ev.transport.as_ref());
        o.text(key!("app_proto"), ev.app_proto.as_ref());
        o.text(key!("app"), ev.app.as_ref());
        o.text(key!("action"), ev.action.as_ref());
        o.text_value(key!("rule"), ev.rule.as_ref());
        o.opt_u64(key!("bytes_out"), ev.bytes_out);
        o.opt_u64(key!("bytes_in"), ev.bytes_in);
        o.opt_u64(key!("duration_ms"), ev.duration_ms);
        o.text_value(key!("threat"), ev.threat.as_ref());
        o.text_value(key!("location"), ev.location.as_ref());
        o.text_value(key!("department"), ev.department.as_ref());
        o.id(key!("record_id"), ev.record_id);
        o.raw(key!("tags"), "[\"ZIA\"]");
        o.end_line();
    }

    /// Appends the `zia.dns` record of `ev` as one JSON line.
    pub fn zia_dns(&mut self, ev: &DnsEvent<'_>, plain: bool, out: &mut Vec<u8>) {
        let mut o = begin(out, plain);
        o.time_cached(key!("ts"), ev.ts, &mut self.time);
        o.raw(key!("kind"), "\"zia.dns\"");
        o.opt_hex_id(key!("device_id"), ev.device.as_ref().map(|d| d.id));
        o.text(key!("device"), ev.hostname.as_ref());
        o.text(key!("user"), ev.user.as_ref());
        o.text(key!("src_ip"), ev.src_ip.as_ref());
        o.opt_u64(key!("src_port"), ev.src_port.map(u64::from));
        o.text(key!("dst_ip"), ev.dst_ip.as_ref());
        o.opt_u64(key!("dst_port"), ev.dst_port.map(u64::from));
        o.raw(
            key!("transport"),
            if ev.tcp { "\"tcp\"" } else { "\"udp\"" },
        );
        o.raw(key!("app_proto"), "\"dns\"");
        o.text(key!("query"), ev.query.as_ref());
        o.text(key!("query_type"), ev.query_type.as_ref());
        o.text(key!("answer"), ev.answer.as_ref());
        o.text(key!("action"), ev.action.as_ref());
        o.text_value(key!("rule"), ev.rule.as_ref());
        o.text(key!("category"), ev.category.as_ref());
        o.opt_u64(key!("duration_ms"), ev.duration_ms);
        o.id(key!("record_id"), ev.record_id);
        o.raw(key!("tags"), "[\"ZIA\"]");
        o.end_line();
    }
}
