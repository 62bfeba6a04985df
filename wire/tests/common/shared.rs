//! The part of the test harness that the collector's tests share with the wire tests: the root's
//! `tests/common/mod.rs` includes this file too, so that it is written once. It reads no files and
//! depends on serde and serde_json only.
//!
//! - [`key_order`]: the keys of a record line in the order they were written;
//! - [`ZIA_WEB_FIELDS`], [`ZPA_USER_ACTIVITY_FIELDS`]: the order of a record's fields (DESIGN §2.4)
//!   and [`fields_without`] for a record that leaves some out;
//! - [`lss`]: an LSS User Activity line in the default template;
//! - [`RECEIVED`]: when the lines a test runs were read.

use serde_json::{json, Value};

/// When the lines a test runs were read: the time of a record that carries none.
pub const RECEIVED: &str = "2026-11-22T10:00:00Z";

/// Every field a `zia.web` record may have, in the order DESIGN §2.4 gives; absent ones are left
/// out of a record.
pub const ZIA_WEB_FIELDS: &[&str] = &[
    "ts",
    "kind",
    "device_id",
    "device",
    "user",
    "owner",
    "src_ip",
    "src_port",
    "dst_ip",
    "dst_port",
    "dst_host",
    "transport",
    "app_proto",
    "bytes_out",
    "bytes_in",
    "action",
    "method",
    "status",
    "url",
    "category",
    "record_id",
    "tags",
];

/// Every field a `zpa.user_activity` record may have, in order; absent ones are left out of a
/// record.
pub const ZPA_USER_ACTIVITY_FIELDS: &[&str] = &[
    "ts",
    "kind",
    "device_id",
    "device",
    "user",
    "client_ip",
    "client_public_ip",
    "connector",
    "connector_ip",
    "connector_port",
    "dst_ip",
    "dst_port",
    "dst_host",
    "transport",
    "app",
    "app_group",
    "policy",
    "status",
    "session_id",
    "connection_id",
    "bytes_out",
    "bytes_in",
    "end",
    "tags",
];

/// The fields of `schema` but those of `absent`, in order: the keys of a record that leaves
/// `absent` out. Every name of `absent` must be in `schema`.
pub fn fields_without(schema: &[&'static str], absent: &[&str]) -> Vec<&'static str> {
    for name in absent {
        assert!(schema.contains(name), "{name} is not a field of the schema");
    }
    schema
        .iter()
        .copied()
        .filter(|f| !absent.contains(f))
        .collect()
}

/// The keys of a JSON object line in the order they are written.
pub fn key_order(line: &str) -> Vec<String> {
    use serde::de::{Deserializer, IgnoredAny, MapAccess, Visitor};
    struct Keys;
    impl<'de> Visitor<'de> for Keys {
        type Value = Vec<String>;
        fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
            f.write_str("an object")
        }
        fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Vec<String>, A::Error> {
            let mut keys = Vec::new();
            while let Some(k) = map.next_key::<String>()? {
                map.next_value::<IgnoredAny>()?;
                keys.push(k);
            }
            Ok(keys)
        }
    }
    serde_json::Deserializer::from_str(line)
        .deserialize_map(Keys)
        .expect("a JSON object")
}

/// An LSS User Activity line in the default template, with the values a test changes.
pub fn lss(extra: &[(&str, Value)]) -> String {
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
