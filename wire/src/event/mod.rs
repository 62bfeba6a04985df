//! What a frame means: the log type it is ([`Kind`], decided by [`classify`]), the event built
//! from its fields (one file per log type), or why it is none ([`Reason`]).

pub mod zia_web;
pub mod zpa_activity;

use crate::fields::Fields;
pub use crate::reason::Reason;
pub use zia_web::WebEvent;
pub use zpa_activity::ActivityEvent;

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
