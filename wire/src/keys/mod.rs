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
pub mod leef;
pub mod lss;
pub mod memo;
pub mod nss;
pub mod sekoia;

use crate::event::Kind;

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
    // ZPA Browser Access.
    RequestReceived,
    ConnectionReason,
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
    /// after. Templates that write the variable unquoted (Elastic's, Datadog's) send it as an
    /// object or array, which is kept as its JSON text, as the other formats keep it.
    pub fn holds_json(self) -> bool {
        matches!(self, Field::PreAction | Field::PostAction)
    }
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
    (@enc b64) => { $crate::keys::Encoding::Base64 };
    (@vote) => { $crate::keys::Vote::None };
    (@vote zia) => { $crate::keys::Vote::Zia };
    (@vote zpa) => { $crate::keys::Vote::Zpa };
    (@vote k($kind:ident)) => { $crate::keys::Vote::Kind($crate::event::Kind::$kind) };
}

/// The dialects every format shares.
const SHARED: [&[Key]; 5] = [nss::KEYS, elastic::KEYS, sekoia::KEYS, cef::KEYS, lss::KEYS];

/// Entries over some dialects (a name that several list is counted, then stored once).
const fn entries(dialects: &[&[Key]]) -> usize {
    let mut n = 0;
    let mut d = 0;
    while d < dialects.len() {
        n += dialects[d].len();
        d += 1;
    }
    n
}

/// A key as the table compares it: its length and its first and last eight bytes (zero-padded,
/// overlapping for short keys). For keys of up to 16 bytes these cover every byte, so equal
/// summaries mean equal keys and no byte comparison is needed.
#[derive(Clone, Copy, PartialEq, Eq)]
struct Summary {
    len: usize,
    head: u64,
    tail: u64,
}

impl Summary {
    fn of(key: &[u8]) -> Summary {
        let len = key.len();
        let (head, tail) = match len {
            0 => (0, 0),
            1..=7 => (short_word(key), 0),
            _ => (word(&key[..8]), word(&key[len - 8..])),
        };
        Summary { len, head, tail }
    }

    /// [`Summary::of`] for the compiler, byte by byte: it builds the table with it.
    const fn of_const(key: &[u8]) -> Summary {
        const fn byte(key: &[u8], at: usize) -> u64 {
            key[at] as u64
        }
        const fn word_at(key: &[u8], at: usize, width: usize) -> u64 {
            let mut w = 0;
            let mut i = 0;
            while i < width {
                w |= byte(key, at + i) << (8 * i);
                i += 1;
            }
            w
        }
        let len = key.len();
        let (head, tail) = if len == 0 {
            (0, 0)
        } else if len < 4 {
            (
                byte(key, 0) | byte(key, len / 2) << 8 | byte(key, len - 1) << 16,
                0,
            )
        } else if len < 8 {
            (word_at(key, 0, 4) | word_at(key, len - 4, 4) << 32, 0)
        } else {
            (word_at(key, 0, 8), word_at(key, len - 8, 8))
        };
        Summary { len, head, tail }
    }

    /// Its slot among `slots` (a power of two).
    const fn slot(&self, slots: usize) -> usize {
        let mixed = self.head ^ self.tail.rotate_left(29) ^ (self.len as u64) << 57;
        (mixed.wrapping_mul(0x9e37_79b9_7f4a_7c15) >> (64 - slots.trailing_zeros())) as usize
    }
}

/// Eight bytes as a little-endian word.
fn word(b: &[u8]) -> u64 {
    let mut w = [0u8; 8];
    w.copy_from_slice(&b[..8]);
    u64::from_le_bytes(w)
}

/// One to seven bytes as a word, from two overlapping reads (the length tells them apart).
fn short_word(b: &[u8]) -> u64 {
    let len = b.len();
    if len >= 4 {
        let half = |s: &[u8]| u64::from(u32::from_le_bytes([s[0], s[1], s[2], s[3]]));
        half(&b[..4]) | half(&b[len - 4..]) << 32
    } else {
        u64::from(b[0]) | u64::from(b[len / 2]) << 8 | u64::from(b[len - 1]) << 16
    }
}

