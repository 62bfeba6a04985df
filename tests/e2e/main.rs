//! End to end: the real `ztel` binary, fed over TCP on 127.0.0.1, stopped by a signal, judged by
//! its drained line and the files it wrote (DESIGN §2.1, §2.4, §3).

#[path = "../common/mod.rs"]
mod common;
mod edges;

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::io::Write;

use common::*;

/// The Elastic NSS-over-TCP sample: 5 ZIA web records in the `zscalernss-web` envelope. It lives
/// in the project's corpus (DESIGN §3).
const CORPUS: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/tests/corpus/elastic-zia-web-nss-tcp.log"
);

/// Config with a small frame limit, so that oversize frames are cheap to send.
const SMALL_FRAMES: &str = "[limits]\nmax_frame_bytes = 4096\n";

fn corpus_lines() -> Vec<String> {
    let text = std::fs::read_to_string(CORPUS)
        .unwrap_or_else(|e| panic!("cannot read the corpus file {CORPUS}: {e}"));
    let lines: Vec<String> = text.lines().map(str::to_owned).collect();
    assert_eq!(lines.len(), 5, "the corpus file has 5 records");
    lines
}

fn lf_framed(lines: &[String]) -> Vec<u8> {
    lines
        .iter()
        .flat_map(|l| format!("{l}\n").into_bytes())
        .collect()
}

/// Checks the devices file against the records: one `created` event per distinct hostname,
/// tagged ZIA, nothing else, and each record's `device_id` is its device's.
fn assert_devices_match_records(out: &Outcome, hostnames: &BTreeSet<String>) {
    let mut ids = BTreeMap::new();
    for d in &out.devices {
        assert_eq!(d["event"], "created", "only created events expected: {d}");
        assert_eq!(d["tags"], serde_json::json!(["ZIA"]), "{d}");
        let host = d["hostname"].as_str().expect("hostname").to_owned();
        let id = d["device_id"].as_str().expect("device_id").to_owned();
        assert_eq!(id.len(), 16, "device_id is 16 hex digits: {id}");
        assert!(id.bytes().all(|b| b.is_ascii_hexdigit()), "{id}");
        assert!(
            ids.insert(host.clone(), id).is_none(),
            "{host} created twice"
        );
    }
    let created: BTreeSet<String> = ids.keys().cloned().collect();
    assert_eq!(
        &created, hostnames,
        "one created event per distinct hostname"
    );
    // What the records say about each device: times, client IPs, users.
    let mut seen: HashMap<&str, [BTreeSet<&str>; 3]> = HashMap::new();
    for r in &out.records {
        let host = r["device"].as_str().expect("record has a device");
        assert_eq!(r["device_id"].as_str(), Some(ids[host].as_str()), "{r}");
        assert_eq!(r["tags"], serde_json::json!(["ZIA"]), "{r}");
        let [times, ips, users] = seen.entry(host).or_default();
        times.insert(r["ts"].as_str().expect("ts"));
        ips.extend(r["src_ip"].as_str());
        users.extend(r["user"].as_str());
    }
    // A created event describes the device as its first sighting showed it.
    for d in &out.devices {
        let [times, ips, users] = &seen[d["hostname"].as_str().unwrap()];
        let first_seen = d["first_seen"].as_str().expect("first_seen");
        assert!(
            times.contains(first_seen),
            "first_seen of {d} is no record's time"
        );
        let listed = |k: &str| -> BTreeSet<&str> {
            d[k].as_array()
                .unwrap_or_else(|| panic!("{k} of {d}"))
                .iter()
                .map(|v| v.as_str().unwrap())
                .collect()
        };
        assert!(
            !listed("ips").is_empty() && listed("ips").is_subset(ips),
            "{d}"
        );
        assert!(listed("users").is_subset(users), "{d}");
    }
}

