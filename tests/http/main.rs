//! The Cloud NSS HTTP(S) input (DESIGN §3), over real loopback sockets with a small HTTP/1.1
//! client written here: JSON arrays and newline-delimited JSON, keep-alive, keys, refusals of
//! every kind and what they leave behind (nothing), and HTTPS with a certificate made by the test.
//!
//! One test binary (`cargo test --test http`); the bodies that must not cost what they declare
//! (gzip bombs, oversize lengths) are in [`bodies`], the allow-list in [`allow`], the keys in
//! [`keys`].

mod allow;
mod bodies;
#[path = "../common/mod.rs"]
mod common;
mod formats;
mod keys;
mod written;

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::Duration;

use common::http::{array, gzip, Client};
use common::{assert_records_are, zia_line, Ca, Collector, Options, TempDir};
use rustls::pki_types::ServerName;
use serde_json::Value;

const KEYS: &str = "[input.http]\nplain = true\nkeys = [\"k1\"]\n";

fn start(tag: &str, config: &str) -> (Collector, SocketAddr) {
    start_with(tag, config, false)
}

/// With `binary`, the real binary (for signals and its log).
fn start_with(tag: &str, config: &str, binary: bool) -> (Collector, SocketAddr) {
    let collector = Collector::start_with(
        tag,
        Options {
            config: Some(config.to_owned()),
            args: vec!["--http".into(), "127.0.0.1:0".into()],
            binary,
            ..Options::default()
        },
    );
    let addr = collector.listening["http"];
    (collector, addr)
}

/// With the admin endpoint too: the collector, its HTTP input's address and the admin's.
fn start_with_admin(tag: &str, config: &str) -> (Collector, SocketAddr, SocketAddr) {
    let collector = Collector::start_with(
        tag,
        Options {
            config: Some(config.to_owned()),
            args: ["--http", "127.0.0.1:0", "--admin", "127.0.0.1:0"]
                .map(String::from)
                .to_vec(),
            ..Options::default()
        },
    );
    let (addr, admin) = (collector.listening["http"], collector.listening["admin"]);
    (collector, addr, admin)
}

fn lss_line(user: &str, n: u32) -> String {
    format!(
        r#"{{"LogTimestamp": "Thu Jan 18 10:31:01 2024","SessionID": "s{n}","ConnectionID": "s{n},c{n}","ConnectionStatus": "open","IPProtocol": 6,"Username": "{user}","ClientPrivateIP": "10.1.2.3","Connector": "dc1","ConnectorIP": "10.0.0.5","ConnectorPort": {port},"Host": "git.corp","Application": "Git","ServerIP": "10.20.0.9","ServerPort": 22,"TimestampConnectionStart": "2024-01-18T10:31:01.152Z","ZENBytesRxClient": 1,"ZENBytesTxClient": 2}}"#,
        port = 40000 + n
    )
}

#[test]
fn a_json_array_of_records_is_taken() {
    let (collector, addr) = start("http-array", KEYS);
    let lines: Vec<String> = (1..=3).map(|i| zia_line(i, "pc-http")).collect();
    let mut client = Client::connect(addr);
    let answer = client.post(Some("k1"), &array(&lines));
    assert_eq!(answer.status, 200, "{answer:?}");
    assert_eq!(answer.header("content-length"), Some("0"));
    assert!(answer.body.is_empty());
    drop(client);
    let outcome = collector.stop();
    assert_records_are(&outcome.records, &lines);
    assert_eq!(outcome.counter("http_requests"), 1);
    assert_eq!(outcome.counter("http_rejected_auth"), 0);
    assert_eq!(outcome.counter("http_bad_requests"), 0);
    assert_eq!(outcome.counter("frames"), 3);
    assert_eq!(outcome.counter("connections_opened"), 1);
    outcome.assert_counters_match_files();
}

