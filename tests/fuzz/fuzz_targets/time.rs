//! Time and value decoding on arbitrary text: `parse_time` in three kinds of zone, the reading
//! a decoder remembers (`Recent`) against it, and the `value` decoders. None may panic; what
//! they return must be consistent.
#![no_main]

use std::borrow::Cow;
use std::sync::OnceLock;

use jiff::tz::TimeZone;
use libfuzzer_sys::fuzz_target;
use wire::record::time::write_rfc3339;
use wire::time::{parse_time, parse_zone, Recent};
use wire::value::{base64_decode, parse_u64, percent_decode};

/// UTC, an IANA zone with DST gaps and overlaps, and a fixed offset, as the config would name them.
fn zones() -> &'static [TimeZone; 3] {
    static ZONES: OnceLock<[TimeZone; 3]> = OnceLock::new();
    ZONES
        .get_or_init(|| ["UTC", "Europe/Paris", "+05:30"].map(|name| parse_zone(name).expect(name)))
}

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let s: &str = &text;

    for zone in zones() {
        if let Some(ts) = parse_time(s, zone) {
            // Whatever was read renders as RFC 3339 UTC, and the rendering reads back as the same
            // instant (outside RFC 3339 a year before 0 renders with a sign, which no feed sends).
            let mut out = Vec::new();
            write_rfc3339(ts, &mut out);
            let rendered = std::str::from_utf8(&out).expect("RFC 3339 is ASCII");
            if rendered.starts_with(|c: char| c.is_ascii_digit()) {
                assert_eq!(
                    parse_time(rendered, &TimeZone::UTC),
                    Some(ts),
                    "{s:?} read as {ts}, rendered {rendered:?}, which does not read back"
                );
            }
        }
    }
    // Lines read one after the other through one `Recent`, as a decoder reads a feed's times:
    // each is what reading it afresh gives (the last reading, or the last moved by a change of
    // its seconds, never stands in for another time).
    for zone in zones() {
        let mut recent = Recent::default();
        for line in s.split('\n') {
            assert_eq!(
                recent.parse(line, zone),
                parse_time(line, zone),
                "{line:?} after the lines before it in {s:?}"
            );
        }
    }
    // The zone parser itself takes config text.
    let _ = parse_zone(s);

    match percent_decode(s) {
        Cow::Borrowed(b) => assert_eq!(b, s, "a borrowed decode must be the input"),
        Cow::Owned(o) => assert!(o.len() < s.len(), "{s:?} decoded to {o:?}, not shorter"),
    }
    let _ = base64_decode(s);
    if let Some(n) = parse_u64(s) {
        // Only digits with an optional '+', in ASCII whitespace, and the value they spell.
        let t = s.trim_ascii();
        let digits = t.strip_prefix('+').unwrap_or(t);
        assert!(
            !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit()),
            "{s:?} read as {n}"
        );
        let significant = digits.trim_start_matches('0');
        let significant = if significant.is_empty() {
            "0"
        } else {
            significant
        };
        assert_eq!(n.to_string(), significant, "{s:?} read as {n}");
    }
});
