//! Every log type's template as `ztel feed-format` prints it, and the seven NSS templates of the
//! Sekoia deployment guide, filled in as NSS and LSS fill them: each line decodes to a record of
//! its log type, with the values put in.

mod common;

use clap::ValueEnum as _;
use common::*;
use serde_json::Value;
use wire::event::Reason;
use ztel::cli::feed_format::LogType;

/// A value for an NSS variable, as NSS prints it.
fn nss_value(name: &str) -> Option<String> {
    let v = match name {
        "epochtime" => "1655738951",
        "time" | "datetime" | "lastmodtime" => "Mon Jun 20 15:29:11 2022",
        "yy" => "2022",
        "mth" => "6",
        "mon" => "Jun",
        "dd" => "20",
        "hh" => "15",
        "mm" => "29",
        "ss" => "11",
        "recordid" => "7219431205364318210",
        "login" | "elogin" | "user" | "username" | "adminid" | "vpncredentialname" => {
            "jane@example.com"
        }
        "devicehostname" => "LAPTOP-7",
        "deviceowner" => "jane",
        "cip" | "csip" | "clientip" | "sourceip" | "srcipstart" | "srcipend" => "10.1.2.3",
        "sip" | "cdip" | "sdip" | "destvip" | "destipstart" | "destipend" => "203.0.113.9",
        "ssip" | "cintip" => "198.51.100.4",
        "csport" => "51515",
        "cdport" | "sdport" => "443",
        "ssport" => "40000",
        "sport" => "53",
        "srcport" | "dstport" | "srcportstart" | "destportstart" => "4500",
        "proto" => "HTTPS",
        "ipproto" => "TCP",
        "eurl" => "www.example.com/a%20b",
        "ehost" => "www.example.com",
        "action" => "Allowed",
        "reqmethod" => "GET",
        "respcode" => "200",
        "req" => "www.example.com",
        "reqtype" => "A record",
        "res" => "203.0.113.9",
        "reqaction" => "REQ_ALLOW",
        "tunnelactionname" => "IPSec Phase1",
        "preaction" | "epreaction" => "{}",
        "postaction" | "epostaction" => "{%22a%22:1}",
        "ikeversion" | "objtype1" | "istcp" => "1",
        _ if name.ends_with("size")
            || name.ends_with("bytes")
            || name.ends_with("ms")
            || name.starts_with("spi")
            || matches!(name, "riskscore" | "lifetime" | "totalsize" | "duration") =>
        {
            "1234"
        }
        _ => return Some(format!("sample-{name}")),
    };
    Some(v.to_owned())
}

/// A value for an LSS field.
fn lss_value(name: &str) -> Option<String> {
    let v = match name {
        "LogTimestamp" => "Thu Jan 18 10:31:05 2024",
        _ if name.starts_with("Timestamp") || name.ends_with("Time") => "2024-01-18T10:31:05.000Z",
        "Username" | "User" | "NameID" => "bob@example.com",
        "Hostname" => "LAPTOP-BOB",
        "ConnectionStatus" | "SessionStatus" => "active",
        "PrivateIP" | "ClientPrivateIP" | "ClientPrivateIp" => "10.9.9.9",
        "PublicIP" | "ClientPublicIP" | "ClientPublicIp" => "198.51.100.9",
        "ConnectorIP" => "10.0.0.5",
        "ServerIP" => "10.20.0.9",
        "Method" => "GET",
        "Protocol" => "HTTPS",
        "URL" => "/index.html",
        "Host" => "app.example.com",
        _ => return Some(format!("sample-{name}")),
    };
    Some(v.to_owned())
}

/// The numbers of an LSS template (`%d{…}`) must be numbers: the renderer writes 0 for "".
fn lss_number(name: &str) -> Option<String> {
    Some(
        match name {
            "ConnectorPort" => "5000",
            "ServerPort" | "ApplicationPort" => "443",
            "ClientPublicPort" => "61000",
            "IPProtocol" => "6",
            "StatusCode" => "200",
            _ => "7",
        }
        .to_owned(),
    )
}

