//! A ZPA User Activity log (LSS) as the values of a connection record (DESIGN §2.4).
//!
//! LSS sends its default JSON template: CamelCase keys, numbers as JSON numbers, timestamps as
//! ctime (`LogTimestamp`) and ISO 8601 (`Timestamp…`). Older field sets lack ClientPrivateIP,
//! Hostname and EventType; all are optional here. LSS writes `"0"` where a connector, policy,
//! server, address or time is absent: that is no name, no IP and no time.

use std::borrow::Cow;

use jiff::Timestamp;

use super::zpa_client::{self, LSS_CLIENT_USER};
use super::{
    lss_logged, lss_time, port, transport, zpa_ip, zpa_name, Context, Device, Facts, Flow, Kind,
    Reason,
};
use crate::fields::Fields;
use crate::keys::Field;

/// One user-activity record, borrowing from the parsed frame.
#[derive(Debug, Clone, PartialEq)]
pub struct ActivityEvent<'a> {
    pub ts: Timestamp,
    pub hostname: Option<Cow<'a, str>>,
    pub user: Option<Cow<'a, str>>,
    pub client_ip: Option<Cow<'a, str>>,
    pub client_public_ip: Option<Cow<'a, str>>,
    pub connector: Option<Cow<'a, str>>,
    pub connector_ip: Option<Cow<'a, str>>,
    pub connector_port: Option<u16>,
    pub dst_ip: Option<Cow<'a, str>>,
    pub dst_port: Option<u16>,
    pub dst_host: Option<Cow<'a, str>>,
    pub transport: Option<Cow<'a, str>>,
    pub app: Option<Cow<'a, str>>,
    pub app_group: Option<Cow<'a, str>>,
    pub policy: Option<Cow<'a, str>>,
    pub status: Option<Cow<'a, str>>,
    pub session_id: Option<Cow<'a, str>>,
    pub connection_id: Option<Cow<'a, str>>,
    pub bytes_out: Option<u64>,
    pub bytes_in: Option<u64>,
    /// When the connection began (TimestampConnectionStart), for attribution.
    pub start: Option<Timestamp>,
    pub end: Option<Timestamp>,
    /// When LSS logged it (LogTimestamp): later than `start` in an "active" record.
    pub logged: Option<Timestamp>,
    /// For a close whose end LSS left out (`""`, `"0"`): when it was logged, no earlier than its
    /// start nor later than its arrival. The connection had ended by then; taken as open, it was
    /// answered for a day more. Only attribution takes it: the record says no end.
    pub closed_at: Option<Timestamp>,
    /// The device the record names: none for ZPA's services ([`zpa_client::is_service`]), nor
    /// when it names neither a hostname nor a user (a connection all the same, written).
    pub device: Option<Device<'a>>,
}

impl<'a> ActivityEvent<'a> {
    pub fn from_fields(f: &Fields<'a>, ctx: &Context<'_>) -> Result<ActivityEvent<'a>, Reason> {
        if let Some(kind) = f.text(Field::EventType) {
            if !is_user_activity(&kind) {
                return Err(Reason::UnknownType);
            }
        }
        // LSS writes its times in UTC; `feed_timezone` is about NSS feeds.
        // The start dates the record; when it is there, the log line's own time is a second
        // one. The end stays strict: it decides whom an attribution answer names.
        let start = lss_time(f, Field::ConnStart)?;
        let end = lss_time(f, Field::ConnEnd)?;
        let logged = lss_logged(f, ctx, start.is_some())?;
        let hostname = f.text(Field::Hostname);
        let user = f.text(Field::Username);
        let client_ip = zpa_ip(f, Field::ClientPrivateIp);
        let client_type = f.text(Field::ClientType);
        let device = zpa_client::device(
            hostname.clone(),
            user.clone(),
            client_type.as_deref(),
            client_ip.clone(),
        );
        let status = f.text(Field::ConnStatus).map(super::lower);
        let closed_at = match (status.as_deref(), end, logged) {
            (Some("close"), None, Some(logged)) => Some(
                logged
                    .min(ctx.received)
                    .max(start.unwrap_or(Timestamp::MIN)),
            ),
            _ => None,
        };
        // A service's connections (the LSS client's are the log stream's own) name no device:
        // whatever hostname they carry is no person's machine, and the record says none either.
        let hostname = hostname.filter(|_| device.is_some());
        Ok(ActivityEvent {
            ts: super::lss_or_header_time(start.or(logged), ctx)?,
            hostname,
            user,
            client_ip,
            client_public_ip: zpa_ip(f, Field::ClientPublicIp),
            connector: zpa_name(f, Field::Connector),
            connector_ip: zpa_ip(f, Field::ConnectorIp),
            connector_port: port(f, Field::ConnectorPort),
            dst_ip: zpa_ip(f, Field::ZpaServerIp),
            dst_port: port(f, Field::ZpaServerPort),
            dst_host: f.text(Field::ZpaHost),
            transport: transport(f, Field::IpProtocol),
            app: f.text(Field::Application),
            app_group: f.text(Field::AppGroup),
            policy: zpa_name(f, Field::Policy),
            status,
            session_id: f.text(Field::SessionId),
            connection_id: f.text(Field::ConnectionId),
            bytes_out: f.u64(Field::BytesRxClient),
            bytes_in: f.u64(Field::BytesTxClient),
            start,
            end,
            logged,
            closed_at,
            device,
        })
    }

    /// True for the LSS service's own pseudo-user.
    pub fn is_lss_client(&self) -> bool {
        self.user.as_deref() == Some(LSS_CLIENT_USER)
    }

    /// What the collector needs of it besides its record: the device, and the connection for
    /// attribution when the record names both of its ends.
    pub fn into_facts(self) -> Facts<'a> {
        let flow = (|| {
            if self.is_lss_client() {
                return None;
            }
            Some(Flow {
                connector_ip: self.connector_ip.as_deref()?.parse().ok()?,
                connector_port: self.connector_port?,
                server_ip: self.dst_ip.as_deref()?.parse().ok()?,
                server_port: self.dst_port?,
                user: self.user.clone()?,
                device: self.hostname.clone(),
                device_id: self.device.as_ref().map(|d| d.id),
                session_id: self.session_id.clone(),
                connection_id: self.connection_id.clone(),
                start: self.start.unwrap_or(self.ts),
                end: self.end.or(self.closed_at),
            })
        })();
        Facts {
            kind: Kind::ZpaUserActivity,
            ts: self.logged.map_or(self.ts, |logged| logged.max(self.ts)),
            device: self.device,
            flow,
        }
    }
}

/// `EventType` appears in newer templates as "user-activity"; other LSS log types (connector
/// status, browser access, audit) are not connections.
fn is_user_activity(kind: &str) -> bool {
    let mut letters = kind
        .bytes()
        .filter(u8::is_ascii_alphanumeric)
        .map(|b| b.to_ascii_lowercase());
    letters.by_ref().eq(b"useractivity".iter().copied())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn event_types() {
        for yes in [
            "user-activity",
            "UserActivity",
            "User Activity",
            "user_activity",
        ] {
            assert!(is_user_activity(yes), "{yes}");
        }
        for no in ["connector-status", "user-status", "audit", "useractivityx"] {
            assert!(!is_user_activity(no), "{no}");
        }
    }
}
