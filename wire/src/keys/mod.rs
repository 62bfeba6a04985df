//! Every key that some published feed template uses for a value a record needs, mapped to the
//! [`Field`] slot it fills. One file per naming scheme (dialect), so that supporting a new SIEM
//! vendor's template touches one file:
//!
//! - [`nss`]: Zscaler's own NSS variable names (`cip`, `eurl`, `reqsize`, …), which ztel's
//!   recommended feed formats, Splunk's key=value output and the default CSV columns use;
//! - [`elastic`]: Elastic's NSS and Cloud NSS templates (`cltip`, `serverip`, `clt_sip`, …);
//! - [`sekoia`]: the Splunk / Sekoia / Datadog / Sumo JSON templates (`ClientIP`, `requestsize`,
//!   `hostname` = the URL's host, `event_id`, …);
//! - [`cef`]: the names of the ArcSight/Sentinel CEF templates (some Sentinel JSON templates use
//!   them as keys too);
//! - [`lss`]: ZPA's Log Streaming Service templates (CamelCase);
//! - [`leef`]: QRadar's LEEF names, which only LEEF frames use: a few mean something else there.
//!
//! The dialects go into tables built by the compiler: one shared by every format, and small ones
//! that a frame consults first: LEEF's own, a ZPA LEEF frame's, and a CEF frame's of the log type
//! its header names (templates of different types fill ArcSight's `outcome` or `act` with
//! different variables). A name listed twice in one table must mean the same thing
//! (the build fails otherwise). Keys are case-sensitive: `Host` (ZPA) is not `host` (ZIA).
//! A key may also vote for the log type it is characteristic of ([`Vote`]), which is how a record
//! without a `sourcetype` is recognised.

pub mod cef;
pub mod elastic;
mod hash;
pub mod leef;
pub mod lss;
pub mod memo;
pub mod nss;
pub mod sekoia;

use crate::kind::Kind;
use crate::value::Escapes;
use hash::Summary;
use hash::{entries, Table};

/// A value a record is built from. One slot per meaning: templates that name the same value
/// differently fill the same slot, and each log type's event reads the slots it needs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u8)]
pub enum Field {
    // Time, identity and the record itself (every ZIA type).
    EpochTime,
    Time,
    DateTime,
    Tz,
    RecordId,
    Login,
    Department,
    Location,
    DeviceOwner,
    DeviceHostname,
    /// A client hostname in a field that is not NSS's own (CEF's `shost`): the device's name
    /// only when the record has no `DeviceHostname`, whichever comes first in the line.
    SourceHost,
    Company,
    // Who talks to whom (web, firewall, DNS, tunnel, audit).
    ClientIp,
    ClientIntIp,
    ClientPort,
    ServerIp,
    ServerPort,
    Proto,
    Action,
    Rule,
    Category,
    App,
    BytesOut,
    BytesIn,
    DurationMs,
    DurationSecs,
    Threat,
    ThreatCategory,
    // Web.
    Url,
    Host,
    Method,
    RespCode,
    UserAgent,
    Referer,
    RiskScore,
    // Firewall.
    DstFqdn,
    NatIp,
    NatPort,
    NwSvc,
    // DNS.
    Query,
    QueryType,
    Answer,
    IsTcp,
    /// What the policy did with the answer, and the rule that did it (`resaction`,
    /// `resrulelabel`): a blocked answer decides the transaction.
    ResponseAction,
    ResponseRule,
    // Tunnel.
    RecordType,
    TunnelType,
    TunnelEvent,
    EventReason,
    IkeVersion,
    Lifetime,
    LifeBytes,
    SpiIn,
    SpiOut,
    Spi,
    Algo,
    Authentication,
    AuthType,
    TunnelProtocol,
    PolicyDirection,
    SrcIpStart,
    SrcIpEnd,
    DstIpStart,
    DstIpEnd,
    SrcPortStart,
    DstPortStart,
    Vendor,
    PacketsIn,
    PacketsOut,
    DpdRec,
    // Admin audit.
    Subcategory,
    Resource,
    Interface,
    Result,
    ErrorCode,
    AuditLogType,
    PreAction,
    PostAction,
    // SaaS Security and SaaS Security Activity.
    Tenant,
    Policy,
    FileName,
    FileSource,
    FileMd5,
    DlpDictionaries,
    DlpDictCount,
    DlpEngines,
    LastModified,
    ScanTimeMs,
    DownloadTimeMs,
    ObjectType,
    ObjectName,
    ObjectName2,
    ActivityType,
    ActivityCount,
    AdminActivity,
    ExternalOwner,
    // ZPA, every log type.
    LogTimestamp,
    Username,
    SessionId,
    Hostname,
    EventType,
    // ZPA User Activity.
    ConnStart,
    ConnEnd,
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
    ConnStatus,
    ConnectionId,
    BytesRxClient,
    BytesTxClient,
    // ZPA User Status and App Connector Status.
    SessionStatus,
    SessionType,
    Version,
    Platform,
    Zen,
    CountryCode,
    AuthenticatedAt,
    UnauthenticatedAt,
    TotalBytesRx,
    TotalBytesTx,
    ClientType,
    Idp,
    ConnectorGroup,
    CpuUtilization,
    MemUtilization,
    ServiceCount,
    InterfaceDefRoute,
    DefRouteGw,
    PrimaryDnsResolver,
    HostStartTime,
    ConnectorStartTime,
    NumInterfaces,
    BytesRxInterface,
    PacketsRxInterface,
    ErrorsRxInterface,
    DiscardsRxInterface,
    BytesTxInterface,
    PacketsTxInterface,
    ErrorsTxInterface,
    DiscardsTxInterface,
    Latitude,
    Longitude,
    MicroTenantId,
    // ZPA Browser Access.
    RequestReceived,
    ConnectionReason,
    // ZPA AppProtection.
    Domain,
    HttpError,
    InspectionProfile,
    ParanoiaLevel,
    ControlsHit,
    RequestHeaderBytes,
    RequestBodyBytes,
    ResponseHeaderBytes,
    ResponseBodyBytes,
    // ZPA Audit.
    ModifiedTime,
    CreationTime,
    ModifiedBy,
    RequestId,
    OldValue,
    NewValue,
    OperationType,
    ObjectId,
    /// A key kept for its vote only: no record reads it.
    Other,
}