fn decode(line: &str) -> Value {
    let batch = run_pipeline("UTC", &[line.trim_end().as_bytes()]);
    assert!(
        batch.dead.is_empty(),
        "dead letter {:?}: {line}",
        batch.dead.iter().map(|d| d.reason).collect::<Vec<_>>()
    );
    let records = batch_records(&batch);
    assert_eq!(records.len(), 1, "{line}");
    records.into_iter().next().expect("one record")
}

#[test]
fn every_printed_template_filled_in_decodes_to_its_log_type() {
    for log_type in LogType::value_variants() {
        let name = log_type.name();
        let (status, text, stderr) = run_ztel(&["feed-format", &name]);
        assert!(status.success(), "{name}: {stderr}");
        let template = text.lines().last().expect("a last line");
        assert_eq!(
            template,
            log_type.template(),
            "{name}: the last line is the template"
        );
        let line = if name.starts_with("zia-") {
            render_nss_with(template, nss_value)
        } else {
            render_lss_sample(template)
        };
        let record = decode(&line);
        let kind = name.replacen('-', ".", 1).replace('-', "_");
        assert_eq!(record["kind"], kind, "{name}: {record}");
        assert!(record["ts"].is_string(), "{name}: {record}");
        if name.starts_with("zia-") {
            // The time put in, not the arrival: a template without one makes a record's time
            // wrong on a replay, and two like events the same line, dropped as a repeat.
            assert_eq!(record["ts"], "2022-06-20T15:29:11Z", "{name}: {record}");
        }
        match *log_type {
            LogType::ZiaWeb | LogType::ZiaFirewall | LogType::ZiaDns => {
                assert_eq!(record["device"], "LAPTOP-7", "{name}: {record}");
                assert_eq!(record["user"], "jane@example.com", "{name}: {record}");
                assert_eq!(record["record_id"], "7219431205364318210", "{name}");
            }
            _ => {}
        }
        if *log_type == LogType::ZiaFirewall {
            // The real ports: the client's source port, the destination's, and the NAT's.
            assert_eq!(
                (
                    &record["src_port"],
                    &record["dst_port"],
                    &record["nat_port"]
                ),
                (&Value::from(51515), &Value::from(443), &Value::from(40000)),
                "{record}"
            );
            assert_eq!(record["dst_host"], "sample-cdfqdn");
        }
        if *log_type == LogType::ZiaDns {
            assert_eq!(record["dst_port"], 53, "{record}");
            assert_eq!(record["query"], "www.example.com", "{record}");
        }
    }
}

/// The seven templates of the Sekoia guide (`tests/corpus/sekoia-guide-nss-templates.txt`), with
/// straight quotes as real NSS writes them.
const SEKOIA_TEMPLATES: &str = include_str!("corpus/sekoia-guide-nss-templates.txt");

#[test]
fn the_sekoia_guide_templates_filled_in_decode_to_their_log_types() {
    let templates: Vec<(&str, &str)> = SEKOIA_TEMPLATES
        .lines()
        .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
        .map(|l| l.split_once('\t').expect("kind TAB template"))
        .collect();
    assert_eq!(templates.len(), 7);
    for (kind, template) in templates {
        let line = render_nss_with(template, nss_value);
        let record = decode(&line);
        assert_eq!(record["kind"], kind, "{line}\n{record}");
        // Behind an RFC 3164 header without a year: the time is the record's own.
        assert!(record["ts"].is_string(), "{record}");
    }
}

/// Zscaler's default LSS templates (`tests/corpus/zscaler-api-lss-default-templates.txt`): the log
/// type's LSS name, a tab, the template.
const LSS_DEFAULTS: &str = include_str!("corpus/zscaler-api-lss-default-templates.txt");

/// Zscaler's default templates: the log type's LSS name and the template.
fn lss_defaults() -> Vec<(&'static str, &'static str)> {
    LSS_DEFAULTS
        .lines()
        .filter(|l| !l.starts_with('#'))
        .filter_map(|l| l.split_once('\t'))
        .collect()
}

/// An LSS template filled in with [`lss_value`] and [`lss_number`].
fn render_lss_sample(template: &str) -> String {
    // Numbers and strings come from different tables: `%d{X}` needs digits.
    let numbers: Vec<&str> = template
        .split("%d")
        .skip(1)
        .filter_map(|s| s.split_once('{')?.1.split('}').next())
        .collect();
    render_lss_with(template, |field| {
        if numbers.contains(&field) {
            lss_number(field)
        } else {
            lss_value(field)
        }
    })
}

