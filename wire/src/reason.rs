//! Why a frame did not become a record: the reason its dead letter carries and its counter
//! is named after. Every stage from framing to event can give one.

/// Why a frame did not become a record: the dead-letter reason and its counter.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Reason {
    /// A frame in none of the feed formats (§3.2): not JSON, LEEF, CEF, key=value or CSV.
    UnknownFormat,
    InvalidUtf8,
    MalformedJson,
    /// `LEEF:` without the five `|`-separated header fields a LEEF event starts with.
    MalformedLeef,
    /// `CEF:` without the seven `|`-separated header fields a CEF event starts with.
    MalformedCef,
    /// A positional (CSV or tab-separated) frame with a field count that no field order has, or
    /// with a quote that never closes.
    FieldCount,
    /// JSON, but not a log type ztel turns into records (another `sourcetype`, or unknown keys).
    UnknownType,
    /// A record with no hostname, no client IP and no user: nothing to attribute it to.
    NoDevice,
    /// A time field that none of the known formats reads.
    BadTime,
    /// The connection closed before the frame was complete.
    Truncated,
    /// In an octet-counted stream, bytes no count framed: a count lied about its frame's length.
    Unframed,
    /// Text a client wrote inside a value (an agent holding `<TAB>devicehostname=…` or
    /// `","devicehostname":"…`) that reads as keys of the frame's own: one key twice with two
    /// values, so neither is sure, or an envelope of its own. The record leaves those out and
    /// the frame is kept as this dead letter too ([`crate::fields::Fields::contested`]); a frame
    /// whose `sourcetype` or `product` names two log types, or whose contested fields leave no
    /// device, is only this dead letter.
    RepeatedKey,
}

impl Reason {
    pub const ALL: [Reason; 12] = [
        Reason::UnknownFormat,
        Reason::InvalidUtf8,
        Reason::MalformedJson,
        Reason::MalformedLeef,
        Reason::MalformedCef,
        Reason::FieldCount,
        Reason::UnknownType,
        Reason::NoDevice,
        Reason::BadTime,
        Reason::Truncated,
        Reason::Unframed,
        Reason::RepeatedKey,
    ];
    pub const COUNT: usize = Self::ALL.len();

    pub fn as_str(self) -> &'static str {
        match self {
            Reason::UnknownFormat => "unknown_format",
            Reason::InvalidUtf8 => "invalid_utf8",
            Reason::MalformedJson => "malformed_json",
            Reason::MalformedLeef => "malformed_leef",
            Reason::MalformedCef => "malformed_cef",
            Reason::FieldCount => "field_count",
            Reason::UnknownType => "unknown_type",
            Reason::NoDevice => "no_device",
            Reason::BadTime => "bad_time",
            Reason::Truncated => "truncated",
            Reason::Unframed => "unframed",
            Reason::RepeatedKey => "repeated_key",
        }
    }

    /// How a simd-json failure is reported.
    pub fn from_json_error(e: &simd_json::Error) -> Reason {
        match e.error() {
            simd_json::ErrorType::InvalidUtf8 => Reason::InvalidUtf8,
            _ => Reason::MalformedJson,
        }
    }
}
