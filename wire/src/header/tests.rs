//! The header reader against the shapes senders and relays write.

use super::*;

/// The header of a line and the message after it.
fn header(line: &str) -> (Header<'_>, &str) {
    let (h, at) = split(line.as_bytes());
    (h, &line[at..])
}

#[test]
fn bare_record_has_no_header() {
    assert_eq!(header("{\"a\":1}"), (Header::default(), "{\"a\":1}"));
}

#[test]
fn pri_only() {
    assert_eq!(header("<111>{\"a\":1}"), (Header::default(), "{\"a\":1}"));
}

#[test]
fn rfc3164_with_pri_and_host() {
    let (h, rest) = header("<134>Nov 22 10:15:01 zscaler-nss {\"a\":1}");
    assert_eq!(h.timestamp(), Some("Nov 22 10:15:01"));
    assert_eq!(h.host(), Some("zscaler-nss"));
    assert_eq!(rest, " {\"a\":1}");
}

#[test]
fn rfc3164_space_padded_day_and_tag() {
    let (h, rest) = header("Mar  2 02:57:01 nss01 zscaler-nss: {}");
    assert_eq!(h.timestamp(), Some("Mar  2 02:57:01"));
    assert_eq!(h.host(), Some("nss01"));
    assert_eq!(rest, " {}");
}

#[test]
fn rfc3164_tag_goes_with_the_header_so_csv_starts_at_its_first_field() {
    let (_, rest) = header("<134>Nov 22 08:26:40 zscaler-nss nss: \"Sat Nov 22\",\"u\"");
    assert_eq!(rest, " \"Sat Nov 22\",\"u\"");
    let (_, rest) = header("Nov 22 08:26:40 nss01 nss[42]: a=1");
    assert_eq!(rest, " a=1");
    // Not tags: a record's own text right after the host stays in the message.
    for message in [
        " LEEF:1.0|Zscaler|NSS|4.1|x|",
        " CEF:0|Zscaler|NSSWeblog|5.7|x",
        " reason=Allowed\tx=1",
        " { \"a\" : 1}",
        " nss:x",
        " nss[42:",
    ] {
        let line = format!("Nov 22 08:26:40 nss01{message}");
        assert_eq!(header(&line).1, message);
    }
}

#[test]
fn rfc3164_without_host() {
    let (h, rest) = header("Nov 22 10:15:01 {\"a\":1}");
    assert_eq!((h.timestamp(), h.host()), (Some("Nov 22 10:15:01"), None));
    assert_eq!(rest, "{\"a\":1}");
}

#[test]
fn a_host_that_is_not_utf8_is_no_host() {
    let line = b"Nov 22 10:15:01 nss\xff01 {\"a\":1}";
    let (h, at) = split(line);
    assert_eq!((h.timestamp(), h.host()), (Some("Nov 22 10:15:01"), None));
    assert_eq!(&line[at..], b"nss\xff01 {\"a\":1}");
    // Accented, but UTF-8: a host, colons trimmed.
    let (h, rest) = header("Nov 22 10:15:01 nss-\u{e9}t\u{e9}:: {}");
    assert_eq!(h.host(), Some("nss-\u{e9}t\u{e9}"));
    assert_eq!(rest, " {}");
    let line = b"<165>1 2025-11-22T10:15:01Z nss\xff app - - - {}";
    let (h, at) = split(line);
    assert_eq!(h.host(), None);
    assert_eq!(h.timestamp(), Some("2025-11-22T10:15:01Z"));
    assert_eq!(&line[at..], b"{}");
}

#[test]
fn rfc5424_header() {
    let (h, rest) = header("<165>1 2025-11-22T10:15:01.003Z nss01 zscaler - - - {\"a\":1}");
    assert_eq!(h.timestamp(), Some("2025-11-22T10:15:01.003Z"));
    assert_eq!(h.host(), Some("nss01"));
    assert_eq!(rest, "{\"a\":1}");
}