#[test]
fn newline_delimited_zia_and_zpa_records_are_taken() {
    let (collector, addr) = start("http-ndjson", KEYS);
    let body = format!(
        "{}\r\n\n  {}\n{}",
        zia_line(7, "pc-nd"),
        lss_line("alice@example.com", 1),
        zia_line(8, "pc-nd")
    );
    let answer = Client::connect(addr).post(Some("k1"), body.as_bytes());
    assert_eq!(answer.status, 200, "{answer:?}");
    let outcome = collector.stop();
    assert_eq!(outcome.counter("records_zia_web"), 2);
    assert_eq!(outcome.counter("records_zpa_user_activity"), 1);
    assert!(
        outcome.dead_letters.is_empty(),
        "{:?}",
        outcome.dead_letters
    );
    let zpa: Vec<&Value> = outcome
        .records
        .iter()
        .filter(|r| r["kind"] == "zpa.user_activity")
        .collect();
    assert_eq!(zpa.len(), 1);
    assert_eq!(zpa[0]["user"], "alice@example.com");
}

#[test]
fn keep_alive_serves_several_requests_on_one_connection() {
    let (collector, addr) = start("http-keepalive", KEYS);
    let mut client = Client::connect(addr);
    let first = client.post(Some("k1"), &array(&[zia_line(1, "pc-ka")]));
    assert_eq!(first.status, 200);
    assert_eq!(
        first.header("connection"),
        None,
        "the connection stays open"
    );
    // Two requests written at once (pipelined) are answered in order.
    let mut two = Vec::new();
    for id in [2, 3] {
        let body = array(&[zia_line(id, "pc-ka")]);
        two.extend_from_slice(
            format!(
                "POST / HTTP/1.1\r\nX-Ztel-Key: k1\r\nContent-Length: {}\r\n\r\n",
                body.len()
            )
            .as_bytes(),
        );
        two.extend_from_slice(&body);
    }
    assert_eq!(client.send(&two).status, 200);
    assert_eq!(client.answer().status, 200);
    // Connection: close is honoured.
    let body = array(&[zia_line(4, "pc-ka")]);
    let last = client.send(
        &[
            format!(
                "POST / HTTP/1.1\r\nX-Ztel-Key: k1\r\nConnection: close\r\nContent-Length: {}\r\n\r\n",
                body.len()
            )
            .into_bytes(),
            body,
        ]
        .concat(),
    );
    assert_eq!(last.status, 200);
    assert_eq!(last.header("connection"), Some("close"));
    client.assert_closed();
    let outcome = collector.stop();
    assert_eq!(outcome.records.len(), 4);
    assert_eq!(outcome.counter("http_requests"), 4);
    assert_eq!(outcome.counter("connections_opened"), 1);
    outcome.assert_counters_match_files();
}

#[test]
fn lines_with_a_syslog_header_before_their_json_are_records_as_on_tcp() {
    // A TCP feed's template (a PRI, an RFC 3164 header) reused for Cloud NSS: the first line's
    // header used to refuse the whole batch with a 400, which Cloud NSS sends again for ever.
    let (collector, addr) = start("http-headers", KEYS);
    let body = format!(
        "<134>{}\n<134>Dec  5 09:58:00 zscaler-nss nss: {}\n",
        zia_line(1, "pc-header"),
        zia_line(2, "pc-header")
    );
    let answer = Client::connect(addr).post(Some("k1"), body.as_bytes());
    assert_eq!(answer.status, 200, "{answer:?}");
    // Text with no record after it is still no JSON.
    let answer = Client::connect(addr).post(Some("k1"), b"<134>hello\n");
    assert_eq!(answer.status, 400, "{answer:?}");
    let outcome = collector.stop();
    assert_eq!(outcome.records.len(), 2, "{:?}", outcome.dead_letters);
    assert!(outcome.dead_letters.is_empty());
}

