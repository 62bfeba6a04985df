//! One frame from bytes to an event: find where the record begins past its syslog header, read
//! its format into fields, decide its log type, build the event. Nothing is copied on the way
//! for a plain frame; the event borrows from the frame.

use jiff::tz::TimeZone;
use jiff::Timestamp;

use crate::event::zia_web::Context;
use crate::event::{classify, ActivityEvent, Event, Kind, Reason, WebEvent};
use crate::format::json;
use crate::header;

/// A shard's decoding state, reused for every frame.
pub struct Decoder {
    /// Zone of feed times that carry none (`feed_timezone`).
    zone: TimeZone,
    json: json::Reader,
}

/// A frame's event, and whether its borrowed values are plain text (no escaping needed).
pub struct Decoded<'a> {
    pub event: Event<'a>,
    pub plain: bool,
}

impl Decoder {
    pub fn new(zone: TimeZone) -> Self {
        Decoder {
            zone,
            json: json::Reader::default(),
        }
    }

    /// Decodes one frame (its syslog header included). `received` is when it was read: the time
    /// of a record that carries none.
    pub fn decode<'a>(
        &'a mut self,
        frame: &'a [u8],
        received: Timestamp,
    ) -> Result<Decoded<'a>, Reason> {
        let start = header::json_start(frame).ok_or(Reason::NoJson)?;
        let (head, body) = frame.split_at(start);
        let header = header::parse(head);
        let read = self.json.read(body)?;
        let fields = &read.fields;
        let event = match classify(fields)? {
            Kind::ZiaWeb => {
                let ctx = Context {
                    zone: &self.zone,
                    received,
                };
                Event::ZiaWeb(WebEvent::from_fields(fields, &header, &ctx)?)
            }
            Kind::ZpaUserActivity => {
                Event::ZpaUserActivity(ActivityEvent::from_fields(fields, received)?)
            }
        };
        Ok(Decoded {
            event,
            plain: read.plain,
        })
    }
}
