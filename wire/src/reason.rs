//! Why a frame did not become a record: the reason its dead letter carries and its counter
//! is named after. Every stage from framing to event can give one.

/// Why a frame did not become a record: the dead-letter reason and its counter.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Reason {
    /// No `{` in the frame: not a JSON feed (CSV, LEEF, key=value, noise).
    NoJson,
    InvalidUtf8,
    MalformedJson,
    /// JSON, but not a log type ztel turns into records (another `sourcetype`, or unknown keys).
    UnknownType,
    /// A record with no hostname, no client IP and no user: nothing to attribute it to.
    NoDevice,
    /// A time field that none of the known formats reads.
    BadTime,
    /// The connection closed before the frame was complete.
    Truncated,
}

impl Reason {
    pub const ALL: [Reason; 7] = [
        Reason::NoJson,
        Reason::InvalidUtf8,
        Reason::MalformedJson,
        Reason::UnknownType,
        Reason::NoDevice,
        Reason::BadTime,
        Reason::Truncated,
    ];
    pub const COUNT: usize = Self::ALL.len();

    pub fn as_str(self) -> &'static str {
        match self {
            Reason::NoJson => "no_json",
            Reason::InvalidUtf8 => "invalid_utf8",
            Reason::MalformedJson => "malformed_json",
            Reason::UnknownType => "unknown_type",
            Reason::NoDevice => "no_device",
            Reason::BadTime => "bad_time",
            Reason::Truncated => "truncated",
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
