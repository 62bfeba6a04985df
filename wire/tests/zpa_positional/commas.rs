//! ZPA CSV lines whose unquoted values hold commas (LSS writes `%s` values as they are): User
//! Status' lists, read around, and other text values, read where one reading alone fits.

use super::*;

#[test]
fn lists_of_several_items_in_a_csv_line_are_read_around() {
    // The User Status sample's postures and SAML attributes hold commas (LSS joins a list's
    // items so): nothing says where each list ends, but the columns before the lists are the
    // line's first fields and those after them its last. It was a dead letter.
    let t = &TEMPLATES[1];
    let (_, mut json) = sample(t);
    let line = fill(t.csv, &json, ',', Style::Template);
    assert_eq!(line.split(',').count(), 35, "{line}");
    let relayed = format!("<134>Jan 18 10:31:01 relay01 zpa-lss: {line}");
    same_as_json(t, &[line, relayed]);
    // Longer lists, a list of one item or none, and a comma after the lists (the city's).
    json["PosturesHit"] = "p1,p2,p3,p4,p5,p6,p7,p8".into();
    json["TrustedNetworks"] = "".into();
    json["SAMLAttributes"] = "group:a".into();
    // (The columns after the lists are read from the end and hold nothing a record does: a
    // comma there moves them, the record stays.)
    json["City"] = "Washington, D.C.".into();
    json["ZENCountryCode"] = "US".into();
    let record = |json: &Value| {
        let line = fill(t.csv, json, ',', Style::Template);
        let got = decoded(&line).records;
        assert_eq!(got.len(), 1, "{line}");
        got[0].clone()
    };
    let want = decoded(&serde_json::to_string(&json).expect("JSON")).records;
    assert_eq!(vec![record(&json)], want);
    // As many as a line of any length may hold (a user's SAML groups): past the widest order.
    let many: Vec<String> = (0..200).map(|i| format!("memberOf:group-{i}")).collect();
    json["SAMLAttributes"] = many.join(",").into();
    let want = decoded(&serde_json::to_string(&json).expect("JSON")).records;
    assert_eq!(vec![record(&json)], want);
    // SAML attributes as LSS also writes them, JSON (IBM's QRadar sample, in the corpus as
    // LEEF): quotes, which CSV's rule reads otherwise, inside the lists only.
    json["SAMLAttributes"] =
        r#"{"FirstName":["testuser2"],"LastName":["testuser2"],"Email":["testuser2@domain.test"]}"#
            .into();
    let want = decoded(&serde_json::to_string(&json).expect("JSON")).records;
    assert_eq!(vec![record(&json)], want);
    // A quote before the lists (a template edited to quote a value, whose commas a quote may
    // hold) keeps the line out: its columns are found by commas.
    json["Idp"] = r#""Okta""#.into();
    let line = fill(t.csv, &json, ',', Style::Template);
    assert_eq!(dead(&line), Reason::FieldCount, "{line}");
}

#[test]
fn a_comma_before_the_lists_keeps_the_line_out() {
    // A comma in a value before the lists moves every column after it, the hostname among
    // them: the line must fit its order, and ClientType (just before the lists) must still
    // hold a client type. Each of these would otherwise name another device or user.
    let t = &TEMPLATES[1];
    let (_, json) = sample(t);
    let mut cases = Vec::new();
    for (key, value) in [
        ("Idp", "Okta, production"),
        ("Customer", "Acme, Inc."),
        ("Username", "doe, john"),
        ("Version", "19.12.0,36"),
    ] {
        let mut j = json.clone();
        j[key] = value.into();
        cases.push(fill(t.csv, &j, ',', Style::Template));
    }
    // A value written to look like the columns after it, up to a client type of its own: the
    // line holds two fields that start as a client type does, and two as a status does.
    let mut j = json.clone();
    j["Username"] = concat!(
        "eve,S,ZPN_STATUS_AUTHENTICATED,1,z,c,10.9.9.9,6.6.6.6,1.0,2.0,US,",
        "2019-01-01T00:00:00.000Z,,1,1,idp,forged-host,windows,zpn_client_type_zapp"
    )
    .into();
    cases.push(fill(t.csv, &j, ',', Style::Template));
    // The same where the line has no client type of its own: its status is the second.
    j["ClientType"] = "".into();
    cases.push(fill(t.csv, &j, ',', Style::Template));
    // No client type: nothing tells that the columns before the lists are in place.
    let mut j = json.clone();
    j["ClientType"] = "".into();
    cases.push(fill(t.csv, &j, ',', Style::Template));
    // Another log type's label. (`Connector Status` cut by a header reader to `Status` is
    // User Status' label cut so too: its own lines have no client type where User Status
    // has one.)
    let line = fill(t.csv, &json, ',', Style::Template);
    cases.push(line.replacen("User Status zpa-lss:", "Browser Access zpa-lss:", 1));
    for line in &cases {
        assert_eq!(dead(line), Reason::FieldCount, "{line}");
    }
    // Without its label (a bare time) the line is no ZPA line that ztel can name.
    let bare = line.replacen(" User Status zpa-lss: ", "", 1);
    assert!(run("UTC", &[bare.as_bytes()]).records.is_empty(), "{bare}");
}

