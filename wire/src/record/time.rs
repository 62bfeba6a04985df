//! Times as records write them: RFC 3339 in UTC, with a cache for the second that consecutive
//! records share.

use jiff::Timestamp;

use crate::time::civil::civil_from_days;

/// Appends `ts` as RFC 3339 in UTC, e.g. "2021-12-17T07:04:57Z". Fractional
/// seconds appear only when non-zero, with 3, 6 or 9 digits: the shortest
/// group that loses nothing.
pub fn write_rfc3339(ts: Timestamp, out: &mut Vec<u8>) {
    let (second, nanos) = split(ts);
    write_second(second, out);
    push_fraction(out, nanos);
    out.push(b'Z');
}

/// The whole seconds of `ts`, rounded down, and the nanoseconds after them: a timestamp's
/// fraction takes the sign of pre-1970 instants (-0.5 s is -0 s and -500,000,000 ns), a civil
/// time's does not (23:59:59.5).
fn split(ts: Timestamp) -> (i64, u32) {
    let (second, nanos) = (ts.as_second(), ts.subsec_nanosecond());
    match u32::try_from(nanos) {
        Ok(nanos) => (second, nanos),
        Err(_) => (second - 1, (nanos + 1_000_000_000).unsigned_abs()),
    }
}

/// Appends the UTC date and time of `second` (seconds since 1970), to the second, without a
/// zone: `2021-12-17T07:04:57`. Computed here rather than through jiff's civil datetime: a time
/// written so took about 740 instructions, and LSS records write one with a fraction each,
/// which the cache of one second did not cover.
fn write_second(second: i64, out: &mut Vec<u8>) {
    let (year, month, day) = civil_from_days(second.div_euclid(86_400));
    let of_day = second.rem_euclid(86_400) as u32;
    if year < 0 {
        // Outside RFC 3339; ISO 8601's sign keeps it at least unambiguous.
        out.push(b'-');
    }
    let mut text = *b"0000-00-00T00:00:00";
    let year = year.unsigned_abs();
    // A timestamp's year is within ±9999: four digits.
    for (at, value) in [
        (0, (year / 100 % 100) as u32),
        (2, (year % 100) as u32),
        (5, month),
        (8, day),
        (11, of_day / 3600),
        (14, of_day / 60 % 60),
        (17, of_day % 60),
    ] {
        text[at] = b'0' + (value / 10) as u8;
        text[at + 1] = b'0' + (value % 10) as u8;
    }
    out.extend_from_slice(&text);
}

