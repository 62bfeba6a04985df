//! ZPA User Activity (LSS) records (DESIGN §2.4): the corpus against golden files checked by
//! hand, and one case per transport, status, optional field and header form.

use std::net::SocketAddr;
use std::path::Path;

use jiff::Timestamp;
use serde_json::{json, Value};
use ztel::parse::time::parse_zone;
use ztel::parse::Reason;
use ztel::pipeline::{Batch, Origin, Pipeline};

const RECEIVED: &str = "2026-11-22T10:00:00Z";

fn run(lines: &[&[u8]]) -> Batch {
    // The feed zone is for NSS: LSS times must not move with it.
    let mut pipeline = Pipeline::new(parse_zone("Asia/Tokyo").unwrap());
    let origin = Origin {
        peer: "127.0.0.1:9".parse::<SocketAddr>().unwrap(),
        received: RECEIVED.parse::<Timestamp>().unwrap(),
    };
    let mut batch = Batch::new(0);
    for line in lines {
        pipeline.process(line, &origin, &mut batch);
    }
    batch
}

fn records(batch: &Batch) -> Vec<Value> {
    batch
        .records
        .split(|b| *b == b'\n')
        .filter(|l| !l.is_empty())
        .map(|l| serde_json::from_slice(l).expect("a record is valid JSON"))
        .collect()
}

fn one(line: &str) -> Value {
    let batch = run(&[line.as_bytes()]);
    assert!(
        batch.dead.is_empty(),
        "dead letter {:?} for {line}",
        batch.dead.first().map(|d| d.reason)
    );
    let mut r = records(&batch);
    assert_eq!(r.len(), 1);
    r.remove(0)
}

fn check_golden(name: &str) {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/corpus")
        .join(name);
    let input = std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let lines: Vec<&[u8]> = input
        .split(|b| *b == b'\n')
        .filter(|l| !l.is_empty())
        .collect();
    let batch = run(&lines);
    assert!(
        batch.dead.is_empty(),
        "{name}: dead letters {:?}",
        batch.dead
    );
    let got = String::from_utf8(batch.records).unwrap();
    let golden = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/golden")
        .join(name.replace(".log", ".jsonl"));
    if std::env::var_os("ZTEL_BLESS").is_some() {
        std::fs::write(&golden, &got).unwrap();
    }
    let want = std::fs::read_to_string(&golden).expect("golden file exists");
    assert_eq!(got, want, "{name} differs from {}", golden.display());
}

#[test]
fn corpus_elastic_matches_golden() {
    check_golden("elastic-zpa-user-activity.log");
}

#[test]
fn corpus_google_secops_matches_golden() {
    check_golden("google-secops-doc-zpa-user-activity.log");
}

#[test]
fn corpus_sc4s_with_and_without_pri_matches_golden() {
    check_golden("sc4s-zpa-user-activity.log");
}

#[test]
fn corpus_zscaler_helpdoc_with_hostname_and_pra_fields_matches_golden() {
    check_golden("zscaler-helpdoc-zpa-user-activity.log");
}

/// An LSS record in the default template, with the values a test changes.
fn lss(extra: &[(&str, Value)]) -> String {
    let mut r = json!({
        "LogTimestamp": "Thu Jan 18 10:31:01 2024", "Customer": "ABC Group",
        "SessionID": "sess-1", "ConnectionID": "sess-1,conn-1", "InternalReason": "",
        "ConnectionStatus": "open", "IPProtocol": 6, "DoubleEncryption": 0,
        "Username": "alice@example.com", "ServicePort": 443, "ClientPublicIP": "198.51.100.7",
        "ClientPrivateIP": "10.1.2.3", "ClientLatitude": 51.0, "ClientLongitude": 0.0,
        "ClientCountryCode": "GB", "ClientZEN": "EU-GB-9900", "Policy": "Allow IT",
        "Connector": "dc1-connector", "ConnectorZEN": "EU-GB-9900", "ConnectorIP": "10.0.0.5",
        "ConnectorPort": 51146, "Host": "intranet.corp", "Application": "Intranet",
        "AppGroup": "Web Apps", "Server": "0", "ServerIP": "10.20.0.8", "ServerPort": 443,
        "TimestampConnectionStart": "2024-01-18T10:31:01.152Z", "TimestampConnectionEnd": "",
        "ZENTotalBytesRxClient": 710, "ZENBytesRxClient": 710, "ZENTotalBytesTxClient": 0,
        "ZENBytesTxClient": 0, "Idp": "Azure IdP Config"
    });
    for (k, v) in extra {
        r[*k] = v.clone();
    }
    r.to_string()
}

