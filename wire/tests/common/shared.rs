//! The part of the test harness that the collector's tests share with the wire tests: the root's
//! `tests/common/mod.rs` includes this file too, so that it is written once. It reads no files and
//! depends on serde and serde_json only.
//!
//! - [`key_order`]: the keys of a record line in the order they were written;
//! - [`SCHEMAS`]: the order of every kind's record fields (DESIGN §2.4), [`assert_schema`] to
//!   check a record against it, and [`fields_without`] for a record that leaves some out;
//! - [`lss`]: an LSS User Activity line in the default template;
//! - [`RECEIVED`]: when the lines a test runs were read;
//! - [`APP_CONNECTOR_STATUS`]: an App Connector Status report's values in LSS's CSV order.

use serde_json::{json, Value};

/// When the lines a test runs were read: the time of a record that carries none.
pub const RECEIVED: &str = "2026-11-22T10:00:00Z";

/// Every field a `zia.web` record may have, in the order DESIGN §2.4 gives; absent ones are left
/// out of a record.
#[rustfmt::skip]
pub const ZIA_WEB_FIELDS: &[&str] = &[
    "ts", "kind", "device_id", "device", "user", "owner", "src_ip", "src_port", "dst_ip",
    "dst_port", "dst_host", "transport", "app_proto", "bytes_out", "bytes_in", "action", "method",
    "http_status", "url", "category", "app", "user_agent", "referer", "location", "department",
    "threat", "threat_category", "risk", "record_id", "tags",
];

/// Every field a `zpa.user_activity` record may have, in order; absent ones are left out of a
/// record.
#[rustfmt::skip]
pub const ZPA_USER_ACTIVITY_FIELDS: &[&str] = &[
    "ts", "kind", "device_id", "device", "user", "client_ip", "client_public_ip", "connector",
    "connector_ip", "connector_port", "dst_ip", "dst_port", "dst_host", "transport", "app",
    "app_group", "policy", "status", "session_id", "connection_id", "bytes_out", "bytes_in", "end",
    "tags",
];

/// The fields of every kind's record, in order (DESIGN §2.4): a record's keys are these, some
/// left out, never another order.
#[rustfmt::skip]
pub const SCHEMAS: &[(&str, &[&str])] = &[
    ("zia.web", ZIA_WEB_FIELDS),
    ("zia.firewall", &[
        "ts", "kind", "device_id", "device", "user", "src_ip", "src_port", "dst_ip", "dst_port",
        "dst_host", "nat_ip", "nat_port", "transport", "app_proto", "app", "action", "rule",
        "bytes_out", "bytes_in", "duration_ms", "threat", "location", "department", "record_id",
        "tags",
    ]),
    ("zia.dns", &[
        "ts", "kind", "device_id", "device", "user", "src_ip", "src_port", "dst_ip", "dst_port",
        "transport", "app_proto", "query", "query_type", "answer", "action", "rule", "category",
        "duration_ms", "record_id", "tags",
    ]),
    ("zia.tunnel", &[
        "ts", "kind", "user", "location", "record_type", "tunnel_type", "src_ip", "src_port",
        "dst_ip", "dst_port", "event", "event_reason", "ike_version", "lifetime", "life_bytes",
        "spi_in", "spi_out", "spi", "algo", "authentication", "auth_type", "protocol",
        "tunnel_protocol", "policy_direction", "src_ip_start", "src_ip_end", "dst_ip_start",
        "dst_ip_end", "src_port_start", "dst_port_start", "vendor", "bytes_rx", "bytes_tx",
        "packets_rx", "packets_tx", "dpd_received", "record_id", "tags",
    ]),
    ("zia.audit", &[
        "ts", "kind", "user", "action", "category", "subcategory", "resource", "interface",
        "client_ip", "result", "error_code", "audit_type", "pre_action", "post_action",
        "record_id", "tags",
    ]),
    ("zia.saas", &[
        "ts", "kind", "user", "department", "company", "tenant", "app", "file_name",
        "file_source", "file_md5", "threat", "policy", "rule", "dlp_dictionaries",
        "dlp_dict_count", "dlp_engines", "url", "last_modified", "scan_time_ms",
        "download_time_ms", "record_id", "tags",
    ]),
    ("zia.saas_activity", &[
        "ts", "kind", "user", "tenant", "app", "activity", "object_type", "object_name",
        "object_name_2", "activity_count", "admin_activity", "external_owner", "src_ip",
        "record_id", "tags",
    ]),
    ("zpa.user_activity", ZPA_USER_ACTIVITY_FIELDS),
    ("zpa.user_status", &[
        "ts", "kind", "device_id", "device", "user", "client_ip", "client_public_ip", "platform",
        "client_version", "client_type", "status", "session_id", "zen", "country",
        "authenticated_at", "unauthenticated_at", "bytes_rx", "bytes_tx", "tags",
    ]),
    ("zpa.browser_access", &[
        "ts", "kind", "device_id", "device", "user", "client_ip", "client_public_ip",
        "client_public_port", "dst_host", "dst_port", "transport", "app_proto", "bytes_out",
        "bytes_in", "method", "http_status", "url", "app", "app_group", "user_agent", "status",
        "reason", "connection_id", "tags",
    ]),
    ("zpa.app_connector_status", &[
        "ts", "kind", "connector", "connector_group", "session_id", "session_type", "status",
        "version", "platform", "zen", "private_ip", "public_ip", "country", "authenticated_at",
        "unauthenticated_at", "cpu_utilization", "mem_utilization", "service_count", "interface",
        "default_gateway", "dns_resolver", "host_started_at", "connector_started_at",
        "interfaces", "interface_bytes_rx", "interface_packets_rx", "interface_errors_rx",
        "interface_discards_rx", "interface_bytes_tx", "interface_packets_tx",
        "interface_errors_tx", "interface_discards_tx", "bytes_rx", "bytes_tx", "customer",
        "latitude", "longitude", "microtenant_id", "tags",
    ]),
    ("zpa.audit", &[
        "ts", "kind", "user", "modified_by", "operation", "object_type", "object_name",
        "object_id", "request_id", "session_id", "old_value", "new_value", "created", "tags",
    ]),
    ("zpa.app_protection", &[
        "ts", "kind", "user", "client_public_ip", "client_public_port", "dst_host", "domain",
        "method", "url", "protocol", "http_status", "http_error", "user_agent", "app", "app_group",
        "inspection_policy", "inspection_profile", "paranoia_level", "controls_hit",
        "request_header_bytes", "request_body_bytes", "response_header_bytes",
        "response_body_bytes", "connection_id", "customer", "tags",
    ]),
];

