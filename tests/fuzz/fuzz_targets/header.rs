//! The syslog header before a record: `split`, `split_stacked` and `Header::time` must take any
//! bytes, and what they find lies in the header they measured.
#![no_main]

use std::sync::OnceLock;

use jiff::tz::TimeZone;
use jiff::Timestamp;
use libfuzzer_sys::fuzz_target;
use wire::header::{split, split_stacked, Header};

/// A fixed "now", so that a crash replays: 2026-01-01T00:00:00Z.
const NOW: i64 = 1_767_225_600;

fn paris() -> &'static TimeZone {
    static ZONE: OnceLock<TimeZone> = OnceLock::new();
    ZONE.get_or_init(|| TimeZone::get("Europe/Paris").expect("bundled tzdb has Europe/Paris"))
}

/// True when `part` is a slice of `whole` (the header borrows from the frame).
fn inside(part: &str, whole: &[u8]) -> bool {
    let (p, w) = (part.as_ptr() as usize, whole.as_ptr() as usize);
    p >= w && p + part.len() <= w + whole.len()
}

fuzz_target!(|data: &[u8]| {
    let now = Timestamp::from_second(NOW).expect("in range");
    let (h, at): (Header<'_>, usize) = split(data);
    assert!(at <= data.len(), "split past the end: {at}");
    for part in [h.timestamp(), h.host()].into_iter().flatten() {
        assert!(
            inside(part, &data[..at]),
            "{part:?} does not point into the header"
        );
    }
    let _ = h.time(&TimeZone::UTC, now);
    let _ = h.time(paris(), now);
    // Stacked headers: the fallback one lies between where it starts and the message.
    let stack = split_stacked(data);
    assert!(stack.start <= stack.message && stack.message <= data.len());
    assert!(stack.message >= at, "a stack ends before its first header");
    assert!(stack.message <= stack.body && stack.body <= data.len());
    for part in [stack.header.timestamp(), stack.header.host()]
        .into_iter()
        .flatten()
    {
        assert!(
            inside(part, &data[stack.start..stack.message]),
            "{part:?} outside"
        );
    }
});
