//! ZPA's positional output (DESIGN §3.2: the Feed Output Type an admin already chose must work):
//! a line of each ZPA log type's default CSV or TSV template, filled in with the values of a JSON
//! sample of the corpus, decodes to the record (and the facts) that the JSON line decodes to.
//!
//! The templates are Zscaler's, as the ZPA API returns them ("Getting Details of All LSS Log
//! Formats", help.zscaler.com/zpa/managing-log-streaming-service-configurations-using-api),
//! copied here as text: the test fills them in as LSS does, independently of ztel's orders.

mod common;
// Lines whose values hold commas: User Status' lists, and text values elsewhere.
#[path = "zpa_positional/commas.rs"]
mod commas;

use common::{corpus, describe, lines, run, Run};
use serde_json::Value;
use wire::event::Reason;

/// A log type's default CSV template (its TSV one is the same with tabs), and the corpus sample
/// whose values fill it in.
struct Template {
    sample: &'static str,
    csv: &'static str,
}

/// `zpn_trans_log`, `zpn_auth_log`, `zpn_http_trans_log`, `zpn_ast_auth_log`, `zpn_audit_log`.
/// Each sample is its type's JSON from the same template (up to fields it lacks, left empty);
/// where Zscaler's own sample has fields the template lacks (User Activity's Hostname), another
/// source's is used.
#[rustfmt::skip]
const TEMPLATES: [Template; 5] = [
    Template {
        sample: "google-secops-doc-zpa-user-activity.log",
        csv: concat!(
            "%s{LogTimestamp:time} User Activity zpa-lss: ,%s{Customer},%s{SessionID},",
            "%s{ConnectionID},%s{InternalReason},%s{ConnectionStatus},%d{IPProtocol},",
            "%d{DoubleEncryption},%s{Username},%d{ServicePort},%s{ClientPublicIP},",
            "%s{ClientPrivateIP},%f{ClientLatitude},%f{ClientLongitude},%s{ClientCountryCode},",
            "%s{ClientZEN},%s{Policy},%s{Connector},%s{ConnectorZEN},%s{ConnectorIP},",
            "%d{ConnectorPort},%s{Host},%s{Application},%s{AppGroup},%s{Server},%s{ServerIP},",
            "%d{ServerPort},%d{PolicyProcessingTime},%d{ServerSetupTime},",
            "%s{TimestampConnectionStart:iso8601},%s{TimestampConnectionEnd:iso8601},",
            "%s{TimestampCATx:iso8601},%s{TimestampCARx:iso8601},",
            "%s{TimestampAppLearnStart:iso8601},%s{TimestampZENFirstRxClient:iso8601},",
            "%s{TimestampZENFirstTxClient:iso8601},%s{TimestampZENLastRxClient:iso8601},",
            "%s{TimestampZENLastTxClient:iso8601},%s{TimestampConnectorZENSetupComplete:iso8601},",
            "%s{TimestampZENFirstRxConnector:iso8601},%s{TimestampZENFirstTxConnector:iso8601},",
            "%s{TimestampZENLastRxConnector:iso8601},%s{TimestampZENLastTxConnector:iso8601},",
            "%d{ZENTotalBytesRxClient},%d{ZENBytesRxClient},%d{ZENTotalBytesTxClient},",
            "%d{ZENBytesTxClient},%d{ZENTotalBytesRxConnector},%d{ZENBytesRxConnector},",
            "%d{ZENTotalBytesTxConnector},%d{ZENBytesTxConnector},%s{Idp},%s{c2c},",
            "%s{ClientCity},%s{MicroTenantID},%s{AppMicroTenantID},%s{PRAConnectionID},",
            "%s{PRAConsoleType},%d{PRAApprovalID},%d{PRACapabilityPolicyID},",
            "%d{PRACredentialPolicyID},%s{PRACredentialUserName},%s{PRACredentialLoginType},",
            "%s{PRAErrorStatus},%s{PRAFileTransferList},%s{PRARecordingStatus},",
            "%s{PRASharedUsersList},%s{PRASessionType},%s{PRASharedMode}",
        ),
    },
    Template {
        sample: "zscaler-helpdoc-zpa-user-status-json.log",
        csv: concat!(
            "%s{LogTimestamp:time} User Status zpa-lss: ,%s{Customer},%s{Username},",
            "%s{SessionID},%s{SessionStatus},%s{Version},%s{ZEN},%s{CertificateCN},",
            "%s{PrivateIP},%s{PublicIP},%f{Latitude},%f{Longitude},%s{CountryCode},",
            "%s{TimestampAuthentication:iso8601},%s{TimestampUnAuthentication:iso8601},",
            "%d{TotalBytesRx},%d{TotalBytesTx},%s{Idp},%s{Hostname},%s{Platform},",
            "%s{ClientType},%s(,){TrustedNetworks},%s(,){TrustedNetworksNames},",
            "%s{SAMLAttributes},%s(,){PosturesHit},%s(,){PosturesMiss},%f{ZENLatitude},",
            "%f{ZENLongitude},%s{ZENCountryCode},%s{fqdn_registered},%s{fqdn_register_error},",
            "%s{City},%s{MicroTenantID}",
        ),
    },
    Template {
        sample: "elastic-zpa-browser-access-json.log",
        csv: concat!(
            "%s{LogTimestamp:time} Browser Access zpa-lss: ,%s{ConnectionID},%s{Exporter},",
            "%s{TimestampRequestReceiveStart:iso8601},",
            "%s{TimestampRequestReceiveHeaderFinish:iso8601},",
            "%s{TimestampRequestReceiveFinish:iso8601},%s{TimestampRequestTransmitStart:iso8601},",
            "%s{TimestampRequestTransmitFinish:iso8601},%s{TimestampResponseReceiveStart:iso8601},",
            "%s{TimestampResponseReceiveFinish:iso8601},",
            "%s{TimestampResponseTransmitStart:iso8601},",
            "%s{TimestampResponseTransmitFinish:iso8601},%d{TotalTimeRequestReceive},",
            "%d{TotalTimeRequestTransmit},%d{TotalTimeResponseReceive},",
            "%d{TotalTimeResponseTransmit},%d{TotalTimeConnectionSetup},",
            "%d{TotalTimeServerResponse},%s{Method},%s{Protocol},%s{Host},%s{URL},%j{UserAgent},",
            "%s{XFF},%s{NameID},%d{StatusCode},%d{RequestSize},%d{ResponseSize},",
            "%d{ApplicationPort},%s{ClientPublicIp},%d{ClientPublicPort},%s{ClientPrivateIp},",
            "%s{Customer},%s{ConnectionStatus},%j{ConnectionReason},%s{Origin},%s{CorsToken}",
        ),
    },
    Template {
        sample: "zscaler-helpdoc-zpa-app-connector-status-json.log",
        csv: concat!(
            "%s{LogTimestamp:time} Connector Status zpa-lss: ,%s{Customer},%s{SessionID},",
            "%s{SessionType},%s{SessionStatus},%s{Version},%s{Platform},%s{ZEN},%s{Connector},",
            "%s{ConnectorGroup},%s{PrivateIP},%s{PublicIP},%f{Latitude},%f{Longitude},",
            "%s{CountryCode},%s{TimestampAuthentication:iso8601},",
            "%s{TimestampUnAuthentication:iso8601},%d{CPUUtilization},%d{MemUtilization},",
            "%d{ServiceCount},%s{InterfaceDefRoute},%s{DefRouteGW},%s{PrimaryDNSResolver},",
            "%s{HostStartTime},%s{ConnectorStartTime},%d{NumOfInterfaces},%d{BytesRxInterface},",
            "%d{PacketsRxInterface},%d{ErrorsRxInterface},%d{DiscardsRxInterface},",
            "%d{BytesTxInterface},%d{PacketsTxInterface},%d{ErrorsTxInterface},",
            "%d{DiscardsTxInterface},%d{TotalBytesRx},%d{TotalBytesTx},%s{MicroTenantID}",
        ),
    },
    Template {
        sample: "elastic-zpa-audit-json.log",
        csv: concat!(
            "Audit zpa-lss: ,%s{modifiedTime:iso8601},%s{creationTime:iso8601},%d{modifiedBy},",
            "%s{requestId},%s{sessionId},%s{auditOldValue},%s{auditNewValue},",
            "%s{auditOperationType},%s{objectType},%s{objectName},%d{objectId},%d{customerId},",
            "%s{modifiedByUser},%d{clientAuditUpdate}",
        ),
    },
];

