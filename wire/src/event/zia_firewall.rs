//! A ZIA firewall log (NSS for Firewall) as a connection record (DESIGN §2.4): the client's real
//! source port (no simulated one), the NAT addresses and non-HTTP traffic.

use std::borrow::Cow;

use jiff::Timestamp;

use super::{
    duration_ms, lower_in, port, transport, zia_time, zia_who, Context, Device, Facts, Kind,
    Reason, ZiaWho,
};
use crate::fields::{Fields, Scratch};
use crate::keys::Field;
use crate::value::Text;

/// One firewall session, borrowing from the parsed frame.
#[derive(Debug, Clone, PartialEq)]
pub struct FirewallEvent<'a> {
    pub ts: Timestamp,
    pub hostname: Option<Cow<'a, str>>,
    pub user: Option<Cow<'a, str>>,
    pub src_ip: Option<Cow<'a, str>>,
    pub src_port: Option<u16>,
    pub dst_ip: Option<Cow<'a, str>>,
    pub dst_port: Option<u16>,
    pub dst_host: Option<Cow<'a, str>>,
    pub nat_ip: Option<Cow<'a, str>>,
    pub nat_port: Option<u16>,
    pub transport: Option<Cow<'a, str>>,
    pub app_proto: Option<Cow<'a, str>>,
    pub app: Option<Cow<'a, str>>,
    pub action: Option<Cow<'a, str>>,
    pub rule: Option<Text<'a>>,
    pub bytes_out: Option<u64>,
    pub bytes_in: Option<u64>,
    pub duration_ms: Option<u64>,
    pub threat: Option<Text<'a>>,
    pub location: Option<Text<'a>>,
    pub department: Option<Text<'a>>,
    pub record_id: Option<u64>,
    /// Keyed by the hostname, else the client IP.
    pub device: Option<Device<'a>>,
}

impl<'a> FirewallEvent<'a> {
    pub fn from_fields(
        f: &Fields<'a>,
        ctx: &Context<'_>,
        scratch: &'a mut Scratch,
    ) -> Result<FirewallEvent<'a>, Reason> {
        let Scratch {
            hostname,
            user,
            action,
            service,
        } = scratch;
        let ts = zia_time(f, ctx)?;
        let ZiaWho {
            hostname,
            user,
            src_ip,
            device,
        } = zia_who(f, hostname, user)?;
        Ok(FirewallEvent {
            ts,
            hostname,
            user,
            src_ip,
            src_port: port(f, Field::ClientPort),
            dst_ip: f.ip(Field::ServerIp),
            dst_port: port(f, Field::ServerPort),
            dst_host: f.text(Field::DstFqdn),
            // NSS writes 0.0.0.0 for a session without NAT.
            nat_ip: f
                .ip(Field::NatIp)
                .filter(|ip| !matches!(ip.as_ref(), "0.0.0.0" | "::")),
            nat_port: port(f, Field::NatPort),
            transport: transport(f, Field::Proto),
            app_proto: f.text(Field::NwSvc).map(|s| lower_in(s, service)),
            app: f.text(Field::App),
            action: f.text(Field::Action).map(|a| lower_in(a, action)),
            rule: f.record_text(Field::Rule),
            bytes_out: f.u64(Field::BytesOut),
            bytes_in: f.u64(Field::BytesIn),
            duration_ms: duration_ms(f),
            threat: f.record_text(Field::Threat),
            location: f.record_text(Field::Location),
            department: f.record_text(Field::Department),
            record_id: f.u64(Field::RecordId),
            device,
        })
    }

    /// What the collector needs of it besides its record.
    pub fn into_facts(self) -> Facts<'a> {
        Facts {
            kind: Kind::ZiaFirewall,
            ts: self.ts,
            device: self.device,
            flow: None,
        }
    }
}
