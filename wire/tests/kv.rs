//! Name-value pair frames (DESIGN §3.2): Splunk's tab- or space-separated `key=value`, quoted
//! values, NetWitness's `^^`, text before the pairs, the log type a frame states, and the
//! synthetic Splunk feed against the same records as JSON.

mod common;

use common::{contested, corpus, dead_reason, lines, one, run, Run};
use serde_json::{json, Value};
use wire::event::Reason;
use wire::synth::{Cardinality, Dialect, WebGenerator};

const ZONE: &str = "UTC";

#[test]
fn splunk_tab_separated_web_with_its_leading_time() {
    let r = one(
        "Europe/Paris",
        "2024-03-01 10:00:00\treason=Blocked\tevent_id=7300000000000000001\tprotocol=HTTPS\t\
         action=Blocked\tresponsesize=65\trequestsize=598\turlcategory=Web Search\t\
         serverip=203.0.113.9\trequestmethod=GET\tuseragent=Mozilla/5.0 (X11; Linux)\t\
         product=NSS\tlocation=HQ Paris\tClientIP=10.1.2.3\tstatus=403\tuser=a@example.com\t\
         url=example.com/a?b=c d\tvendor=Zscaler\thostname=example.com\tdepartment=R&D, Lab\t\
         devicehostname=LAPTOP-1",
    );
    assert_eq!(
        r["ts"], "2024-03-01T09:00:00Z",
        "the leading time, in the feed's zone"
    );
    assert_eq!(r["kind"], "zia.web");
    assert_eq!(r["device"], "LAPTOP-1");
    assert_eq!(r["url"], "example.com/a?b=c d", "a value runs to the tab");
    assert_eq!(r["user_agent"], "Mozilla/5.0 (X11; Linux)");
    assert_eq!(r["department"], "R&D, Lab");
    assert_eq!(r["location"], "HQ Paris");
    assert_eq!(r["http_status"], 403);
    assert_eq!(r["bytes_out"], 598);
    assert_eq!(r["action"], "blocked");
    assert_eq!(r["record_id"], "7300000000000000001");
}

#[test]
fn epochtime_wins_over_the_leading_time() {
    let r = one(
        ZONE,
        "2020-03-02 02:51:56\tClientIP=10.1.2.3\tproduct=NSS\tepochtime=\"1700000000\"\tstatus=200",
    );
    assert_eq!(r["ts"], "2023-11-14T22:13:20Z");
    let r = one(
        ZONE,
        "Wed May  4 08:42:00 2022\tClientIP=10.1.2.3\tproduct=NSS\tstatus=200",
    );
    assert_eq!(r["ts"], "2022-05-04T08:42:00Z", "a ctime with a padded day");
}

