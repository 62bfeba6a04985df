//! A JSON frame whose Zscaler `product` names its log type is read by that type's CEF rules;
//! one without is read as before. An audit record's before and after sent as JSON objects are
//! kept as their JSON text.

use super::*;
use crate::event::{classify, Kind};
use crate::keys::Field;

/// The fields `json` gives, its kind, and whether the reader called its values plain.
fn read(json: &str, check: impl FnOnce(&Fields<'_>, Result<Kind, Reason>, bool)) {
    let mut reader = Reader::default();
    let mut fields = Fields::default();
    let plain = reader.read(json.as_bytes(), &mut fields).expect("a record");
    check(&fields, classify(&fields), plain);
}

fn text<'a>(f: &'a Fields<'_>, field: Field) -> Option<std::borrow::Cow<'a, str>> {
    f.text(field)
}

#[test]
fn a_sentinel_dns_record_gives_its_query_and_its_request_action() {
    // Zscaler's older Sentinel DNS sample, shortened: the type is in `DeviceProduct`, at the end.
    let json = r#"{"sourcetype":"zscaler-nss-fw","act":"Req(allow),Res(allow)","cat":"Web Search","cs2":"Allow","cs2Label":"reqaction","cs5":"edgeservices.bing.com","cs5Label": "dns_req","cs4":"A","cs4Label":"dns_reqtype","DeviceProduct":"NSSDNSlog"}"#;
    read(json, |f, kind, plain| {
        assert_eq!(kind, Ok(Kind::ZiaDns));
        assert!(plain);
        assert_eq!(
            text(f, Field::Query).as_deref(),
            Some("edgeservices.bing.com")
        );
        assert_eq!(text(f, Field::QueryType).as_deref(), Some("A"));
        assert_eq!(text(f, Field::Action).as_deref(), Some("Allow"));
        assert_eq!(text(f, Field::Category).as_deref(), Some("Web Search"));
    });
}

#[test]
fn the_product_names_the_type_over_a_contradicting_sourcetype() {
    // The Sentinel DNS template says `zscaler-nss-fw`, the firewall's.
    read(
        r#"{"sourcetype":"zscaler-nss-fw","product":"NSSDNSlog","src":"10.0.0.1"}"#,
        |f, kind, _| {
            assert_eq!(kind, Ok(Kind::ZiaDns));
            assert_eq!(f.sourcetype, Some("zscaler-nss-fw"));
        },
    );
}

#[test]
fn an_audit_records_cat_is_its_interface_and_its_labelled_category_its_category() {
    let json = r#"{"product":"NSSAuditlog","cs1Label":"category","cs1":"ACTIVATION","cat":"UI","outcome":"SUCCESS"}"#;
    read(json, |f, kind, _| {
        assert_eq!(kind, Ok(Kind::ZiaAudit));
        assert_eq!(text(f, Field::Category).as_deref(), Some("ACTIVATION"));
        assert_eq!(text(f, Field::Interface).as_deref(), Some("UI"));
        assert_eq!(text(f, Field::Result).as_deref(), Some("SUCCESS"));
        assert!(!f.has(Field::RespCode));
    });
}

#[test]
fn a_firewall_records_name_is_its_rule_after_its_own_keys() {
    read(
        r#"{"product":"NSSFWlog","name":"Rule A","reason":"Rule A"}"#,
        |f, _, _| assert_eq!(text(f, Field::Rule).as_deref(), Some("Rule A")),
    );
    // A key of the frame's own that fills the rule comes first, as a CEF extension's does.
    read(
        r#"{"product":"NSSFWlog","name":"Rule A","rulelabel":"Rule B"}"#,
        |f, _, _| assert_eq!(text(f, Field::Rule).as_deref(), Some("Rule B")),
    );
}

#[test]
fn a_frame_simd_json_reads_is_read_by_the_same_rules() {
    // An escape sends it past the fast path; its envelope's pairs are the record's.
    let json = r#"{"sourcetype":"x","event":{"product":"NSSCasbcrmlog","deviceEventClassId":"sfdc","act":"Report \"Only\"","fname":"a.pdf"}}"#;
    read(json, |f, kind, plain| {
        assert_eq!(kind, Ok(Kind::ZiaSaas));
        assert!(!plain);
        assert_eq!(text(f, Field::App).as_deref(), Some("sfdc"));
        assert_eq!(text(f, Field::Policy).as_deref(), Some("Report \"Only\""));
        assert_eq!(text(f, Field::FileName).as_deref(), Some("a.pdf"));
        assert!(!f.has(Field::Action));
    });
}

#[test]
fn a_frame_without_a_zscaler_product_reads_as_before() {
    // Without a product, `cat` is the category every other dialect means, labels are no keys,
    // and the fast path's reading stands.
    let json = r#"{"sourcetype":"zscalernss-audit","product":"Other","cat":"UI","cs1Label":"category","cs1":"ACTIVATION"}"#;
    let mut flat = Fields::default();
    assert!(flat::extract(
        json.as_bytes(),
        &mut flat::Scratch::default(),
        &mut flat
    ));
    read(json, |f, kind, plain| {
        assert_eq!(kind, Ok(Kind::ZiaAudit));
        assert!(plain);
        assert_eq!(f.product, None);
        assert_eq!(text(f, Field::Category).as_deref(), Some("UI"));
        assert!(!f.has(Field::Interface));
        assert_eq!(format!("{f:?}"), format!("{flat:?}"));
    });
}

/// The JSON text the reader kept for `field` of `json`, which must be a record.
fn kept(json: &str, field: Field) -> Option<String> {
    let mut kept = None;
    read(json, |f, _, _| {
        kept = text(f, field).map(|t| t.into_owned())
    });
    kept
}

#[test]
fn an_audit_records_before_and_after_sent_as_objects_are_their_json_text() {
    // Datadog's sample (line 3 of tests/corpus/datadog-zia-audit-json.log, shortened): the
    // template writes `%s{preaction}` unquoted, so the values are objects, with arrays inside.
    let post = r#"{"name" : "John Doe","groups" : [ "Employees", "Marketing" ],"department" : "Marketing"}"#;
    let pre = r#"{"name" : "John Doe","groups" : [ "Employees" ],"department" : "Sales"}"#;
    let json = format!(
        r#"{{"sourcetype" : "zscalernss-audit","event" : {{"postaction" : {post},"preaction" : {pre},"action" : "UPDATE"}}}}"#
    );
    read(&json, |f, kind, _| {
        assert_eq!(kind, Ok(Kind::ZiaAudit));
        assert_eq!(text(f, Field::PostAction).as_deref(), Some(post));
        assert_eq!(text(f, Field::PreAction).as_deref(), Some(pre));
        assert_eq!(text(f, Field::Action).as_deref(), Some("UPDATE"));
    });
    // Elastic's template sends empty ones, last in the envelope.
    let json = r#"{"sourcetype":"zscalernss-audit","event":{"action":"SIGN_OUT","preaction":{},"postaction":{}}}"#;
    assert_eq!(kept(json, Field::PreAction).as_deref(), Some("{}"));
    assert_eq!(kept(json, Field::PostAction).as_deref(), Some("{}"));
}

#[test]
fn the_kept_json_text_is_the_frames_even_where_simd_json_unescaped_it() {
    // Escaped quotes, a brace inside a string, a unicode escape and a number beyond 64 bits:
    // simd-json's copy has them unescaped or made null, and the text kept must still be the
    // object as sent, valid JSON.
    let post = concat!(
        r#"{"rule":"a \"quoted\" } name","path":"C:\\temp","note":"caf\u00e9","#,
        r#""id":123456789012345678901234567890,"n":[1,{"x":null}]}"#
    );
    let json = format!(r#"{{"sourcetype":"zscalernss-audit","event":{{"postaction":{post}}}}}"#);
    let text = kept(&json, Field::PostAction).expect("the object's text");
    assert_eq!(text, post);
    let parsed: serde_json::Value = serde_json::from_str(&text).expect("JSON text");
    assert_eq!(parsed["rule"], r#"a "quoted" } name"#);
}

#[test]
fn the_kept_json_text_is_not_percent_decoded() {
    // `preaction` is decoded leniently when a template puts `epreaction` under its name; an
    // object was never encoded, and a URL inside it keeps its `%20`.
    let json = r#"{"sourcetype":"zscalernss-audit","event":{"preaction":{"url":"a.com/x%20y"},"postaction":"a%20b"}}"#;
    assert_eq!(
        kept(json, Field::PreAction).as_deref(),
        Some(r#"{"url":"a.com/x%20y"}"#)
    );
    assert_eq!(kept(json, Field::PostAction).as_deref(), Some("a b"));
}

#[test]
fn a_bare_quoted_before_with_brackets_and_quotes_in_its_strings_is_read() {
    // NSS leaves the quotes of `%s{preaction}` bare; the JSON inside is read as JSON to find
    // its end, so a bracket or an escaped quote in one of its strings does not end it.
    let json = r#"{"sourcetype":"zscalernss-audit","event":{"action":"UPDATE","preaction":"{"url":"[::1]:80/}"%2c"n":"a \"b\""}","postaction":"{"ip":"[::1"}","adminid":"x@a.com"}}"#;
    assert_eq!(
        kept(json, Field::PreAction).as_deref(),
        Some(r#"{"url":"[::1]:80/}","n":"a \"b\""}"#)
    );
    assert_eq!(
        kept(json, Field::PostAction).as_deref(),
        Some(r#"{"ip":"[::1"}"#)
    );
}

#[test]
fn an_array_and_a_flat_frames_object_are_kept_too() {
    let json = r#"{"preaction":["a", "b"],"postaction":{"k":1},"auditlogtype":"ZIA"}"#;
    assert_eq!(
        kept(json, Field::PreAction).as_deref(),
        Some(r#"["a", "b"]"#)
    );
    assert_eq!(kept(json, Field::PostAction).as_deref(), Some(r#"{"k":1}"#));
}

#[test]
fn the_first_value_of_two_names_still_wins() {
    // An object under `preaction`, then the encoded `epreaction`: the first one that is there.
    let json =
        r#"{"sourcetype":"zscalernss-audit","event":{"preaction":{"a":1},"epreaction":"b"}}"#;
    assert_eq!(kept(json, Field::PreAction).as_deref(), Some(r#"{"a":1}"#));
    let json =
        r#"{"sourcetype":"zscalernss-audit","event":{"epreaction":"b","preaction":{"a":1}}}"#;
    assert_eq!(kept(json, Field::PreAction).as_deref(), Some("b"));
}

#[test]
fn an_object_under_a_key_that_wants_no_json_text_is_still_walked_as_before() {
    // Elastic's SaaS Security template nests `file.*`: those keys are looked up as paths.
    let json = r#"{"sourcetype":"zscalernss-casb","event":{"file":{"full_url":"https://a.com/f"},"app":"Box"}}"#;
    assert_eq!(kept(json, Field::Url).as_deref(), Some("https://a.com/f"));
}

#[test]
fn a_hec_envelopes_own_keys_are_not_the_records() {
    // Splunk's HEC envelope: `time`, `host`, `source` and `index` beside `event` describe the
    // sender. Before the event and after it; plain (the fast path) and with an escape (simd-json).
    for escape in ["", r#","ua":"a \"b\"""#] {
        for json in [
            format!(
                r#"{{"time":1700000000,"host":"nss1","source":"zscaler","sourcetype":"zscalernss-web","index":"main","event":{{"datetime":"2023-08-28 15:43:14","cip":"10.0.0.9","host":"www.real.com"{escape}}}}}"#
            ),
            format!(
                r#"{{"sourcetype":"zscalernss-web","event":{{"cip":"10.0.0.9"{escape}}},"time":1700000000,"host":"nss1","login":"sender"}}"#
            ),
        ] {
            read(&json, |f, kind, plain| {
                assert_eq!(kind, Ok(Kind::ZiaWeb), "{json}");
                assert_eq!(plain, escape.is_empty(), "{json}");
                assert_eq!(text(f, Field::ClientIp).as_deref(), Some("10.0.0.9"));
                assert!(!f.has(Field::Time) && !f.has(Field::Login), "{json}");
                let host = text(f, Field::Host);
                assert!(
                    host.is_none() || host.as_deref() == Some("www.real.com"),
                    "{json}"
                );
                if json.contains("datetime") {
                    assert_eq!(host.as_deref(), Some("www.real.com"));
                    assert!(f.has(Field::DateTime));
                }
            });
        }
    }
}

#[test]
fn a_hec_envelopes_own_keys_stay_out_of_a_record_its_product_names() {
    // A Sentinel-style event (its `product` names the type, so ArcSight's names are read again
    // from the tape) in a HEC envelope: still only the event's pairs.
    let json = r#"{"time":1700000000,"host":"nss1","sourcetype":"zscalernss","event":{"product":"NSSWeblog","dhost":"www.real.com","src":"10.0.0.9"},"suser":"sender"}"#;
    read(json, |f, kind, _| {
        assert_eq!(kind, Ok(Kind::ZiaWeb));
        assert_eq!(text(f, Field::Host).as_deref(), Some("www.real.com"));
        assert_eq!(text(f, Field::ClientIp).as_deref(), Some("10.0.0.9"));
        assert!(!f.has(Field::Time) && !f.has(Field::Login), "{f:?}");
    });
    // Of two event objects, the first is the record, as the first reading takes it; the second
    // is set aside (a client's text closing the envelope writes it).
    let json = r#"{"event":{"product":"NSSWeblog","src":"10.0.0.1"},"event":{"product":"NSSWeblog","src":"10.0.0.2"}}"#;
    read(json, |f, _, _| {
        assert_eq!(text(f, Field::ClientIp).as_deref(), Some("10.0.0.1"));
        assert!(f.contested() && !f.repeated());
    });
    // An object after the envelope is its rest, cut off by a client's text that closed it (a
    // relay's, HEC's `fields`, holds no record keys): read again by the product's names too.
    let json = r#"{"event":{"product":"NSSWeblog","src":"10.0.0.1","suser":"ceo"},"junk":{"a":"","suser":"bob","dhost":"www.real.com"},"fields":{"dc":"eu"}}"#;
    read(json, |f, _, _| {
        assert_eq!(text(f, Field::ClientIp).as_deref(), Some("10.0.0.1"));
        assert_eq!(text(f, Field::Host).as_deref(), Some("www.real.com"));
        assert!(!f.has(Field::Login) && f.contested(), "{f:?}");
    });
    // Contested too when it repeats no key: the envelope was closed by a client's text.
    let json = r#"{"event":{"cip":"10.0.0.1","ua":"x"},"junk":{"a":"","reqmethod":"GET"}}"#;
    read(json, |f, _, _| {
        assert_eq!(text(f, Field::Method).as_deref(), Some("GET"));
        assert!(f.contested(), "{f:?}");
    });
    // A first one that is empty, or holds only what a relay's keys fill, is the envelope all
    // the same; plain (the fast path) and with an escape (simd-json).
    for first in ["{}", r#"{"time":"1700000000"}"#, r#"{"ua":"a \"b\""}"#] {
        let json = format!(r#"{{"event":{first},"event":{{"cip":"10.0.0.2"}}}}"#);
        read(&json, |f, _, _| {
            assert!(!f.has(Field::ClientIp) && f.contested(), "{json}");
        });
    }
}

#[test]
fn a_relays_own_sourcetype_leaves_the_type_to_the_keys() {
    // A Splunk forwarder relays NSS and LSS records under a sourcetype of its own (`_json`,
    // Splunk's `zscalerlss-zpa-app`): the keys say what they are. Zscaler's own sourcetypes
    // still decide, an unmapped one (`zscalernss-email`) included.
    let lss = r#""LogTimestamp":"Thu Jan 18 10:31:01 2024","ConnectionID":"s,c","Username":"u@corp","ClientPrivateIP":"10.1.2.3","Connector":"dc1","ConnectorIP":"10.0.0.5","ServerIP":"10.20.0.9","ServerPort":22"#;
    let web = r#""datetime":"2023-08-28 15:43:14","cip":"10.0.0.9","host":"www.real.com","reqmethod":"GET","respcode":"200""#;
    for escape in ["", r#","ua":"a \"b\"""#] {
        for (sourcetype, event, want) in [
            ("_json", web, Ok(Kind::ZiaWeb)),
            ("zscalerlss-zpa-app", lss, Ok(Kind::ZpaUserActivity)),
            ("_json", lss, Ok(Kind::ZpaUserActivity)),
            ("zscalernss-email", web, Err(Reason::UnknownType)),
            ("_json", r#""a":"b""#, Err(Reason::UnknownType)),
        ] {
            let json = format!(
                r#"{{"time":1700000000,"host":"splunk-fwd","sourcetype":"{sourcetype}","event":{{{event}{escape}}}}}"#
            );
            read(&json, |f, kind, _| {
                assert_eq!(kind, want, "{json}");
                assert_ne!(
                    text(f, Field::Host).as_deref(),
                    Some("splunk-fwd"),
                    "{json}"
                );
            });
        }
    }
}

#[test]
fn a_user_agent_written_as_it_is_is_read_as_its_text() {
    // Elastic's template writes `"ua":"%s{ua}"`, which NSS does not escape: quotes and
    // backslashes of agents that are no browser (elastic/integrations#5296) made the line a
    // `malformed_json` dead letter.
    for ua in [
        r#"SophosUpdate/6.13.1014 SDDS/3.0 (t="b418847e" d="36838224" os="WIN_10_X64")"#,
        r#"Name:C:\Program Files (x86)\ZohoMeeting\UnAttended\ZohoURSService.exe,Version:1.0"#,
    ] {
        let json = format!(
            r#"{{ "sourcetype" : "zscalernss-web", "event" :{{"time":"Fri Dec 17 07:04:57 2021","cip":"81.2.69.193","reqmethod":"GET","respcode":"200","ua":"{ua}","devicehostname":"pc-1"}}}}"#
        );
        read(&json, |f, kind, plain| {
            assert_eq!(kind, Ok(Kind::ZiaWeb), "{json}");
            assert!(!plain);
            assert_eq!(text(f, Field::UserAgent).as_deref(), Some(ua));
            assert_eq!(text(f, Field::ClientIp).as_deref(), Some("81.2.69.193"));
            assert_eq!(text(f, Field::DeviceHostname).as_deref(), Some("pc-1"));
        });
    }
}
