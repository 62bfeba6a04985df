//! Positional frames (DESIGN §3.2): the NSS default output of every ZIA log type, quoting with
//! and without a Feed Escape Character, tab-separated output, configured field orders, and the
//! synthetic CSV feed against the same records as JSON.

mod common;

use common::{csv_edited, csv_example, dead_reason, one, run, RECEIVED};
use serde_json::Value;
use wire::event::Reason;
use wire::synth::{Cardinality, Dialect, WebGenerator};

const ZONE: &str = "UTC";

/// A log type as the corpus names it, its record kind, fields its example's record has.
type Case<'a> = (&'a str, &'a str, &'a [(&'a str, Value)]);

#[test]
fn each_zia_log_type_from_its_default_order() {
    let cases: &[Case] = &[
        (
            "web",
            "zia.web",
            &[
                ("user", "new-gre".into()),
                ("url", "ebay.com/".into()),
                ("http_status", 403.into()),
                ("bytes_in", 14061.into()),
                ("user_agent", "curl/7.68.0".into()),
            ],
        ),
        (
            "firewall",
            "zia.firewall",
            &[
                ("src_port", 36084.into()),
                ("dst_ip", "216.113.179.53".into()),
                ("transport", "tcp".into()),
                ("bytes_in", 14693.into()),
                ("duration_ms", 21.into()),
            ],
        ),
        (
            "dns",
            "zia.dns",
            &[
                ("device", "DESKTOP-J1E9T1L".into()),
                ("query", "wpad.test.com".into()),
                ("query_type", "AAAA".into()),
                ("rule", "DNS_1".into()),
                ("dst_port", 53.into()),
            ],
        ),
        (
            "tunnel",
            "zia.tunnel",
            &[
                ("record_type", "Tunnel Samples".into()),
                ("dst_ip", "10.66.68.68".into()),
                ("packets_tx", 2.into()),
                ("bytes_rx", 753.into()),
                ("record_id", "7112472280601133057".into()),
            ],
        ),
        (
            "audit",
            "zia.audit",
            &[
                ("user", "zdx-admin@92713.zscalertwo.net".into()),
                ("record_id", "7536".into()),
                ("post_action", r#"{"status":"active"}"#.into()),
            ],
        ),
        (
            "saas-security",
            "zia.saas",
            &[
                ("record_id", "7132869149011804161".into()),
                ("tenant", "sp-new-tenant".into()),
                ("file_md5", "01565bf41f1cb993d69334f409835293".into()),
                ("scan_time_ms", 537.into()),
            ],
        ),
        (
            "saas-security-activity",
            "zia.saas_activity",
            &[
                ("tenant", "od-test".into()),
                ("app", "ONEDRIVE".into()),
                ("object_type", "2".into()),
            ],
        ),
    ];
    for (log_type, kind, want) in cases {
        let r = one(ZONE, &csv_example(log_type));
        assert_eq!(r["kind"], *kind, "{log_type}");
        for (key, value) in *want {
            assert_eq!(r[*key], *value, "{log_type}: {key}");
        }
    }
    assert_eq!(
        one(ZONE, &csv_example("saas-security-activity"))["ts"],
        RECEIVED,
        "the activity log has no time"
    );
}

#[test]
fn nineteen_and_fourteen_fields_are_told_apart_by_their_values() {
    // DNS's second field is a login, SaaS Security's a record id; tunnel's is a record type,
    // audit's a record id. A DNS login of digits still reads as DNS: its port and duration are
    // numbers where SaaS Security has a policy name and DLP words.
    let dns = csv_edited(&csv_example("dns"), |i, f| {
        if i == 1 {
            "12345".into()
        } else {
            f.into()
        }
    });
    assert_eq!(one(ZONE, &dns)["kind"], "zia.dns");
    let saas = csv_edited(&csv_example("saas-security"), |i, f| {
        if i == 4 {
            "sales@zscaler.com".into()
        } else {
            f.into()
        }
    });
    assert_eq!(one(ZONE, &saas)["kind"], "zia.saas");
    // A clean scan: threat, policy and DLP fields "None", which fit DNS's port and duration as
    // well. Its record id and its two times in milliseconds are numbers only as SaaS Security.
    let clean = csv_edited(&csv_example("saas-security"), |i, f| {
        if (10..=14).contains(&i) {
            "None".into()
        } else {
            f.into()
        }
    });
    let record = one(ZONE, &clean);
    assert_eq!(record["kind"], "zia.saas", "{record}");
    assert_eq!(record["record_id"], "7132869149011804161", "{record}");
    let tunnel = csv_edited(&csv_example("tunnel"), |i, f| {
        if i == 1 {
            "Tunnel Event".into()
        } else {
            f.into()
        }
    });
    assert_eq!(one(ZONE, &tunnel)["kind"], "zia.tunnel");
}

#[test]
fn quoted_fields_hold_commas_and_doubled_quotes() {
    let line = csv_edited(&csv_example("web"), |i, f| match i {
        25 => r#"Mozilla/5.0 (KHTML, like Gecko) ""beta"""#.into(),
        20 => "R&D, Lab".into(),
        _ => f.into(),
    });
    let r = one(ZONE, &line);
    assert_eq!(r["user_agent"], r#"Mozilla/5.0 (KHTML, like Gecko) "beta""#);
    assert_eq!(r["department"], "R&D, Lab");
    assert_eq!(
        r["user"], "new-gre",
        "the fields before are where they were"
    );
    assert_eq!(r["location"], "new-gre");
}

#[test]
fn bare_quotes_stay_in_the_value() {
    // NSS without a Feed Escape Character: a quote is closing only before a comma or the end.
    let r = one(ZONE, &csv_example("audit"));
    assert_eq!(r["pre_action"], r#"{"status":"pending"}"#);
    let line = csv_edited(&csv_example("audit"), |i, f| {
        if i == 12 {
            r#"{"a":"x" ,"b":[1,2]}"#.into()
        } else {
            f.into()
        }
    });
    assert_eq!(one(ZONE, &line)["pre_action"], r#"{"a":"x" ,"b":[1,2]}"#);
    // A quote before a comma inside a value cannot be told from the end of a field: the count
    // is wrong. In a column that holds JSON its brackets tell (tests/csv_json.rs); elsewhere
    // the frame is a dead letter, not a record with shifted fields.
    let line = csv_edited(&csv_example("audit"), |i, f| match i {
        12 => r#"{"a":"x","b":1}"#.into(),
        _ => f.into(),
    });
    assert_eq!(one(ZONE, &line)["pre_action"], r#"{"a":"x","b":1}"#);
    let line = csv_edited(&csv_example("audit"), |i, f| match i {
        5 => r#"a "x","y" b"#.into(),
        _ => f.into(),
    });
    assert_eq!(dead_reason(ZONE, line.as_bytes()), Reason::FieldCount);
}

#[test]
fn a_value_that_ends_with_a_quote_ends_there() {
    // NSS writes `"… "corp""`: CSV's rule reads the last two quotes as a doubled one, and the
    // field as going on (tester U1: the line was a dead letter). A line that rule cannot read
    // is read again as NSS writes, a quote closing the field only before a comma or the end.
    let line = csv_edited(&csv_example("web"), |i, f| match i {
        25 => r#"Mozilla/5.0 (KHTML, like Gecko) Safari/537.36 "corp""#.into(),
        _ => f.into(),
    });
    let r = one(ZONE, &line);
    assert_eq!(
        r["user_agent"],
        r#"Mozilla/5.0 (KHTML, like Gecko) Safari/537.36 "corp""#
    );
    assert_eq!(
        r["user"], "new-gre",
        "the fields before are where they were"
    );
    let line = csv_edited(&csv_example("audit"), |i, f| match i {
        5 => r#"Rule "Block All""#.into(),
        _ => f.into(),
    });
    let r = one(ZONE, &line);
    assert_eq!(r["resource"], r#"Rule "Block All""#);
    assert_eq!(r["pre_action"], r#"{"status":"pending"}"#);
    // An agent holding `","` and ending with a quote: CSV's rule read the end as a doubled
    // quote that joined two fields, the `","` split one, and the count came back to the web
    // order's with the referer in the agent (tester U3). Read as NSS writes, the agent is two
    // fields: no order's count, a dead letter.
    let line = csv_edited(&csv_example("web"), |i, f| match i {
        25 => r#"Mozilla/5.0 "x","y "corp""#.into(),
        _ => f.into(),
    });
    assert_eq!(dead_reason(ZONE, line.as_bytes()), Reason::FieldCount);
    // A doubled quote that CSV's rule can read is still one quote.
    let line = csv_edited(&csv_example("web"), |i, f| match i {
        25 => r#"Mozilla/5.0 ""beta"" x"#.into(),
        _ => f.into(),
    });
    assert_eq!(one(ZONE, &line)["user_agent"], r#"Mozilla/5.0 "beta" x"#);
}

#[test]
fn an_unquoted_value_that_starts_with_a_quote_is_as_written() {
    // Tab-separated output writes values as they are: a rule `"Quoted" Rule` starts with a
    // quote that never closes as a quoted field's would (tester U1: a dead letter).
    let comma = csv_example("dns");
    let tabs = comma[1..comma.len() - 1].replace("\",\"", "\t");
    for rule in [r#""Quoted" Rule"#, r#"Rule "A""#] {
        let line = tabs.replacen("DNS_1", rule, 1);
        let r = one(ZONE, &line);
        assert_eq!(r["rule"], rule, "{line}");
        assert_eq!(r["query"], "wpad.test.com");
    }
}

#[test]
fn tab_separated_output_reads_as_the_comma_one() {
    let comma = csv_example("dns");
    let tabs = comma[1..comma.len() - 1].replace("\",\"", "\t");
    assert_eq!(one(ZONE, &tabs), one(ZONE, &comma));
    // Quoted fields in tab-separated output may hold tabs and commas.
    let quoted = tabs.replacen("Service Admin", "\"Service\tAdmin, Inc\"", 1);
    assert_eq!(one(ZONE, &quoted)["query"], "wpad.test.com");
}

/// A brace in a positional field (an API path's `{id}`) does not make the frame JSON: a record
/// behind static text ends with its closing brace, a positional frame with its last field.
#[test]
fn a_brace_in_a_tab_separated_field_is_no_json() {
    let comma = csv_example("web");
    let tabs = comma[1..comma.len() - 1].replace("\",\"", "\t");
    let plain = one(ZONE, &tabs);
    let url = plain["url"].as_str().expect("a url").to_owned();
    let braced = format!("{url}/api/{{id}}");
    let r = one(ZONE, &tabs.replacen(&url, &braced, 1));
    assert_eq!(r["url"], braced.as_str());
    assert_eq!(r["kind"], "zia.web");
    // Audit's last fields hold JSON (pre- and post-action), so its frame ends with a brace.
    let comma = csv_example("audit");
    let tabs = comma[1..comma.len() - 1].replace("\",\"", "\t");
    assert!(tabs.ends_with('}'), "{tabs}");
    assert_eq!(one(ZONE, &tabs), one(ZONE, &comma));
}

#[test]
fn a_field_count_no_order_has_is_a_dead_letter() {
    let web = csv_example("web");
    let short = &web[..web.rfind(",\"").unwrap()];
    assert_eq!(dead_reason(ZONE, short.as_bytes()), Reason::FieldCount);
    let long = format!("{web},\"x\"");
    assert_eq!(dead_reason(ZONE, long.as_bytes()), Reason::FieldCount);
    let wide = format!("{web}{}", ",\"x\"".repeat(500));
    assert_eq!(dead_reason(ZONE, wide.as_bytes()), Reason::FieldCount);
    // A quote that never closes.
    let open = &web[..web.len() - 1];
    assert_eq!(dead_reason(ZONE, open.as_bytes()), Reason::FieldCount);
    assert_eq!(dead_reason(ZONE, b"\"a\",\"b"), Reason::FieldCount);
}

/// A value holding the delimiter can give a line another order's count: NSS writes `%s{ua}` as
/// it came, so a web row whose agent holds two `","` has the firewall's 36 fields. Its values
/// do not fit the firewall's columns (words where ports and addresses go): a dead letter, not
/// a firewall record with every field shifted.
#[test]
fn a_line_another_orders_count_by_its_values_delimiters_is_a_dead_letter() {
    let web = csv_example("web");
    let agent = csv_edited(&web, |i, f| match i {
        25 => r#"{"a":"1","b":"2","c":"3"}"#.into(),
        _ => f.into(),
    });
    assert_eq!(dead_reason(ZONE, agent.as_bytes()), Reason::FieldCount);
    // Six unquoted fields are no line of NSS's template for SaaS Security Activity, whose
    // six columns hold nothing that can be checked: an NSS alert, half of a split line.
    for line in [
        "a,b,c,d,e,f",
        "<114>Dec 31 14:03:06 [81.2.69.193] ZscalerNSS: Feed A, B, C, D, E, F lost",
        r#"Two","None","None","None","None","None""#,
    ] {
        assert_eq!(
            dead_reason(ZONE, line.as_bytes()),
            Reason::FieldCount,
            "{line}"
        );
    }
    let activity = r#""jdoe@example.com","Acme","File","OneDrive","report.docx","None""#;
    assert_eq!(one(ZONE, activity)["kind"], "zia.saas_activity");
}

/// An address column holds what reads as an address, as the standard library reads one: a
/// tunnel row's source `1.2.3.256` (or `01.2.3.4`) is a dead letter, as before the check took
/// an IPv4 address by its shape (a tester's sweep found the shape too loose).
#[test]
fn an_address_column_holds_an_address() {
    let tunnel = csv_example("tunnel");
    assert_eq!(one(ZONE, &tunnel)["kind"], "zia.tunnel");
    for ip in ["1.2.3.256", "01.2.3.4", "999.1.1.1"] {
        let line = csv_edited(&tunnel, |i, f| if i == 5 { ip.into() } else { f.into() });
        assert_eq!(
            dead_reason(ZONE, line.as_bytes()),
            Reason::FieldCount,
            "{ip}"
        );
    }
}

#[test]
fn invalid_utf8_is_a_dead_letter() {
    let mut line = csv_example("dns").into_bytes();
    line[20] = 0xff;
    assert_eq!(dead_reason(ZONE, &line), Reason::InvalidUtf8);
}

#[test]
fn the_nss_default_feed_maps_onto_the_records_json_gives() {
    let records = |dialect| {
        let text = WebGenerator::new(11, dialect, Cardinality::default()).lines(300);
        let lines: Vec<&[u8]> = text.lines().map(str::as_bytes).collect();
        let run = run(ZONE, &lines);
        assert!(run.dead.is_empty(), "{dialect:?}: {:?}", run.dead.first());
        run.records
    };
    let (json, csv) = (records(Dialect::Ztel), records(Dialect::Csv));
    assert_eq!(json.len(), csv.len());
    for (a, b) in json.iter().zip(&csv) {
        let (Value::Object(a), Value::Object(b)) = (a, b) else {
            panic!("records are objects");
        };
        let mut shared = 0;
        for (key, value) in a {
            if let Some(theirs) = b.get(key) {
                assert_eq!(value, theirs, "{key}");
                shared += 1;
            }
        }
        assert!(shared >= 20, "only {shared} fields in common");
    }
}
