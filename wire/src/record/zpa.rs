//! The ZPA records (DESIGN §2.4): `zpa.user_activity` and `zpa.browser_access` connections, and
//! `zpa.user_status` sessions, fields in the order the schema fixes.

use super::{begin, Writer};
use crate::event::zpa_browser::BrowserEvent;
use crate::event::zpa_status::StatusEvent;
use crate::event::ActivityEvent;
use crate::key;

impl Writer {
    /// Appends the `zpa.user_activity` record of `ev` as one JSON line. Records of the LSS
    /// service's own pseudo-user carry the extra tag `LSS_CLIENT` and name no device.
    pub fn zpa_user_activity(&mut self, ev: &ActivityEvent<'_>, plain: bool, out: &mut Vec<u8>) {
        let mut o = begin(out, plain);
        o.time_cached(key!("ts"), ev.ts, &mut self.time);
        o.raw(key!("kind"), "\"zpa.user_activity\"");
        o.opt_hex_id(key!("device_id"), ev.device.as_ref().map(|d| d.id));
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
        o.opt_time(key!("end"), ev.end);
        if ev.is_lss_client() {
            o.raw(key!("tags"), "[\"ZPA\",\"LSS_CLIENT\"]");
        } else {
            o.raw(key!("tags"), "[\"ZPA\"]");
        }
        o.end_line();
    }

    /// Appends the `zpa.browser_access` record of `ev` as one JSON line.
    pub fn zpa_browser_access(&mut self, ev: &BrowserEvent<'_>, plain: bool, out: &mut Vec<u8>) {
        let mut o = begin(out, plain);
        o.time_cached(key!("ts"), ev.ts, &mut self.time);
        o.raw(key!("kind"), "\"zpa.browser_access\"");
        o.opt_hex_id(key!("device_id"), ev.device.as_ref().map(|d| d.id));
        o.text(key!("device"), ev.hostname.as_ref());
        o.text(key!("user"), ev.user.as_ref());
        o.text(key!("client_ip"), ev.client_ip.as_ref());
        o.text(key!("client_public_ip"), ev.client_public_ip.as_ref());
        o.opt_u64(
            key!("client_public_port"),
            ev.client_public_port.map(u64::from),
        );
        o.text(key!("dst_host"), ev.dst_host.as_ref());
        o.opt_u64(key!("dst_port"), ev.dst_port.map(u64::from));
        o.raw(key!("transport"), "\"tcp\"");
        o.text(key!("app_proto"), ev.app_proto.as_ref());
        o.opt_u64(key!("bytes_out"), ev.bytes_out);
        o.opt_u64(key!("bytes_in"), ev.bytes_in);
        o.text(key!("method"), ev.method.as_ref());
        o.opt_u64(key!("http_status"), ev.http_status);
        o.text(key!("url"), ev.url.as_ref());
        o.text(key!("app"), ev.app.as_ref());
        o.text(key!("app_group"), ev.app_group.as_ref());
        o.text(key!("user_agent"), ev.user_agent.as_ref());
        o.text(key!("status"), ev.status.as_ref());
        o.text(key!("reason"), ev.reason.as_ref());
        o.text(key!("connection_id"), ev.connection_id.as_ref());
        o.raw(key!("tags"), "[\"ZPA\"]");
        o.end_line();
    }

    /// Appends the `zpa.user_status` record of `ev` as one JSON line.
    pub fn zpa_user_status(&mut self, ev: &StatusEvent<'_>, plain: bool, out: &mut Vec<u8>) {
        let mut o = begin(out, plain);
        o.time_cached(key!("ts"), ev.ts, &mut self.time);
        o.raw(key!("kind"), "\"zpa.user_status\"");
        o.opt_hex_id(key!("device_id"), ev.device.as_ref().map(|d| d.id));
        o.text(key!("device"), ev.hostname.as_ref());
        o.text(key!("user"), ev.user.as_ref());
        o.text(key!("client_ip"), ev.client_ip.as_ref());
        o.text(key!("client_public_ip"), ev.client_public_ip.as_ref());
        o.text(key!("platform"), ev.platform.as_ref());
        o.text(key!("client_version"), ev.client_version.as_ref());
        o.text(key!("client_type"), ev.client_type.as_ref());
        o.text(key!("status"), ev.status.as_ref());
        o.text(key!("session_id"), ev.session_id.as_ref());
        o.text(key!("zen"), ev.zen.as_ref());
        o.text(key!("country"), ev.country.as_ref());
        o.opt_time(key!("authenticated_at"), ev.authenticated_at);
        o.opt_time(key!("unauthenticated_at"), ev.unauthenticated_at);
        o.opt_u64(key!("bytes_rx"), ev.bytes_rx);
        o.opt_u64(key!("bytes_tx"), ev.bytes_tx);
        if ev.is_lss_client() {
            o.raw(key!("tags"), "[\"ZPA\",\"LSS_CLIENT\"]");
        } else {
            o.raw(key!("tags"), "[\"ZPA\"]");
        }
        o.end_line();
    }
}