/// Checks that a record line's keys follow its kind's schema: in order, none other, `ts`,
/// `kind` and `tags` always there.
pub fn assert_schema(line: &str) {
    let v: Value = serde_json::from_str(line).expect("a record is JSON");
    let kind = v["kind"].as_str().expect("a record has a kind");
    let schema = SCHEMAS
        .iter()
        .find(|(k, _)| *k == kind)
        .unwrap_or_else(|| panic!("no schema for kind {kind}"))
        .1;
    let keys = key_order(line);
    let mut at = 0;
    for key in &keys {
        match schema[at..].iter().position(|f| f == key) {
            Some(i) => at += i + 1,
            None => panic!("{kind}: key {key} out of the schema's order in {line}"),
        }
    }
    for always in ["ts", "kind", "tags"] {
        assert!(
            keys.iter().any(|k| k == always),
            "{kind}: no {always} in {line}"
        );
    }
}

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

/// The keys of record `r` that record `whole` does not have.
pub fn keys_added<'r>(r: &'r Value, whole: &Value) -> Vec<&'r str> {
    let keys = r.as_object().map(|o| o.keys()).into_iter().flatten();
    keys.map(String::as_str)
        .filter(|k| whole.get(k).is_none())
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

/// Zscaler's help-page App Connector Status sample (corpus
/// `zscaler-helpdoc-zpa-app-connector-status-json.log`), its values in the default CSV/TSV
/// template's order, after the lead (`<time> Connector Status zpa-lss: `).
pub const APP_CONNECTOR_STATUS: [&str; 36] = [
    "Safe March",
    "8A64Qwj9zCkfYDGJVoUZ",
    "ZPN_ASSISTANT_BROKER_CONTROL",
    "ZPN_STATUS_AUTHENTICATED",
    "19.20.3",
    "el7",
    "US-NY-8179",
    "Seattle App Connector 1",
    "Azure App Connectors",
    "10.0.0.4",
    "52.224.237.221",
    "47.0",
    "-122.0",
    "",
    "2019-06-27T05:05:23.348Z",
    "",
    "1",
    "20",
    "2",
    "eth0",
    "10.0.0.1",
    "168.63.129.16",
    "1513229995",
    "1555920005",
    "2",
    "319831966346",
    "1617569938",
    "0",
    "0",
    "192958782635",
    "1797471190",
    "0",
    "0",
    "10902554",
    "48931771",
    "145257480799129312",
];