#[test]
fn corpus_over_lf_and_octet_counting() {
    let corpus = corpus_lines();
    // A few records of our own, with record ids and hostnames of their own.
    let extra_lf: Vec<String> = (1..=3)
        .map(|i| zia_line(i, &format!("E2E-LF-{i}")))
        .collect();
    let extra_octet: Vec<String> = (4..=6)
        .map(|i| zia_line(i, &format!("e2e-oct-{i}")))
        .collect();

    let collector = Collector::start_with(
        "corpus",
        Options {
            shards: 2,
            ..Options::default()
        },
    );
    let lf_lines: Vec<String> = corpus.iter().chain(&extra_lf).cloned().collect();
    let octet_lines: Vec<String> = corpus.iter().chain(&extra_octet).cloned().collect();
    let lf_bytes = lf_framed(&lf_lines);
    let octet_bytes: Vec<u8> = octet_lines
        .iter()
        .flat_map(|l| octet_counted(l.as_bytes()))
        .collect();
    collector.send(&lf_bytes);
    collector.send(&octet_bytes);
    let out = collector.stop();

    let sent: Vec<String> = lf_lines.iter().chain(&octet_lines).cloned().collect();
    // The corpus, sent again over octet counting, is a replay of the same payloads: written once.
    let written: Vec<String> = lf_lines.iter().chain(&extra_octet).cloned().collect();
    assert_records_are(&out.records, &written);
    for r in &out.records {
        assert_eq!(r["kind"], "zia.web");
    }
    let hostnames: BTreeSet<String> = sent.iter().filter_map(|l| expected_key(l).1).collect();
    assert_eq!(hostnames.len(), 7);
    assert_devices_match_records(&out, &hostnames);
    assert!(out.dead_letters.is_empty(), "{:?}", out.dead_letters);

    let n = sent.len() as u64;
    assert_eq!(
        out.counter("records_zia_web"),
        n,
        "records made, replays included"
    );
    assert_eq!(out.counter("duplicates"), corpus.len() as u64);
    assert_eq!(out.counter("frames"), n);
    assert_eq!(out.counter("connections_opened"), 2);
    assert_eq!(out.counter("connections_closed"), 2);
    assert_eq!(
        out.counter("bytes_read"),
        (lf_bytes.len() + octet_bytes.len()) as u64
    );
    assert_eq!(out.counter("dead_letters"), 0);
    assert_eq!(out.counter("oversize_frames"), 0);
    out.assert_counters_match_files();
}

