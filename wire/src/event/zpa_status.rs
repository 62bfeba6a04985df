//! A ZPA User Status log (LSS): a Client Connector's session with ZPA. It feeds the registry (the
//! device's IPs and users) and is written as a record of the session (DESIGN §2.4).

use std::borrow::Cow;

use jiff::Timestamp;

use super::zpa_client::{self, LSS_CLIENT_USER};
use super::{lss_log_time, lss_other_time, zpa_ip, Context, Device, Facts, Kind, Reason};
use crate::fields::Fields;
use crate::keys::Field;

/// One session state, borrowing from the parsed frame.
#[derive(Debug, Clone, PartialEq)]
pub struct StatusEvent<'a> {
    pub ts: Timestamp,
    pub hostname: Option<Cow<'a, str>>,
    pub user: Option<Cow<'a, str>>,
    pub client_ip: Option<Cow<'a, str>>,
    pub client_public_ip: Option<Cow<'a, str>>,
    pub platform: Option<Cow<'a, str>>,
    pub client_version: Option<Cow<'a, str>>,
    pub client_type: Option<Cow<'a, str>>,
    pub status: Option<Cow<'a, str>>,
    pub session_id: Option<Cow<'a, str>>,
    pub zen: Option<Cow<'a, str>>,
    pub country: Option<Cow<'a, str>>,
    pub authenticated_at: Option<Timestamp>,
    pub unauthenticated_at: Option<Timestamp>,
    pub bytes_rx: Option<u64>,
    pub bytes_tx: Option<u64>,
    /// Keyed by the hostname, else the user; none for ZPA's services ([`zpa_client::is_service`])
    /// and for a session that names neither (its record is written all the same).
    pub device: Option<Device<'a>>,
}

impl<'a> StatusEvent<'a> {
    pub fn from_fields(f: &Fields<'a>, ctx: &Context<'_>) -> Result<StatusEvent<'a>, Reason> {
        let logged = lss_log_time(f, ctx)?;
        let hostname = f.text(Field::Hostname);
        let user = f.text(Field::Username);
        let client_ip = zpa_ip(f, Field::ClientPrivateIp);
        let client_public_ip = zpa_ip(f, Field::ClientPublicIp);
        let client_type = f.text(Field::ClientType);
        // The public IP is the NAT's, which every machine behind it shares: no device's own.
        let device = zpa_client::device(
            hostname.clone(),
            user.clone(),
            client_type.as_deref(),
            client_ip.clone(),
        );
        // A service's session names no device, nor a hostname in its record.
        let hostname = hostname.filter(|_| device.is_some());
        Ok(StatusEvent {
            ts: super::lss_or_header_time(logged, ctx)?,
            hostname,
            user,
            client_ip,
            client_public_ip,
            platform: f.text(Field::Platform),
            client_version: f.text(Field::Version),
            client_type,
            status: f.text(Field::SessionStatus),
            session_id: f.text(Field::SessionId),
            zen: f.text(Field::Zen),
            country: f.text(Field::CountryCode),
            authenticated_at: lss_other_time(f, Field::AuthenticatedAt),
            unauthenticated_at: lss_other_time(f, Field::UnauthenticatedAt),
            bytes_rx: f.u64(Field::TotalBytesRx),
            bytes_tx: f.u64(Field::TotalBytesTx),
            device,
        })
    }

    /// True for the LSS service's own pseudo-user.
    pub fn is_lss_client(&self) -> bool {
        self.user.as_deref() == Some(LSS_CLIENT_USER)
    }

    /// What the collector needs of it besides its record.
    pub fn into_facts(self) -> Facts<'a> {
        Facts {
            kind: Kind::ZpaUserStatus,
            ts: self.ts,
            device: self.device,
            flow: None,
        }
    }
}
