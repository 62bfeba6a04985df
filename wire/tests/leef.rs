//! QRadar LEEF frames into records: Zscaler's QRadar preset (tab-separated), the Sumo Logic
//! sample whose tabs a documentation page turned into spaces, LEEF 2.0 delimiters, escapes,
//! values with spaces and `=`, `devTime` in its forms, the log type from the header, the syslog
//! header in front, and what makes a frame a dead letter. The synthetic LEEF feed must give the
//! records its JSON twin gives.
//! A warm decoder allocates nothing per frame, escaped or not.

mod common;

use common::{contested, corpus, dead_reason, lines, one, run};
use serde_json::{json, Value};
use wire::event::Reason;
use wire::synth::{Cardinality, Dialect, WebGenerator};

/// The feed's zone, for times that carry none.
const ZONE: &str = "UTC";

/// A blocked web transaction in Zscaler's QRadar preset, `%s{tz}` an IANA name.
const QRADAR: &str = "Oct 02 16:21:40 zscaler-nss: LEEF:1.0|Zscaler|NSS|4.1|Not allowed to browse this category|cat=Blocked\tdevTime=Oct 02 2017 16:21:40 America/Chicago\tdevTimeFormat=MMM dd yyyy HH:mm:ss z\tsrc=192.168.180.253\tdst=203.0.113.9\tsrcPostNAT=198.51.100.5\trealm=Head Quarters\tusrName=jdoe@safemarch.com\tsrcBytes=812\tdstBytes=0\trole=Sales\tpolicy=Not allowed to browse this category\turl=www.blocked-example.com/index?a=b&c=d\trecordid=7379073205867184131\tbwthrottle=NO\tuseragent=Mozilla/5.0 (Windows NT 10.0; Win64; x64)\treferer=www.example.com/\thostname=www.blocked-example.com\tappproto=HTTPS\turlcategory=Adult Themes\turlsupercategory=Entertainment/Recreation\turlclass=Privacy Risk\tappclass=General Browsing\tappname=General Browsing\tmalwaretype=Trojan\tmalwareclass=Virus\tthreatname=EICAR Test File\triskscore=72\tdlpdict=None\tdlpeng=None\tfileclass=None\tfiletype=None\treqmethod=GET\trespcode=403";

/// The record of [`QRADAR`]: the preset names no device, so the client IP is its key.
fn qradar_record(r: &Value) -> Value {
    json!({"ts":"2017-10-02T21:21:40Z","kind":"zia.web","device_id":r["device_id"],
        "user":"jdoe@safemarch.com","src_ip":"192.168.180.253","src_port":18000,
        "dst_ip":"203.0.113.9","dst_port":443,"dst_host":"www.blocked-example.com","transport":"tcp",
        "app_proto":"https","bytes_out":812,"bytes_in":0,"action":"blocked","method":"GET",
        "http_status":403,"url":"www.blocked-example.com/index?a=b&c=d","category":"Adult Themes",
        "app":"General Browsing","user_agent":"Mozilla/5.0 (Windows NT 10.0; Win64; x64)",
        "referer":"www.example.com/","location":"Head Quarters","department":"Sales",
        "threat":"EICAR Test File","threat_category":"Trojan","risk":72,
        "record_id":"7379073205867184131","tags":["ZIA"]})
}

#[test]
fn qradar_preset_becomes_the_web_record() {
    let r = one(ZONE, QRADAR);
    assert_eq!(r, qradar_record(&r));
}

#[test]
fn any_syslog_header_or_none_in_front() {
    let frame = &QRADAR[QRADAR.find("LEEF:").unwrap()..];
    for line in [
        frame.to_string(),
        format!("<134>Oct 02 16:21:40 zscaler-nss {frame}"),
        // A sender that leaves out the host: the header's next word is the record's own.
        format!("<134>Oct 02 16:21:40 {frame}"),
        format!("<134>1 2017-10-02T16:21:40Z nss zscaler-nss - - - {frame}"),
    ] {
        let r = one(ZONE, &line);
        assert_eq!(r, qradar_record(&r), "{line}");
    }
}

#[test]
fn sumo_sample_with_spaces_for_tabs() {
    let input = corpus("sumo-doc-zia-web-leef.log");
    let line = lines(&input)[0];
    let r = run(ZONE, &[line]).records.remove(0);
    assert_eq!(
        r,
        json!({"ts":"2017-10-02T16:21:40Z","kind":"zia.web","device_id":r["device_id"],
            "user":"tempor@demo.com","src_ip":"185.27.134.11","src_port":18000,
            "dst_ip":"91.171.43.14","dst_host":"www.electrichumanproject.com","transport":"tcp",
            "bytes_out":31386,"bytes_in":596219,"action":"blocked",
            "url":"www.electrichumanproject.com/","category":"Sports","app":"Yandex Search",
            "location":"EMEA","threat":"W32/Tool.IJQF-0856","risk":0,"record_id":"69790990",
            "tags":["ZIA"]})
    );
}