#[test]
fn a_comma_elsewhere_never_stands_in_for_connection_ids() {
    // A customer `Acme, Inc.` and an empty ConnectionID: the line has the count of the order
    // that reads ConnectionID as two fields, and was read so, every field from the customer's
    // on shifted (`"session_id":"Inc."`; found by a tester). ConnectionID repeats SessionID
    // before its comma: where it does not, the count is a coincidence. The line is read as
    // written: of the order that reads ConnectionID as one field, empty (a value holds a comma
    // in every other line), only the reading that gives the comma to the customer fits.
    let t = &TEMPLATES[0];
    let (_, mut json) = sample(t);
    let good = fill(t.csv, &json, ',', Style::Template);
    assert_eq!(decoded(&good).records.len(), 1, "{good}");
    json["Customer"] = "Acme, Inc.".into();
    json["ConnectionID"] = "".into();
    same_as(&json, &fill(t.csv, &json, ',', Style::Template));
    // Both ids empty repeat nothing either, whatever value after them holds the comma (a
    // differential run found one read shifted): a policy's comma, where a connector's would
    // give the same fields, keeps it a dead letter.
    json["Customer"] = "Acme Inc.".into();
    json["SessionID"] = "".into();
    json["Policy"] = "Allow, Infra".into();
    let both_empty = fill(t.csv, &json, ',', Style::Template);
    assert_eq!(dead(&both_empty), Reason::FieldCount);
}

#[test]
fn a_comma_in_a_text_value_is_read_where_one_reading_alone_fits() {
    // A customer `Acme, Inc.` (the tenant of Splunk's ZPA samples) is in every line of its
    // tenant: each was a `field_count` dead letter. One way of giving the extra field to a text
    // value fits the columns around (User Activity's ConnectionID repeats the SessionID after
    // the customer; a username sits between two numbers; Connector Status' session type and
    // status start with ZPA's codes), so the line is read so.
    let activity = &TEMPLATES[0];
    let (_, json) = sample(activity);
    let mut cases = Vec::new();
    for changes in [
        &[("Customer", "Acme, Inc.")][..],
        &[("Username", "Doe, John")],
        &[("Customer", "A, B, C, D"), ("Username", "Doe, John")],
        // As many extra fields as a line is read with: 8 more than the order that reads
        // ConnectionID as one field has.
        &[("Customer", "a,b,c,d,e,f,g,h")],
        &[("Customer", "Acme, Inc."), ("Policy", "Allow HR")],
    ] {
        let mut j = json.clone();
        for (key, value) in changes {
            j[*key] = (*value).into();
        }
        cases.push((activity, j));
    }
    let connector = &TEMPLATES[3];
    let (_, mut j) = sample(connector);
    j["Customer"] = "Safe, March".into();
    cases.push((connector, j));
    for (t, json) in cases {
        let line = fill(t.csv, &json, ',', Style::Template);
        let relayed = format!("<134>Jan 18 10:31:01 relay01 zpa-lss: {line}");
        for line in [line, relayed] {
            same_as(&json, &line);
        }
    }
}

#[test]
fn where_two_readings_fit_the_line_stays_a_dead_letter() {
    // Two text columns side by side (the customer and username of User Status; policy and
    // connector; the IdP and the city near User Activity's end): a comma in either gives the
    // same fields, and nothing tells which held it.
    let mut cases = Vec::new();
    let status = &TEMPLATES[1];
    let (_, mut json) = sample(status);
    json["PosturesHit"] = "".into();
    json["SAMLAttributes"] = "".into();
    json["Customer"] = "Acme, Inc.".into();
    cases.push(fill(status.csv, &json, ',', Style::Template));
    let activity = &TEMPLATES[0];
    let (_, json) = sample(activity);
    for changes in [
        &[("Policy", "Allow HR, Finance")][..],
        &[("ClientCity", "Washington, D.C.")],
        // More extra fields than a line is read with (in one order of User Activity's two).
        &[("Customer", "a,b,c,d,e,f,g,h,i")],
        // A ConnectionID of one part (LSS writes two), and a customer's comma: neither form
        // of the order fits the line as written, so no reading is taken for it.
        &[
            ("ConnectionID", "Q+EjXGdrvbF2lPiBbedm"),
            ("Customer", "Acme, Inc."),
        ],
        // A username written to look like the columns after it (its own port, then the
        // addresses): the line as written fits, and so does the forged reading.
        &[("Username", "eve,8443")],
    ] {
        let mut j = json.clone();
        for (key, value) in changes {
            j[*key] = (*value).into();
        }
        cases.push(fill(activity.csv, &j, ',', Style::Template));
    }
    for line in &cases {
        assert_eq!(dead(line), Reason::FieldCount, "{line}");
    }
}
