//! Timestamps as Zscaler feeds send them, and their RFC 3339 rendering.
//!
//! Every record carries at least one timestamp, so the common forms are
//! parsed by hand into integers: no allocation, and no trip through jiff's
//! general parser (whose error values allocate).

use jiff::civil::DateTime;
use jiff::tz::{Offset, TimeZone};
use jiff::Timestamp;

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

/// Offset in seconds from "+H", "+HH", "+HHMM" or "+HH:MM" (sign required).
fn parse_config_offset(b: &[u8]) -> Option<i32> {
    let (&sign, rest) = b.split_first()?;
    let (h, m) = match *rest {
        [h] => (digit(h)?, 0),
        [h1, h2] => (two(h1, h2)?, 0),
        [h1, h2, m1, m2] | [h1, h2, b':', m1, m2] => (two(h1, h2)?, two(m1, m2)?),
        _ => return None,
    };
    if h > 23 || m > 59 {
        return None;
    }
    let secs = (h * 3600 + m * 60) as i32;
    match sign {
        b'+' => Some(secs),
        b'-' => Some(-secs),
        _ => None,
    }
}

/// Parses every time format Zscaler feeds send, interpreting times that carry
/// no zone or offset in `zone`:
///
///  - ctime: "Fri Dec 17 07:04:57 2021", also with a space-padded day
///    "Mon Mar  2 02:57:01 2020"
///  - "2023-08-28 15:43:14", optionally with fractional seconds
///  - epoch seconds as up to 10 digits, or epoch milliseconds as 13 digits
///  - ISO 8601 / RFC 3339: "2019-05-30T08:20:42.230Z",
///    "2019-05-30T08:20:42+02:00", "2019-05-30T08:20:42" (in `zone`)
///  - ctime with "UTC" or "GMT" before the year, as LEEF devTime sends:
///    "Mon Oct 02 16:21:40 UTC 2017"
///
/// Surrounding whitespace is ignored. `None` for anything else, for invalid
/// dates, and for the absent words "", "None", "NA", "N/A" and "0". Local
/// times in a DST gap or overlap resolve with jiff's "compatible" rule (the
/// later side of a gap, the earlier of an overlap).
pub fn parse_time(s: &str, zone: &TimeZone) -> Option<Timestamp> {
    let b = s.trim_ascii().as_bytes();
    let &first = b.first()?;
    if first.is_ascii_digit() {
        if b.iter().all(u8::is_ascii_digit) {
            parse_epoch(b)
        } else {
            parse_iso(b, zone)
        }
    } else if first.is_ascii_alphabetic() {
        parse_ctime(b, zone)
    } else {
        None
    }
}

/// Epoch seconds (from a JSON number) → Timestamp; `None` when out of range
/// or 0 (which feeds use for "unset", never for 1970-01-01).
pub fn from_epoch_secs(secs: i64) -> Option<Timestamp> {
    if secs == 0 {
        return None;
    }
    Timestamp::from_second(secs).ok()
}

/// Appends `ts` as RFC 3339 in UTC, e.g. "2021-12-17T07:04:57Z". Fractional
/// seconds appear only when non-zero, with 3, 6 or 9 digits: the shortest
/// group that loses nothing.
pub fn write_rfc3339(ts: Timestamp, out: &mut Vec<u8>) {
    let dt = Offset::UTC.to_datetime(ts);
    let year = i32::from(dt.year());
    if year < 0 {
        // Outside RFC 3339; ISO 8601's sign keeps it at least unambiguous.
        out.push(b'-');
    }
    push_digits(out, year.unsigned_abs(), 4);
    out.push(b'-');
    push_digits(out, dt.month() as u32, 2);
    out.push(b'-');
    push_digits(out, dt.day() as u32, 2);
    out.push(b'T');
    push_digits(out, dt.hour() as u32, 2);
    out.push(b':');
    push_digits(out, dt.minute() as u32, 2);
    out.push(b':');
    push_digits(out, dt.second() as u32, 2);
    // Non-negative: the civil datetime's fraction, unlike the timestamp's,
    // does not take the sign of pre-1970 instants.
    let nanos = dt.subsec_nanosecond().unsigned_abs();
    if nanos != 0 {
        out.push(b'.');
        if nanos % 1_000_000 == 0 {
            push_digits(out, nanos / 1_000_000, 3);
        } else if nanos % 1_000 == 0 {
            push_digits(out, nanos / 1_000, 6);
        } else {
            push_digits(out, nanos, 9);
        }
    }
    out.push(b'Z');
}

