//! A message the stream refuses for what it is (larger than the stream's own max_msg_size)
//! would be refused again however often it is sent: it is passed over and counted, and what
//! follows it is published. So is a device merge the registry bucket refuses (full, or a device
//! larger than it takes): the records it came with are acknowledged all the same.

use std::time::Duration;

use async_nats::jetstream::stream;

use crate::common::{self, Collector, TempDir};
use crate::server::Server;
use crate::support::{
    assert_stream_holds_once, comes_true, lines, metric, spool_empties, start_collector,
    with_jetstream,
};

#[test]
fn a_message_the_stream_refuses_is_passed_over_and_the_rest_is_published() {
    // It stayed at the spool's head, sent again every second and refused every time; nothing
    // behind it was acknowledged, and once the spool was full the inputs were pushed back.
    let dir = TempDir::new("nats-refused");
    let Some(server) = Server::start(&dir) else {
        return;
    };
    with_jetstream(&server.url(), |js| async move {
        js.create_stream(stream::Config {
            name: "ZTEL".into(),
            subjects: vec!["ztel.>".into()],
            duplicate_window: Duration::from_secs(900),
            max_message_size: 1500,
            ..Default::default()
        })
        .await
        .expect("create the stream");
    });
    let c = start_collector("nats-refused", &server.url(), None);
    // A record whose URL makes it about 3,700 bytes, under the server's max_payload.
    let big = common::zia_line(5000, "host-big").replacen(
        "/p/5000\"",
        &format!("/p/5000/{}\"", "x".repeat(3000)),
        1,
    );
    let mut sent = lines(20);
    sent.extend_from_slice(format!("{big}\n").as_bytes());
    c.send(&sent);
    assert!(
        comes_true(|| metric(&c, "ztel_nats_unpublishable_total") == 1.0),
        "the refused record counted once"
    );
    // The 20 records around it, and the devices' events, reach the stream.
    assert_stream_holds_once(&server.url(), 20);
    assert!(spool_empties(&c), "the spool empties");
    assert_eq!(metric(&c, "ztel_nats_unpublishable_total"), 1.0);
    let outcome = c.stop();
    assert_eq!(
        outcome.records.len(),
        21,
        "the records file keeps every record"
    );
    assert!(
        outcome
            .stderr
            .iter()
            .any(|l| l.contains("JetStream refused a message for what it is")),
        "said in the log: {:?}",
        outcome.stderr
    );
}

/// A bucket made by hand as `nats kv add` makes one, with `limit` applied to its stream.
fn a_bucket_that_refuses_merges(tag: &str, limit: fn(&mut stream::Config)) {
    // The failed merge failed the round after JetStream had acknowledged its records: they
    // stayed in the spool and were published again every second, for ever (3,364 duplicates in
    // 10 s), the collector saying "nats down" and "failed getting entry".
    let dir = TempDir::new(tag);
    let Some(server) = Server::start(&dir) else {
        return;
    };
    with_jetstream(&server.url(), |js| async move {
        let mut bucket = stream::Config {
            name: "KV_ztel-devices".into(),
            subjects: vec!["$KV.ztel-devices.>".into()],
            max_messages_per_subject: 1,
            allow_rollup: true,
            deny_delete: true,
            allow_direct: true,
            discard: stream::DiscardPolicy::New,
            duplicate_window: Duration::from_secs(120),
            ..Default::default()
        };
        limit(&mut bucket);
        js.create_stream(bucket).await.expect("create the bucket");
    });
    let c = start_collector(tag, &server.url(), None);
    let (records, devices) = (500, 40);
    let mut sent = Vec::new();
    for i in 1..=records {
        sent.extend_from_slice(common::zia_line(i, &format!("host-{}", i % devices)).as_bytes());
        sent.push(b'\n');
    }
    c.send(&sent);
    let messages = (records + devices) as f64;
    // The spool's gauge counts what is on disk, where a failed round's records go.
    assert!(
        comes_true(|| metric(&c, "ztel_nats_unpublishable_total") >= 1.0
            && metric(&c, "ztel_nats_acknowledged_total") >= messages
            && metric(&c, "ztel_nats_acks_pending") == 0.0
            && metric(&c, "ztel_nats_spool_records") == 0.0
            && metric(&c, "ztel_nats_spool_bytes") == 0.0),
        "the refused merges counted, every record and device event acknowledged: {}",
        counters(&c)
    );
    assert_eq!(
        metric(&c, "ztel_nats_published_total"),
        messages,
        "published once"
    );
    assert_eq!(metric(&c, "ztel_nats_duplicates_total"), 0.0);
    assert_eq!(metric(&c, "ztel_nats_publish_failures_total"), 0.0);
    assert_eq!(metric(&c, "ztel_nats_connected"), 1.0);
    assert_stream_holds_once(&server.url(), records as usize);
    let outcome = c.stop();
    let said: Vec<_> = outcome
        .stderr
        .iter()
        .filter(|l| l.contains("registry bucket refused device"))
        .collect();
    // Once a minute at most, however many devices it refused.
    assert_eq!(said.len(), 1, "said once in the log: {:?}", outcome.stderr);
    assert!(
        !outcome
            .stderr
            .iter()
            .any(|l| l.contains("failed getting entry")),
        "{:?}",
        outcome.stderr
    );
}

/// The publishing counters, for a failed assertion.
fn counters(c: &Collector) -> String {
    [
        "published_total",
        "acknowledged_total",
        "duplicates_total",
        "unpublishable_total",
        "spool_records",
        "spool_bytes",
    ]
    .map(|n| format!("{n} {}", metric(c, &format!("ztel_nats_{n}"))))
    .join(", ")
}

#[test]
fn merges_a_full_bucket_refuses_are_passed_over_and_the_records_acknowledged_once() {
    // JetStream's 10077, maximum bytes exceeded: the bucket takes a few devices, not 40.
    a_bucket_that_refuses_merges("nats-bucket-full", |b| b.max_bytes = 3000);
}

#[test]
fn merges_of_devices_larger_than_the_bucket_takes_are_passed_over() {
    // JetStream's 10054, larger than the bucket's max_msg_size: every device.
    a_bucket_that_refuses_merges("nats-bucket-small", |b| b.max_message_size = 100);
}