/// Appends `.` and the fraction of `nanos` in 3, 6 or 9 digits, or nothing for none.
fn push_fraction(out: &mut Vec<u8>, nanos: u32) {
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

/// The RFC 3339 text of the last whole second written: a feed's records mostly share their second
/// with the one before, and their day nearly always. A fraction follows it, and the zone.
#[derive(Debug, Default)]
pub struct TimeCache {
    second: Option<i64>,
    /// `YYYY-MM-DDTHH:MM:SS`
    text: Vec<u8>,
}

/// `YYYY-MM-DDT`: where the time of day starts in [`TimeCache::text`].
const DATE_LEN: usize = 11;

impl TimeCache {
    pub(crate) fn write(&mut self, ts: Timestamp, out: &mut Vec<u8>) {
        // A fraction is written after its second's text: LSS times have one on every record.
        let (second, nanos) = split(ts);
        if self.second != Some(second) {
            let same_day = self
                .second
                .is_some_and(|last| last.div_euclid(86_400) == second.div_euclid(86_400));
            if same_day && self.text.len() == DATE_LEN + 8 {
                let of_day = second.rem_euclid(86_400);
                let time = &mut self.text[DATE_LEN..];
                for (at, value) in [(0, of_day / 3600), (3, of_day / 60 % 60), (6, of_day % 60)] {
                    time[at] = b'0' + (value / 10) as u8;
                    time[at + 1] = b'0' + (value % 10) as u8;
                }
            } else {
                self.text.clear();
                write_second(second, &mut self.text);
            }
            self.second = Some(second);
        }
        super::put::put(out, &self.text);
        push_fraction(out, nanos);
        out.push(b'Z');
    }
}

/// RFC 3339 in UTC as a string, for answers off the data path (`2024-01-18T10:31:05Z`).
pub fn rfc3339(ts: Timestamp) -> String {
    let mut out = Vec::with_capacity(32);
    write_rfc3339(ts, &mut out);
    // write_rfc3339 writes only ASCII digits and separators.
    String::from_utf8(out).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::time::parse_time;
    use jiff::tz::TimeZone;

    fn render(ts: Timestamp) -> String {
        let mut out = Vec::new();
        write_rfc3339(ts, &mut out);
        String::from_utf8(out).unwrap()
    }

    fn ts(s: &str) -> Timestamp {
        s.parse().unwrap()
    }

    fn utc() -> TimeZone {
        TimeZone::UTC
    }

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
    fn dates_are_jiffs_on_every_day_a_timestamp_has() {
        // Every day from -9999 to 9999, against jiff's civil date of its first second.
        let (first, last) = (Timestamp::MIN.as_second(), Timestamp::MAX.as_second());
        for days in first.div_euclid(86_400)..=last.div_euclid(86_400) {
            let second = (days * 86_400).max(first);
            let dt = jiff::tz::Offset::UTC.to_datetime(Timestamp::from_second(second).unwrap());
            let want = (i64::from(dt.year()), dt.month() as u32, dt.day() as u32);
            assert_eq!(civil_from_days(days), want, "{days}");
        }
    }

    #[test]
    fn times_are_jiffs_across_the_range() {
        // Seconds and fractions spread over the whole range, and the edges: the text is jiff's
        // civil time, to the nanosecond.
        let mut x = 0x9e37_79b9_7f4a_7c15u64;
        let (first, last) = (Timestamp::MIN.as_second(), Timestamp::MAX.as_second());
        let span = (last - first) as u64;
        let edges = [first, first + 1, -1, 0, 1, last - 1, last];
        for i in 0..200_000 {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            let second = match edges.get(i) {
                Some(&edge) => edge,
                None => first + (x % span) as i64,
            };
            let nanos = [
                0,
                1,
                500_000_000,
                999_999_999,
                (x >> 32) as i32 % 1_000_000_000,
            ][i % 5];
            let nanos = if second < 0 {
                -nanos.abs()
            } else {
                nanos.abs()
            };
            let Ok(t) = Timestamp::new(second, nanos) else {
                continue;
            };
            let dt = jiff::tz::Offset::UTC.to_datetime(t);
            let text = render(t);
            let want = format!(
                "{}{:04}-{:02}-{:02}T{:02}:{:02}:{:02}",
                if dt.year() < 0 { "-" } else { "" },
                dt.year().unsigned_abs(),
                dt.month(),
                dt.day(),
                dt.hour(),
                dt.minute(),
                dt.second()
            );
            assert!(text.starts_with(&want), "{t}: {text}, not {want}");
            // (jiff reads a negative year only in six digits.)
            if dt.year() >= 0 {
                assert_eq!(text.parse::<Timestamp>().unwrap(), t, "{text}");
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
    fn cached_times_are_the_times() {
        let mut cache = TimeCache::default();
        for (ts, text) in [
            ("2021-12-17T07:04:57Z", "2021-12-17T07:04:57Z"),
            ("2021-12-17T07:04:57Z", "2021-12-17T07:04:57Z"),
            ("2021-12-17T07:04:57.5Z", "2021-12-17T07:04:57.500Z"),
            ("2021-12-17T07:04:58Z", "2021-12-17T07:04:58Z"),
            ("2021-12-17T23:59:59Z", "2021-12-17T23:59:59Z"),
            ("2021-12-18T00:00:00Z", "2021-12-18T00:00:00Z"),
            ("2021-12-18T00:00:01Z", "2021-12-18T00:00:01Z"),
            ("2021-12-18T13:09:07Z", "2021-12-18T13:09:07Z"),
            ("1969-12-31T23:59:58Z", "1969-12-31T23:59:58Z"),
            ("1969-12-31T23:59:59Z", "1969-12-31T23:59:59Z"),
            ("-000001-06-01T10:00:00Z", "-0001-06-01T10:00:00Z"),
            ("-000001-06-01T10:00:01Z", "-0001-06-01T10:00:01Z"),
            ("2021-12-17T07:04:57.25Z", "2021-12-17T07:04:57.250Z"),
            ("2021-12-17T07:04:57.000001Z", "2021-12-17T07:04:57.000001Z"),
            ("2021-12-17T07:04:57Z", "2021-12-17T07:04:57Z"),
            ("1969-12-31T23:59:59.5Z", "1969-12-31T23:59:59.500Z"),
            ("1969-12-31T23:59:59Z", "1969-12-31T23:59:59Z"),
        ] {
            let mut out = Vec::new();
            cache.write(ts.parse().unwrap(), &mut out);
            assert_eq!(String::from_utf8(out).unwrap(), text);
        }
        // Every second of two days, in order and not: the cache agrees with the formatter.
        let mut x = 7u64;
        for i in 0..2 * 86_400 + 7 {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            let second = 1_639_700_000 + if i % 3 == 0 { (x % 200_000) as i64 } else { i };
            let nanos = [0, 0, 123_456_000, (x >> 40) as i32 % 1_000_000_000][i as usize % 4];
            let ts = Timestamp::new(second, nanos).unwrap();
            let (mut cached, mut direct) = (Vec::new(), Vec::new());
            cache.write(ts, &mut cached);
            write_rfc3339(ts, &mut direct);
            assert_eq!(cached, direct, "{ts}");
        }
    }
}
