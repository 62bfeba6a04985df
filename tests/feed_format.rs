//! The feed formats `ztel feed-format` prints, filled in as NSS and LSS fill them: every record
//! they make must parse into the record it describes. ZIA web end to end through the real binary
//! (the template as printed, the records as written), ZPA user activity through a shard's pipeline.

mod common;

use std::collections::HashMap;

use common::*;
use serde_json::{json, Value};

#[test]
fn zia_web_records_parse() {
    let (status, help, stderr) = run_ztel(&["feed-format", "zia-web"]);
    assert!(status.success(), "{stderr}");
    let template = help.lines().last().expect("a last line");
    assert!(
        template.starts_with(r"\{"),
        "the last line is the template: {template}"
    );

    // Three samples: (variable values, then what the record must say).
    struct Sample {
        vars: HashMap<&'static str, String>,
        want: Value,
    }
    let sample = |i: u64,
                  login: (&str, &str),
                  proto: &str,
                  eurl: (&str, &str),
                  host: &str,
                  dst_port: u64,
                  ts: &str| {
        let vars: HashMap<&str, String> = [
            ("epochtime", (1_700_000_000 + i * 61).to_string()),
            ("recordid", (9_000_001 + i).to_string()),
            ("elogin", login.0.to_owned()),
            ("proto", proto.to_owned()),
            ("eurl", eurl.0.to_owned()),
            ("ehost", host.to_owned()),
            (
                "action",
                if i == 1 { "Blocked" } else { "Allowed" }.to_owned(),
            ),
            (
                "reqmethod",
                ["GET", "POST", "CONNECT"][i as usize].to_owned(),
            ),
            ("respcode", if i == 1 { "403" } else { "200" }.to_owned()),
            ("reqsize", (700 + i).to_string()),
            ("respsize", (12_000 + i).to_string()),
            ("cip", format!("198.51.100.{}", 10 + i)),
            ("cintip", format!("10.0.0.{}", 10 + i)),
            ("sip", format!("203.0.113.{}", 20 + i)),
            ("urlcat", "Professional Services".to_owned()),
            ("deviceowner", format!("owner{i}")),
            ("devicehostname", format!("LAPTOP-0{i}")),
            ("eua", "Mozilla/5.0%20(X11;%20Linux)".to_owned()),
            ("ereferer", "None".to_owned()),
            ("elocation", "HQ%20Office".to_owned()),
            ("edepartment", "Research%20Lab".to_owned()),
            ("appname", "General Browsing".to_owned()),
            ("threatname", "None".to_owned()),
            ("malwarecat", "None".to_owned()),
            ("riskscore", (i * 10).to_string()),
        ]
        .into_iter()
        .collect();
        let method = ["GET", "POST", "CONNECT"][i as usize];
        let want = serde_json::json!({
            "ts": ts,
            "kind": "zia.web",
            "device": format!("LAPTOP-0{i}"),
            "user": login.1,
            "owner": format!("owner{i}"),
            "src_ip": format!("198.51.100.{}", 10 + i),
            "src_port": 18000,
            "dst_ip": format!("203.0.113.{}", 20 + i),
            "dst_port": dst_port,
            "dst_host": host,
            "transport": "tcp",
            "app_proto": proto.to_ascii_lowercase(),
            "bytes_out": 700 + i,
            "bytes_in": 12_000 + i,
            "action": if i == 1 { "blocked" } else { "allowed" },
            "method": method,
            "http_status": if i == 1 { 403 } else { 200 },
            "url": eurl.1,
            "category": "Professional Services",
            "user_agent": "Mozilla/5.0 (X11; Linux)",
            "app": "General Browsing",
            "location": "HQ Office",
            "department": "Research Lab",
            "risk": i * 10,
            "record_id": (9_000_001 + i).to_string(),
            "tags": ["ZIA"],
        });
        Sample { vars, want }
    };
    let samples = [
        sample(
            0,
            ("alice@example.com", "alice@example.com"),
            "HTTPS",
            ("www.example.com/a%20b", "www.example.com/a b"),
            "www.example.com",
            443,
            "2023-11-14T22:13:20Z",
        ),
        sample(
            1,
            ("Doe%2C%20Jane", "Doe, Jane"),
            "HTTP",
            (
                "intranet.example.org:8080/q?x=%22y%22%2Cz",
                "intranet.example.org:8080/q?x=\"y\",z",
            ),
            "intranet.example.org",
            8080,
            "2023-11-14T22:14:21Z",
        ),
        sample(
            2,
            ("bob@example.com", "bob@example.com"),
            "HTTPS",
            ("www.example.net/caf%C3%A9", "www.example.net/café"),
            "www.example.net",
            443,
            "2023-11-14T22:15:22Z",
        ),
    ];
    let rendered: Vec<String> = samples
        .iter()
        .map(|s| render_nss(template, &s.vars))
        .collect();
    for line in &rendered {
        assert_eq!(
            line.matches('\n').count(),
            1,
            "one LF, at the end: {line:?}"
        );
        assert!(line.ends_with('\n'));
        serde_json::from_str::<Value>(line).expect("a rendered template line is JSON");
    }

    let collector = Collector::start("feed-format");
    collector.send(rendered.concat().as_bytes());
    let out = collector.stop();

    assert!(out.dead_letters.is_empty(), "{:?}", out.dead_letters);
    assert_eq!(out.records.len(), 3);
    let by_id: HashMap<u64, &Value> = out
        .records
        .iter()
        .map(|r| (common::record_id(r).expect("record_id"), r))
        .collect();
    for s in &samples {
        let id = common::record_id(&s.want).expect("sample has a record_id");
        let mut got = by_id
            .get(&id)
            .copied()
            .expect("record for each sample")
            .clone();
        let device_id = got.as_object_mut().unwrap().remove("device_id");
        assert!(device_id.is_some_and(|d| d.as_str().is_some_and(|d| d.len() == 16)));
        assert_eq!(got, s.want);
    }

    // Fields come in the order DESIGN §2.4 gives, absent ones left out.
    let text = std::fs::read_to_string(out.data.join("connections.jsonl")).unwrap();
    for line in text.lines() {
        let keys = key_order(line);
        let order: Vec<&str> = ZIA_WEB_FIELDS
            .iter()
            .copied()
            .filter(|f| keys.iter().any(|k| k == f))
            .collect();
        assert_eq!(keys, order, "{line}");
    }
}

