//! The zone a feed's times are read in, as `feed_timezone` names it.

use jiff::tz::{Offset, TimeZone};
use jiff::Timestamp;

use super::{parse_time, signed_offset, Fields};

/// Resolves `feed_timezone` from config: "UTC"/"GMT"/"Z", an IANA name
/// ("Europe/Paris"), or a fixed offset ("+05:30", "-0800", "+5", "UTC+5",
/// "UTC-03:30", "GMT+1"). The error names what was wrong.
pub fn parse_zone(name: &str) -> Result<TimeZone, String> {
    let t = name.trim_ascii();
    if t.is_empty() {
        return Err("time zone is empty (expected UTC, an IANA name such as \
                    Europe/Paris, or an offset such as +05:30)"
            .to_string());
    }
    if t.eq_ignore_ascii_case("UTC") || t.eq_ignore_ascii_case("GMT") || t.eq_ignore_ascii_case("Z")
    {
        return Ok(TimeZone::UTC);
    }
    let b = t.as_bytes();
    let offset_part = if matches!(b[0], b'+' | b'-') {
        Some(t)
    } else if b.len() > 3
        && matches!(b[3], b'+' | b'-')
        && (b[..3].eq_ignore_ascii_case(b"UTC") || b[..3].eq_ignore_ascii_case(b"GMT"))
    {
        // Byte 3 is an ASCII sign, so it starts a character: the slice is
        // on a boundary.
        Some(&t[3..])
    } else {
        None
    };
    if let Some(off) = offset_part {
        let secs = parse_config_offset(off.as_bytes()).ok_or_else(|| {
            format!(
                "invalid UTC offset {off:?} in time zone {t:?} \
                 (expected +H, +HH, +HHMM or +HH:MM, hours 0-23, minutes 0-59)"
            )
        })?;
        if secs == 0 {
            // Lets "+00:00" take parse_time's UTC fast path too.
            return Ok(TimeZone::UTC);
        }
        let offset = Offset::from_seconds(secs)
            .map_err(|e| format!("UTC offset {off:?} in time zone {t:?} is out of range: {e}"))?;
        return Ok(TimeZone::fixed(offset));
    }
    TimeZone::get(t).map_err(|e| {
        format!(
            "unknown time zone {t:?} (expected UTC, an IANA name such as \
             Europe/Paris, or an offset such as +05:30): {e}"
        )
    })
}

/// Offset in seconds from "+H", "+HH", "+HHMM" or "+HH:MM" (sign required): a record's offset
/// without the one-digit hour a config may write.
fn parse_config_offset(b: &[u8]) -> Option<i32> {
    let (&sign, rest) = b.split_first()?;
    match *rest {
        [h] => signed_offset(sign, &[b'0', h]),
        _ => signed_offset(sign, rest),
    }
}

/// Whether `word` has the form of a zone word in a time: Z, an offset (`+0100`, `-05:00`), an
/// IANA name (`Europe/Paris`), or an abbreviation of two to five capitals (`UTC`, `PST`,
/// `CEST`). Only the form: whether it names a zone the feed may mean is the parse's to say.
pub fn looks_like_zone_word(word: &str) -> bool {
    let b = word.as_bytes();
    match b.first() {
        Some(b'+' | b'-') => {
            matches!(b.len(), 5 | 6)
                && b[1..].iter().filter(|c| c.is_ascii_digit()).count() == 4
                && b[1..].iter().all(|&c| c.is_ascii_digit() || c == b':')
        }
        Some(_) if b.contains(&b'/') => b
            .iter()
            .all(|&c| c.is_ascii_alphanumeric() || matches!(c, b'/' | b'_' | b'-' | b'+')),
        Some(_) => {
            b == b"Z" || ((2..=5).contains(&b.len()) && b.iter().all(u8::is_ascii_uppercase))
        }
        None => false,
    }
}

/// A time whose zone is a field of its own (NSS's `%s{tz}` beside `%s{time}`, CEF's `dtz`,
/// NetWitness's `timezone`), the word read as a zone word in a time is: UTC or GMT, the feed
/// zone's IANA name or its abbreviation then (`PST`/`PDT` for `America/Los_Angeles`), another
/// IANA name or an offset. Any other word makes the time unreadable (`None`): `CST` alone is
/// Chicago's or China's, and a time read in the wrong zone would be wrong without a trace. A
/// time that carries its own zone or offset, or epoch seconds, is that time, whatever the word.
pub fn parse_time_in_zone_named(s: &str, word: &str, zone: &TimeZone) -> Option<Timestamp> {
    let name = word.trim_ascii();
    if name.is_empty() || zone.iana_name() == Some(name) {
        return parse_time(s, zone);
    }
    if ["UTC", "GMT", "Z"]
        .iter()
        .any(|utc| name.eq_ignore_ascii_case(utc))
    {
        return parse_time(s, &TimeZone::UTC);
    }
    let in_utc = parse_time(s, &TimeZone::UTC)?;
    if parse_time(s, &TimeZone::fixed(Offset::constant(1))) == Some(in_utc) {
        // The same instant in two zones: the time says its own.
        return Some(in_utc);
    }
    let civil = TimeZone::UTC.to_datetime(in_utc);
    let fields = Fields {
        year: u32::try_from(civil.year()).ok()?,
        month: u32::try_from(civil.month()).ok()?,
        day: u32::try_from(civil.day()).ok()?,
        hour: u32::try_from(civil.hour()).ok()?,
        minute: u32::try_from(civil.minute()).ok()?,
        second: u32::try_from(civil.second()).ok()?,
        nanos: u32::try_from(civil.subsec_nanosecond()).ok()?,
    };
    // As a zone word in the time itself, by the same rule.
    fields.in_zone_word(name.as_bytes(), zone)
}
