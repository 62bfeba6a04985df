//! Frames a relay forwarded with its own syslog header before the sender's: the record is the
//! one sent directly, its time (when it has none of its own) is the sender's, and so is its
//! identity, the payload the pipeline hashes to find repeats (DESIGN §3 "Duplicates").

use jiff::tz::TimeZone;
use jiff::Timestamp;
use serde_json::Value;
use wire::decode::Decoder;

#[path = "common/shared.rs"]
#[allow(dead_code)]
mod shared;

const RECEIVED: &str = "2026-11-22T10:00:00Z";

/// A ZIA web record with a time of its own, and one without.
const TIMED: &str = r#"{"sourcetype":"zscalernss-web","event":{"time":"Mon Jun 20 15:29:11 2022","cip":"10.0.0.1","devicehostname":"h1","eurl":"http://x.example/","login":"alice","sip":"1.2.3.4","proto":"HTTP","action":"Allowed"}}"#;
const UNTIMED: &str = r#"{"sourcetype":"zscalernss-web","event":{"cip":"10.0.0.1","devicehostname":"h1","eurl":"http://x.example/","login":"alice","sip":"1.2.3.4","proto":"HTTP","action":"Allowed"}}"#;

/// Relays' headers, put before the sender's.
const RELAYS: [&str; 3] = [
    "<134>Nov 22 10:15:05 relay1 ",
    "<134>1 2026-11-22T10:15:05Z relay1 - - - - ",
    "<134>1 2026-11-22T10:15:07Z relay2 - - - - <134>Nov 22 10:15:05 relay1 relay: ",
];

/// A frame's record and identity (the decoded payload), or why it was refused.
fn decode(frame: &str) -> Result<(Value, Vec<u8>), wire::event::Reason> {
    let mut decoder = Decoder::new(TimeZone::UTC);
    let received: Timestamp = RECEIVED.parse().unwrap();
    let mut out = Vec::new();
    let decoded = decoder.decode(frame.as_bytes(), received, &mut out)?;
    let payload = decoded.payload.to_vec();
    let record = serde_json::from_slice(&out).expect("a record is JSON");
    Ok((record, payload))
}

/// An App Connector Status line of LSS's CSV template: its lead's time reads as a syslog header.
fn lss_status(time: &str) -> String {
    let fields = shared::APP_CONNECTOR_STATUS;
    format!("{time} Connector Status zpa-lss: ,{}", fields.join(","))
}

#[test]
fn a_record_through_a_relay_is_the_record_sent_directly() {
    let sender = "<134>Nov 22 10:15:01 zscaler-nss ";
    for record in [TIMED, UNTIMED] {
        let direct = decode(&format!("{sender}{record}")).expect("a record");
        for relay in RELAYS {
            let relayed = decode(&format!("{relay}{sender}{record}"));
            assert_eq!(relayed.as_ref(), Ok(&direct), "behind {relay:?}");
        }
    }
    // Without a time of its own, the record takes the sender's, and its identity keeps it.
    let (record, payload) = decode(&format!("{}{sender}{UNTIMED}", RELAYS[0])).unwrap();
    assert_eq!(record["ts"], "2026-11-22T10:15:01Z");
    assert_eq!(payload, format!("{sender}{UNTIMED}").trim_end().as_bytes());
    let later = decode(&format!(
        "{}<134>Nov 22 10:16:01 zscaler-nss {UNTIMED}",
        RELAYS[0]
    ));
    assert_ne!(later.unwrap().1, payload, "another time: another event");
    // With one, its identity is the record alone.
    let (_, payload) = decode(&format!("{}{sender}{TIMED}", RELAYS[1])).unwrap();
    assert_eq!(payload, TIMED.as_bytes());
}

