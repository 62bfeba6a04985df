//! `--admin URL`: after the run loadgen reads the collector's /metrics for what it received, what
//! it lost and its latency, and says "n/a" when the endpoint does not answer.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::thread;

use crate::support::{loadgen, loadgen_with, refusing, tcp_receiver, Run};

/// What a [`fake_collector`] makes of the lines it receives, as its counters tell it once the
/// first line has come.
#[derive(Debug, Clone, Copy, Default)]
struct Fate {
    /// Never counted as frames: lost.
    hidden: u64,
    /// Frames that became dead letters.
    dead: u64,
    /// Records that were repeats of records already written.
    repeats: u64,
    /// UDP datagrams dropped by ztel and by the kernel.
    ztel_drops: u64,
    kernel_drops: u64,
}

/// A fake collector: a TCP receiver that counts lines, and an admin endpoint whose counters
/// start from earlier traffic (1000 frames, 900 records, …) and grow with the lines received as
/// `fate` says, and that has no `/histograms`.
fn fake_collector(fate: Fate) -> (String, String) {
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
            let seen = seen.load(Ordering::Relaxed);
            let f = if seen > 0 { fate } else { Fate::default() };
            let frames = seen.saturating_sub(f.hidden);
            let body = format!(
                "# TYPE ztel_frames_total counter\n\
                 ztel_frames_total{{shard=\"0\",input=\"tcp\"}} {}\n\
                 ztel_frames_total{{shard=\"0\",input=\"udp\"}} 0\n\
                 ztel_records_total{{shard=\"0\",input=\"tcp\",kind=\"zia.web\"}} {}\n\
                 ztel_records_total{{shard=\"0\",input=\"tcp\",kind=\"zia.dns\"}} 7\n\
                 ztel_duplicates_total{{shard=\"0\",input=\"tcp\"}} {}\n\
                 ztel_dead_letters_total{{shard=\"0\",input=\"tcp\"}} {}\n\
                 ztel_datagrams_dropped_total{{shard=\"0\",input=\"udp\"}} {}\n\
                 ztel_udp_kernel_drops_total{{shard=\"0\",input=\"udp\"}} {}\n\
                 # TYPE ztel_latency_read_to_sink_seconds summary\n\
                 ztel_latency_read_to_sink_seconds{{quantile=\"0.5\"}} 0.000035\n\
                 ztel_latency_read_to_sink_seconds{{quantile=\"0.9\"}} 0.00008\n\
                 ztel_latency_read_to_sink_seconds{{quantile=\"0.99\"}} 0.0012\n\
                 ztel_latency_read_to_sink_seconds{{quantile=\"0.999\"}} 0.0051\n",
                1000 + frames,
                900 + frames - f.dead,
                10 + f.repeats,
                100 + f.dead,
                4 + f.ztel_drops,
                7 + f.kernel_drops,
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

/// Sends 400 events to a [`fake_collector`] that treats them as `fate` says, and asks its admin
/// endpoint.
fn send_400(fate: Fate) -> Run {
    let (target, admin) = fake_collector(fate);
    loadgen(&format!(
        "--target {target} --count 400 --admin {admin} --quiet"
    ))
}

#[test]
fn admin_reports_received_and_the_collector_latency() {
    let run = send_400(Fate::default());
    assert_eq!(run.code, 0, "{}\n{}", run.stdout, run.stderr);
    assert_eq!(run.result("received"), "400");
    assert_eq!(run.result("written"), "400");
    assert_eq!(run.result("dead_letters"), "0");
    assert_eq!(run.result("duplicates"), "0");
    assert_eq!(run.result("lost"), "0");
    assert_eq!(run.result("dropped"), "0");
    assert_eq!(run.result("dropped_kernel"), "0");
    // (The one line on stderr is about the missing /histograms.)
    assert_eq!(run.stderr.lines().count(), 1, "{}", run.stderr);
    assert_eq!(run.result("ztel_p50_us"), "35.0");
    assert_eq!(run.result("ztel_p99_us"), "1200.0");
    assert_eq!(run.result("ztel_p999_us"), "5100.0");
    run.assert_stdout_has("  ztel latency p99      1200 µs\n");
}

#[test]
fn admin_loss_is_status_1() {
    let run = send_400(Fate {
        hidden: 25,
        ..Fate::default()
    });
    assert_eq!(run.code, 1, "{}", run.stderr);
    // 25 of the 400 never show up: the count stops growing and loadgen gives up after 2 s.
    assert_eq!(run.result("received"), "375");
    assert_eq!(run.result("lost"), "25");
    run.assert_stderr_has("lost 25 events");
}

#[test]
fn admin_reports_the_udp_datagrams_ztel_and_the_kernel_dropped() {
    let run = send_400(Fate {
        hidden: 25,
        ztel_drops: 2,
        kernel_drops: 3,
        ..Fate::default()
    });
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert_eq!(run.result("lost"), "25");
    assert_eq!(run.result("dropped"), "5");
    assert_eq!(run.result("dropped_ztel"), "2");
    assert_eq!(run.result("dropped_kernel"), "3");
    run.assert_stdout_has("  udp dropped           5 datagrams (2 by ztel, 3 by the kernel)\n");
    // Why they were lost, on the line that says they were.
    run.assert_stderr_has("lost 25 events (UDP datagrams dropped: 2 by ztel, 3 by the kernel)");
}

#[test]
fn admin_tells_dead_letters_and_duplicates_from_records_written() {
    let run = send_400(Fate {
        dead: 40,
        repeats: 60,
        ..Fate::default()
    });
    // Dead letters and duplicates were received, and kept or already held: not lost.
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(run.result("received"), "400");
    assert_eq!(run.result("lost"), "0");
    assert_eq!(run.result("written"), "300");
    assert_eq!(run.result("dead_letters"), "40");
    assert_eq!(run.result("duplicates"), "60");
    run.assert_stdout_has("  records written       300\n");
    run.assert_stdout_has("  dead letters          40\n");
    run.assert_stdout_has("  duplicates            60\n");
    run.assert_stderr_has("40 of the 400 events became dead letters");
    run.assert_stderr_has("60 of the 400 events were duplicates");
    // One line each, after the one about the missing /histograms.
    assert_eq!(run.stderr.lines().count(), 3, "{}", run.stderr);
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
