//! Positional frames (DESIGN §3.2): the NSS default output of every ZIA log type, quoting with
//! and without a Feed Escape Character, tab-separated output, configured field orders, and the
//! synthetic CSV feed against the same records as JSON.

mod common;

use common::{corpus, dead_reason, lines, one, run, RECEIVED};
use jiff::Timestamp;
use serde_json::Value;
use wire::decode::Decoder;
use wire::event::{Kind, Reason};
use wire::format::csv::Columns;
use wire::synth::{Cardinality, Dialect, WebGenerator};
use wire::time::parse_zone;

const ZONE: &str = "UTC";

/// Zscaler's example of a log type's default output (one line).
fn example(log_type: &str) -> String {
    let input = corpus(&format!("zscaler-helpdoc-zia-{log_type}-csv.log"));
    String::from_utf8(lines(&input)[0].to_vec()).unwrap()
}

/// A frame's quoted fields, each changed by `edit`, written back as the NSS default output.
fn edited(line: &str, edit: impl Fn(usize, &str) -> String) -> String {
    let inner = &line[1..line.len() - 1];
    let fields: Vec<String> = inner
        .split("\",\"")
        .enumerate()
        .map(|(i, f)| edit(i, f))
        .collect();
    format!("\"{}\"", fields.join("\",\""))
}

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
                ("packets_out", 2.into()),
                ("bytes_in", 753.into()),
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
        let r = one(ZONE, &example(log_type));
        assert_eq!(r["kind"], *kind, "{log_type}");
        for (key, value) in *want {
            assert_eq!(r[*key], *value, "{log_type}: {key}");
        }
    }
    assert_eq!(
        one(ZONE, &example("saas-security-activity"))["ts"],
        RECEIVED,
        "the activity log has no time"
    );
}

