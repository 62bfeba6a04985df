//! What reaches the stream: a replay that two collectors received is stored once (JetStream
//! drops the second by its `Nats-Msg-Id`), a stream ZTEL made by hand is brought in line with
//! the collector's config rather than refused, and a record larger than the server takes is
//! left out without holding up the rest.

use std::collections::BTreeSet;
use std::time::Duration;

use async_nats::jetstream::stream;

use crate::common::{self, http_get, wait_for, TempDir};
use crate::server::{installed, Server};
use crate::support::{
    admin, all_acknowledged, assert_devices_created, assert_stream_holds_once, lines, metric,
    read_stream, records, start_collector, stream_info, with_jetstream, PATIENCE,
};

#[test]
fn a_replay_received_by_two_collectors_is_stored_once() {
    let dir = TempDir::new("nats-replay");
    let Some(server) = Server::start(&dir) else {
        return;
    };
    let a = start_collector("nats-replay-a", &server.url(), None);
    let b = start_collector("nats-replay-b", &server.url(), None);
    const N: u64 = 2000;
    let replay = lines(N);
    a.send(&replay);
    b.send(&replay);
    // Both published everything (acknowledged, their spools empty); JetStream told one of them
    // each record was a duplicate.
    let mut duplicates = 0.0;
    for c in [&a, &b] {
        assert!(all_acknowledged(c, N as f64), "every record acknowledged");
        duplicates += metric(c, "ztel_nats_duplicates_total");
    }
    assert!(
        duplicates >= N as f64,
        "duplicates acknowledged: {duplicates}"
    );
    assert_stream_holds_once(&server.url(), N as usize);
    // The seven devices' creation, told by both, is in the stream once each.
    assert_devices_created(&server.url());
    // The NATS series follow the exposition format's rules, as the others do.
    let (_, page) = http_get(admin(&a), "/metrics");
    assert!(page.contains("ztel_nats_acks_pending 0"), "{page}");
    common::assert_promtool_accepts(&page);
    // The alert rules' NATS series are among them (tests/deploy.rs checks the others).
    let used = common::names_in(&common::read(common::RULES));
    let exported = common::exported(&page);
    let nats: Vec<_> = used
        .iter()
        .filter(|n| n.starts_with("ztel_nats_"))
        .collect();
    assert!(nats.len() >= 3, "{nats:?}");
    let missing: Vec<_> = nats.iter().filter(|n| !exported.contains(**n)).collect();
    assert!(
        missing.is_empty(),
        "rules use unexported {missing:?}\n{page}"
    );
    // The files are as without NATS: every record in each collector's own file.
    for c in [a, b] {
        let outcome = c.stop();
        assert_eq!(outcome.records.len(), N as usize);
    }
}

#[test]
fn an_existing_stream_is_brought_in_line_with_the_config() {
    let dir = TempDir::new("nats-stream-update");
    let Some(server) = Server::start(&dir) else {
        return;
    };
    // A stream ZTEL made by hand, with another duplicate window and a subject of its own: the
    // collector adds its subjects and sets its window, and publishes.
    with_jetstream(&server.url(), |js| async move {
        js.create_stream(stream::Config {
            name: "ZTEL".into(),
            subjects: vec!["other.>".into()],
            duplicate_window: Duration::from_secs(30),
            ..Default::default()
        })
        .await
        .expect("create the stream");
    });
    let c = start_collector("nats-stream-update", &server.url(), None);
    c.send(&lines(20));
    assert_stream_holds_once(&server.url(), 20);
    let config = stream_info(&server.url()).config;
    assert_eq!(
        config.subjects,
        ["other.>", "ztel.>"],
        "ours added, the rest kept"
    );
    assert_eq!(config.duplicate_window, Duration::from_secs(900));
    c.stop();
}

/// A ZIA line whose URL path is `pad` bytes longer than [`crate::common::zia_line`]'s.
fn long_line(id: u64, pad: usize) -> String {
    let short = format!("/p/{id}\"");
    let long = format!("/p/{id}/{}\"", "x".repeat(pad));
    common::zia_line(id, "host-big").replacen(&short, &long, 1)
}

/// The records file's lines: record id and length (without the newline).
fn written(c: &common::Collector) -> Vec<(u64, usize)> {
    let text = std::fs::read_to_string(c.data_dir().join("connections.jsonl")).unwrap_or_default();
    text.lines()
        .filter_map(|line| {
            let v: serde_json::Value = serde_json::from_str(line).ok()?;
            Some((v["record_id"].as_str()?.parse().ok()?, line.len()))
        })
        .collect()
}

#[test]
fn records_past_the_servers_max_payload_are_skipped_and_publishing_goes_on() {
    // nats-server refuses a message whose headers and payload pass its max_payload by closing
    // the connection. One sent anyway was sent again after every reconnect, and nothing behind
    // it reached the stream: the size check must be the server's own.
    if !installed() {
        return;
    }
    const MAX: usize = 65_536;
    // `NATS/1.0\r\nNats-Msg-Id: ` and the blank line, and the 32 hex digits of the id.
    const HEADERS: usize = 27 + 32;
    let dir = TempDir::new("nats-max-payload");
    let config = dir.write("nats.conf", &format!("max_payload: {MAX}\n"));
    let server = Server::on(0, dir.path().join("nats-store"), Some(config));
    let c = start_collector("nats-max-payload", &server.url(), None);
    // What a record adds to its URL's padding, measured on one well under the limit.
    c.send(format!("{}\n", long_line(1000, 60_000)).as_bytes());
    let first = wait_for(PATIENCE, || written(&c).first().copied()).expect("the first record");
    let overhead = first.1 - 60_000;
    // Messages from 150 bytes under the limit to 150 over, a byte apart.
    let mut big = String::new();
    for k in 0..300 {
        let pad = MAX - HEADERS - overhead - 150 + k;
        big.push_str(&long_line(1001 + k as u64, pad));
        big.push('\n');
    }
    c.send(big.as_bytes());
    c.send(&lines(10));
    let expected: BTreeSet<u64> = wait_for(PATIENCE, || {
        let all = written(&c);
        (all.len() == 311).then(|| {
            all.iter()
                .filter(|(_, len)| len + HEADERS <= MAX)
                .map(|(id, _)| *id)
                .collect()
        })
    })
    .expect("every record in the records file");
    let (under, over) = (expected.len() - 10, 311 - expected.len());
    assert!(
        under > 100 && over > 100,
        "{under} under the limit, {over} over"
    );
    let mut held = BTreeSet::new();
    let stored = wait_for(PATIENCE, || {
        held = records(&read_stream(&server.url()))
            .iter()
            .filter_map(|m| m.payload["record_id"].as_str()?.parse().ok())
            .collect();
        (held == expected).then_some(())
    });
    assert!(
        stored.is_some(),
        "the stream holds {} records, {} expected; first missing {:?}",
        held.len(),
        expected.len(),
        expected.difference(&held).next()
    );
    c.stop();
}