/// A minimal web frame with `attributes` after the header `head`.
fn web(head: &str, attributes: &str) -> Value {
    one(ZONE, &format!("LEEF:{head}|{attributes}"))
}

#[test]
fn leef_2_delimiters() {
    let want = |r: &Value| {
        assert_eq!(r["ts"], "2017-10-02T16:21:40Z", "{r}");
        assert_eq!(r["url"], "a.example/?q=1", "{r}");
        assert_eq!(r["category"], "Web Search", "{r}");
        assert_eq!(r["src_ip"], "10.0.0.1", "{r}");
    };
    let attributes = [
        "cat=Allowed",
        "src=10.0.0.1",
        "url=a.example/?q=1",
        "urlcategory=Web Search",
        "devTime=Oct 02 2017 16:21:40 GMT",
    ];
    for (delimiter, separator) in [
        ("^", "^"),
        ("0x5E", "^"),
        ("x5e", "^"),
        ("x09", "\t"),
        ("0x09", "\t"),
        ("", "\t"),
        ("¦", "¦"),
        ("0xA6", "¦"),
        ("0x7C", "|"),
    ] {
        let r = web(
            &format!("2.0|Zscaler|NSS|4.1|Allowed|{delimiter}"),
            &attributes.join(separator),
        );
        want(&r);
    }
    // Pipes, after which an empty attribute's pipe is no header field's (review B1).
    want(&web(
        "2.0|Zscaler|NSS|4.1|Allowed|0x7C",
        &format!("|{}", attributes.join("|")),
    ));
    // 2.0 without a delimiter field: tabs.
    want(&web("2.0|Zscaler|NSS|4.1|Allowed", &attributes.join("\t")));
    // An EventID holding pipes, which NSS does not escape in `%s{reason}` (tester U1: the first
    // attribute, the action, was lost), with and without 2.0's delimiter field.
    for (head, separator) in [
        ("1.0|Zscaler|NSS|4.1|Not allowed | x", "\t"),
        ("2.0|Zscaler|NSS|4.1|Not allowed | x", "\t"),
        ("2.0|Zscaler|NSS|4.1|Not allowed | x|^", "^"),
        ("2.0|Zscaler|NSS|4.1|Not allowed || x|0x09", "\t"),
        // A letter is no delimiter: a reason `Rule | A` or `Block|A` declares none (review B1,
        // tester U3).
        ("2.0|Zscaler|NSS|4.1|Rule | A", "\t"),
        ("2.0|Zscaler|NSS|4.1|Block|A", "\t"),
    ] {
        let r = web(head, &attributes.join(separator));
        want(&r);
        assert_eq!(r["action"], "allowed", "{head}");
    }
    // 1.0: tabs, or spaces where a page turned them into spaces.
    want(&web("1.0|Zscaler|NSS|4.1|Allowed", &attributes.join("\t")));
    want(&web("1.0|Zscaler|NSS|4.1|Allowed", &attributes.join(" ")));
}