#[test]
fn default_template_gives_every_field_in_order() {
    let r = one(&lss(&[("Hostname", json!("LAPTOP-ALICE"))]));
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
    let text = String::from_utf8(run(&[lss(&[]).as_bytes()]).records).unwrap();
    let order: Vec<&str> = [
        "\"ts\"",
        "\"kind\"",
        "\"device_id\"",
        "\"user\"",
        "\"client_ip\"",
        "\"connector_port\"",
        "\"transport\"",
        "\"status\"",
        "\"bytes_in\"",
        "\"tags\"",
    ]
    .into_iter()
    .collect();
    let positions: Vec<usize> = order.iter().map(|k| text.find(k).unwrap()).collect();
    assert!(
        positions.windows(2).all(|w| w[0] < w[1]),
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
    ] {
        let r = one(&lss(&[("IPProtocol", proto.clone())]));
        assert_eq!(r["transport"], want, "{proto}");
    }
}

#[test]
fn statuses_and_end_time() {
    for status in ["open", "active", "close"] {
        let r = one(&lss(&[("ConnectionStatus", json!(status))]));
        assert_eq!(r["status"], status);
        assert!(r.get("end").is_none());
    }
    let r = one(&lss(&[
        ("ConnectionStatus", json!("close")),
        ("TimestampConnectionEnd", json!("2024-01-18T10:35:00.004Z")),
        ("ZENBytesTxClient", json!(52341)),
    ]));
    assert_eq!(r["end"], "2024-01-18T10:35:00.004Z");
    assert_eq!(r["bytes_in"], 52341);
}

#[test]
fn without_hostname_the_device_is_the_user() {
    let r = one(&lss(&[]));
    assert!(r.get("device").is_none());
    let id = format!("{:016x}", xxhash_rust::xxh3::xxh3_64(b"alice@example.com"));
    assert_eq!(r["device_id"], id.as_str());
}

#[test]
fn empty_client_private_ip_is_absent() {
    let r = one(&lss(&[("ClientPrivateIP", json!(""))]));
    assert!(r.get("client_ip").is_none());
    assert_eq!(r["client_public_ip"], "198.51.100.7");
}

#[test]
fn log_timestamp_when_there_is_no_connection_start() {
    let mut v: Value = serde_json::from_str(&lss(&[])).unwrap();
    v.as_object_mut()
        .unwrap()
        .remove("TimestampConnectionStart");
    v["LogTimestamp"] = json!("Mon Mar  2 02:57:01 2020");
    let r = one(&v.to_string());
    assert_eq!(
        r["ts"], "2020-03-02T02:57:01Z",
        "LSS times are UTC, whatever feed_timezone says"
    );
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
        let r = one(&line);
        assert_eq!(r["kind"], "zpa.user_activity", "{line}");
    }
    let other = lss(&[("EventType", json!("connector-status"))]);
    let batch = run(&[other.as_bytes()]);
    assert_eq!(batch.dead[0].reason, Reason::UnknownType);
}

