//! The event records that carry their fields as they are (`event::columns`): each value as the
//! feed meant it, and a record never lost for one of its secondary values.

mod common;

use common::{one, run, Run};

/// A SaaS Security record with the given members added (an Elastic-style template: `tz` carried).
fn saas(extra: &str) -> String {
    format!(
        "{{\"sourcetype\":\"zscalernss-casb\",\"event\":{{\"datetime\":\"Wed Dec  1 02:59:12 2021\",\
         \"tz\":\"GMT\",\"login\":\"ann@example.com\",\"applicationname\":\"OneDrive\",\
         \"filename\":\"a.docx\"{extra}}}}}"
    )
}

/// Regression: `last_modified` was read in the feed's zone while the record's `ts` beside it
/// honoured the record's own `tz`: one record, two times five hours apart.
#[test]
fn a_column_time_is_read_in_the_records_own_zone() {
    let r = one(
        "America/New_York",
        &saas(",\"lastmodtime\":\"Wed Dec  1 02:59:12 2021\""),
    );
    assert_eq!(r["ts"], "2021-12-01T02:59:12Z");
    assert_eq!(r["last_modified"], "2021-12-01T02:59:12Z");
    // Without a zone word, both are the feed's.
    let r = one(
        "America/New_York",
        &saas(",\"lastmodtime\":\"Wed Dec  1 02:59:12 2021\"").replace("\"tz\":\"GMT\",", ""),
    );
    assert_eq!(r["ts"], "2021-12-01T07:59:12Z");
    assert_eq!(r["last_modified"], "2021-12-01T07:59:12Z");
}

/// Regression: an unreadable `lastmodtime` (`0`, `Unknown`) made the whole record a `bad_time`
/// dead letter, and NSS's own "no time", the epoch in ctime, was written as 1970.
#[test]
fn an_unreadable_or_placeholder_column_time_is_left_out_not_the_record() {
    for value in ["\"0\"", "\"Unknown\"", "\"Thu Jan  1 00:00:00 1970\"", "0"] {
        let r = one("GMT", &saas(&format!(",\"lastmodtime\":{value}")));
        assert_eq!(r["file_name"], "a.docx", "{value}");
        assert!(r.get("last_modified").is_none(), "{value}: {r}");
    }
    // Whatever the feed's zone (in New York's it was read as 05:00, a time).
    let line = saas(",\"lastmodtime\":\"Thu Jan  1 00:00:00 1970\"").replace("\"tz\":\"GMT\",", "");
    let r = one("America/New_York", &line);
    assert!(r.get("last_modified").is_none(), "{r}");
    // An epoch number is a time.
    let r = one("GMT", &saas(",\"lastmodtime\":1638327552"));
    assert_eq!(r["last_modified"], "2021-12-01T02:59:12Z");
    // A ZPA audit record keeps its ModifiedTime when CreationTime cannot be read.
    let line = "{\"ModifiedTime\":\"2024-05-01T10:00:00.000Z\",\"CreationTime\":\"not a time\",\
                \"ModifiedBy\":\"7\",\"AuditOperationType\":\"Update\",\"ObjectType\":\"App\",\
                \"ObjectName\":\"crm\",\"ObjectID\":\"9\",\"CustomerID\":\"1\"}";
    let Run { records, dead, .. } = run("GMT", &[line.as_bytes()]);
    assert!(dead.is_empty(), "{}", common::describe(&dead));
    assert_eq!(records[0]["kind"], "zpa.audit");
    assert_eq!(records[0]["ts"], "2024-05-01T10:00:00Z");
    assert!(records[0].get("created").is_none());
}

/// Regression: a text column whose value a template wrote unquoted (`%d{errorcode}`) was left
/// out of the record without a trace.
#[test]
fn a_number_in_a_text_column_is_kept_as_its_text() {
    let line =
        "{\"sourcetype\":\"zscalernss-audit\",\"event\":{\"time\":\"Wed Dec  1 02:59:12 2021\",\
                \"adminid\":\"admin@example.com\",\"action\":\"UPDATE\",\"errorcode\":0,\
                \"result\":200,\"interface\":false,\"clientip\":\"10.0.0.1\",\"recordid\":7}}";
    let r = one("GMT", line);
    assert_eq!(r["kind"], "zia.audit");
    assert_eq!(r["error_code"], "0");
    assert_eq!(r["result"], "200");
    assert_eq!(r["interface"], "false", "a boolean too");
    let r = one("GMT", &saas(",\"dlpdictcount\":-2,\"policy\":1.5"));
    assert_eq!(r["dlp_dict_count"], "-2");
    assert_eq!(r["policy"], "1.5");
}

