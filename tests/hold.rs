//! The read hold (`src/input/hold.rs`) against a real collector: whatever a connection holds
//! back to batch it is written while the connection stays open and nothing more comes. How long
//! records wait is measured by perf/latency.sh, not asserted here.

mod common;

use std::io::Write;
use std::net::TcpStream;

use common::{zia_line, Collector, Options};

fn lines(from: u64, to: u64, host: &str) -> String {
    (from..=to).map(|i| zia_line(i, host) + "\n").collect()
}

/// Writes `text` a record per packet, as fast as the socket takes them.
fn per_packet(stream: &mut TcpStream, text: &str) {
    for line in text.split_inclusive('\n') {
        stream.write_all(line.as_bytes()).expect("send to ztel");
    }
}

#[test]
fn a_lone_record_after_a_busy_spell_arrives_on_an_open_connection() {
    let collector = Collector::start("hold-busy-then-lone");
    let records = collector.data_dir().join("connections.jsonl");
    let mut stream = collector.connect();
    stream.set_nodelay(true).unwrap();
    // Busy: the connection's rate is high, so that its reads are held to be batched.
    let busy = lines(1, 3000, "busy");
    per_packet(&mut stream, &busy);
    common::wait_for_lines(&records, 3000);
    // Quiet since (the wait above), then one record on the same connection, left open.
    let lone = zia_line(3001, "lone");
    stream.write_all((lone.clone() + "\n").as_bytes()).unwrap();
    common::wait_for_lines(&records, 3001);
    let mut sent: Vec<String> = busy.lines().map(str::to_owned).collect();
    sent.push(lone);
    common::assert_records_are(&common::read_jsonl(&records), &sent);
    drop(stream);
    collector.stop();
}

/// The tail of a fast trickle may be held when it is read, and nothing comes after it: it goes
/// when the hold's wait runs out, not when the connection closes.
#[test]
fn the_held_tail_of_a_trickle_arrives_on_an_open_connection() {
    let collector = Collector::start("hold-trickle-tail");
    let records = collector.data_dir().join("connections.jsonl");
    let mut stream = collector.connect();
    stream.set_nodelay(true).unwrap();
    for round in 0..5u64 {
        let first = round * 500 + 1;
        per_packet(&mut stream, &lines(first, first + 499, "trickle"));
        common::wait_for_lines(&records, (first + 499) as usize);
    }
    let written = common::read_jsonl(&records);
    assert_eq!(written.len(), 2500);
    let sent: Vec<String> = lines(1, 2500, "trickle")
        .lines()
        .map(str::to_owned)
        .collect();
    common::assert_records_are(&written, &sent);
    drop(stream);
    collector.stop();
}

/// A sender that opens a connection for every line (a script, a relay that does not keep its
/// connection) and closes it at once: the hold's nap after that line must not keep the closed
/// connection open. Each one held its slot of `max_connections` for the nap's milliseconds, and
/// new ones were refused, their lines lost (a tester lost 491 of 3,000 with one such sender).
#[test]
fn a_sender_that_connects_for_every_line_holds_no_slot_once_it_has_closed() {
    let collector = Collector::start_with(
        "hold-connect-per-line",
        Options {
            config: Some("[limits]\nmax_connections = 16\n".into()),
            ..Options::default()
        },
    );
    let sent: Vec<String> = (1..=1000).map(|i| zia_line(i, "per-line")).collect();
    for line in &sent {
        let mut stream = collector.connect();
        stream.write_all((line.clone() + "\n").as_bytes()).unwrap();
    }
    let records = collector.data_dir().join("connections.jsonl");
    common::wait_for_lines(&records, sent.len());
    let outcome = collector.stop();
    assert_eq!(outcome.counter("connections_over_limit"), 0);
    common::assert_records_are(&outcome.records, &sent);
}
