//! JSON values of another type than a record field keeps (DESIGN §3): a number where text goes,
//! an array or object where one value goes, a whole number written with a fraction; each kept
//! as what it says, not left out without a trace.

mod common;

use common::one;
use serde_json::json;

/// The feed's zone, for the records whose times carry none.
const ZONE: &str = "UTC";

/// Regression: a text field that a template wrote unquoted (`%d{login}`) was left out of the
/// record, and a record whose hostname was a number named no device.
#[test]
fn a_number_in_a_text_field_is_kept_as_its_text() {
    let r = one(
        ZONE,
        r#"{"time":"Fri Dec 17 07:04:57 2021","cip":"10.0.0.1","login":777,"devicehostname":4242,"urlcat":-3,"appname":2.5,"reqmethod":"GET","respcode":"200"}"#,
    );
    let id = format!("{:016x}", xxhash_rust::xxh3::xxh3_64(b"4242"));
    assert_eq!(r["device_id"], id.as_str(), "{r}");
    assert_eq!(r["device"], "4242");
    assert_eq!(r["user"], "777");
    assert_eq!(r["category"], "-3");
    assert_eq!(r["app"], "2.5");
    // A number where the time goes is epoch seconds, as the same digits in a string are.
    let r = one(
        ZONE,
        r#"{"time":1583117516,"cip":"10.0.0.1","reqmethod":"GET","respcode":"200"}"#,
    );
    assert_eq!(r["ts"], "2020-03-02T02:51:56Z", "{r}");
}

/// An array where a template writes one value (`"login":["a","b"]`) was left out without a
/// trace: its JSON text is the field's value, as the JSON values of an audit's actions are; a
/// field that wants a number or an address cannot read it and leaves it out, as any such text.
/// An empty one is no value. So an object whose keys fill nothing of the field, and so in
/// Sentinel's ArcSight-named JSON, read by its own rules.
#[test]
fn an_array_in_a_text_field_is_kept_as_its_json_text() {
    let r = one(
        ZONE,
        r#"{"time":"Fri Dec 17 07:04:57 2021","cip":"10.0.0.1","login":["a@x", "b@x"],"urlcat":[],"clt_sport":[1],"reqmethod":"GET","respcode":"200"}"#,
    );
    assert_eq!(r["user"], r#"["a@x", "b@x"]"#, "{r}");
    assert!(
        r.get("category").is_none(),
        "an empty array says no value: {r}"
    );
    assert!(r.get("src_port").is_none());
    let r = one(
        ZONE,
        r#"{"sourcetype":"zscalernss-web","event":{"time":"Fri Dec 17 07:04:57 2021","cip":"10.0.0.1","login":"a@x","application":{"name":["Slack"]},"reqmethod":"GET","respcode":"200"}}"#,
    );
    assert_eq!(r["app"], r#"["Slack"]"#, "a nested key too: {r}");
    // An object whose own keys fill nothing of its field: its JSON text too; an empty one is
    // no value.
    let r = one(
        ZONE,
        r#"{"time":"Fri Dec 17 07:04:57 2021","cip":"10.0.0.1","login":{"first": "a@x"},"urlcat":{},"reqmethod":"GET","respcode":"200"}"#,
    );
    assert_eq!(r["user"], r#"{"first": "a@x"}"#, "{r}");
    assert!(r.get("category").is_none(), "{r}");
    // One deeper too; but an object a key of which names the field is the template's nesting
    // of it, whatever that key says (Elastic's `rule` of `rule.label`, null here).
    let r = one(
        ZONE,
        r#"{"time":"Fri Dec 17 07:04:57 2021","cip":"10.0.0.1","login":"a@x","application":{"name":{"id":7}},"reqmethod":"GET","respcode":"200"}"#,
    );
    assert_eq!(r["app"], r#"{"id":7}"#, "{r}");
    let firewall = |rule: &str| {
        one(
            ZONE,
            &format!(
                r#"{{"sourcetype":"zscalernss-fw","event":{{"datetime":"Fri Dec 17 07:04:57 2021","csip":"10.0.0.1","cdip":"10.0.0.2","action":"Allow","rule":{rule}}}}}"#
            ),
        )
    };
    assert_eq!(firewall(r#"{"label":"R1"}"#)["rule"], "R1");
    let r = firewall(r#"{"label":null,"type":"None"}"#);
    assert!(r.get("rule").is_none(), "{r}");
    // A relay's object before the envelope is the relay's, forgotten as its scalars are: the
    // record is the envelope's.
    let r = one(
        ZONE,
        r#"{"user":{"id":"relay"},"sourcetype":"zscalernss-web","event":{"time":"Fri Dec 17 07:04:57 2021","cip":"10.0.0.1","login":"a@x","reqmethod":"GET","respcode":"200"}}"#,
    );
    assert_eq!(r["user"], "a@x", "{r}");
    let r = one(
        ZONE,
        r#"{"TimeGenerated":"2024-06-11,02:52:44","sourcetype":"zscalernss","vendor":"Zscaler","product":"NSSWeblog","act":"Allowed","src":"10.0.0.1","dhost":"a.example","requestMethod":"GET","outcome":"200","suser":["a@x"],"cs1":[],"cs1Label":"dept","spriv":{"loc":"HQ"}}"#,
    );
    assert_eq!(r["user"], r#"["a@x"]"#, "{r}");
    assert_eq!(r["location"], r#"{"loc":"HQ"}"#, "{r}");
    assert!(r.get("department").is_none(), "{r}");
}

/// A count written as a string with a fraction of zeros (`"52352.0"`, a relay that quotes the
/// numbers it reads) is the integer the JSON number `52352.0` is; it was left out.
#[test]
fn a_whole_number_with_a_fraction_of_zeros_in_a_string_is_that_integer() {
    let r = one(
        ZONE,
        r#"{"time":"Fri Dec 17 07:04:57 2021","cip":"10.0.0.1","respsize":"52352.0","reqsize":52352.0,"srv_dport":"443.5","reqmethod":"GET","respcode":"200"}"#,
    );
    assert_eq!(
        (&r["bytes_in"], &r["bytes_out"]),
        (&json!(52352), &json!(52352)),
        "{r}"
    );
    assert!(
        r.get("dst_port").is_none(),
        "another fraction reads as no port: {r}"
    );
}
