//! The synthetic firewall and DNS records against the decoder: every line the generators write
//! becomes a record of its kind, and that record holds the values the generator put in the
//! line (read back from the line itself, with the feed's %HH-encoding undone).

mod common;

use common::{describe, run};
use serde_json::{json, Map, Value};
use wire::synth::{Cardinality, DnsGenerator, FirewallGenerator};

const RECORDS: usize = 3000;

/// Small enough that devices, users and servers repeat, as they do in a real feed.
const CARDINALITY: Cardinality = Cardinality {
    devices: 200,
    users: 150,
    servers: 900,
};

/// The `event` of a generated line, its values as strings.
fn event(line: &str) -> Map<String, Value> {
    let v: Value = serde_json::from_str(line).unwrap_or_else(|e| panic!("{e}: {line}"));
    v["event"].as_object().expect("an event object").clone()
}

fn field<'a>(e: &'a Map<String, Value>, key: &str) -> &'a str {
    e[key]
        .as_str()
        .unwrap_or_else(|| panic!("{key} is not a string"))
}

fn number(e: &Map<String, Value>, key: &str) -> u64 {
    field(e, key).parse().unwrap()
}

/// NSS's %HH-encoding undone (the `e…` fields).
fn unpercent(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' && i + 2 < bytes.len() {
            let hex = std::str::from_utf8(&bytes[i + 1..i + 3]).unwrap();
            out.push(u8::from_str_radix(hex, 16).unwrap());
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).unwrap()
}

/// What a record says about its device and time, from the line's values.
fn common_fields(e: &Map<String, Value>, kind: &str) -> Map<String, Value> {
    let host = field(e, "devicehostname");
    let id = format!(
        "{:016x}",
        xxhash_rust::xxh3::xxh3_64(host.to_lowercase().as_bytes())
    );
    let ts = jiff::Timestamp::from_second(number(e, "epochtime") as i64).unwrap();
    let mut want = Map::new();
    want.insert("ts".into(), json!(ts.to_string()));
    want.insert("kind".into(), json!(kind));
    want.insert("device_id".into(), json!(id));
    want.insert("device".into(), json!(host));
    want.insert("user".into(), json!(unpercent(field(e, "elogin"))));
    want.insert("record_id".into(), json!(field(e, "recordid")));
    want.insert("tags".into(), json!(["ZIA"]));
    want
}

/// Puts `key` in `want` unless NSS's value means "absent" ("None") or, for a port, 0.
fn maybe(want: &mut Map<String, Value>, key: &str, value: Value) {
    let absent = value == json!("None") || value == json!(0);
    if !absent {
        want.insert(key.into(), value);
    }
}

#[test]
fn every_firewall_line_decodes_to_the_values_it_carries() {
    let text = FirewallGenerator::new(11, CARDINALITY)
        .at_rate(500)
        .lines(RECORDS);
    let lines: Vec<&[u8]> = text.lines().map(str::as_bytes).collect();
    let out = run("UTC", &lines);
    assert!(out.dead.is_empty(), "dead letters: {}", describe(&out.dead));
    assert_eq!(out.records.len(), RECORDS);
    let mut protocols = std::collections::BTreeSet::new();
    for (line, record) in text.lines().zip(&out.records) {
        let e = event(line);
        let mut want = common_fields(&e, "zia.firewall");
        want.insert("src_ip".into(), json!(field(&e, "csip")));
        maybe(&mut want, "src_port", json!(number(&e, "csport")));
        want.insert("dst_ip".into(), json!(field(&e, "cdip")));
        maybe(&mut want, "dst_port", json!(number(&e, "cdport")));
        maybe(&mut want, "dst_host", json!(field(&e, "cdfqdn")));
        want.insert("nat_ip".into(), json!(field(&e, "ssip")));
        maybe(&mut want, "nat_port", json!(number(&e, "ssport")));
        want.insert(
            "transport".into(),
            json!(field(&e, "ipproto").to_lowercase()),
        );
        want.insert("app_proto".into(), json!(field(&e, "nwsvc").to_lowercase()));
        want.insert("app".into(), json!(field(&e, "nwapp")));
        want.insert("action".into(), json!(field(&e, "action").to_lowercase()));
        want.insert("rule".into(), json!(unpercent(field(&e, "erulelabel"))));
        want.insert("bytes_out".into(), json!(number(&e, "outbytes")));
        want.insert("bytes_in".into(), json!(number(&e, "inbytes")));
        want.insert("duration_ms".into(), json!(number(&e, "durationms")));
        maybe(&mut want, "threat", json!(field(&e, "threatname")));
        want.insert("location".into(), json!(unpercent(field(&e, "elocation"))));
        want.insert(
            "department".into(),
            json!(unpercent(field(&e, "edepartment"))),
        );
        assert_eq!(record, &Value::Object(want), "{line}");
        protocols.insert(record["transport"].as_str().unwrap().to_string());
    }
    assert_eq!(
        protocols.into_iter().collect::<Vec<_>>(),
        ["icmp", "tcp", "udp"]
    );
    // One device per hostname, keyed by it.
    for facts in &out.facts {
        let device = facts.device.as_ref().expect("a device");
        assert!(device.key.starts_with("LAPTOP-"), "{}", device.key);
    }
}

