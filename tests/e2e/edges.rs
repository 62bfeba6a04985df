//! How a connection's last bytes and lines that look like octet counts end up: a frame cut by
//! the close, a last line without its LF, and a feed whose every line starts with an epoch.

use std::collections::HashMap;

use super::common::*;
use super::lf_framed;

#[test]
fn truncated_frame_at_close_is_counted() {
    let good = zia_line(300, "trunc-host");
    let cut = zia_line(301, "trunc-host");
    let half = &cut.as_bytes()[..cut.len() / 2];

    let collector = Collector::start("truncated");
    let mut first = lf_framed(std::slice::from_ref(&good));
    first.extend_from_slice(half);
    let lf_peer = collector.send(&first).to_string();
    let octet_peer = collector.send(b"100 abc").to_string();
    let out = collector.stop();

    assert_records_are(&out.records, std::slice::from_ref(&good));
    let truncated = out.dead("truncated");
    assert_eq!(truncated.len(), 2, "{:?}", out.dead_letters);
    assert_eq!(out.dead_letters.len(), 2, "{:?}", out.dead_letters);
    let by_peer: HashMap<&str, &str> = truncated
        .iter()
        .map(|d| (d["peer"].as_str().unwrap(), d["raw"].as_str().unwrap()))
        .collect();
    assert_eq!(
        by_peer.get(lf_peer.as_str()),
        Some(&std::str::from_utf8(half).unwrap())
    );
    assert_eq!(by_peer.get(octet_peer.as_str()), Some(&"100 abc"));
    assert_eq!(out.counter("dead_truncated"), 2);
    assert_eq!(out.counter("connections_closed"), 2);
    out.assert_counters_match_files();
}

#[test]
fn an_unterminated_final_line_is_a_record_only_when_it_is_json() {
    // A peer that closes after a last line with no LF (a file replayed as is, or a sender that
    // died mid-line) may have cut it anywhere. A JSON object read to its closing brace is whole;
    // a key=value line cut after `status=20` would read as a record with http_status 20, so
    // any line of another format is a `truncated` dead letter that keeps it.
    let line = zia_line(400, "no-lf-host");
    let kv = include_str!("../corpus/sc4s-zia-web-splunk-kv.log");
    let kv = kv.lines().next().expect("a KV record");
    let cut = &kv[..kv.find("status=200").expect("a status") + "status=20".len()];
    let collector = Collector::start("unterminated");
    collector.send(line.as_bytes());
    collector.send(kv.as_bytes());
    collector.send(cut.as_bytes());
    let out = collector.stop();

    assert_records_are(&out.records, std::slice::from_ref(&line));
    let raw: Vec<&str> = out
        .dead_letters
        .iter()
        .filter_map(|d| d["raw"].as_str())
        .collect();
    assert_eq!(raw.len(), 2, "{:?}", out.dead_letters);
    assert!(raw.contains(&kv) && raw.contains(&cut), "{raw:?}");
    assert!(out.dead_letters.iter().all(|d| d["reason"] == "truncated"));
    assert_eq!(out.counter("frames"), 3);
    assert_eq!(out.counter("records_zia_web"), 1);
    assert_eq!(out.counter("dead_truncated"), 2);
    out.assert_counters_match_files();
}

#[test]
fn lines_that_start_with_an_epoch_are_records_not_octet_counts() {
    // A feed template that begins with `%d{epochtime} `: each line looks like an octet count of
    // 1.7 × 10^9, far over the frame limit, so it is read as the LF line it is.
    let collector = Collector::start("epoch-prefix");
    let lines: Vec<String> = (1..=20).map(|i| zia_line(i, "epoch-host")).collect();
    let stream: String = lines
        .iter()
        .enumerate()
        .map(|(i, l)| format!("{} {l}\n", 1_700_000_000 + i))
        .collect();
    collector.send(stream.as_bytes());
    let out = collector.stop();
    assert_records_are(&out.records, &lines);
    assert_eq!(out.counter("oversize_frames"), 0);
    assert!(out.dead_letters.is_empty(), "{:?}", out.dead_letters);
}

/// A line whose agent wrote keys of its own (a template with `"ua":"%s{ua}"`): over a real
/// connection its record leaves the contested key out (the device is its client's address),
/// and the line is a `repeated_key` dead letter too, counted and kept as sent. One that names a
/// second log type is only the dead letter, also as a connection's last line without its LF.
#[test]
fn a_line_that_names_a_key_twice_is_a_record_without_it_and_a_dead_letter() {
    let good = zia_line(500, "real-host");
    let forged = zia_line(501, "real-host").replace(
        r#""proto":"HTTPS""#,
        r#""ua":"x","devicehostname":"ceo-pc","proto":"HTTPS""#,
    );
    assert_ne!(forged, zia_line(501, "real-host"));
    let typed = zia_line(502, "real-host").replace(
        r#""proto":"HTTPS""#,
        r#""ua":"x"},"sourcetype":"zscalernss-fw","z":{"proto":"HTTPS""#,
    );
    assert_ne!(typed, zia_line(502, "real-host"));

    let collector = Collector::start("repeated");
    let mut stream = lf_framed(&[good.clone(), forged.clone()]);
    stream.extend_from_slice(typed.as_bytes());
    collector.send(&stream);
    let out = collector.stop();

    assert_eq!(out.records.len(), 2, "{:?}", out.records);
    assert_records_are(&out.records[..1], std::slice::from_ref(&good));
    let r = &out.records[1];
    let by_ip = format!("{:016x}", xxhash_rust::xxh3::xxh3_64(b"10.0.1.245"));
    assert!(r.get("device").is_none(), "{r}");
    assert_eq!(r["record_id"], "501", "{r}");
    assert_eq!(r["device_id"], by_ip.as_str(), "{r}");
    assert_eq!(r["user"], "user4@example.com", "{r}");
    let dead = out.dead("repeated_key");
    assert_eq!(dead.len(), 2, "{:?}", out.dead_letters);
    assert_eq!(dead[0]["raw"], forged.as_str());
    assert_eq!(dead[1]["raw"], typed.as_str());
    assert_eq!(out.counter("dead_repeated_key"), 2);
    assert_eq!(out.counter("contested_frames"), 1);
    assert_eq!(out.counter("frames"), 3, "three frames, four outcomes");
    let hosts: Vec<&str> = out
        .devices
        .iter()
        .filter_map(|d| d["hostname"].as_str())
        .collect();
    assert!(!hosts.contains(&"ceo-pc"), "{:?}", out.devices);
    assert!(hosts.contains(&"real-host"), "{:?}", out.devices);
    out.assert_counters_match_files();
}
