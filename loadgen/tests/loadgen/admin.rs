//! `--admin URL`: after the run loadgen reads the collector's /metrics for what it received, what
//! it lost and its latency, and says "n/a" when the endpoint does not answer.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::thread;

use crate::support::{loadgen, loadgen_with, refusing, tcp_receiver, Run};

/// A fake collector: a TCP receiver that counts lines, and an admin endpoint whose
/// `ztel_frames_total` is 1000 + lines received − `hide` (what it "lost"), and that has no
/// `/histograms`.
fn fake_collector(hide: u64) -> (String, String) {
    let lines_seen = Arc::new(AtomicU64::new(0));
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let target = listener.local_addr().unwrap().to_string();
    let seen = Arc::clone(&lines_seen);
    thread::spawn(move || {
        for sock in listener.incoming() {
            let seen = Arc::clone(&seen);
            thread::spawn(move || {
                for line in BufReader::new(sock.unwrap()).split(b'\n') {
                    line.unwrap();
                    seen.fetch_add(1, Ordering::Relaxed);
                }
            });
        }
    });
    let admin = TcpListener::bind("127.0.0.1:0").unwrap();
    let admin_url = format!("http://{}", admin.local_addr().unwrap());
    let seen = Arc::clone(&lines_seen);
    thread::spawn(move || {
        for sock in admin.incoming() {
            let mut sock = sock.unwrap();
            let mut request = Vec::new();
            let mut buf = [0u8; 1024];
            while !request.ends_with(b"\r\n\r\n") {
                let n = sock.read(&mut buf).unwrap();
                if n == 0 {
                    break;
                }
                request.extend_from_slice(&buf[..n]);
            }
            if request.starts_with(b"GET /histograms ") {
                // A collector without /histograms: loadgen falls back to its summary.
                let _ = write!(sock, "HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n");
                continue;
            }
            assert!(request.starts_with(b"GET /metrics HTTP/1.1\r\n"));
            let frames = 1000 + seen.load(Ordering::Relaxed).saturating_sub(hide);
            let body = format!(
                "# TYPE ztel_frames_total counter\n\
                 ztel_frames_total{{shard=\"0\",input=\"tcp\"}} {frames}\n\
                 ztel_frames_total{{shard=\"0\",input=\"udp\"}} 0\n\
                 ztel_datagrams_dropped_total{{shard=\"0\",input=\"udp\"}} 4\n\
                 # TYPE ztel_latency_read_to_sink_seconds summary\n\
                 ztel_latency_read_to_sink_seconds{{quantile=\"0.5\"}} 0.000035\n\
                 ztel_latency_read_to_sink_seconds{{quantile=\"0.9\"}} 0.00008\n\
                 ztel_latency_read_to_sink_seconds{{quantile=\"0.99\"}} 0.0012\n\
                 ztel_latency_read_to_sink_seconds{{quantile=\"0.999\"}} 0.0051\n"
            );
            // Chunked, as an HTTP/1.1 server may answer when it does not know the length up front.
            let _ = write!(
                sock,
                "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nTransfer-Encoding: chunked\r\n\r\n\
                 {:x}\r\n{body}\r\n0\r\n\r\n",
                body.len()
            );
        }
    });
    (target, admin_url)
}

/// Sends 400 events to a [`fake_collector`] that hides `hide` of them, and asks its admin
/// endpoint.
fn send_400(hide: u64) -> Run {
    let (target, admin) = fake_collector(hide);
    loadgen(&format!(
        "--target {target} --count 400 --admin {admin} --quiet"
    ))
}

#[test]
fn admin_reports_received_and_the_collector_latency() {
    let run = send_400(0);
    assert_eq!(run.code, 0, "{}\n{}", run.stdout, run.stderr);
    assert_eq!(run.result("received"), "400");
    assert_eq!(run.result("lost"), "0");
    assert_eq!(run.result("dropped"), "0");
    assert_eq!(run.result("ztel_p50_us"), "35.0");
    assert_eq!(run.result("ztel_p99_us"), "1200.0");
    assert_eq!(run.result("ztel_p999_us"), "5100.0");
    run.assert_stdout_has("  ztel latency p99      1200 µs\n");
}

#[test]
fn admin_loss_is_status_1() {
    let run = send_400(25);
    assert_eq!(run.code, 1, "{}", run.stderr);
    // 25 of the 400 never show up: the count stops growing and loadgen gives up after 2 s.
    assert_eq!(run.result("received"), "375");
    assert_eq!(run.result("lost"), "25");
    run.assert_stderr_has("lost 25 events");
}

#[test]
fn unreachable_admin_is_reported_as_na() {
    // Not a listener bound and dropped: the receiver below was once given its port, and the
    // admin request went to the receiver, which read it as records.
    let (_refusing, closed) = refusing();
    let (addr, receiver) = tcp_receiver(1);
    let flags = format!("--target {addr} --count 10 --admin http://{closed} --quiet");
    let run = loadgen_with(&flags, &[]);
    assert!(
        !receiver.join().unwrap().concat().is_empty(),
        "the events were sent"
    );
    // Asked to check for loss and unable to: the run has not passed.
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert_eq!(run.stderr.lines().count(), 2, "{}", run.stderr);
    run.assert_stderr_has("cannot read http://");
    run.assert_stderr_has("whether events were lost is unknown");
    assert_eq!(run.result("received"), "n/a");
    assert_eq!(run.result("ztel_p50_us"), "n/a");
}
