//! A ZPA User Activity log (LSS) as the values of a connection record (DESIGN §2.4).
//!
//! LSS sends its default JSON template: CamelCase keys, numbers as JSON numbers, timestamps as
//! ctime (`LogTimestamp`) and ISO 8601 (`Timestamp…`). Older field sets lack ClientPrivateIP,
//! Hostname and EventType; all are optional here.

use std::borrow::Cow;

use jiff::tz::TimeZone;
use jiff::Timestamp;

use super::Reason;
use crate::fields::{Fields, Scalar};
use crate::keys::Field;
use crate::time;

/// The user LSS reports for its own control connections: these are not a person and must not
/// become one in the registry.
pub const LSS_CLIENT_USER: &str = "ZPA LSS Client";

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
    /// When LSS wrote this record: periodic "active" updates of one connection differ only here.
    pub logged: Option<Timestamp>,
    pub end: Option<Timestamp>,
}

impl<'a> ActivityEvent<'a> {
    pub fn from_fields(f: &Fields<'a>, received: Timestamp) -> Result<ActivityEvent<'a>, Reason> {
        if let Some(kind) = f.text(Field::EventType) {
            if !is_user_activity(&kind) {
                return Err(Reason::UnknownType);
            }
        }
        // LSS writes its times in UTC; `feed_timezone` is about NSS feeds.
        let start = optional_time(f, Field::ConnStart)?;
        let end = optional_time(f, Field::ConnEnd)?;
        let logged = optional_time(f, Field::LogTimestamp)?;
        let event = ActivityEvent {
            ts: start.or(logged).unwrap_or(received),
            hostname: f.text(Field::Hostname),
            user: f.text(Field::Username),
            client_ip: f.text(Field::ClientPrivateIp),
            client_public_ip: f.text(Field::ClientPublicIp),
            connector: f.text(Field::Connector),
            connector_ip: f.text(Field::ConnectorIp),
            connector_port: port(f, Field::ConnectorPort),
            dst_ip: f.text(Field::ZpaServerIp),
            dst_port: port(f, Field::ZpaServerPort),
            dst_host: f.text(Field::ZpaHost),
            transport: transport(f),
            app: f.text(Field::Application),
            app_group: f.text(Field::AppGroup),
            policy: f.text(Field::Policy),
            status: f.text(Field::ConnStatus).map(status),
            session_id: f.text(Field::SessionId),
            connection_id: f.text(Field::ConnectionId),
            bytes_out: f.u64(Field::BytesRxClient),
            bytes_in: f.u64(Field::BytesTxClient),
            start,
            end,
            logged,
        };
        if event.hostname.is_none() && event.user.is_none() {
            return Err(Reason::NoDevice);
        }
        Ok(event)
    }

    /// True for the LSS service's own pseudo-user.
    pub fn is_lss_client(&self) -> bool {
        self.user.as_deref() == Some(LSS_CLIENT_USER)
    }

    /// The device key (DESIGN §2.4): the hostname, else the user. `None` for the LSS client
    /// without a hostname: it is not a device.
    pub fn device_key(&self) -> Option<&str> {
        match (&self.hostname, &self.user) {
            (Some(h), _) => Some(h),
            (None, Some(_)) if self.is_lss_client() => None,
            (None, Some(u)) => Some(u),
            (None, None) => None,
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

fn optional_time(f: &Fields<'_>, field: Field) -> Result<Option<Timestamp>, Reason> {
    match f.text(field) {
        None => Ok(None),
        Some(text) => time::parse_time(&text, &TimeZone::UTC)
            .map(Some)
            .ok_or(Reason::BadTime),
    }
}

fn port(f: &Fields<'_>, field: Field) -> Option<u16> {
    f.u64(field)
        .and_then(|n| u16::try_from(n).ok())
        .filter(|p| *p != 0)
}

/// IPProtocol is the IP protocol number: 6 tcp, 17 udp, 1 icmp; others as their number.
fn transport<'a>(f: &Fields<'a>) -> Option<Cow<'a, str>> {
    if let Some(n) = f.u64(Field::IpProtocol) {
        return Some(match n {
            6 => Cow::Borrowed("tcp"),
            17 => Cow::Borrowed("udp"),
            1 => Cow::Borrowed("icmp"),
            58 => Cow::Borrowed("icmpv6"),
            other => Cow::Owned(other.to_string()),
        });
    }
    // A template that writes the protocol by name.
    match &f.get(Field::IpProtocol)?.value {
        Scalar::Str(_) => {
            f.text(Field::IpProtocol)
                .map(|t| match t.to_ascii_lowercase().as_str() {
                    "tcp" => Cow::Borrowed("tcp"),
                    "udp" => Cow::Borrowed("udp"),
                    "icmp" => Cow::Borrowed("icmp"),
                    _ => t,
                })
        }
        _ => None,
    }
}

/// ConnectionStatus as LSS writes it ("open", "active", "close"), lower-cased if it is not.
fn status(s: Cow<'_, str>) -> Cow<'_, str> {
    match s.as_ref() {
        "open" | "active" | "close" => s,
        other => Cow::Owned(other.to_ascii_lowercase()),
    }
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