/// Appends `v` zero-padded to `width` digits; a wider value is written in
/// full rather than truncated.
fn push_digits(out: &mut Vec<u8>, mut v: u32, width: usize) {
    let mut buf = [b'0'; 10];
    let mut i = buf.len();
    while v > 0 {
        i -= 1;
        buf[i] = b'0' + (v % 10) as u8;
        v /= 10;
    }
    let start = i.min(buf.len() - width.min(buf.len()));
    out.extend_from_slice(&buf[start..]);
}

// ---------------------------------------------------------------------------
// Field parsing helpers

#[inline]
fn digit(b: u8) -> Option<u32> {
    if b.is_ascii_digit() {
        Some(u32::from(b - b'0'))
    } else {
        None
    }
}

#[inline]
fn two(a: u8, b: u8) -> Option<u32> {
    Some(digit(a)? * 10 + digit(b)?)
}

#[inline]
fn four(b: &[u8]) -> Option<u32> {
    match *b {
        [a, b2, c, d] => Some(two(a, b2)? * 100 + two(c, d)?),
        _ => None,
    }
}

/// Calendar fields before validation. Integers are kept small and unsigned
/// so that out-of-range values can only be rejected, never wrap.
#[derive(Clone, Copy)]
struct Fields {
    year: u32,
    month: u32,
    day: u32,
    hour: u32,
    minute: u32,
    second: u32,
    nanos: u32,
}

fn is_leap(year: u32) -> bool {
    year % 4 == 0 && (year % 100 != 0 || year % 400 == 0)
}