#[test]
fn zia_web_optional_ports_parse() {
    let (status, help, stderr) = run_ztel(&["feed-format", "zia-web"]);
    assert!(status.success(), "{stderr}");
    let lines: Vec<&str> = help.lines().collect();
    let template = *lines.last().expect("a last line");
    // The help says which fields to insert, on the line after "# insert", and where: just
    // before the closing `\}\}`.
    let at = lines
        .iter()
        .position(|l| l.trim_end() == "# insert")
        .expect("a \"# insert\" line");
    let ports = lines[at + 1].trim_start_matches('#').trim();
    assert!(
        ports.contains("%d{clt_sport}") && ports.contains("%d{srv_dport}"),
        "{ports}"
    );
    let close = template.rfind(r"\}\}").expect("closing braces");
    let template = format!("{}{ports}{}", &template[..close], &template[close..]);

    let vars: HashMap<&str, String> = [
        ("epochtime", "1700000000"),
        ("recordid", "9100001"),
        ("elogin", "carol@example.com"),
        ("proto", "HTTPS"),
        ("eurl", "secure.example.com/login"),
        ("ehost", "secure.example.com"),
        ("action", "Allowed"),
        ("reqmethod", "GET"),
        ("respcode", "200"),
        ("reqsize", "321"),
        ("respsize", "4321"),
        ("cip", "198.51.100.77"),
        ("cintip", "10.0.0.77"),
        ("sip", "203.0.113.77"),
        ("urlcat", "Finance"),
        ("deviceowner", "carol"),
        ("devicehostname", "DESKTOP-77"),
        ("eua", "curl/8.0"),
        ("ereferer", "None"),
        ("elocation", "None"),
        ("edepartment", "None"),
        ("appname", "None"),
        ("threatname", "None"),
        ("malwarecat", "None"),
        ("riskscore", "0"),
        ("clt_sport", "51515"),
        ("srv_dport", "8443"),
    ]
    .into_iter()
    .map(|(k, v)| (k, v.to_owned()))
    .collect();
    let line = render_nss(&template, &vars);
    serde_json::from_str::<Value>(&line).expect("rendered line is JSON");

    let collector = Collector::start("feed-format-ports");
    collector.send(line.as_bytes());
    let out = collector.stop();

    assert!(out.dead_letters.is_empty(), "{:?}", out.dead_letters);
    assert_eq!(out.records.len(), 1);
    let r = &out.records[0];
    assert_eq!(
        r["src_port"], 51515,
        "the feed's client port, not the simulated one: {r}"
    );
    assert_eq!(
        r["dst_port"], 8443,
        "the feed's server port wins over the protocol's: {r}"
    );
    assert_eq!(r["record_id"], "9100001");
    assert_eq!(r["device"], "DESKTOP-77");
}

