//! Every JSON key that some published feed template uses for a field a record needs.
//!
//! Sources of the names (DESIGN §3): Zscaler's own NSS variable names, Elastic's NSS and Cloud NSS
//! templates (v2 to v11: `cltip`, `cltintip`, `cltsourceport`, `serverip`, `b64url`, `urlsubcat`),
//! the Splunk / Sekoia / Datadog / Sumo template (`ClientIP`, `serverip`, `requestsize`,
//! `hostname` = ehost, `url` = eurl, `event_id`, `datetime`), the flat CEF-style names of the
//! Sentinel template (`src`, `dst`, `dhost`, `request`, `suser`, `externalId`), and the LSS User
//! Activity template.

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

/// The field, encoding and family of a key, or `None` for a key no record uses.
pub fn lookup(key: &str) -> Option<(Field, Encoding, Family)> {
    use Encoding::*;
    use Family::*;
    use Field::*;
    let found = match key {
        "epochtime" => (EpochTime, Plain, Zia),
        "time" => (Time, Plain, Zia),
        "datetime" | "TimeGenerated" => (DateTime, Plain, Zia),
        "tz" => (Tz, Plain, Zia),
        "recordid" | "event_id" | "externalId" => (RecordId, Plain, Zia),
        "login" | "elogin" | "user" | "suser" => (Login, Percent, Zia),
        "b64login" => (Login, Base64, Zia),
        "proto" | "protocol" | "app" => (Proto, Plain, Zia),
        "eurl" | "url" | "request" => (Url, Percent, Zia),
        "b64url" => (Url, Base64, Zia),
        "ehost" | "host" | "hostname" | "dhost" => (Host, Percent, Zia),
        "b64host" => (Host, Base64, Zia),
        "action" | "act" => (Action, Plain, Zia),
        "reqmethod" | "requestmethod" | "requestMethod" => (Method, Plain, Zia),
        "respcode" | "status" | "outcome" => (RespCode, Plain, Zia),
        "reqsize" | "requestsize" | "out" => (ReqSize, Plain, Zia),
        "respsize" | "responsesize" | "in" => (RespSize, Plain, Zia),
        "cip" | "ClientIP" | "cltip" | "src" => (ClientIp, Plain, Zia),
        "cintip" | "clientpublicIP" | "cltintip" | "sourceTranslatedAddress" => {
            (ClientIntIp, Plain, Zia)
        }
        "sip" | "serverip" | "dst" => (ServerIp, Plain, Zia),
        "clt_sport" | "cltsourceport" | "clientsourceport" | "csport" | "sourceport" => {
            (ClientPort, Plain, Zia)
        }
        "srv_dport" | "serverport" | "sdport" | "dstport" => (ServerPort, Plain, Zia),
        "urlcat" | "urlcategory" | "urlsubcat" | "cat" => (UrlCat, Plain, Zia),
        "b64urlcat" => (UrlCat, Base64, Zia),
        "deviceowner" => (DeviceOwner, Plain, Zia),
        "devicehostname" => (DeviceHostname, Plain, Zia),
        "edevicehostname" => (DeviceHostname, Percent, Zia),

        "LogTimestamp" => (LogTimestamp, Plain, Zpa),
        "TimestampConnectionStart" => (ConnStart, Plain, Zpa),
        "TimestampConnectionEnd" => (ConnEnd, Plain, Zpa),
        "Username" => (Username, Plain, Zpa),
        "ClientPublicIP" => (ClientPublicIp, Plain, Zpa),
        "ClientPrivateIP" => (ClientPrivateIp, Plain, Zpa),
        "Connector" => (Connector, Plain, Zpa),
        "ConnectorIP" => (ConnectorIp, Plain, Zpa),
        "ConnectorPort" => (ConnectorPort, Plain, Zpa),
        "Host" => (ZpaHost, Plain, Zpa),
        "ServerIP" => (ZpaServerIp, Plain, Zpa),
        "ServerPort" => (ZpaServerPort, Plain, Zpa),
        "IPProtocol" => (IpProtocol, Plain, Zpa),
        "Application" => (Application, Plain, Zpa),
        "AppGroup" => (AppGroup, Plain, Zpa),
        "Policy" => (Policy, Plain, Zpa),
        "ConnectionStatus" => (ConnStatus, Plain, Zpa),
        "SessionID" => (SessionId, Plain, Zpa),
        "ConnectionID" => (ConnectionId, Plain, Zpa),
        "ZENBytesRxClient" => (BytesRxClient, Plain, Zpa),
        "ZENBytesTxClient" => (BytesTxClient, Plain, Zpa),
        "Hostname" => (Hostname, Plain, Zpa),
        "EventType" => (EventType, Plain, Zpa),
        _ => return None,
    };
    Some(found)
}
