use super::*;
use jiff::tz::Offset;

// Zone sets for table rows: the zones a row is checked in.
const U: u8 = 1; // UTC
const P: u8 = 2; // Europe/Paris
const K: u8 = 4; // +05:30 (Kolkata as a fixed offset)
const L: u8 = 8; // America/Los_Angeles
const ALL: u8 = U | P | K | L;

fn zones(set: u8) -> impl Iterator<Item = (&'static str, TimeZone)> {
    [
        (U, "UTC"),
        (P, "Europe/Paris"),
        (K, "+05:30"),
        (L, "America/Los_Angeles"),
    ]
    .into_iter()
    .filter(move |&(bit, _)| set & bit != 0)
    .map(|(_, name)| (name, parse_zone(name).unwrap()))
}

fn render(ts: Timestamp) -> String {
    let mut out = Vec::new();
    crate::record::time::write_rfc3339(ts, &mut out);
    String::from_utf8(out).unwrap()
}

/// parse_time input, zones to read it in, expected instant as RFC 3339.
#[rustfmt::skip]
const PARSED: &[(&str, u8, &str)] = &[
    // Month and weekday names in full, as some samples write them.
    ("Thu August 28 07:12:25 2025", U, "2025-08-28T07:12:25Z"),
    ("Thursday Aug 28 07:12:25 2025", U, "2025-08-28T07:12:25Z"),
    // Epoch seconds with a fraction are a time too (NSS can send `1700000022.5`).
    ("1583117516.5", ALL, "2020-03-02T02:51:56.500Z"),
    ("1583117516.000001", ALL, "2020-03-02T02:51:56.000001Z"),
    // ctime, including a space-padded day, case and surrounding whitespace.
    ("Fri Dec 17 07:04:57 2021", U, "2021-12-17T07:04:57Z"),
    ("Mon Mar  2 02:57:01 2020", U, "2020-03-02T02:57:01Z"),
    ("Mon Mar 2 02:57:01 2020", U, "2020-03-02T02:57:01Z"),
    ("Mon Mar 02 02:57:01 2020", U, "2020-03-02T02:57:01Z"),
    ("  Fri Dec 17 07:04:57 2021\n", U, "2021-12-17T07:04:57Z"),
    ("fri DEC 17 07:04:57 2021", U, "2021-12-17T07:04:57Z"),
    // 17 Dec 2021 was a Friday: the date wins over a wrong weekday.
    ("Mon Dec 17 07:04:57 2021", U, "2021-12-17T07:04:57Z"),
    // A full weekday name (some SIEM templates spell it out).
    ("Friday Dec 17 07:04:57 2021", U, "2021-12-17T07:04:57Z"),
    ("Fri December 17 07:04:57 2021", U, "2021-12-17T07:04:57Z"),
    ("Fri Dec 17 07:04:57 2021", P, "2021-12-17T06:04:57Z"), // December: UTC+1.
    ("Mon Mar  2 02:57:01 2020", P, "2020-03-02T01:57:01Z"), // Before DST: UTC+1.
    ("Thu Jul  1 12:00:00 2021", P, "2021-07-01T10:00:00Z"), // July: UTC+2.
    ("Fri Dec 17 03:04:57 2021", K, "2021-12-16T21:34:57Z"), // Back across midnight.
    ("Mon Mar  2 02:57:01 2020", K, "2020-03-01T21:27:01Z"),
    // LEEF devTime: the zone word overrides the configured zone.
    ("Mon Oct 02 16:21:40 UTC 2017", ALL, "2017-10-02T16:21:40Z"),
    ("Mon Oct 02 16:21:40 GMT 2017", ALL, "2017-10-02T16:21:40Z"),
    // Month first, year before the time (QRadar LEEF devTime, ArcSight CEF rt): in the zone it
    // names, else in the feed's; October: Paris is UTC+2.
    ("Oct 02 2017 16:21:40", U, "2017-10-02T16:21:40Z"),
    ("Oct 02 2017 16:21:40", P, "2017-10-02T14:21:40Z"),
    ("Oct 2 2017 16:21:40", K, "2017-10-02T10:51:40Z"),
    ("Oct 02 2017 16:21:40 GMT", ALL, "2017-10-02T16:21:40Z"),
    ("Oct 02 2017 16:21:40 UTC", ALL, "2017-10-02T16:21:40Z"),
    ("Oct 02 2017 16:21:40 America/Chicago", ALL, "2017-10-02T21:21:40Z"),
    ("Oct 02 2017 16:21:40 Europe/Paris", ALL, "2017-10-02T14:21:40Z"),
    ("Oct 02 2017 16:21:40 +05:30", ALL, "2017-10-02T10:51:40Z"),
    // The feed zone's abbreviation at that time (NSS's `%s{tz}`), read in the feed's zone.
    ("Oct 02 2017 16:21:40 PDT", L, "2017-10-02T23:21:40Z"),
    ("Dec 02 2017 16:21:40 PST", L, "2017-12-03T00:21:40Z"),
    ("Oct 02 2017 16:21:40 CEST", P, "2017-10-02T14:21:40Z"),
    ("Mon Oct 02 16:21:40 PDT 2017", L, "2017-10-02T23:21:40Z"),
    ("Sat Dec 02 16:21:40 CET 2017", P, "2017-12-02T15:21:40Z"),
    // The same words in every form that carries one (ctime as `date` prints it, ISO with a
    // word after the time).
    ("Fri Jul 17 07:04:57 Europe/Berlin 2021", ALL, "2021-07-17T05:04:57Z"),
    ("Fri Jul 17 07:04:57 +0200 2021", ALL, "2021-07-17T05:04:57Z"),
    ("Fri Jul 17 07:04:57 GMT 2021", ALL, "2021-07-17T07:04:57Z"),
    ("2023-08-28 15:43:14 UTC", ALL, "2023-08-28T15:43:14Z"),
    ("2023-08-28T15:43:14 GMT", ALL, "2023-08-28T15:43:14Z"),
    ("2023-08-28 15:43:14.5 Europe/Paris", ALL, "2023-08-28T13:43:14.500Z"),
    ("2017-10-02 16:21:40 PDT", L, "2017-10-02T23:21:40Z"),
    ("2021-01-01T10:00:00 +05:00", ALL, "2021-01-01T05:00:00Z"),
    // The database's zone `CET` (summer time in October), as the month-first form read it.
    ("Mon Oct 02 16:21:40 CET 2017", ALL, "2017-10-02T14:21:40Z"),
    ("2017-10-02 16:21:40 CET", ALL, "2017-10-02T14:21:40Z"),
    // Or after the year, as a template that writes `%s{time} %s{tz}` puts it (a tester's).
    ("Mon Oct 02 16:21:40 2017 UTC", ALL, "2017-10-02T16:21:40Z"),
    ("Fri Dec 17 07:04:57 2021 Europe/Paris", ALL, "2021-12-17T06:04:57Z"),
    ("Sun Nov 05 01:30:00 2017 PST", L, "2017-11-05T09:30:00Z"),
    // The hour the clock turns back is there twice: the word says which.
    ("Nov 05 2017 01:30:00 PDT", L, "2017-11-05T08:30:00Z"),
    ("Nov 05 2017 01:30:00 PST", L, "2017-11-05T09:30:00Z"),
    ("Sun Nov 05 01:30:00 PST 2017", L, "2017-11-05T09:30:00Z"),
    ("Oct 29 2017 02:30:00 CET", P, "2017-10-29T01:30:00Z"),
    ("Oct 02 2017 16:21:40.250 GMT", ALL, "2017-10-02T16:21:40.250Z"),
    ("october 02 2017 16:21:40 GMT", ALL, "2017-10-02T16:21:40Z"),
    ("Feb 29 2020 23:59:59 GMT", ALL, "2020-02-29T23:59:59Z"),
    ("10 02 2017 16:21:40", U, "2017-10-02T16:21:40Z"),
    ("2 29 2020 23:59:59 GMT", ALL, "2020-02-29T23:59:59Z"),
    // "YYYY-MM-DD hh:mm:ss"; August: Paris is UTC+2.
    ("2023-08-28 15:43:14", U, "2023-08-28T15:43:14Z"),
    ("2023-08-28 15:43:14.123", U, "2023-08-28T15:43:14.123Z"),
    ("2023-08-28 15:43:14", P, "2023-08-28T13:43:14Z"),
    ("2023-08-28 15:43:14.123", P, "2023-08-28T13:43:14.123Z"),
    ("2023-08-28 15:43:14", K, "2023-08-28T10:13:14Z"),
    ("2023-08-28 03:13:14.5", K, "2023-08-27T21:43:14.500Z"),
    // Zscaler's Sentinel JSON templates put a comma between date and time (`TimeGenerated`).
    ("2024-06-11,02:52:44", U, "2024-06-11T02:52:44Z"),
    ("2024-06-11,02:52:44", P, "2024-06-11T00:52:44Z"),
    // ISO 8601 with an offset: the zone is ignored.
    ("2019-05-30T08:20:42.230Z", ALL, "2019-05-30T08:20:42.230Z"),
    ("2019-05-30T08:20:42+02:00", ALL, "2019-05-30T06:20:42Z"),
    ("2019-05-30T08:20:42-0330", ALL, "2019-05-30T11:50:42Z"),
    ("2019-05-30T01:20:42+05", ALL, "2019-05-29T20:20:42Z"),
    ("2019-05-30t08:20:42z", ALL, "2019-05-30T08:20:42Z"),
    ("2019-05-30T08:20:42.123456789-00:00", ALL, "2019-05-30T08:20:42.123456789Z"),
    // ISO 8601 without an offset: read in the zone; May: Paris is UTC+2.
    ("2019-05-30T08:20:42", U, "2019-05-30T08:20:42Z"),
    ("2019-05-30T08:20:42", P, "2019-05-30T06:20:42Z"),
    ("2019-05-30T08:20:42.230", K, "2019-05-30T02:50:42.230Z"),
    // Fraction lengths, and a comma as the separator.
    ("2019-05-30T08:20:42.1Z", U, "2019-05-30T08:20:42.100Z"),
    ("2019-05-30T08:20:42,25Z", U, "2019-05-30T08:20:42.250Z"),
    ("2019-05-30T08:20:42.000001Z", U, "2019-05-30T08:20:42.000001Z"),
    ("2019-05-30T08:20:42.000Z", U, "2019-05-30T08:20:42Z"),
    // A leap second folds onto the second before it.
    ("2016-12-31T23:59:60Z", U, "2016-12-31T23:59:59Z"),
    // Leap days; 2000 is a leap year (1900 and 2100, rejected below, are not).
    ("2020-02-29 12:00:00", U, "2020-02-29T12:00:00Z"),
    ("Sat Feb 29 00:30:00 2020", P, "2020-02-28T23:30:00Z"),
    ("2000-02-29T23:45:00", K, "2000-02-29T18:15:00Z"),
    // DST gap: 2021-03-28 02:00 CET jumps to 03:00 CEST, so 02:30 does not
    // exist; "compatible" reads it at the offset before the gap (+01:00).
    ("2021-03-28 02:30:00", P, "2021-03-28T01:30:00Z"),
    ("Sun Mar 28 02:30:00 2021", P, "2021-03-28T01:30:00Z"),
    ("2021-03-28 01:59:59", P, "2021-03-28T00:59:59Z"), // Either side of the gap
    ("2021-03-28 03:00:00", P, "2021-03-28T01:00:00Z"), // is unambiguous.
    // DST overlap: 2021-10-31 03:00 CEST falls back to 02:00 CET, so 02:30
    // happens twice; "compatible" picks the first (+02:00).
    ("2021-10-31T02:30:00", P, "2021-10-31T00:30:00Z"),
    ("Sun Oct 31 02:30:00 2021", P, "2021-10-31T00:30:00Z"),
    ("2021-10-31 03:00:00", P, "2021-10-31T02:00:00Z"),
    // Epoch seconds, milliseconds and microseconds: the zone never applies.
    ("1583117516", ALL, "2020-03-02T02:51:56Z"),
    ("1663346058860810", ALL, "2022-09-16T16:34:18.860810Z"),
    ("1663346058860810.0", ALL, "2022-09-16T16:34:18.860810Z"),
    ("1583117516123.000", ALL, "2020-03-02T02:51:56.123Z"),
    (" 1583117516 ", ALL, "2020-03-02T02:51:56Z"),
    ("1583117516123", ALL, "2020-03-02T02:51:56.123Z"),
    ("1583117516000", ALL, "2020-03-02T02:51:56Z"),
    ("1", U, "1970-01-01T00:00:01Z"),
    ("9999999999", U, "2286-11-20T17:46:39Z"),
    ("0000000086400", U, "1970-01-01T00:01:26.400Z"),
    // By the stated rule any run of up to 10 digits is epoch seconds.
    ("2021", U, "1970-01-01T00:33:41Z"),
];

