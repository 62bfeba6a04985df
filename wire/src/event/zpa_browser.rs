//! A ZPA Browser Access log (LSS) as a connection record like `zia.web` (DESIGN §2.4): a user's
//! HTTP request to an application published through a browser, without Client Connector.

use std::borrow::Cow;

use jiff::Timestamp;

use super::zpa_client::{self, BROWSER};
use super::{lower, lss_logged, lss_time, port, zpa_ip, Context, Device, Facts, Kind, Reason};
use crate::fields::Fields;
use crate::keys::Field;

/// One request, borrowing from the parsed frame.
#[derive(Debug, Clone, PartialEq)]
pub struct BrowserEvent<'a> {
    pub ts: Timestamp,
    /// The Hostname its template may name: the record's `device`.
    pub hostname: Option<Cow<'a, str>>,
    pub user: Option<Cow<'a, str>>,
    pub client_ip: Option<Cow<'a, str>>,
    pub client_public_ip: Option<Cow<'a, str>>,
    /// The port of `client_public_ip` (LSS's ClientPublicPort).
    pub client_public_port: Option<u16>,
    pub dst_host: Option<Cow<'a, str>>,
    pub dst_port: Option<u16>,
    pub app_proto: Option<Cow<'a, str>>,
    pub method: Option<Cow<'a, str>>,
    pub http_status: Option<u64>,
    pub url: Option<Cow<'a, str>>,
    pub user_agent: Option<Cow<'a, str>>,
    pub app: Option<Cow<'a, str>>,
    pub app_group: Option<Cow<'a, str>>,
    pub bytes_out: Option<u64>,
    pub bytes_in: Option<u64>,
    pub status: Option<Cow<'a, str>>,
    pub reason: Option<Cow<'a, str>>,
    pub connection_id: Option<Cow<'a, str>>,
    /// A hostname's, if the template names one; a browser's session is no device of its own.
    pub device: Option<Device<'a>>,
}

impl<'a> BrowserEvent<'a> {
    pub fn from_fields(f: &Fields<'a>, ctx: &Context<'_>) -> Result<BrowserEvent<'a>, Reason> {
        let received = lss_time(f, Field::RequestReceived)?;
        let logged = lss_logged(f, ctx, received.is_some())?;
        let user = f.text(Field::Username);
        let client_ip = zpa_ip(f, Field::ClientPrivateIp);
        let hostname = f.text(Field::Hostname);
        // A browser's session, as User Activity logs it under the exporter client type: keyed
        // by its user, it would be a device that does not exist (see `zpa_client`).
        let device = zpa_client::device(
            hostname.clone(),
            user.clone(),
            Some(BROWSER),
            client_ip.clone(),
        );
        Ok(BrowserEvent {
            ts: super::lss_or_header_time(received.or(logged), ctx)?,
            hostname,
            user,
            client_ip,
            client_public_ip: zpa_ip(f, Field::ClientPublicIp),
            client_public_port: port(f, Field::ClientPort),
            dst_host: f.text(Field::ZpaHost),
            dst_port: port(f, Field::ZpaServerPort),
            app_proto: f.text(Field::Proto).map(lower),
            method: f.text(Field::Method),
            http_status: f.u64(Field::RespCode),
            url: f.text(Field::Url),
            user_agent: f.text(Field::UserAgent),
            app: f.text(Field::Application),
            app_group: f.text(Field::AppGroup),
            bytes_out: f.u64(Field::BytesOut),
            bytes_in: f.u64(Field::BytesIn),
            status: f.text(Field::ConnStatus).map(lower),
            reason: f.text(Field::ConnectionReason),
            connection_id: f.text(Field::ConnectionId),
            device,
        })
    }

    /// What the collector needs of it besides its record.
    pub fn into_facts(self) -> Facts<'a> {
        Facts {
            kind: Kind::ZpaBrowserAccess,
            ts: self.ts,
            device: self.device,
            flow: None,
        }
    }
}
