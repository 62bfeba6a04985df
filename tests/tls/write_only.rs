//! A sender that only writes, as syslog forwarders do: it never reads the TLS connection, and
//! closes it as soon as its last record is written.
//!
//! A kernel that closes a socket with bytes unread in it resets the connection instead of
//! ending it, and the receiving kernel then drops whatever its reader had not taken yet. So
//! nothing may come from the server once the handshake is done: TLS 1.3 session tickets, which
//! rustls sends by default and a syslog input has no use for, made the last records of such a
//! sender vanish, with no counter to say so.

use super::*;

/// A client that completes the handshake and reads nothing after it.
pub(super) fn handshake_only(addr: SocketAddr, ca: &Ca) -> Tls {
    let tcp = TcpStream::connect_timeout(&addr, Duration::from_secs(5)).expect("connect");
    let name = ServerName::try_from("localhost").unwrap();
    let conn = rustls::ClientConnection::new(ca.client(None), name).expect("client");
    let mut tls = rustls::StreamOwned::new(conn, tcp);
    while tls.conn.is_handshaking() {
        tls.conn.complete_io(&mut tls.sock).expect("handshake");
    }
    tls
}

fn send_all(tls: &mut Tls, user: &str, range: std::ops::Range<u32>) {
    let mut lines = String::new();
    for n in range {
        lines.push_str(&lss(user, n));
        lines.push('\n');
    }
    tls.write_all(lines.as_bytes()).unwrap();
    tls.flush().unwrap();
}

#[test]
fn a_sender_that_never_reads_and_closes_at_once_loses_nothing() {
    let dir = TempDir::new("tls-write-only");
    let ca = Ca::new("test root");
    let collector = start(
        "tls-write-only",
        &dir,
        &ca.leaf("localhost", &["localhost", "127.0.0.1"]),
        None,
        "",
        false,
    );
    let addr = collector.listening["tls"];
    let records = collector.data_dir().join("connections.jsonl");

    // Once ztel has read and written everything this sender sent, whatever the server sent after
    // the handshake is in the sender's socket, unread.
    let mut tls = handshake_only(addr, &ca);
    send_all(&mut tls, "carol@example.com", 0..500);
    common::wait_for_lines(&records, 500);
    tls.sock.set_nonblocking(true).unwrap();
    let mut unread = [0u8; 4096];
    match tls.sock.peek(&mut unread) {
        Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {}
        other => panic!(
            "the server sent bytes after the handshake that a write-only sender never reads \
             (closing with them unread resets the connection): {other:?}"
        ),
    }
    drop(tls);

    // And what that costs: records written, then a close at once, with no close_notify.
    for (i, user) in ["dave@example.com", "erin@example.com"]
        .into_iter()
        .enumerate()
    {
        let mut tls = handshake_only(addr, &ca);
        let first = 1000 + 3000 * i as u32;
        send_all(&mut tls, user, first..first + 3000);
        drop(tls);
    }
    common::wait_for_lines(&records, 6500);
    let outcome = collector.stop();
    assert_eq!(outcome.records.len(), 6500, "{:?}", outcome.dead_letters);
    assert_eq!(outcome.counter("read_errors"), 0);
}

#[test]
fn the_server_ends_its_side_with_close_notify() {
    // RFC 8446 §6.1: each side sends close_notify before closing its write side. Without it a
    // strict sender reads the close as a cut and logs an error for every connection.
    let dir = TempDir::new("tls-close-notify");
    let ca = Ca::new("test root");
    let collector = start(
        "tls-close-notify",
        &dir,
        &ca.leaf("localhost", &["localhost", "127.0.0.1"]),
        None,
        "",
        false,
    );
    let mut tls = handshake_only(collector.listening["tls"], &ca);
    tls.sock
        .set_read_timeout(Some(Duration::from_secs(5)))
        .unwrap();
    send_all(&mut tls, "frank@example.com", 0..3);
    tls.conn.send_close_notify();
    tls.conn.complete_io(&mut tls.sock).unwrap();
    // rustls reads the end as Ok(0) after close_notify, as UnexpectedEof without it.
    let mut rest = Vec::new();
    let read = tls.read_to_end(&mut rest);
    assert!(read.is_ok(), "{read:?}");
    let outcome = collector.stop();
    assert_eq!(outcome.records.len(), 3, "{:?}", outcome.dead_letters);
}
