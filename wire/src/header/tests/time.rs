//! The header's time: the year a stamp without one takes, one written after it, a leap second.

use super::*;

#[test]
fn rfc3164_time_takes_the_year_before_now() {
    let now: Timestamp = "2026-01-03T00:00:00Z".parse().unwrap();
    let (h, _) = header("Dec 31 23:59:59 nss {}");
    let ts = h.time(&TimeZone::UTC, now).unwrap();
    assert_eq!(ts.to_string(), "2025-12-31T23:59:59Z");
    let (h, _) = header("Jan  2 10:00:00 nss {}");
    assert_eq!(
        h.time(&TimeZone::UTC, now).unwrap().to_string(),
        "2026-01-02T10:00:00Z"
    );
}

/// Regression: a sender whose clock was a second ahead at New Year had its `Jan  1` stamp read
/// as the January before, a year early (records, devices and attribution windows).
#[test]
fn rfc3164_time_read_on_new_years_eve_may_be_next_years() {
    let now: Timestamp = "2026-12-31T23:59:30Z".parse().unwrap();
    for (stamp, expected) in [
        ("Jan  1 00:00:01", "2027-01-01T00:00:01Z"),
        ("Jan  1 23:00:00", "2027-01-01T23:00:00Z"),
        ("Dec 31 23:59:29", "2026-12-31T23:59:29Z"),
        // More than a day ahead is not skew: the stamp is from earlier this year.
        ("Jan  2 00:00:00", "2026-01-02T00:00:00Z"),
    ] {
        let line = format!("{stamp} nss {{}}");
        let (h, _) = header(&line);
        assert_eq!(
            h.time(&TimeZone::UTC, now).unwrap().to_string(),
            expected,
            "{stamp}"
        );
    }
}

#[test]
fn a_year_after_an_rfc3164_stamp_is_the_stamps() {
    // A sender that writes the year after the stamp: read as the host, the year was lost and
    // the time took the arrival's year.
    let now: Timestamp = "2026-12-06T00:00:00Z".parse().unwrap();
    for (line, stamp, host, rest, time) in [
        (
            "Jun 20 15:29:11 2022 nss: {\"a\":1}",
            "Jun 20 15:29:11 2022",
            Some("nss"),
            " {\"a\":1}",
            "2022-06-20T15:29:11Z",
        ),
        (
            "<134>Jun  2 15:29:11  2021 zscaler-nss nss: reason=Allowed",
            "Jun  2 15:29:11  2021",
            Some("zscaler-nss"),
            " reason=Allowed",
            "2021-06-02T15:29:11Z",
        ),
        (
            "<134>Nov 22 10:15:01 2022 {\"a\":1}",
            "Nov 22 10:15:01 2022",
            None,
            "{\"a\":1}",
            "2022-11-22T10:15:01Z",
        ),
    ] {
        let (h, got) = header(line);
        assert_eq!(
            (h.timestamp(), h.host(), got),
            (Some(stamp), host, rest),
            "{line:?}"
        );
        let ts = h.time(&TimeZone::UTC, now).map(|t| t.to_string());
        assert_eq!(ts.as_deref(), Some(time), "{line:?}");
    }
    // In the feed's zone, as a yearless stamp is.
    let (h, _) = header("Jun 20 15:29:11 2022 nss: {}");
    let zone = TimeZone::get("America/New_York").unwrap();
    let ts = h.time(&zone, now).map(|t| t.to_string());
    assert_eq!(ts.as_deref(), Some("2022-06-20T19:29:11Z"));
}

#[test]
fn a_leap_second_in_an_rfc3164_stamp_is_the_second_before() {
    // As a record's own `23:59:60` is read: Unix time has no leap second, and the header's
    // time was a bad_time.
    let now: Timestamp = "2026-12-06T00:00:00Z".parse().unwrap();
    for (line, time) in [
        ("Jun 30 23:59:60 nss {}", "2026-06-30T23:59:59Z"),
        ("Dec 31 23:59:60 2016 nss {}", "2016-12-31T23:59:59Z"),
    ] {
        let (h, _) = header(line);
        let ts = h.time(&TimeZone::UTC, now).map(|t| t.to_string());
        assert_eq!(ts.as_deref(), Some(time), "{line:?}");
    }
}
