//! A JSON frame whose Zscaler `product` names its log type is read by that type's CEF rules;
//! one without is read as before.

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
