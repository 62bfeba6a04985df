//! The text before a record's JSON: `json_start`, `parse` and `Header::time` must take any bytes.
#![no_main]

use std::sync::OnceLock;

use jiff::tz::TimeZone;
use jiff::Timestamp;
use libfuzzer_sys::fuzz_target;
use wire::header::{json_start, parse, Header};

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

fn check(head: &[u8], now: Timestamp) {
    let h: Header<'_> = parse(head);
    for part in [h.timestamp, h.host].into_iter().flatten() {
        assert!(
            inside(part, head),
            "{part:?} does not point into the header"
        );
    }
    let _ = h.time(&TimeZone::UTC, now);
    let _ = h.time(paris(), now);
}

fuzz_target!(|data: &[u8]| {
    let now = Timestamp::from_second(NOW).expect("in range");
    match json_start(data) {
        Some(at) => {
            assert_eq!(data.get(at), Some(&b'{'), "json_start({at}) is not a brace");
            assert!(
                !data[..at].contains(&b'{'),
                "json_start({at}) is not the first brace"
            );
            check(&data[..at], now);
        }
        None => assert!(!data.contains(&b'{'), "json_start missed a brace"),
    }
    // The whole frame as a header too: a frame with no JSON still has its text read.
    check(data, now);
});
