//! ZPA attribution end to end: LSS records in over TCP, `GET /attribution` on the admin address
//! answers who was behind a connector's connection, until its end plus the grace period.

mod common;

use common::{http_get, Collector, Options};
use serde_json::Value;

#[test]
fn who_was_behind_a_connection_until_end_plus_grace() {
    let collector = Collector::start_with(
        "attribution",
        Options {
            args: vec!["--admin".into(), "127.0.0.1:0".into()],
            ..Options::default()
        },
    );
    let admin = collector.listening["admin"];
    let open = r#"{"LogTimestamp": "Thu Jan 18 10:31:01 2024","SessionID": "S9","ConnectionID": "S9,C9","ConnectionStatus": "open","IPProtocol": 6,"Username": "grace@example.com","Hostname": "LAPTOP-GRACE","ClientPrivateIP": "10.1.2.3","Connector": "dc1","ConnectorIP": "10.0.0.5","ConnectorPort": 51146,"ServerIP": "10.20.0.9","ServerPort": 22,"TimestampConnectionStart": "2024-01-18T10:31:01Z","TimestampConnectionEnd": ""}"#;
    let close = open.replace("\"open\"", "\"close\"").replace(
        "\"TimestampConnectionEnd\": \"\"",
        "\"TimestampConnectionEnd\": \"2024-01-18T10:40:00Z\"",
    );
    collector.send(format!("{open}\n{close}\n").as_bytes());
    common::wait_for_lines(&collector.data_dir().join("connections.jsonl"), 2);

    let query = "/attribution?connector_ip=10.0.0.5&connector_port=51146&server_ip=10.20.0.9&server_port=22";
    let (status, body) = http_get(admin, &format!("{query}&at=2024-01-18T10:35:00Z"));
    assert_eq!(status, 200, "{body}");
    let body: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(body["user"], "grace@example.com");
    assert_eq!(body["device"], "LAPTOP-GRACE");
    assert_eq!(body["connection_id"], "S9,C9");
    // Five minutes of grace after the end, then nobody.
    let (status, _) = http_get(admin, &format!("{query}&at=2024-01-18T10:45:00Z"));
    assert_eq!(status, 200);
    let (status, body) = http_get(admin, &format!("{query}&at=2024-01-18T10:45:01Z"));
    assert_eq!(status, 404, "{body}");
    let (status, _) = http_get(admin, &format!("{query}&at=2024-01-18T10:30:00Z"));
    assert_eq!(status, 404, "not before it started");
    let (status, _) = http_get(admin, "/attribution?connector_ip=10.0.0.5&connector_port=51147&server_ip=10.20.0.9&server_port=22&at=2024-01-18T10:35:00Z");
    assert_eq!(status, 404, "another connector port is another connection");
    assert_eq!(http_get(admin, "/healthz").0, 200);
    collector.stop();
}