/// A template's fields: each key with the specifier that fills it (`"User"`, `%j{modifiedByUser}`).
fn lss_fields(template: &str) -> Vec<(&str, &str)> {
    let mut fields = Vec::new();
    let mut rest = template;
    while let Some(at) = rest.find('%') {
        let Some(close) = rest[at..].find('}') else {
            break;
        };
        let spec = &rest[at..at + close + 1];
        // The key is the last quoted name before its specifier.
        let before = rest[..at].trim_end().trim_end_matches(':').trim_end();
        let key = before
            .strip_suffix('"')
            .and_then(|b| b.rsplit_once('"'))
            .map_or("", |(_, k)| k);
        fields.push((key, spec));
        rest = &rest[at + close + 1..];
    }
    fields
}

/// What `ztel feed-format` tells an admin to paste into the ZPA portal uses only the variables
/// Zscaler's own templates of that log type use, under the same keys: a variable LSS does not
/// know (`%j{ModifiedTime}` for Audit's `%j{modifiedTime}`) would be refused or written empty.
#[test]
fn every_printed_lss_field_is_one_zscalers_template_writes() {
    let lss_name = |log_type: LogType| match log_type {
        LogType::ZpaUserActivity => "zpn_trans_log",
        LogType::ZpaUserStatus => "zpn_auth_log",
        LogType::ZpaBrowserAccess => "zpn_http_trans_log",
        LogType::ZpaAppConnectorStatus => "zpn_ast_auth_log",
        LogType::ZpaAudit => "zpn_audit_log",
        _ => unreachable!("a ZIA log type"),
    };
    let defaults = lss_defaults();
    let mut checked = 0;
    for &log_type in LogType::value_variants() {
        if !log_type.name().starts_with("zpa-") {
            continue;
        }
        let known: Vec<(&str, &str)> = defaults
            .iter()
            .filter(|(name, _)| *name == lss_name(log_type))
            .flat_map(|(_, template)| lss_fields(template))
            .collect();
        assert!(known.len() > 10, "{}: Zscaler's template", log_type.name());
        let printed = log_type.template();
        let fields = lss_fields(&printed);
        assert!(fields.len() > 10, "{printed}");
        for field in &fields {
            assert!(
                known.contains(field),
                "{}: {field:?} is in no template of Zscaler's",
                log_type.name()
            );
            checked += 1;
        }
    }
    assert!(checked > 60, "{checked}");
}

/// Zscaler's default template of every LSS log type, filled in as LSS fills it: a record of its
/// kind for the five ztel has records for, an `unknown_type` dead letter for the others, never a
/// record of another kind (an SMB inspection was once an AppProtection record, a Microsegmentation
/// flow a Browser Access one with every value lost).
#[test]
fn zscalers_default_lss_templates_filled_in_are_their_kind_or_unknown() {
    let mut seen = Vec::new();
    for (name, template) in lss_defaults() {
        let line = render_lss_sample(template);
        let kind = match name {
            "zpn_trans_log" => Some("zpa.user_activity"),
            "zpn_auth_log" => Some("zpa.user_status"),
            "zpn_http_trans_log" => Some("zpa.browser_access"),
            "zpn_ast_auth_log" => Some("zpa.app_connector_status"),
            "zpn_audit_log" => Some("zpa.audit"),
            _ => None,
        };
        let batch = run_pipeline("UTC", &[line.as_bytes()]);
        match kind {
            Some(kind) => {
                let record = decode(&line);
                assert_eq!(record["kind"], kind, "{name}: {record}");
            }
            None => {
                let reasons: Vec<_> = batch.dead.iter().map(|d| d.reason).collect();
                assert_eq!(reasons, [Reason::UnknownType], "{name}: {line}");
                assert!(batch_records(&batch).is_empty(), "{name}");
            }
        }
        seen.push(name);
    }
    seen.dedup();
    assert_eq!(seen.len(), 9, "{seen:?}");
}