impl Field {
    pub const COUNT: usize = Field::Other as usize + 1;

    /// True for a value that is a JSON document of its own: an admin audit record's before and
    /// after (ZIA's pre- and post-action, ZPA's old and new value). Templates that write the
    /// variable unquoted (Elastic's, Datadog's) send it as an object or array, which is kept as
    /// its JSON text, as the other formats keep it; a positional line whose JSON splits it at
    /// its delimiters has these columns read again by their brackets.
    pub fn holds_json(self) -> bool {
        matches!(
            self,
            Field::PreAction | Field::PostAction | Field::OldValue | Field::NewValue
        )
    }
}

/// How a key's value is written by the feed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Encoding {
    Plain,
    /// NSS `e…` variables of URLs and the like: bytes NSS escapes are `%HH`
    /// ([`Escapes::Nss`]). Also used for keys that some templates fill with the encoded variable
    /// and others with the plain one: decoding is lenient.
    Percent,
    /// NSS `e…` variables of names, URL-encoded whole ([`Escapes::All`]); lenient as `Percent`.
    PercentAll,
    /// NSS `b64…` variables.
    Base64,
}

impl Encoding {
    /// Which escapes a percent-encoded value holds.
    pub fn escapes(self) -> Escapes {
        match self {
            Encoding::PercentAll => Escapes::All,
            _ => Escapes::Nss,
        }
    }
}

/// What a key says about the log type of the record it is in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Vote {
    /// Nothing: the key is used by several types (`action`, `recordid`).
    None,
    /// A ZIA (NSS) key of several types.
    Zia,
    /// A ZPA (LSS) key of several types.
    Zpa,
    /// A key only this log type has.
    Kind(Kind),
    /// A key of a log type ztel has no record for (ZPA's service edge and cloud controller
    /// status, every metrics type): a record without a sourcetype or product that holds one is
    /// `unknown_type`, whatever its other keys say.
    Unmapped,
}

/// One entry of a dialect: the key as written, the slot it fills, how its value is encoded and
/// its vote.
#[derive(Debug, Clone, Copy)]
pub struct Key {
    pub name: &'static str,
    pub field: Field,
    pub encoding: Encoding,
    pub vote: Vote,
}

/// What a lookup finds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Hit {
    pub field: Field,
    pub encoding: Encoding,
    pub vote: Vote,
    /// Which key name it is: one number per name of each table, each table numbering from a base
    /// of its own; 0 for a value that no name a client could write twice gave (a position, a
    /// header). [`Fields`](crate::fields::Fields) finds a repeated key by it.
    pub key: u32,
}

impl Hit {
    /// What a value that is not a key's fills: a column's, a header's.
    pub(crate) const fn unkeyed(self) -> Hit {
        Hit { key: 0, ..self }
    }
}

