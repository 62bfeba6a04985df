//! What a frame means: the log type it is ([`Kind`], decided by [`classify`]), the event built
//! from its fields (one file per log type; [`columns`] for the types whose records carry their
//! fields as they are), or why it is none ([`Reason`]). [`Facts`] is what the collector needs of
//! an event besides its record: its time, its device and, for ZPA, its connection.

pub mod columns;
mod times;
pub mod zia_device;
pub mod zia_dns;
pub mod zia_firewall;
pub mod zia_web;
pub mod zpa_activity;
pub mod zpa_browser;
pub mod zpa_client;
pub mod zpa_status;

use std::borrow::Cow;
use std::cell::{Cell, RefCell};

use jiff::tz::TimeZone;
use jiff::Timestamp;

use crate::device::{device_id, Tag};
use crate::fields::Fields;
use crate::header::Header;
use crate::keys::Field;
use crate::kind::sourcetype_kinds;
pub use crate::kind::Kind;
pub use crate::reason::Reason;
use crate::time;
pub use times::{
    lss_log_time, lss_logged, lss_or_header_time, lss_other_time, lss_time, plausible,
    zia_other_time, zia_time,
};
pub use zia_device::{zia_who, ZiaWho};
pub use zia_web::WebEvent;
pub use zpa_activity::ActivityEvent;

/// Decides what a parsed record is: by the type its Zscaler `product` names, else by its
/// envelope's `sourcetype` when that is Zscaler's, else by the names its keys use (also under a
/// sourcetype a relay chose: a Splunk forwarder's `_json`, Splunk's `zscalerlss-zpa-app`).
pub fn classify(fields: &Fields) -> Result<Kind, Reason> {
    if let Some(kind) = fields.product {
        return Ok(kind);
    }
    let votes = &fields.votes;
    if let Some(sourcetype) = fields.sourcetype.filter(|s| crate::fields::decides(s)) {
        return nss_sourcetype(crate::value::trim(sourcetype), fields);
    }
    if votes.unmapped > 0 {
        return Err(Reason::UnknownType);
    }
    // LSS keys are CamelCase and NSS keys are not, so one family's keys dominate; a few names are
    // generic (`time`, `action`) so a record needs several to count.
    if votes.zpa >= 3 && votes.zpa > votes.zia {
        Ok(best(votes, Kind::ZPA))
    } else if votes.zia >= 3 && votes.zia > votes.zpa {
        Ok(best(votes, Kind::ZIA))
    } else {
        Err(Reason::UnknownType)
    }
}

/// The log type an NSS sourcetype names (`zscalernss-*`, the Splunk-style templates' envelope).
fn nss_sourcetype(sourcetype: &str, fields: &Fields) -> Result<Kind, Reason> {
    match *sourcetype_kinds(sourcetype) {
        [kind] => Ok(kind),
        // SaaS Security and its activity share one sourcetype in the Splunk-style templates:
        // only the activity names objects.
        [saas, activity] => Ok(
            if [
                Field::ObjectType,
                Field::ObjectName,
                Field::ObjectName2,
                Field::ActivityType,
            ]
            .iter()
            .any(|f| fields.has(*f))
            {
                activity
            } else {
                saas
            },
        ),
        _ => Err(Reason::UnknownType),
    }
}

/// The kind among `kinds` with the most votes; the first one (the family's commonest log type)
/// when none has any.
fn best(votes: &crate::fields::Votes, kinds: &[Kind]) -> Kind {
    let mut best = kinds[0];
    for &kind in kinds {
        if votes.kinds[kind as usize] > votes.kinds[best as usize] {
            best = kind;
        }
    }
    best
}

/// What an event needs besides its fields.
pub struct Context<'z> {
    /// Zone of feed times that carry none (`feed_timezone`).
    pub zone: &'z TimeZone,
    /// When the frame was read: the time of a record that carries no time at all.
    pub received: Timestamp,
    /// The frame's syslog header, whose time is a fallback.
    pub header: Header<'z>,
    /// The decoder's last time text read, kept from frame to frame.
    pub times: &'z RefCell<time::Recent>,
    /// Whether the record took its header's time ([`Context::header_time`]).
    pub took_header_time: Cell<bool>,
}

impl Context<'_> {
    /// The header's time, for a record that carries none of its own: none when the header has
    /// no stamp, a `bad_time` when it has one that cannot be read (`Feb 30 10:15:01`), which the
    /// time the frame was read would otherwise stand in for without a trace. The record's
    /// identity then takes in the header (see `decode::Decoded`): two such records that differ
    /// only in the header's time are two events, not one sent twice.
    pub fn header_time(&self, zone: &TimeZone) -> Result<Option<Timestamp>, Reason> {
        if self.header.timestamp().is_none() {
            return Ok(None);
        }
        let ts = self.header.time(zone, self.received).and_then(plausible);
        self.took_header_time.set(ts.is_some());
        ts.map(Some).ok_or(Reason::BadTime)
    }

    /// A time of text, as [`time::parse_time`] reads it, through the decoder's memory of the
    /// last one.
    pub fn parse_time(&self, text: &str, zone: &TimeZone) -> Option<Timestamp> {
        self.times.borrow_mut().parse(text, zone)
    }
}

