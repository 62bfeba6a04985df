//! Every JSON key that some published feed template uses for a field a record needs.
//!
//! Sources of the names (DESIGN §3): Zscaler's own NSS variable names, Elastic's NSS and Cloud NSS
//! templates (v2 to v11: `cltip`, `cltintip`, `cltsourceport`, `serverip`, `b64url`, `urlsubcat`),
//! the Splunk / Sekoia / Datadog / Sumo template (`ClientIP`, `serverip`, `requestsize`,
//! `hostname` = ehost, `url` = eurl, `event_id`, `datetime`), the flat CEF-style names of the
//! Sentinel template (`src`, `dst`, `dhost`, `request`, `suser`, `externalId`), and the LSS User
//! Activity template.

use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};
use std::sync::LazyLock;

/// A value a record is built from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u8)]
pub enum Field {
    // ZIA web
    EpochTime,
    Time,
    DateTime,
    Tz,
    RecordId,
    Login,
    Proto,
    Url,
    Host,
    Action,
    Method,
    RespCode,
    ReqSize,
    RespSize,
    ClientIp,
    ClientIntIp,
    ServerIp,
    ClientPort,
    ServerPort,
    UrlCat,
    DeviceOwner,
    DeviceHostname,
    // ZPA user activity
    LogTimestamp,
    ConnStart,
    ConnEnd,
    Username,
    ClientPublicIp,
    ClientPrivateIp,
    Connector,
    ConnectorIp,
    ConnectorPort,
    ZpaHost,
    ZpaServerIp,
    ZpaServerPort,
    IpProtocol,
    Application,
    AppGroup,
    Policy,
    ConnStatus,
    SessionId,
    ConnectionId,
    BytesRxClient,
    BytesTxClient,
    Hostname,
    EventType,
}

impl Field {
    pub const COUNT: usize = Field::EventType as usize + 1;
}

/// How a key's value is written by the feed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Encoding {
    Plain,
    /// NSS `e…` variables: bytes NSS escapes are `%HH`. Also used for keys that some templates
    /// fill with the encoded variable and others with the plain one: decoding is lenient.
    Percent,
    /// NSS `b64…` variables.
    Base64,
}

/// Which log a key belongs to; a record without `sourcetype` is recognised by its keys.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Family {
    Zia,
    Zpa,
}

