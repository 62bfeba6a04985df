//! The allow-list of the HTTP input (DESIGN §2.2, §3 "HTTP": 401/403 for key or address). A
//! peer outside it is answered 403 to its first request, over TLS after the handshake, and the
//! connection closed: a Cloud NSS admin reads why instead of a connection error. Nothing it sent
//! is kept, and it is counted once, as refused. Outsiders send from 127.0.0.2, which Linux
//! routes on loopback without set-up.

use std::io::ErrorKind;
use std::time::Instant;

use super::*;

/// A POST of one record from `host`, with the good key.
fn post(host: &str) -> Vec<u8> {
    let body = array(&[zia_line(1, host)]);
    let head = format!(
        "POST /nss/web HTTP/1.1\r\nHost: collector\r\nX-Ztel-Key: k1\r\nContent-Length: {}\r\n\r\n",
        body.len()
    );
    [head.into_bytes(), body].concat()
}

#[test]
fn a_peer_outside_allowed_ips_gets_403_and_nothing_is_kept() {
    // Before: the connection was closed at accept, unanswered (curl: "Connection reset by peer").
    let config = format!("{KEYS}allowed_ips = [\"127.0.0.1\"]\n");
    let (collector, addr) = start_with("http-allow", &config, true);
    let mut outsider = Client::over(common::connect_from("127.0.0.2:0", addr));
    let answer = outsider.send(&post("pc-outsider"));
    assert_eq!(answer.status, 403, "{answer:?}");
    assert_eq!(answer.header("connection"), Some("close"));
    assert!(
        answer
            .body
            .contains("127.0.0.2 is not in input.http.allowed_ips"),
        "{answer:?}"
    );
    outsider.assert_closed();
    let answer = Client::connect(addr).send(&post("pc-inside"));
    assert_eq!(answer.status, 200, "{answer:?}");
    let outcome = collector.stop();
    assert_eq!(outcome.records.len(), 1);
    assert_eq!(outcome.records[0]["device"], "pc-inside");
    assert!(!outcome
        .devices
        .iter()
        .any(|d| d["hostname"] == "pc-outsider"));
    assert_eq!(outcome.counter("connections_refused"), 1);
    // Counted as refused, and as nothing else: not a connection of the input, not a request.
    assert_eq!(outcome.counter("connections_opened"), 1);
    assert_eq!(outcome.counter("http_requests"), 1);
    assert_eq!(outcome.counter("http_rejected_auth"), 0);
    assert_eq!(outcome.counter("http_bad_requests"), 0);
    outcome.assert_counters_match_files();
    let refused = "input.http: refused a connection from 127.0.0.2: not in input.http.allowed_ips";
    assert!(
        outcome.stderr.iter().any(|l| l.contains(refused)),
        "{:?}",
        outcome.stderr
    );
}

#[test]
fn an_https_peer_outside_allowed_ips_gets_403_after_the_handshake() {
    let dir = TempDir::new("http-allow-tls-files");
    let ca = Ca::new("http allow test root");
    let (cert, key) = ca.leaf("localhost", &["localhost"]);
    let config = format!(
        "[input.http]\nkeys = [\"k1\"]\ncert = {:?}\nkey = {:?}\nallowed_ips = [\"127.0.0.1\"]\n",
        dir.write("server.pem", &cert).display().to_string(),
        dir.write("server.key", &key).display().to_string()
    );
    let (collector, addr) = start("http-allow-tls", &config);
    let tcp = common::connect_from("127.0.0.2:0", addr);
    tcp.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    let name = ServerName::try_from("localhost").unwrap();
    let conn = rustls::ClientConnection::new(ca.client(None), name).unwrap();
    let mut outsider = Client {
        stream: rustls::StreamOwned::new(conn, tcp),
        pending: Vec::new(),
    };
    let answer = outsider.send(&post("pc-outsider"));
    assert_eq!(answer.status, 403, "{answer:?}");
    assert_eq!(answer.header("connection"), Some("close"));
    assert!(answer.body.contains("input.http.allowed_ips"), "{answer:?}");
    let outcome = collector.stop();
    assert!(outcome.records.is_empty(), "{:?}", outcome.records);
    assert_eq!(outcome.counter("connections_refused"), 1);
    assert_eq!(outcome.counter("tls_handshake_failures"), 0);
    assert_eq!(outcome.counter("http_requests"), 0);
}

