//! ZPA User Activity (LSS) records (DESIGN §2.4): the corpus against golden files checked by
//! hand, and one case per transport, status, optional field and header form.

mod common;

use common::ZPA_USER_ACTIVITY_FIELDS;
use common::{check_golden, dead_reason, fields_without, key_order, lss, one, run};
use serde_json::{json, Value};
use wire::event::Reason;

/// The feed zone is for NSS: LSS times must not move with it.
const ZONE: &str = "Asia/Tokyo";

#[test]
fn corpus_sc4s_with_and_without_pri_matches_golden() {
    check_golden("sc4s-zpa-user-activity.log", ZONE);
}

#[test]
fn default_template_gives_every_field_in_order() {
    let line = lss(&[("Hostname", json!("LAPTOP-ALICE"))]);
    let r = one(ZONE, &line);
    let id = format!("{:016x}", xxhash_rust::xxh3::xxh3_64(b"laptop-alice"));
    assert_eq!(
        r,
        json!({"ts":"2024-01-18T10:31:01.152Z","kind":"zpa.user_activity","device_id":id,
            "device":"LAPTOP-ALICE","user":"alice@example.com","client_ip":"10.1.2.3",
            "client_public_ip":"198.51.100.7","connector":"dc1-connector","connector_ip":"10.0.0.5",
            "connector_port":51146,"dst_ip":"10.20.0.8","dst_port":443,"dst_host":"intranet.corp",
            "transport":"tcp","app":"Intranet","app_group":"Web Apps","policy":"Allow IT",
            "status":"open","session_id":"sess-1","connection_id":"sess-1,conn-1",
            "bytes_out":710,"bytes_in":0,"tags":["ZPA"]})
    );
    assert_eq!(
        key_order(&run(ZONE, &[line.as_bytes()]).text),
        fields_without(ZPA_USER_ACTIVITY_FIELDS, &["end"]),
    );
    let text = run(ZONE, &[lss(&[]).as_bytes()]).text;
    assert_eq!(text.lines().count(), 1, "{text}");
    assert_eq!(
        key_order(&text),
        fields_without(ZPA_USER_ACTIVITY_FIELDS, &["device", "end"]),
        "fields out of order: {text}"
    );
}

#[test]
fn transports_from_ip_protocol() {
    for (proto, want) in [
        (json!(6), "tcp"),
        (json!(17), "udp"),
        (json!(1), "icmp"),
        (json!("17"), "udp"),
        (json!(132), "132"),
        (json!(0), "0"),
        (json!(47), "47"),
        (json!(255), "255"),
        (json!(256), "256"),
        (json!("050"), "50"),
    ] {
        let r = one(ZONE, &lss(&[("IPProtocol", proto.clone())]));
        assert_eq!(r["transport"], want, "{proto}");
    }
}

#[test]
fn statuses_and_end_time() {
    for status in ["open", "active", "close"] {
        let r = one(ZONE, &lss(&[("ConnectionStatus", json!(status))]));
        assert_eq!(r["status"], status);
        assert!(r.get("end").is_none());
    }
    let r = one(
        ZONE,
        &lss(&[
            ("ConnectionStatus", json!("close")),
            ("TimestampConnectionEnd", json!("2024-01-18T10:35:00.004Z")),
            ("ZENBytesTxClient", json!(52341)),
        ]),
    );
    assert_eq!(r["end"], "2024-01-18T10:35:00.004Z");
    assert_eq!(r["bytes_in"], 52341);
}

#[test]
fn without_hostname_the_device_is_the_user() {
    let r = one(ZONE, &lss(&[]));
    assert!(r.get("device").is_none());
    let id = format!("{:016x}", xxhash_rust::xxh3::xxh3_64(b"alice@example.com"));
    assert_eq!(r["device_id"], id.as_str());
}

#[test]
fn empty_client_private_ip_is_absent() {
    let r = one(ZONE, &lss(&[("ClientPrivateIP", json!(""))]));
    assert!(r.get("client_ip").is_none());
    assert_eq!(r["client_public_ip"], "198.51.100.7");
}

/// An IPv6 address is written in its one text, as the registry and attribution write it: a
/// join on the text found neither.
#[test]
fn addresses_are_written_in_their_one_text() {
    let r = one(
        ZONE,
        &lss(&[
            ("ClientPrivateIP", json!("2001:0DB8:0:0::1")),
            ("ClientPublicIP", json!("2001:db8::7")),
            ("ConnectorIP", json!("::FFFF:10.0.0.5")),
            ("ServerIP", json!("FD00:0:0:0:0:0:0:9")),
        ]),
    );
    assert_eq!(r["client_ip"], "2001:db8::1", "{r}");
    assert_eq!(r["client_public_ip"], "2001:db8::7", "{r}");
    assert_eq!(r["connector_ip"], "10.0.0.5", "{r}");
    assert_eq!(r["dst_ip"], "fd00::9", "{r}");
}

