//! A slow consumer makes the collector stop reading its sockets, so that TCP pushes back on the
//! sender; when the consumer catches up everything arrives (DESIGN §4: backpressure, not loss).

mod common;

use std::io::Write;
use std::sync::atomic::Ordering;
use std::time::Duration;

use common::http::{array, Client};
use common::{wait_for, wait_for_metric, zia_line, Collector, Options, DEADLINE};

/// ~40 MB of records: far more than the pipe, the sink buffer and its backlog (16 MiB, which
/// a stopped stdout reader fills as a slow disk does), the channel and both socket buffers hold.
const RECORDS: usize = 40_000;

/// [`RECORDS`] web records of about 1 KB (the URL's path, which the record keeps), the `i`th on
/// device `host(i)`.
fn padded(host: impl Fn(u64) -> String) -> Vec<String> {
    let padding = "x".repeat(900);
    (0..RECORDS as u64)
        .map(|i| {
            zia_line(i + 1, &host(i)).replace(
                "www.example.com/p/",
                &format!("www.example.com/{padding}/p/"),
            )
        })
        .collect()
}

#[test]
fn full_channel_stops_reads_and_nothing_is_lost() {
    let mut collector = Collector::start_with(
        "backpressure",
        Options {
            shards: 1,
            records_to_stdout: true,
            hold_stdout: true,
            ..Options::default()
        },
    );
    let lines = padded(|i| format!("host-{}", i % 20));
    let (sent, sender) = common::send_counting(collector.connect(), lines);

    // The consumer is stalled: the sender must stall too, well short of the end.
    let last = common::wait_until_stalled(&sent, Duration::from_millis(500));
    assert!(
        last < RECORDS,
        "all {RECORDS} records were taken while nobody read the output"
    );

    collector.open_stdout();
    sender
        .join()
        .expect("sender finishes once the consumer reads");
    assert_eq!(sent.load(Ordering::Relaxed), RECORDS);
    let outcome = collector.stop();
    let records = outcome.stdout_records();
    common::assert_each_once(&records, RECORDS);
    assert_eq!(outcome.counter("records_zia_web"), RECORDS as u64);
}

#[test]
fn udp_records_kept_while_the_channel_is_full_go_out_without_more_traffic() {
    let mut collector = Collector::start_with(
        "udp-pending",
        Options {
            shards: 1,
            udp: true,
            records_to_stdout: true,
            hold_stdout: true,
            args: vec!["--admin".into(), "127.0.0.1:0".into()],
            ..Options::default()
        },
    );
    // Fill the channel with TCP, which pushes back, as in the test above.
    let lines = padded(|_| "tcp-host".into());
    let (sent, sender) = common::send_counting(collector.connect(), lines);
    let last = common::wait_until_stalled(&sent, Duration::from_millis(500));
    assert!(
        last < RECORDS,
        "the channel never filled: all {RECORDS} records were taken"
    );
    // Three datagrams while the channel is full: the shard takes them into a pending batch.
    let udp = collector.listening["udp"];
    let socket = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
    for i in 0..3 {
        let line = zia_line(1_000_000 + i, "udp-host");
        socket.send_to(line.as_bytes(), udp).unwrap();
    }
    let taken = wait_for(DEADLINE, || {
        (common::udp_sockets(udp.port()).map(|(queued, _)| queued) == Some(0)).then_some(())
    });
    assert!(
        taken.is_some(),
        "the shard never took the datagrams from the kernel"
    );
    collector.open_stdout();
    sender
        .join()
        .expect("sender finishes once the consumer reads");
    // No more traffic: the pending batch must still reach the aggregator.
    let admin = collector.listening["admin"];
    wait_for_metric(admin, "ztel_records_total{kind=\"zia.web\"}", |n| {
        n as usize == RECORDS + 3
    });
    let outcome = collector.stop();
    assert_eq!(outcome.counter("datagrams_dropped"), 0);
    assert_eq!(outcome.stdout_records().len(), RECORDS + 3);
}