#[test]
fn an_outsider_that_trickles_its_head_is_cut_off() {
    // An answered outsider holds a connection slot: for the handshake's limit, here the idle
    // timeout's 2 s, then as long again for its head, never longer than an admitted peer.
    let config = format!("{KEYS}allowed_ips = [\"127.0.0.1\"]\n[limits]\nidle_timeout_secs = 2\n");
    let (collector, addr) = start("http-allow-slow", &config);
    let mut outsider = common::connect_from("127.0.0.2:0", addr);
    outsider
        .set_read_timeout(Some(Duration::from_millis(300)))
        .unwrap();
    outsider.write_all(b"POST / HTTP/1.1\r\nX-Pad: ").unwrap();
    let started = Instant::now();
    let mut buf = [0u8; 512];
    // The read timeout paces the bytes.
    let closed = loop {
        if outsider.write_all(b"p").is_err() {
            break true;
        }
        match outsider.read(&mut buf) {
            Ok(0) => break true,
            Ok(_) => {}
            Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {}
            Err(_) => break true,
        }
        if started.elapsed() > Duration::from_secs(8) {
            break false;
        }
    };
    assert!(
        closed,
        "an outsider trickling its head was still connected after 8 s"
    );
    let outcome = collector.stop();
    assert_eq!(outcome.counter("connections_refused"), 1);
    assert_eq!(outcome.counter("idle_timeouts"), 0);
    assert_eq!(outcome.counter("http_requests"), 0);
}

#[test]
fn silent_outsiders_do_not_take_an_admitted_peers_connection_slot() {
    // Review finding: an answered outsider held one of max_connections until its time limit,
    // so with max_connections no more than the outsiders answered at once (64) a few silent
    // ones made the collector refuse Cloud NSS itself as over the limit.
    let config = format!("{KEYS}allowed_ips = [\"127.0.0.1\"]\n[limits]\nmax_connections = 2\n");
    let (collector, addr, admin) = start_with_admin("http-allow-slots", &config);
    let outsiders: Vec<TcpStream> = (0..4)
        .map(|_| common::connect_from("127.0.0.2:0", addr))
        .collect();
    // All four accepted, and being answered (each has its handshake's 10 s for its head).
    let series = "ztel_connections_refused_total{input=\"http\"}";
    common::wait_for_metric(admin, series, |v| v >= 4.0);
    let answer = Client::connect(addr).send(&post("pc-inside"));
    assert_eq!(answer.status, 200, "{answer:?}");
    // Outsiders are still told why.
    let mut outsider = Client::over(outsiders.into_iter().next().expect("four"));
    assert_eq!(outsider.send(&post("pc-outsider")).status, 403);
    let outcome = collector.stop();
    assert_eq!(outcome.records.len(), 1);
    assert_eq!(outcome.counter("connections_over_limit"), 0);
    assert_eq!(outcome.counter("connections_refused"), 4);
    assert_eq!(outcome.counter("connections_opened"), 1);
}

#[test]
fn an_address_a_reload_takes_off_the_list_loses_its_keep_alive_connection() {
    // A SIGHUP that removed an address refused its new connections, but one it had kept alive
    // went on being served.
    let config = format!("{KEYS}allowed_ips = [\"127.0.0.1\"]\n");
    let (mut collector, addr) = start_with("http-allow-reload", &config, true);
    let mut kept = Client::connect(addr);
    assert_eq!(kept.send(&post("pc-kept")).status, 200);
    collector.rewrite_config(&format!("{KEYS}allowed_ips = [\"10.0.0.0/8\"]\n"));
    collector.signal(libc::SIGHUP);
    collector.wait_for_stderr("ztel: reloaded certificates, keys and allow-lists");
    let answer = kept.send(&post("pc-removed"));
    assert_eq!(answer.status, 403, "{answer:?}");
    assert!(
        answer
            .body
            .contains("127.0.0.1 is not in input.http.allowed_ips"),
        "{answer:?}"
    );
    kept.assert_closed();
    let outcome = collector.stop();
    assert_eq!(outcome.records.len(), 1);
    assert_eq!(outcome.records[0]["device"], "pc-kept");
    assert_eq!(outcome.counter("http_rejected_auth"), 1);
    outcome.assert_counters_match_files();
}