/// LSS writes "0" for what is absent: no address is 0, and an open connection's end of "0" is
/// no end (the number 0 already was), not a bad time that dead-letters the record.
#[test]
fn zero_addresses_and_times_are_absent() {
    let r = one(
        ZONE,
        &lss(&[
            ("ClientPrivateIP", json!("0")),
            ("ClientPublicIP", json!("0")),
            ("ConnectorIP", json!("0")),
            ("ServerIP", json!("0")),
            ("TimestampConnectionEnd", json!("0")),
        ]),
    );
    for key in [
        "client_ip",
        "client_public_ip",
        "connector_ip",
        "dst_ip",
        "end",
    ] {
        assert!(r.get(key).is_none(), "{key}: {r}");
    }
    assert_eq!(r["ts"], "2024-01-18T10:31:01.152Z", "{r}");
    assert_eq!(r["user"], "alice@example.com", "{r}");
}

#[test]
fn log_timestamp_when_there_is_no_connection_start() {
    let mut v: Value = serde_json::from_str(&lss(&[])).unwrap();
    v.as_object_mut()
        .unwrap()
        .remove("TimestampConnectionStart");
    v["LogTimestamp"] = json!("Mon Mar  2 02:57:01 2020");
    let r = one(ZONE, &v.to_string());
    assert_eq!(
        r["ts"], "2020-03-02T02:57:01Z",
        "LSS times are UTC, whatever feed_timezone says"
    );
}

#[test]
fn epoch_microseconds_date_a_record_as_an_integer_or_as_a_float() {
    // AppProtection's request times; a JSON writer may print the same digits with an exponent.
    for start in [json!(1663346058860810u64), json!(1.66334605886081e15)] {
        let mut v: Value = serde_json::from_str(&lss(&[])).unwrap();
        v["TimestampConnectionStart"] = start.clone();
        let r = one(ZONE, &v.to_string());
        assert_eq!(r["ts"], "2022-09-16T16:34:18.860810Z", "{start}");
    }
}

/// Regression: a record dated by its connection's start was a `bad_time` dead letter for an
/// unreadable `LogTimestamp`, a second time of it; without a start, that time dates it, and
/// stays strict, as the end does (it decides whom an attribution answer names).
#[test]
fn an_unreadable_log_timestamp_beside_a_start_is_left_out_not_the_record() {
    let r = one(ZONE, &lss(&[("LogTimestamp", json!("garbage"))]));
    assert_eq!(r["ts"], "2024-01-18T10:31:01.152Z", "{r}");
    let mut v: Value = serde_json::from_str(&lss(&[("LogTimestamp", json!("garbage"))])).unwrap();
    v.as_object_mut()
        .unwrap()
        .remove("TimestampConnectionStart");
    let dead = run(ZONE, &[v.to_string().as_bytes()]).dead;
    assert_eq!(dead[0].0, Reason::BadTime);
    let end = lss(&[("TimestampConnectionEnd", json!("garbage"))]);
    assert_eq!(run(ZONE, &[end.as_bytes()]).dead[0].0, Reason::BadTime);
    // A session's authentication time is a second time of a User Status record too.
    let status = String::from_utf8(common::corpus("zscaler-helpdoc-zpa-user-status-json.log"))
        .unwrap()
        .lines()
        .next()
        .unwrap()
        .replace("2019-05-29T21:18:38.000Z", "garbage");
    let r = one(ZONE, &status);
    assert_eq!(r["kind"], "zpa.user_status");
    assert!(r.get("authenticated_at").is_none(), "{r}");
}

#[test]
fn headers_and_event_type() {
    let body = lss(&[("EventType", json!("user-activity"))]);
    for line in [
        body.clone(),
        format!("<111>{body}"),
        format!("<134>Jan 18 10:31:01 connector01 zpa-lss: {body}"),
        format!("<134>1 2024-01-18T10:31:01Z connector01 zpa-lss - - - {body}"),
    ] {
        let r = one(ZONE, &line);
        assert_eq!(r["kind"], "zpa.user_activity", "{line}");
    }
    let other = lss(&[("EventType", json!("connector-status"))]);
    let dead = run(ZONE, &[other.as_bytes()]).dead;
    assert_eq!(dead[0].0, Reason::UnknownType);
}

#[test]
fn lss_client_is_kept_and_marked_but_is_no_device() {
    let r = one(ZONE, &lss(&[("Username", json!("ZPA LSS Client"))]));
    assert_eq!(r["user"], "ZPA LSS Client");
    assert_eq!(r["tags"], json!(["ZPA", "LSS_CLIENT"]));
    assert!(r.get("device_id").is_none());
    // That it makes no device delta and no flow note is the pipeline's (tests/pipeline.rs).
}

