//! The ZPA attribution table across restarts of the real binary: a clean stop (SIGTERM) saves
//! it in `data_dir` and the next start loads it, so that `/attribution` answers as before, for
//! open, closed and superseded connections alike; a saved table of another version or a torn
//! one is one log line and an empty table, never a failed start; and after a crash (`kill -9`)
//! the table of the last clean stop answers again.

mod common;

use std::net::SocketAddr;
use std::path::Path;

use common::{http_get, Collector, Options, Outcome};
use jiff::{SignedDuration, Timestamp};

/// The saved table, in `data_dir`.
const FILE: &str = "attribution.table";

/// The feed's reference time: every connection is placed around it.
fn t(offset_secs: i64) -> Timestamp {
    let base: Timestamp = "2024-01-18T10:00:00Z".parse().unwrap();
    base + SignedDuration::from_secs(offset_secs)
}

/// One connection of the feed: its 4-tuple (connector port; the rest is shared), who, and
/// its times as offsets from [`t`].
struct Conn {
    id: &'static str,
    connector_port: u16,
    user: &'static str,
    start: i64,
}

/// An LSS User Activity record of `c`: open (no end) when `end` is None. Its LogTimestamp is
/// `logged`, the record's time, which the table's clock follows.
fn lss(c: &Conn, end: Option<i64>, logged: i64) -> String {
    let (status, end) = match end {
        Some(e) => ("close", t(e).to_string()),
        None => ("open", String::new()),
    };
    format!(
        r#"{{"LogTimestamp": "{}","SessionID": "S-{user}","ConnectionID": "{id}","ConnectionStatus": "{status}","IPProtocol": 6,"Username": "{user}@example.com","Hostname": "HOST-{user}","ClientPrivateIP": "10.1.2.3","Connector": "dc1","ConnectorIP": "192.168.1.10","ConnectorPort": {port},"ServerIP": "10.9.9.9","ServerPort": 443,"TimestampConnectionStart": "{start}","TimestampConnectionEnd": "{end}"}}"#,
        t(logged).strftime("%a %b %d %H:%M:%S %Y"),
        user = c.user,
        id = c.id,
        port = c.connector_port,
        start = t(c.start),
    )
}

const CLOSED: Conn = Conn {
    id: "SC,C1",
    connector_port: 1,
    user: "closed",
    start: 0,
};
const OPEN: Conn = Conn {
    id: "SO,C2",
    connector_port: 2,
    user: "open",
    start: 0,
};
/// Open, then another connection on its 4-tuple starts at +100 and ends at +110: the first
/// ended at +100 at the latest, and with the grace (5 min) answers until +400 only.
const FIRST: Conn = Conn {
    id: "SF,C3",
    connector_port: 3,
    user: "first",
    start: 0,
};
const NEXT: Conn = Conn {
    id: "SN,C4",
    connector_port: 3,
    user: "next",
    start: 100,
};
/// Ended half an hour before the feed's time: past its grace, within the hour kept.
const ENDED: Conn = Conn {
    id: "SE,C5",
    connector_port: 4,
    user: "ended",
    start: -1800,
};

/// The feed: every record of the connections above.
fn feed() -> String {
    [
        lss(&ENDED, None, -1800),
        lss(&ENDED, Some(-1700), -1700),
        lss(&CLOSED, None, 0),
        lss(&CLOSED, Some(60), 60),
        lss(&OPEN, None, 0),
        lss(&FIRST, None, 0),
        lss(&NEXT, None, 100),
        lss(&NEXT, Some(110), 110),
    ]
    .map(|l| l + "\n")
    .concat()
}

/// The lookups compared across a restart: each connector port at times inside, at the edges
/// of and past each connection's window.
fn queries() -> Vec<String> {
    let mut queries = Vec::new();
    for port in 1..=4 {
        for at in [
            -1801, -1800, -1750, -1700, -1400, -1399, -1, 0, 30, 60, 99, 100, 105, 360, 361, 400,
            401, 410, 411, 3600, 86_400, 86_401,
        ] {
            queries.push(format!(
                "/attribution?connector_ip=192.168.1.10&connector_port={port}\
                 &server_ip=10.9.9.9&server_port=443&at={}",
                t(at)
            ));
        }
    }
    queries
}

/// Every query's status and body.
fn answers(admin: SocketAddr) -> Vec<(String, u16, String)> {
    queries()
        .into_iter()
        .map(|q| {
            let (status, body) = http_get(admin, &q);
            (q, status, body)
        })
        .collect()
}

/// The user `/attribution` names for connector port `port` at `at`, if any.
fn who(admin: SocketAddr, port: u16, at: i64) -> Option<String> {
    let q = format!(
        "/attribution?connector_ip=192.168.1.10&connector_port={port}&server_ip=10.9.9.9\
         &server_port=443&at={}",
        t(at)
    );
    let (status, body) = http_get(admin, &q);
    let body: serde_json::Value = serde_json::from_str(&body).expect("JSON");
    assert_eq!(status == 200, body["found"] == true, "{body}");
    body["user"].as_str().map(str::to_owned)
}