#[test]
fn bad_input_is_dead_lettered_and_connection_keeps_delivering() {
    let good: Vec<String> = (1..=8)
        .map(|i| zia_line(100 + i, &format!("dl-host-{}", i % 3)))
        .collect();
    let truncated_json = br#"{"sourcetype":"zscalernss-web","event":{"cip":"1.2.3.4""#.to_vec();
    let not_json = b"this is not JSON but text".to_vec();
    // A log type ztel does not know, with JSON escapes (simd-json unescapes in place: the dead
    // letter must still carry the frame as it was sent).
    let unknown_type = zia_line_typed("zscalernss-alerts", 150, "fw-host")
        .replace(
            r#""action":"Allowed""#,
            r#""ua":"a \"quoted\" \\ value","action":"Allowed""#,
        )
        .into_bytes();
    let mut invalid_utf8 =
        br#"{"sourcetype":"zscalernss-web","event":{"devicehostname":"bad"#.to_vec();
    invalid_utf8.extend_from_slice(&[0xff, 0xfe, 0xc3]);
    invalid_utf8.extend_from_slice(br#"host","cip":"10.9.9.9","sip":"10.8.8.8"}}"#);
    let bad_time = br#"{"sourcetype":"zscalernss-web","event":{"time":"the day before yesterday","cip":"10.1.1.1","devicehostname":"t"}}"#.to_vec();
    let no_device = br#"{"sourcetype":"zscalernss-web","event":{"epochtime":"1700000000","sip":"10.2.2.2","reqsize":"5"}}"#.to_vec();
    let lying = good[6].as_bytes();
    let (lying_head, lying_rest) = lying.split_at(5);

    let mut stream = Vec::new();
    let lf = |s: &mut Vec<u8>, b: &[u8]| {
        s.extend_from_slice(b);
        s.push(b'\n');
    };
    lf(&mut stream, good[0].as_bytes());
    lf(&mut stream, &truncated_json);
    stream.extend_from_slice(good[1].as_bytes());
    stream.extend_from_slice(b"\r\n");
    lf(&mut stream, &not_json);
    lf(&mut stream, &unknown_type);
    stream.extend_from_slice(&octet_counted(good[2].as_bytes()));
    lf(&mut stream, &invalid_utf8);
    lf(&mut stream, good[3].as_bytes());
    lf(&mut stream, &[b'x'; 10_000]);
    lf(&mut stream, good[4].as_bytes());
    // A count over the frame limit is not believed (as rsyslog reads it): this is one oversize
    // LF line, skipped to its end.
    stream.extend_from_slice(b"9000 ");
    stream.extend_from_slice(&[b'y'; 9000]);
    stream.push(b'\n');
    lf(&mut stream, good[5].as_bytes());
    lf(&mut stream, &bad_time);
    lf(&mut stream, &no_device);
    // A lying octet count: `5 ` then a whole record. Its first 5 bytes are one frame, the rest
    // (up to the LF) another.
    stream.extend_from_slice(b"5 ");
    lf(&mut stream, lying);
    lf(&mut stream, good[7].as_bytes());

    let collector = Collector::start_with(
        "bad-input",
        Options {
            config: Some(SMALL_FRAMES.into()),
            ..Options::default()
        },
    );
    let peer = collector.send(&stream).to_string();
    let out = collector.stop();

    // Every good record arrives, the lying one aside (whose frame was cut by its count).
    let delivered: Vec<String> = good
        .iter()
        .enumerate()
        .filter(|(i, _)| *i != 6)
        .map(|(_, l)| l.clone())
        .collect();
    let lying_rest_parsed = out
        .records
        .iter()
        .any(|r| common::record_id(r) == expected_key(&good[6]).5);
    if lying_rest_parsed {
        let mut with_rest = delivered.clone();
        with_rest.push(good[6].clone());
        assert_records_are(&out.records, &with_rest);
    } else {
        assert_records_are(&out.records, &delivered);
    }

    for d in &out.dead_letters {
        assert_eq!(d["peer"], peer.as_str(), "{d}");
        assert!(d["ts"].as_str().is_some_and(|t| t.ends_with('Z')), "{d}");
    }
    let raw_of = |reason: &str| -> Vec<String> {
        out.dead(reason)
            .iter()
            .map(|d| d["raw"].as_str().expect("raw").to_owned())
            .collect()
    };
    let text = |b: &[u8]| String::from_utf8(b.to_vec()).unwrap();
    assert_eq!(raw_of("unknown_format"), [text(&not_json)]);
    assert_eq!(raw_of("unknown_type"), [text(&unknown_type)]);
    assert_eq!(raw_of("bad_time"), [text(&bad_time)]);
    assert_eq!(raw_of("no_device"), [text(&no_device)]);
    let mut malformed = raw_of("malformed_json");
    malformed.sort();
    let mut want_malformed = vec![text(&truncated_json), text(lying_head)];
    if !lying_rest_parsed {
        want_malformed.push(text(lying_rest));
    }
    want_malformed.sort();
    assert_eq!(malformed, want_malformed, "malformed_json dead letters");

    let utf8 = out.dead("invalid_utf8");
    assert_eq!(utf8.len(), 1, "{:?}", out.dead_letters);
    assert!(utf8[0].get("raw").is_none(), "{}", utf8[0]);
    let b64 = utf8[0]["raw_base64"].as_str().expect("raw_base64");
    assert_eq!(base64_decode(b64), invalid_utf8);

    let dead_expected = 7 + usize::from(!lying_rest_parsed);
    assert_eq!(
        out.dead_letters.len(),
        dead_expected,
        "{:?}",
        out.dead_letters
    );
    assert_eq!(out.counter("oversize_frames"), 2);
    assert_eq!(out.counter("dead_truncated"), 0);
    assert_eq!(
        out.counter("frames") + out.counter("contested_frames"),
        (out.records.len() + out.dead_letters.len()) as u64,
        "every frame but the oversize ones became a record or a dead letter"
    );
    assert_eq!(out.counter("bytes_read"), stream.len() as u64);
    assert_eq!(out.counter("connections_opened"), 1);
    assert_eq!(out.counter("connections_closed"), 1);
    out.assert_counters_match_files();
}

#[test]
fn records_to_stdout() {
    let lines: Vec<String> = (500..505).map(|i| zia_line(i, "stdout-host")).collect();
    let collector = Collector::start_with(
        "stdout",
        Options {
            records_to_stdout: true,
            ..Options::default()
        },
    );
    collector.send(&lf_framed(&lines));
    let out = collector.stop();

    assert_records_are(&out.stdout_records(), &lines);
    assert!(out.records.is_empty());
    let files: Vec<String> = std::fs::read_dir(&out.data)
        .expect("data dir")
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert!(
        !files.iter().any(|f| f == "connections.jsonl" || f == "-"),
        "records must not go to a file: {files:?}"
    );
    assert_eq!(out.devices.len(), 1, "devices still go to their file");
    assert_eq!(out.counter("records_zia_web"), 5);
}

#[test]
fn sigint_drains_too() {
    let line = zia_line(600, "sigint-host");
    let collector = Collector::start_with("sigint", Options::binary());
    // A connection still open when the signal comes: what it sent must be drained.
    let mut stream = collector.connect();
    stream.write_all(format!("{line}\n").as_bytes()).unwrap();
    wait_for_lines(&collector.data_dir().join("connections.jsonl"), 1);
    let out = collector.stop_with(libc::SIGINT);
    drop(stream);

    assert_records_are(&out.records, std::slice::from_ref(&line));
    assert_eq!(out.counter("connections_opened"), 1);
    assert_eq!(out.counter("connections_closed"), 1);
    assert_eq!(out.counter("devices"), 1);
    out.assert_counters_match_files();
}

#[test]
fn many_connections_many_records() {
    const CONNECTIONS: u64 = 8;
    const PER_CONNECTION: u64 = 2000;
    const HOSTS: u64 = 50;
    let collector = Collector::start_with(
        "many",
        Options {
            shards: 2,
            ..Options::default()
        },
    );
    std::thread::scope(|s| {
        for c in 0..CONNECTIONS {
            let collector = &collector;
            s.spawn(move || {
                let mut bytes = Vec::new();
                for i in 0..PER_CONNECTION {
                    let id = 1 + c * PER_CONNECTION + i;
                    let line = zia_line(id, &format!("fleet-{:02}", id % HOSTS));
                    if i % 2 == 0 {
                        bytes.extend_from_slice(line.as_bytes());
                        bytes.push(b'\n');
                    } else {
                        bytes.extend_from_slice(&octet_counted(line.as_bytes()));
                    }
                }
                collector.send(&bytes);
            });
        }
    });
    let out = collector.stop();

    let total = CONNECTIONS * PER_CONNECTION;
    assert_eq!(out.records.len() as u64, total);
    let ids: BTreeSet<u64> = out
        .records
        .iter()
        .map(|r| common::record_id(r).expect("record_id"))
        .collect();
    assert_eq!(ids.len() as u64, total, "every record id exactly once");
    assert_eq!(ids.first(), Some(&1));
    assert_eq!(ids.last(), Some(&total));
    let hostnames: BTreeSet<String> = (0..HOSTS).map(|h| format!("fleet-{h:02}")).collect();
    assert_devices_match_records(&out, &hostnames);
    assert!(out.dead_letters.is_empty());
    assert_eq!(out.counter("records_zia_web"), total);
    assert_eq!(out.counter("frames"), total);
    assert_eq!(out.counter("connections_opened"), CONNECTIONS);
    assert_eq!(out.counter("devices"), HOSTS);
    out.assert_counters_match_files();
}

#[test]
fn repeated_payloads_are_written_once_and_distinct_ones_kept() {
    // NSS "Duplicate Logs" re-sends after a reconnect, on a new connection (likely another
    // shard), and LSS replays: byte for byte. Only such repeats are dropped (DESIGN §3): records
    // that share a record id or a connection but differ in any byte are all kept.
    let collector = Collector::start_with(
        "duplicates",
        Options {
            shards: 2,
            ..Options::default()
        },
    );
    let zia: Vec<String> = (1..=20).map(|i| zia_line(i, "pc-dup")).collect();
    let first = zia.join("\n") + "\n";
    // The replay comes with another syslog header: the payload after it is what is compared.
    let replay: String = zia[10..]
        .iter()
        .map(|l| format!("<134>Nov 22 10:15:01 nss-2 {l}\n"))
        .collect();
    // Record id 5 again, but another action: distinct data.
    let same_id = zia[4].replace("\"Allowed\"", "\"Blocked\"");
    let lss = |status: &str, logged: &str| {
        format!(
            r#"{{"LogTimestamp": "{logged}","ConnectionID": "S1,C1","ConnectionStatus": "{status}","IPProtocol": 6,"Username": "u@x","ConnectorIP": "10.0.0.5","ConnectorPort": 5000,"ServerIP": "10.20.0.9","ServerPort": 22,"TimestampConnectionStart": "2024-01-18T10:31:01Z"}}"#
        )
    };
    let open = lss("open", "Thu Jan 18 10:31:01 2024");
    // Periodic updates of a long connection differ only in LogTimestamp (and byte counts).
    let active_1 = lss("active", "Thu Jan 18 10:46:01 2024");
    let active_2 = lss("active", "Thu Jan 18 11:01:01 2024");
    let close = lss("close", "Thu Jan 18 11:05:00 2024");
    let no_id = &corpus_lines()[0];
    collector.send(format!("{first}{open}\n{active_1}\n{no_id}\n").as_bytes());
    collector.send(
        format!("{replay}{same_id}\n{open}\n{active_1}\n{active_2}\n{close}\n{no_id}\n").as_bytes(),
    );
    let outcome = collector.stop();
    assert_eq!(
        outcome.counter("duplicates"),
        13,
        "10 ZIA replays, the repeated LSS open and update, the repeated line without an id"
    );
    let zpa = outcome
        .records
        .iter()
        .filter(|r| r["kind"] == "zpa.user_activity")
        .count();
    assert_eq!(zpa, 4, "open, two updates and close are different records");
    let ids = common::record_ids(&outcome.records);
    let mut want: Vec<u64> = (1..=20).collect();
    want.insert(4, 5);
    assert_eq!(
        ids, want,
        "every id once, and 5 twice: its two records differ"
    );
    let actions: BTreeSet<&str> = outcome
        .records
        .iter()
        .filter(|r| common::record_id(r) == Some(5))
        .filter_map(|r| r["action"].as_str())
        .collect();
    assert_eq!(actions, BTreeSet::from(["allowed", "blocked"]));
    let without = outcome
        .records
        .iter()
        .filter(|r| r["kind"] == "zia.web" && r.get("record_id").is_none())
        .count();
    assert_eq!(
        without, 1,
        "the line without an id, sent twice, is written once"
    );
}