/// parse_time inputs that are `None` in every zone.
#[rustfmt::skip]
const REJECTED: &[&str] = &[
    // A zone word only before the year (ctime) or after the time, and of abbreviations only
    // UTC, GMT, the feed zone's at that time (October is PDT in Los Angeles) or a zone's name
    // in the database: in every form alike.
    "Mon Oct 02 16:21:40 PST 2017", "Mon Oct 02 16:21:40 UTC",
    "Mon Oct 02 16:21:40 UTC 2017 x", "Mon Oct 02 16:21:40 2017 UTC x",
    "Mon Oct 02 16:21:40 2017 Mars/Olympus",
    "Mon Oct 02 16:21:40 Mars/Olympus 2017", "Oct 02 2017 16:21:40 CST",
    "2017-10-02 16:21:40 PST", "2017-10-02 16:21:40 UTC x",
    // Month first: no year (a syslog header's time), two-digit years, a zone nobody is named
    // after, bad fields, a fraction of none or ten digits, anything after the zone.
    "Oct 02 16:21:40", "Oct 02 17 16:21:40", "Oct 02 2017 16:21:40 Mars/Olympus",
    "Oct 02 2017 16:21:40 PST", "Feb 29 2019 10:00:00", "Oct 32 2017 16:21:40",
    "Oct 02 2017 24:00:00", "Oct 02 2017 16:21", "Oct 02 2017 16:21:40.",
    "Oct 02 2017 16:21:40.1234567890", "Oct 02 2017 16:21:40 GMT x", "Okt 02 2017 16:21:40",
    "Oct  02 2017 16:21:40", "Oct 02  2017 16:21:40", "13 02 2017 16:21:40",
    "00 02 2017 16:21:40", "100 02 2017 16:21:40", "10 02 17 16:21:40",
    // ctime: bad names, fields, widths or spacing.
    "Fri Foo 17 07:04:57 2021", "Fri Feb 30 07:04:57 2021", "Sun Feb 29 07:04:57 2021",
    "Fri Dec 17 25:00:00 2021", "Fri Dec 17 07:60:00 2021", "Fri Dec 17 07:04:61 2021",
    "Fri Dec 32 07:04:57 2021", "Fri Dec 00 07:04:57 2021", "Fri Dec 17 07:04:57 21",
    "Fri Dec 17 07:04:57 20210", "Fri Dec 17 07:04:57", "Fri Dec 17 7:04:57 2021",
    "Fri Dec 17 07:04:57  2021", "Fri  Dec 17 07:04:57 2021", "Fri Dec   7 07:04:57 2021",
    "Fri Dec 123 07:04:57 2021", "Xyz Dec 17 07:04:57 2021",
    "Fri Dec 17 07:04:57 2021 extra",
    // ISO: a fraction of 10 digits or of none.
    "2019-05-30T08:20:42.1234567890Z", "2019-05-30T08:20:42.Z",
    // ISO: invalid dates (1900 and 2100 are not leap years), times, offsets, layouts.
    "2021-02-30 10:00:00", "2021-02-29T10:00:00Z", "2021-13-01T10:00:00Z",
    "2021-00-01T10:00:00Z", "2021-04-31T10:00:00Z", "1900-02-29 00:00:00",
    "2100-02-29 00:00:00", "2021-01-01T25:00:00Z", "2021-01-01 25:00:00",
    "2021-01-01T24:00:00Z", "2021-01-01T10:60:00Z", "2021-01-01T10:00:61Z",
    "2021-01-01T10:00:00+24:00", "2021-01-01T10:00:00+05:60", "2021-01-01T10:00:00+5",
    "2021-01-01T10:00:00+053", "2021-01-01T10:00:00ZZ",
    "2021-01-01T10:00:00UTC", "2021-01-01T10:00", "2021-01-01", "2021-1-01T10:00:00Z",
    "2021/01/01 10:00:00", "2021-01-01_10:00:00", "2021-01-01T1a:00:00Z",
    // Epoch: all zeros, 11, 12, 14, 15 or over 16 digits, signs, fractions.
    "0000000000", "0000000000000", "0000000000000000", "12345678901", "123456789012",
    "12345678901234", "123456789012345", "12345678901234567", "99999999999999999999999",
    "1663346058860810.5", "12345678901.0", "-1583117516", "+1583117516", "1583117516.", "1583117516 1",
    // Absent words ("0" is unset, not 1970) and garbage.
    "", "   ", "None", "NA", "N/A", "0", "none", "n/a", "garbage", "-", "?", "Fri", "Fri Dec",
    "T10:00:00Z", "😀", "Fri Dec 17 07:04:57 2021😀",
];

