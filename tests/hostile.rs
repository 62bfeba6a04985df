//! Hostile input that costs the collector more than it costs the sender (issue 14): floods of
//! tiny bad frames, heads and bodies sent a byte at a time, clients that never read. Each test
//! asserts counts and bounds.

mod common;

use std::io::Write;
use std::net::TcpStream;
use std::time::Duration;

use common::http::Client;
use common::{Collector, Options};

const KEYS: &str = "[input.http]\nkeys = [\"k1\"]\n";
/// What a batch keeps of its dead letters (ztel::batch::DEAD_KEPT).
const DEAD_KEPT: u64 = ztel::batch::DEAD_KEPT as u64;

fn binary(tag: &str, config: &str, args: &[&str]) -> Collector {
    Collector::start_with(
        tag,
        Options {
            config: Some(config.to_owned()),
            args: args.iter().map(|a| a.to_string()).collect(),
            binary: true,
            ..Options::default()
        },
    )
}

#[test]
fn a_flood_of_tiny_bad_frames_is_counted_not_multiplied() {
    // Issue 14: 16.8 MB of `x\n` took the collector to 513 MB and wrote 50 times its size of
    // dead letters; a 16 MiB body of `[1,1,1,…]` took it to 909 MB and 789 MB of output.
    let mut collector = binary(
        "dead-flood",
        KEYS,
        &["--http", "127.0.0.1:0", "--admin", "127.0.0.1:0"],
    );
    let before = collector.peak_rss_bytes();
    const FRAMES: u64 = 2 << 20;
    let mut stream = TcpStream::connect(collector.addr).expect("connect");
    stream
        .write_all(&b"x\n".repeat(FRAMES as usize))
        .expect("send");
    drop(stream);
    const ELEMENTS: u64 = 2_000_000;
    let mut body = b"[1".to_vec();
    body.extend_from_slice(&b",1".repeat(ELEMENTS as usize - 1));
    body.push(b']');
    let answer = Client::connect(collector.listening["http"]).post(Some("k1"), &body);
    assert_eq!(answer.status, 200, "{answer:?}");
    let total = FRAMES + ELEMENTS;
    let admin = collector.listening["admin"];
    let counted = common::wait_for(Duration::from_secs(60), || {
        let (_, page) = common::http_get(admin, "/metrics");
        (common::sample(&page, "ztel_dead_letters_total{shard=\"all\"}")? as u64 == total)
            .then_some(())
    });
    assert!(counted.is_some(), "not every frame was counted");
    let grown = collector.peak_rss_bytes().saturating_sub(before);
    let outcome = collector.stop();
    outcome.assert_counters_match_files();
    assert_eq!(outcome.counter("dead_letters"), total);
    let kept = outcome.dead_letters.len() as u64;
    assert_eq!(outcome.counter("dead_letters_unkept"), total - kept);
    // One request is one batch: it keeps DEAD_KEPT. The stream's reads keep at most DEAD_KEPT
    // each, and a read holds thousands of these frames.
    let from_http = outcome
        .dead_letters
        .iter()
        .filter(|d| d["raw"] == "1")
        .count() as u64;
    assert_eq!(from_http, DEAD_KEPT, "dead letters kept of the request");
    assert!(
        kept - from_http < FRAMES / 8,
        "{} dead letters kept of {FRAMES} frames of 2 bytes",
        kept - from_http
    );
    let written: u64 = std::fs::read_dir(&outcome.data)
        .expect("data dir")
        .filter_map(|e| e.ok())
        .filter(|e| e.file_name().to_string_lossy().starts_with("dead-letter"))
        .map(|e| e.metadata().map_or(0, |m| m.len()))
        .sum();
    let received = FRAMES * 2 + body.len() as u64;
    assert!(
        written < received,
        "{written} bytes of dead letters for {received} bytes received"
    );
    assert!(grown < 64 << 20, "peak memory grew by {} MiB", grown >> 20);
    eprintln!(
        "dead-letter flood: {total} dead letters, {kept} written ({written} bytes for {received} \
         received), peak memory +{} KiB",
        grown >> 10
    );
}
