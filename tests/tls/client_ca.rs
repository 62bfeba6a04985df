//! A reload that changes input.tls.client_ca asks again about the clients it admitted: an open
//! connection whose certificate the new CA file does not take is ended at its next read, as a
//! peer taken off an allow-list is (an LSS connection lasts hours, and a CA taken away is
//! usually one no longer trusted); one the new file still takes goes on.

use super::*;

/// Waits (up to 10 s) for the server to end the connection: its close_notify, or the cut.
fn wait_for_the_end(tls: &mut Tls) -> bool {
    tls.sock
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    let mut byte = [0u8; 1];
    match tls.read(&mut byte) {
        Ok(0) => true,
        Ok(_) => false,
        Err(e) => !matches!(
            e.kind(),
            std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
        ),
    }
}

/// A collector with TLS (and an admin endpoint, to see what it has read).
fn start_with_admin(tag: &str, dir: &TempDir, ca: &Ca, client_ca: Option<&Ca>) -> Collector {
    let server = ca.leaf("localhost", &["localhost"]);
    let mut options = tls_options(dir, &server, client_ca, "", true);
    options
        .args
        .extend(["--admin".into(), "127.0.0.1:0".into()]);
    Collector::start_with(tag, options)
}

/// Waits until the collector has read `n` records: a reload must not find them unread (the
/// connection it ends drops what it had not read).
fn wait_read(collector: &Collector, n: usize) {
    let series = "ztel_records_total{kind=\"zpa.user_activity\"}";
    common::wait_for_metric(collector.listening["admin"], series, |v| v >= n as f64);
}

#[test]
fn a_reload_ends_the_connections_whose_client_ca_it_took_away() {
    let dir = TempDir::new("tls-client-ca-files");
    let ca = Ca::new("server root");
    let old = Ca::new("old connector root");
    let new = Ca::new("new connector root");
    let mut collector = start_with_admin("tls-client-ca", &dir, &ca, Some(&old));
    let addr = collector.listening["tls"];
    let mut by_old = connect(addr, ca.client(Some(old.client_leaf("connector-old"))))
        .expect("a client signed by client_ca is accepted");
    send_line(&mut by_old, &lss("old-1@example.com", 1));
    wait_read(&collector, 1);

    // Both CAs while the connectors move over: the open connection is asked again and kept.
    dir.write("client-ca.pem", &format!("{}{}", old.pem(), new.pem()));
    collector.signal(libc::SIGHUP);
    collector.wait_for_stderr("ztel: reloaded certificates, keys and allow-lists");
    send_line(&mut by_old, &lss("old-2@example.com", 2));
    let mut by_new = connect(addr, ca.client(Some(new.client_leaf("connector-new"))))
        .expect("a client signed by the added CA is accepted");
    send_line(&mut by_new, &lss("new-3@example.com", 3));
    wait_read(&collector, 3);

    // The old CA taken away: its client's next read ends the connection, unread.
    dir.write("client-ca.pem", &new.pem());
    collector.signal(libc::SIGHUP);
    collector.wait_for_stderr_times("ztel: reloaded certificates, keys and allow-lists", 2);
    send_line(&mut by_old, &lss("old-4@example.com", 4));
    assert!(wait_for_the_end(&mut by_old), "the old CA's client is cut");
    collector.wait_for_stderr(
        "input.tls: closed the connection from 127.0.0.1 (CN=connector-old): the client's \
         certificate is not signed by input.tls.client_ca (asked again after a reload)",
    );
    send_line(&mut by_new, &lss("new-5@example.com", 5));
    close(by_new);
    assert!(
        connect(addr, ca.client(Some(old.client_leaf("connector-old")))).is_err(),
        "a new connection by the old CA's client is refused at its handshake"
    );

    let outcome = collector.stop();
    let mut users: Vec<&str> = outcome
        .records
        .iter()
        .map(|r| r["user"].as_str().unwrap())
        .collect();
    users.sort_unstable();
    assert_eq!(
        users,
        [
            "new-3@example.com",
            "new-5@example.com",
            "old-1@example.com",
            "old-2@example.com"
        ]
    );
    assert_eq!(outcome.counter("connections_refused"), 1);
}

/// Mutual TLS turned on by a reload: a client that showed no certificate (none was asked for)
/// is ended at its next read, said in words.
#[test]
fn a_reload_that_turns_mutual_tls_on_ends_a_client_without_a_certificate() {
    let dir = TempDir::new("tls-mtls-on-files");
    let ca = Ca::new("server root");
    let clients = Ca::new("connector root");
    let mut collector = start_with_admin("tls-mtls-on", &dir, &ca, None);
    let addr = collector.listening["tls"];
    let mut bare = connect(addr, ca.client(None)).expect("no client certificate asked for");
    send_line(&mut bare, &lss("bare-1@example.com", 1));
    wait_read(&collector, 1);
    let ca_file = dir.write("client-ca.pem", &clients.pem());
    collector.rewrite_config(&format!(
        "[input.tls]\ncert = {:?}\nkey = {:?}\nclient_ca = {:?}\n",
        path(&dir.path().join("server.pem")),
        path(&dir.path().join("server.key")),
        path(&ca_file)
    ));
    collector.signal(libc::SIGHUP);
    collector.wait_for_stderr("ztel: reloaded certificates, keys and allow-lists");
    send_line(&mut bare, &lss("bare-2@example.com", 2));
    assert!(
        wait_for_the_end(&mut bare),
        "the client without a certificate is cut"
    );
    collector.wait_for_stderr(
        "input.tls: closed the connection from 127.0.0.1: the client sent no certificate, and \
         mutual TLS is on (input.tls.client_ca)",
    );
    let outcome = collector.stop();
    let users: Vec<&str> = outcome
        .records
        .iter()
        .map(|r| r["user"].as_str().unwrap())
        .collect();
    assert_eq!(users, ["bare-1@example.com"]);
    assert_eq!(outcome.counter("connections_refused"), 1);
}