#[test]
fn nineteen_and_fourteen_fields_are_told_apart_by_their_values() {
    // DNS's second field is a login, SaaS Security's a record id; tunnel's is a record type,
    // audit's a record id. A DNS login of digits still reads as DNS: its port and duration are
    // numbers where SaaS Security has a policy name and DLP words.
    let dns = edited(&example("dns"), |i, f| {
        if i == 1 {
            "12345".into()
        } else {
            f.into()
        }
    });
    assert_eq!(one(ZONE, &dns)["kind"], "zia.dns");
    let saas = edited(&example("saas-security"), |i, f| {
        if i == 4 {
            "sales@zscaler.com".into()
        } else {
            f.into()
        }
    });
    assert_eq!(one(ZONE, &saas)["kind"], "zia.saas");
    // A clean scan: threat, policy and DLP fields "None", which fit DNS's port and duration as
    // well. Its record id and its two times in milliseconds are numbers only as SaaS Security.
    let clean = edited(&example("saas-security"), |i, f| {
        if (10..=14).contains(&i) {
            "None".into()
        } else {
            f.into()
        }
    });
    let record = one(ZONE, &clean);
    assert_eq!(record["kind"], "zia.saas", "{record}");
    assert_eq!(record["record_id"], "7132869149011804161", "{record}");
    let tunnel = edited(&example("tunnel"), |i, f| {
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
    let line = edited(&example("web"), |i, f| match i {
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
    let r = one(ZONE, &example("audit"));
    assert_eq!(r["pre_action"], r#"{"status":"pending"}"#);
    let line = edited(&example("audit"), |i, f| {
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
    let line = edited(&example("audit"), |i, f| match i {
        12 => r#"{"a":"x","b":1}"#.into(),
        _ => f.into(),
    });
    assert_eq!(one(ZONE, &line)["pre_action"], r#"{"a":"x","b":1}"#);
    let line = edited(&example("audit"), |i, f| match i {
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
    let line = edited(&example("web"), |i, f| match i {
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
    let line = edited(&example("audit"), |i, f| match i {
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
    let line = edited(&example("web"), |i, f| match i {
        25 => r#"Mozilla/5.0 "x","y "corp""#.into(),
        _ => f.into(),
    });
    assert_eq!(dead_reason(ZONE, line.as_bytes()), Reason::FieldCount);
    // A doubled quote that CSV's rule can read is still one quote.
    let line = edited(&example("web"), |i, f| match i {
        25 => r#"Mozilla/5.0 ""beta"" x"#.into(),
        _ => f.into(),
    });
    assert_eq!(one(ZONE, &line)["user_agent"], r#"Mozilla/5.0 "beta" x"#);
}

#[test]
fn an_unquoted_value_that_starts_with_a_quote_is_as_written() {
    // Tab-separated output writes values as they are: a rule `"Quoted" Rule` starts with a
    // quote that never closes as a quoted field's would (tester U1: a dead letter).
    let comma = example("dns");
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
    let comma = example("dns");
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
    let comma = example("web");
    let tabs = comma[1..comma.len() - 1].replace("\",\"", "\t");
    let plain = one(ZONE, &tabs);
    let url = plain["url"].as_str().expect("a url").to_owned();
    let braced = format!("{url}/api/{{id}}");
    let r = one(ZONE, &tabs.replacen(&url, &braced, 1));
    assert_eq!(r["url"], braced.as_str());
    assert_eq!(r["kind"], "zia.web");
    // Audit's last fields hold JSON (pre- and post-action), so its frame ends with a brace.
    let comma = example("audit");
    let tabs = comma[1..comma.len() - 1].replace("\",\"", "\t");
    assert!(tabs.ends_with('}'), "{tabs}");
    assert_eq!(one(ZONE, &tabs), one(ZONE, &comma));
}

#[test]
fn a_field_count_no_order_has_is_a_dead_letter() {
    let web = example("web");
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
    let web = example("web");
    let agent = edited(&web, |i, f| match i {
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
    let tunnel = example("tunnel");
    assert_eq!(one(ZONE, &tunnel)["kind"], "zia.tunnel");
    for ip in ["1.2.3.256", "01.2.3.4", "999.1.1.1"] {
        let line = edited(&tunnel, |i, f| if i == 5 { ip.into() } else { f.into() });
        assert_eq!(
            dead_reason(ZONE, line.as_bytes()),
            Reason::FieldCount,
            "{ip}"
        );
    }
}

/// A configured order whose columns hold nothing that can be checked is the admin's word for
/// its lines: unquoted ones are read in it, as SaaS Security Activity's default order's are not.
#[test]
fn a_configured_order_of_text_takes_unquoted_lines() {
    let names: Vec<String> = ["time", "login", "req", "reqaction", "devicehostname"]
        .iter()
        .map(|s| s.to_string())
        .collect();
    let mut columns = Columns::default();
    columns.set(Kind::ZiaDns, &names).unwrap();
    let got = decode(
        columns,
        &["Mon Jun 20 14:56:51 2022,a@b.com,x.com,Allow,H1"],
    );
    let r = got[0].as_ref().expect("a record");
    assert_eq!(r["kind"], "zia.dns", "{r}");
    assert_eq!(r["query"], "x.com", "{r}");
}

/// Configured orders of neighbouring widths: a line one field short or long of its own order
/// has another's count, and is a dead letter unless its values fit that order.
#[test]
fn a_line_one_field_off_its_configured_order_is_no_record_of_another() {
    let names = |n: &[&str]| -> Vec<String> { n.iter().map(|s| s.to_string()).collect() };
    let mut columns = Columns::default();
    let web = [
        "time",
        "login",
        "cip",
        "sip",
        "eurl",
        "ua",
        "action",
        "devicehostname",
    ];
    let firewall = [
        "time",
        "login",
        "csip",
        "csport",
        "cdip",
        "cdport",
        "action",
        "rulelabel",
        "devicehostname",
    ];
    let dns = [
        "epochtime",
        "login",
        "cip",
        "req",
        "res",
        "reqaction",
        "devicehostname",
    ];
    columns.set(Kind::ZiaWeb, &names(&web)).unwrap();
    columns.set(Kind::ZiaFirewall, &names(&firewall)).unwrap();
    columns.set(Kind::ZiaDns, &names(&dns)).unwrap();
    let lines = [
        // Each line as its order has it.
        "Mon Jun 20 15:29:11 2022,c@x,10.0.0.1,1.2.3.4,ex.com/a,Moz,Allowed,H1",
        "Mon Jun 20 15:29:11 2022,c@x,10.0.0.1,5000,1.2.3.4,443,Allow,R1,H1",
        "1655738951,c@x,10.0.0.1,a.com,1.2.3.4,Allow,H3",
        // A web agent with a comma: the firewall's count.
        "Mon Jun 20 15:29:11 2022,c@x,10.0.0.1,1.2.3.4,ex.com/a,Moz (KHTML, like Gecko),Allowed,H1",
        // A DNS line with a trailing comma: the web's count.
        "1655738951,c@x,10.0.0.1,a.com,1.2.3.4,Allow,H3,",
        // A web line one field short: DNS's count.
        "Mon Jun 20 15:29:11 2022,c@x,10.0.0.1,1.2.3.4,ex.com/a,Allowed,H1",
    ];
    let got = decode(columns, &lines);
    let kinds: Vec<_> = got[..3]
        .iter()
        .map(|r| r.as_ref().unwrap()["kind"].clone())
        .collect();
    assert_eq!(kinds, ["zia.web", "zia.firewall", "zia.dns"]);
    for (line, r) in lines[3..].iter().zip(&got[3..]) {
        assert_eq!(r.as_ref().err(), Some(&Reason::FieldCount), "{line}: {r:?}");
    }
}

#[test]
fn invalid_utf8_is_a_dead_letter() {
    let mut line = example("dns").into_bytes();
    line[20] = 0xff;
    assert_eq!(dead_reason(ZONE, &line), Reason::InvalidUtf8);
}

/// Records of `lines` through a decoder with `columns`.
fn decode(columns: Columns, lines: &[&str]) -> Vec<Result<Value, Reason>> {
    let mut decoder = Decoder::with_columns(parse_zone(ZONE).unwrap(), columns);
    let received: Timestamp = RECEIVED.parse().unwrap();
    lines
        .iter()
        .map(|line| {
            let mut out = Vec::new();
            decoder
                .decode(line.as_bytes(), received, &mut out)
                .map(|_| serde_json::from_slice(&out).unwrap())
        })
        .collect()
}

#[test]
fn a_configured_web_order_replaces_the_default() {
    let names: Vec<String> = [
        "%s{time}",
        "cip",
        "login",
        "eurl",
        "reqmethod",
        "respcode",
        "ua",
        "devicehostname",
        "deviceowner",
        "epochtime",
        "sip",
        "urlcat",
        "reqsize",
        "respsize",
        "proto",
        "action",
        "location",
        "dept",
        "clt_sport",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    assert_eq!(names.len(), 19, "as many as DNS and SaaS Security");
    let mut columns = Columns::default();
    columns.set(Kind::ZiaWeb, &names).unwrap();
    let web = r#""Mon Jun 20 15:29:11 2022","10.1.2.3","a@example.com","example.com/x","GET","200","curl/8","LAPTOP-1","jdoe","1655738951","203.0.113.9","News","100","2000","HTTPS","Allowed","HQ","Sales","50000""#;
    let dns = example("dns");
    let default_web = example("web");
    let got = decode(columns, &[web, &dns, &default_web]);
    let r = got[0].as_ref().unwrap();
    assert_eq!(r["kind"], "zia.web");
    assert_eq!(r["src_ip"], "10.1.2.3");
    assert_eq!(r["src_port"], 50000);
    assert_eq!(r["device"], "LAPTOP-1");
    assert_eq!(r["ts"], "2022-06-20T15:29:11Z");
    assert_eq!(got[1].as_ref().unwrap()["kind"], "zia.dns", "by its values");
    assert_eq!(
        got[2],
        Err(Reason::FieldCount),
        "the default web order is replaced"
    );
    // No names: the default again.
    let mut columns = Columns::default();
    columns.set(Kind::ZiaWeb, &names).unwrap();
    columns.set(Kind::ZiaWeb, &[]).unwrap();
    assert_eq!(
        decode(columns, &[&default_web])[0].as_ref().unwrap()["kind"],
        "zia.web"
    );
}

/// A configured order as wide as a ZPA template (ZPA Audit's has 15 fields) still takes every
/// line of its count that is not LSS's, a number it cannot read included, as it did before
/// ZPA's orders were read.
#[test]
fn a_configured_order_as_wide_as_a_zpa_template_keeps_its_lines() {
    let names: Vec<String> = [
        "time",
        "login",
        "dept",
        "location",
        "reqaction",
        "resaction",
        "reqrulelabel",
        "resrulelabel",
        "reqtype",
        "req",
        "res",
        "sport",
        "durationms",
        "cip",
        "sip",
    ]
    .map(String::from)
    .to_vec();
    let mut columns = Columns::default();
    columns.set(Kind::ZiaDns, &names).unwrap();
    // The first 15 fields of Zscaler's DNS example, its duration unreadable.
    let dns = example("dns");
    let fields: Vec<&str> = dns[1..dns.len() - 1].split("\",\"").take(15).collect();
    let line = edited(&format!("\"{}\"", fields.join("\",\"")), |i, f| {
        if i == 12 {
            "12 ms".into()
        } else {
            f.into()
        }
    });
    let got = decode(columns, &[&line]);
    let r = got[0].as_ref().expect("a record");
    assert_eq!(r["kind"], "zia.dns", "{r}");
}

#[test]
fn colliding_orders_go_to_the_configured_one_on_a_tie() {
    // A configured 19-field firewall order that no value tells from DNS's default.
    let names: Vec<String> = [
        "time",
        "login",
        "dept",
        "location",
        "action",
        "nwsvc",
        "rulelabel",
        "ipcat",
        "nwapp",
        "cdfqdn",
        "ipproto",
        "cdport",
        "durationms",
        "csip",
        "cdip",
        "destcountry",
        "threatcat",
        "deviceowner",
        "devicehostname",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    let mut columns = Columns::default();
    columns.set(Kind::ZiaFirewall, &names).unwrap();
    let got = decode(columns, &[&example("dns")]);
    assert_eq!(got[0].as_ref().unwrap()["kind"], "zia.firewall");
}

#[test]
fn set_refuses_a_name_that_is_no_nss_variable() {
    let mut columns = Columns::default();
    let err = columns
        .set(Kind::ZiaDns, &["time".to_string(), "ClientIP".to_string()])
        .unwrap_err();
    assert!(err.contains("\"ClientIP\""), "{err}");
    let err = columns
        .set(Kind::ZiaDns, &["%s{bogus}".to_string()])
        .unwrap_err();
    assert!(err.contains("\"bogus\""), "{err}");
    assert!(columns.set(Kind::ZpaUserActivity, &[]).is_err());
    // Documented variables no record reads are accepted (and their values ignored).
    columns
        .set(
            Kind::ZiaWeb,
            &[
                "time".into(),
                "cip".into(),
                "bwclassname".into(),
                "ologin".into(),
            ],
        )
        .unwrap();
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
