//! TLS syslog on 6514 (LSS): plain TLS, mutual TLS with a good and a wrong client certificate,
//! a silent peer, and a certificate reload on SIGHUP that keeps established connections. Every
//! certificate is made by the test (rcgen).

mod budget;
mod certificates;
mod client_ca;
#[path = "../common/mod.rs"]
mod common;
mod write_only;

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use common::{Ca, Collector, Options, TempDir};
use rustls::pki_types::ServerName;

type Tls = rustls::StreamOwned<rustls::ClientConnection, TcpStream>;

/// Connects and completes the handshake (an error if the server refuses it).
fn connect(addr: SocketAddr, config: Arc<rustls::ClientConfig>) -> std::io::Result<Tls> {
    let tcp = TcpStream::connect_timeout(&addr, Duration::from_secs(5))?;
    tcp.set_read_timeout(Some(Duration::from_secs(5)))?;
    let name = ServerName::try_from("localhost").unwrap();
    let conn = rustls::ClientConnection::new(config, name).map_err(std::io::Error::other)?;
    let mut tls = rustls::StreamOwned::new(conn, tcp);
    while tls.conn.is_handshaking() {
        tls.conn.complete_io(&mut tls.sock)?;
    }
    // TLS 1.3 reports a refused client certificate only on the next read.
    tls.sock
        .set_read_timeout(Some(Duration::from_millis(300)))?;
    let mut probe = [0u8; 1];
    match tls.read(&mut probe) {
        Ok(0) => return Err(std::io::Error::other("closed by the server")),
        Err(e)
            if e.kind() == std::io::ErrorKind::WouldBlock
                || e.kind() == std::io::ErrorKind::TimedOut => {}
        Err(e) => return Err(e),
        Ok(_) => {}
    }
    tls.sock.set_read_timeout(Some(Duration::from_secs(5)))?;
    Ok(tls)
}

fn send_line(tls: &mut Tls, line: &str) {
    tls.write_all(line.as_bytes()).unwrap();
    tls.write_all(b"\n").unwrap();
    tls.flush().unwrap();
}

/// Closes cleanly and waits for the server to close its side.
fn close(mut tls: Tls) {
    tls.conn.send_close_notify();
    let _ = tls.conn.complete_io(&mut tls.sock);
    let _ = tls.sock.shutdown(std::net::Shutdown::Write);
    let mut rest = Vec::new();
    let _ = tls.sock.read_to_end(&mut rest);
}

fn lss(user: &str, n: u32) -> String {
    format!(
        r#"{{"LogTimestamp": "Thu Jan 18 10:31:01 2024","SessionID": "s{n}","ConnectionID": "s{n},c{n}","ConnectionStatus": "open","IPProtocol": 6,"Username": "{user}","ClientPrivateIP": "10.1.2.3","Connector": "dc1","ConnectorIP": "10.0.0.5","ConnectorPort": {port},"Host": "git.corp","Application": "Git","ServerIP": "10.20.0.9","ServerPort": 22,"TimestampConnectionStart": "2024-01-18T10:31:01.152Z","ZENBytesRxClient": 1,"ZENBytesTxClient": 2}}"#,
        port = 40000 + n
    )
}

/// Writes the server's files and starts the collector with TLS on port 0.
fn start(
    tag: &str,
    dir: &TempDir,
    server: &(String, String),
    client_ca: Option<&Ca>,
    extra: &str,
    binary: bool,
) -> Collector {
    let options = tls_options(dir, server, client_ca, extra, binary);
    Collector::start_with(tag, options)
}

/// Writes the server's files; the options of a collector with TLS on port 0.
fn tls_options(
    dir: &TempDir,
    server: &(String, String),
    client_ca: Option<&Ca>,
    extra: &str,
    binary: bool,
) -> Options {
    let cert = dir.write("server.pem", &server.0);
    let key = dir.write("server.key", &server.1);
    let mut toml = format!(
        "[input.tls]\ncert = {:?}\nkey = {:?}\n",
        path(&cert),
        path(&key)
    );
    if let Some(ca) = client_ca {
        toml.push_str(&format!(
            "client_ca = {:?}\n",
            path(&dir.write("client-ca.pem", &ca.pem()))
        ));
    }
    toml.push_str(extra);
    Options {
        config: Some(toml),
        args: vec!["--tls".into(), "127.0.0.1:0".into()],
        binary,
        ..Options::default()
    }
}

fn path(p: &Path) -> String {
    p.display().to_string()
}

