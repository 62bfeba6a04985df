//! The header reader against the shapes senders and relays write.

use super::*;

/// The header of a line and the message after it.
fn header(line: &str) -> (Header<'_>, &str) {
    let (h, at) = split(line.as_bytes());
    (h, &line[at..])
}

mod bounds;
mod time;

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
fn a_stack_ends_at_static_text() {
    let (_, _, message) = stacked("<134>Nov 22 10:15:01 nss ZSCALER web <134>{\"a\":1}");
    assert_eq!(message, " ZSCALER web <134>{\"a\":1}");
    // Static text that ends with a tag is a relay's before the sender's header: read on.
    let line = "<134>Nov 22 10:15:05 relay1 ZSCALER web: <134>Nov 22 10:15:01 nss {\"a\":1}";
    let (h, from, message) = stacked(line);
    assert_eq!(h.timestamp(), Some("Nov 22 10:15:01"));
    assert_eq!(
        (from, message),
        ("<134>Nov 22 10:15:01 nss {\"a\":1}", " {\"a\":1}")
    );
    // A PRI alone has no time: the relay's stays the fallback.
    let line = "<134>Nov 22 10:15:05 relay1 <13>{\"a\":1}";
    let (h, from, message) = stacked(line);
    assert_eq!(
        (h.timestamp(), from, message),
        (Some("Nov 22 10:15:05"), line, "{\"a\":1}")
    );
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

#[test]
fn an_unpadded_day_and_a_space_after_the_pri_are_rfc3164() {
    // Some relays and hand-written senders write the day unpadded, or a space after the PRI:
    // the header is the canonical one, the same host, message and time.
    let now: Timestamp = "2026-11-22T12:00:00Z".parse().unwrap();
    for (line, stamp, canonical) in [
        (
            "<134>Nov 2 10:15:01 nss-host zscaler-nss: {\"a\":1}",
            "Nov 2 10:15:01",
            "<134>Nov  2 10:15:01 nss-host zscaler-nss: {\"a\":1}",
        ),
        (
            "<134> Nov 12 10:15:01 host tag: \"x\",\"y\"",
            "Nov 12 10:15:01",
            "<134>Nov 12 10:15:01 host tag: \"x\",\"y\"",
        ),
        (
            "<134>  Nov 2 10:15:01 host a=1",
            "Nov 2 10:15:01",
            "<134>Nov  2 10:15:01 host a=1",
        ),
        (
            "Nov 2 10:15:01 host {}",
            "Nov 2 10:15:01",
            "Nov  2 10:15:01 host {}",
        ),
    ] {
        let (h, rest) = header(line);
        let (c, want) = header(canonical);
        assert_eq!(h.timestamp(), Some(stamp), "{line:?}");
        assert_eq!((h.host(), rest), (c.host(), want), "{line:?}");
        let time = h.time(&TimeZone::UTC, now);
        assert!(time.is_some(), "{line:?}");
        assert_eq!(time, c.time(&TimeZone::UTC, now), "{line:?}");
        let stack = split_stacked(line.as_bytes());
        assert_eq!(stack.header, h, "{line:?}");
    }
    // Behind a relay's header, the sender's is read the same.
    let line = "<13>Nov 22 10:15:05 relay1 <134>Nov 2 10:15:01 nss-host zscaler-nss: a=1";
    let (h, from, message) = stacked(line);
    assert_eq!(h.timestamp(), Some("Nov 2 10:15:01"));
    assert_eq!(from, "<134>Nov 2 10:15:01 nss-host zscaler-nss: a=1");
    assert_eq!(message, " a=1");
    // A record that starts with such a time as a positional field (a tab or a comma after it)
    // keeps it, as it keeps a ctime; a stamp cut short is none.
    for line in [
        "Nov 2 10:15:01\tnew-gre\tHTTP",
        "Nov 2 10:15:01,new-gre,HTTP",
        "Nov 2 10:15:0 host {}",
        "Nov 2 10:15:01",
        "<134> {\"a\":1}",
    ] {
        let (h, _) = header(line);
        assert_eq!(h, Header::default(), "{line:?}");
    }
}

#[test]
fn a_stack_is_read_to_the_senders_header_however_many_relays() {
    // A chain of relays, each putting its header before the line: the innermost header with a
    // time is the sender's, and the message follows it, however many came before.
    let sender = "<134>Nov 22 10:15:01 zscaler-nss nss: a=1";
    for relays in [1, 4, 5, 8, 40] {
        let line = format!("{}{sender}", "<13>Nov 22 10:15:05 relay1 ".repeat(relays));
        let (h, from, message) = stacked(&line);
        assert_eq!(h.timestamp(), Some("Nov 22 10:15:01"), "{relays}");
        assert_eq!(h.host(), Some("zscaler-nss"), "{relays}");
        assert_eq!((from, message), (sender, " a=1"), "{relays}");
    }
    // Nothing but headers: the last one is the sender's, and the message is empty.
    let many = "<1>Nov 22 10:15:01 a ".repeat(9);
    let (_, from, message) = stacked(&many);
    assert_eq!((from, message), ("<1>Nov 22 10:15:01 a ", " "));
}

/// Where the record of a line begins, after its headers and any static text.
fn body(line: &str) -> &str {
    &line[split_stacked(line.as_bytes()).body..]
}

#[test]
fn a_syslog_tag_before_the_record_is_static_text() {
    // NSS feed templates and relays put a tag before the feed's line, with or without a header
    // before it, or after one that is not read as a header: the record starts after it. The
    // message (what identifies a record) still holds it.
    for (line, want) in [
        ("zscaler-nss: a=1\tb=2", "a=1\tb=2"),
        ("zscaler-nss[123]: \"x\",\"y\"", "\"x\",\"y\""),
        (
            "  nss:  Wed May  4 08:42:00 2022\ta=1",
            "Wed May  4 08:42:00 2022\ta=1",
        ),
        ("<134>zscaler-nss: {\"a\":1}", "{\"a\":1}"),
        ("<134>1 2025-11-22T10:15:01Z h a - - - nss: \"x\"", "\"x\""),
        (
            "Mon Oct 02 16:21:40 UTC 2017 zscaler-nss: LEEF:1.0|x",
            "LEEF:1.0|x",
        ),
        (
            "<134>Nov 22 2025 10:15:01 zscaler-nss nss: \"x\",\"y\"",
            "\"x\",\"y\"",
        ),
        ("agnamali ZSCALERNSS: time=x^^a=b", "time=x^^a=b"),
        ("<134>Nov 22 10:15:01 host nss: zscaler-nss: a=1", "a=1"),
        // LSS's lead behind a tag reads as it does bare: a header, then the lead's rest.
        (
            "zscaler-nss: Wed Jul  3 05:17:22 2019 Connector Status zpa-lss: ,x",
            " Status zpa-lss: ,x",
        ),
    ] {
        assert_eq!(body(line), want, "{line:?}");
        let stack = split_stacked(line.as_bytes());
        assert!(stack.message <= stack.body, "{line:?}");
    }
    let line = "<134>zscaler-nss: {}";
    assert_eq!(
        &line[split_stacked(line.as_bytes()).message..],
        "zscaler-nss: {}"
    );
    // Not static text: a record's own first bytes, which no tag is followed by, or a tag
    // followed by a delimiter (LSS's lead ends with `zpa-lss: ` and its first field's comma).
    for line in [
        "reason=Allowed\tx=1",
        "2019-10-16 15:44:36 reason=Allowed event_id=1 x=2",
        "Wed May  4 08:42:00 2022\tRecordtype=x",
        "\"Mon Jun 20 15:29:11 2022\",\"x\"",
        "Mon Jun 20 15:29:11 2022,new-gre,x",
        "Mon Jun 20 15:29:11 2022\tnew-gre: x",
        "LEEF:1.0|Zscaler|NSS|4.1|x|",
        "CEF:0|Zscaler|x",
        "{\"a\": \"b: c\"}",
        "User Activity zpa-lss: \tx\ty",
        "Audit zpa-lss: ,x",
        "zpa-lss: x,y",
        "note: ,x",
        "note:\tx",
        "note: ",
        "key=a: b c=d e=f",
        "a|b: c",
        "a-name-far-too-long-to-be-any-syslog-tag-at-all: x",
    ] {
        let stack = split_stacked(line.as_bytes());
        assert_eq!(stack.body, stack.message, "{line:?}");
    }
}

proptest::proptest! {
    /// Whatever the bytes, a stack's parts are in order and within the frame, and the record
    /// starts after the message.
    #[test]
    fn a_stack_stays_within_its_frame(
        picks in proptest::collection::vec(0usize..16, 0..120),
    ) {
        let words: [&[u8]; 16] = [
            b"<134>", b"Nov 2 10:15:01 ", b"Nov 22 10:15:01 ", b" ", b"host ", b"nss: ",
            b"nss[1]: ", b"{", b"\"", b",", b"\t", b"a=1", b"1 ", b"- ", b":", b"\xc3",
        ];
        let frame: Vec<u8> = picks.iter().flat_map(|&i| words[i].iter().copied()).collect();
        let s = split_stacked(&frame);
        proptest::prop_assert!(s.start <= s.message);
        proptest::prop_assert!(s.message <= s.body && s.body <= frame.len());
        let (_, first) = split(&frame);
        proptest::prop_assert!(first <= s.message);
    }
}

#[test]
fn static_text_before_a_pri_alone_stays_in_the_identity() {
    // The time in static text is the only one before a PRI-only header: two lines that differ
    // in it are two records, so the identity (from `start`) keeps it.
    let a = "Mon Oct 02 16:21:40 UTC 2017 zscaler-nss: <134>{\"a\":1}";
    let b = "Tue Oct 03 09:00:00 UTC 2017 zscaler-nss: <134>{\"a\":1}";
    for line in [a, b, "Nov 22 2025 10:15:01 host nss: <134>{\"a\":1}"] {
        let s = split_stacked(line.as_bytes());
        assert_eq!(s.start, 0, "{line:?}");
        assert_eq!(&line[s.body..], "{\"a\":1}", "{line:?}");
    }
}

#[test]
fn a_word_of_digits_before_a_colon_is_no_tag() {
    // A ctime that ends a record's own leading time, not a tag: the record keeps it.
    let line = "Wed Oct 16 15:44:36 2019: reason=Allowed\tevent_id=2";
    assert_eq!(body(line), line);
    assert_eq!(body("1234: a=1"), "1234: a=1");
    assert_eq!(body("nss2: a=1"), "a=1");
}

#[test]
fn a_stamp_followed_by_a_year_and_a_delimiter_starts_a_record() {
    // An unquoted positional record whose first field is a date with its year: no header, or
    // the year would be read as the record's time (epoch seconds, 1970) and the date dropped.
    for line in [
        "Jun 7 07:50:48 2022,7536,ACTIVATE",
        "Jun 07 07:50:48 2022,7536,ACTIVATE",
        "Jun  7 07:50:48 2022\t7536\tACTIVATE",
    ] {
        let (h, rest) = header(line);
        assert_eq!((h, rest), (Header::default(), line), "{line:?}");
    }
    // A host of four digits that is no year before a space stays a host, and so does a year
    // before a tab and a record of another format (a relay's log file: date, tab, line).
    let (h, rest) = header("<134>Nov 22 10:15:01 9000 {\"a\":1}");
    assert_eq!((h.host(), rest), (Some("9000"), " {\"a\":1}"));
    for record in ["{\"a\":1}", "<134>x", "LEEF:1.0|Zscaler|", "CEF:0|Zscaler|"] {
        let line = format!("Oct 2 16:21:40 2022\t{record}");
        let (h, rest) = header(&line);
        assert_eq!(h.host(), Some("2022"), "{line:?}");
        assert_eq!(rest.trim_start(), record, "{line:?}");
    }
}

#[test]
fn a_bom_after_an_rfc5424_header_is_not_the_record() {
    // RFC 5424 §6.4: a MSG in UTF-8 may start with a BOM.
    let line = "<134>1 2025-11-22T10:15:01Z h nss 77 - - \u{feff}reason=Allowed\tx=1";
    let (_, rest) = header(line);
    assert_eq!(rest, "reason=Allowed\tx=1");
}