#[test]
fn parse_time_cases() {
    for &(s, set, want) in PARSED {
        for (zone_name, zone) in zones(set) {
            let got = parse_time(s, &zone).map(render);
            assert_eq!(got.as_deref(), Some(want), "{s:?} in {zone_name}");
        }
    }
}

#[test]
fn parse_time_rejects() {
    for &s in REJECTED {
        for (zone_name, zone) in zones(ALL) {
            assert_eq!(parse_time(s, &zone), None, "{s:?} in {zone_name}");
        }
    }
}

/// parse_zone input and its offset in seconds; 0 must be exactly
/// TimeZone::UTC, so that parse_time takes its UTC fast path.
#[rustfmt::skip]
const ZONE_OFFSETS: &[(&str, i32)] = &[
    ("UTC", 0), ("GMT", 0), ("Z", 0), ("utc", 0), (" UTC ", 0), ("-00:00", 0),
    ("+05:30", 19_800), ("-0800", -28_800), ("+5", 18_000), ("+05", 18_000),
    ("UTC+5", 18_000), ("UTC-03:30", -12_600), ("GMT+1", 3_600), ("utc+0530", 19_800),
];

#[test]
fn zone_offsets() {
    for &(s, secs) in ZONE_OFFSETS {
        let tz = parse_zone(s).unwrap_or_else(|e| panic!("{s:?}: {e}"));
        let want = Offset::from_seconds(secs).unwrap();
        assert_eq!(tz.to_fixed_offset().ok(), Some(want), "{s:?}");
        assert!(secs != 0 || tz == TimeZone::UTC, "{s:?} is not UTC");
    }
}