#[test]
fn records_over_tls() {
    let dir = TempDir::new("tls-files");
    let ca = Ca::new("test root");
    let collector = start(
        "tls",
        &dir,
        &ca.leaf("localhost", &["localhost", "127.0.0.1"]),
        None,
        "",
        false,
    );
    let addr = collector.listening["tls"];
    let mut tls = connect(addr, ca.client(None)).expect("handshake");
    for n in 0..50 {
        send_line(&mut tls, &lss("alice@example.com", n));
    }
    close(tls);
    // A last line without LF is ended by close_notify; a bare TCP close, which is how TLS shows
    // a cut (RFC 8446 §6.1), leaves it a truncated dead letter.
    for (n, close_notify) in [(50, true), (51, false)] {
        let mut tls = connect(addr, ca.client(None)).expect("handshake");
        tls.write_all(lss("bob@example.com", n).as_bytes()).unwrap();
        tls.flush().unwrap();
        if close_notify {
            close(tls);
        } else {
            tls.sock.shutdown(std::net::Shutdown::Write).unwrap();
            let _ = tls.sock.read_to_end(&mut Vec::new());
        }
    }
    let outcome = collector.stop();
    assert_eq!(outcome.records.len(), 51);
    let truncated = outcome.dead("truncated");
    assert_eq!(truncated.len(), 1, "{:?}", outcome.dead_letters);
    assert_eq!(truncated[0]["raw"], lss("bob@example.com", 51));
    assert!(outcome
        .records
        .iter()
        .all(|r| r["kind"] == "zpa.user_activity"));
    assert_eq!(outcome.counter("tls_handshake_failures"), 0);
}

#[test]
fn an_octet_counted_stream_loses_only_the_frames_a_bad_count_touches() {
    // RFC 5425 syslog over TLS is octet-counted with no LF between frames (rsyslog, syslog-ng).
    // One oversize frame, then one count too large by 20: read as LF text, every frame after
    // either had been skipped, uncounted, until the connection closed.
    let dir = TempDir::new("tls-octets");
    let ca = Ca::new("test root");
    let collector = start(
        "tls-octets",
        &dir,
        &ca.leaf("localhost", &["localhost", "127.0.0.1"]),
        None,
        "[limits]\nmax_frame_bytes = 4096\n",
        false,
    );
    let mut tls = connect(collector.listening["tls"], ca.client(None)).expect("handshake");
    let message = |n: u32| format!("<134>1 2024-01-18T10:31:01Z lss zpa - - - {}", lss("al", n));
    let big = format!("<134>{}", "x".repeat(5000));
    let mut stream = String::new();
    for (n, text) in (0..).zip([message(0), big, message(1), message(2), message(3)]) {
        // The third frame's count says 20 bytes more than it holds.
        let count = text.len() + if n == 3 { 20 } else { 0 };
        stream.push_str(&format!("{count} {text}"));
    }
    stream.extend((4..40).map(|n| {
        let text = message(n);
        format!("{} {text}", text.len())
    }));
    tls.write_all(stream.as_bytes()).unwrap();
    tls.flush().unwrap();
    close(tls);
    let outcome = collector.stop();
    // Message 2 takes the start of message 3, and the rest of 3 is unframed: both are dead
    // letters; every other one is a record.
    let mut ports: Vec<u64> = outcome
        .records
        .iter()
        .map(|r| r["connector_port"].as_u64().unwrap_or(0) - 40000)
        .collect();
    ports.sort_unstable();
    let expected: Vec<u64> = [0, 1].into_iter().chain(4..40).collect();
    assert_eq!(ports, expected, "{:?}", outcome.dead_letters);
    assert_eq!(outcome.counter("oversize_frames"), 1);
    assert_eq!(
        outcome.dead("unframed").len(),
        1,
        "{:?}",
        outcome.dead_letters
    );
    assert_eq!(
        outcome.dead("malformed_json").len(),
        1,
        "{:?}",
        outcome.dead_letters
    );
    outcome.assert_counters_match_files();
}