/// A first run that took the feed and was stopped with SIGTERM; its answers then.
fn first_run(tag: &str) -> (Outcome, Vec<(String, u16, String)>) {
    let collector = Collector::start_with(tag, Options::binary_with_admin(None));
    let admin = collector.listening["admin"];
    collector.send(feed().as_bytes());
    common::wait_for_metric(admin, "ztel_attribution_entries", |n| n == 5.0);
    let before = answers(admin);
    // What the feed says, so that the comparison below compares answers that mean something.
    assert_eq!(who(admin, 1, 30).as_deref(), Some("closed@example.com"));
    assert_eq!(who(admin, 1, 361), None, "past the end and grace");
    assert_eq!(who(admin, 2, 3600).as_deref(), Some("open@example.com"));
    assert_eq!(who(admin, 3, 99).as_deref(), Some("first@example.com"));
    assert_eq!(who(admin, 3, 105).as_deref(), Some("next@example.com"));
    assert_eq!(
        who(admin, 3, 411),
        None,
        "the first ended when the next started"
    );
    assert_eq!(who(admin, 4, -1750).as_deref(), Some("ended@example.com"));
    assert_eq!(who(admin, 4, -1399), None);
    let outcome = collector.stop();
    (outcome, before)
}

fn assert_same(before: &[(String, u16, String)], after: &[(String, u16, String)]) {
    assert_eq!(before.len(), after.len());
    for (b, a) in before.iter().zip(after) {
        assert_eq!(b, a, "the answer changed across the restart");
    }
}

#[test]
fn a_clean_restart_answers_every_lookup_as_before() {
    let (outcome, before) = first_run("attr-restart-1");
    let collector = Collector::start_with(
        "attr-restart-2",
        Options::binary_with_admin(Some(outcome.data.clone())),
    );
    let admin = collector.listening["admin"];
    assert_same(&before, &answers(admin));
    common::wait_for_metric(admin, "ztel_attribution_entries", |n| n == 5.0);

    // The restored entries go on as if there had been no restart: the open connection's close
    // updates its entry (a second entry would leave the open one answering), and a new one on
    // the first's 4-tuple supersedes nothing it should not.
    collector.send(lss(&OPEN, Some(200), 200).as_bytes());
    common::wait_for(common::DEADLINE, || {
        who(admin, 2, 501).is_none().then_some(())
    })
    .expect("the open connection's close, after the restart, ends it");
    assert_eq!(who(admin, 2, 500).as_deref(), Some("open@example.com"));
    assert_eq!(who(admin, 3, 105).as_deref(), Some("next@example.com"));
    collector.stop();
}

/// Starts on `data`, whose saved table is not one to load: the start says so in one line and
/// goes on with an empty table.
fn starts_without_the_table(tag: &str, data: &Path, why: &str) {
    let mut collector =
        Collector::start_with(tag, Options::binary_with_admin(Some(data.to_owned())));
    let admin = collector.listening["admin"];
    let line = collector.wait_for_stderr(&data.join(FILE).display().to_string());
    assert!(line.contains(" WARN ") && line.contains(why), "{line}");
    assert_eq!(who(admin, 1, 30), None);
    let said = collector
        .stderr_text()
        .lines()
        .filter(|l| l.contains(FILE))
        .count();
    assert_eq!(said, 1, "one line: {}", collector.stderr_text());
    // The records flow, and the table fills again.
    collector.send(lss(&CLOSED, Some(60), 60).as_bytes());
    common::wait_for_metric(admin, "ztel_attribution_entries", |n| n == 1.0);
    assert_eq!(who(admin, 1, 30).as_deref(), Some("closed@example.com"));
    collector.stop();
}

#[test]
fn a_torn_table_is_one_line_and_an_empty_table() {
    let (outcome, _) = first_run("attr-torn-1");
    let file = outcome.data.join(FILE);
    let bytes = std::fs::read(&file).unwrap();
    std::fs::write(&file, &bytes[..bytes.len() * 2 / 3]).unwrap();
    starts_without_the_table("attr-torn-2", &outcome.data, "torn");
}

#[test]
fn a_table_of_another_version_is_one_line_and_an_empty_table() {
    let (outcome, _) = first_run("attr-version-1");
    let file = outcome.data.join(FILE);
    let mut bytes = std::fs::read(&file).unwrap();
    // The magic's last byte is the version.
    bytes[7] = bytes[7].wrapping_add(1);
    std::fs::write(&file, &bytes).unwrap();
    starts_without_the_table("attr-version-2", &outcome.data, "version");
}

/// After a crash, what the last clean stop saved answers again: older than what the crash
/// lost, but better than nothing, and it expires by the feed's time as before.
#[test]
fn after_a_crash_the_table_of_the_last_clean_stop_answers() {
    let (outcome, before) = first_run("attr-crash-1");
    let collector = Collector::start_with(
        "attr-crash-2",
        Options::binary_with_admin(Some(outcome.data.clone())),
    );
    let admin = collector.listening["admin"];
    assert_same(&before, &answers(admin));
    let (data, _dir) = collector.kill_hard();
    let collector = Collector::start_with(
        "attr-crash-3",
        Options::binary_with_admin(Some(data.clone())),
    );
    let admin = collector.listening["admin"];
    assert_same(&before, &answers(admin));
    // The feed's time moves two hours on: everything ended (and the open connection's
    // 24 hours aside) is past its hour and expires.
    let later = Conn {
        id: "SL,C9",
        connector_port: 9,
        user: "later",
        start: 7200,
    };
    collector.send(lss(&later, None, 7200).as_bytes());
    common::wait_for_metric(admin, "ztel_attribution_entries", |n| n == 2.0);
    assert_eq!(who(admin, 1, 30), None);
    assert_eq!(who(admin, 2, 3600).as_deref(), Some("open@example.com"));
    collector.stop();
}
