//! Cloud NSS bodies in the other Feed Output Types that Zscaler's Cloud NSS pages offer
//! (tab-separated, name-value pairs, a SIEM's LEEF, CEF or CSV preset): lines of records, read
//! as TCP reads the same lines. They were refused whole with a 400, which Cloud NSS sends again
//! for ever.

use wire::synth::{Cardinality, Dialect, WebGenerator};

use super::common::{Collector, Options};
use super::{start, Client, KEYS};

/// `n` web records of `dialect`, one a line.
fn lines(dialect: Dialect, seed: u64, n: usize) -> String {
    let mut generator = WebGenerator::new(seed, dialect, Cardinality::default());
    let mut text = String::new();
    for _ in 0..n {
        generator.write(&mut text);
    }
    text
}

/// NSS's tab-separated output of the CSV lines: the same fields, unquoted, a tab between two.
fn tab_separated(csv: &str) -> String {
    csv.lines()
        .map(|l| {
            let fields: Vec<&str> = l.trim_matches('"').split("\",\"").collect();
            format!("{}\r\n", fields.join("\t"))
        })
        .collect()
}

#[test]
fn lines_in_other_feed_formats_are_the_records_tcp_makes_of_them() {
    let mut bodies: Vec<(&str, String)> = [
        ("key=value", Dialect::Kv),
        ("csv", Dialect::Csv),
        ("leef", Dialect::Leef),
        ("cef", Dialect::Cef),
    ]
    .into_iter()
    .enumerate()
    .map(|(i, (name, dialect))| (name, lines(dialect, 40 + i as u64, 25)))
    .collect();
    let csv = bodies[1].1.clone();
    bodies.push(("tab-separated", tab_separated(&lines(Dialect::Csv, 50, 25))));
    assert!(csv.starts_with('"'), "{csv}");

    let (http, addr) = start("http-formats", KEYS);
    let tcp = Collector::start_with("http-formats-tcp", Options::default());
    let mut client = Client::connect(addr);
    for (name, body) in &bodies {
        let answer = client.post(Some("k1"), body.as_bytes());
        assert_eq!(answer.status, 200, "{name}: {answer:?}");
        tcp.send(body.as_bytes());
    }
    // A body whose first line is in no format is still refused, and keeps nothing.
    let refused = client.post(
        Some("k1"),
        b"hello\nreason=Allowed\tevent_id=1\tClientIP=x\n",
    );
    assert_eq!(refused.status, 400, "{refused:?}");
    drop(client);
    let (http, tcp) = (http.stop(), tcp.stop());
    assert!(tcp.dead_letters.is_empty(), "{:?}", tcp.dead_letters);
    assert!(http.dead_letters.is_empty(), "{:?}", http.dead_letters);
    assert_eq!(tcp.records.len(), 125);
    let sorted = |records: &[serde_json::Value]| {
        let mut text: Vec<String> = records.iter().map(|r| r.to_string()).collect();
        text.sort();
        text
    };
    assert_eq!(sorted(&http.records), sorted(&tcp.records));
    assert_eq!(http.counter("records_zia_web"), 125);
    http.assert_counters_match_files();
}

/// A tab-separated admin audit line ends with the actions' JSON objects (Zscaler's default
/// audit order): read first as a JSON line, the body's lines were trimmed, and a sign-in's
/// empty last fields went with its tabs (a `field_count` dead letter; found by review).
#[test]
fn tab_separated_audit_lines_ending_in_json_or_in_empty_fields_are_records() {
    let body = "Tue Jun 7 07:50:48 2022\t7536\tACTIVATE\tACTIVATION\tACTIVATION\t\
                com.zscaler.zdx.service.ActivationService$ActivationStatus\tUI\t\
                zdx-admin@92713.zscalertwo.net\t10.36.112.101\tSUCCESS\tUnknown\tZDX\t\
                {\"status\":\"pending\"}\t{\"status\":\"active\"}\n\
                Tue Jun 7 07:51:02 2022\t7537\tSIGN_IN\tLOGIN\tLOGIN\tadmin\tUI\t\
                zdx-admin@92713.zscalertwo.net\t10.36.112.101\tSUCCESS\tUnknown\tZIA\t\t\n";
    let (http, addr) = start("http-audit-tsv", KEYS);
    let tcp = Collector::start_with("http-audit-tsv-tcp", Options::default());
    let answer = Client::connect(addr).post(Some("k1"), body.as_bytes());
    assert_eq!(answer.status, 200, "{answer:?}");
    tcp.send(body.as_bytes());
    let (http, tcp) = (http.stop(), tcp.stop());
    assert!(tcp.dead_letters.is_empty(), "{:?}", tcp.dead_letters);
    assert!(http.dead_letters.is_empty(), "{:?}", http.dead_letters);
    assert_eq!(tcp.counter("records_zia_audit"), 2);
    assert_eq!(http.records, tcp.records);
}
