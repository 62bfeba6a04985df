//! A shard's buffers: batches come back from the aggregator to be filled again, and a connection
//! that brings more than its shard parses lends its reads to the other shards (DESIGN §4 "Hot
//! connections"), with every record delivered exactly once.

mod common;

use std::io::Write;
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

#[test]
fn frames_after_an_oversize_frame_in_a_lent_read_are_parsed_and_the_oversize_one_skipped() {
    // DESIGN §3: an oversize frame is skipped and counted, the connection stays up. The frames
    // after it, and the end of the connection right after them, must not depend on whether the
    // read was lent. With a 32 KiB limit a connection's buffer starts at 64 KiB: the ~45 KB
    // below, sent as one segment, is one read, over the 32 KiB that makes a read lendable.
    let collector = Collector::start_with(
        "handoff-oversize",
        Options {
            shards: 2,
            config: Some("[limits]\nmax_frame_bytes = 32768\n".into()),
            ..Options::default()
        },
    );
    let mut records = lines(10);
    let after = records.split_off(5);
    // A record that would parse: only the frame limit keeps it out.
    let big = zia_line(1_000, "big").replace(
        "\"login\"",
        &format!("\"pad\":\"{}\",\"login\"", "y".repeat(34_000)),
    );
    records.push(big);
    records.extend(after);
    let mut bytes = records.join("\n").into_bytes();
    bytes.push(b'\n');
    let stream = collector.connect();
    // Held back until all of it is written, so that it arrives at once.
    let socket = socket2::SockRef::from(&stream);
    socket.set_send_buffer_size(1 << 20).expect("SO_SNDBUF");
    socket.set_cork(true).expect("TCP_CORK");
    (&stream).write_all(&bytes).expect("send to ztel");
    socket.set_cork(false).expect("TCP_CORK");
    common::close_and_wait(stream);

    let outcome = collector.stop();
    assert!(
        outcome.counter("handoffs") > 0,
        "the read was not handed off, so the hand-off went untested: {:?}",
        outcome.counters
    );
    assert_eq!(outcome.counter("oversize_frames"), 1);
    assert_eq!(
        common::sorted_ids(&outcome.records),
        (1..=10).collect::<Vec<u64>>()
    );
    assert_eq!(
        outcome.counter("dead_letters"),
        0,
        "{:?}",
        outcome.dead_letters
    );
}