/// A zone word in or beside the leading time wins, as in any time (README, "Feed formats"):
/// UTC, an offset, or the feed zone's abbreviation; another abbreviation is a `bad_time` dead
/// letter. A ctime with its year and a word read as a syslog header with a host `UTC` (the word
/// lost), and an ISO time with an abbreviation was skipped (the record dated when it was read).
/// A header whose host has an abbreviation's shape stays one.
#[test]
fn a_zone_word_in_the_leading_time_wins_or_is_a_bad_time() {
    let pairs = "reason=Allowed\tClientIP=10.1.2.3\tproduct=NSS\tstatus=200\thostname=a.com";
    let ts = |zone: &str, lead: &str| {
        let line = format!("{lead}\t{pairs}");
        let Run { records, dead, .. } = run(zone, &[line.as_bytes()]);
        match (records.first(), dead.first()) {
            (Some(r), None) => r["ts"].as_str().unwrap_or_default().to_owned(),
            (None, Some((reason, _))) => format!("{reason:?}"),
            other => panic!("{lead}: {other:?}"),
        }
    };
    let la = "America/Los_Angeles";
    for (lead, want) in [
        ("Sat Nov 22 08:26:40 2025", "2025-11-22T16:26:40Z"),
        ("Sat Nov 22 08:26:40 2025 UTC", "2025-11-22T08:26:40Z"),
        ("Sat Nov 22 08:26:40 2025 +0000", "2025-11-22T08:26:40Z"),
        ("Sat Nov 22 08:26:40 2025 -08:00", "2025-11-22T16:26:40Z"),
        (
            "Sat Nov 22 08:26:40 2025 Europe/Paris",
            "2025-11-22T07:26:40Z",
        ),
        // After a ctime's year, an abbreviation could be a sender's host before a record
        // without a tag (`NSS`): the line is a header's, its stamp in the feed's zone.
        ("Sat Nov 22 08:26:40 2025 PST", "2025-11-22T16:26:40Z"),
        ("Sat Nov 22 08:26:40 2025 NSS", "2025-11-22T16:26:40Z"),
        ("Sat Nov 22 08:26:40 PST 2025", "2025-11-22T16:26:40Z"),
        ("Sat Nov 22 08:26:40 CST 2025", "BadTime"),
        ("2025-11-22 08:26:40 PST", "2025-11-22T16:26:40Z"),
        ("2025-11-22 08:26:40 UTC", "2025-11-22T08:26:40Z"),
        ("2025-11-22 08:26:40 CST", "BadTime"),
        // From the value-fidelity audit: a time's shape with a date or clock that is none was
        // skipped as template text, and the record dated when it was read.
        ("2025-02-30 08:26:40", "BadTime"),
        ("2025-11-22 25:00:00", "BadTime"),
        ("2025-13-01 08:26:40", "BadTime"),
        ("0000-00-00 00:00:00", "BadTime"),
        ("2025-11-31T08:26:40Z", "BadTime"),
        ("Sun Feb 30 08:26:40 2025", "BadTime"),
        ("Sun Feb 30 08:26:40.250 2025 UTC", "BadTime"),
        ("2025-02-30T08:26:40+01:00", "BadTime"),
    ] {
        assert_eq!(ts(la, lead), want, "{lead}");
    }
    // A good time followed by a host or a template's word is text, as before: the record's
    // time is its `datetime` pair's (from a review: it became a `bad_time`).
    for lead in [
        "2025-11-22 08:26:40 fw01",
        "2025-11-22 08:26:40 ZSCALERNSS",
        "2025-02-30 08:26:40 host.corp.example",
    ] {
        let line = format!("{lead}\tdatetime=2025-11-22 09:00:00\t{pairs}");
        let Run { records, dead, .. } = run(la, &[line.as_bytes()]);
        assert!(dead.is_empty(), "{lead}: {dead:?}");
        assert_eq!(records[0]["ts"], "2025-11-22T17:00:00Z", "{lead}");
    }
    assert_eq!(ts("Europe/Paris", "2025-11-22 08:26:40 PST"), "BadTime");
    // A relay's header before such a line is still a header.
    assert_eq!(
        ts(
            la,
            "<134>Nov 22 10:15:01 relay01 nss: Sat Nov 22 08:26:40 2025 UTC"
        ),
        "2025-11-22T08:26:40Z"
    );
}

