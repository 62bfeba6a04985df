//! Records (DESIGN §2.4) as JSON lines, written on the shard into the batch buffer: fields in a
//! fixed order, absent values left out. `json` is the writer, `time` the RFC 3339 text; `zia`,
//! `zpa` and `columns` write the records of each kind.

mod columns;
pub mod json;
mod put;
pub mod time;
mod zia;
mod zpa;

use json::Object;
use time::TimeCache;

/// Writes records; keeps what consecutive records share. One file per family of kinds.
#[derive(Debug, Default)]
pub struct Writer {
    time: TimeCache,
}

/// Room for a whole record at once, so that the writes that follow do not grow the buffer.
const RECORD_RESERVE: usize = 4096;

pub(crate) fn begin(out: &mut Vec<u8>, plain: bool) -> Object<'_> {
    out.reserve(RECORD_RESERVE);
    if plain {
        Object::begin_plain_borrowed(out)
    } else {
        Object::begin(out)
    }
}