/// A connection whose record names neither a user nor a hostname is still a connection: written,
/// with no device (it was a `no_device` dead letter, and lost to whoever reads the records).
#[test]
fn a_connection_without_user_or_hostname_is_a_record_of_no_device() {
    let line = lss(&[("Username", json!("")), ("Hostname", json!("NA"))]);
    let out = run(ZONE, &[line.as_bytes()]);
    assert!(out.dead.is_empty(), "{line}");
    let r = &out.records[0];
    assert_eq!(r["kind"], "zpa.user_activity", "{r}");
    assert!(
        r.get("device_id").is_none() && r.get("user").is_none(),
        "{r}"
    );
    assert_eq!(r["dst_ip"], "10.20.0.8", "{r}");
    assert!(out.facts[0].device.is_none() && out.facts[0].flow.is_none());
}

/// A close whose end LSS left out ended by the time it was logged: the attribution table is told
/// so (it answered for the connection for a day more), and the record still says no end.
#[test]
fn a_close_without_an_end_ends_when_it_was_logged() {
    let line = lss(&[
        ("ConnectionStatus", json!("close")),
        ("LogTimestamp", json!("Thu Jan 18 10:40:00 2024")),
        ("TimestampConnectionEnd", json!("")),
    ]);
    let out = run(ZONE, &[line.as_bytes()]);
    assert!(out.records[0].get("end").is_none(), "{}", out.records[0]);
    let flow = out.facts[0].flow.as_ref().expect("a connection");
    let end = flow.end.map(|t| t.to_string());
    assert_eq!(end.as_deref(), Some("2024-01-18T10:40:00Z"));
    let end_of = |extra: &[(&str, Value)]| {
        let mut fields = vec![
            ("ConnectionStatus", json!("close")),
            ("TimestampConnectionEnd", json!("")),
        ];
        fields.extend(extra.iter().cloned());
        let line = lss(&fields);
        let out = run(ZONE, &[line.as_bytes()]);
        let flow = out.facts[0].flow.clone().expect("a connection");
        flow.end.map(|t| t.to_string())
    };
    // Never later than it arrived (a log time of 2099 would hold the 4-tuple for years), nor
    // earlier than the start (the log time has whole seconds, the start milliseconds).
    let future = end_of(&[("LogTimestamp", json!("Thu Jan  1 00:00:00 2099"))]);
    assert_eq!(future.as_deref(), Some(common::RECEIVED));
    let early = end_of(&[("LogTimestamp", json!("Thu Jan 18 10:31:01 2024"))]);
    assert_eq!(early.as_deref(), Some("2024-01-18T10:31:01.152Z"));
    // No log time: no end is made up (the start's would end the connection at once).
    assert_eq!(end_of(&[("LogTimestamp", json!(""))]), None);
    // An open or active one stays open.
    let open = lss(&[("TimestampConnectionEnd", json!(""))]);
    let flow = run(ZONE, &[open.as_bytes()]).facts[0].flow.clone();
    assert_eq!(flow.expect("a connection").end, None);
}

#[test]
fn bad_lss_records_are_dead_letters() {
    // No time of its own, and a header stamp that cannot be read: not dated when it came.
    let timeless = lss(&[
        ("TimestampConnectionStart", json!("")),
        ("LogTimestamp", json!("")),
    ]);
    let line = format!("<134>Feb 30 10:15:01 connector {timeless}");
    assert_eq!(run(ZONE, &[line.as_bytes()]).dead[0].0, Reason::BadTime);
    let bad_time = lss(&[("TimestampConnectionStart", json!("soon"))]);
    assert_eq!(run(ZONE, &[bad_time.as_bytes()]).dead[0].0, Reason::BadTime);
}

/// An "active" record is dated by its connection's start, and sent while the connection lasts:
/// what the registry and the attribution table learn is dated by when it was logged, so a long
/// session stays attributable and its device's last_seen moves. The record keeps its start.
#[test]
fn an_active_record_shows_its_device_and_connection_alive_when_it_was_logged() {
    let line = lss(&[
        ("ConnectionStatus", json!("active")),
        ("LogTimestamp", json!("Sat Jan 20 08:00:00 2024")),
    ]);
    let out = run(ZONE, &[line.as_bytes()]);
    let r: Value = serde_json::from_str(out.text.trim()).unwrap();
    assert_eq!(r["ts"], "2024-01-18T10:31:01.152Z");
    let facts = &out.facts[0];
    assert_eq!(facts.ts.to_string(), "2024-01-20T08:00:00Z");
    let flow = facts.flow.as_ref().expect("a connection");
    assert_eq!(flow.start.to_string(), "2024-01-18T10:31:01.152Z");
    // A log time before the start (a skewed clock) does not date it earlier.
    let early = lss(&[("LogTimestamp", json!("Wed Jan 17 08:00:00 2024"))]);
    let out = run(ZONE, &[early.as_bytes()]);
    assert_eq!(out.facts[0].ts.to_string(), "2024-01-18T10:31:01.152Z");
}

