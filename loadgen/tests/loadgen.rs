//! loadgen seen from outside: the real binary against receivers the test runs on loopback
//! (plain TCP and UDP sockets, a rustls server, a fake admin endpoint), on OS-chosen ports.
//! Every record received must be one that ztel's own pipeline turns into a record. (loadgen
//! against the real collector, gzip included, is in the workspace's tests/loadgen.rs.)

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, UdpSocket};
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant};

use hdrhistogram::serialization::interval_log::{IntervalLogIterator, LogEntry};
use hdrhistogram::serialization::Deserializer;
use hdrhistogram::Histogram;
use wire::decode::Decoder;
use wire::event::Kind;
use wire::synth::{Cardinality, Dialect, WebGenerator};

/// What a run of loadgen left behind.
struct Run {
    code: i32,
    stdout: String,
    stderr: String,
}

impl Run {
    /// The `key=value` pairs of the `loadgen-result` line.
    fn result(&self, key: &str) -> String {
        let line = self
            .stdout
            .lines()
            .find(|l| l.starts_with("loadgen-result "))
            .unwrap_or_else(|| panic!("no loadgen-result line in {}", self.stdout));
        line.split(' ')
            .find_map(|kv| kv.strip_prefix(&format!("{key}=")))
            .unwrap_or_else(|| panic!("no {key} in {line}"))
            .to_string()
    }
}

/// Runs loadgen with `args`, killing it if it takes more than 20 s.
fn loadgen(args: &[&str]) -> Run {
    let mut child = Command::new(env!("CARGO_BIN_EXE_loadgen"))
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("loadgen starts");
    let mut stdout = child.stdout.take().unwrap();
    let mut stderr = child.stderr.take().unwrap();
    let out = thread::spawn(move || {
        let mut s = String::new();
        stdout.read_to_string(&mut s).unwrap();
        s
    });
    let err = thread::spawn(move || {
        let mut s = String::new();
        stderr.read_to_string(&mut s).unwrap();
        s
    });
    let began = Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if began.elapsed() > Duration::from_secs(20) {
            let _ = child.kill();
            panic!("loadgen {args:?} ran for more than 20 s");
        }
        thread::sleep(Duration::from_millis(10));
    };
    Run {
        code: status.code().unwrap_or(-1),
        stdout: out.join().unwrap(),
        stderr: err.join().unwrap(),
    }
}

/// Accepts `connections` connections and reads each to its end; the bytes, per connection.
fn tcp_receiver(connections: usize) -> (String, JoinHandle<Vec<Vec<u8>>>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap().to_string();
    let handle = thread::spawn(move || {
        let readers: Vec<JoinHandle<Vec<u8>>> = (0..connections)
            .map(|_| {
                let (mut sock, _) = listener.accept().unwrap();
                thread::spawn(move || {
                    let mut bytes = Vec::new();
                    sock.read_to_end(&mut bytes).unwrap();
                    bytes
                })
            })
            .collect();
        readers.into_iter().map(|r| r.join().unwrap()).collect()
    });
    (addr, handle)
}

/// Every frame is JSON, and ztel's decoder makes an event of `kind` of it.
fn assert_records(frames: &[&[u8]], kind: Kind) {
    for frame in frames {
        serde_json::from_slice::<serde_json::Value>(frame)
            .unwrap_or_else(|e| panic!("not JSON ({e}): {}", String::from_utf8_lossy(frame)));
    }
    assert_decoded(frames, kind);
}

/// ztel's decoder makes an event of `kind` of every frame (syslog header and all).
fn assert_decoded(frames: &[&[u8]], kind: Kind) {
    let mut decoder = Decoder::new(jiff::tz::TimeZone::UTC);
    let received = "2025-11-22T10:00:00Z".parse().unwrap();
    let mut out = Vec::new();
    for frame in frames {
        match decoder.decode(frame, received, &mut out) {
            Ok(decoded) => assert_eq!(decoded.facts.kind, kind),
            Err(reason) => panic!("{reason:?}: {}", String::from_utf8_lossy(frame)),
        }
    }
}

fn lines(bytes: &[u8]) -> Vec<&[u8]> {
    assert!(
        bytes.is_empty() || bytes.ends_with(b"\n"),
        "a record was cut"
    );
    bytes
        .split(|b| *b == b'\n')
        .filter(|l| !l.is_empty())
        .collect()
}

/// Splits an octet-counted stream (`LEN SP payload`, RFC 6587) into its payloads.
fn octet_frames(mut bytes: &[u8]) -> Vec<&[u8]> {
    let mut frames = Vec::new();
    while !bytes.is_empty() {
        let space = bytes.iter().position(|b| *b == b' ').unwrap();
        let len: usize = std::str::from_utf8(&bytes[..space])
            .unwrap()
            .parse()
            .unwrap();
        frames.push(&bytes[space + 1..space + 1 + len]);
        bytes = &bytes[space + 1 + len..];
    }
    frames
}