/// What the collector does with an event besides writing its record.
#[derive(Debug, Clone, PartialEq)]
pub struct Facts<'a> {
    pub kind: Kind,
    /// When the record shows its device (and connection) alive: its time, but for ZPA User
    /// Activity its `LogTimestamp` when later, since its time is its connection's start and an
    /// "active" record is sent while the connection lasts (the registry's last_seen and the
    /// attribution table's window move with it).
    pub ts: Timestamp,
    /// The device it touches, if it names one.
    pub device: Option<Device<'a>>,
    /// A ZPA connection through an App Connector, for attribution.
    pub flow: Option<Flow<'a>>,
}

/// A device as one record names it (DESIGN §2.4 "Devices").
#[derive(Debug, Clone, PartialEq)]
pub struct Device<'a> {
    pub id: u64,
    /// The key as seen: the hostname, else the client IP (ZIA: in its canonical text) or the
    /// user (ZPA).
    pub key: Cow<'a, str>,
    pub tag: Tag,
    pub ip: Option<Cow<'a, str>>,
    pub user: Option<Cow<'a, str>>,
}

impl<'a> Device<'a> {
    /// The device of a record whose key is `key`, if it has one.
    pub fn of(
        key: Option<Cow<'a, str>>,
        tag: Tag,
        ip: Option<Cow<'a, str>>,
        user: Option<Cow<'a, str>>,
    ) -> Option<Device<'a>> {
        let key = key?;
        Some(Device {
            id: device_id(&key),
            key,
            tag,
            ip,
            user,
        })
    }
}

/// One ZPA record's view of a connection through an App Connector.
#[derive(Debug, Clone, PartialEq)]
pub struct Flow<'a> {
    pub connector_ip: std::net::IpAddr,
    pub connector_port: u16,
    pub server_ip: std::net::IpAddr,
    pub server_port: u16,
    pub user: Cow<'a, str>,
    pub device: Option<Cow<'a, str>>,
    pub device_id: Option<u64>,
    pub session_id: Option<Cow<'a, str>>,
    pub connection_id: Option<Cow<'a, str>>,
    pub start: Timestamp,
    pub end: Option<Timestamp>,
}

/// A port: 1 to 65535 (0 is how feeds say "none").
pub fn port(f: &Fields<'_>, field: Field) -> Option<u16> {
    f.u64(field)
        .and_then(|n| u16::try_from(n).ok())
        .filter(|p| *p != 0)
}

/// The port the log sent in `field`, else `default`'s: a default stands in only where the log
/// has none (or `0`, no port), never for a value that is no port (`65536`, `-1`, `abc`), which
/// it would turn into a port the log did not say.
pub fn port_or(f: &Fields<'_>, field: Field, default: impl FnOnce() -> Option<u16>) -> Option<u16> {
    match f.sent_u64(field) {
        None | Some(Some(0)) => default(),
        Some(sent) => sent.and_then(|n| u16::try_from(n).ok()),
    }
}

/// A ZPA text field where LSS writes `"0"` for "none" (a connector, a policy, a server, an
/// address: no IP is written `0`).
pub fn zpa_name<'a>(f: &Fields<'a>, field: Field) -> Option<Cow<'a, str>> {
    f.text(field).filter(|v| v != "0")
}

/// A ZPA address as [`zpa_name`] reads it, written as a record writes addresses
/// ([`crate::device::record_ip`]).
pub fn zpa_ip<'a>(f: &Fields<'a>, field: Field) -> Option<Cow<'a, str>> {
    f.ip(field).filter(|v| v != "0")
}

/// `durationms`, else `duration` (seconds) in milliseconds: the firewall's and DNS's. Seconds
/// stand in only where the log has no `durationms`, not for one that is no number (`486.4`,
/// `abc`), as [`port_or`]'s defaults.
pub fn duration_ms(f: &Fields<'_>) -> Option<u64> {
    match f.sent_u64(Field::DurationMs) {
        Some(sent) => sent,
        None => f.u64(Field::DurationSecs)?.checked_mul(1000),
    }
}