#[test]
fn a_line_that_is_not_json_among_json_lines_is_a_dead_letter_and_the_others_are_kept() {
    // Cloud NSS sends a batch it got a 400 for again: a 400 for one bad line would hold back
    // every good record of the batch for ever. A line that is not JSON is the pipeline's, as
    // on TCP: a dead letter, or a record behind a syslog header.
    let (collector, addr) = start("http-badline", KEYS);
    let mut client = Client::connect(addr);
    let body = format!(
        "{}\nnot json at all\n<134>{}\n\x00\x01\n{}\n",
        zia_line(1, "pc-lines"),
        zia_line(2, "pc-lines"),
        zia_line(3, "pc-lines")
    );
    let answer = client.post(Some("k1"), body.as_bytes());
    assert_eq!(answer.status, 200, "{answer:?}");
    drop(client);
    let outcome = collector.stop();
    assert_eq!(
        common::sorted_ids(&outcome.records),
        [1, 2, 3],
        "{:?}",
        outcome.dead_letters
    );
    assert_eq!(outcome.dead_letters.len(), 2, "{:?}", outcome.dead_letters);
    outcome.assert_counters_match_files();
}

#[test]
fn a_body_that_is_not_json_is_refused_whole() {
    let (collector, addr) = start("http-notjson", KEYS);
    let mut client = Client::connect(addr);
    // Nothing of a refused body is kept: a good record before a cut array is not taken.
    let cut = format!("[{},{}", zia_line(2, "pc-bad"), zia_line(3, "pc-bad"));
    assert_eq!(client.post(Some("k1"), cut.as_bytes()).status, 400);
    assert_eq!(client.post(Some("k1"), b"hello").status, 400);
    // The body was read: the connection goes on.
    let good = client.post(Some("k1"), &array(&[zia_line(4, "pc-good")]));
    assert_eq!(good.status, 200);
    let outcome = collector.stop();
    assert_eq!(outcome.records.len(), 1);
    assert_eq!(outcome.records[0]["device"], "pc-good");
    assert!(
        outcome.dead_letters.is_empty(),
        "{:?}",
        outcome.dead_letters
    );
    assert!(
        !outcome.devices.iter().any(|d| d["hostname"] == "pc-bad"),
        "a refused body leaves no device behind"
    );
    assert_eq!(outcome.counter("http_requests"), 3);
    assert_eq!(outcome.counter("http_bad_requests"), 2);
    assert_eq!(outcome.counter("frames"), 1);
    outcome.assert_counters_match_files();
}

#[test]
fn oversize_content_length_is_refused_and_the_collector_goes_on() {
    let (collector, addr) = start("http-oversize", KEYS);
    let limit = 262_144 * 64;
    let mut big = Client::connect(addr);
    let answer = big.send(
        format!(
            "POST / HTTP/1.1\r\nX-Ztel-Key: k1\r\nContent-Length: {}\r\n\r\n{{",
            limit + 1
        )
        .as_bytes(),
    );
    assert_eq!(answer.status, 413, "{answer:?}");
    big.assert_closed();
    // Exactly at the limit is still taken (padded with whitespace around a record).
    let record = zia_line(1, "pc-limit");
    let mut body = format!("[{record}]").into_bytes();
    body.resize(limit, b' ');
    assert_eq!(Client::connect(addr).post(Some("k1"), &body).status, 200);
    let outcome = collector.stop();
    assert_eq!(outcome.records.len(), 1);
    assert_eq!(outcome.counter("http_bad_requests"), 1);
    outcome.assert_counters_match_files();
}