/// The JSON key of a template variable whose JSON template names it otherwise.
fn key(variable: &str) -> &str {
    match variable {
        "c2c" => "ClientToClient",
        "fqdn_registered" => "FQDNRegistered",
        "fqdn_register_error" => "FQDNRegisteredError",
        "modifiedTime" => "ModifiedTime",
        "creationTime" => "CreationTime",
        "modifiedBy" => "ModifiedBy",
        "requestId" => "RequestID",
        "sessionId" => "SessionID",
        "auditOldValue" => "AuditOldValue",
        "auditNewValue" => "AuditNewValue",
        "auditOperationType" => "AuditOperationType",
        "objectType" => "ObjectType",
        "objectName" => "ObjectName",
        "objectId" => "ObjectID",
        "customerId" => "CustomerID",
        "modifiedByUser" => "User",
        "clientAuditUpdate" => "ClientAuditUpdate",
        other => other,
    }
}

/// How a line writes its string values.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Style {
    /// As LSS does: `%s` as it is, `%j` a JSON string, numbers bare.
    Template,
    /// Every string quoted (a template edited to quote its values: `"%s{…}"`, which writes a
    /// value's own quotes as they are, as LSS writes every value).
    Quoted,
}

/// The template filled in with `sample`'s values, its fields separated by `delimiter`.
fn fill(template: &str, sample: &Value, delimiter: char, style: Style) -> String {
    // A list's `%s(,){…}` joins its items with commas, as the array's are joined below.
    let template = template.replace("(,)", "");
    let mut fields = template.split(',');
    let lead = fields.next().expect("a lead");
    let mut out = match lead.split_once('{') {
        // `%s{LogTimestamp:time} User Activity zpa-lss: `: the lead with the time in it.
        Some((_, rest)) => {
            let (_, after) = rest.split_once('}').expect("a closing brace");
            let time = sample["LogTimestamp"].as_str().expect("a LogTimestamp");
            format!("{time}{after}")
        }
        None => lead.to_string(),
    };
    for spec in fields {
        let (format, rest) = spec.split_once('{').expect("a variable");
        let variable = rest.trim_end_matches('}').split(':').next().unwrap_or("");
        let value = &sample[key(variable)];
        let text = match value {
            Value::Null => String::new(),
            Value::String(s) => s.clone(),
            Value::Array(items) => items
                .iter()
                .map(|v| v.as_str().map_or_else(|| v.to_string(), str::to_string))
                .collect::<Vec<_>>()
                .join(","),
            other => other.to_string(),
        };
        let string = format.starts_with("%s") || format.starts_with("%j");
        let written = match (style, string) {
            (Style::Quoted, true) => format!("\"{text}\""),
            (Style::Template, true) if format.starts_with("%j") => {
                serde_json::to_string(&text).expect("a JSON string")
            }
            _ => text,
        };
        out.push(delimiter);
        out.push_str(&written);
    }
    out
}

