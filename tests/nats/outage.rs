//! While NATS is away: records wait in the disk spool and go once it is back, neither lost nor
//! doubled; a spool left at a stop goes at the next start; and a full spool pushes back on the
//! sender while the records file is still written.

use std::path::Path;
use std::time::Duration;

use crate::common::{self, http_get, wait_for, zia_line, TempDir};
use crate::server::{down_port, installed, Server};
use crate::support::{
    admin, all_acknowledged, assert_stream_holds_once, comes_true, lines, metric, records,
    spool_empties, spooled_while_nats_is_down, start_collector, start_configured, stream_info,
    Spooled, PATIENCE,
};

/// Identities `data_dir/dedup.window` says it saved (its header's next slot; the window is far
/// larger than these tests send).
fn saved_identities(data: &Path) -> u64 {
    let bytes = std::fs::read(data.join("dedup.window")).unwrap_or_default();
    bytes
        .get(8..16)
        .and_then(|b| b.try_into().ok())
        .map_or(0, u64::from_le_bytes)
}

#[test]
fn a_collector_killed_before_nats_acknowledged_publishes_the_replay_of_what_it_held() {
    // Records NATS has not acknowledged wait in the NATS thread's memory, and a collector
    // killed then loses them to the stream (they are in its records file). The feed's replay
    // must bring them to NATS again: the duplicate window may not remember them across the
    // crash, or it drops the replay as repeats.
    let dir = TempDir::new("nats-killed");
    let Some(mut server) = Server::start(&dir) else {
        return;
    };
    let c = start_collector("nats-killed-1", &server.url(), None);
    assert!(
        comes_true(|| metric(&c, "ztel_nats_connected") == 1.0),
        "publishing"
    );
    const N: u64 = 200;
    server.pause();
    c.send(&lines(N));
    // Handed to the NATS thread as they are taken for the records file (the thread publishes
    // some: a few rounds in flight, unanswered).
    assert!(
        comes_true(|| common::count_lines(&c.data_dir().join("connections.jsonl")) >= N as usize),
        "written to the records file"
    );
    // Before the acknowledgements' timeout: nothing acknowledged, nothing spooled.
    assert_eq!(metric(&c, "ztel_nats_acknowledged_total"), 0.0);
    assert_eq!(metric(&c, "ztel_nats_spooled_bytes_total"), 0.0);
    assert_eq!(
        saved_identities(c.data_dir()),
        0,
        "the window remembers records NATS does not keep"
    );
    let (data, _guard) = c.kill_hard();
    // The server dies too: what it had not read of the dead collector's socket is gone.
    server.restart();

    let c = start_collector("nats-killed-2", &server.url(), Some(data));
    c.send(&lines(N));
    let all = assert_stream_holds_once(&server.url(), N as usize);
    // The seven devices' creation was lost with the records. Restarted, the collector knows
    // them from its devices file and does not announce them again there, but publishes them.
    let created = |all: &[crate::support::Message]| {
        all.iter()
            .filter(|m| m.subject == "ztel.devices" && m.payload["event"] == "created")
            .count()
    };
    let published = wait_for(PATIENCE, || {
        let all = crate::support::read_stream(&server.url());
        (created(&all) >= 7).then_some(all)
    });
    let devices: Vec<_> = all.iter().filter(|m| m.subject == "ztel.devices").collect();
    assert_eq!(
        published.as_deref().map(created),
        Some(7),
        "device events in the stream: {devices:?}"
    );
    // Acknowledged now, so remembered: a second replay is dropped.
    assert!(
        comes_true(|| saved_identities(c.data_dir()) == N),
        "the window saves what NATS acknowledged"
    );
    let outcome = c.stop();
    let in_file = outcome.devices.iter().filter(|d| d["event"] == "created");
    assert_eq!(in_file.count(), 7, "each device created once in the file");
}

#[test]
fn an_outage_loses_nothing_and_doubles_nothing() {
    let dir = TempDir::new("nats-outage");
    let Some(mut server) = Server::start(&dir) else {
        return;
    };
    let c = start_collector("nats-outage", &server.url(), None);
    const N: u64 = 3000;
    let all = lines(N);
    // Where the line that ends the nth record ends.
    let after = |n: u64| {
        all.iter()
            .enumerate()
            .filter(|(_, b)| **b == b'\n')
            .nth(n as usize - 1)
            .map(|(i, _)| i + 1)
            .expect("a line end")
    };
    let (half, more) = (after(N / 2), after(N / 2 + N / 10));
    assert!(
        comes_true(|| metric(&c, "ztel_nats_connected") == 1.0),
        "publishing"
    );
    c.send(&all[..half]);
    assert!(
        comes_true(|| metric(&c, "ztel_nats_acknowledged_total") >= (N / 2) as f64),
        "the first half acknowledged"
    );
    // While NATS takes them, records wait for their acknowledgement in memory: the disk spool
    // is not written.
    assert_eq!(metric(&c, "ztel_nats_spooled_bytes_total"), 0.0);
    // A tenth more, and the server killed while they may be in flight.
    c.send(&all[half..more]);
    server.kill();
    c.send(&all[more..]);
    // The rest waits in the spool while NATS is down; /healthz says so and still serves.
    let spooled = wait_for(PATIENCE, || {
        let n = metric(&c, "ztel_nats_spool_records");
        (n >= (N - N / 2 - N / 10) as f64).then_some(n)
    })
    .expect("the rest spooled");
    assert!(
        comes_true(|| metric(&c, "ztel_nats_connected") == 0.0),
        "the connection is said down"
    );
    // Once the failure is seen, what memory held went to disk.
    assert!(metric(&c, "ztel_nats_spooled_bytes_total") > 0.0);
    let (status, body) = http_get(admin(&c), "/healthz");
    assert_eq!(status, 200);
    assert!(body.contains("nats down"), "{body}");
    let published_before = metric(&c, "ztel_nats_acknowledged_total");

    server.restart();
    assert!(spool_empties(&c), "the spool empties");
    let stream = assert_stream_holds_once(&server.url(), N as usize);
    let published_after = metric(&c, "ztel_nats_acknowledged_total") - published_before;
    assert!(metric(&c, "ztel_nats_reconnects_total") >= 1.0);
    let duplicates_in_stream = records(&stream).len() - (N as usize);
    eprintln!(
        "outage: records spooled {spooled}, acknowledged after the restart {published_after}, \
         duplicates in the stream {duplicates_in_stream}"
    );
    let (_, body) = http_get(admin(&c), "/healthz");
    assert_eq!(body, "ok\n");
    c.stop();
}