#[test]
fn other_methods_missing_lengths_and_huge_heads_are_refused() {
    let (collector, addr) = start("http-refusals", KEYS);
    let get = Client::connect(addr).send(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n");
    assert_eq!(get.status, 405);
    assert_eq!(get.header("allow"), Some("POST"));
    let no_length = Client::connect(addr).send(b"POST / HTTP/1.1\r\nX-Ztel-Key: k1\r\n\r\n");
    assert_eq!(no_length.status, 411);
    let mut huge = Client::connect(addr);
    let head = format!(
        "POST / HTTP/1.1\r\nX-Ztel-Key: k1\r\nX-Pad: {}\r\n\r\n",
        "p".repeat(17 << 10)
    );
    assert_eq!(huge.send(head.as_bytes()).status, 431);
    huge.assert_closed();
    let garbage =
        Client::connect(addr).send(b"\x16\x03\x01\x00\xa5\x01\x00\x00\xa1\x03\x03\r\n\r\n");
    assert_eq!(garbage.status, 400);
    let outcome = collector.stop();
    assert_eq!(outcome.counter("http_requests"), 4);
    assert_eq!(outcome.counter("http_bad_requests"), 4);
    assert!(outcome.records.is_empty());
    outcome.assert_counters_match_files();
}

#[test]
fn a_record_that_fails_inside_a_good_array_is_a_dead_letter() {
    let (collector, addr) = start("http-deadletter", KEYS);
    let good = [zia_line(1, "pc-a"), zia_line(2, "pc-b")];
    let body = format!(
        "[{}, {{\"sourcetype\":\"zscalernss-dns\",\"event\":{{}}}}, 42, {}]",
        good[0], good[1]
    );
    let answer = Client::connect(addr).post(Some("k1"), body.as_bytes());
    assert_eq!(answer.status, 200, "{answer:?}");
    let outcome = collector.stop();
    assert_records_are(&outcome.records, &good);
    assert_eq!(outcome.dead_letters.len(), 2, "{:?}", outcome.dead_letters);
    assert_eq!(outcome.dead("unknown_format").len(), 1, "the 42");
    assert_eq!(outcome.counter("frames"), 4);
    outcome.assert_counters_match_files();
}

#[test]
fn chunked_bodies_and_expect_continue_are_taken() {
    let (collector, addr) = start("http-chunked", KEYS);
    let body = array(&[zia_line(1, "pc-ch"), zia_line(2, "pc-ch")]);
    let (a, b) = body.split_at(100);
    let mut raw =
        b"POST / HTTP/1.1\r\nX-Ztel-Key: k1\r\nTransfer-Encoding: chunked\r\n\r\n".to_vec();
    raw.extend_from_slice(format!("{:x};name=v\r\n", a.len()).as_bytes());
    raw.extend_from_slice(a);
    raw.extend_from_slice(format!("\r\n{:X}\r\n", b.len()).as_bytes());
    raw.extend_from_slice(b);
    raw.extend_from_slice(b"\r\n0\r\n\r\n");
    let mut client = Client::connect(addr);
    assert_eq!(client.send(&raw).status, 200);

    let body = array(&[zia_line(3, "pc-ch")]);
    let head = format!(
        "POST / HTTP/1.1\r\nX-Ztel-Key: k1\r\nExpect: 100-continue\r\nContent-Length: {}\r\n\r\n",
        body.len()
    );
    assert_eq!(client.send(head.as_bytes()).status, 100);
    assert_eq!(client.send(&body).status, 200);
    let outcome = collector.stop();
    assert_eq!(outcome.records.len(), 3);
    outcome.assert_counters_match_files();
}

#[test]
fn https_with_a_generated_certificate() {
    let dir = TempDir::new("http-tls-files");
    let ca = Ca::new("http test root");
    let (cert, key) = ca.leaf("localhost", &["localhost"]);
    let config = format!(
        "[input.http]\nkeys = [\"k1\"]\ncert = {:?}\nkey = {:?}\n",
        dir.write("server.pem", &cert).display().to_string(),
        dir.write("server.key", &key).display().to_string()
    );
    let (collector, addr) = start("http-tls", &config);
    let tcp = TcpStream::connect_timeout(&addr, Duration::from_secs(5)).unwrap();
    tcp.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    let name = ServerName::try_from("localhost").unwrap();
    let conn = rustls::ClientConnection::new(ca.client(None), name).unwrap();
    let mut client = Client {
        stream: rustls::StreamOwned::new(conn, tcp),
        pending: Vec::new(),
    };
    let lines = [zia_line(1, "pc-tls"), zia_line(2, "pc-tls")];
    assert_eq!(client.post(Some("k1"), &array(&lines)).status, 200);
    assert_eq!(client.post(Some("wrong"), &array(&lines)).status, 403);
    // A plain-HTTP request on the HTTPS port fails the handshake and keeps nothing.
    let mut plain = TcpStream::connect(addr).unwrap();
    plain
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    let _ = plain.write_all(b"POST / HTTP/1.1\r\nX-Ztel-Key: k1\r\nContent-Length: 2\r\n\r\n[]");
    let _ = plain.read_to_end(&mut Vec::new());
    let outcome = collector.stop();
    assert_records_are(&outcome.records, &lines);
    assert_eq!(outcome.counter("http_rejected_auth"), 1);
    assert_eq!(outcome.counter("tls_handshake_failures"), 1);
    assert_eq!(
        outcome.counter("read_errors"),
        0,
        "a failed handshake is counted once, as that"
    );
    outcome.assert_counters_match_files();
}

#[test]
fn the_bytes_of_a_body_in_progress_reach_metrics() {
    // Before, the HTTP input counted a request's bytes with its answer: a slow upload showed
    // +0 bytes until it ended, and a stuck one never showed.
    let (collector, addr, admin) = start_with_admin("http-progress", KEYS);
    let mut body = array(&[zia_line(1, "pc-slow")]);
    body.resize(1 << 20, b' ');
    let head = format!(
        "POST / HTTP/1.1\r\nX-Ztel-Key: k1\r\nContent-Length: {}\r\n\r\n",
        body.len()
    );
    let raw = [head.into_bytes(), body].concat();
    let first = 300_000;
    let mut client = Client::connect(addr);
    client.stream.write_all(&raw[..first]).unwrap();
    let series = "ztel_bytes_read_total{input=\"http\"}";
    let page = common::wait_for_metric(admin, series, |v| v >= first as f64);
    assert_eq!(
        common::sample(&page, series),
        Some(first as f64),
        "each byte once"
    );
    let answer = client.send(&raw[first..]);
    assert_eq!(answer.status, 200, "{answer:?}");
    common::wait_for_metric(admin, series, |v| v == raw.len() as f64);
    drop(client);
    let outcome = collector.stop();
    assert_eq!(outcome.records.len(), 1);
    assert_eq!(outcome.counter("bytes_read"), raw.len() as u64);
}

#[test]
fn each_input_reads_times_in_its_own_feed_zone() {
    // An NSS feed in local time (Tokyo) over TCP and a Cloud NSS feed set to GMT over HTTPS, as
    // the Sekoia guide sets it, share one collector.
    let config = format!("feed_timezone = \"Asia/Tokyo\"\n{KEYS}feed_timezone = \"GMT\"\n");
    let (collector, addr) = start("http-zones", &config);
    let line = |host: &str| {
        format!(
            r#"{{"sourcetype":"zscalernss-web","event":{{"time":"Mon Jun 20 15:29:11 2022","login":"a@b.c","cip":"10.0.0.1","devicehostname":"{host}"}}}}"#
        )
    };
    let mut client = Client::connect(addr);
    let answer = client.post(Some("k1"), line("via-http").as_bytes());
    assert_eq!(answer.status, 200, "{answer:?}");
    drop(client);
    collector.send(format!("{}\n", line("via-tcp")).as_bytes());
    let outcome = collector.stop();
    let ts = |host: &str| {
        outcome
            .records
            .iter()
            .find(|r| r["device"] == host)
            .map(|r| r["ts"].clone())
            .unwrap_or_else(|| panic!("no record of {host}: {:?}", outcome.records))
    };
    assert_eq!(ts("via-http"), "2022-06-20T15:29:11Z");
    assert_eq!(ts("via-tcp"), "2022-06-20T06:29:11Z");
}
