//! Times as records write them: RFC 3339 in UTC, with a cache for the second that consecutive
//! records share.

use jiff::tz::Offset;
use jiff::Timestamp;

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

/// The RFC 3339 text of the last whole second written: a feed's records mostly share their second
/// with the one before, and their day nearly always.
#[derive(Debug, Default)]
pub struct TimeCache {
    second: Option<i64>,
    /// `YYYY-MM-DDTHH:MM:SSZ`
    text: Vec<u8>,
}

/// `YYYY-MM-DDT`: where the time of day starts in [`TimeCache::text`].
const DATE_LEN: usize = 11;

impl TimeCache {
    pub(crate) fn write(&mut self, ts: Timestamp, out: &mut Vec<u8>) {
        let second = ts.as_second();
        if ts.subsec_nanosecond() != 0 {
            write_rfc3339(ts, out);
            return;
        }
        if self.second != Some(second) {
            let same_day = self
                .second
                .is_some_and(|last| last.div_euclid(86_400) == second.div_euclid(86_400));
            if same_day && self.text.len() == DATE_LEN + 9 {
                let of_day = second.rem_euclid(86_400);
                let time = &mut self.text[DATE_LEN..];
                for (at, value) in [(0, of_day / 3600), (3, of_day / 60 % 60), (6, of_day % 60)] {
                    time[at] = b'0' + (value / 10) as u8;
                    time[at + 1] = b'0' + (value % 10) as u8;
                }
            } else {
                self.text.clear();
                write_rfc3339(ts, &mut self.text);
            }
            self.second = Some(second);
        }
        out.extend_from_slice(&self.text);
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
            let ts = Timestamp::from_second(second).unwrap();
            let (mut cached, mut direct) = (Vec::new(), Vec::new());
            cache.write(ts, &mut cached);
            write_rfc3339(ts, &mut direct);
            assert_eq!(cached, direct, "{ts}");
        }
    }
}
