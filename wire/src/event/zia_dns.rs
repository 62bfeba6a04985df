//! A ZIA DNS log as a connection record to the resolver (DESIGN §2.4).

use std::borrow::Cow;

use jiff::Timestamp;

use super::duration_ms;
use super::{
    lower_in, port, port_or, zia_time, zia_who, Context, Device, Facts, Kind, Reason, ZiaWho,
};
use crate::fields::{Fields, Scratch};
use crate::keys::Field;
use crate::value::Text;

/// DNS is UDP on port 53 unless the log says otherwise.
pub const DNS_PORT: u16 = 53;

/// One DNS transaction, borrowing from the parsed frame.
#[derive(Debug, Clone, PartialEq)]
pub struct DnsEvent<'a> {
    pub ts: Timestamp,
    pub hostname: Option<Cow<'a, str>>,
    pub user: Option<Cow<'a, str>>,
    pub src_ip: Option<Cow<'a, str>>,
    pub src_port: Option<u16>,
    pub dst_ip: Option<Cow<'a, str>>,
    pub dst_port: Option<u16>,
    pub tcp: bool,
    pub query: Option<Cow<'a, str>>,
    pub query_type: Option<Cow<'a, str>>,
    pub answer: Option<Cow<'a, str>>,
    pub action: Option<Cow<'a, str>>,
    pub rule: Option<Text<'a>>,
    pub category: Option<Cow<'a, str>>,
    pub duration_ms: Option<u64>,
    pub record_id: Option<u64>,
    /// Keyed by the hostname, else the client IP.
    pub device: Option<Device<'a>>,
}

impl<'a> DnsEvent<'a> {
    pub fn from_fields(
        f: &Fields<'a>,
        ctx: &Context<'_>,
        scratch: &'a mut Scratch,
    ) -> Result<DnsEvent<'a>, Reason> {
        let Scratch {
            hostname,
            user,
            action,
            ..
        } = scratch;
        let ts = zia_time(f, ctx)?;
        let ZiaWho {
            hostname,
            user,
            src_ip,
            device,
        } = zia_who(f, hostname, user)?;
        // UDP unless the log says TCP (DESIGN §2.4): `istcp`, or `protocol` as a name or as
        // IANA's number 6 (the DNS protocol's other names, DoH or DoT, leave it to `istcp`).
        let tcp = f.u64(Field::IsTcp) == Some(1)
            || match f.u64(Field::Proto) {
                Some(number) => number == 6,
                None => f
                    .text(Field::Proto)
                    .is_some_and(|p| p.eq_ignore_ascii_case("tcp")),
            };
        // The answer's action decides when it is a block and the request's is not: written as
        // the request's, a blocked answer read as an allowed query. The rule is then the
        // answer's, if the log names it.
        let blocks = |field| f.text(field).is_some_and(|a| says_block(&a));
        let (action_field, rule_field) = if blocks(Field::ResponseAction) && !blocks(Field::Action)
        {
            (Field::ResponseAction, Field::ResponseRule)
        } else {
            (Field::Action, Field::Rule)
        };
        Ok(DnsEvent {
            ts,
            hostname,
            user,
            src_ip,
            src_port: port(f, Field::ClientPort),
            dst_ip: f.ip(Field::ServerIp),
            dst_port: port_or(f, Field::ServerPort, || Some(DNS_PORT)),
            tcp,
            query: f.text(Field::Query),
            query_type: f.text(Field::QueryType),
            answer: f.text(Field::Answer),
            action: f.text(action_field).map(|a| lower_in(a, action)),
            rule: f.record_text(rule_field),
            category: f.text(Field::Category),
            duration_ms: duration_ms(f),
            record_id: f.u64(Field::RecordId),
            device,
        })
    }

    /// What the collector needs of it besides its record.
    pub fn into_facts(self) -> Facts<'a> {
        Facts {
            kind: Kind::ZiaDns,
            ts: self.ts,
            device: self.device,
            flow: None,
        }
    }
}

/// Whether an action word is a block, in any of NSS's spellings (`Block`, `BLOCK`, `RES_BLOCK`).
fn says_block(action: &str) -> bool {
    action
        .as_bytes()
        .windows(5)
        .any(|w| w.eq_ignore_ascii_case(b"block"))
}