#[test]
fn every_dns_line_decodes_to_the_values_it_carries() {
    let text = DnsGenerator::new(12, CARDINALITY)
        .at_rate(500)
        .lines(RECORDS);
    let lines: Vec<&[u8]> = text.lines().map(str::as_bytes).collect();
    let out = run("UTC", &lines);
    assert!(out.dead.is_empty(), "dead letters: {}", describe(&out.dead));
    assert_eq!(out.records.len(), RECORDS);
    let mut tcp = 0;
    for (line, record) in text.lines().zip(&out.records) {
        let e = event(line);
        let mut want = common_fields(&e, "zia.dns");
        want.insert("src_ip".into(), json!(field(&e, "cip")));
        want.insert("dst_ip".into(), json!(field(&e, "sip")));
        want.insert("dst_port".into(), json!(number(&e, "sport")));
        let transport = if field(&e, "istcp") == "1" {
            tcp += 1;
            "tcp"
        } else {
            "udp"
        };
        want.insert("transport".into(), json!(transport));
        want.insert("app_proto".into(), json!("dns"));
        want.insert("query".into(), json!(field(&e, "req")));
        want.insert("query_type".into(), json!(field(&e, "reqtype")));
        maybe(&mut want, "answer", json!(field(&e, "res")));
        want.insert(
            "action".into(),
            json!(field(&e, "reqaction").to_lowercase()),
        );
        want.insert("rule".into(), json!(field(&e, "reqrulelabel")));
        want.insert("category".into(), json!(field(&e, "domcat")));
        want.insert("duration_ms".into(), json!(number(&e, "durationms")));
        assert_eq!(record, &Value::Object(want), "{line}");
    }
    assert!(
        (50..400).contains(&tcp),
        "{tcp} of {RECORDS} over TCP or DoH"
    );
}

#[test]
fn a_feed_of_every_nss_type_names_the_same_devices() {
    // Web, firewall and DNS records of one run describe one fleet: a hostname has one client IP.
    let web =
        wire::synth::WebGenerator::new(1, wire::synth::Dialect::Ztel, CARDINALITY).lines(2000);
    let fw = FirewallGenerator::new(1, CARDINALITY).lines(2000);
    let dns = DnsGenerator::new(1, CARDINALITY).lines(2000);
    let mut ip_of = std::collections::BTreeMap::new();
    for (text, ip_key) in [(&web, "cip"), (&fw, "csip"), (&dns, "cip")] {
        for line in text.lines() {
            let e = event(line);
            let host = text_owned(&e, "devicehostname");
            let ip = text_owned(&e, ip_key);
            let known = ip_of.entry(host.clone()).or_insert_with(|| ip.clone());
            assert_eq!(known, &ip, "{host}");
        }
    }
    assert!(ip_of.len() <= 200);
}

fn text_owned(e: &Map<String, Value>, key: &str) -> String {
    field(e, key).to_string()
}