#[test]
fn a_spool_left_at_shutdown_is_published_at_the_next_start() {
    // NATS is down for the whole first run.
    const N: u64 = 500;
    let Some(Spooled {
        dir,
        down,
        port,
        data,
        collector: first,
    }) = spooled_while_nats_is_down("nats-shutdown", N)
    else {
        return;
    };
    let outcome = first.stop();
    let said: Vec<&String> = outcome
        .stderr
        .iter()
        .filter(|l| l.contains("not acknowledged by NATS stay in"))
        .collect();
    assert_eq!(
        said.len(),
        1,
        "one line says what stays: {:?}",
        outcome.stderr
    );
    // The records, and the device events of their seven hosts.
    assert!(
        said[0].contains(&format!("{} records", N + 7)),
        "{}",
        said[0]
    );
    assert!(spool_bytes(&data.join("nats-spool")) > 0);

    let server = Server::on(port, dir.path().join("nats-store"), None);
    drop(down);
    let second = start_collector("nats-shutdown-2", &server.url(), Some(data.clone()));
    assert!(spool_empties(&second), "the spool empties");
    assert_stream_holds_once(&server.url(), N as usize);
    second.stop();
}

fn spool_bytes(dir: &Path) -> u64 {
    std::fs::read_dir(dir)
        .map(|entries| {
            entries
                .filter_map(|e| e.ok())
                .filter(|e| e.file_name().to_string_lossy().ends_with(".sealed"))
                .filter_map(|e| e.metadata().ok())
                .map(|m| m.len())
                .sum()
        })
        .unwrap_or(0)
}

#[test]
fn a_full_spool_pushes_back_on_the_sender_and_nothing_is_lost() {
    let dir = TempDir::new("nats-full");
    if !installed() {
        return;
    }
    // NATS is down from the start, and the spool holds 1 MiB. Histograms every second, for
    // the count of records taken below.
    let (down, port) = down_port();
    let url = format!("nats://127.0.0.1:{port}");
    let extra = "spool_bytes = 1048576\n[histograms]\ninterval_secs = 1";
    let c = start_configured("nats-full", &url, extra, None);
    // ~60 MB: more than the spool, the channels, the aggregator's backlog and the sockets hold.
    const N: usize = 60_000;
    let padding = "x".repeat(900);
    let lines: Vec<String> = (1..=N as u64)
        .map(|i| {
            zia_line(i, &format!("host-{}", i % 20))
                .replace("\"login\"", &format!("\"pad\":\"{padding}\",\"login\""))
        })
        .collect();
    let stream = c.connect();
    // Blocked for as long as the spool is full: no write timeout.
    stream.set_write_timeout(None).expect("no timeout");
    let (sent, sender) = common::send_counting(stream, lines);
    let stalled_at = common::wait_until_stalled(&sent, Duration::from_millis(1000));
    assert!(
        stalled_at < N,
        "all {N} records were taken while the spool was full"
    );
    let spooled = metric(&c, "ztel_nats_spool_bytes");
    assert!(
        (524_288.0..=1_048_576.0).contains(&spooled),
        "the spool stays near its bound: {spooled} bytes"
    );
    eprintln!(
        "full spool: the sender stalled after {stalled_at} of {N} records, spool {spooled} bytes"
    );
    // Regression: /healthz blamed the file outputs, whose write errors were none.
    let said = wait_for(PATIENCE, || {
        let (status, body) = http_get(admin(&c), "/healthz");
        (status == 503).then_some(body)
    })
    .expect("unhealthy while stalled");
    assert!(said.contains("nats down and its spool full"), "{said}");
    // Held back by NATS, the collector still writes its records file: every record it took
    // (read to sink) is there, the last ones too, not kept for NATS's turn.
    let file = c.data_dir().join("connections.jsonl");
    let written = wait_for(PATIENCE, || {
        let taken = metric(&c, "ztel_latency_read_to_sink_seconds_count");
        let lines = common::count_lines(&file);
        (taken > 0.0 && lines as f64 == taken).then_some(lines)
    })
    .expect("the records taken are in the records file while NATS is stuck");
    eprintln!("full spool: {written} records in the records file meanwhile");

    let server = Server::on(port, dir.path().join("nats-store"), None);
    drop(down);
    sender
        .join()
        .expect("the sender finishes once NATS takes the spool");
    assert!(
        all_acknowledged(&c, (N + 20) as f64),
        "every record acknowledged"
    );
    // Each record once (plus the twenty devices' creation): counted by the stream itself.
    let held = stream_info(&server.url()).state.messages;
    assert_eq!(held, (N + 20) as u64);
    let outcome = c.stop();
    assert_eq!(outcome.records.len(), N);
}