#[test]
fn zone_iana() {
    for name in ["Europe/Paris", "America/New_York"] {
        let tz = parse_zone(name).unwrap_or_else(|e| panic!("{name:?}: {e}"));
        assert_eq!(tz.iana_name(), Some(name));
    }
}

/// parse_zone input and a substring its error message must contain.
#[rustfmt::skip]
const ZONE_ERRORS: &[(&str, &str)] = &[
    ("", "empty"), ("Mars/Olympus", "Mars/Olympus"), ("+25:00", "+25:00"),
    ("+05:60", "+05:60"), ("+530", "+530"), ("UTC+", "UTC+"), ("+", "+"),
    ("GMT+1:3", "GMT+1:3"), ("+05:30x", "+05:30x"), ("UTC 5", "UTC 5"),
];

#[test]
fn zone_errors_name_the_problem() {
    for &(s, needle) in ZONE_ERRORS {
        let e = parse_zone(s).expect_err(s);
        assert!(e.contains(needle), "{s:?}: {e}");
    }
}

#[test]
fn from_epoch() {
    // 0 means "unset" in feeds; the extremes are out of jiff's range.
    for (secs, want) in [
        (1_583_117_516, Some("2020-03-02T02:51:56Z")),
        (-1, Some("1969-12-31T23:59:59Z")),
        (0, None),
        (i64::MAX, None),
        (i64::MIN, None),
    ] {
        let got = from_epoch_secs(secs).map(render);
        assert_eq!(got.as_deref(), want, "{secs}");
    }
}