/// A steady TLS connection sleeps between reads once it has taken all the kernel and rustls
/// held (`Stream::may_sleep`): every record still arrives while the connection stays open, the
/// steady ones and a lone one after a quiet spell. This holds delivery; the sleeps themselves
/// show in `perf/threads.sh --tls --rate` as fewer wake-ups.
#[test]
fn a_steady_tls_connection_then_a_lone_record_all_arrive_on_an_open_connection() {
    let dir = TempDir::new("tls-busy-then-lone");
    let ca = Ca::new("test root");
    let collector = start(
        "tls-busy-then-lone",
        &dir,
        &ca.leaf("localhost", &["localhost", "127.0.0.1"]),
        None,
        "",
        false,
    );
    let records = collector.data_dir().join("connections.jsonl");
    let mut tls = connect(collector.listening["tls"], ca.client(None)).expect("handshake");
    tls.sock.set_nodelay(true).unwrap();
    // Two TLS records and two packets a line (`send_line` writes the line, then its end), a
    // line every 50 µs: about 10 MB/s, a rate at which a TLS connection sleeps between reads.
    let start = Instant::now();
    for n in 0..3000 {
        send_line(&mut tls, &lss("busy@example.com", n));
        let due = start + Duration::from_micros(50) * (n + 1);
        while Instant::now() < due {
            std::hint::spin_loop();
        }
    }
    common::wait_for_lines(&records, 3000);
    send_line(&mut tls, &lss("lone@example.com", 3000));
    common::wait_for_lines(&records, 3001);
    close(tls);
    let outcome = collector.stop();
    assert_eq!(outcome.records.len(), 3001);
    let users = |name: &str| outcome.records.iter().filter(|r| r["user"] == name).count();
    assert_eq!(users("busy@example.com"), 3000);
    assert_eq!(users("lone@example.com"), 1);
}

#[test]
fn mutual_tls_accepts_a_signed_client_and_refuses_another() {
    let dir = TempDir::new("mtls-files");
    let ca = Ca::new("server root");
    let clients = Ca::new("connector root");
    let strangers = Ca::new("other root");
    let collector = start(
        "mtls",
        &dir,
        &ca.leaf("localhost", &["localhost"]),
        Some(&clients),
        "",
        true,
    );
    let addr = collector.listening["tls"];

    let good = ca.client(Some(clients.leaf("connector-7", &["connector-7"])));
    let mut tls = connect(addr, good).expect("a client signed by client_ca is accepted");
    send_line(&mut tls, &lss("bob@example.com", 1));
    close(tls);

    let wrong = ca.client(Some(strangers.leaf("intruder", &["intruder"])));
    assert!(
        connect(addr, wrong).is_err(),
        "a client signed by another CA is refused"
    );
    let none = ca.client(None);
    assert!(
        connect(addr, none).is_err(),
        "a client without a certificate is refused"
    );

    let outcome = collector.stop();
    assert_eq!(outcome.records.len(), 1);
    assert_eq!(outcome.records[0]["user"], "bob@example.com");
    assert_eq!(outcome.counter("tls_handshake_failures"), 2);
    let log = outcome.stderr.join("\n");
    // The first failure's line says why in words; the second, within the same second, is held
    // back by the rate limit.
    assert!(
        log.contains("failed: the client's certificate is not signed by input.tls.client_ca"),
        "{log}"
    );
    assert!(
        log.contains("CN=connector-7"),
        "the client's subject is logged:\n{log}"
    );
}

#[test]
fn silent_or_plaintext_peers_fail_the_handshake_and_a_quiet_client_stays_open() {
    let dir = TempDir::new("tls-silent-files");
    let ca = Ca::new("root");
    let collector = start(
        "tls-silent",
        &dir,
        &ca.leaf("localhost", &["localhost"]),
        None,
        "[limits]\nidle_timeout_secs = 1\n",
        false,
    );
    let addr = collector.listening["tls"];
    // An LSS receiver may connect and have nothing to send for a while (App Connector Status,
    // Audit): its handshake is bytes sent, and it stays open at its frame boundary as a quiet
    // feed does. It was cut at idle_timeout_secs, and its first record went into a closed
    // socket (found by a tester).
    let mut quiet = connect(addr, ca.client(None)).expect("handshake");
    let silent = TcpStream::connect(addr).unwrap();
    let mut plain = TcpStream::connect(addr).unwrap();
    plain.write_all(b"{\"not\":\"tls\"}\n").unwrap();
    // Meanwhile a real client is served.
    let mut tls = connect(addr, ca.client(None)).expect("handshake");
    send_line(&mut tls, &lss("carol@example.com", 2));
    close(tls);
    // The silent peer is cut off after the (1 s) limit.
    silent
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    // The end of the stream, not our own 10 s read timeout.
    let read = (&silent).read(&mut [0u8; 8]);
    assert!(matches!(read, Ok(0)), "closed by the collector: {read:?}");
    // Connected before the silent peer, the quiet client has been quiet past the limit too.
    send_line(&mut quiet, &lss("dave@example.com", 3));
    close(quiet);
    drop(plain);
    let outcome = collector.stop();
    assert_eq!(outcome.records.len(), 2, "{:?}", outcome.dead_letters);
    assert_eq!(outcome.counter("tls_handshake_failures"), 2);
    assert_eq!(outcome.counter("idle_timeouts"), 0);
}

