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

    const fn slot(&self) -> usize {
        let mixed = self.head ^ self.tail.rotate_left(29) ^ (self.len as u64) << 57;
        (mixed.wrapping_mul(0x9e37_79b9_7f4a_7c15) >> (64 - SLOT_BITS)) as usize
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

/// 512 slots for about a hundred keys: most unknown keys land on an empty slot at once.
const SLOT_BITS: u32 = 9;

/// Open addressing over [`KEYS`]: each slot holds a key's index plus one, or 0 when empty.
struct Table {
    slots: [u8; 1 << SLOT_BITS],
    summaries: [Summary; KEYS.len()],
}

/// Built by the compiler: every record asks it about each of its keys, most of which it does not
/// know, and a static needs no first-use check.
static TABLE: Table = {
    assert!(KEYS.len() < u8::MAX as usize);
    let mut table = Table {
        slots: [0; 1 << SLOT_BITS],
        summaries: [Summary {
            len: 0,
            head: 0,
            tail: 0,
        }; KEYS.len()],
    };
    let mut index = 0;
    while index < KEYS.len() {
        let summary = Summary::of_const(KEYS[index].0.as_bytes());
        table.summaries[index] = summary;
        let mut slot = summary.slot();
        while table.slots[slot] != 0 {
            slot = (slot + 1) % table.slots.len();
        }
        table.slots[slot] = index as u8 + 1;
        index += 1;
    }
    table
};

/// The field, encoding and family of a key, or `None` for a key no record uses.
pub fn lookup(key: &str) -> Option<(Field, Encoding, Family)> {
    let table = &TABLE;
    let summary = Summary::of(key.as_bytes());
    let mut slot = summary.slot();
    loop {
        let index = usize::from(table.slots[slot]).checked_sub(1)?;
        let (name, field, encoding, family) = KEYS[index];
        if table.summaries[index] == summary && (summary.len <= 16 || name == key) {
            return Some((field, encoding, family));
        }
        slot = (slot + 1) % table.slots.len();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_compiler_summarises_keys_as_lookups_do() {
        for &(name, ..) in KEYS {
            assert!(
                Summary::of_const(name.as_bytes()) == Summary::of(name.as_bytes()),
                "{name}"
            );
        }
    }

    #[test]
    fn every_key_is_found_and_names_are_unique() {
        for &(name, field, ..) in KEYS {
            assert_eq!(lookup(name).map(|f| f.0), Some(field), "{name}");
        }
        let mut names: Vec<&str> = KEYS.iter().map(|k| k.0).collect();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), KEYS.len(), "a key is listed twice");
        assert_eq!(lookup("Cip"), None, "keys are case-sensitive");
        assert_eq!(lookup("nope"), None);
        assert_eq!(lookup(""), None);
        // Near misses: same length, same first or last bytes, a prefix, longer than 16 bytes.
        for key in [
            "cipx",
            "ci",
            "Cip",
            "devicehostnamE",
            "TimestampConnectionStarT",
            "TimestampConnectionStart_",
            "TimestampXonnectionStart",
            "eurl ",
            "recordi",
        ] {
            assert_eq!(lookup(key), None, "{key}");
        }
    }

    proptest::proptest! {
        /// The table answers exactly as a search through the list would, for keys near the
        /// real ones (an edit of a real name) and for any text.
        #[test]
        fn table_is_exact(index in 0..KEYS.len(), at in 0usize..32, c in 0x20u8..0x7f, any in ".{0,24}") {
            let mut near = KEYS[index].0.as_bytes().to_vec();
            let at = at % (near.len() + 1);
            if at < near.len() { near[at] = c } else { near.push(c) }
            for key in [String::from_utf8(near).unwrap(), any] {
                let expected = KEYS.iter().find(|k| k.0 == key).map(|k| k.1);
                proptest::prop_assert_eq!(lookup(&key).map(|hit| hit.0), expected, "{}", key);
            }
        }
    }
}