/// Open addressing over a table's entries: each slot holds an entry's index plus one, or 0 when
/// empty. `S` slots for `E` entries: most unknown keys land on an empty slot at once.
struct Table<const E: usize, const S: usize> {
    slots: [u16; S],
    keys: [Key; E],
    summaries: [Summary; E],
    len: usize,
}

const fn same_name(a: &str, b: &str) -> bool {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    if a.len() != b.len() {
        return false;
    }
    let mut i = 0;
    while i < a.len() {
        if a[i] != b[i] {
            return false;
        }
        i += 1;
    }
    true
}

const fn same_meaning(a: &Key, b: &Key) -> bool {
    a.field as u8 == b.field as u8
        && a.encoding as u8 == b.encoding as u8
        && match (a.vote, b.vote) {
            (Vote::None, Vote::None) | (Vote::Zia, Vote::Zia) | (Vote::Zpa, Vote::Zpa) => true,
            (Vote::Kind(x), Vote::Kind(y)) => x as u8 == y as u8,
            _ => false,
        }
}

impl<const E: usize, const S: usize> Table<E, S> {
    /// Run by the compiler: every record asks a table about each of its keys, most of which it
    /// does not know, and a static needs no first-use check.
    const fn build(dialects: &[&[Key]]) -> Self {
        const EMPTY: Key = Key {
            name: "",
            field: Field::Other,
            encoding: Encoding::Plain,
            vote: Vote::None,
        };
        assert!(S.is_power_of_two() && E * 4 <= S, "a key table is too full");
        let mut table = Table {
            slots: [0; S],
            keys: [EMPTY; E],
            summaries: [Summary {
                len: 0,
                head: 0,
                tail: 0,
            }; E],
            len: 0,
        };
        let mut d = 0;
        while d < dialects.len() {
            let mut k = 0;
            while k < dialects[d].len() {
                let key = dialects[d][k];
                let summary = Summary::of_const(key.name.as_bytes());
                let mut slot = summary.slot(S);
                let mut known = false;
                while table.slots[slot] != 0 {
                    let other = &table.keys[table.slots[slot] as usize - 1];
                    if same_name(other.name, key.name) {
                        assert!(
                            same_meaning(other, &key),
                            "two dialects give one key name two meanings"
                        );
                        known = true;
                        break;
                    }
                    slot = (slot + 1) % S;
                }
                if !known {
                    table.keys[table.len] = key;
                    table.summaries[table.len] = summary;
                    table.len += 1;
                    table.slots[slot] = table.len as u16;
                }
                k += 1;
            }
            d += 1;
        }
        table
    }

    // Every key of every frame comes here: inlined into each reader's loop.
    #[inline(always)]
    fn find(&self, key: &str) -> Option<Hit> {
        self.find_summary(key, Summary::of(key.as_bytes()))
    }

    /// [`Table::find`] for a key whose summary is known.
    #[inline(always)]
    fn find_summary(&self, key: &str, summary: Summary) -> Option<Hit> {
        let mut slot = summary.slot(S);
        loop {
            let index = usize::from(self.slots[slot]).checked_sub(1)?;
            let entry = &self.keys[index];
            if self.summaries[index] == summary && (summary.len <= 16 || entry.name == key) {
                return Some(Hit {
                    field: entry.field,
                    encoding: entry.encoding,
                    vote: entry.vote,
                });
            }
            slot = (slot + 1) % S;
        }
    }
}

static TABLE: Table<{ entries(&SHARED) }, 4096> = Table::build(&SHARED);
static LEEF: Table<{ leef::KEYS.len() }, 256> = Table::build(&[leef::KEYS]);

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

static LEEF_ZPA: small_table!(leef::ZPA) = Table::build(&[leef::ZPA]);
static CEF_AUDIT: small_table!(cef::AUDIT) = Table::build(&[cef::AUDIT]);
static CEF_TUNNEL: small_table!(cef::TUNNEL) = Table::build(&[cef::TUNNEL]);
static CEF_SAAS: small_table!(cef::SAAS) = Table::build(&[cef::SAAS]);
static CEF_SAAS_ACTIVITY: small_table!(cef::SAAS_ACTIVITY) = Table::build(&[cef::SAAS_ACTIVITY]);

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
    use crate::event::Kind;

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
