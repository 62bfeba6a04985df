//! What a shard's pipeline adds to the records the wire crate writes (its tests are in
//! `wire/tests`): dead letters that keep the frame as received, device deltas for the registry
//! and flow notes for attribution.

mod common;

use common::{lss, run_pipeline};
use serde_json::json;
use wire::event::Reason;

#[test]
fn dead_letters_keep_the_frame_as_received() {
    let cases: Vec<(Vec<u8>, Reason)> = vec![
        (
            br#"{"sourcetype":"zscalernss-iot","event":{"cip":"1.2.3.4"}}"#.to_vec(),
            Reason::UnknownType,
        ),
        (br#"{"hello":"world"}"#.to_vec(), Reason::UnknownType),
        (
            br#"{"sourcetype":"zscalernss-web","event":{"cip":"1.2.3.4""#.to_vec(),
            Reason::MalformedJson,
        ),
        (
            b"{\"cip\":\"1.2.3.4\",\"url\":\"a\xff\"}".to_vec(),
            Reason::InvalidUtf8,
        ),
        (
            br#"{"sourcetype":"zscalernss-web","event":{"time":"Mon Jun 20 15:29:11 2022","reqmethod":"GET"}}"#.to_vec(),
            Reason::NoDevice,
        ),
        (b"just some text".to_vec(), Reason::UnknownFormat),
        (
            br#"{"time":"yesterday-ish","cip":"10.0.0.1","reqmethod":"GET","respcode":"200"}"#
                .to_vec(),
            Reason::BadTime,
        ),
        // simd-json unescapes strings in place; the dead letter must not show that.
        (
            br#"{"sourcetype":"zscalernss-alerts","event":{"note":"a\"b\\c\u00e9","cip":"1.2.3.4"}}"#
                .to_vec(),
            Reason::UnknownType,
        ),
    ];
    for (line, reason) in &cases {
        let batch = run_pipeline("UTC", &[line]);
        assert!(
            batch.records.is_empty(),
            "unexpected record {:?}",
            String::from_utf8_lossy(&batch.records)
        );
        assert_eq!(batch.dead.len(), 1);
        assert_eq!(batch.dead[0].reason, *reason, "{}", line.escape_ascii());
        assert_eq!(
            batch.dead[0].raw, *line,
            "a dead letter keeps the frame as received"
        );
    }
}

#[test]
fn lss_client_is_no_device_and_no_flow() {
    let batch = run_pipeline(
        "Asia/Tokyo",
        &[lss(&[("Username", json!("ZPA LSS Client"))]).as_bytes()],
    );
    assert!(batch.dead.is_empty(), "{:?}", batch.dead);
    assert_eq!(common::batch_records(&batch).len(), 1, "the record is kept");
    assert!(batch.devices.is_empty(), "no device for the LSS client");
    assert!(
        batch.flows.is_empty(),
        "nobody to attribute a connection to"
    );
}

#[test]
fn a_user_record_is_noted_for_attribution() {
    let batch = run_pipeline(
        "Asia/Tokyo",
        &[lss(&[("Hostname", json!("LAPTOP-ALICE"))]).as_bytes()],
    );
    assert_eq!(batch.flows.len(), 1);
    let flow = &batch.flows[0];
    assert_eq!(flow.key.connector_ip.to_string(), "10.0.0.5");
    assert_eq!(flow.key.connector_port, 51146);
    assert_eq!(flow.key.server_ip.to_string(), "10.20.0.8");
    assert_eq!(flow.key.server_port, 443);
    assert_eq!(batch.text(&flow.user), "alice@example.com");
    assert_eq!(
        flow.device.as_ref().map(|d| batch.text(d)),
        Some("LAPTOP-ALICE")
    );
    assert_eq!(
        flow.connection_id.as_ref().map(|c| batch.text(c)),
        Some("sess-1,conn-1")
    );
    assert_eq!(batch.devices.len(), 1);
    assert_eq!(batch.devices[0].read(&batch.flow_text).ip, Some("10.1.2.3"));
}

#[test]
fn a_record_from_the_future_moves_no_clock_past_its_arrival() {
    // Issue 14: one record dated 2099 held the attribution table's clock there, expiring every
    // closed connection at once, and the registry's last_seen with it. The record keeps its
    // time; what it tells the registry and the attribution table is capped at its arrival.
    let batch = run_pipeline(
        "UTC",
        &[lss(&[
            ("Hostname", json!("LAPTOP-AHEAD")),
            ("LogTimestamp", json!("Thu Jan 01 00:00:00 2099")),
            (
                "TimestampConnectionStart",
                json!("2099-01-01T00:00:00.000Z"),
            ),
        ])
        .as_bytes()],
    );
    let received: jiff::Timestamp = common::RECEIVED.parse().unwrap();
    let records = common::batch_records(&batch);
    assert!(
        records[0]["ts"].as_str().unwrap().starts_with("2099-01-01"),
        "{}",
        records[0]
    );
    assert_eq!(batch.devices.len(), 1);
    assert_eq!(batch.devices[0].seen, received);
    assert_eq!(batch.flows.len(), 1);
    assert_eq!(batch.flows[0].seen, received);
}

#[test]
fn values_too_long_for_the_registry_are_left_out_and_counted() {
    const TOO_LONG: ztel::batch::counters::Counter = ztel::batch::counters::Counter::ValuesTooLong;
    // Issue 14: 1,500 ZPA records with 200 KB users held 2 GB in the registry and the
    // attribution table, which bound counts, not bytes. The record keeps the value.
    let user = "u".repeat(200_000);
    let batch = run_pipeline(
        "UTC",
        &[lss(&[
            ("Hostname", json!("LAPTOP-LONG")),
            ("Username", json!(user)),
        ])
        .as_bytes()],
    );
    let records = common::batch_records(&batch);
    assert_eq!(records[0]["user"].as_str().map(str::len), Some(200_000));
    assert_eq!(batch.devices.len(), 1);
    assert_eq!(batch.devices[0].user, None);
    assert_eq!(batch.devices[0].read(&batch.flow_text).ip, Some("10.1.2.3"));
    assert!(
        batch.flows.is_empty(),
        "a flow without its user attributes nothing"
    );
    assert_eq!(batch.counters.get(TOO_LONG), 2);

    // A hostname too long for a name is no device at all, and the flow is noted without it.
    let host = "h".repeat(300);
    let batch = run_pipeline("UTC", &[lss(&[("Hostname", json!(host))]).as_bytes()]);
    assert!(batch.devices.is_empty());
    assert_eq!(batch.flows.len(), 1);
    assert!(batch.flows[0].device.is_none());
    assert_eq!(batch.counters.get(TOO_LONG), 2);

    // Session and connection ids are kept in the attribution table too, for a day of feed time:
    // too long, they are left out and the flow is noted without them.
    let (session, connection) = ("s".repeat(200_000), "c".repeat(200_000));
    let batch = run_pipeline(
        "UTC",
        &[lss(&[
            ("Hostname", json!("LAPTOP-IDS")),
            ("SessionID", json!(session)),
            ("ConnectionID", json!(connection)),
        ])
        .as_bytes()],
    );
    let records = common::batch_records(&batch);
    assert_eq!(
        records[0]["session_id"].as_str().map(str::len),
        Some(200_000)
    );
    assert_eq!(batch.flows.len(), 1);
    assert!(batch.flows[0].session_id.is_none());
    assert!(batch.flows[0].connection_id.is_none());
    assert_eq!(batch.counters.get(TOO_LONG), 2);
    assert!(
        batch.flow_text.len() < 1024,
        "{} bytes of flow text",
        batch.flow_text.len()
    );
}

#[test]
fn a_record_whose_time_is_its_headers_is_identified_with_its_header() {
    // Only a byte-identical payload is a repeat (DESIGN §3); but a record that carries no time
    // of its own takes its header's (IBM's QRadar ZPA templates put LogTimestamp only there),
    // and two such records that differ only in that time are two events, not one sent twice.
    let web = r#"{"sourcetype":"zscalernss-web","event":{"cip":"10.0.0.1","devicehostname":"h1","eurl":"http://x.example/","login":"alice","sip":"1.2.3.4","proto":"HTTP","action":"Allowed"}}"#;
    let timed = r#"{"sourcetype":"zscalernss-web","event":{"time":"Mon Jun 20 15:29:11 2022","cip":"10.0.0.1","devicehostname":"h1","eurl":"http://x.example/","login":"alice","sip":"1.2.3.4","proto":"HTTP","action":"Allowed"}}"#;
    let untimed = lss(&[
        ("LogTimestamp", serde_json::Value::Null),
        ("TimestampConnectionStart", serde_json::Value::Null),
    ]);
    let at = |time: &str, host: &str, payload: &str| format!("<134>Nov 22 {time} {host} {payload}");
    let lines = [
        at("10:15:01", "nss1", web),
        at("10:16:01", "nss1", web),
        at("10:15:01", "nss1", web),
        at("10:15:01", "nss1", timed),
        at("10:16:01", "nss2", timed),
        at("10:15:01", "lss1", &untimed),
        at("10:16:01", "lss1", &untimed),
    ];
    let lines: Vec<&[u8]> = lines.iter().map(|l| l.as_bytes()).collect();
    let batch = run_pipeline("UTC", &lines);
    assert_eq!(batch.identities.len(), 7, "{:?}", batch.counters);
    let hash = |i: usize| batch.identities[i].hash;
    assert_ne!(
        hash(0),
        hash(1),
        "another time in the header: another event"
    );
    assert_eq!(hash(0), hash(2), "the same frame again: a repeat");
    assert_eq!(
        hash(3),
        hash(4),
        "a time of its own: the header is not the record's"
    );
    assert_ne!(hash(5), hash(6), "LSS alike");
    let records = common::batch_records(&batch);
    assert_eq!(records[0]["ts"], records[2]["ts"]);
    assert_ne!(records[0]["ts"], records[1]["ts"]);
}

#[test]
fn lss_positional_lines_that_differ_only_in_their_time_are_two_events() {
    // LSS's CSV and TSV templates start with `%s{LogTimestamp:time} <type> zpa-lss: `, and ctime
    // pads a one-digit day with a space: `Wed Jul  3 05:17:22 2019 Connector …` reads as an
    // RFC 3164 header (a stamp, then a host). The time is the record's own all the same: two
    // App Connector Status reports five minutes apart, unchanged otherwise, are two records.
    let status = |time: &str, sep: &str| {
        let fields = common::APP_CONNECTOR_STATUS;
        format!("{time} Connector Status zpa-lss: {sep}{}", fields.join(sep))
    };
    let lines = [
        status("Wed Jul  3 05:17:22 2019", "\t"),
        status("Wed Jul  3 05:22:22 2019", "\t"),
        status("Wed Jul  3 05:17:22 2019", ","),
        status("Wed Jul  3 05:22:22 2019", ","),
        status("Wed Jul  3 05:17:22 2019", ","),
    ];
    let lines: Vec<&[u8]> = lines.iter().map(|l| l.as_bytes()).collect();
    let batch = run_pipeline("UTC", &lines);
    assert_eq!(batch.identities.len(), 5, "{:?}", batch.counters);
    let records = common::batch_records(&batch);
    assert_eq!(
        records[0]["kind"], "zpa.app_connector_status",
        "{}",
        records[0]
    );
    assert_eq!(records[0]["ts"], "2019-07-03T05:17:22Z");
    assert_eq!(records[1]["ts"], "2019-07-03T05:22:22Z");
    let hash = |i: usize| batch.identities[i].hash;
    assert_ne!(hash(0), hash(1), "TSV: another time, another event");
    assert_ne!(hash(2), hash(3), "CSV: another time, another event");
    assert_eq!(hash(2), hash(4), "the same line again: a repeat");
}

#[test]
fn a_last_line_without_lf_says_why_it_is_no_record() {
    // Cut short it may well be (a sender that dies mid-line closes as cleanly as one that is
    // done), unless it is a JSON object read whole and refused for what it says. A key=value
    // line reads as well cut before its device or mid-time: it says `truncated`.
    let (mut pipeline, origin, mut batch) = tail_run();
    let tails: [&[u8]; 9] = [
        br#"{"foo":2}"#,
        br#"{"sourcetype":"zscalernss-web","event":{"cip":"1.2"#,
        br#"{"time":"yesterday-ish","cip":"10.0.0.1","reqmethod":"GET","respcode":"200"}"#,
        br#"{"sourcetype":"zscalernss-web","event":{"time":"Mon Jun 20 15:29:11 2022","reqmethod":"GET"}}"#,
        b"sourcetype=zscalernss-web\ttime=Mon Jun 20 15:29:11 2022\treqmethod=GET\turl=x",
        b"sourcetype=zscalernss-web\tcip=10.0.0.1\ttime=Mon Jun 20 15:2",
        // A whole record but for its last digits: it would read, with 31 bytes for 31386.
        b"LEEF:1.0|Zscaler|NSS|4.1|NA|cat=Allowed\tsrc=10.0.0.1\tusrName=a@b.c\tsrcBytes=31",
        // Cut after a value that ends with a brace: still no JSON object.
        b"<134>Nov 22 10:15:01 nss LEEF:1.0|Zscaler|NSS|4.1|NA|src=10.0.0.1\thostname=api.x\treqmethod=GET\turl=api.x/v1/{id}",
        b"sourcetype=zscalernss-web\tcip=10.0.0.1\tstatus=200\turl=api.x/v1/{id}",
    ];
    for tail in tails {
        pipeline.process_tail(tail, &origin, &mut batch);
    }
    let reasons: Vec<Reason> = batch.dead.iter().map(|d| d.reason).collect();
    assert_eq!(
        reasons,
        [
            Reason::UnknownType,
            Reason::Truncated,
            Reason::BadTime,
            Reason::NoDevice,
            Reason::Truncated,
            Reason::Truncated,
            Reason::Truncated,
            Reason::Truncated,
            Reason::Truncated
        ]
    );
    assert!(batch.records.is_empty());
}

#[test]
fn a_whole_json_last_line_padded_with_nuls_is_a_record() {
    // The decoder trims trailing NULs (some senders pad); the check for a whole object must too.
    let (mut pipeline, origin, mut batch) = tail_run();
    let line = format!("{}\0\0\0", common::zia_line(7, "pc-nul"));
    pipeline.process_tail(line.as_bytes(), &origin, &mut batch);
    assert!(batch.dead.is_empty(), "{:?}", batch.dead);
    assert_eq!(common::batch_records(&batch).len(), 1);
}

/// A pipeline, an origin and a batch for a connection's last line.
fn tail_run() -> (
    ztel::pipeline::Pipeline,
    ztel::batch::Origin,
    ztel::batch::Batch,
) {
    let origin = ztel::batch::Origin {
        peer: "127.0.0.1:9".parse().unwrap(),
        received: jiff::Timestamp::UNIX_EPOCH,
        source: ztel::batch::Source::Tcp,
    };
    (
        ztel::pipeline::Pipeline::new(jiff::tz::TimeZone::UTC),
        origin,
        ztel::batch::Batch::new(0, ztel::batch::Source::Tcp),
    )
}

#[test]
fn static_text_whose_time_differs_keeps_two_records_apart() {
    // A feed's static text may hold the only time before a PRI-only header and a record
    // without a time of its own (a Cloud NSS SaaS record here): two lines that differ in it
    // are two events, and the same line again is a repeat.
    let record = r#"{"sourcetype": "zscalernss-casb","event": {"login": "john.doe@example.org","applicationname": "ONEDRIVE","object_name_1": "a.pdf"}}"#;
    let lines = [
        format!("Mon Oct 02 16:21:40 UTC 2017 zscaler-nss: <134>{record}"),
        format!("Tue Oct 03 09:00:00 UTC 2017 zscaler-nss: <134>{record}"),
        format!("Mon Oct 02 16:21:40 UTC 2017 zscaler-nss: <134>{record}"),
    ];
    let lines: Vec<&[u8]> = lines.iter().map(|l| l.as_bytes()).collect();
    let batch = run_pipeline("UTC", &lines);
    assert_eq!(batch.identities.len(), 3, "{:?}", batch.counters);
    let hash = |i: usize| batch.identities[i].hash;
    assert_ne!(
        hash(0),
        hash(1),
        "another time in the static text, another event"
    );
    assert_eq!(hash(0), hash(2), "the same line again: a repeat");
}

#[test]
fn an_unquoted_first_field_of_date_and_year_is_no_header() {
    // `Jun 7 07:50:48 2022,…` read as a header made the year the record's time (as epoch
    // seconds: 1970) and two records a day apart one. Whatever the line becomes, it keeps
    // its own date and is not the other.
    let tail = "7536,ACTIVATE,ACTIVATION,ACTIVATION,com.zscaler.zdx,UI,admin@example.com,10.36.112.101,SUCCESS,Unknown,ZDX,none,none";
    let lines = [
        format!("Jun 7 07:50:48 2022,{tail}"),
        format!("Jun 9 08:00:00 2022,{tail}"),
        format!("Jun 07 07:50:48 2022,{tail}"),
        format!("Jun 17 07:50:48 2022,{tail}"),
    ];
    let lines: Vec<&[u8]> = lines.iter().map(|l| l.as_bytes()).collect();
    let batch = run_pipeline("UTC", &lines);
    let records = common::batch_records(&batch);
    assert_eq!(records.len() + batch.dead.len(), 4, "{:?}", batch.counters);
    for r in &records {
        assert!(
            r["ts"].as_str().is_some_and(|t| t.starts_with("2022-06")),
            "{r}"
        );
    }
    let hashes: std::collections::HashSet<u128> = batch.identities.iter().map(|i| i.hash).collect();
    assert_eq!(hashes.len(), records.len(), "no two are one");
}

#[test]
fn a_json_record_after_a_date_with_year_and_a_tab_is_still_a_record() {
    // A relay's log file replayed: date, tab, the line as received.
    let line = r#"Oct 2 16:21:40 2022	{"sourcetype":"zscalernss-web","event":{"datetime":"Wed Oct 16 15:44:36 2019","login":"a@b.c","url":"ex.com/1","action":"Allowed","cip":"10.1.1.1"}}"#;
    let batch = run_pipeline("UTC", &[line.as_bytes()]);
    let records = common::batch_records(&batch);
    assert_eq!(
        records.len(),
        1,
        "{:?}",
        batch.dead.first().map(|d| d.reason)
    );
    assert_eq!(records[0]["ts"], "2019-10-16T15:44:36Z");
}
