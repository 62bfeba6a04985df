//! ZPA's own services and the connectors that forward other machines' traffic name no device
//! (DESIGN §2.4 "Devices"). LSS logs their sessions and connections under a pseudo-user ("ZPA LSS
//! Client", "ZPA IP Anchoring") or a client type that is no person's machine; keyed by that user,
//! every such session of a tenant would pile onto one device that does not exist. Their records
//! are still written.

mod common;

use common::{lss, run};
use serde_json::{json, Value};

const ZONE: &str = "UTC";

/// A User Status line: line 3 of tests/corpus/elastic-zpa-user-status-json.log, shortened, with
/// the values a test changes.
fn status(extra: &[(&str, Value)]) -> String {
    let mut r = json!({
        "LogTimestamp": "Mon Sep 28 21:50:59 2026", "Customer": "Customer XYZ",
        "Username": "ZPA IP Anchoring", "SessionID": "+2dXQcrvDo+d+VT2QaiI",
        "SessionStatus": "ZPN_STATUS_AUTHENTICATED", "Version": "", "ZEN": "US-CA-6857",
        "PrivateIP": "", "PublicIP": "89.160.20.128", "CountryCode": "US",
        "TimestampAuthentication": "2026-09-19T02:02:59.000Z", "Hostname": "", "Platform": "",
        "ClientType": "zpn_client_type_ip_anchoring"
    });
    for (k, v) in extra {
        r[*k] = v.clone();
    }
    r.to_string()
}

/// The record of `line` and the device it gives the registry.
fn record_and_device(line: &str) -> (Value, Option<String>) {
    let mut run = run(ZONE, &[line.as_bytes()]);
    assert!(run.dead.is_empty(), "dead letter for {line}");
    let facts = run.facts.pop().expect("one record");
    (
        run.records.remove(0),
        facts.device.map(|d| d.key.into_owned()),
    )
}

#[test]
fn an_ip_anchoring_session_is_no_device_and_its_record_keeps_its_fields() {
    let (r, device) = record_and_device(&status(&[]));
    assert_eq!(device, None);
    assert!(r.get("device_id").is_none(), "{r}");
    assert_eq!(r["user"], "ZPA IP Anchoring");
    assert_eq!(r["client_type"], "zpn_client_type_ip_anchoring");
    assert_eq!(r["client_public_ip"], "89.160.20.128");
    assert_eq!(r["session_id"], "+2dXQcrvDo+d+VT2QaiI");
    // Only LSS's own client is marked as such.
    assert_eq!(r["tags"], json!(["ZPA"]));
}

#[test]
fn connectors_and_browsers_without_a_hostname_are_no_device() {
    for client_type in [
        "zpn_client_type_edge_connector",
        "zpn_client_type_branch_connector",
        "zpn_client_type_exporter",
        "zpn_client_type_browser_isolation",
    ] {
        let line = status(&[
            ("Username", json!("jdoe@example.com")),
            ("ClientType", json!(client_type)),
        ]);
        let (r, device) = record_and_device(&line);
        assert_eq!(device, None, "{client_type}");
        assert_eq!(r["user"], "jdoe@example.com");
    }
}

#[test]
fn a_hostname_or_a_client_connector_is_still_a_device() {
    // A hostname names a machine, whatever the client type.
    let line = status(&[
        ("Username", json!("jdoe@example.com")),
        ("Hostname", json!("LAPTOP-7")),
        ("ClientType", json!("zpn_client_type_exporter")),
    ]);
    assert_eq!(record_and_device(&line).1.as_deref(), Some("LAPTOP-7"));
    // Client Connector without a hostname (older field sets): the user's (DESIGN §2.4).
    for client_type in ["zpn_client_type_zapp", "zpn_client_type_machine_tunnel"] {
        let line = status(&[
            ("Username", json!("jdoe@example.com")),
            ("ClientType", json!(client_type)),
        ]);
        let device = record_and_device(&line).1;
        assert_eq!(device.as_deref(), Some("jdoe@example.com"), "{client_type}");
    }
}

