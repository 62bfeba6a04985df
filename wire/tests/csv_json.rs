//! Positional lines whose JSON values (an audit's before and after) hold the delimiter (DESIGN
//! §3.2: each format maps onto the same records as JSON does, and no record is lost silently).
//! LSS's CSV audit template writes `%s{auditOldValue},%s{auditNewValue}` as they are, and NSS
//! without a Feed Escape Character quotes the pre- and post-action with their quotes bare: an
//! object of several keys splits the line into more fields than its order has. The JSON columns
//! are read again by their brackets; the record is the one tab-separated output gives.

mod common;

use common::{dead_reason, one};
use serde_json::Value;
use wire::event::Reason;

const ZONE: &str = "UTC";

/// A ZPA Audit line in LSS's default CSV template (`Audit zpa-lss: ` first), with `old` and
/// `new` as its values, and `name` as its object's name.
fn zpa(old: &str, new: &str, name: &str) -> Vec<String> {
    [
        "Audit zpa-lss: ",
        "2024-12-04T10:30:00.000Z",
        "2024-12-04T10:30:00.000Z",
        "216196257331281920",
        "req-9",
        "sess-9",
        old,
        new,
        "Update",
        "Application Segment",
        name,
        "216196257331281921",
        "216196257331281000",
        "adm@acme.com",
        "false",
    ]
    .map(str::to_string)
    .to_vec()
}

/// A ZIA Admin Audit line in the NSS default order, `pre` and `post` its actions.
fn zia(pre: &str, post: &str) -> Vec<String> {
    [
        "Wed Dec  4 10:22:00 2024",
        "7537",
        "UPDATE",
        "USER_MANAGEMENT",
        "USERS",
        "jdoe",
        "UI",
        "admin@acme.com",
        "10.36.112.101",
        "SUCCESS",
        "None",
        "ZIA",
        pre,
        post,
    ]
    .map(str::to_string)
    .to_vec()
}

/// `fields` as LSS's CSV writes them: as they are, commas between.
fn bare(fields: &[String]) -> String {
    fields.join(",")
}

/// `fields` as NSS writes them without a Feed Escape Character: each quoted, quotes bare.
fn quoted(fields: &[String]) -> String {
    format!("\"{}\"", fields.join("\",\""))
}

/// `fields` as tab-separated output: the same record, with no comma to split a value.
fn tabs(fields: &[String]) -> String {
    fields.join("\t")
}