/// Every key a record is built from, with its field, encoding and log family.
#[rustfmt::skip]
const KEYS: &[(&str, Field, Encoding, Family)] = {
    use Encoding::*;
    use Family::*;
    use Field::*;
    &[
        ("epochtime", EpochTime, Plain, Zia),
        ("time", Time, Plain, Zia),
        ("datetime", DateTime, Plain, Zia),
        ("TimeGenerated", DateTime, Plain, Zia),
        ("tz", Tz, Plain, Zia),
        ("recordid", RecordId, Plain, Zia),
        ("event_id", RecordId, Plain, Zia),
        ("externalId", RecordId, Plain, Zia),
        ("login", Login, Percent, Zia),
        ("elogin", Login, Percent, Zia),
        ("user", Login, Percent, Zia),
        ("suser", Login, Percent, Zia),
        ("b64login", Login, Base64, Zia),
        ("proto", Proto, Plain, Zia),
        ("protocol", Proto, Plain, Zia),
        ("app", Proto, Plain, Zia),
        ("eurl", Url, Percent, Zia),
        ("url", Url, Percent, Zia),
        ("request", Url, Percent, Zia),
        ("b64url", Url, Base64, Zia),
        ("ehost", Host, Percent, Zia),
        ("host", Host, Percent, Zia),
        ("hostname", Host, Percent, Zia),
        ("dhost", Host, Percent, Zia),
        ("b64host", Host, Base64, Zia),
        ("action", Action, Plain, Zia),
        ("act", Action, Plain, Zia),
        ("reqmethod", Method, Plain, Zia),
        ("requestmethod", Method, Plain, Zia),
        ("requestMethod", Method, Plain, Zia),
        ("respcode", RespCode, Plain, Zia),
        ("status", RespCode, Plain, Zia),
        ("outcome", RespCode, Plain, Zia),
        ("reqsize", ReqSize, Plain, Zia),
        ("requestsize", ReqSize, Plain, Zia),
        ("out", ReqSize, Plain, Zia),
        ("respsize", RespSize, Plain, Zia),
        ("responsesize", RespSize, Plain, Zia),
        ("in", RespSize, Plain, Zia),
        ("cip", ClientIp, Plain, Zia),
        ("ClientIP", ClientIp, Plain, Zia),
        ("cltip", ClientIp, Plain, Zia),
        ("src", ClientIp, Plain, Zia),
        ("cintip", ClientIntIp, Plain, Zia),
        ("clientpublicIP", ClientIntIp, Plain, Zia),
        ("cltintip", ClientIntIp, Plain, Zia),
        ("sourceTranslatedAddress", ClientIntIp, Plain, Zia),
        ("sip", ServerIp, Plain, Zia),
        ("serverip", ServerIp, Plain, Zia),
        ("dst", ServerIp, Plain, Zia),
        ("clt_sport", ClientPort, Plain, Zia),
        ("cltsourceport", ClientPort, Plain, Zia),
        ("clientsourceport", ClientPort, Plain, Zia),
        ("csport", ClientPort, Plain, Zia),
        ("sourceport", ClientPort, Plain, Zia),
        ("srv_dport", ServerPort, Plain, Zia),
        ("serverport", ServerPort, Plain, Zia),
        ("sdport", ServerPort, Plain, Zia),
        ("dstport", ServerPort, Plain, Zia),
        ("urlcat", UrlCat, Plain, Zia),
        ("urlcategory", UrlCat, Plain, Zia),
        ("urlsubcat", UrlCat, Plain, Zia),
        ("cat", UrlCat, Plain, Zia),
        ("b64urlcat", UrlCat, Base64, Zia),
        ("deviceowner", DeviceOwner, Plain, Zia),
        ("devicehostname", DeviceHostname, Plain, Zia),
        ("edevicehostname", DeviceHostname, Percent, Zia),

        ("LogTimestamp", LogTimestamp, Plain, Zpa),
        ("TimestampConnectionStart", ConnStart, Plain, Zpa),
        ("TimestampConnectionEnd", ConnEnd, Plain, Zpa),
        ("Username", Username, Plain, Zpa),
        ("ClientPublicIP", ClientPublicIp, Plain, Zpa),
        ("ClientPrivateIP", ClientPrivateIp, Plain, Zpa),
        ("Connector", Connector, Plain, Zpa),
        ("ConnectorIP", ConnectorIp, Plain, Zpa),
        ("ConnectorPort", ConnectorPort, Plain, Zpa),
        ("Host", ZpaHost, Plain, Zpa),
        ("ServerIP", ZpaServerIp, Plain, Zpa),
        ("ServerPort", ZpaServerPort, Plain, Zpa),
        ("IPProtocol", IpProtocol, Plain, Zpa),
        ("Application", Application, Plain, Zpa),
        ("AppGroup", AppGroup, Plain, Zpa),
        ("Policy", Policy, Plain, Zpa),
        ("ConnectionStatus", ConnStatus, Plain, Zpa),
        ("SessionID", SessionId, Plain, Zpa),
        ("ConnectionID", ConnectionId, Plain, Zpa),
        ("ZENBytesRxClient", BytesRxClient, Plain, Zpa),
        ("ZENBytesTxClient", BytesTxClient, Plain, Zpa),
        ("Hostname", Hostname, Plain, Zpa),
        ("EventType", EventType, Plain, Zpa),
    ]
};

/// Keys are short ASCII names: FNV-1a over their bytes is cheap and spreads them well.
#[derive(Default)]
struct KeyHasher(u64);

impl Hasher for KeyHasher {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        let mut h = if self.0 == 0 {
            0xcbf2_9ce4_8422_2325
        } else {
            self.0
        };
        for &b in bytes {
            h = (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3);
        }
        self.0 = h;
    }
}

type Table = HashMap<&'static str, (Field, Encoding, Family), BuildHasherDefault<KeyHasher>>;

/// Built once: every record asks it about each of its keys, most of which it does not know.
static TABLE: LazyLock<Table> = LazyLock::new(|| {
    KEYS.iter()
        .map(|&(name, field, encoding, family)| (name, (field, encoding, family)))
        .collect()
});

/// The field, encoding and family of a key, or `None` for a key no record uses.
pub fn lookup(key: &str) -> Option<(Field, Encoding, Family)> {
    TABLE.get(key).copied()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_key_is_found_and_names_are_unique() {
        for &(name, field, ..) in KEYS {
            assert_eq!(lookup(name).map(|f| f.0), Some(field), "{name}");
        }
        assert_eq!(TABLE.len(), KEYS.len(), "a key is listed twice");
        assert_eq!(lookup("Cip"), None, "keys are case-sensitive");
        assert_eq!(lookup("nope"), None);
    }
}