/// A template's corpus sample: its first line, as text and as JSON.
fn sample(t: &Template) -> (String, Value) {
    let text = corpus(t.sample);
    let line = String::from_utf8(lines(&text)[0].to_vec()).expect("UTF-8");
    let json = serde_json::from_str(&line).expect("the sample is JSON");
    (line, json)
}

/// Decodes one line, which must make one record.
fn decoded(line: &str) -> Run {
    let out = run("UTC", &[line.as_bytes()]);
    assert!(out.dead.is_empty(), "{}", describe(&out.dead));
    out
}

/// Decodes one line, which must make no record: the reason of its dead letter.
fn dead(line: &str) -> Reason {
    let out = run("UTC", &[line.as_bytes()]);
    assert!(out.records.is_empty(), "{line}: {:?}", out.records);
    out.dead[0].0
}

/// Checks that each line makes the record and the facts of the template's JSON sample.
fn same_as_json(t: &Template, lines: &[String]) {
    let (json_line, _) = sample(t);
    let want = decoded(&json_line);
    for line in lines {
        let got = decoded(line);
        assert_eq!(got.records, want.records, "{line}");
        assert_eq!(got.facts, want.facts, "{line}");
    }
}

#[test]
fn each_zpa_log_type_from_its_default_template() {
    for t in &TEMPLATES {
        let (_, json) = sample(t);
        let csv = fill(t.csv, &json, ',', Style::Quoted);
        let tsv = fill(t.csv, &json, '\t', Style::Template);
        // Behind a relay's syslog header, the lead keeps its time.
        let relayed = format!("<134>Jan 18 10:31:01 relay01 zpa-lss: {csv}");
        same_as_json(t, &[csv, tsv, relayed]);
    }
}

