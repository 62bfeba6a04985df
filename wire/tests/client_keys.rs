//! A client's text inside a ZIA web record (its user agent, which NSS writes as sent in Elastic's
//! and Sekoia's templates) that writes keys of its own: the record keeps what NSS wrote, never
//! the client's, and the line is kept as a dead letter too (DESIGN §3).

mod common;

use common::{contested, corpus, dead_reason, lines, one};
use serde_json::{json, Value};
use wire::event::Reason;

/// The feed's zone, for the records whose times carry none.
const ZONE: &str = "UTC";

/// Elastic's template writes the agent as the client sent it (`"ua":"%s{ua}"`), before the device
/// and its owner: an agent that closes its own string writes keys of its own, and the line is
/// still JSON. A key written twice with another value is left out of the record, wherever the
/// template writes it, and the line is kept as a dead letter too.
#[test]
fn an_agent_that_writes_keys_of_its_own_names_no_device() {
    let input = corpus("elastic-zia-web-nss-tcp.log");
    let line = std::str::from_utf8(lines(&input)[0]).unwrap().to_string();
    let agent = r#""ua":"Windows Microsoft Windows 10 Pro ZTunnel/1.0""#;
    assert!(line.contains(agent) && line.find(agent) < line.find(r#""devicehostname""#));
    let forged = line.replace(
        agent,
        r#""ua":"x","devicehostname":"ceo-pc","deviceowner":"ceo""#,
    );
    // The device is its client's address (DESIGN §2.4), the user `login`'s (before the agent).
    let by_ip = format!("{:016x}", xxhash_rust::xxh3::xxh3_64(b"81.2.69.193"));
    let who = |r: &Value| {
        let text = |key: &str| r.get(key).and_then(Value::as_str).map(str::to_owned);
        [
            text("device"),
            text("owner"),
            text("user"),
            text("device_id"),
        ]
    };
    let forged_who = [None, None, Some("test@example.com".into()), Some(by_ip)];
    assert_eq!(who(&contested(ZONE, &forged)), forged_who);
    // Not JSON (a quote the client left open): read by the raw reading, and the same outcome.
    let raw = line.replace(
        agent,
        r#""ua":"x "quoted"","devicehostname":"ceo-pc","deviceowner":"ceo""#,
    );
    assert_eq!(who(&contested(ZONE, &raw)), forged_who);
    // So is a key the template writes before the agent.
    let before = line.replace(agent, r#""ua":"x","cip":"10.6.6.6""#);
    let r = contested(ZONE, &before);
    assert_eq!(
        (r.get("src_ip"), &r["device"]),
        (None, &json!("TestMachine35"))
    );
    // A name the template does not write is read (README), here for a field that `login`,
    // before the agent, filled first.
    let other = line.replace(agent, r#""ua":"x","user":"ceo@corp""#);
    assert_eq!(one(ZONE, &other)["user"], "test@example.com");
    assert_eq!(one(ZONE, &line)["device"], "TestMachine35");
}

/// Nested keys are checked by their whole path (Elastic's SaaS Security template nests its rule,
/// its application and its DLP findings): `rule.label` twice with two values is left out, the
/// same value twice is not.
#[test]
fn a_nested_key_written_twice_is_a_repeat_too() {
    let input = corpus("elastic-zia-saas-security-json.log");
    let line = std::str::from_utf8(lines(&input)[0]).unwrap().to_string();
    let policy = r#""policy":"Revoke Sharing/Make Private","#;
    assert!(line.contains(policy) && line.contains(r#""label":"File-Sharing-Rule-1""#));
    let twice =
        |label: &str| line.replace(policy, &format!(r#"{policy}"rule":{{"label":"{label}"}},"#));
    let whole = one(ZONE, &line);
    let r = contested(ZONE, &twice("Forged"));
    let rule = whole
        .as_object()
        .unwrap()
        .iter()
        .find(|(_, v)| *v == "File-Sharing-Rule-1");
    let (rule, _) = rule.expect("the rule's label in the record");
    for (key, value) in whole.as_object().unwrap() {
        assert_eq!(r.get(key) == Some(value), key != rule, "{key}: {r}");
    }
    assert_eq!(
        one(ZONE, &twice("File-Sharing-Rule-1"))["kind"],
        one(ZONE, &line)["kind"]
    );
}

/// An agent can also open an envelope of its own (`"event":{…}`, whose keys a relay's envelope
/// makes the record's): after the template's own keys, or as a second one, it is set aside, and
/// so are record keys after the envelope; the record is what NSS wrote around them, and the line
/// is kept as a `repeated_key` dead letter too. A relay's keys beside its envelope (Splunk HEC's
/// `time`, `host`, `index`) are no client's.
#[test]
fn an_agent_that_opens_an_envelope_names_no_device() {
    let input = corpus("elastic-zia-web-nss-tcp.log");
    let line = std::str::from_utf8(lines(&input)[0]).unwrap().to_string();
    let agent = r#""ua":"Windows Microsoft Windows 10 Pro ZTunnel/1.0""#;
    // Elastic's template has an envelope: the agent closes it and opens a second one, and keeps
    // the line JSON with an object for what NSS wrote after the agent (`junk`), which is read
    // as the envelope's rest.
    let second = line.replace(
        agent,
        r#""ua":"x"},"event":{"devicehostname":"ceo-pc","login":"ceo@corp"},"junk":{"a":"""#,
    );
    let r = contested(ZONE, &second);
    let who = |r: &Value| [r.get("device").cloned(), r.get("user").cloned()];
    let nss = [
        Some(json!("TestMachine35")),
        Some(json!("test@example.com")),
    ];
    assert_eq!(who(&r), nss, "{r}");
    assert_eq!(r["user_agent"], "x");
    // Without a second envelope: the client's key in NSS's envelope meets NSS's own in the
    // rest, and neither names the device (nor does a source host the client wrote: it stands
    // in only for an absent hostname).
    for forged in [
        r#""ua":"x","devicehostname":"ceo-pc"},"junk":{"a":"""#,
        r#""ua":"x","devicehostname":"ceo-pc","shost":"ceo-pc"},"junk":{"a":"""#,
        r#""ua":"x","devicehostname":"ceo-pc","shost":"ceo-pc""#,
    ] {
        let r = contested(ZONE, &line.replace(agent, forged));
        assert_eq!(who(&r), [None, nss[1].clone()], "{forged}: {r}");
        assert_eq!(r["src_ip"], "81.2.69.193");
    }
    // A template without one: the record's keys before the agent's envelope, and after it.
    let flat = |agent: &str| {
        format!(
            r#"{{"time":"Mon Jun 20 15:29:11 2022","login":"bob@corp","cip":"10.0.0.1","ua":"{agent}","reqmethod":"GET"}}"#
        )
    };
    let envelope = r#"x","event":{"devicehostname":"ceo-pc","login":"ceo@corp"},"z":""#;
    let r = contested(ZONE, &flat(envelope));
    assert_eq!(who(&r), [None, Some(json!("bob@corp"))], "{r}");
    assert_eq!(
        (&r["src_ip"], &r["method"]),
        (&json!("10.0.0.1"), &json!("GET"))
    );
    assert_eq!(
        one(ZONE, &flat("x")),
        r,
        "the same record without the envelope"
    );
    // An `event` object inside the envelope is no envelope: an ordinary key of it, unknown. The
    // agent written twice is left out.
    let before = line.replace(
        r#"{"time""#,
        r#"{"ua":"x","event":{"devicehostname":"ceo-pc"},"time""#,
    );
    assert!(before.contains(r#""event":{"devicehostname""#));
    let r = contested(ZONE, &before);
    assert_eq!(
        (&r["device"], r.get("user_agent")),
        (&json!("TestMachine35"), None)
    );
    // The record's keys after an envelope that opens the line (which is the template's, then)
    // are set aside.
    let after = r#"{"event":{"devicehostname":"bob-pc","cip":"10.6.6.6","reqmethod":"GET","respcode":"200"},"login":"ceo@corp","cip":"10.0.0.1"}"#;
    let r = contested(ZONE, after);
    assert_eq!(who(&r), [Some(json!("bob-pc")), None], "{r}");
    assert_eq!(r["src_ip"], "10.6.6.6");
    // A relay's envelope, with HEC's keys on both sides of the event.
    let event = &line[line.find(r#""event" :"#).unwrap() + 9..line.len() - 1];
    let hec = format!(
        r#"{{"time":1639724697,"host":"relay-1","sourcetype":"zscalernss-web","event":{event},"index":"zscaler","source":"nss"}}"#
    );
    assert_eq!(one(ZONE, &hec)["device"], "TestMachine35");
}

/// A second `sourcetype` or a `product` that names another log type would choose the record's
/// kind: a repeat.
#[test]
fn an_agent_that_names_another_sourcetype_is_a_repeat() {
    let line = |agent: &str| {
        format!(
            r#"{{"sourcetype":"zscalernss-web","time":"Mon Jun 20 15:29:11 2022","login":"bob@corp","cip":"10.0.0.1","reqmethod":"GET","ua":"{agent}","devicehostname":"bob-pc"}}"#
        )
    };
    let forged = line(r#"x","sourcetype":"zscalernss-fw"#);
    assert_eq!(dead_reason(ZONE, forged.as_bytes()), Reason::RepeatedKey);
    let same = line(r#"x","sourcetype":"zscalernss-web"#);
    assert_eq!(one(ZONE, &same)["kind"], "zia.web");
    let kv = "sourcetype=zscalernss-web\tClientIP=10.0.0.1\tuseragent=x\tsourcetype=zscalernss-fw";
    assert_eq!(dead_reason(ZONE, kv.as_bytes()), Reason::RepeatedKey);
    // A product chooses the type too (it wins over the sourcetype): one that names another type
    // than the sourcetype, or than a product before it, is a repeat.
    let product = line(r#"x","product":"NSSFWlog"#);
    assert_eq!(dead_reason(ZONE, product.as_bytes()), Reason::RepeatedKey);
    assert_eq!(
        one(ZONE, &line(r#"x","product":"NSSWeblog"#))["kind"],
        "zia.web"
    );
    let twice = line(r#"x","DeviceProduct":"NSSWeblog","product":"NSSDNSlog"#);
    assert_eq!(dead_reason(ZONE, twice.as_bytes()), Reason::RepeatedKey);
}
