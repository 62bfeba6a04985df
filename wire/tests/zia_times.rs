//! A ZIA web record's time (DESIGN §3 "Values"): the forms NSS writes, the syslog header's and
//! the arrival's as fallbacks, and what is no time.

mod common;

use common::{dead_reason, one, RECEIVED};
use wire::event::Reason;

/// The feed's zone, for the records whose times carry none.
const ZONE: &str = "UTC";

#[test]
fn time_formats() {
    let rec =
        |time: &str| format!(r#"{{"cip":"10.0.0.1","reqmethod":"GET","respcode":"200",{time}}}"#);
    let cases = [
        (
            "UTC",
            r#""time":"Fri Dec 17 07:04:57 2021""#,
            "2021-12-17T07:04:57Z",
        ),
        (
            "Europe/Paris",
            r#""time":"Fri Dec 17 07:04:57 2021""#,
            "2021-12-17T06:04:57Z",
        ),
        (
            "Europe/Paris",
            r#""time":"Mon Jun  6 07:04:57 2022""#,
            "2022-06-06T05:04:57Z",
        ),
        (
            "+05:30",
            r#""datetime":"2023-08-28 15:43:14""#,
            "2023-08-28T10:13:14Z",
        ),
        (
            "Europe/Paris",
            r#""epochtime":"1583117516""#,
            "2020-03-02T02:51:56Z",
        ),
        (
            "Europe/Paris",
            r#""time":"2019-05-30T08:20:42.230Z""#,
            "2019-05-30T08:20:42.230Z",
        ),
        (
            "Europe/Paris",
            r#""time":"Fri Dec 17 07:04:57 2021","tz":"GMT""#,
            "2021-12-17T07:04:57Z",
        ),
        (
            "UTC",
            r#""epochtime":"None","time":"Fri Dec 17 07:04:57 2021""#,
            "2021-12-17T07:04:57Z",
        ),
        // The record's own zone (`%s{tz}`) wins over the feed's, as a zone word in a time does.
        (
            "UTC",
            r#""time":"Sat Nov  4 09:03:07 2023","tz":"America/Los_Angeles""#,
            "2023-11-04T16:03:07Z",
        ),
        (
            "UTC",
            r#""datetime":"2023-11-04 09:03:07","tz":"+0200""#,
            "2023-11-04T07:03:07Z",
        ),
        (
            "America/Los_Angeles",
            r#""time":"Mon Dec  4 09:03:07 2023","tz":"PST""#,
            "2023-12-04T17:03:07Z",
        ),
    ];
    for (zone, time, want) in cases {
        let r = one(zone, &rec(time));
        assert_eq!(r["ts"], want, "{time} in {zone}");
    }
}

#[test]
fn time_falls_back_to_header_then_to_reception() {
    let body = r#"{"cip":"10.0.0.1","reqmethod":"GET","respcode":"200"}"#;
    let r = one(
        ZONE,
        &format!("<134>1 2025-11-22T10:15:01Z nss01 zscaler - - - {body}"),
    );
    assert_eq!(r["ts"], "2025-11-22T10:15:01Z");
    let r = one(ZONE, &format!("<134>Nov 21 10:15:01 nss01 {body}"));
    assert_eq!(r["ts"], "2026-11-21T10:15:01Z");
    let r = one(ZONE, body);
    assert_eq!(r["ts"], RECEIVED);
    // A header stamp that cannot be read is no reason to date the record when it came: it is a
    // dead letter, as a record's own unreadable time is.
    for header in [
        "<134>Feb 30 10:15:01 nss01 ",
        "<134>Nov 22 25:15:01 nss01 ",
        "<134>1 2023-13-02T03:04:05Z nss01 zscaler - - - ",
    ] {
        let line = format!("{header}{body}");
        assert_eq!(
            dead_reason(ZONE, line.as_bytes()),
            Reason::BadTime,
            "{line}"
        );
    }
}

#[test]
fn unreadable_time_is_a_dead_letter() {
    let line = br#"{"time":"yesterday-ish","cip":"10.0.0.1","reqmethod":"GET","respcode":"200"}"#;
    assert_eq!(dead_reason(ZONE, line), Reason::BadTime);
    // A zone abbreviation that is not the feed zone's: `CST` is Chicago's or China's, and
    // reading the time in the feed's zone would shift it without a trace.
    let line =
        br#"{"time":"Sat Nov  4 09:03:07 2023","tz":"CST","cip":"10.0.0.1","reqmethod":"GET","respcode":"200"}"#;
    assert_eq!(dead_reason("UTC", line), Reason::BadTime);
}

/// Regression (timestamp audit): a CEF `rt` without a year (`%s{mon} %02d{dd} %02d{hh}:…`) was
/// passed over for the syslog header's time, which a relay's header makes another (months off),
/// or for the arrival's without a header. It takes its year as an RFC 3164 header's does.
#[test]
fn a_time_without_a_year_is_the_records_own() {
    let cef = "CEF:0|Zscaler|NSSWeblog|5.7|Allowed|Allowed|3|act=Allowed src=10.0.0.1 \
               requestMethod=GET rt=Jun 20 15:29:11 suser=u@x externalId=1";
    for line in [
        format!("<134>1 2026-11-06T10:00:00Z relay nss - - - {cef}"),
        format!("<134>Nov  1 10:00:00 relay {cef}"),
        cef.to_owned(),
    ] {
        let r = one(ZONE, &line);
        assert_eq!(r["ts"], "2026-06-20T15:29:11Z", "{line}");
    }
    // A replay through a relay that kept the original RFC 5424 stamp: the year before that
    // stamp, not before the arrival (2026 here).
    let old = format!("<134>1 2024-06-20T15:29:12Z relay nss - - - {cef}");
    assert_eq!(one(ZONE, &old)["ts"], "2024-06-20T15:29:11Z");
    // In the feed's zone, and a year back when it would be more than a day ahead.
    let r = one("Europe/Berlin", &cef.replace("Jun 20", "Dec 30"));
    assert_eq!(r["ts"], "2025-12-30T14:29:11Z");
    let json = r#"{"time":"Jun 20 15:29:11","cip":"10.0.0.1","reqmethod":"GET","respcode":"200"}"#;
    assert_eq!(one(ZONE, json)["ts"], "2026-06-20T15:29:11Z");
    // Beside a zone word (CEF's `dtz`, NSS's `%s{tz}`): in that zone (review: a bad_time).
    let r = one("Europe/Berlin", &format!("{cef} dtz=GMT"));
    assert_eq!(r["ts"], "2026-06-20T15:29:11Z");
    let json = json.replace("\"cip\"", "\"tz\":\"GMT\",\"cip\"");
    assert_eq!(one("Europe/Berlin", &json)["ts"], "2026-06-20T15:29:11Z");
}

/// Regression (timestamp audit): a time before 2000 was a record's (`0001-01-01`, a negative
/// JSON epoch, a tiny one) and became its device's first sighting, which the registry clamped
/// to 1677; NSS's "no time", the epoch in ctime, was the record's time (1970, or 05:00 in New
/// York). Now the first are `bad_time` dead letters and the last is no time of the record's.
#[test]
fn a_time_no_record_can_have_is_refused_and_nss_no_time_is_none() {
    let rec =
        |time: &str| format!(r#"{{"cip":"10.0.0.1","reqmethod":"GET","respcode":"200",{time}}}"#);
    for time in [
        r#""datetime":"0001-01-01 00:00:00""#,
        r#""epochtime":-5"#,
        r#""epochtime":"-5""#,
        r#""epochtime":5"#,
        r#""time":"Mon Jan  1 00:00:00 1990""#,
        r#""epochtime":"9999999999""#,
    ] {
        let line = rec(time);
        assert_eq!(
            dead_reason(ZONE, line.as_bytes()),
            Reason::BadTime,
            "{line}"
        );
    }
    for zone in ["UTC", "America/New_York"] {
        let r = one(zone, &rec(r#""time":"Thu Jan  1 00:00:00 1970""#));
        assert_eq!(r["ts"], RECEIVED, "{zone}");
        let header = "<134>1 2025-11-22T10:15:01Z nss01 zscaler - - - ";
        let r = one(
            zone,
            &format!("{header}{}", rec(r#""time":"Thu Jan  1 00:00:00 1970""#)),
        );
        assert_eq!(r["ts"], "2025-11-22T10:15:01Z", "{zone}");
    }
    // A header's time is held to the same bounds.
    let line = format!(
        "<134>1 0001-01-01T00:00:00Z nss01 zscaler - - - {}",
        rec(r#""a":1"#)
    );
    assert_eq!(dead_reason(ZONE, line.as_bytes()), Reason::BadTime);
}