/// An IANA protocol number or name as a transport name: 6 tcp, 17 udp, 1 icmp, 58 icmpv6; other
/// numbers as their digits, other names lower-cased.
pub fn transport<'a>(f: &Fields<'a>, field: Field) -> Option<Cow<'a, str>> {
    if let Some(n) = f.u64(field) {
        return Some(match n {
            6 => Cow::Borrowed("tcp"),
            17 => Cow::Borrowed("udp"),
            1 => Cow::Borrowed("icmp"),
            58 => Cow::Borrowed("icmpv6"),
            other => match u8::try_from(other) {
                // IANA's numbers are a byte: written from a table, not allocated per event.
                Ok(byte) => Cow::Borrowed(PROTOCOL_NUMBERS[usize::from(byte)]),
                Err(_) => Cow::Owned(other.to_string()),
            },
        });
    }
    f.text(field).map(lower)
}

/// "0" to "255", by value.
#[rustfmt::skip]
static PROTOCOL_NUMBERS: [&str; 256] = [
    "0", "1", "2", "3", "4", "5", "6", "7", "8", "9", "10", "11", "12", "13", "14", "15", "16",
    "17", "18", "19", "20", "21", "22", "23", "24", "25", "26", "27", "28", "29", "30", "31", "32",
    "33", "34", "35", "36", "37", "38", "39", "40", "41", "42", "43", "44", "45", "46", "47", "48",
    "49", "50", "51", "52", "53", "54", "55", "56", "57", "58", "59", "60", "61", "62", "63", "64",
    "65", "66", "67", "68", "69", "70", "71", "72", "73", "74", "75", "76", "77", "78", "79", "80",
    "81", "82", "83", "84", "85", "86", "87", "88", "89", "90", "91", "92", "93", "94", "95", "96",
    "97", "98", "99", "100", "101", "102", "103", "104", "105", "106", "107", "108", "109", "110",
    "111", "112", "113", "114", "115", "116", "117", "118", "119", "120", "121", "122", "123",
    "124", "125", "126", "127", "128", "129", "130", "131", "132", "133", "134", "135", "136",
    "137", "138", "139", "140", "141", "142", "143", "144", "145", "146", "147", "148", "149",
    "150", "151", "152", "153", "154", "155", "156", "157", "158", "159", "160", "161", "162",
    "163", "164", "165", "166", "167", "168", "169", "170", "171", "172", "173", "174", "175",
    "176", "177", "178", "179", "180", "181", "182", "183", "184", "185", "186", "187", "188",
    "189", "190", "191", "192", "193", "194", "195", "196", "197", "198", "199", "200", "201",
    "202", "203", "204", "205", "206", "207", "208", "209", "210", "211", "212", "213", "214",
    "215", "216", "217", "218", "219", "220", "221", "222", "223", "224", "225", "226", "227",
    "228", "229", "230", "231", "232", "233", "234", "235", "236", "237", "238", "239", "240",
    "241", "242", "243", "244", "245", "246", "247", "248", "249", "250", "251", "252", "253",
    "254", "255",
];

/// Lower case, without allocating for values that already are or that feeds send all the time
/// (an action is lower-cased on every record).
pub fn lower(s: Cow<'_, str>) -> Cow<'_, str> {
    match common_lower(&s) {
        Lower::Already => s,
        Lower::Common(c) => Cow::Borrowed(c),
        Lower::Other => Cow::Owned(s.to_ascii_lowercase()),
    }
}

/// [`lower`] into a buffer the caller keeps from record to record (a firewall's actions and
/// services, `Allow due to insufficient app data`, `HTTPS`, are upper case in every record).
/// A value owned already (decoded: it may hold what JSON escapes, which the record writer
/// escapes only in owned values) is lower-cased where it is.
pub fn lower_in<'a>(s: Cow<'a, str>, buf: &'a mut String) -> Cow<'a, str> {
    match (common_lower(&s), s) {
        (Lower::Already, s) => s,
        (Lower::Common(c), _) => Cow::Borrowed(c),
        (Lower::Other, Cow::Owned(mut owned)) => {
            owned.make_ascii_lowercase();
            Cow::Owned(owned)
        }
        (Lower::Other, Cow::Borrowed(s)) => {
            buf.clear();
            buf.push_str(s);
            buf.make_ascii_lowercase();
            Cow::Borrowed(buf)
        }
    }
}

enum Lower {
    Already,
    Common(&'static str),
    Other,
}

fn common_lower(s: &str) -> Lower {
    // Actions, then a firewall's IP protocols (NSS writes `TCP`, `UDP`, `ICMP`).
    const COMMON: [&str; 9] = [
        "allowed", "blocked", "allow", "block", "drop", "caution", "tcp", "udp", "icmp",
    ];
    // NSS's own spellings of a web action first, on every web record: two exact compares cost
    // less than the search ignoring case below.
    match s {
        "Allowed" => return Lower::Common("allowed"),
        "Blocked" => return Lower::Common("blocked"),
        _ => {}
    }
    if !s.bytes().any(|b| b.is_ascii_uppercase()) {
        return Lower::Already;
    }
    match COMMON.iter().find(|c| c.eq_ignore_ascii_case(s)) {
        Some(c) => Lower::Common(c),
        None => Lower::Other,
    }
}