/// A Cloud NSS request whose records wait for a full channel longer than `idle_timeout_secs`
/// is still answered once the channel takes them: the wait is the collector's, not the peer's
/// idleness, and a connection closed without an answer makes the sender send the batch again.
#[test]
fn an_http_request_waiting_for_a_full_channel_past_the_idle_timeout_is_answered() {
    let mut collector = Collector::start_with(
        "http-full-channel",
        Options {
            shards: 1,
            records_to_stdout: true,
            hold_stdout: true,
            config: Some(
                "[limits]\nidle_timeout_secs = 1\n[input.http]\nplain = true\nkeys = [\"k1\"]\n"
                    .into(),
            ),
            args: vec!["--http".into(), "127.0.0.1:0".into()],
            ..Options::default()
        },
    );
    let lines = padded(|_| "tcp-host".into());
    let (sent, sender) = common::send_counting(collector.connect(), lines);
    let last = common::wait_until_stalled(&sent, Duration::from_millis(500));
    assert!(
        last < RECORDS,
        "the channel never filled: all {RECORDS} records were taken"
    );

    let posted: Vec<String> = (0..3)
        .map(|i| zia_line(2_000_000 + i, "http-host"))
        .collect();
    let mut client = Client::connect(collector.listening["http"]);
    let body = array(&posted);
    let head = format!(
        "POST /nss/web HTTP/1.1\r\nHost: collector\r\nContent-Type: application/json\r\n\
         Content-Length: {}\r\nX-Ztel-Key: k1\r\n\r\n",
        body.len()
    );
    client.stream.write_all(head.as_bytes()).unwrap();
    client.stream.write_all(&body).unwrap();
    // The condition is time itself: the request must outlast the idle timeout, twice over.
    std::thread::sleep(Duration::from_millis(2_500));

    collector.open_stdout();
    let answer = client.answer();
    assert_eq!(answer.status, 200, "{answer:?}");
    sender
        .join()
        .expect("sender finishes once the consumer reads");
    drop(client);
    let outcome = collector.stop();
    let records = outcome.stdout_records();
    assert_eq!(records.len(), RECORDS + posted.len());
    assert_eq!(outcome.counter("http_requests"), 1);
    assert_eq!(
        outcome.counter("records_zia_web"),
        (RECORDS + posted.len()) as u64
    );
}

/// Regression (output files audit): `--records -` into a pipe whose reader stopped held the
/// drain at SIGTERM for as long as the reader stayed stopped (36 s in the audit; for ever if
/// it never reads again), since stdout was written blocking. It is written as a FIFO is now:
/// the drain ends, what the pipe did not take is spilled, and each record made is in the pipe
/// or in the spill, once.
#[test]
fn a_stopped_stdout_reader_does_not_hold_the_drain() {
    let collector = Collector::start_with(
        "stdout-stalled",
        Options {
            shards: 1,
            records_to_stdout: true,
            hold_stdout: true,
            ..Options::default()
        },
    );
    let lines = padded(|i| format!("host-{}", i % 20));
    let (sent, sender) = common::send_counting(collector.connect(), lines);
    let last = common::wait_until_stalled(&sent, Duration::from_millis(500));
    assert!(last < RECORDS, "all records taken while nobody read");
    let outcome = collector.stop_with_stdout_held();
    let _ = sender.join();
    // A pipe that is not read takes part of a line (the write is not blocked for the rest): the
    // spill holds that line whole, first.
    let whole = outcome
        .stdout
        .iter()
        .rposition(|&b| b == b'\n')
        .map_or(0, |at| at + 1);
    let (lines, torn) = outcome.stdout.split_at(whole);
    let mut records = common::parse_jsonl(lines, "stdout");
    let spills: Vec<_> = std::fs::read_dir(&outcome.data)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| {
            let name = p.file_name().unwrap().to_string_lossy().into_owned();
            name.starts_with("spill-records-") && name.ends_with(".jsonl")
        })
        .collect();
    assert_eq!(spills.len(), 1, "{spills:?}");
    let spill = std::fs::read(&spills[0]).unwrap();
    assert!(spill.starts_with(torn));
    let spilled = common::parse_jsonl(&spill, "spill");
    assert!(!spilled.is_empty());
    records.extend(spilled);
    let made = outcome.counter("records_zia_web") as usize;
    common::assert_each_once(&records, made);
}