#[test]
fn an_lss_lead_behind_headers_keeps_its_time_and_identity() {
    // LSS's lead `Wed Jul  3 05:17:22 2019 Connector Status zpa-lss: ` reads as a header too:
    // behind a syslog header or two, the record's time is still the lead's, and the identity
    // holds the lead.
    let line = lss_status("Wed Jul  3 05:17:22 2019");
    let bare = decode(&line).expect("a record");
    assert_eq!(bare.0["ts"], "2019-07-03T05:17:22Z");
    assert_eq!(bare.1, line.as_bytes());
    for front in ["<134>Nov 22 10:15:01 lss1 ", RELAYS[0], RELAYS[2]] {
        let behind = decode(&format!("{front}{line}"));
        assert_eq!(behind.as_ref(), Ok(&bare), "behind {front:?}");
    }
    let other = decode(&lss_status("Wed Jul  3 05:22:22 2019")).unwrap();
    assert_ne!(other.1, bare.1);
}

#[test]
fn the_black_box_testers_lines_read_behind_two_headers() {
    // Line 1 of each: ZIA web CSV (was a `bad_time` dead letter) and Splunk key=value, whose
    // leading time was lost to the relay's.
    for file in [
        "zscaler-helpdoc-zia-web-csv.log",
        "sc4s-zia-web-splunk-kv.log",
    ] {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../tests/corpus/").to_owned() + file;
        let text = std::fs::read_to_string(&path).expect("the corpus");
        let line = text.lines().next().expect("a line");
        let bare = decode(line).expect("a record");
        let sender = "<134>Nov 22 10:15:01 zscaler-nss ";
        for relay in RELAYS {
            let behind = decode(&format!("{relay}{sender}{line}"));
            assert_eq!(
                behind.as_ref().map(|b| &b.0),
                Ok(&bare.0),
                "{file} behind {relay:?}"
            );
        }
    }
}

/// The first line of a corpus file.
fn corpus_line(file: &str) -> String {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../tests/corpus/").to_owned() + file;
    let text = std::fs::read_to_string(&path).expect("the corpus");
    text.lines().next().expect("a line").to_owned()
}

/// rsyslog's default forward template (`RSYSLOG_TraditionalForwardFormat`) writes its own PRI
/// and stamp, then what it parsed as the line's host and tag, then the rest: for a line that
/// starts with a ctime (a key=value template's time, QRadar's LEEF header), the weekday is the
/// "host" and the bytes are the line's. The record's time stays its own: it was the relay's,
/// or the ctime's without its year, a year off.
#[test]
fn a_relayed_line_that_starts_with_its_ctime_keeps_it() {
    let relay = "<13>Dec  6 16:02:00 ";
    for file in [
        "sc4s-zia-tunnel-splunk-kv.log",
        "ibm-qradar-doc-zpa-user-status-leef.log",
    ] {
        let line = corpus_line(file);
        let bare = decode(&line).expect("a record");
        let sent = line.strip_prefix("<166>").unwrap_or(&line);
        let relayed = decode(&format!("{relay}{sent}"));
        assert_eq!(relayed.map(|r| r.0), Ok(bare.0), "{file}");
    }
}

/// The same template takes a CEF line's `CEF:` for a syslog tag and writes a space after it
/// (`zscaler-nss CEF: 0|Zscaler|…`): the record is still CEF, with its labelled fields. Read as
/// key=value, it lost its department and risk (`cs1Label=dept`, `cn1Label=riskscore`) silently.
/// So with LEEF. Its identity for duplicates is the bytes the relay sent, space included: the
/// relay changed the line.
#[test]
fn a_cef_or_leef_line_whose_tag_a_relay_spaced_is_still_cef_or_leef() {
    use wire::synth::{Dialect, WebGenerator};
    for (dialect, tag) in [(Dialect::Cef, " CEF:"), (Dialect::Leef, " LEEF:")] {
        let generated = WebGenerator::new(3, dialect, Default::default()).lines(1);
        // The sender's host before the record, as rsyslog parses it (NSS's LEEF template
        // writes `zscaler-nss: LEEF:`, a tag of its own).
        let line = generated
            .lines()
            .next()
            .expect("a line")
            .replacen(": LEEF:", " LEEF:", 1);
        let bare = decode(&line).expect("a record");
        assert!(bare.0.get("department").is_some(), "{}", bare.0);
        let spaced = format!("<13>{}", line.replacen(tag, &format!("{tag} "), 1));
        assert_eq!(decode(&spaced).map(|r| r.0), Ok(bare.0.clone()), "{spaced}");
    }
}