/// Regression: a connector's place, its customer and its microtenant, which the LSS templates
/// name, were left out of its record; a latitude is a number, from a number or from text.
#[test]
fn a_connectors_place_is_a_number_from_a_number_or_text() {
    let line = |lat: &str| {
        format!(
            "{{\"LogTimestamp\":\"Wed Jul  3 05:17:22 2019\",\"Customer\":\"Safe March\",\
             \"SessionType\":\"ZPN_ASSISTANT_BROKER_CONTROL\",\"Connector\":\"c1\",\
             \"ConnectorGroup\":\"g1\",\"CPUUtilization\":1,\"Latitude\":{lat},\
             \"Longitude\":-122.25,\"MicroTenantID\":\"145257480799129312\"}}"
        )
    };
    for (lat, want) in [
        ("47.5", Some(47.5)),
        ("\"47.5\"", Some(47.5)),
        ("47", Some(47.0)),
    ] {
        let r = one("UTC", &line(lat));
        assert_eq!(r["kind"], "zpa.app_connector_status", "{r}");
        assert_eq!(r["latitude"].as_f64(), want, "{lat}: {r}");
        assert_eq!(r["longitude"], -122.25);
        assert_eq!(r["customer"], "Safe March");
        assert_eq!(r["microtenant_id"], "145257480799129312");
    }
    // Text that is no number is left out, not the record.
    for lat in ["\"north\"", "\"\"", "\"NaN\"", "\"inf\""] {
        let r = one("UTC", &line(lat));
        assert!(r.get("latitude").is_none(), "{lat}: {r}");
        assert_eq!(r["longitude"], -122.25);
    }
}

/// LSS writes `0` for an address that is none (DESIGN §2.4): an App Connector's record leaves
/// such an address out, as the other ZPA records do, and keeps a real one.
#[test]
fn a_connectors_zero_address_is_none() {
    let line = |ip: &str, gateway: &str| {
        format!(
            "{{\"LogTimestamp\":\"Wed Jul  3 05:17:22 2019\",\"Customer\":\"Safe March\",\
             \"SessionType\":\"ZPN_ASSISTANT_BROKER_CONTROL\",\"Connector\":\"c1\",\
             \"ConnectorGroup\":\"g1\",\"CPUUtilization\":1,\"PrivateIP\":\"{ip}\",\
             \"PublicIP\":\"{ip}\",\"DefRouteGW\":\"{gateway}\",\"PrimaryDNSResolver\":\"{ip}\"}}"
        )
    };
    let r = one("UTC", &line("0", "0"));
    assert_eq!(r["kind"], "zpa.app_connector_status", "{r}");
    for key in ["private_ip", "public_ip", "default_gateway", "dns_resolver"] {
        assert!(r.get(key).is_none(), "{key}: {r}");
    }
    let r = one("UTC", &line("10.0.0.5", "10.0.0.1"));
    assert_eq!(r["private_ip"], "10.0.0.5");
    assert_eq!(r["public_ip"], "10.0.0.5");
    assert_eq!(r["default_gateway"], "10.0.0.1");
    assert_eq!(r["dns_resolver"], "10.0.0.5");
}

/// Elastic's SaaS Security templates (`packages/zscaler_zia/docs/README.md`): the threat name
/// under `threat.indicator.name` (the malware's name only where NSS wrote none), CRM, ITSM and
/// Repository's file path under `file.path`, the email subtype's attachments under `email`.
#[test]
fn elastic_saas_subtypes_fill_the_threat_the_file_source_and_an_emails_attachment() {
    let line = |subtype: &str, members: &str| {
        format!(
            r#"{{"version":"v1","sourcetype":"zscalernss-saas_security","sourcesubtype":"{subtype}","time":"1730466188","tz":"GMT","record_id":"7","application":{{"name":"Jira"}},"user_name":"ann@example.com",{members}}}"#
        )
    };
    let crm = one(
        "GMT",
        &line(
            "crm",
            r#""threat":{"indicator":{"name":"EICAR Test File"},"malware":"Trojan.X","malware_class":"None"},"file":{"name":"a.pdf","path":"/Projects/Q3"}"#,
        ),
    );
    assert_eq!(crm["kind"], "zia.saas", "{crm}");
    assert_eq!(crm["threat"], "EICAR Test File", "{crm}");
    assert_eq!(crm["file_source"], "/Projects/Q3", "{crm}");
    let no_name = one(
        "GMT",
        &line(
            "repo",
            r#""threat":{"indicator":{"name":"None"},"malware":"Trojan.X"},"file":{"path":"src"}"#,
        ),
    );
    assert_eq!(no_name["threat"], "Trojan.X", "{no_name}");
    let email = one(
        "GMT",
        &line(
            "email",
            r#""email":{"subject":"Q4","attachments":{"file_names":"q4.xlsx","md5s":"d41d8cd98f00b204e9800998ecf8427e"}}"#,
        ),
    );
    assert_eq!(email["file_name"], "q4.xlsx", "{email}");
    assert_eq!(
        email["file_md5"], "d41d8cd98f00b204e9800998ecf8427e",
        "{email}"
    );
}

/// Review of 2aa90de: the column records' addresses (tunnel, audit, SaaS activity) were still
/// written as sent while the other records' are in their one text.
#[test]
fn a_column_address_is_written_in_its_one_text() {
    let line =
        "{\"sourcetype\":\"zscalernss-audit\",\"event\":{\"time\":\"Wed Dec  1 02:59:12 2021\",\
                \"adminid\":\"admin@example.com\",\"action\":\"UPDATE\",\
                \"clientip\":\"2001:DB8:0::1\",\"recordid\":7}}";
    let r = one("GMT", line);
    assert_eq!(r["kind"], "zia.audit");
    assert_eq!(r["client_ip"], "2001:db8::1", "{r}");
    // What is no address is kept as sent.
    let r = one("GMT", &line.replace("2001:DB8:0::1", "Unknown"));
    assert_eq!(r["client_ip"], "Unknown", "{r}");
}
