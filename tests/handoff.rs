//! A shard's buffers: batches come back from the aggregator to be filled again, and a connection
//! that brings more than its shard parses lends its reads to the other shards (DESIGN §4 "Hot
//! connections"), with every record delivered exactly once.

mod common;

use std::sync::atomic::Ordering;

use common::{sample, wait_for_metric, zia_line, Collector, Options};

/// Lines of about 1 KB, as NSS web records are, over 20 devices.
fn lines(n: usize) -> Vec<String> {
    let padding = "x".repeat(700);
    (0..n as u64)
        .map(|i| {
            zia_line(i + 1, &format!("host-{}", i % 20))
                .replace("\"login\"", &format!("\"pad\":\"{padding}\",\"login\""))
        })
        .collect()
}

fn start(tag: &str, shards: usize) -> Collector {
    Collector::start_with(
        tag,
        Options {
            shards,
            args: vec!["--admin".into(), "127.0.0.1:0".into()],
            ..Options::default()
        },
    )
}

/// Sends `lines` over one connection as fast as the collector takes them; returns the
/// `/metrics` page once every record is made.
fn send_all(collector: &Collector, lines: Vec<String>) -> String {
    let n = lines.len();
    let (sent, sender) = common::send_counting(collector.connect(), lines);
    sender.join().expect("sender");
    assert_eq!(sent.load(Ordering::Relaxed), n);
    wait_for_metric(
        collector.listening["admin"],
        "ztel_records_total{kind=\"zia.web\"}",
        |made| made >= n as f64,
    )
}

#[test]
fn one_busy_connection_is_parsed_on_both_shards_and_every_record_arrives_once() {
    const RECORDS: usize = 30_000;
    let collector = start("handoff", 2);
    let page = send_all(&collector, lines(RECORDS));

    let handoffs = sample(&page, "ztel_handoffs_total").unwrap_or(0.0);
    assert!(handoffs > 0.0, "no read was handed off:\n{page}");
    // One connection lands on one shard; the other only parses what it is handed.
    let frames: Vec<f64> = (0..2)
        .map(|shard| sample(&page, &format!("ztel_frames_total{{shard=\"{shard}\"}}")))
        .map(|v| v.unwrap_or(0.0))
        .collect();
    assert!(
        frames.iter().all(|f| *f > 0.0),
        "both shards parse: frames per shard {frames:?}"
    );
    assert_eq!(frames.iter().sum::<f64>(), RECORDS as f64);
    let read: Vec<f64> = (0..2)
        .map(|shard| {
            sample(
                &page,
                &format!("ztel_bytes_read_total{{shard=\"{shard}\"}}"),
            )
        })
        .map(|v| v.unwrap_or(0.0))
        .collect();
    assert!(
        read.iter().filter(|b| **b > 0.0).count() == 1,
        "the bytes were read on one shard only: {read:?}"
    );

    let outcome = collector.stop();
    common::assert_each_once(&outcome.records, RECORDS);
    assert_eq!(outcome.counter("duplicates"), 0);
    assert_eq!(outcome.counter("dead_letters"), 0);
    // The devices are told once each, whichever shard parsed their records.
    let hosts: std::collections::BTreeSet<&str> = outcome
        .devices
        .iter()
        .filter_map(|d| d.get("hostname").and_then(|h| h.as_str()))
        .collect();
    assert_eq!(hosts.len(), 20, "devices: {:?}", outcome.devices);
}

#[test]
fn batches_come_back_to_their_shard_for_the_next_reads() {
    // About 30 MB over one connection: at 256 KiB a read at most, over a hundred batches.
    const RECORDS: usize = 30_000;
    let collector = start("batch-reuse", 1);
    let page = send_all(&collector, lines(RECORDS));
    let allocated = sample(&page, "ztel_batches_allocated_total").unwrap_or(0.0);
    // At most the channel's 16, the one being filled and a few on their way back exist at once.
    assert!(
        allocated > 0.0 && allocated <= 24.0,
        "{allocated} batches allocated for {RECORDS} records"
    );
    let outcome = collector.stop();
    assert_eq!(outcome.records.len(), RECORDS);
}