/// Regression: a hostname and a user that a template wrote unquoted were left out, and the
/// record named no device (`no_device`).
#[test]
fn a_number_in_a_text_field_is_kept_as_its_text() {
    let line = lss(&[
        ("Hostname", json!(42)),
        ("Username", json!(7)),
        ("AppGroup", json!(1.5)),
    ]);
    let r = one(ZONE, &line);
    let id = format!("{:016x}", xxhash_rust::xxh3::xxh3_64(b"42"));
    assert_eq!(r["device_id"], id.as_str(), "{r}");
    assert_eq!(r["device"], "42");
    assert_eq!(r["user"], "7");
    assert_eq!(r["app_group"], "1.5");
}

/// `LogTimestamp` is read through the decoder's memory of the last time text (a record a second
/// later is the last time moved): one decoder, records in turn that share their second, move
/// by seconds, cross a minute and an hour, and go back, with an NSS line between them whose
/// time is in the feed zone; each is dated as when read alone.
#[test]
fn log_timestamps_read_one_after_another_are_each_their_own() {
    let stamps = [
        ("Mon Mar  2 02:57:01 2020", "2020-03-02T02:57:01Z"),
        ("Mon Mar  2 02:57:01 2020", "2020-03-02T02:57:01Z"),
        ("Mon Mar  2 02:57:09 2020", "2020-03-02T02:57:09Z"),
        ("Mon Mar  2 02:57:59 2020", "2020-03-02T02:57:59Z"),
        ("Mon Mar  2 02:58:00 2020", "2020-03-02T02:58:00Z"),
        ("Mon Mar  2 02:59:59 2020", "2020-03-02T02:59:59Z"),
        ("Mon Mar  2 03:00:00 2020", "2020-03-02T03:00:00Z"),
        ("Mon Mar  2 02:57:03 2020", "2020-03-02T02:57:03Z"),
        ("Mon Mar  2 02:57:0x 2020", ""),
    ];
    let line = |stamp: &str| {
        let mut v: Value = serde_json::from_str(&lss(&[])).unwrap();
        v.as_object_mut()
            .unwrap()
            .remove("TimestampConnectionStart");
        v["LogTimestamp"] = json!(stamp);
        v.to_string()
    };
    // The same ctime text in an NSS record is Tokyo's time, nine hours before UTC.
    let nss = r#"{"sourcetype":"zscalernss-web","event":{"time":"Mon Mar  2 02:57:02 2020","login":"a@b.example","cip":"10.0.0.1","hostname":"h1","url":"example.com/","action":"Allowed","reqmethod":"GET","respcode":"200"}}"#;
    let mut lines: Vec<String> = Vec::new();
    for (i, (stamp, _)) in stamps.iter().enumerate() {
        lines.push(line(stamp));
        // After two readings that showed where the seconds are.
        if i == 2 {
            lines.push(nss.to_string());
        }
    }
    let bytes: Vec<&[u8]> = lines.iter().map(|l| l.as_bytes()).collect();
    let out = run(ZONE, &bytes);
    let ts: Vec<String> = (out.text.lines())
        .map(|l| {
            serde_json::from_str::<Value>(l).unwrap()["ts"]
                .as_str()
                .unwrap()
                .to_owned()
        })
        .collect();
    let mut want: Vec<&str> = stamps
        .iter()
        .map(|(_, w)| *w)
        .filter(|w| !w.is_empty())
        .collect();
    want.insert(3, "2020-03-01T17:57:02Z");
    assert_eq!(ts, want);
    assert_eq!(out.dead.len(), 1, "the unreadable one");
    assert_eq!(out.dead[0].0, Reason::BadTime);
}

/// Regression (timestamp audit): a time before 2000 or past the registry's range was a
/// record's, and its device's first sighting; now a `bad_time` dead letter, as an unreadable
/// one is. A negative number likewise.
#[test]
fn a_time_no_record_can_have_is_a_dead_letter() {
    for start in [
        json!("0001-01-01T00:00:00.000Z"),
        json!("1999-12-31T23:59:59.000Z"),
        json!(-5),
        json!(5),
    ] {
        let line = lss(&[("TimestampConnectionStart", start.clone())]);
        assert_eq!(
            dead_reason(ZONE, line.as_bytes()),
            Reason::BadTime,
            "{start}"
        );
    }
}