fn temp_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("loadgen-test-{}-{name}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

#[test]
fn tcp_lf_delivers_every_nss_record_over_several_connections() {
    let (addr, receiver) = tcp_receiver(3);
    let run = loadgen(&[
        "--target",
        &addr,
        "--proto",
        "tcp",
        "--source",
        "nss",
        "--connections",
        "3",
        "--rate",
        "max",
        "--count",
        "1000",
        "--devices",
        "50",
        "--quiet",
    ]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(run.stderr, "", "--quiet prints nothing on stderr");
    let received = receiver.join().unwrap();
    let per_connection: Vec<usize> = received.iter().map(|b| lines(b).len()).collect();
    let mut sorted = per_connection.clone();
    sorted.sort_unstable();
    assert_eq!(sorted, [333, 333, 334], "round-robin over 3 connections");
    let all: Vec<&[u8]> = received.iter().flat_map(|b| lines(b)).collect();
    assert_records(&all, Kind::ZiaWeb);
    let bytes: usize = received.iter().map(Vec::len).sum();
    assert_eq!(run.result("events"), "1000");
    assert_eq!(run.result("bytes"), bytes.to_string());
    assert_eq!(run.result("lateness_p99_us"), "n/a");
    // The line says what was run (issue 15).
    assert_eq!(run.result("proto"), "tcp");
    assert_eq!(run.result("source"), "nss");
    assert_eq!(run.result("rate"), "max");
    assert_eq!(run.result("connections"), "3");
    assert_eq!(run.result("churn"), "0");
    assert!(run.result("seed").parse::<u64>().is_ok());
    let started: u64 = run.result("started_unix").parse().unwrap();
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    assert!(
        now.abs_diff(started) < 600,
        "started_unix={started}, now {now}"
    );
    assert!(
        run.stdout.contains("  events sent           1000\n"),
        "{}",
        run.stdout
    );
}

#[test]
fn tcp_octet_framing_carries_lss_records() {
    let (addr, receiver) = tcp_receiver(1);
    let run = loadgen(&[
        "--target",
        &addr,
        "--source",
        "lss",
        "--framing",
        "octet",
        "--count",
        "300",
    ]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let received = receiver.join().unwrap();
    let frames = octet_frames(&received[0]);
    assert_eq!(frames.len(), 300);
    assert!(frames.iter().all(|f| !f.ends_with(b"\n")));
    assert_records(&frames, Kind::ZpaUserActivity);
}

#[test]
fn dialects_are_sent_as_asked() {
    for (dialect, marker) in [("elastic", "\"time\":"), ("sekoia", "zscaler-nss {")] {
        let (addr, receiver) = tcp_receiver(1);
        let run = loadgen(&["--target", &addr, "--dialect", dialect, "--count", "50"]);
        assert_eq!(run.code, 0, "{}", run.stderr);
        let received = receiver.join().unwrap();
        let text = String::from_utf8(received[0].clone()).unwrap();
        assert!(text.lines().all(|l| l.contains(marker)), "{dialect}");
        let frames: Vec<&[u8]> = text.lines().map(str::as_bytes).collect();
        assert_eq!(frames.len(), 50, "{dialect}");
        assert_decoded(&frames, Kind::ZiaWeb);
    }
}

/// The set of values that the records' events hold under `key`.
fn values(frames: &[&[u8]], key: &str) -> std::collections::BTreeSet<String> {
    frames
        .iter()
        .map(|f| {
            let v: serde_json::Value = serde_json::from_slice(f).unwrap();
            v["event"][key].as_str().unwrap_or_default().to_string()
        })
        .collect()
}

#[test]
fn fw_sends_firewall_records() {
    let (addr, receiver) = tcp_receiver(2);
    let run = loadgen(&[
        "--target",
        &addr,
        "--source",
        "fw",
        "--connections",
        "2",
        "--count",
        "800",
        "--devices",
        "40",
    ]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(
        run.stdout.starts_with(&format!(
            "loadgen: tcp to {addr}, 2 connection(s), source fw, format json, rate max, "
        )),
        "{}",
        run.stdout
    );
    let received = receiver.join().unwrap();
    let all: Vec<&[u8]> = received.iter().flat_map(|b| lines(b)).collect();
    assert_eq!(all.len(), 800);
    assert!(all
        .iter()
        .all(|l| l.starts_with(b"{\"sourcetype\":\"zscalernss-fw\"")));
    assert_records(&all, Kind::ZiaFirewall);
    let hosts = values(&all, "devicehostname");
    assert!((30..=40).contains(&hosts.len()), "{} devices", hosts.len());
    assert!(values(&all, "csport").len() > 600, "real client ports");
    assert_eq!(values(&all, "ipproto").len(), 3, "TCP, UDP, ICMP");
    assert_eq!(run.result("events"), "800");
}

#[test]
fn dns_sends_dns_records_over_udp() {
    let sock = UdpSocket::bind("127.0.0.1:0").unwrap();
    sock.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    let addr = sock.local_addr().unwrap().to_string();
    let receiver = thread::spawn(move || {
        let mut records = Vec::new();
        let mut buf = vec![0u8; 65536];
        while records.len() < 500 {
            let n = sock.recv(&mut buf).expect("all datagrams arrive");
            records.extend(lines(&buf[..n]).into_iter().map(<[u8]>::to_vec));
        }
        records
    });
    let run = loadgen(&[
        "--target", &addr, "--proto", "udp", "--source", "dns", "--count", "500", "--rate", "5000",
        "--quiet",
    ]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let records = receiver.join().unwrap();
    let all: Vec<&[u8]> = records.iter().map(Vec::as_slice).collect();
    assert_eq!(all.len(), 500);
    assert_records(&all, Kind::ZiaDns);
    assert!(values(&all, "reqtype").len() >= 6, "query types");
    assert!(values(&all, "error").len() >= 3, "response codes");
}

#[test]
fn every_format_is_sent_as_asked_and_decodes_to_web_records() {
    type LooksRight = fn(&str) -> bool;
    let cases: [(&str, LooksRight); 5] = [
        ("json", |l| {
            l.starts_with("{\"sourcetype\":\"zscalernss-web\"")
        }),
        ("leef", |l| l.contains(" LEEF:")),
        ("cef", |l| l.contains(" CEF:")),
        ("kv", |l| !l.contains('{') && l.contains("\treason=")),
        ("csv", |l| l.starts_with('"') && l.ends_with('"')),
    ];
    for (format, looks_right) in cases {
        let (addr, receiver) = tcp_receiver(1);
        let run = loadgen(&["--target", &addr, "--format", format, "--count", "200"]);
        assert_eq!(run.code, 0, "{format}: {}", run.stderr);
        let summary = format!(", source nss, format {format}");
        assert!(run.stdout.contains(&summary), "{}", run.stdout);
        let received = receiver.join().unwrap();
        let frames = lines(&received[0]);
        assert_eq!(frames.len(), 200, "{format}");
        for frame in &frames {
            let line = std::str::from_utf8(frame).unwrap();
            assert!(looks_right(line), "{format}: {line}");
        }
        assert_decoded(&frames, Kind::ZiaWeb);
    }
}

#[test]
fn formats_and_gzip_that_do_not_apply_are_refused_with_status_2() {
    let cases: [(&[&str], &str); 5] = [
        (
            &["--format", "leef", "--dialect", "elastic"],
            "--dialect picks the template of --format json",
        ),
        (
            &["--format", "csv", "--proto", "http", "--http-key", "k"],
            "Cloud NSS sends JSON only",
        ),
        (&["--format", "cef", "--source", "fw"], "--source nss only"),
        (
            &["--source", "dns", "--dialect", "sekoia"],
            "--source nss only",
        ),
        (
            &["--gzip", "--proto", "udp"],
            "--gzip applies to --proto http only",
        ),
    ];
    for (extra, why) in cases {
        let mut args = vec!["--target", "127.0.0.1:1", "--count", "1"];
        args.extend_from_slice(extra);
        let run = loadgen(&args);
        assert_eq!(run.code, 2, "{extra:?}: {}", run.stderr);
        assert_eq!(run.stderr.lines().count(), 1, "{}", run.stderr);
        assert!(run.stderr.starts_with("loadgen: "), "{}", run.stderr);
        assert!(run.stderr.contains(why), "{extra:?}: {}", run.stderr);
        assert_eq!(run.stdout, "");
    }
}

#[test]
fn help_explains_sources_formats_and_gzip() {
    let run = loadgen(&["--help"]);
    assert_eq!(run.code, 0);
    let help = run.stdout.split_whitespace().collect::<Vec<_>>().join(" ");
    for text in [
        "--source <nss|fw|dns|lss|FILE>",
        "\"fw\" (synthetic ZIA firewall records",
        "\"dns\" (synthetic ZIA DNS records",
        "--format <FORMAT>",
        "[possible values: json, leef, cef, kv, csv]",
        "Cloud NSS sends JSON only",
        "--gzip",
        "Content-Encoding: gzip",
        "the bytes before compression",
    ] {
        assert!(
            help.contains(text),
            "no {text:?} in --help:\n{}",
            run.stdout
        );
    }
}

#[test]
fn paced_run_measures_lateness_and_writes_an_interval_log() {
    let dir = temp_dir("hist");
    let hlog = dir.join("lateness.hlog");
    let (addr, receiver) = tcp_receiver(2);
    let began = Instant::now();
    let run = loadgen(&[
        "--target",
        &addr,
        "--connections",
        "2",
        "--rate",
        "2000",
        "--count",
        "2400",
        "--hist",
        hlog.to_str().unwrap(),
    ]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    // 2400 events at 2000/s: the last is due 1.2 s after the start.
    assert!(began.elapsed() >= Duration::from_millis(1150));
    // Open loop: it cannot finish before the last event is due (how much later is for perf/).
    let seconds: f64 = run.result("seconds").parse().unwrap();
    assert!(seconds >= 1.1, "{seconds}");
    let p50: u64 = run.result("lateness_p50_us").parse().unwrap();
    let max: u64 = run.result("lateness_max_us").parse().unwrap();
    assert!(p50 <= max);
    assert!(
        run.stderr.contains("events/s"),
        "a progress line: {}",
        run.stderr
    );
    let received = receiver.join().unwrap();
    assert_eq!(received.iter().map(|b| lines(b).len()).sum::<usize>(), 2400);

    let text = std::fs::read(&hlog).unwrap();
    let header = String::from_utf8_lossy(&text);
    assert!(header.contains("#[Histogram log format version 1.3]"));
    assert!(header.contains("#[StartTime: "));
    assert!(header.contains("\"StartTimestamp\",\"Interval_Length\""));
    let mut total = 0;
    let mut intervals = 0;
    for entry in IntervalLogIterator::new(&text) {
        if let LogEntry::Interval(i) = entry.unwrap() {
            assert_eq!(i.tag().unwrap().as_str(), "send_lateness");
            let bytes = base64_decode(i.encoded_histogram());
            let h: Histogram<u64> = Deserializer::new().deserialize(&mut &bytes[..]).unwrap();
            total += h.len();
            intervals += 1;
        }
    }
    assert_eq!(total, 2400, "every event's lateness is in the log");
    assert!(intervals >= 2, "one interval per second: {intervals}");
    std::fs::remove_dir_all(dir).unwrap();
}

/// Standard base64 (the interval log's histogram encoding).
fn base64_decode(text: &str) -> Vec<u8> {
    let value = |c: u8| match c {
        b'A'..=b'Z' => c - b'A',
        b'a'..=b'z' => c - b'a' + 26,
        b'0'..=b'9' => c - b'0' + 52,
        b'+' => 62,
        b'/' => 63,
        _ => panic!("not base64: {c}"),
    };
    let mut out = Vec::new();
    let (mut acc, mut bits) = (0u32, 0);
    for c in text.bytes().filter(|c| *c != b'=') {
        acc = (acc << 6) | u32::from(value(c));
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push((acc >> bits) as u8);
        }
    }
    out
}

#[test]
fn timed_max_rate_run_stops_on_time() {
    // A small file keeps the pool small: generating it is not what this test is about.
    let dir = temp_dir("timed");
    let file = dir.join("ten.log");
    let ten = WebGenerator::new(1, Dialect::Ztel, Cardinality::default()).lines(10);
    std::fs::write(&file, ten).unwrap();
    let (addr, receiver) = tcp_receiver(1);
    let run = loadgen(&[
        "--target",
        &addr,
        "--source",
        file.to_str().unwrap(),
        "--duration",
        "0.5",
        "--quiet",
    ]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let received = receiver.join().unwrap();
    let sent: usize = run.result("events").parse().unwrap();
    assert!(sent > 0);
    assert_eq!(lines(&received[0]).len(), sent);
    let seconds: f64 = run.result("seconds").parse().unwrap();
    assert!((0.45..2.0).contains(&seconds), "{seconds}");
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn udp_packs_whole_records_into_datagrams() {
    let sock = UdpSocket::bind("127.0.0.1:0").unwrap();
    sock.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    let addr = sock.local_addr().unwrap().to_string();
    let receiver = thread::spawn(move || {
        let mut datagrams = Vec::new();
        let mut records = 0;
        let mut buf = vec![0u8; 65536];
        while records < 60 {
            let n = sock.recv(&mut buf).expect("all datagrams arrive");
            records += lines(&buf[..n]).len();
            datagrams.push(buf[..n].to_vec());
        }
        datagrams
    });
    let run = loadgen(&[
        "--target", &addr, "--proto", "udp", "--count", "60", "--quiet",
    ]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let datagrams = receiver.join().unwrap();
    assert!(datagrams
        .iter()
        .all(|d| d.len() <= 8192 && d.ends_with(b"\n")));
    assert!(
        datagrams.len() < 30,
        "several records per datagram: {} datagrams",
        datagrams.len()
    );
    let all: Vec<&[u8]> = datagrams.iter().flat_map(|d| lines(d)).collect();
    assert_eq!(all.len(), 60);
    assert_records(&all, Kind::ZiaWeb);
}

#[test]
fn file_is_replayed_line_by_line_and_looped() {
    let dir = temp_dir("file");
    let file = dir.join("feed.log");
    std::fs::write(&file, "{\"a\":1}\n{\"b\":2}\r\n\n{\"c\":3}").unwrap();
    let (addr, receiver) = tcp_receiver(1);
    let run = loadgen(&[
        "--target",
        &addr,
        "--source",
        file.to_str().unwrap(),
        "--count",
        "7",
    ]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let received = receiver.join().unwrap();
    assert_eq!(
        String::from_utf8(received[0].clone()).unwrap(),
        "{\"a\":1}\n{\"b\":2}\n{\"c\":3}\n{\"a\":1}\n{\"b\":2}\n{\"c\":3}\n{\"a\":1}\n"
    );
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn a_short_file_still_feeds_every_connection() {
    let dir = temp_dir("short");
    let file = dir.join("one.log");
    std::fs::write(&file, "only line\n").unwrap();
    let (addr, receiver) = tcp_receiver(3);
    let run = loadgen(&[
        "--target",
        &addr,
        "--source",
        file.to_str().unwrap(),
        "--count",
        "9",
        "--connections",
        "3",
    ]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    for bytes in receiver.join().unwrap() {
        assert_eq!(bytes, b"only line\nonly line\nonly line\n");
    }
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn http_without_a_key_is_refused_with_status_2() {
    let run = loadgen(&["--target", "127.0.0.1:1", "--proto", "http", "--count", "1"]);
    assert_eq!(run.code, 2);
    assert_eq!(
        run.stderr,
        "loadgen: --proto http needs --http-key KEY (one of the collector's input.http.keys)\n"
    );
    assert_eq!(run.stdout, "");
    let run = loadgen(&[
        "--target",
        "127.0.0.1:1",
        "--proto",
        "http",
        "--http-key",
        "k",
        "--framing",
        "octet",
        "--count",
        "1",
    ]);
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert_eq!(run.stderr.lines().count(), 1, "{}", run.stderr);
}

#[test]
fn configuration_errors_are_one_line_and_status_2() {
    let missing = std::env::temp_dir().join("loadgen-test-no-such-file.log");
    let cases: [&[&str]; 5] = [
        &[
            "--target",
            "127.0.0.1:1",
            "--source",
            missing.to_str().unwrap(),
            "--count",
            "1",
        ],
        &[
            "--target",
            "127.0.0.1:1",
            "--proto",
            "tls",
            "--ca",
            missing.to_str().unwrap(),
            "--count",
            "1",
        ],
        &["--target", "no port here", "--count", "1"],
        &[
            "--target",
            "127.0.0.1:1",
            "--proto",
            "udp",
            "--framing",
            "octet",
            "--count",
            "1",
        ],
        &[
            "--target",
            "127.0.0.1:1",
            "--rate",
            "max",
            "--hist",
            "x.hlog",
            "--count",
            "1",
        ],
    ];
    for args in cases {
        let run = loadgen(args);
        assert_eq!(run.code, 2, "{args:?}: {}", run.stderr);
        assert_eq!(run.stderr.lines().count(), 1, "{args:?}: {}", run.stderr);
        assert!(run.stderr.starts_with("loadgen: "), "{}", run.stderr);
    }
    let run = loadgen(&[
        "--target",
        "127.0.0.1:1",
        "--count",
        "1",
        "--source",
        missing.to_str().unwrap(),
    ]);
    assert!(run.stderr.contains("cannot read"), "{}", run.stderr);
    // clap's own usage errors also exit 2.
    assert_eq!(loadgen(&["--target", "127.0.0.1:1"]).code, 2);
    assert_eq!(loadgen(&["--help"]).code, 0);
}

#[test]
fn a_refused_connection_is_status_1() {
    let port = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let run = loadgen(&[
        "--target",
        &format!("127.0.0.1:{port}"),
        "--count",
        "10",
        "--quiet",
    ]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert_eq!(run.stderr.lines().count(), 1, "{}", run.stderr);
    assert!(run.stderr.contains("connection 1"), "{}", run.stderr);
}

#[test]
fn a_connection_lost_mid_run_is_status_1() {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap().to_string();
    let receiver = thread::spawn(move || {
        let (mut sock, _) = listener.accept().unwrap();
        let mut buf = vec![0u8; 64 << 10];
        sock.read_exact(&mut buf).unwrap();
        // Closing with unread bytes resets the connection.
    });
    let run = loadgen(&["--target", &addr, "--count", "50000", "--quiet"]);
    receiver.join().unwrap();
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert!(run.stderr.contains("connection 1: send"), "{}", run.stderr);
    assert_eq!(run.result("failed_connections"), "1");
}

// --- TLS -------------------------------------------------------------------------------

/// A CA and a certificate for "localhost" it signed, PEM: (ca, cert, key).
fn certificates() -> (String, String, String) {
    use rcgen::{BasicConstraints, CertificateParams, CertifiedIssuer, DnType, IsCa, KeyPair};
    let mut ca_params = CertificateParams::new(Vec::<String>::new()).unwrap();
    ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    ca_params
        .distinguished_name
        .push(DnType::CommonName, "loadgen test CA");
    let ca = CertifiedIssuer::self_signed(ca_params, KeyPair::generate().unwrap()).unwrap();
    let params = CertificateParams::new(vec!["localhost".to_string()]).unwrap();
    let key = KeyPair::generate().unwrap();
    let cert = params.signed_by(&key, &ca).unwrap();
    (ca.pem(), cert.pem(), key.serialize_pem())
}

/// Per connection: the bytes read, or how the connection failed.
type TlsReceived = Vec<Result<Vec<u8>, String>>;

fn tls_receiver(cert: &str, key: &str, connections: usize) -> (String, JoinHandle<TlsReceived>) {
    use rustls::pki_types::pem::PemObject;
    use rustls::pki_types::{CertificateDer, PrivateKeyDer};
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_no_client_auth()
        .with_single_cert(
            vec![CertificateDer::from_pem_slice(cert.as_bytes()).unwrap()],
            PrivateKeyDer::from_pem_slice(key.as_bytes()).unwrap(),
        )
        .unwrap();
    let config = Arc::new(config);
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap().to_string();
    let handle = thread::spawn(move || {
        let readers: Vec<JoinHandle<Result<Vec<u8>, String>>> = (0..connections)
            .map(|_| {
                let (sock, _) = listener.accept().unwrap();
                let config = Arc::clone(&config);
                thread::spawn(move || {
                    let conn = rustls::ServerConnection::new(config).unwrap();
                    let mut tls = rustls::StreamOwned::new(conn, sock);
                    let mut bytes = Vec::new();
                    // Ends at the client's close_notify; an error otherwise.
                    tls.read_to_end(&mut bytes).map_err(|e| e.to_string())?;
                    Ok(bytes)
                })
            })
            .collect();
        readers.into_iter().map(|r| r.join().unwrap()).collect()
    });
    (addr, handle)
}

#[test]
fn tls_delivers_every_record() {
    let dir = temp_dir("tls");
    let (ca, cert, key) = certificates();
    let ca_file = dir.join("ca.pem");
    std::fs::write(&ca_file, ca).unwrap();
    let (addr, receiver) = tls_receiver(&cert, &key, 2);
    let run = loadgen(&[
        "--target",
        &addr,
        "--proto",
        "tls",
        "--ca",
        ca_file.to_str().unwrap(),
        "--connections",
        "2",
        "--source",
        "lss",
        "--count",
        "500",
    ]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let received: Vec<Vec<u8>> = receiver
        .join()
        .unwrap()
        .into_iter()
        .collect::<Result<_, _>>()
        .unwrap();
    let all: Vec<&[u8]> = received.iter().flat_map(|b| lines(b)).collect();
    assert_eq!(all.len(), 500);
    assert_records(&all, Kind::ZpaUserActivity);
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn tls_refuses_a_certificate_from_another_ca() {
    let dir = temp_dir("tls-wrong");
    let (_, cert, key) = certificates();
    let (other_ca, _, _) = certificates();
    let ca_file = dir.join("other-ca.pem");
    std::fs::write(&ca_file, other_ca).unwrap();
    let (addr, _receiver) = tls_receiver(&cert, &key, 1);
    let run = loadgen(&[
        "--target",
        &addr,
        "--proto",
        "tls",
        "--ca",
        ca_file.to_str().unwrap(),
        "--count",
        "5",
    ]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert!(run.stderr.contains("TLS handshake"), "{}", run.stderr);
    std::fs::remove_dir_all(dir).unwrap();
}

// --- HTTP ------------------------------------------------------------------------------

/// A request as the fake HTTP collector read it.
#[derive(Debug)]
struct Posted {
    /// Which accepted connection it came on (0, 1, …).
    connection: usize,
    method: String,
    path: String,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

impl Posted {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

/// A fake Cloud NSS receiver: reads requests (framed by Content-Length) on every connection it
/// accepts, records each, then writes `answer(n)` for the n-th request overall. An answer with
/// `Connection: close` ends its connection. Requests are recorded before they are answered, so
/// once loadgen has exited every request it sent is in the list.
fn http_receiver(
    answer: fn(usize) -> &'static str,
) -> (String, Arc<std::sync::Mutex<Vec<Posted>>>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap().to_string();
    let posted = Arc::new(std::sync::Mutex::new(Vec::new()));
    let list = Arc::clone(&posted);
    thread::spawn(move || {
        for (connection, sock) in listener.incoming().enumerate() {
            let Ok(mut sock) = sock else { return };
            let list = Arc::clone(&list);
            thread::spawn(move || {
                sock.set_read_timeout(Some(Duration::from_secs(20)))
                    .unwrap();
                let mut buf = Vec::new();
                loop {
                    let mut fields = [httparse::EMPTY_HEADER; 32];
                    let mut request = httparse::Request::new(&mut fields);
                    let head = match request.parse(&buf).expect("a valid request head") {
                        httparse::Status::Complete(len) => len,
                        httparse::Status::Partial => {
                            let mut chunk = [0u8; 64 << 10];
                            match sock.read(&mut chunk) {
                                Ok(0) | Err(_) => {
                                    assert!(buf.is_empty(), "closed mid-request");
                                    return;
                                }
                                Ok(n) => buf.extend_from_slice(&chunk[..n]),
                            }
                            continue;
                        }
                    };
                    let headers: Vec<(String, String)> = request
                        .headers
                        .iter()
                        .map(|h| {
                            (
                                h.name.to_string(),
                                String::from_utf8(h.value.to_vec()).unwrap(),
                            )
                        })
                        .collect();
                    let method = request.method.unwrap().to_string();
                    let path = request.path.unwrap().to_string();
                    let length: usize = headers
                        .iter()
                        .find(|(n, _)| n.eq_ignore_ascii_case("content-length"))
                        .expect("a Content-Length")
                        .1
                        .parse()
                        .unwrap();
                    while buf.len() < head + length {
                        let mut chunk = [0u8; 64 << 10];
                        let n = sock.read(&mut chunk).unwrap();
                        assert!(n > 0, "closed mid-body");
                        buf.extend_from_slice(&chunk[..n]);
                    }
                    let body = buf[head..head + length].to_vec();
                    buf.drain(..head + length);
                    let n = {
                        let mut list = list.lock().unwrap();
                        list.push(Posted {
                            connection,
                            method,
                            path,
                            headers,
                            body,
                        });
                        list.len() - 1
                    };
                    let text = answer(n);
                    if sock.write_all(text.as_bytes()).is_err() {
                        return;
                    }
                    if text.contains("Connection: close") {
                        return;
                    }
                }
            });
        }
    });
    (addr, posted)
}

const OK: &str = "HTTP/1.1 200 OK\r\nServer: fake\r\nContent-Length: 0\r\n\r\n";

/// The records of a JSON-array body.
fn elements(body: &[u8]) -> Vec<Vec<u8>> {
    let array: Vec<serde_json::Value> = serde_json::from_slice(body)
        .unwrap_or_else(|e| panic!("not a JSON array ({e}): {}", String::from_utf8_lossy(body)));
    array
        .iter()
        .map(|v| serde_json::to_vec(v).unwrap())
        .collect()
}

#[test]
fn http_posts_json_arrays_on_keep_alive_connections() {
    // Every fifth answer closes its connection: loadgen reconnects and goes on.
    let (addr, posted) = http_receiver(|n| {
        if n % 5 == 4 {
            "HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 3\r\n\r\nok\n"
        } else {
            OK
        }
    });
    let run = loadgen(&[
        "--target",
        &addr,
        "--proto",
        "http",
        "--http-key",
        "s3cret",
        "--http-path",
        "/nss/web",
        "--http-header",
        "X-Feed-Key",
        "--batch",
        "64",
        "--connections",
        "2",
        "--count",
        "1000",
        "--quiet",
    ]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(run.stderr, "");
    assert_eq!(run.result("events"), "1000");
    assert_eq!(run.result("failed_connections"), "0");
    assert!(run.stdout.starts_with("loadgen: http to"), "{}", run.stdout);
    let posted = posted.lock().unwrap();
    // 500 events per connection in requests of 64 at most: 8 each.
    assert_eq!(posted.len(), 16);
    let connections: std::collections::BTreeSet<usize> =
        posted.iter().map(|p| p.connection).collect();
    assert!(
        connections.len() > 2,
        "reconnected after a close: {connections:?}"
    );
    let mut records = Vec::new();
    for p in posted.iter() {
        assert_eq!((p.method.as_str(), p.path.as_str()), ("POST", "/nss/web"));
        assert_eq!(p.header("x-feed-key"), Some("s3cret"));
        assert_eq!(p.header("content-type"), Some("application/json"));
        assert_eq!(p.header("host"), Some(addr.as_str()));
        assert_eq!(p.header("x-ztel-key"), None);
        assert!(p.body.starts_with(b"[{") && p.body.ends_with(b"}]"));
        let batch = elements(&p.body);
        assert!((1..=64).contains(&batch.len()), "{}", batch.len());
        records.extend(batch);
    }
    assert_eq!(records.len(), 1000);
    let frames: Vec<&[u8]> = records.iter().map(Vec::as_slice).collect();
    assert_records(&frames, Kind::ZiaWeb);
    // Bytes are the bodies' bytes.
    let bytes: usize = posted.iter().map(|p| p.body.len()).sum();
    assert_eq!(run.result("bytes"), bytes.to_string());
}

#[test]
fn http_requests_stay_within_batch_bytes() {
    // Issue 15: Cloud NSS posts at most 512 KB per request; loadgen batched by count only.
    let (addr, posted) = http_receiver(|_| OK);
    let run = loadgen(&[
        "--target",
        &addr,
        "--proto",
        "http",
        "--http-key",
        "k",
        "--batch",
        "1000",
        "--batch-bytes",
        "20000",
        "--count",
        "300",
        "--quiet",
    ]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let posted = posted.lock().unwrap();
    let mut records = 0;
    for p in posted.iter() {
        assert!(p.body.len() <= 20_000, "a body of {} bytes", p.body.len());
        records += elements(&p.body).len();
    }
    assert_eq!(records, 300);
    // --batch 1000 alone would have sent one request; by bytes, each but the last is filled
    // to within a record of the limit.
    assert!(posted.len() > 1, "{} requests", posted.len());
    for p in &posted[..posted.len() - 1] {
        assert!(
            p.body.len() > 15_000,
            "a body of only {} bytes",
            p.body.len()
        );
    }
}

#[test]
fn http_without_array_notation_posts_one_record_per_line() {
    // Issue 15: Cloud NSS feeds may turn "JSON Array Notation" off.
    let (addr, posted) = http_receiver(|_| OK);
    let run = loadgen(&[
        "--target",
        &addr,
        "--proto",
        "http",
        "--http-key",
        "k",
        "--http-array",
        "false",
        "--batch",
        "40",
        "--count",
        "200",
        "--quiet",
    ]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(
        run.stdout.contains("lines of JSON of up to 40 events"),
        "{}",
        run.stdout
    );
    let posted = posted.lock().unwrap();
    assert_eq!(posted.len(), 5);
    let mut records = Vec::new();
    for p in posted.iter() {
        assert!(
            p.body.starts_with(b"{") && p.body.ends_with(b"}\n"),
            "{:?}",
            p.body
        );
        records.extend(lines(&p.body).into_iter().map(<[u8]>::to_vec));
    }
    assert_eq!(records.len(), 200);
    let frames: Vec<&[u8]> = records.iter().map(Vec::as_slice).collect();
    assert_records(&frames, Kind::ZiaWeb);
}

#[test]
fn paced_http_sends_what_is_due_and_measures_lateness() {
    let (addr, posted) = http_receiver(|_| OK);
    let began = Instant::now();
    let run = loadgen(&[
        "--target",
        &addr,
        "--proto",
        "http",
        "--http-key",
        "k",
        "--source",
        "lss",
        "--rate",
        "1000",
        "--count",
        "500",
        "--quiet",
    ]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    // 500 events at 1000/s: the last is due 0.5 s after the start.
    assert!(began.elapsed() >= Duration::from_millis(450));
    assert_ne!(run.result("lateness_p99_us"), "n/a");
    let posted = posted.lock().unwrap();
    let sizes: Vec<usize> = posted.iter().map(|p| elements(&p.body).len()).collect();
    assert_eq!(sizes.iter().sum::<usize>(), 500);
    // A request carries what is due, not a full batch of 100: far more than 5 requests.
    assert!(sizes.len() > 50, "{} requests", sizes.len());
    let records: Vec<Vec<u8>> = posted.iter().flat_map(|p| elements(&p.body)).collect();
    let frames: Vec<&[u8]> = records.iter().map(Vec::as_slice).collect();
    assert_records(&frames, Kind::ZpaUserActivity);
}

#[test]
fn an_http_refusal_is_status_1_and_names_the_status() {
    let (addr, posted) = http_receiver(|_| {
        "HTTP/1.1 503 Service Unavailable\r\nConnection: close\r\nContent-Type: text/plain\r\n\
         Content-Length: 38\r\n\r\nthe collector is shutting down; retry\n"
    });
    let run = loadgen(&[
        "--target",
        &addr,
        "--proto",
        "http",
        "--http-key",
        "k",
        "--count",
        "300",
        "--quiet",
    ]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert_eq!(
        run.stderr,
        "loadgen: connection 1: the collector answered 503 Service Unavailable (it is \
         draining): the collector is shutting down; retry\n"
    );
    assert_eq!(run.result("failed_connections"), "1");
    assert_eq!(
        posted.lock().unwrap().len(),
        1,
        "no request after a refusal"
    );
}

/// Events of a refused request are not reported as sent: one 200 then a 403 is one batch sent.
#[test]
fn events_refused_with_403_are_not_counted_as_sent() {
    let (addr, posted) = http_receiver(|n| {
        if n == 0 {
            OK
        } else {
            "HTTP/1.1 403 Forbidden\r\nConnection: close\r\nContent-Length: 10\r\n\r\nwrong key\n"
        }
    });
    let run = loadgen(&[
        "--target",
        &addr,
        "--proto",
        "http",
        "--http-key",
        "k",
        "--count",
        "300",
        "--batch",
        "100",
        "--quiet",
    ]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert!(
        run.stderr.contains("answered 403 Forbidden"),
        "{}",
        run.stderr
    );
    assert_eq!(posted.lock().unwrap().len(), 2);
    assert_eq!(run.result("events"), "100", "only the batch answered 200");
}

#[test]
fn http_gzip_bodies_inflate_to_the_json_arrays() {
    use std::io::Read as _;
    let (addr, posted) = http_receiver(|_| OK);
    let run = loadgen(&[
        "--target",
        &addr,
        "--proto",
        "http",
        "--http-key",
        "k",
        "--gzip",
        "--source",
        "fw",
        "--batch",
        "50",
        "--count",
        "600",
        "--quiet",
    ]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(
        run.stdout
            .contains("gzipped JSON arrays of up to 50 events"),
        "{}",
        run.stdout
    );
    let posted = posted.lock().unwrap();
    assert_eq!(posted.len(), 12);
    let (mut on_wire, mut inflated) = (0, 0);
    let mut records = Vec::new();
    for p in posted.iter() {
        assert_eq!(p.header("content-encoding"), Some("gzip"));
        assert_eq!(p.header("content-type"), Some("application/json"));
        assert!(p.body.starts_with(&[0x1f, 0x8b]), "a gzip member");
        let mut json = Vec::new();
        flate2::read::GzDecoder::new(&p.body[..])
            .read_to_end(&mut json)
            .unwrap();
        on_wire += p.body.len();
        inflated += json.len();
        records.extend(elements(&json));
    }
    assert_eq!(records.len(), 600);
    let frames: Vec<&[u8]> = records.iter().map(Vec::as_slice).collect();
    assert_records(&frames, Kind::ZiaFirewall);
    // Bytes sent are what crossed the wire; the report adds what they inflate to.
    assert_eq!(run.result("bytes"), on_wire.to_string());
    assert_eq!(run.result("bytes_before_gzip"), inflated.to_string());
    assert!(on_wire * 4 < inflated, "{on_wire} of {inflated}");
    assert!(run
        .stdout
        .contains(&format!("  bytes before gzip     {inflated}\n")));
}

#[test]
fn a_file_line_that_is_not_a_json_object_is_refused_for_http() {
    let dir = temp_dir("http-file");
    let file = dir.join("feed.log");
    std::fs::write(&file, "{\"a\":1}\n<134>Nov 22 10:00:00 nss {\"a\":2}\n").unwrap();
    let run = loadgen(&[
        "--target",
        "127.0.0.1:1",
        "--proto",
        "http",
        "--http-key",
        "k",
        "--source",
        file.to_str().unwrap(),
        "--count",
        "2",
    ]);
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(
        run.stderr
            .contains("record 2 of the source is not a JSON object"),
        "{}",
        run.stderr
    );
    std::fs::remove_dir_all(dir).unwrap();
}

// --- the admin endpoint ------------------------------------------------------------------

/// A fake collector: a TCP receiver that counts lines, and an admin endpoint whose
/// `ztel_frames_total` is 1000 + lines received − `hide` (what it "lost"), and that has no
/// `/histograms`.
fn fake_collector(hide: u64) -> (String, String, Arc<AtomicU64>) {
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
            // Chunked, as tiny_http answers when it does not know the length up front.
            let _ = write!(
                sock,
                "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nTransfer-Encoding: chunked\r\n\r\n\
                 {:x}\r\n{body}\r\n0\r\n\r\n",
                body.len()
            );
        }
    });
    (target, admin_url, lines_seen)
}

#[test]
fn admin_reports_received_and_the_collector_latency() {
    let (target, admin, _) = fake_collector(0);
    let run = loadgen(&[
        "--target", &target, "--count", "400", "--admin", &admin, "--quiet",
    ]);
    assert_eq!(run.code, 0, "{}\n{}", run.stdout, run.stderr);
    assert_eq!(run.result("received"), "400");
    assert_eq!(run.result("lost"), "0");
    assert_eq!(run.result("dropped"), "0");
    assert_eq!(run.result("ztel_p50_us"), "35.0");
    assert_eq!(run.result("ztel_p99_us"), "1200.0");
    assert_eq!(run.result("ztel_p999_us"), "5100.0");
    assert!(
        run.stdout.contains("  ztel latency p99      1200 µs\n"),
        "{}",
        run.stdout
    );
}

#[test]
fn admin_loss_is_status_1() {
    let (target, admin, _) = fake_collector(25);
    let run = loadgen(&[
        "--target", &target, "--count", "400", "--admin", &admin, "--quiet",
    ]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    // 25 of the 400 never show up: the count stops growing and loadgen gives up after 2 s.
    assert_eq!(run.result("received"), "375");
    assert_eq!(run.result("lost"), "25");
    assert!(run.stderr.contains("lost 25 events"), "{}", run.stderr);
}

#[test]
fn unreachable_admin_is_reported_as_na() {
    let (target, receiver) = tcp_receiver(1);
    let closed = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap();
    let run = loadgen(&[
        "--target",
        &target,
        "--count",
        "10",
        "--admin",
        &format!("http://{closed}"),
        "--quiet",
    ]);
    receiver.join().unwrap();
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(run.stderr.lines().count(), 1, "{}", run.stderr);
    assert!(run.stderr.contains("cannot read http://"), "{}", run.stderr);
    assert_eq!(run.result("received"), "n/a");
    assert_eq!(run.result("ztel_p50_us"), "n/a");
}
