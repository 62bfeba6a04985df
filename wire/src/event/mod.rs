//! What a frame means: the log type it is ([`Kind`], decided by [`classify`]), the event built
//! from its fields (one file per log type), or why it is none ([`Reason`]).

pub mod zia_web;
pub mod zpa_activity;

use crate::fields::Fields;
pub use zia_web::WebEvent;
pub use zpa_activity::ActivityEvent;

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

/// The log types ztel builds records from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    ZiaWeb,
    ZpaUserActivity,
}

impl Kind {
    pub const ALL: [Kind; 2] = [Kind::ZiaWeb, Kind::ZpaUserActivity];
    pub const COUNT: usize = Self::ALL.len();

    /// The record's `kind` value (DESIGN §2.4).
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::ZiaWeb => "zia.web",
            Kind::ZpaUserActivity => "zpa.user_activity",
        }
    }
}

/// One frame's event, borrowing from the frame (or from the decoder's copy of it).
#[derive(Debug, Clone, PartialEq)]
pub enum Event<'a> {
    ZiaWeb(WebEvent<'a>),
    ZpaUserActivity(ActivityEvent<'a>),
}

impl Event<'_> {
    pub fn kind(&self) -> Kind {
        match self {
            Event::ZiaWeb(_) => Kind::ZiaWeb,
            Event::ZpaUserActivity(_) => Kind::ZpaUserActivity,
        }
    }
}

/// Decides what a parsed object is: by its envelope's `sourcetype` when it has one, else by the
/// names its keys use.
pub fn classify(fields: &Fields) -> Result<Kind, Reason> {
    if let Some(sourcetype) = &fields.sourcetype {
        return match sourcetype.trim() {
            "zscalernss-web" => Ok(Kind::ZiaWeb),
            _ => Err(Reason::UnknownType),
        };
    }
    // LSS keys are CamelCase and NSS keys are not, so one family's keys dominate; a few of the
    // ZIA names are generic (`time`, `status`) so a record needs several to count.
    if fields.zpa_keys >= 3 && fields.zpa_keys > fields.zia_keys {
        Ok(Kind::ZpaUserActivity)
    } else if fields.zia_keys >= 3 && fields.zia_keys > fields.zpa_keys {
        Ok(Kind::ZiaWeb)
    } else {
        Err(Reason::UnknownType)
    }
}