#[test]
fn space_separated_values_hold_spaces_equals_and_escaped_quotes() {
    let line = r#"ZSCALERNSS: time=Mon Jun 20 15:29:11 2022 ClientIP=10.1.2.3 hostname=example.com useragent="Agent \"x\" a=b \\ c" requestmethod=GET status=200 user=a b@example.com location="HQ""#;
    let r = one(ZONE, line);
    assert_eq!(
        r["ts"], "2022-06-20T15:29:11Z",
        "time runs to the next ` name=`"
    );
    assert_eq!(r["user_agent"], r#"Agent "x" a=b \ c"#);
    assert_eq!(r["user"], "a b@example.com");
    assert_eq!(r["location"], "HQ", "a quoted value at the end");
    assert_eq!(r["method"], "GET");
    assert_eq!(r["src_ip"], "10.1.2.3");
    // The record writer escapes what the value holds: the line is JSON, the value intact.
    let text = run(ZONE, &[line.as_bytes()]).text;
    assert!(
        text.contains(r#""user_agent":"Agent \"x\" a=b \\ c""#),
        "{text}"
    );
}

/// With spaces, a user agent that starts with a quoted word: the quote after it is followed by
/// more of the value, not by the next pair, so it closes nothing and the value is whole.
#[test]
fn a_space_separated_value_that_only_starts_quoted_is_kept_whole() {
    let r = one(
        ZONE,
        r#"ClientIP=10.1.2.3 useragent="Quoted" Agent/1.0 (X11) requestmethod=GET status=200"#,
    );
    assert_eq!(r["user_agent"], r#""Quoted" Agent/1.0 (X11)"#);
    assert_eq!(r["method"], "GET");
}

/// What README.md says of client-written text: in a tab-separated line an agent that holds a tab
/// ends there, and what the client wrote after it reads as pairs. A key written twice with two
/// values is left out of the record, wherever the template puts the agent, and the line is kept
/// as a dead letter too; a pair of a key the template lacks cannot be told from NSS's. In JSON with the encoded agent (`%s{eua}`) the same text stays the
/// agent's.
#[test]
fn a_tab_in_a_raw_agent_makes_pairs_and_an_encoded_one_does_not() {
    let forged = "x\tdevicehostname=ceo-pc\tuser=ceo@corp";
    let agent_first = format!(
        "ClientIP=10.1.2.3\tuseragent={forged}\tuser=bob@corp\tdevicehostname=bob-pc\tproduct=NSS"
    );
    let agent_last = format!(
        "ClientIP=10.1.2.3\tuser=bob@corp\tdevicehostname=bob-pc\tuseragent={forged}\tproduct=NSS"
    );
    // Neither device nor user: the device is the client's address (DESIGN §2.4).
    let by_ip = format!("{:016x}", xxhash_rust::xxh3::xxh3_64(b"10.1.2.3"));
    for line in [&agent_first, &agent_last] {
        let r = contested(ZONE, line);
        assert_eq!(
            (
                r.get("device"),
                r.get("user"),
                &r["device_id"],
                &r["src_ip"]
            ),
            (None, None, &json!(by_ip), &json!("10.1.2.3")),
            "{line}: {r}"
        );
        assert_eq!(r["user_agent"], "x", "the agent, up to its tab");
    }
    // With spaces between the pairs, ` name=` in an agent is a pair just as well.
    let spaced = "ClientIP=10.1.2.3 useragent=Agent/1.0 user=ceo@corp user=bob@corp product=NSS";
    let r = contested(ZONE, spaced);
    assert_eq!(
        (r.get("user"), &r["user_agent"]),
        (None, &json!("Agent/1.0"))
    );
    // Without the forged keys the same line is bob's record, and a key the template lacks is
    // read as a pair of it (README says so).
    let r = one(ZONE, &agent_first.replace(forged, "x\tdepartment=Finance"));
    assert_eq!(
        (
            r["device"].as_str(),
            r["user"].as_str(),
            r["user_agent"].as_str()
        ),
        (Some("bob-pc"), Some("bob@corp"), Some("x"))
    );

    let encoded = forged.replace('\t', "%09");
    let json = format!(
        r#"{{"sourcetype":"zscalernss-web","event":{{"ClientIP":"10.1.2.3","useragent":"{encoded}","user":"bob@corp","devicehostname":"bob-pc","product":"NSS"}}}}"#
    );
    let r = one(ZONE, &json);
    assert_eq!(
        (r["device"].as_str(), r["user"].as_str()),
        (Some("bob-pc"), Some("bob@corp"))
    );
    assert_eq!(r["user_agent"], forged);
}

/// Two names for one value (`ClientIP` and `cip`) are a template's choice, not a repeat.
#[test]
fn two_names_for_one_field_are_no_repeat() {
    let rest = "user=bob@corp\tdevicehostname=bob-pc\tproduct=NSS";
    for (first, second) in [
        ("ClientIP=10.1.2.3", "cip=10.9.9.9"),
        ("cip=10.9.9.9", "ClientIP=10.1.2.3"),
    ] {
        let r = one(ZONE, &format!("{first}\t{second}\t{rest}"));
        assert_eq!(
            r["src_ip"],
            first.split_once('=').unwrap().1,
            "the first wins"
        );
    }
}

#[test]
fn a_quote_that_closes_nothing_stays_in_the_value() {
    let r = one(
        ZONE,
        "ClientIP=10.1.2.3\tstatus=200\tuseragent=\"half quoted\tproduct=NSS\trequestmethod=GET",
    );
    assert_eq!(r["user_agent"], "\"half quoted");
    assert_eq!(r["method"], "GET");
}

/// A separator that no pair follows is the value's, not text between pairs skipped without a
/// trace: an agent's tab (NSS encodes none in `%s{ua}`), a NetWitness file name's `^^`. The
/// record's JSON escapes the tab (`one` reads it back as JSON).
#[test]
fn a_separator_before_text_that_is_no_pair_stays_in_the_value() {
    let r = one(
        ZONE,
        "ClientIP=10.1.2.3\tstatus=200\tuseragent=Mozilla/5.0\tEvil Agent\tproduct=NSS\trequestmethod=GET",
    );
    assert_eq!(r["user_agent"], "Mozilla/5.0\tEvil Agent");
    assert_eq!(r["method"], "GET");
    let r = one(
        ZONE,
        "ClientIP=10.1.2.3\tstatus=200\tuseragent=\"Quoted\"\tAgent\tproduct=NSS",
    );
    assert_eq!(
        r["user_agent"], "\"Quoted\"\tAgent",
        "the quote closes nothing"
    );
    let r = one(
        ZONE,
        "ZSCALERNSS: time=Sat Nov 30 11:21:57 2019^^timezone=UTC^^action=Blocked^^\
         ClientIP=10.1.2.3^^url=example.com/Q3^^final.pdf^^product=NSS^^status=403",
    );
    assert_eq!(r["url"], "example.com/Q3^^final.pdf");
    assert_eq!(r["http_status"], 403);
}

/// The separator is the one that ends the first value (found by an audit): a space-separated
/// line whose agent held a tab, or whose agent or URL held a `^^` (NSS encodes neither there),
/// was read as separated by it, every pair before it one value, and the record was a dead
/// letter. So was a tab-separated line whose first value held a `^^`.
#[test]
fn a_tab_or_carets_inside_a_space_separated_value_keeps_the_record() {
    let line = |agent: &str, url: &str| {
        format!(
            "2026-12-07 08:39:01 reason=Allowed event_id=5001 protocol=HTTPS action=Allowed \
             requestsize=10 responsesize=20 urlcategory=Web Search serverip=1.2.3.4 \
             requestmethod=GET useragent={agent} location=HQ ClientIP=10.6.6.6 status=200 \
             user=eve@acme.com url={url} hostname=www.example.com devicehostname=EVE-PC \
             deviceowner=eve"
        )
    };
    let cases = [
        (
            "Mozilla/5.0 (X11;\tLinux x86_64) Firefox/120.0",
            "www.example.com/index.html",
        ),
        ("Evil^^Agent/1.0", "www.example.com/index.html"),
        ("Mozilla/5.0", "www.example.com/search?q=a^^b"),
    ];
    for (agent, url) in cases {
        let r = one(ZONE, &line(agent, url));
        assert_eq!(r["kind"], "zia.web", "{agent} {url}");
        assert_eq!(r["user_agent"], agent);
        assert_eq!(r["url"], url);
        assert_eq!(r["device"], "EVE-PC");
        assert_eq!(r["user"], "eve@acme.com");
        assert_eq!(r["owner"], "eve");
        assert_eq!(r["category"], "Web Search");
        assert_eq!(r["dst_port"], 443);
        assert_eq!(r["http_status"], 200);
    }
    let r = one(
        ZONE,
        "reason=Blocked^^by policy\tevent_id=5002\tClientIP=10.6.6.6\tstatus=403\t\
         devicehostname=EVE-PC\tsourcetype=zscalernss-web",
    );
    assert_eq!(r["kind"], "zia.web");
    assert_eq!(r["record_id"], "5002");
    assert_eq!(r["http_status"], 403);
    assert_eq!(r["device"], "EVE-PC");
}

#[test]
fn netwitness_carets_after_static_text() {
    let input = corpus("beats-zia-web-netwitness-kv-malformed.log");
    let published = lines(&input);
    // Elastic's generator wrote lorem-ipsum weekdays (`ali`, `llamco`) and a one-digit hour: no
    // ctime NSS writes. A time that is there but unreadable is refused, not replaced.
    for line in &published {
        assert_eq!(dead_reason(ZONE, line), Reason::BadTime);
    }
    // With the weekday 30 November 2019 really had, the same frame is a web record.
    let fixed = String::from_utf8(published[0].to_vec())
        .unwrap()
        .replace("time=ali Nov 30", "time=Sat Nov 30");
    let r = one(ZONE, &fixed);
    assert_eq!(r["kind"], "zia.web");
    assert_eq!(
        r["ts"], "2019-11-30T11:21:57Z",
        "timezone=CET: the zone database's CET, UTC+1 in November"
    );
    assert_eq!(r["src_ip"], "10.172.17.6");
    assert_eq!(r["dst_ip"], "10.109.192.53");
    assert_eq!(r["dst_host"], "onsequ3168.www.corp");
    assert_eq!(r["user"], "eprehen");
    assert_eq!(
        r["user_agent"],
        "Mozilla/5.0 (Linux; Android 6.0; U20 Build/MRA58K) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/44.0.2403.147 Mobile Safari/537.36 YaApp_Android/10.90 YaSearchBrowser/10.90"
    );
    assert_eq!(r["bytes_out"], 212);
    assert_eq!(r["bytes_in"], 4053);
    assert_eq!(r["action"], "blocked");
    assert!(r.get("http_status").is_none(), "status=suntin is no number");
}

#[test]
fn product_recordtype_and_sourcetype_say_the_log_type() {
    let fw = one(
        ZONE,
        "2024-03-01 10:00:00\tvendor=Zscaler\tproduct=fw\tcsip=10.1.2.3\tcsport=5555\t\
         cdip=203.0.113.9\tcdport=443\tipproto=TCP\taction=Allow\tdevicehostname=LAPTOP-1",
    );
    assert_eq!(fw["kind"], "zia.firewall");
    assert_eq!(fw["src_port"], 5555);
    assert_eq!(fw["transport"], "tcp");
    let dns = one(
        ZONE,
        "2024-03-01 10:00:00\tvendor=Zscaler\tproduct=dns\tcip=10.1.2.3\treq=example.com\treqtype=A",
    );
    assert_eq!(dns["kind"], "zia.dns");
    assert_eq!(dns["query"], "example.com");
    let tunnel = one(
        ZONE,
        "Wed May  4 08:42:00 2022\tRecordtype=Tunnel Event\tuser=a@example.com\tsourceip=1.2.3.4",
    );
    assert_eq!(tunnel["kind"], "zia.tunnel");
    assert_eq!(tunnel["record_type"], "Tunnel Event");
    // A relay's own sourcetype decides nothing: `Recordtype=` (and `product=`) still do, where
    // two keys are too few for their votes to.
    let relayed = one(
        ZONE,
        "Wed May  4 08:42:00 2022\tsourcetype=_json\tRecordtype=Tunnel Event\tuser=a@example.com",
    );
    assert_eq!(relayed["kind"], "zia.tunnel");
    // An explicit sourcetype wins over product=.
    let audit = one(
        ZONE,
        "sourcetype=zscalernss-audit\tproduct=NSS\ttime=Mon Jun 20 15:29:11 2022\tadminid=x@example.com\t\
         action=SIGN_IN\tclientip=10.1.2.3",
    );
    assert_eq!(audit["kind"], "zia.audit");
    assert_eq!(audit["user"], "x@example.com");
    assert_eq!(
        dead_reason(
            ZONE,
            b"sourcetype=zscalernss-alerts\tcip=1.2.3.4\treq=x\treqtype=A"
        ),
        Reason::UnknownType
    );
    // A product this reader does not know (cut inside a character, as the fuzzer found): the keys
    // decide.
    let web = one(
        ZONE,
        "product=tunn\u{e9}l\tClientIP=10.1.2.3\tstatus=200\trequestmethod=GET\turl=a.example/",
    );
    assert_eq!(web["kind"], "zia.web");
}

#[test]
fn product_nss_on_another_type_s_keys_is_that_type() {
    // `product=NSS` is what Zscaler's Splunk web template writes; templates made from it for
    // other log types keep it. A JSON frame's `"product":"NSS"` names no type, and neither may
    // this when the keys are another type's own (a tester's DNS feed became web records with an
    // invented port 18000 and no query).
    let line = "datetime=Wed Dec  4 10:15:06 2024\trecordid=7534021044391772171\tuser=jdoe@acme.com\t\
                reqaction=Allow\tresaction=Allow\treqrulelabel=DNS 1\tdns_reqtype=MX\tdns_req=acme.com\t\
                dns_resp=mx.acme.com\tsrv_dport=53\tdurationms=4\tclt_sip=10.1.2.4\tsrv_dip=8.8.4.4\t\
                devicehostname=KV-DNS-tab\tproduct=NSS\tvendor=Zscaler";
    for text in [line.to_string(), line.replace('\t', "^^")] {
        let dns = one(ZONE, &text);
        assert_eq!(dns["kind"], "zia.dns", "{text}");
        assert_eq!(dns["query"], "acme.com");
        assert_eq!(dns["query_type"], "MX");
        assert_eq!(dns["answer"], "mx.acme.com");
        assert_eq!(dns["duration_ms"], 4);
        assert_eq!(dns["transport"], "udp");
    }
    // The web template's own frames stay web, with or without keys only web has.
    let web = one(ZONE, "ClientIP=10.1.2.3\tproduct=NSS\tstatus=200");
    assert_eq!(web["kind"], "zia.web");
}

#[test]
fn invalid_utf8_is_a_dead_letter() {
    assert_eq!(
        dead_reason(
            ZONE,
            b"ClientIP=10.1.2.3\tproduct=NSS\tuser=a\xff\tstatus=200"
        ),
        Reason::InvalidUtf8
    );
}

/// The records of the same synthetic web feed written in two dialects.
fn same_records(other: Dialect) -> usize {
    let records = |dialect| {
        let text = WebGenerator::new(7, dialect, Cardinality::default()).lines(300);
        let lines: Vec<&[u8]> = text.lines().map(str::as_bytes).collect();
        let run = run(ZONE, &lines);
        assert!(run.dead.is_empty(), "{dialect:?}: {:?}", run.dead.first());
        run.records
    };
    let (json, them) = (records(Dialect::Ztel), records(other));
    assert_eq!(json.len(), them.len());
    let mut fewest = usize::MAX;
    for (a, b) in json.iter().zip(&them) {
        let (Value::Object(a), Value::Object(b)) = (a, b) else {
            panic!("records are objects");
        };
        let mut shared = 0;
        for (key, value) in a {
            if let Some(theirs) = b.get(key) {
                assert_eq!(value, theirs, "{other:?}: {key}");
                shared += 1;
            }
        }
        fewest = fewest.min(shared);
    }
    fewest
}

#[test]
fn the_splunk_feed_maps_onto_the_records_json_gives() {
    let shared = same_records(Dialect::Kv);
    assert!(shared >= 20, "only {shared} fields in common");
    // And the record the key=value frame gives is one the schema allows, with the same record id.
    let text = WebGenerator::new(7, Dialect::Kv, Cardinality::default()).lines(1);
    let r = one(ZONE, text.trim_end());
    assert_eq!(r["record_id"], json!("7300000007000000001"));
}

/// A `product=` names the log type of a line without a Zscaler sourcetype: a second one that
/// names another type is a client's (README).
#[test]
fn a_second_product_that_names_another_type_is_a_repeat() {
    let line = |agent: &str| {
        format!("ClientIP=10.1.2.3\tuseragent={agent}\tuser=bob@corp\tdevicehostname=bob-pc\tproduct=NSS")
    };
    let forged = line("x\tproduct=fw");
    assert_eq!(dead_reason(ZONE, forged.as_bytes()), Reason::RepeatedKey);
    assert_eq!(one(ZONE, &line("x\tproduct=NSS"))["kind"], "zia.web");
    // A `Recordtype=` (tunnel logs') before the product says less than the product does.
    let r = one(ZONE, &line("x\tRecordtype=IKE"));
    assert_eq!(r["kind"], "zia.web", "{r}");
    assert_eq!(r["device"], "bob-pc");
}