#[test]
fn sighup_reloads_the_certificate_and_keeps_established_connections() {
    let dir = TempDir::new("tls-reload-files");
    let old_ca = Ca::new("old root");
    let new_ca = Ca::new("new root");
    let mut collector = start(
        "tls-reload",
        &dir,
        &old_ca.leaf("localhost", &["localhost"]),
        None,
        "",
        true,
    );
    let addr = collector.listening["tls"];
    let mut established = connect(addr, old_ca.client(None)).expect("handshake");
    send_line(&mut established, &lss("dave@example.com", 1));

    let (cert, key) = new_ca.leaf("localhost", &["localhost"]);
    dir.write("server.pem", &cert);
    dir.write("server.key", &key);
    collector.signal(libc::SIGHUP);
    collector.wait_for_stderr("ztel: reloaded certificates, keys and allow-lists");

    send_line(&mut established, &lss("dave@example.com", 2));
    let mut fresh =
        connect(addr, new_ca.client(None)).expect("a new connection sees the new certificate");
    send_line(&mut fresh, &lss("erin@example.com", 3));
    assert!(
        connect(addr, old_ca.client(None)).is_err(),
        "the old certificate is gone"
    );
    close(fresh);
    close(established);
    let outcome = collector.stop();
    let mut users: Vec<&str> = outcome
        .records
        .iter()
        .map(|r| r["user"].as_str().unwrap())
        .collect();
    users.sort_unstable();
    assert_eq!(
        users,
        ["dave@example.com", "dave@example.com", "erin@example.com"]
    );
}

/// Runs the openssl command line (which test.sh installs), failing the test if it fails.
fn openssl(args: &[&str]) {
    let out = std::process::Command::new("openssl")
        .args(args)
        .stdin(std::process::Stdio::null())
        .output()
        .expect("openssl (test.sh installs it)");
    assert!(
        out.status.success(),
        "openssl {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn a_client_certificate_signed_without_extensions_is_refused_in_words() {
    // Issue 15: the most common openssl recipe (`openssl x509 -req` without -extfile) makes an
    // X.509 v1 client certificate; rustls refuses it and the log said only
    // `invalid peer certificate: Other(OtherError(UnsupportedCertVersion))`.
    let dir = TempDir::new("v1-files");
    let ca = Ca::new("server root");
    let clients = Ca::new("connector root");
    let ca_pem = path(&dir.write("clients.pem", &clients.pem()));
    let ca_key = path(&dir.write("clients.key", &clients.key_pem()));
    let key = path(&dir.path().join("v1.key"));
    let csr = path(&dir.path().join("v1.csr"));
    let cert = path(&dir.path().join("v1.pem"));
    openssl(&[
        "req",
        "-new",
        "-newkey",
        "ec",
        "-pkeyopt",
        "ec_paramgen_curve:prime256v1",
        "-nodes",
        "-keyout",
        &key,
        "-subj",
        "/CN=connector-v1",
        "-out",
        &csr,
    ]);
    openssl(&[
        "x509",
        "-req",
        "-in",
        &csr,
        "-CA",
        &ca_pem,
        "-CAkey",
        &ca_key,
        "-CAcreateserial",
        "-days",
        "2",
        "-out",
        &cert,
    ]);
    let mut collector = start(
        "tls-v1",
        &dir,
        &ca.leaf("localhost", &["localhost"]),
        Some(&clients),
        "",
        true,
    );
    let addr = collector.listening["tls"].to_string();
    // openssl's client sends the certificate as it is (rustls's own client would refuse to
    // load it); with stdin at its end it quits after the handshake.
    let client = std::process::Command::new("openssl")
        .args(["s_client", "-connect", &addr, "-cert", &cert, "-key", &key])
        .stdin(std::process::Stdio::null())
        .output()
        .expect("openssl s_client");
    let line = collector.wait_for_stderr("input.tls: TLS handshake with 127.0.0.1:");
    assert!(
        line.contains("failed: the client's certificate is X.509 version 1")
            && line.contains("-extfile"),
        "{line}\nopenssl: {}",
        String::from_utf8_lossy(&client.stderr)
    );
    let outcome = collector.stop();
    assert!(outcome.records.is_empty());
    assert_eq!(outcome.counter("tls_handshake_failures"), 1);
}