/// A dialect's entries, written as `(name, field, encoding, vote)` rows.
#[macro_export]
#[doc(hidden)]
macro_rules! dialect {
    ($($name:literal => $field:ident $(, $enc:ident)? $(; $vote:ident $(($kind:ident))?)?;)*) => {
        &[$($crate::keys::Key {
            name: $name,
            field: $crate::keys::Field::$field,
            encoding: $crate::dialect!(@enc $($enc)?),
            vote: $crate::dialect!(@vote $($vote $(($kind))?)?),
        },)*]
    };
    (@enc) => { $crate::keys::Encoding::Plain };
    (@enc pct) => { $crate::keys::Encoding::Percent };
    (@enc all) => { $crate::keys::Encoding::PercentAll };
    (@enc b64) => { $crate::keys::Encoding::Base64 };
    (@vote) => { $crate::keys::Vote::None };
    (@vote zia) => { $crate::keys::Vote::Zia };
    (@vote zpa) => { $crate::keys::Vote::Zpa };
    (@vote k($kind:ident)) => { $crate::keys::Vote::Kind($crate::kind::Kind::$kind) };
    (@vote unmapped) => { $crate::keys::Vote::Unmapped };
}

/// The dialects every format shares.
const SHARED: [&[Key]; 5] = [nss::KEYS, elastic::KEYS, sekoia::KEYS, cef::KEYS, lss::KEYS];

// Each table numbers its names from its own base (a table has at most `S / 4` of them, 1,024 for
// the largest), so that two tables never give two names one number.
static TABLE: Table<{ entries(&SHARED) }, 4096> = Table::build(&SHARED, 0);
static LEEF: Table<{ leef::KEYS.len() }, 256> = Table::build(&[leef::KEYS], 1 << 10);

/// What `key` fills, or `None` for a key no record uses.
#[inline]
pub fn lookup(key: &str) -> Option<Hit> {
    TABLE.find(key)
}

/// What `key` of a LEEF frame fills: LEEF's own names first, then everyone's.
#[inline]
pub fn lookup_leef(key: &str) -> Option<Hit> {
    LEEF.find(key).or_else(|| TABLE.find(key))
}

/// The type of a table of a few `keys`, four slots an entry.
macro_rules! small_table {
    ($keys:expr) => { Table<{ $keys.len() }, { ($keys.len() * 4).next_power_of_two() }> };
}

static LEEF_ZPA: small_table!(leef::ZPA) = Table::build(&[leef::ZPA], 2 << 10);
static CEF_AUDIT: small_table!(cef::AUDIT) = Table::build(&[cef::AUDIT], 3 << 10);
static CEF_FIREWALL: small_table!(cef::FIREWALL) = Table::build(&[cef::FIREWALL], 4 << 10);
static CEF_TUNNEL: small_table!(cef::TUNNEL) = Table::build(&[cef::TUNNEL], 5 << 10);
static CEF_SAAS: small_table!(cef::SAAS) = Table::build(&[cef::SAAS], 6 << 10);
static CEF_SAAS_ACTIVITY: small_table!(cef::SAAS_ACTIVITY) =
    Table::build(&[cef::SAAS_ACTIVITY], 7 << 10);

/// What `key` of a LEEF frame whose product is `ZPA` fills: what QRadar's names mean in IBM's
/// ZPA template first, then as [`lookup_leef`].
#[inline]
pub fn lookup_leef_zpa(key: &str) -> Option<Hit> {
    LEEF_ZPA.find(key).or_else(|| lookup_leef(key))
}

/// What `key` of a CEF frame whose header names log type `kind` fills: that type's own meaning
/// of an ArcSight name first (`outcome` is the HTTP status of a web record, the result of an
/// audit one), then everyone's.
#[inline]
pub fn lookup_cef(kind: Option<Kind>, key: &str) -> Option<Hit> {
    let own = match kind {
        Some(Kind::ZiaAudit) => CEF_AUDIT.find(key),
        Some(Kind::ZiaFirewall) => CEF_FIREWALL.find(key),
        Some(Kind::ZiaTunnel) => CEF_TUNNEL.find(key),
        Some(Kind::ZiaSaas) => CEF_SAAS.find(key),
        Some(Kind::ZiaSaasActivity) => CEF_SAAS_ACTIVITY.find(key),
        _ => None,
    };
    own.or_else(|| TABLE.find(key))
}

/// Tables of [`memo::Memo::lookup_with`]: which lookup answered a remembered key (0 is the
/// shared table's, [`lookup`]).
pub mod table {
    use crate::kind::Kind;

    pub const LEEF: u8 = 1;
    pub const LEEF_ZPA: u8 = 2;

    /// The one of [`lookup_cef`](super::lookup_cef) for a frame of `kind`: as it picks its own
    /// table.
    pub fn cef(kind: Option<Kind>) -> u8 {
        match kind {
            Some(Kind::ZiaAudit) => 4,
            Some(Kind::ZiaTunnel) => 5,
            Some(Kind::ZiaSaas) => 6,
            Some(Kind::ZiaSaasActivity) => 7,
            Some(Kind::ZiaFirewall) => 9,
            _ => 8,
        }
    }
}

/// Every distinct key of the shared table, for tests and `ztel feed-format`.
pub fn all() -> &'static [Key] {
    &TABLE.keys[..TABLE.len]
}

#[cfg(test)]
mod tests;
