//! What reaches the stream: a replay that two collectors received is stored once (JetStream
//! drops the second by its `Nats-Msg-Id`), and a stream ZTEL made by hand is brought in line
//! with the collector's config rather than refused.

use std::time::Duration;

use async_nats::jetstream::stream;

use crate::common::{self, http_get, TempDir};
use crate::server::Server;
use crate::support::{
    admin, all_acknowledged, assert_stream_holds_once, lines, metric, start_collector, stream_info,
    with_jetstream, Message,
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
    let all = assert_stream_holds_once(&server.url(), N as usize);
    // The seven devices' creation, told by both, is in the stream once each.
    let created: Vec<&Message> = all
        .iter()
        .filter(|m| m.subject == "ztel.devices" && m.payload["event"] == "created")
        .collect();
    assert_eq!(created.len(), 7, "{created:?}");
    // The NATS series follow the exposition format's rules, as the others do.
    let (_, page) = http_get(admin(&a), "/metrics");
    assert!(page.contains("ztel_nats_acks_pending 0"), "{page}");
    common::assert_promtool_accepts(&page);
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