fn days_in_month(year: u32, month: u32) -> u32 {
    match month {
        2 if is_leap(year) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

impl Fields {
    /// Checks ranges, so that the conversions below cannot fail on the
    /// calendar (and never build a jiff error, which allocates).
    fn validate(mut self) -> Option<Self> {
        if !(1..=12).contains(&self.month)
            || self.day == 0
            || self.day > days_in_month(self.year, self.month)
            || self.hour > 23
            || self.minute > 59
            || self.second > 60
            || self.nanos > 999_999_999
        {
            return None;
        }
        // A leap second has no representation in Unix time; like jiff's own
        // RFC 3339 parser, fold it onto the second before it.
        if self.second == 60 {
            self.second = 59;
        }
        Some(self)
    }

    /// Seconds since the Unix epoch of these fields read as UTC.
    fn utc_epoch_seconds(&self) -> i64 {
        days_from_civil(self.year, self.month, self.day) * 86_400
            + i64::from(self.hour * 3600 + self.minute * 60 + self.second)
    }

    /// The instant these fields denote at a known UTC offset.
    fn at_offset(self, offset_secs: i32) -> Option<Timestamp> {
        let secs = self.utc_epoch_seconds() - i64::from(offset_secs);
        Timestamp::new(secs, self.nanos as i32).ok()
    }

    /// The instant these fields denote as local time in `zone`.
    fn in_zone(self, zone: &TimeZone) -> Option<Timestamp> {
        if *zone == TimeZone::UTC {
            return self.at_offset(0);
        }
        let dt = DateTime::new(
            self.year as i16,
            self.month as i8,
            self.day as i8,
            self.hour as i8,
            self.minute as i8,
            self.second as i8,
            self.nanos as i32,
        )
        .ok()?;
        zone.to_ambiguous_timestamp(dt).compatible().ok()
    }
}

/// Days from 1970-01-01 to the given proleptic Gregorian date (Howard
/// Hinnant's `days_from_civil`, specialised to non-negative years).
fn days_from_civil(year: u32, month: u32, day: u32) -> i64 {
    let y = i64::from(year) - i64::from(month <= 2);
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let m = i64::from(month);
    let mp = if m > 2 { m - 3 } else { m + 9 };
    let doy = (153 * mp + 2) / 5 + i64::from(day) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// All-digit input: epoch seconds (up to 10 digits) or milliseconds (13).
fn parse_epoch(b: &[u8]) -> Option<Timestamp> {
    // At most 13 digits, so the accumulator cannot overflow.
    if b.len() > 13 {
        return None;
    }
    let v = b
        .iter()
        .fold(0i64, |acc, &d| acc * 10 + i64::from(d - b'0'));
    if v == 0 {
        return None;
    }
    match b.len() {
        0..=10 => Timestamp::from_second(v).ok(),
        13 => Timestamp::from_millisecond(v).ok(),
        // 11 or 12 digits fit neither a plausible seconds value (past 2286)
        // nor a plausible milliseconds value (before 2001).
        _ => None,
    }
}

/// "YYYY-MM-DD[T ]hh:mm:ss[.fff…][Z|±hh[:mm]]".
fn parse_iso(b: &[u8], zone: &TimeZone) -> Option<Timestamp> {
    if b.len() < 19
        || b[4] != b'-'
        || b[7] != b'-'
        || !matches!(b[10], b'T' | b't' | b' ')
        || b[13] != b':'
        || b[16] != b':'
    {
        return None;
    }
    let mut f = Fields {
        year: four(&b[0..4])?,
        month: two(b[5], b[6])?,
        day: two(b[8], b[9])?,
        hour: two(b[11], b[12])?,
        minute: two(b[14], b[15])?,
        second: two(b[17], b[18])?,
        nanos: 0,
    };
    let mut rest = &b[19..];
    if let Some((&(b'.' | b','), frac)) = rest.split_first() {
        let n = frac.iter().take_while(|c| c.is_ascii_digit()).count();
        if n == 0 || n > 9 {
            return None;
        }
        let mut nanos = 0u32;
        for &d in &frac[..n] {
            nanos = nanos * 10 + u32::from(d - b'0');
        }
        f.nanos = nanos * 10u32.pow(9 - n as u32);
        rest = &frac[n..];
    }
    let f = f.validate()?;
    match *rest {
        [] => f.in_zone(zone),
        [b'Z' | b'z'] => f.at_offset(0),
        [sign @ (b'+' | b'-'), ref off @ ..] => {
            let (h, m) = match *off {
                [h1, h2] => (two(h1, h2)?, 0),
                [h1, h2, m1, m2] | [h1, h2, b':', m1, m2] => (two(h1, h2)?, two(m1, m2)?),
                _ => return None,
            };
            if h > 23 || m > 59 {
                return None;
            }
            let secs = (h * 3600 + m * 60) as i32;
            f.at_offset(if sign == b'-' { -secs } else { secs })
        }
        _ => None,
    }
}

fn month_number(name: &[u8]) -> Option<u32> {
    let [a, b, c] = *name else { return None };
    let key = [
        a.to_ascii_lowercase(),
        b.to_ascii_lowercase(),
        c.to_ascii_lowercase(),
    ];
    let n = match &key {
        b"jan" => 1,
        b"feb" => 2,
        b"mar" => 3,
        b"apr" => 4,
        b"may" => 5,
        b"jun" => 6,
        b"jul" => 7,
        b"aug" => 8,
        b"sep" => 9,
        b"oct" => 10,
        b"nov" => 11,
        b"dec" => 12,
        _ => return None,
    };
    Some(n)
}

fn is_weekday(name: &[u8]) -> bool {
    let [a, b, c] = *name else { return false };
    let key = [
        a.to_ascii_lowercase(),
        b.to_ascii_lowercase(),
        c.to_ascii_lowercase(),
    ];
    matches!(
        &key,
        b"mon" | b"tue" | b"wed" | b"thu" | b"fri" | b"sat" | b"sun"
    )
}

/// Splits off the bytes before the next single space. Two consecutive
/// spaces give an empty token, which every caller rejects, except the day
/// field, which handles its own padding.
fn token(b: &[u8]) -> (&[u8], &[u8]) {
    match memchr::memchr(b' ', b) {
        Some(i) => (&b[..i], &b[i + 1..]),
        None => (b, &[]),
    }
}

/// "Www Mmm dd hh:mm:ss yyyy", "Www Mmm  d hh:mm:ss yyyy", and the LEEF
/// variant with "UTC"/"GMT" before the year.
fn parse_ctime(b: &[u8], zone: &TimeZone) -> Option<Timestamp> {
    let (wday, rest) = token(b);
    // The weekday name is checked to reject arbitrary words, but not against
    // the date: the date fields are authoritative, and a producer's wrong
    // weekday is no reason to drop the record.
    if !is_weekday(wday) {
        return None;
    }
    let (mon, rest) = token(rest);
    let month = month_number(mon)?;
    // ctime pads a one-digit day with a space ("Mar  2").
    let rest = rest.strip_prefix(b" ").unwrap_or(rest);
    let (day, rest) = token(rest);
    let day = match *day {
        [d] => digit(d)?,
        [d1, d2] => two(d1, d2)?,
        _ => return None,
    };
    let (hms, rest) = token(rest);
    let [h1, h2, b':', m1, m2, b':', s1, s2] = *hms else {
        return None;
    };
    let (word, rest) = token(rest);
    let (utc, year) = match word {
        b"UTC" | b"GMT" => (true, rest),
        _ if rest.is_empty() => (false, word),
        _ => return None,
    };
    let f = Fields {
        year: four(year)?,
        month,
        day,
        hour: two(h1, h2)?,
        minute: two(m1, m2)?,
        second: two(s1, s2)?,
        nanos: 0,
    }
    .validate()?;
    if utc {
        f.at_offset(0)
    } else {
        f.in_zone(zone)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn utc() -> TimeZone {
        TimeZone::UTC
    }
    fn paris() -> TimeZone {
        parse_zone("Europe/Paris").unwrap()
    }
    fn kolkata_fixed() -> TimeZone {
        parse_zone("+05:30").unwrap()
    }

    /// RFC 3339 rendering of a parse result, for compact assertions.
    fn p(s: &str, zone: &TimeZone) -> Option<String> {
        parse_time(s, zone).map(render)
    }

    fn render(ts: Timestamp) -> String {
        let mut out = Vec::new();
        write_rfc3339(ts, &mut out);
        String::from_utf8(out).unwrap()
    }

    fn ts(s: &str) -> Timestamp {
        s.parse().unwrap()
    }

    // --- parse_zone -------------------------------------------------------

    #[test]
    fn zone_utc_words() {
        for s in ["UTC", "GMT", "Z", "utc", " UTC "] {
            assert_eq!(parse_zone(s).unwrap(), TimeZone::UTC, "{s:?}");
        }
    }

    #[test]
    fn zone_iana() {
        let tz = parse_zone("Europe/Paris").unwrap();
        assert_eq!(tz.iana_name(), Some("Europe/Paris"));
        assert!(parse_zone("America/New_York").is_ok());
    }

    #[test]
    fn zone_fixed_offsets() {
        let cases = [
            ("+05:30", 19_800),
            ("-0800", -28_800),
            ("+5", 18_000),
            ("+05", 18_000),
            ("UTC+5", 18_000),
            ("UTC-03:30", -12_600),
            ("GMT+1", 3_600),
            ("utc+0530", 19_800),
            ("-00:00", 0),
        ];
        for (s, secs) in cases {
            let tz = parse_zone(s).unwrap_or_else(|e| panic!("{s:?}: {e}"));
            assert_eq!(
                tz.to_fixed_offset().unwrap(),
                Offset::from_seconds(secs).unwrap(),
                "{s:?}"
            );
        }
    }

    #[test]
    fn zone_errors_name_the_problem() {
        let e = parse_zone("").unwrap_err();
        assert!(e.contains("empty"), "{e}");
        let e = parse_zone("Mars/Olympus").unwrap_err();
        assert!(e.contains("Mars/Olympus"), "{e}");
        for s in [
            "+25:00", "+05:60", "+530", "UTC+", "+", "GMT+1:3", "+05:30x", "UTC 5",
        ] {
            let e = parse_zone(s).unwrap_err();
            assert!(e.contains(s.trim()), "{s:?}: {e}");
        }
    }

    // --- ctime ------------------------------------------------------------

    #[test]
    fn ctime_utc() {
        assert_eq!(
            p("Fri Dec 17 07:04:57 2021", &utc()).as_deref(),
            Some("2021-12-17T07:04:57Z")
        );
        assert_eq!(
            p("Mon Mar  2 02:57:01 2020", &utc()).as_deref(),
            Some("2020-03-02T02:57:01Z")
        );
        assert_eq!(
            p("Mon Mar 2 02:57:01 2020", &utc()).as_deref(),
            Some("2020-03-02T02:57:01Z")
        );
        assert_eq!(
            p("Mon Mar 02 02:57:01 2020", &utc()).as_deref(),
            Some("2020-03-02T02:57:01Z")
        );
        assert_eq!(
            p("  Fri Dec 17 07:04:57 2021\n", &utc()).as_deref(),
            Some("2021-12-17T07:04:57Z")
        );
        assert_eq!(
            p("fri DEC 17 07:04:57 2021", &utc()).as_deref(),
            Some("2021-12-17T07:04:57Z")
        );
    }

    #[test]
    fn ctime_paris_and_fixed() {
        // December: Paris is UTC+1.
        assert_eq!(
            p("Fri Dec 17 07:04:57 2021", &paris()).as_deref(),
            Some("2021-12-17T06:04:57Z")
        );
        // 2 March 2020 is before the last Sunday of March: still UTC+1.
        assert_eq!(
            p("Mon Mar  2 02:57:01 2020", &paris()).as_deref(),
            Some("2020-03-02T01:57:01Z")
        );
        // July: UTC+2.
        assert_eq!(
            p("Thu Jul  1 12:00:00 2021", &paris()).as_deref(),
            Some("2021-07-01T10:00:00Z")
        );
        // +05:30 crossing midnight backwards.
        assert_eq!(
            p("Fri Dec 17 03:04:57 2021", &kolkata_fixed()).as_deref(),
            Some("2021-12-16T21:34:57Z")
        );
        assert_eq!(
            p("Mon Mar  2 02:57:01 2020", &kolkata_fixed()).as_deref(),
            Some("2020-03-01T21:27:01Z")
        );
    }

    #[test]
    fn ctime_leef_zone_word() {
        for zone in [utc(), paris(), kolkata_fixed()] {
            assert_eq!(
                p("Mon Oct 02 16:21:40 UTC 2017", &zone).as_deref(),
                Some("2017-10-02T16:21:40Z")
            );
            assert_eq!(
                p("Mon Oct 02 16:21:40 GMT 2017", &zone).as_deref(),
                Some("2017-10-02T16:21:40Z")
            );
        }
        for s in [
            "Mon Oct 02 16:21:40 CET 2017",
            "Mon Oct 02 16:21:40 PST 2017",
            "Mon Oct 02 16:21:40 UTC",
            "Mon Oct 02 16:21:40 UTC 2017 x",
            "Mon Oct 02 16:21:40 2017 UTC",
        ] {
            assert_eq!(p(s, &utc()), None, "{s:?}");
        }
    }

    #[test]
    fn ctime_invalid() {
        for s in [
            "Fri Foo 17 07:04:57 2021",
            "Fri Feb 30 07:04:57 2021",
            "Sun Feb 29 07:04:57 2021",
            "Fri Dec 17 25:00:00 2021",
            "Fri Dec 17 07:60:00 2021",
            "Fri Dec 17 07:04:61 2021",
            "Fri Dec 32 07:04:57 2021",
            "Fri Dec 00 07:04:57 2021",
            "Fri Dec 17 07:04:57 21",
            "Fri Dec 17 07:04:57 20210",
            "Fri Dec 17 07:04:57",
            "Fri Dec 17 7:04:57 2021",
            "Fri Dec 17 07:04:57  2021",
            "Fri  Dec 17 07:04:57 2021",
            "Fri Dec   7 07:04:57 2021",
            "Fri Dec 123 07:04:57 2021",
            "Xyz Dec 17 07:04:57 2021",
            "Friday Dec 17 07:04:57 2021",
            "Fri December 17 07:04:57 2021",
            "Fri Dec 17 07:04:57 2021 extra",
        ] {
            assert_eq!(p(s, &utc()), None, "{s:?}");
        }
    }

    #[test]
    fn ctime_weekday_not_cross_checked() {
        // 17 Dec 2021 was a Friday; the date wins over a wrong weekday.
        assert_eq!(
            p("Mon Dec 17 07:04:57 2021", &utc()).as_deref(),
            Some("2021-12-17T07:04:57Z")
        );
    }

    // --- "YYYY-MM-DD hh:mm:ss" ---------------------------------------------

    #[test]
    fn space_form() {
        assert_eq!(
            p("2023-08-28 15:43:14", &utc()).as_deref(),
            Some("2023-08-28T15:43:14Z")
        );
        assert_eq!(
            p("2023-08-28 15:43:14.123", &utc()).as_deref(),
            Some("2023-08-28T15:43:14.123Z")
        );
        // August: Paris is UTC+2.
        assert_eq!(
            p("2023-08-28 15:43:14", &paris()).as_deref(),
            Some("2023-08-28T13:43:14Z")
        );
        assert_eq!(
            p("2023-08-28 15:43:14.123", &paris()).as_deref(),
            Some("2023-08-28T13:43:14.123Z")
        );
        assert_eq!(
            p("2023-08-28 15:43:14", &kolkata_fixed()).as_deref(),
            Some("2023-08-28T10:13:14Z")
        );
        assert_eq!(
            p("2023-08-28 03:13:14.5", &kolkata_fixed()).as_deref(),
            Some("2023-08-27T21:43:14.500Z")
        );
    }

    // --- ISO 8601 / RFC 3339 ----------------------------------------------

    #[test]
    fn iso_with_offset_ignores_zone() {
        for zone in [utc(), paris(), kolkata_fixed()] {
            assert_eq!(
                p("2019-05-30T08:20:42.230Z", &zone).as_deref(),
                Some("2019-05-30T08:20:42.230Z")
            );
            assert_eq!(
                p("2019-05-30T08:20:42+02:00", &zone).as_deref(),
                Some("2019-05-30T06:20:42Z")
            );
            assert_eq!(
                p("2019-05-30T08:20:42-0330", &zone).as_deref(),
                Some("2019-05-30T11:50:42Z")
            );
            assert_eq!(
                p("2019-05-30T01:20:42+05", &zone).as_deref(),
                Some("2019-05-29T20:20:42Z")
            );
            assert_eq!(
                p("2019-05-30t08:20:42z", &zone).as_deref(),
                Some("2019-05-30T08:20:42Z")
            );
            assert_eq!(
                p("2019-05-30T08:20:42.123456789-00:00", &zone).as_deref(),
                Some("2019-05-30T08:20:42.123456789Z")
            );
        }
    }

    #[test]
    fn iso_without_offset_uses_zone() {
        assert_eq!(
            p("2019-05-30T08:20:42", &utc()).as_deref(),
            Some("2019-05-30T08:20:42Z")
        );
        // May: Paris is UTC+2.
        assert_eq!(
            p("2019-05-30T08:20:42", &paris()).as_deref(),
            Some("2019-05-30T06:20:42Z")
        );
        assert_eq!(
            p("2019-05-30T08:20:42.230", &kolkata_fixed()).as_deref(),
            Some("2019-05-30T02:50:42.230Z")
        );
    }

    #[test]
    fn iso_fraction_lengths() {
        assert_eq!(
            p("2019-05-30T08:20:42.1Z", &utc()).as_deref(),
            Some("2019-05-30T08:20:42.100Z")
        );
        assert_eq!(
            p("2019-05-30T08:20:42,25Z", &utc()).as_deref(),
            Some("2019-05-30T08:20:42.250Z")
        );
        assert_eq!(
            p("2019-05-30T08:20:42.000001Z", &utc()).as_deref(),
            Some("2019-05-30T08:20:42.000001Z")
        );
        assert_eq!(
            p("2019-05-30T08:20:42.000Z", &utc()).as_deref(),
            Some("2019-05-30T08:20:42Z")
        );
        assert_eq!(p("2019-05-30T08:20:42.1234567890Z", &utc()), None);
        assert_eq!(p("2019-05-30T08:20:42.Z", &utc()), None);
    }

    #[test]
    fn iso_leap_second_folds() {
        assert_eq!(
            p("2016-12-31T23:59:60Z", &utc()).as_deref(),
            Some("2016-12-31T23:59:59Z")
        );
    }

    #[test]
    fn iso_invalid() {
        for s in [
            "2021-02-30 10:00:00",
            "2021-02-29T10:00:00Z",
            "2021-13-01T10:00:00Z",
            "2021-00-01T10:00:00Z",
            "2021-04-31T10:00:00Z",
            "2021-01-01T25:00:00Z",
            "2021-01-01 25:00:00",
            "2021-01-01T24:00:00Z",
            "2021-01-01T10:60:00Z",
            "2021-01-01T10:00:61Z",
            "2021-01-01T10:00:00+24:00",
            "2021-01-01T10:00:00+05:60",
            "2021-01-01T10:00:00+5",
            "2021-01-01T10:00:00+053",
            "2021-01-01T10:00:00 +05:00",
            "2021-01-01T10:00:00ZZ",
            "2021-01-01T10:00:00UTC",
            "2021-01-01T10:00",
            "2021-01-01",
            "2021-1-01T10:00:00Z",
            "2021/01/01 10:00:00",
            "2021-01-01_10:00:00",
            "2021-01-01T1a:00:00Z",
            "12345678901",
        ] {
            assert_eq!(p(s, &utc()), None, "{s:?}");
            assert_eq!(p(s, &paris()), None, "{s:?}");
        }
    }

    #[test]
    fn leap_day() {
        assert_eq!(
            p("2020-02-29 12:00:00", &utc()).as_deref(),
            Some("2020-02-29T12:00:00Z")
        );
        assert_eq!(
            p("Sat Feb 29 00:30:00 2020", &paris()).as_deref(),
            Some("2020-02-28T23:30:00Z")
        );
        assert_eq!(
            p("2000-02-29T23:45:00", &kolkata_fixed()).as_deref(),
            Some("2000-02-29T18:15:00Z")
        );
        // 1900 and 2100 are not leap years; 2000 is.
        assert_eq!(p("1900-02-29 00:00:00", &utc()), None);
        assert_eq!(p("2100-02-29 00:00:00", &utc()), None);
    }

    // --- DST in Europe/Paris ----------------------------------------------

    #[test]
    fn dst_gap_resolves_forward() {
        // 2021-03-28 02:00 CET jumps to 03:00 CEST: 02:30 does not exist and
        // "compatible" reads it with the offset before the gap (+01:00),
        // i.e. 01:30Z, which is 03:30 CEST.
        assert_eq!(
            p("2021-03-28 02:30:00", &paris()).as_deref(),
            Some("2021-03-28T01:30:00Z")
        );
        assert_eq!(
            p("Sun Mar 28 02:30:00 2021", &paris()).as_deref(),
            Some("2021-03-28T01:30:00Z")
        );
        // Either side of the gap is unambiguous.
        assert_eq!(
            p("2021-03-28 01:59:59", &paris()).as_deref(),
            Some("2021-03-28T00:59:59Z")
        );
        assert_eq!(
            p("2021-03-28 03:00:00", &paris()).as_deref(),
            Some("2021-03-28T01:00:00Z")
        );
    }

    #[test]
    fn dst_overlap_takes_earlier() {
        // 2021-10-31 03:00 CEST falls back to 02:00 CET: 02:30 happens twice,
        // and "compatible" picks the first (+02:00), i.e. 00:30Z.
        assert_eq!(
            p("2021-10-31T02:30:00", &paris()).as_deref(),
            Some("2021-10-31T00:30:00Z")
        );
        assert_eq!(
            p("Sun Oct 31 02:30:00 2021", &paris()).as_deref(),
            Some("2021-10-31T00:30:00Z")
        );
        assert_eq!(
            p("2021-10-31 03:00:00", &paris()).as_deref(),
            Some("2021-10-31T02:00:00Z")
        );
    }

    // --- epoch ------------------------------------------------------------

    #[test]
    fn epoch_seconds_and_millis() {
        for zone in [utc(), paris(), kolkata_fixed()] {
            // 1583117516 = 2020-03-02T02:51:56Z; the zone never applies.
            assert_eq!(
                p("1583117516", &zone).as_deref(),
                Some("2020-03-02T02:51:56Z")
            );
            assert_eq!(
                p(" 1583117516 ", &zone).as_deref(),
                Some("2020-03-02T02:51:56Z")
            );
            assert_eq!(
                p("1583117516123", &zone).as_deref(),
                Some("2020-03-02T02:51:56.123Z")
            );
            assert_eq!(
                p("1583117516000", &zone).as_deref(),
                Some("2020-03-02T02:51:56Z")
            );
        }
        assert_eq!(p("1", &utc()).as_deref(), Some("1970-01-01T00:00:01Z"));
        assert_eq!(
            p("9999999999", &utc()).as_deref(),
            Some("2286-11-20T17:46:39Z")
        );
        assert_eq!(
            p("0000000086400", &utc()).as_deref(),
            Some("1970-01-01T00:01:26.400Z")
        );
    }

    #[test]
    fn epoch_rejects() {
        for s in [
            "0",
            "0000000000",
            "0000000000000",
            "12345678901",
            "123456789012",
            "12345678901234",
            "99999999999999999999999",
            "-1583117516",
            "+1583117516",
            "1583117516.5",
            "1583117516 1",
        ] {
            assert_eq!(p(s, &utc()), None, "{s:?}");
        }
    }

    #[test]
    fn from_epoch() {
        assert_eq!(
            from_epoch_secs(1_583_117_516).map(render).as_deref(),
            Some("2020-03-02T02:51:56Z")
        );
        assert_eq!(from_epoch_secs(0), None);
        assert_eq!(from_epoch_secs(i64::MAX), None);
        assert_eq!(from_epoch_secs(i64::MIN), None);
        assert!(from_epoch_secs(-1).is_some());
    }

    // --- absent and garbage -------------------------------------------------

    #[test]
    fn absent_and_garbage() {
        for s in [
            "",
            "   ",
            "None",
            "NA",
            "N/A",
            "0",
            "none",
            "n/a",
            "garbage",
            "-",
            "?",
            "Fri",
            "Fri Dec",
            "T10:00:00Z",
            "😀",
            "Fri Dec 17 07:04:57 2021😀",
        ] {
            for zone in [utc(), paris(), kolkata_fixed()] {
                assert_eq!(p(s, &zone), None, "{s:?}");
            }
        }
    }

    #[test]
    fn four_digit_input_is_epoch() {
        // By the stated rule any run of up to 10 digits is epoch seconds.
        assert_eq!(p("2021", &utc()).as_deref(), Some("1970-01-01T00:33:41Z"));
    }

    // --- write_rfc3339 ------------------------------------------------------

    #[test]
    fn rfc3339_fractions() {
        let cases = [
            ("2021-12-17T07:04:57Z", "2021-12-17T07:04:57Z"),
            ("2019-05-30T08:20:42.230Z", "2019-05-30T08:20:42.230Z"),
            ("2019-05-30T08:20:42.001Z", "2019-05-30T08:20:42.001Z"),
            ("2019-05-30T08:20:42.000250Z", "2019-05-30T08:20:42.000250Z"),
            ("2019-05-30T08:20:42.123456Z", "2019-05-30T08:20:42.123456Z"),
            (
                "2019-05-30T08:20:42.123456789Z",
                "2019-05-30T08:20:42.123456789Z",
            ),
            (
                "2019-05-30T08:20:42.000000001Z",
                "2019-05-30T08:20:42.000000001Z",
            ),
            (
                "2019-05-30T08:20:42.100000010Z",
                "2019-05-30T08:20:42.100000010Z",
            ),
            ("1970-01-01T00:00:00Z", "1970-01-01T00:00:00Z"),
            (
                "9999-12-30T21:59:59.999999999Z",
                "9999-12-30T21:59:59.999999999Z",
            ),
        ];
        for (input, want) in cases {
            assert_eq!(render(ts(input)), want, "{input}");
        }
    }

    #[test]
    fn rfc3339_appends() {
        let mut out = b"time=".to_vec();
        write_rfc3339(ts("2021-12-17T07:04:57Z"), &mut out);
        out.push(b' ');
        write_rfc3339(ts("2021-12-17T07:04:58.5Z"), &mut out);
        assert_eq!(out, b"time=2021-12-17T07:04:57Z 2021-12-17T07:04:58.500Z");
    }

    #[test]
    fn rfc3339_matches_jiff_display() {
        // jiff's Display trims the fraction to its significant digits, ours
        // to a group of 3; compare the instant by reparsing instead.
        for secs in [1i64, 59, 86_399, 951_782_400, 1_583_117_516, 4_102_444_800] {
            for nanos in [0, 1, 999, 1_000, 230_000_000, 999_999_999] {
                let t = Timestamp::new(secs, nanos).unwrap();
                let s = render(t);
                assert_eq!(s.parse::<Timestamp>().unwrap(), t, "{s}");
                assert_eq!(parse_time(&s, &utc()), Some(t), "{s}");
            }
        }
    }

    #[test]
    fn rfc3339_before_epoch_fraction_positive() {
        // -0.5 s is 1969-12-31T23:59:59.5.
        let t = Timestamp::new(-1, 500_000_000).unwrap();
        assert_eq!(render(t), "1969-12-31T23:59:59.500Z");
    }

    #[test]
    fn hand_conversion_agrees_with_jiff() {
        // The UTC fast path does its own calendar arithmetic; check it
        // against jiff over a spread of dates, including century edges.
        for (y, m, d) in [
            (1970, 1, 1),
            (1999, 12, 31),
            (2000, 2, 29),
            (2000, 3, 1),
            (2024, 2, 29),
            (2100, 3, 1),
            (1900, 1, 1),
            (1, 1, 1),
            (9999, 12, 30),
        ] {
            let f = Fields {
                year: y,
                month: m,
                day: d,
                hour: 13,
                minute: 14,
                second: 15,
                nanos: 16,
            };
            let dt = DateTime::new(y as i16, m as i8, d as i8, 13, 14, 15, 16).unwrap();
            let want = Offset::UTC.to_timestamp(dt).unwrap();
            assert_eq!(f.at_offset(0), Some(want), "{y}-{m}-{d}");
        }
    }
}
