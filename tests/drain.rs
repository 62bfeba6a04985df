//! The drain of DESIGN §4 (SIGTERM: stop accepting, drain, exit) against connections caught
//! mid-frame or mid-request: the drain ends within its own bound, not the idle timeout (300 s by
//! default, longer than systemd waits before SIGKILL); a partial frame is what a connection cut
//! mid-frame leaves, a `truncated` dead letter, and a partial HTTP request gets no 200 (its
//! sender sends it again).

mod common;

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::Duration;

use common::http::Client;
use common::{record_id, zia_line, Ca, Collector, Options, Outcome, TempDir};
use rustls::pki_types::ServerName;

/// How long a drain may take here: the collector gives a TCP or TLS connection that keeps
/// sending 2 s, a quiet one 100 ms, and an HTTP request in progress 2 s and then a 1 s linger;
/// the rest is room for a loaded machine.
const DRAIN_BOUND: Duration = Duration::from_secs(6);

/// A whole line, then the first half of the next: what a sender caught by the drain between
/// two writes of a line leaves (the partial line is returned too).
fn line_and_a_half() -> (Vec<u8>, String) {
    let next = zia_line(2, "cut-short");
    let partial = next[..next.len() / 2].to_owned();
    let bytes = format!("{}\n{partial}", zia_line(1, "whole")).into_bytes();
    (bytes, partial)
}

/// Sends `bytes` with `write`, waits until the whole line is a record (so the connection waits
/// on the rest of the frame), and stops the collector while the connection stays open.
fn drain_mid_frame(collector: Collector, write: impl FnOnce(&[u8])) -> (Outcome, String) {
    let (bytes, partial) = line_and_a_half();
    write(&bytes);
    common::wait_for_lines(&collector.data_dir().join("connections.jsonl"), 1);
    (collector.stop_within(DRAIN_BOUND), partial)
}

fn assert_whole_line_kept_and_partial_truncated(outcome: &Outcome, partial: &str) {
    let ids: Vec<Option<u64>> = outcome.records.iter().map(record_id).collect();
    assert_eq!(ids, [Some(1)], "the whole line, and no other record");
    let truncated: Vec<&str> = outcome
        .dead("truncated")
        .iter()
        .filter_map(|d| d["raw"].as_str())
        .collect();
    assert_eq!(truncated, [partial], "{:?}", outcome.dead_letters);
    assert_eq!(outcome.counter("dead_letters"), 1);
    outcome.assert_counters_match_files();
}

#[test]
fn a_drain_ends_in_its_bound_with_a_tcp_frame_in_progress() {
    let collector = Collector::start_with("drain-mid-frame", Options::binary());
    let mut stream = collector.connect();
    let (outcome, partial) = drain_mid_frame(collector, |bytes| {
        stream.write_all(bytes).expect("send");
    });
    assert_whole_line_kept_and_partial_truncated(&outcome, &partial);
    drop(stream);
}

#[test]
fn a_drain_ends_in_its_bound_with_a_tls_frame_in_progress() {
    let dir = TempDir::new("drain-tls-files");
    let ca = Ca::new("drain root");
    let (cert, key) = ca.leaf("localhost", &["localhost"]);
    let toml = format!(
        "[input.tls]\ncert = {:?}\nkey = {:?}\n",
        dir.write("server.pem", &cert),
        dir.write("server.key", &key)
    );
    let collector = Collector::start_with(
        "drain-tls-mid-frame",
        Options {
            config: Some(toml),
            args: vec!["--tls".into(), "127.0.0.1:0".into()],
            ..Options::binary()
        },
    );
    let tcp =
        TcpStream::connect_timeout(&collector.listening["tls"], common::DEADLINE).expect("connect");
    tcp.set_read_timeout(Some(common::DEADLINE))
        .expect("timeout");
    let name = ServerName::try_from("localhost").expect("a name");
    let client = rustls::ClientConnection::new(ca.client(None), name).expect("a client");
    let mut tls = rustls::StreamOwned::new(client, tcp);
    let (outcome, partial) = drain_mid_frame(collector, |bytes| {
        // The handshake happens on the way.
        tls.write_all(bytes).expect("send");
        tls.flush().expect("flush");
    });
    assert_whole_line_kept_and_partial_truncated(&outcome, &partial);
    drop(tls);
}

#[test]
fn a_drain_ends_in_its_bound_with_http_requests_in_progress() {
    let collector = Collector::start_with(
        "drain-http-mid-request",
        Options {
            config: Some("[input.http]\nplain = true\nkeys = [\"k1\"]\n".into()),
            args: vec!["--http".into(), "127.0.0.1:0".into()],
            ..Options::binary()
        },
    );
    let http = collector.listening["http"];
    // A body begun: the 100 Continue says its head was taken (before the drain, no 503).
    let mut body = Client::connect(http);
    let head = "POST / HTTP/1.1\r\nX-Ztel-Key: k1\r\nContent-Length: 1000\r\n\
                Expect: 100-continue\r\n\r\n";
    body.stream.write_all(head.as_bytes()).expect("head");
    assert_eq!(body.answer().status, 100);
    let record = zia_line(1, "cut-short");
    body.stream
        .write_all(format!("[{}", &record[..record.len() / 2]).as_bytes())
        .expect("half a body");
    // A head begun, on a connection of its own.
    let mut head = TcpStream::connect(http).expect("connect");
    head.write_all(b"POST / HTTP/1.1\r\nX-Ztel-Key: k1\r\nContent-Le")
        .expect("half a head");
    common::wait_read(http.port(), 2, common::DEADLINE);
    let outcome = collector.stop_within(DRAIN_BOUND);
    assert!(outcome.records.is_empty(), "{:?}", outcome.records);
    // The drain's doing, not the peers' idleness.
    assert_eq!(
        outcome.counter("idle_timeouts"),
        0,
        "{:?}",
        outcome.counters
    );
    let mut answer = Vec::new();
    let _ = body.stream.read_to_end(&mut answer);
    assert!(
        !answer.starts_with(b"HTTP/1.1 200"),
        "{}",
        String::from_utf8_lossy(&answer)
    );
    outcome.assert_counters_match_files();
    drop(head);
}