#[test]
fn hand_conversion_agrees_with_jiff() {
    // The UTC fast path does its own calendar arithmetic; check it
    // against jiff over a spread of dates, including century edges.
    #[rustfmt::skip]
    let dates = [
        (1970, 1, 1), (1999, 12, 31), (2000, 2, 29), (2000, 3, 1), (2024, 2, 29),
        (2100, 3, 1), (1900, 1, 1), (1, 1, 1), (9999, 12, 30),
    ];
    for (y, m, d) in dates {
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

#[test]
fn a_zone_of_its_own_is_read_as_a_zone_word_in_the_time() {
    // Time, the record's zone field (`%s{tz}`, CEF `dtz`, NetWitness `timezone`), the feed
    // zone, and the instant (None: unreadable, a `bad_time` dead letter).
    #[rustfmt::skip]
    let cases: &[(&str, &str, &str, Option<&str>)] = &[
        ("Sat Nov  4 09:03:07 2023", "America/Los_Angeles", "UTC", Some("2023-11-04T16:03:07Z")),
        ("2023-11-04 09:03:07", "Europe/Paris", "UTC", Some("2023-11-04T08:03:07Z")),
        ("Oct 02 2017 16:21:40", "+0200", "UTC", Some("2017-10-02T14:21:40Z")),
        ("Sat Nov  4 09:03:07 2023", "-05:00", "Europe/Paris", Some("2023-11-04T14:03:07Z")),
        ("Sat Nov  4 09:03:07 2023", " GMT ", "Europe/Paris", Some("2023-11-04T09:03:07Z")),
        ("Sat Nov  4 09:03:07 2023", "utc", "Europe/Paris", Some("2023-11-04T09:03:07Z")),
        ("Sat Nov  4 09:03:07 2023", "", "Europe/Paris", Some("2023-11-04T08:03:07Z")),
        // The feed zone's abbreviation then, and in the hour the clock turns back, which one.
        ("Mon Dec  4 09:03:07 2023", "PST", "America/Los_Angeles", Some("2023-12-04T17:03:07Z")),
        ("Sat Nov  4 09:03:07 2023", "PDT", "America/Los_Angeles", Some("2023-11-04T16:03:07Z")),
        ("2023-11-05 01:30:00", "PDT", "America/Los_Angeles", Some("2023-11-05T08:30:00Z")),
        ("2023-11-05 01:30:00", "PST", "America/Los_Angeles", Some("2023-11-05T09:30:00Z")),
        // An abbreviation the feed zone does not have then, or no zone's: unreadable.
        ("Mon Dec  4 09:03:07 2023", "PDT", "America/Los_Angeles", None),
        ("Sat Nov  4 09:03:07 2023", "PST", "UTC", None),
        ("Sat Nov  4 09:03:07 2023", "CST", "Europe/Paris", None),
        ("Sat Nov  4 09:03:07 2023", "Mars/Olympus", "UTC", None),
        // The database's short names are its zones, beside a time as in it.
        ("Sat Nov  4 09:03:07 2023", "EST", "UTC", Some("2023-11-04T14:03:07Z")),
        ("Oct 02 2017 16:21:40", "CET", "America/Los_Angeles", Some("2017-10-02T14:21:40Z")),
        ("Sat Nov  4 09:03:07 2023", "Japan", "UTC", Some("2023-11-04T00:03:07Z")),
        ("Sat Nov  4 09:03:07 2023", "UCT", "Europe/Paris", Some("2023-11-04T09:03:07Z")),
        // A time that says its own zone, or epoch seconds, is that time.
        ("2023-11-04T09:03:07Z", "Europe/Paris", "UTC", Some("2023-11-04T09:03:07Z")),
        ("Oct 02 2017 16:21:40 GMT", "PST", "UTC", Some("2017-10-02T16:21:40Z")),
        ("1699088587", "Europe/Paris", "UTC", Some("2023-11-04T09:03:07Z")),
        ("not a time", "Europe/Paris", "UTC", None),
    ];
    for &(text, word, feed, want) in cases {
        let zone = parse_zone(feed).unwrap();
        let got = parse_time_in_zone_named(text, word, &zone).map(render);
        assert_eq!(got.as_deref(), want, "{text:?} {word:?} in {feed}");
    }
}

#[test]
fn epoch_floats_are_kept_to_the_microsecond_and_near_zero_is_unset() {
    let micros = |x: f64| from_epoch_f64(x).map(|t| t.as_microsecond());
    assert_eq!(micros(1_663_346_058.860_81), Some(1_663_346_058_860_810));
    assert_eq!(micros(1_583_117_516.999_999_9), Some(1_583_117_517_000_000));
    assert_eq!(
        micros(0.000_000_1),
        None,
        "0 after rounding is unset, as 0 is"
    );
    assert_eq!(micros(0.5), Some(500_000));
    assert_eq!(micros(-1.5), None);
}

#[test]
fn zone_words_by_their_form() {
    for word in [
        "UTC",
        "GMT",
        "Z",
        "PST",
        "CEST",
        "+0000",
        "-05:00",
        "Europe/Paris",
        "America/Argentina/Buenos_Aires",
    ] {
        assert!(looks_like_zone_word(word), "{word}");
    }
    for word in [
        "", "utc", "FW01", "relay01", "nss:", "+00", "ABCDEF", "reason=x", "2025",
    ] {
        assert!(!looks_like_zone_word(word), "{word}");
    }
}