#[test]
fn the_csv_template_as_lss_writes_it() {
    // Values as they are: User Activity's ConnectionID (`session-id,connection-id`) is two
    // fields, Browser Access' UserAgent a JSON string with commas in it, Audit's new value a
    // JSON object of several keys (read by its braces).
    for t in [&TEMPLATES[0], &TEMPLATES[2], &TEMPLATES[3], &TEMPLATES[4]] {
        let (_, json) = sample(t);
        same_as_json(t, &[fill(t.csv, &json, ',', Style::Template)]);
    }
}

/// Checks that `line` makes the record and the facts that `json`, as a JSON line, makes.
fn same_as(json: &Value, line: &str) {
    let want = decoded(&serde_json::to_string(json).expect("JSON"));
    let got = decoded(line);
    assert_eq!(got.records, want.records, "{line}");
    assert_eq!(got.facts, want.facts, "{line}");
}

#[test]
fn browser_access_json_strings_in_csv_lose_their_escapes() {
    // The CSV template writes the agent and the reason with `%j`: a JSON string, its quotes
    // and backslashes escaped. Their text is what the JSON line holds, not the escapes.
    let t = &TEMPLATES[2];
    let (_, mut json) = sample(t);
    json["UserAgent"] =
        "SophosUpdate (t=\"b418\" d=\"3683\") C:\\Program Files\\x caf\u{e9}".into();
    json["ConnectionReason"] = r#"Auth "redirect" step 2"#.into();
    let line = fill(t.csv, &json, ',', Style::Template);
    assert!(line.contains(r#"(t=\"b418\""#), "{line}");
    same_as(&json, &line);
    // An escaped quote before a comma, or a last one, which CSV's rule would take for the
    // field's end or a doubled quote (a dead letter, or a line whose count fits no order).
    for (agent, reason) in [(r#"Bot/1.0 "x""#, r#"a, "b", c"#), (r#"a, "b", c"#, r#"""#)] {
        json["UserAgent"] = agent.into();
        json["ConnectionReason"] = reason.into();
        same_as(&json, &fill(t.csv, &json, ',', Style::Template));
    }
}

#[test]
fn values_that_start_or_end_with_a_quote_are_as_written() {
    // LSS writes `%s` as it is: a policy or an object named `"Quoted" Object`, a first quote
    // that CSV's rule takes for a quoted field's, which never closes (tester U1: dead letters).
    // Browser Access's agent and reason beside it are JSON strings in CSV (`%j`): read without
    // their quotes and escapes still, when such a line is read with no field quoted (review
    // B1), as long as neither holds a comma (the sample's agent does: `(KHTML, like Gecko)`).
    for (t, key) in [
        (&TEMPLATES[0], "Policy"),
        (&TEMPLATES[4], "objectName"),
        (&TEMPLATES[3], "Connector"),
        (&TEMPLATES[2], "Origin"),
        (&TEMPLATES[2], "XFF"),
    ] {
        for value in [r#""Quoted" Object"#, r#"Rule "A""#, r#"a "b" c"#] {
            let (_, mut json) = sample(t);
            json[key] = value.into();
            // (`fill` writes `%j` in TSV too, where LSS's TSV template writes `%s`.)
            let browser = key == "Origin" || key == "XFF";
            if browser {
                json["UserAgent"] = r#"curl/8.0 "x" C:\y"#.into();
            }
            for d in [',', '\t'].into_iter().filter(|&d| d == ',' || !browser) {
                same_as(&json, &fill(t.csv, &json, d, Style::Template));
            }
        }
    }
}

#[test]
fn a_comma_cannot_shift_a_line_into_its_numbers() {
    // A ConnectionID without its comma that repeats SessionID, and a policy with one: the count
    // of the order that reads ConnectionID as two fields, and the ids repeat. Read so, the port
    // would be an address and the user a port; `%d` fields hold digits, so it is a dead letter.
    let t = &TEMPLATES[0];
    let (_, mut json) = sample(t);
    json["ConnectionID"] = json["SessionID"].clone();
    json["Policy"] = "P, Q".into();
    let line = fill(t.csv, &json, ',', Style::Template);
    assert_eq!(dead(&line), Reason::FieldCount);
}

#[test]
fn a_private_service_edge_status_row_is_no_connector_status() {
    // 37 fields, as App Connector Status has, its package version one more column before the
    // ZEN: without its label (a template edited to quote its values and drop it), its public
    // address where App Connector Status has its latitude rules that order out.
    let row = concat!(
        "Wed Dec  1 10:38:41 2021,acme,q5,ZPN_TUNNEL_CONTROL,ZPN_STATUS_AUTHENTICATED,",
        "21.268.1-341-g71d6f30,,el7,ZPA-zdx3,PB1-1637740498039,PB1,10.66.96.147,",
        "199.168.150.161,0.0,0.0,,2021-12-01T10:34:42.067Z,,0,3,,10.66.96.254,10.66.98.1,",
        "1916930,1638354879,2,15435341381,144152768,0,2058,22304497040,149703945,0,0,5257,",
        "7543,145257480799129312",
    );
    assert_eq!(dead(row), Reason::FieldCount);
}

#[test]
fn a_log_type_without_an_order_is_unknown_type_by_its_label() {
    // LSS's own labels (the API's formats): a log type ztel has no positional order for is one
    // it knows and cannot map, not a miscounted line of one it has.
    for lead in [
        "Wed Dec  1 10:38:41 2021 Service Edge Status zpa-lss: ",
        "Wed Dec  1 10:38:41 2021 Private Cloud Controller Status zpa-lss: ",
        "Wed Dec  1 10:38:41 2021 Connector Metric zpa-lss: ",
        "Wed Dec  1 10:38:41 2021 Web Inspection Logs zpa-lss: ",
    ] {
        for line in [format!("{lead},acme,q5,x"), format!("{lead}\tacme\tq5\tx")] {
            let out = run("UTC", &[line.as_bytes()]);
            assert!(out.records.is_empty(), "{:?}", out.records);
            assert_eq!(out.dead[0].0, Reason::UnknownType, "{line}");
        }
    }
    // One of ours, miscounted, is still that.
    let line = "Wed Dec  1 10:38:41 2021 Connector Status zpa-lss: ,acme,q5,x";
    assert_eq!(run("UTC", &[line.as_bytes()]).dead[0].0, Reason::FieldCount);
}

#[test]
fn browser_access_and_connector_status_are_told_apart_without_their_label() {
    // Both have 37 fields: with only the time in front (a template edited to quote its values
    // and drop the label), their values tell them.
    for t in [&TEMPLATES[2], &TEMPLATES[3]] {
        let (_, json) = sample(t);
        let quoted = fill(t.csv, &json, ',', Style::Quoted);
        let (_, rest) = quoted.split_once(',').expect("fields");
        let time = json["LogTimestamp"].as_str().expect("a time");
        same_as_json(t, &[format!("\"{time}\",{rest}")]);
    }
}

#[test]
fn a_label_fits_only_its_own_log_type() {
    // A Browser Access line labelled as App Connector Status (the same field count) is neither:
    // its label rules out the one, its method and protocol the other.
    let t = &TEMPLATES[2];
    let (_, json) = sample(t);
    let line = fill(t.csv, &json, ',', Style::Quoted).replace("Browser Access", "Connector Status");
    assert_eq!(dead(&line), Reason::FieldCount);
}

#[test]
fn the_zia_default_csv_still_reads_as_before() {
    let text = corpus("zscaler-helpdoc-zia-web-csv.log");
    let line = lines(&text)[0];
    let out = run("UTC", &[line]);
    assert!(out.dead.is_empty(), "{}", describe(&out.dead));
    assert_eq!(out.records[0]["kind"], "zia.web");
}