#[test]
fn rfc5424_structured_data_may_hold_braces_and_brackets() {
    let line = r#"<165>1 2025-11-22T10:15:01Z nss{01} app{x} - - [meta x="{" y="a\"]b"][two z="}"] {"a":1}"#;
    let (h, rest) = header(line);
    assert_eq!(h.host(), Some("nss{01}"));
    assert_eq!(rest, r#"{"a":1}"#);
}

#[test]
fn static_text_stays_in_the_message() {
    let (h, rest) = header("ZSCALER-NSS web: {\"a\":1}");
    assert_eq!(h, Header::default());
    assert_eq!(rest, "ZSCALER-NSS web: {\"a\":1}");
}

#[test]
fn a_stamp_cut_inside_a_utf8_character_is_no_stamp() {
    // Found by the header fuzz target: this used to slice inside "é" and panic.
    let (h, rest) = header("Jan 01 00:00:0\u{e9}{}");
    assert_eq!((h, rest), (Header::default(), "Jan 01 00:00:0\u{e9}{}"));
}

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

#[test]
fn a_ctime_stamp_with_weekday_and_year_is_a_header_only_before_a_space() {
    let (h, rest) = header("<166>Tue Apr 20 22:23:25 2021 zpa.example LEEF:1.0|Zscaler|ZPA|4.1|x|");
    assert_eq!(h.timestamp(), Some("Tue Apr 20 22:23:25 2021"));
    assert_eq!(h.host(), Some("zpa.example"));
    assert_eq!(rest, " LEEF:1.0|Zscaler|ZPA|4.1|x|");
    assert_eq!(
        h.time(&TimeZone::UTC, Timestamp::now())
            .unwrap()
            .to_string(),
        "2021-04-20T22:23:25Z"
    );
    // A tab-separated positional record starts with such a time: it keeps it.
    let line = "Mon Jun 20 15:29:11 2022\tnew-gre\tHTTP";
    assert_eq!(header(line), (Header::default(), line));
}

#[test]
fn an_rfc3339_stamp_in_rfc3164s_place_is_a_header() {
    // rsyslog's RSYSLOG_ForwardFormat: the CSV record starts after the tag, and the stamp
    // is the time of a record that has none.
    let line = "<134>2025-11-22T10:15:01.003+01:00 nss01 zscaler-nss: \"Sat Nov 22\",\"u\"";
    let (h, rest) = header(line);
    assert_eq!(h.timestamp(), Some("2025-11-22T10:15:01.003+01:00"));
    assert_eq!(h.host(), Some("nss01"));
    assert_eq!(rest, " \"Sat Nov 22\",\"u\"");
    let now = Timestamp::now();
    let ts = h.time(&TimeZone::UTC, now).unwrap();
    assert_eq!(ts.to_string(), "2025-11-22T09:15:01.003Z");
    let (h, rest) = header("2025-11-22T10:15:01Z nss01 {\"a\":1}");
    assert_eq!(
        (h.timestamp(), h.host()),
        (Some("2025-11-22T10:15:01Z"), Some("nss01"))
    );
    assert_eq!(rest, " {\"a\":1}");
    // Not stamps: a positional record's first field (a tab follows), no zone, a bad shape.
    for line in [
        "2025-11-22T10:15:01Z\tnss01\tHTTP",
        "2025-11-22T10:15:01 nss01 {}",
        "2025-11-22T10:15:01.Z nss01 {}",
        "2025-11-22T10:15:01+0100 nss01 {}",
        "2025-11-2T10:15:01Z nss01 {}",
    ] {
        assert_eq!(header(line), (Header::default(), line), "{line:?}");
    }
}

#[test]
fn rfc5424_time_parses() {
    let now = Timestamp::now();
    let (h, _) = header("<165>1 2025-11-22T10:15:01Z nss01 zscaler - - - {}");
    assert_eq!(
        h.time(&TimeZone::UTC, now).unwrap().to_string(),
        "2025-11-22T10:15:01Z"
    );
}

/// The stack of a line: its fallback header, the line from that header on, and its message.
fn stacked(line: &str) -> (Header<'_>, &str, &str) {
    let s = split_stacked(line.as_bytes());
    (s.header, &line[s.start..], &line[s.message..])
}

#[test]
fn a_relays_header_before_the_senders_is_read_too() {
    let sender = "<134>Nov 22 10:15:01 zscaler-nss \"Mon Jun 20 15:29:11 2022\",\"x\"";
    for relay in [
        "<134>Nov 22 10:15:05 relay1 ",
        "<134>Nov 22 10:15:05 relay1 syslog: ",
        "<134>1 2026-11-22T10:15:05Z relay1 - - - - ",
        " <134>1 2026-11-22T10:15:05Z relay1 - - - [a x=\"1\"]",
        "<134>2026-11-22T10:15:05Z relay2 <134>Nov 22 10:15:05 relay1 ",
    ] {
        let line = format!("{relay}{sender}");
        let (h, from, message) = stacked(&line);
        assert_eq!(h.timestamp(), Some("Nov 22 10:15:01"), "{line:?}");
        assert_eq!(h.host(), Some("zscaler-nss"));
        assert_eq!(from, sender);
        assert_eq!(message, " \"Mon Jun 20 15:29:11 2022\",\"x\"");
    }
    // One header: the same split, from its start.
    let (h, from, message) = stacked(sender);
    assert_eq!((h, message), header(sender));
    assert_eq!(from, sender);
}

#[test]
fn a_stack_ends_at_static_text_or_at_its_bound() {
    let (_, _, message) = stacked("<134>Nov 22 10:15:01 nss ZSCALER web: <134>{\"a\":1}");
    assert_eq!(message, " ZSCALER web: <134>{\"a\":1}");
    // A PRI alone has no time: the relay's stays the fallback.
    let line = "<134>Nov 22 10:15:05 relay1 <13>{\"a\":1}";
    let (h, from, message) = stacked(line);
    assert_eq!(
        (h.timestamp(), from, message),
        (Some("Nov 22 10:15:05"), line, "{\"a\":1}")
    );
    let many = "<1>Nov 22 10:15:01 a ".repeat(MAX_HEADERS + 1);
    let (_, from, message) = stacked(&many);
    assert_eq!(message, " <1>Nov 22 10:15:01 a ");
    assert_eq!(from, &many[(MAX_HEADERS - 1) * 21..]);
    // LSS's lead behind a syslog header is the innermost: its time is the fallback.
    let line = "<134>Nov 22 10:15:01 lss Wed Jul  3 05:17:22 2019 Connector Status zpa-lss: ,x";
    let (h, from, message) = stacked(line);
    assert_eq!(h.timestamp(), Some("Wed Jul  3 05:17:22 2019"));
    assert!(from.starts_with("Wed Jul  3"));
    assert_eq!(message, " Status zpa-lss: ,x");
    assert_eq!(stacked(""), (Header::default(), "", ""));
}

#[test]
fn a_record_that_starts_after_a_stamp_is_no_host() {
    // A key=value record that starts with its time, a sender that leaves its host out before
    // CSV fields: the record's first pair or fields are not a host, and stay in the message.
    for (line, message) in [
        (
            "2019-10-16T15:44:36Z reason=Allowed event_id=1",
            "reason=Allowed event_id=1",
        ),
        (
            "<134>Nov 22 10:15:01 reason=Allowed\tx=1",
            "reason=Allowed\tx=1",
        ),
        ("<134>Nov 22 10:15:01 ,u,x", ",u,x"),
        (
            "<134>Nov 22 10:15:01 \"Sat Nov 22\",\"u\"",
            "\"Sat Nov 22\",\"u\"",
        ),
        ("<134>Nov 22 10:15:01 a|b|c", "a|b|c"),
    ] {
        let (h, rest) = header(line);
        assert_eq!(h.host(), None, "{line:?}");
        assert!(h.timestamp().is_some(), "{line:?}");
        assert_eq!(rest, message, "{line:?}");
        let stack = split_stacked(line.as_bytes());
        assert_eq!(&line[stack.message..], message, "{line:?}");
    }
}
