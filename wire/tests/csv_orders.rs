//! Positional frames in configured field orders (`[formats]` columns, DESIGN §3.2): an order
//! replaces its log type's default, lines a field short or long of it are no other order's
//! records, and names that are no NSS variable are refused.

mod common;

use common::{csv_edited, csv_example, RECEIVED};
use jiff::Timestamp;
use serde_json::Value;
use wire::decode::Decoder;
use wire::event::{Kind, Reason};
use wire::format::csv::Columns;
use wire::time::parse_zone;

const ZONE: &str = "UTC";

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
    let dns = csv_example("dns");
    let default_web = csv_example("web");
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
    let dns = csv_example("dns");
    let fields: Vec<&str> = dns[1..dns.len() - 1].split("\",\"").take(15).collect();
    let line = csv_edited(&format!("\"{}\"", fields.join("\",\"")), |i, f| {
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
    let got = decode(columns, &[&csv_example("dns")]);
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