#[test]
fn zpa_user_activity_records_parse() {
    let template = ztel::cli::feed_format::LogType::ZpaUserActivity.template();
    let line = render_lss(
        &template,
        &[
            ("LogTimestamp", "Thu Jan 18 10:31:05 2024"),
            ("SessionID", "S1"),
            ("ConnectionID", "S1,C1"),
            ("ConnectionStatus", "close"),
            ("IPProtocol", "6"),
            ("Username", "bob@example.com"),
            ("ClientPublicIP", "198.51.100.9"),
            ("ClientPrivateIP", "10.9.9.9"),
            ("Policy", "P"),
            ("Connector", "dc1"),
            ("ConnectorIP", "10.0.0.5"),
            ("ConnectorPort", "50123"),
            ("Host", "git.corp"),
            ("Application", "Git"),
            ("AppGroup", "Dev"),
            ("ServerIP", "10.20.0.9"),
            ("ServerPort", "22"),
            ("TimestampConnectionStart", "2024-01-18T10:31:01.152Z"),
            ("TimestampConnectionEnd", "2024-01-18T10:31:05.001Z"),
            ("ZENBytesRxClient", "3000"),
            ("ZENBytesTxClient", "90000"),
            ("Platform", "windows"),
            ("Hostname", "LAPTOP-BOB"),
        ],
    );
    // The feed zone is for NSS: LSS times must not move with it.
    let batch = run_pipeline("Asia/Tokyo", &[line.as_bytes()]);
    assert!(batch.dead.is_empty(), "{:?}", batch.dead);
    let records = batch_records(&batch);
    assert_eq!(records.len(), 1);
    let r = &records[0];
    assert_eq!(r["device"], "LAPTOP-BOB");
    assert_eq!(r["user"], "bob@example.com");
    assert_eq!(r["dst_port"], 22);
    assert_eq!(r["status"], "close");
    assert_eq!(r["end"], "2024-01-18T10:31:05.001Z");
    assert_eq!(
        (r["bytes_out"].clone(), r["bytes_in"].clone()),
        (json!(3000), json!(90000))
    );
}

/// `ztel --help` names what the collector takes, as `feed-format` lists it: it once named ZIA web
/// and ZPA user activity only, long after every other log type and feed format was read.
#[test]
fn the_help_names_every_log_family_input_and_format() {
    let (status, help, stderr) = run_ztel(&["--help"]);
    assert!(status.success(), "{stderr}");
    for word in [
        "web",
        "firewall",
        "DNS",
        "tunnel",
        "admin audit",
        "SaaS security",
        "user activity",
        "browser access",
        "App Connector status",
        "NSS",
        "Cloud NSS",
        "LSS",
        "TLS",
        "JSON",
        "LEEF",
        "CEF",
        "key=value",
        "CSV",
        "feed-format",
    ] {
        assert!(
            help.contains(word),
            "--help does not name {word:?}:\n{help}"
        );
    }
}