#[test]
fn lss_client_is_kept_and_marked_but_is_no_device() {
    let r = one(&lss(&[("Username", json!("ZPA LSS Client"))]));
    assert_eq!(r["user"], "ZPA LSS Client");
    assert_eq!(r["tags"], json!(["ZPA", "LSS_CLIENT"]));
    assert!(r.get("device_id").is_none());
    let batch = run(&[lss(&[("Username", json!("ZPA LSS Client"))]).as_bytes()]);
    assert!(batch.devices.is_empty(), "no device for the LSS client");
    assert!(
        batch.flows.is_empty(),
        "nobody to attribute a connection to"
    );
}

#[test]
fn a_user_record_is_noted_for_attribution() {
    let batch = run(&[lss(&[("Hostname", json!("LAPTOP-ALICE"))]).as_bytes()]);
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
    assert_eq!(batch.devices[0].ip.as_deref(), Some("10.1.2.3"));
}

#[test]
fn bad_lss_records_are_dead_letters() {
    let no_user = lss(&[("Username", json!(""))]);
    assert_eq!(run(&[no_user.as_bytes()]).dead[0].reason, Reason::NoDevice);
    let bad_time = lss(&[("TimestampConnectionStart", json!("soon"))]);
    assert_eq!(run(&[bad_time.as_bytes()]).dead[0].reason, Reason::BadTime);
}

/// Fills an LSS template as LSS does: `%j{X}` a JSON string, `%j{X:time}` ctime, `%j{X:iso8601}`
/// ISO 8601, `%d{X}` a number.
fn render_lss(template: &str, values: &[(&str, &str)]) -> String {
    let mut out = String::new();
    let mut rest = template;
    while let Some(at) = rest.find('%') {
        out.push_str(&rest[..at]);
        let spec = &rest[at + 1..];
        let open = spec.find('{').unwrap();
        let close = spec.find('}').unwrap();
        let kind = &spec[..open];
        let name = spec[open + 1..close].split(':').next().unwrap();
        let value = values
            .iter()
            .find(|(k, _)| *k == name)
            .map_or("", |(_, v)| *v);
        match kind {
            "j" => out.push_str(&serde_json::to_string(value).unwrap()),
            "d" => out.push_str(if value.is_empty() { "0" } else { value }),
            other => panic!("unknown LSS variable kind {other}"),
        }
        rest = &spec[close + 1..];
    }
    out.push_str(rest);
    out.replace("\\n", "")
}

#[test]
fn feed_format_records_parse() {
    let template = ztel::feed_format::ZPA_USER_ACTIVITY;
    let line = render_lss(
        template,
        &[
            ("LogTimestamp", "Thu Jan 18 10:31:05 2024"),
            ("SessionID", "S1"),
            ("ConnectionID", "S1,C1"),
            ("ConnectionStatus", "close"),
            ("IPProtocol", "6"),
            ("Username", "bob@example.com"),
            ("ClientPublicIP", "198.51.100.9"),
            ("ClientPrivateIP", "10.9.9.9"),
            ("Policy", "P"),
            ("Connector", "dc1"),
            ("ConnectorIP", "10.0.0.5"),
            ("ConnectorPort", "50123"),
            ("Host", "git.corp"),
            ("Application", "Git"),
            ("AppGroup", "Dev"),
            ("ServerIP", "10.20.0.9"),
            ("ServerPort", "22"),
            ("TimestampConnectionStart", "2024-01-18T10:31:01.152Z"),
            ("TimestampConnectionEnd", "2024-01-18T10:31:05.001Z"),
            ("ZENBytesRxClient", "3000"),
            ("ZENBytesTxClient", "90000"),
            ("Platform", "windows"),
            ("Hostname", "LAPTOP-BOB"),
        ],
    );
    let r = one(&line);
    assert_eq!(r["device"], "LAPTOP-BOB");
    assert_eq!(r["user"], "bob@example.com");
    assert_eq!(r["dst_port"], 22);
    assert_eq!(r["status"], "close");
    assert_eq!(r["end"], "2024-01-18T10:31:05.001Z");
    assert_eq!(
        (r["bytes_out"].clone(), r["bytes_in"].clone()),
        (json!(3000), json!(90000))
    );
}