#[test]
fn values_are_as_written() {
    let r = web(
        "2.0|Zscaler|NSS|4.1|Allowed|^",
        r"cat=Allowed^src=10.0.0.1^url=a.example/?q\=1\|2^urlcategory=Web\^Search^useragent=Agent\\2^usrName=CORP\tom^realm=\=HQ",
    );
    // NSS escapes nothing: a value is as written, a backslash before a delimiter ends it (and
    // the text after the delimiter, no pair, is the value's too).
    assert_eq!(r["url"], r"a.example/?q\=1\|2");
    assert_eq!(r["category"], r"Web\^Search");
    assert_eq!(r["user_agent"], r"Agent\\2");
    // Not an escape: a Windows account keeps its backslash.
    assert_eq!(r["user"], r"CORP\tom");
    assert_eq!(r["location"], r"\=HQ");
    // The QRadar preset's `realm` before `usrName`: a location that ends in a backslash keeps
    // it, and the user after it is read (it ran into the location, the user lost).
    let r = web(
        "1.0|Zscaler|NSS|4.1|Allowed",
        "cat=Allowed\tsrc=10.0.0.1\turl=a.example/\trealm=C:\\share\\\tusrName=alice@x.com\tuseragent=abc\\\treferer=r.example/",
    );
    assert_eq!(r["location"], r"C:\share\");
    assert_eq!(r["user"], "alice@x.com");
    assert_eq!(r["user_agent"], r"abc\");
    assert_eq!(r["referer"], "r.example/");
}

/// An attribute that is no pair is the value's before it, not text lost between pairs: an
/// agent's tab (NSS encodes none in `%s{ua}`). The record's JSON escapes the tab (`one` reads
/// it back as JSON).
#[test]
fn a_delimiter_before_text_that_is_no_pair_stays_in_the_value() {
    let r = web(
        "1.0|Zscaler|NSS|4.1|Allowed",
        "cat=Allowed\tsrc=10.0.0.1\tuseragent=Mozilla/5.0\tEvil Agent\turl=a.example/",
    );
    assert_eq!(r["user_agent"], "Mozilla/5.0\tEvil Agent");
    assert_eq!(r["url"], "a.example/");
}

#[test]
fn values_hold_spaces_and_equals_signs() {
    let r = web(
        "1.0|Zscaler|NSS|4.1|Allowed",
        "cat=Allowed\tsrc=10.0.0.1\turl=a.example/?a=b&c==d\tpolicy=a b = c\tuseragent=Mozilla/5.0 (X11; rv=1)",
    );
    assert_eq!(r["url"], "a.example/?a=b&c==d");
    assert_eq!(r["user_agent"], "Mozilla/5.0 (X11; rv=1)");
}

#[test]
fn header_without_its_five_fields_is_malformed() {
    for line in [
        "LEEF:1.0|Zscaler|NSS|4.1",
        "LEEF:1.0|Zscaler|NSS|4.1|NA",
        r"LEEF:1.0|Zscaler|NSS|4.1|NA\|cat=Blocked",
        "Oct 02 16:21:40 zscaler-nss: LEEF:2.0|Zscaler|NSS",
        "LEEF:",
    ] {
        assert_eq!(
            dead_reason(ZONE, line.as_bytes()),
            Reason::MalformedLeef,
            "{line}"
        );
    }
}

#[test]
fn invalid_utf8_is_a_dead_letter() {
    let mut line = b"LEEF:1.0|Zscaler|NSS|4.1|NA|cat=Blocked\tsrc=10.0.0.1\turl=a/".to_vec();
    line.push(0xc3);
    assert_eq!(dead_reason(ZONE, &line), Reason::InvalidUtf8);
}

#[test]
fn firewall_and_dns_by_the_header() {
    let r = web(
        "1.0|Zscaler|NSSFWlog|5.7|Drop",
        "cat=Drop\tsrc=10.0.0.1\tsrcPort=5000\tdst=203.0.113.5\tdstPort=445\tproto=TCP\tusrName=a@b.example\tdevTime=Oct 02 2017 16:21:40 GMT",
    );
    assert_eq!(
        r,
        json!({"ts":"2017-10-02T16:21:40Z","kind":"zia.firewall","device_id":r["device_id"],
            "user":"a@b.example","src_ip":"10.0.0.1","src_port":5000,"dst_ip":"203.0.113.5",
            "dst_port":445,"transport":"tcp","action":"drop","tags":["ZIA"]})
    );
    // The type in the EventID, a LEEF 2.0 delimiter, NSS's own names for the DNS fields.
    let r = web(
        "2.0|Zscaler|NSS|5.7|NSSDNSlog|^",
        "src=10.0.0.1^dst=1.1.1.1^req=example.com^reqtype=A^res=93.184.216.34^reqaction=Allow^devTime=Oct 02 2017 16:21:40 GMT",
    );
    assert_eq!(
        r,
        json!({"ts":"2017-10-02T16:21:40Z","kind":"zia.dns","device_id":r["device_id"],
            "src_ip":"10.0.0.1","dst_ip":"1.1.1.1","dst_port":53,"transport":"udp",
            "app_proto":"dns","query":"example.com","query_type":"A","answer":"93.184.216.34",
            "action":"allow","tags":["ZIA"]})
    );
}

#[test]
fn dev_time_in_its_forms() {
    for (dev_time, ts) in [
        ("Oct 02 2017 16:21:40 GMT", "2017-10-02T16:21:40Z"),
        ("Oct 02 2017 16:21:40 Europe/Paris", "2017-10-02T14:21:40Z"),
        ("Oct 02 2017 16:21:40", "2017-10-02T16:21:40Z"),
        ("Mon Oct 02 16:21:40 UTC 2017", "2017-10-02T16:21:40Z"),
        ("1506961300000", "2017-10-02T16:21:40Z"),
    ] {
        let r = web(
            "1.0|Zscaler|NSS|4.1|Allowed",
            &format!("cat=Allowed\tsrc=10.0.0.1\turl=a/\tdevTime={dev_time}"),
        );
        assert_eq!(r["ts"], ts, "{dev_time}");
    }
    let line = "LEEF:1.0|Zscaler|NSS|4.1|Allowed|cat=Allowed\tsrc=10.0.0.1\turl=a/\tdevTime=Oct 02 2017 16:21:40 Mars/Olympus";
    assert_eq!(dead_reason(ZONE, line.as_bytes()), Reason::BadTime);
}

/// The fields both a JSON record and a LEEF record of the same synthetic line carry.
const SHARED_FIELDS: &[&str] = &[
    "ts",
    "kind",
    "device_id",
    "device",
    "user",
    "owner",
    "src_ip",
    "src_port",
    "dst_ip",
    "dst_port",
    "dst_host",
    "transport",
    "app_proto",
    "bytes_out",
    "bytes_in",
    "action",
    "method",
    "http_status",
    "url",
    "category",
    "user_agent",
    "referer",
    "location",
    "record_id",
    "tags",
];

#[test]
fn synthetic_leef_gives_the_records_its_json_twin_gives() {
    let lines = |dialect| WebGenerator::new(11, dialect, Cardinality::default()).lines(300);
    let (json, leef) = (lines(Dialect::Ztel), lines(Dialect::Leef));
    let json = run(ZONE, &json.lines().map(str::as_bytes).collect::<Vec<_>>());
    let leef = run(ZONE, &leef.lines().map(str::as_bytes).collect::<Vec<_>>());
    assert!(json.dead.is_empty() && leef.dead.is_empty());
    assert_eq!(json.records.len(), 300);
    assert_eq!(leef.records.len(), 300);
    for (j, l) in json.records.iter().zip(&leef.records) {
        for field in SHARED_FIELDS {
            assert!(j.get(field).is_some(), "JSON lacks {field}: {j}");
            assert_eq!(j[field], l[field], "{field}:\n{j}\n{l}");
        }
        // Whatever else both carry agrees too.
        for (key, value) in j.as_object().unwrap() {
            if let Some(other) = l.get(key) {
                assert_eq!(value, other, "{key}");
            }
        }
    }
}

/// A tab inside the agent that QRadar's preset writes as the client sent it ends the value, and
/// what follows reads as attributes: a key written twice with two values is left out of the
/// record, and the frame is kept as a dead letter too (README).
#[test]
fn an_attribute_written_twice_is_left_out() {
    let agent = "useragent=Mozilla/5.0 (Windows NT 10.0; Win64; x64)";
    assert!(QRADAR.contains(agent));
    let whole = one(ZONE, QRADAR);
    let forged = QRADAR.replace(agent, &format!("{agent}\tusrName=ceo@corp"));
    let r = contested(ZONE, &forged);
    for (key, value) in whole.as_object().unwrap() {
        assert_eq!(r.get(key) == Some(value), key != "user", "{key}: {r}");
    }
    // This preset writes no hostname: without its client's address too, the record names no
    // device, and the frame is only the dead letter.
    let forged = QRADAR.replace(agent, &format!("{agent}\tusrName=ceo@corp\tsrc=10.6.6.6"));
    assert_eq!(dead_reason(ZONE, forged.as_bytes()), Reason::RepeatedKey);
    // An attribute of the same frame that no key of it repeats is read as before.
    let other = QRADAR.replace(agent, &format!("{agent}\tdept=Finance"));
    assert_eq!(one(ZONE, &other)["user"], "jdoe@safemarch.com");
}

/// IBM's ZPA LEEF with its tabs turned into spaces (by a page or a relay) gives the record the
/// tab-separated line gives: a key may hold a `:` (`TimestampAuthentication:iso8601`), which
/// was read as a value's text (the country swallowed the time, the time was lost).
#[test]
fn zpa_leef_with_spaces_for_tabs_reads_as_with_tabs() {
    let input = corpus("ibm-qradar-doc-zpa-user-status-leef.log");
    let line = String::from_utf8(lines(&input)[0].to_vec()).unwrap();
    let tabbed = one(ZONE, &line);
    assert_eq!(
        tabbed["authenticated_at"], "2021-04-20T10:35:15Z",
        "{tabbed}"
    );
    let spaced = one(ZONE, &line.replace('\t', " "));
    assert_eq!(spaced, tabbed);
}