/// A User Status session's public IP is its NAT's egress address, which every machine behind it
/// shares: the device takes its private IP, as User Activity's does, or none, never the public one
/// (two laptops behind one office's NAT were both given it). The record keeps both.
#[test]
fn a_devices_ip_is_its_private_one_never_the_shared_public_one() {
    let session = |private: &str| {
        let line = status(&[
            ("Username", json!("jdoe@example.com")),
            ("Hostname", json!("LAPTOP-7")),
            ("ClientType", json!("zpn_client_type_zapp")),
            ("PrivateIP", json!(private)),
        ]);
        let mut out = run(ZONE, &[line.as_bytes()]);
        assert!(out.dead.is_empty(), "{line}");
        let device = out.facts.pop().and_then(|f| f.device).expect("LAPTOP-7");
        assert_eq!(out.records[0]["client_public_ip"], "89.160.20.128");
        device.ip.map(|ip| ip.into_owned())
    };
    assert_eq!(session("10.1.2.3").as_deref(), Some("10.1.2.3"));
    assert_eq!(session(""), None);
}

/// A session that names neither a user nor a hostname is written all the same, with no device
/// (it was a `no_device` dead letter).
#[test]
fn a_session_without_user_or_hostname_is_a_record_of_no_device() {
    let line = status(&[
        ("Username", json!("")),
        ("ClientType", json!("zpn_client_type_zapp")),
    ]);
    let (r, device) = record_and_device(&line);
    assert_eq!(device, None);
    assert_eq!(r["kind"], "zpa.user_status", "{r}");
    assert!(
        r.get("user").is_none() && r.get("device_id").is_none(),
        "{r}"
    );
    assert_eq!(r["client_public_ip"], "89.160.20.128");
}

#[test]
fn a_zpa_service_users_connections_are_no_device() {
    let line = lss(&[("Username", json!("ZPA IP Anchoring"))]);
    let (r, device) = record_and_device(&line);
    assert_eq!(device, None);
    assert!(r.get("device_id").is_none(), "{r}");
    assert_eq!(r["user"], "ZPA IP Anchoring");
    assert_eq!(r["dst_ip"], "10.20.0.8");
    // Its connections are still attributed, to the user it names (the LSS client's are not).
    let flow = run(ZONE, &[line.as_bytes()])
        .facts
        .pop()
        .and_then(|f| f.flow);
    let flow = flow.expect("the connection, for attribution");
    assert_eq!(
        (flow.user.as_ref(), flow.device_id),
        ("ZPA IP Anchoring", None)
    );
    // A hostname it carries is no person's machine either, as with the LSS client.
    let line = lss(&[
        ("Username", json!("ZPA IP Anchoring")),
        ("Hostname", json!("edge-1")),
    ]);
    let (r, device) = record_and_device(&line);
    assert_eq!(device, None);
    assert!(r.get("device").is_none(), "{r}");
}

#[test]
fn a_browser_access_request_is_no_device_unless_it_names_a_hostname() {
    // A browser's request, logged as the exporter client type's session is: no machine of the
    // user's is known, and keyed by the user it would be one that does not exist.
    let sample =
        String::from_utf8(common::corpus("elastic-zpa-browser-access-json.log")).expect("UTF-8");
    let line = sample.lines().next().expect("a Browser Access line");
    let (record, device) = record_and_device(line);
    assert_eq!(record["kind"], "zpa.browser_access");
    assert_eq!(record["user"], "admin@zdemo.net");
    assert_eq!((device, record.get("device_id")), (None, None), "{record}");
    let mut named: Value = serde_json::from_str(line).expect("JSON");
    named["Hostname"] = "KIOSK-7".into();
    let (record, device) = record_and_device(&named.to_string());
    assert_eq!(device.as_deref(), Some("KIOSK-7"), "{record}");
    // As every record that names a device, it says which (DESIGN §2.4); and it carries the
    // application that `ztel feed-format zpa-browser-access` asks for, as `zia.web` does.
    assert_eq!(record["device"], "KIOSK-7", "{record}");
    named["Application"] = "Intranet".into();
    named["AppGroup"] = "Web Apps".into();
    let (record, _) = record_and_device(&named.to_string());
    assert_eq!(
        (&record["app"], &record["app_group"]),
        (&json!("Intranet"), &json!("Web Apps")),
        "{record}"
    );
    // The key order is the schema's: `record_and_device` checks it.
}