#[test]
fn a_zpa_audit_value_with_commas_in_the_default_csv() {
    // The tester's line: the new value's two keys and the comma inside its name.
    let fields = zpa("", r#"{"id":"1","name":"a,b"}"#, "seg1");
    let line = bare(&fields);
    assert_eq!(
        line,
        concat!(
            r#"Audit zpa-lss: ,2024-12-04T10:30:00.000Z,2024-12-04T10:30:00.000Z,"#,
            r#"216196257331281920,req-9,sess-9,,{"id":"1","name":"a,b"},Update,"#,
            r#"Application Segment,seg1,216196257331281921,216196257331281000,adm@acme.com,false"#,
        )
    );
    let r = one(ZONE, &line);
    assert_eq!(r, one(ZONE, &tabs(&fields)));
    assert_eq!(r["kind"], "zpa.audit");
    assert_eq!(r["new_value"], r#"{"id":"1","name":"a,b"}"#);
    assert_eq!(r["operation"], "Update");
    assert_eq!(r["user"], "adm@acme.com");
    // Both values objects, the old one an array of them.
    let fields = zpa(
        r#"[{"id":"1","tags":["x","y"]},{"id":"2"}]"#,
        r#"{"id":"1","tags":["x"]}"#,
        "seg1",
    );
    let r = one(ZONE, &bare(&fields));
    assert_eq!(r, one(ZONE, &tabs(&fields)));
    assert_eq!(
        r["old_value"],
        r#"[{"id":"1","tags":["x","y"]},{"id":"2"}]"#
    );
}

#[test]
fn a_zia_audit_action_with_two_keys_in_the_default_csv() {
    // The tester's line: `","` inside both actions.
    let fields = zia(
        r#"{"name":"x","groups":["a","b"]}"#,
        r#"{"name":"y","groups":["a"]}"#,
    );
    let line = quoted(&fields);
    assert_eq!(
        line,
        concat!(
            r#""Wed Dec  4 10:22:00 2024","7537","UPDATE","USER_MANAGEMENT","USERS","jdoe","UI","#,
            r#""admin@acme.com","10.36.112.101","SUCCESS","None","ZIA","#,
            r#""{"name":"x","groups":["a","b"]}","{"name":"y","groups":["a"]}""#,
        )
    );
    let r = one(ZONE, &line);
    assert_eq!(r, one(ZONE, &tabs(&fields)));
    assert_eq!(r["kind"], "zia.audit");
    assert_eq!(r["pre_action"], r#"{"name":"x","groups":["a","b"]}"#);
    assert_eq!(r["post_action"], r#"{"name":"y","groups":["a"]}"#);
}

#[test]
fn nested_arrays_and_objects() {
    let deep = r#"{"a":[[1,2],[3,{"b":[4,"5,6"]}]],"c":{"d":{"e":[]}},"f":"g"}"#;
    for (fields, line) in [
        (zpa(deep, deep, "seg1"), None),
        (zia(deep, r#"[{"x":1},{"y":[2,3]}]"#), Some(())),
    ] {
        let line = match line {
            None => bare(&fields),
            Some(()) => quoted(&fields),
        };
        let r = one(ZONE, &line);
        assert_eq!(r, one(ZONE, &tabs(&fields)), "{line}");
    }
}

#[test]
fn brackets_and_quotes_inside_json_strings() {
    // A `}` or `]` in a string closes nothing; an escaped quote does not end the string.
    let value = r#"{"name":"a}],b","note":"say \"x\",}","k":"]"}"#;
    let fields = zpa("", value, "seg1");
    let r = one(ZONE, &bare(&fields));
    assert_eq!(r, one(ZONE, &tabs(&fields)));
    let fields = zia(value, r#"{"s":"{","t":"["}"#);
    let r = one(ZONE, &quoted(&fields));
    assert_eq!(r, one(ZONE, &tabs(&fields)));
    assert_eq!(r["pre_action"].as_str(), Some(value));
}

/// An object of `keys` string values: `keys - 1` times `","` in it.
fn object(keys: usize) -> String {
    let pairs: Vec<String> = (0..keys).map(|i| format!(r#""k{i}":"v{i}""#)).collect();
    format!("{{{}}}", pairs.join(","))
}

#[test]
fn an_audit_split_to_another_orders_count_is_still_an_audit() {
    // Split at each `","`, the line has web's 34 fields, firewall's 36 or DNS's 19: a field of
    // it has a quote inside, and read by the brackets it is the audit it is.
    for (pre, post) in [(11, 11), (11, 13), (3, 4)] {
        let fields = zia(&object(pre), &object(post));
        let line = quoted(&fields);
        let r = one(ZONE, &line);
        assert_eq!(r["kind"], "zia.audit", "{line}");
        assert_eq!(r, one(ZONE, &tabs(&fields)));
    }
}

#[test]
fn a_line_that_cannot_be_rebuilt_stays_a_dead_letter() {
    // A value that never closes its object.
    let fields = zpa("", r#"{"id":"1","name":"a"#, "seg1");
    assert_eq!(
        dead_reason(ZONE, bare(&fields).as_bytes()),
        Reason::FieldCount
    );
    // A comma in a column that holds no JSON: nothing says where that value ends.
    let fields = zpa("", r#"{"id":"1","name":"a,b"}"#, "seg,1");
    assert_eq!(
        dead_reason(ZONE, bare(&fields).as_bytes()),
        Reason::FieldCount
    );
    // An object with more after it in its field.
    let fields = zia(r#"{"a":"x","b":1} and more"#, "{}");
    assert_eq!(
        dead_reason(ZONE, quoted(&fields).as_bytes()),
        Reason::FieldCount
    );
    // A JSON value in a column that holds none (ZIA's admin id), the actions plain.
    let mut fields = zia("None", "None");
    fields[7] = r#"{"a":"x","b":1}"#.into();
    assert_eq!(
        dead_reason(ZONE, quoted(&fields).as_bytes()),
        Reason::FieldCount
    );
    // A value that ends with a quote before the actions: read by CSV's rule as a doubled quote,
    // it joined two fields, and the pre-action's comma split one, so the count fit with every
    // column after shifted (a tester's line became an audit record with an IP for its user and
    // half an object for its pre-action; a JSON column must be read as a document). NSS doubles
    // no quote: `""` before a comma is the value's last quote, and the line reads as written.
    let mut fields = zia(r#"{"name":"x","n":1}"#, r#"{"name":"y","list":["a","b"]}"#);
    fields[5] = r#"Rule "A""#.into();
    let r = one(ZONE, &quoted(&fields));
    assert_eq!(r["resource"], r#"Rule "A""#);
    assert_eq!(r["user"], "admin@acme.com");
    assert_eq!(r["pre_action"], r#"{"name":"x","n":1}"#);
    // An old value whose object never closes, a new value that does.
    let fields = zpa(r#"{"a":"1""#, r#"{"a":"2","c":3}"#, "seg1");
    assert_eq!(
        dead_reason(ZONE, bare(&fields).as_bytes()),
        Reason::FieldCount
    );
}

#[test]
fn an_empty_string_in_a_json_action_stays_one() {
    // NSS writes the actions as they are: `""` is an empty string, not a doubled quote.
    for (pre, post) in [
        (r#"{"id":6,"name":""}"#, r#"{"id":6,"name":"y"}"#),
        (r#"{"list":[""],"a":"b""c"}"#, r#"{"d":""}"#),
    ] {
        let r = one(ZONE, &quoted(&zia(pre, post)));
        assert_eq!(r["pre_action"], pre);
        assert_eq!(r["post_action"], post);
    }
}

#[test]
fn a_value_with_quotes_beside_a_json_value_split_by_its_commas() {
    // A name or a user holding quotes (`""`, `Rule "A"`) in the same ZPA Audit line as a new
    // value whose `","` split it: CSV's rule read them into fewer fields than the order has,
    // and only lines of more fields were read again by the JSON's brackets (tester U4).
    // (One that starts with a quote, `"Quoted" Object`, is still a dead letter there: no
    // reading both reads the JSON by its brackets and takes such a value as written.)
    for name in [r#""""#, r#"Rule "A""#] {
        let mut fields = zpa("", r#"{"id":"7","name":"N"}"#, name);
        fields[13] = name.into();
        let r: Value = one(ZONE, &bare(&fields));
        assert_eq!(r["new_value"], r#"{"id":"7","name":"N"}"#, "{name}");
        let want = if name == r#""""# {
            Value::Null
        } else {
            name.into()
        };
        assert_eq!(r["object_name"], want, "{name}");
    }
}

#[test]
fn a_quoted_value_as_far_on_as_a_document_has_pairs_does_not_bring_it_back() {
    // `"x"` three fields after a new value of four keys: CSV's quoting pairs its quotes with
    // the document's, and the line split at the document's three `","` is the order's count
    // again, every field between shifted (tester U5). Its document not whole, it is read again
    // by the brackets.
    let new = r#"{"k0":"v0","k1":"v1","k2":"v2","k3":"v3"}"#;
    let mut fields = zpa("", new, r#""x""#);
    fields[1] = String::new();
    let r: Value = one(ZONE, &bare(&fields));
    assert_eq!(r["new_value"], new);
    assert_eq!(r["operation"], "Update");
    assert_eq!(r["object_type"], "Application Segment");
    assert_eq!(r["object_name"], "x");
}

#[test]
fn a_line_that_fits_reads_as_before() {
    // One key: the quoted field closes where it should, and no column is read again.
    let fields = zia(r#"{"status":"pending"}"#, r#"{"status":"active"}"#);
    let r = one(ZONE, &quoted(&fields));
    assert_eq!(r["post_action"], r#"{"status":"active"}"#);
    let fields = zpa("", "", "seg1");
    let r: Value = one(ZONE, &bare(&fields));
    assert_eq!(r["kind"], "zpa.audit");
}
