//! Mutual TLS: `--cert` and `--key` present a client certificate to a collector that asks for
//! one, over `--proto tls` and over HTTPS; the flags are checked before anything is sent.
//! (Against the real collector with `client_ca`, and its refusals: tests/loadgen_mtls.rs.)

use std::io::{Read, Write};
use std::net::TcpListener;
use std::sync::Arc;
use std::thread::{self, JoinHandle};

use wire::event::Kind;

use crate::support::{all_lines, assert_records, loadgen, loadgen_with, Run, Scratch};
use crate::tls::{authority, certificates, leaf};

/// What a receiver that requires a client certificate got on its one connection: the common
/// name the client's certificate carries, and the bytes read (for HTTP, the request's body).
type Received = Result<(bool, Vec<u8>), String>;

/// A rustls server for "localhost" (`cert`, `key`) that requires a client certificate signed by
/// `clients` (PEM), and sends no session tickets, as ztel's TLS input does; TLS 1.2 only with
/// `tls12`. With `http` it reads one request and answers 200 with `Connection: close`.
fn mtls_receiver(
    cert: &str,
    key: &str,
    clients: &str,
    http: bool,
    tls12: bool,
) -> (String, JoinHandle<Received>) {
    use rustls::pki_types::pem::PemObject;
    use rustls::pki_types::{CertificateDer, PrivateKeyDer};
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut roots = rustls::RootCertStore::empty();
    roots
        .add(CertificateDer::from_pem_slice(clients.as_bytes()).unwrap())
        .unwrap();
    let verifier = rustls::server::WebPkiClientVerifier::builder_with_provider(
        Arc::new(roots),
        provider.clone(),
    )
    .build()
    .unwrap();
    let versions: &[&rustls::SupportedProtocolVersion] = if tls12 {
        &[&rustls::version::TLS12]
    } else {
        rustls::DEFAULT_VERSIONS
    };
    let mut config = rustls::ServerConfig::builder_with_provider(provider)
        .with_protocol_versions(versions)
        .unwrap()
        .with_client_cert_verifier(verifier)
        .with_single_cert(
            vec![CertificateDer::from_pem_slice(cert.as_bytes()).unwrap()],
            PrivateKeyDer::from_pem_slice(key.as_bytes()).unwrap(),
        )
        .unwrap();
    config.send_tls13_tickets = 0;
    let config = Arc::new(config);
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap().to_string();
    let handle = thread::spawn(move || {
        let (sock, _) = listener.accept().unwrap();
        let conn = rustls::ServerConnection::new(config).unwrap();
        let mut tls = rustls::StreamOwned::new(conn, sock);
        let mut bytes = Vec::new();
        if http {
            let body = read_request(&mut tls).map_err(|e| e.to_string())?;
            tls.write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
                .map_err(|e| e.to_string())?;
            tls.flush().map_err(|e| e.to_string())?;
            bytes = body;
        }
        // Ends at the client's close_notify; an error otherwise.
        let mut rest = Vec::new();
        tls.read_to_end(&mut rest).map_err(|e| e.to_string())?;
        bytes.extend_from_slice(&rest);
        let presented = tls.conn.peer_certificates().is_some_and(|c| !c.is_empty());
        Ok((presented, bytes))
    });
    (addr, handle)
}

/// Reads one HTTP request with a Content-Length; its body.
fn read_request(stream: &mut impl Read) -> std::io::Result<Vec<u8>> {
    let mut head = Vec::new();
    let mut byte = [0u8; 1];
    while !head.ends_with(b"\r\n\r\n") {
        stream.read_exact(&mut byte)?;
        head.push(byte[0]);
    }
    let head = String::from_utf8_lossy(&head).to_ascii_lowercase();
    let length: usize = head
        .lines()
        .find_map(|l| l.strip_prefix("content-length:"))
        .and_then(|v| v.trim().parse().ok())
        .expect("a Content-Length");
    let mut body = vec![0u8; length];
    stream.read_exact(&mut body)?;
    Ok(body)
}

/// The files of a run: the server's CA, a client certificate and key that `clients` signed.
fn client_files(dir: &Scratch) -> (String, String, String, String) {
    let (server_ca, cert, key) = certificates();
    let clients = authority("loadgen test clients");
    let (client_cert, client_key) = leaf(&clients, "lss-receiver-1");
    dir.write("server.pem", &cert);
    dir.write("server.key", &key);
    (
        dir.write("ca.pem", server_ca),
        dir.write("client.pem", client_cert),
        dir.write("client.key", client_key),
        clients.pem(),
    )
}

fn server_files(dir: &Scratch) -> (String, String) {
    let read = |f: &str| std::fs::read_to_string(dir.path(f)).unwrap();
    (read("server.pem"), read("server.key"))
}

#[test]
fn tls_presents_the_client_certificate_and_delivers_every_record() {
    let dir = Scratch::new("mtls");
    let (ca, cert, key, clients) = client_files(&dir);
    let (server_cert, server_key) = server_files(&dir);
    let (addr, receiver) = mtls_receiver(&server_cert, &server_key, &clients, false, false);
    let run = loadgen_with(
        &format!("--target {addr} --proto tls --source lss --count 300"),
        &["--ca", &ca, "--cert", &cert, "--key", &key],
    );
    assert_eq!(run.code, 0, "{}", run.stderr);
    let (presented, bytes) = receiver.join().unwrap().unwrap();
    assert!(presented, "the client certificate was presented");
    let lines = all_lines(std::slice::from_ref(&bytes));
    assert_eq!(lines.len(), 300);
    assert_records(&lines, Kind::ZpaUserActivity);
    dir.remove();
}

#[test]
fn https_presents_the_client_certificate() {
    let dir = Scratch::new("mtls-https");
    let (ca, cert, key, clients) = client_files(&dir);
    let (server_cert, server_key) = server_files(&dir);
    let (addr, receiver) = mtls_receiver(&server_cert, &server_key, &clients, true, false);
    let run = loadgen_with(
        &format!("--target {addr} --proto http --http-key k --source lss --count 20"),
        &["--ca", &ca, "--cert", &cert, "--key", &key],
    );
    assert_eq!(run.code, 0, "{}", run.stderr);
    let (presented, body) = receiver.join().unwrap().unwrap();
    assert!(presented, "the client certificate was presented");
    let array: Vec<serde_json::Value> = serde_json::from_slice(&body).unwrap();
    assert_eq!(array.len(), 20);
    dir.remove();
}

#[test]
fn a_refusal_of_the_client_certificate_is_said_in_one_line_over_tls_1_3_and_1_2() {
    let dir = Scratch::new("mtls-refused");
    let (ca, _, _, clients) = client_files(&dir);
    let (server_cert, server_key) = server_files(&dir);
    let (stranger_cert, stranger_key) = leaf(&authority("another root"), "intruder");
    let stranger = dir.write("intruder.pem", stranger_cert);
    let stranger_key = dir.write("intruder.key", stranger_key);
    for tls12 in [false, true] {
        let cases: [(&[&str], String); 2] = [
            (
                &[],
                "the collector requires a client certificate: give --cert FILE and --key FILE"
                    .to_string(),
            ),
            (
                &["--cert", &stranger, "--key", &stranger_key],
                format!("the collector refused the client certificate of --cert {stranger}"),
            ),
        ];
        for (more, why) in cases {
            let (addr, receiver) = mtls_receiver(&server_cert, &server_key, &clients, false, tls12);
            // Few events: in TLS 1.3 they all fit in the socket's buffers before the receiver
            // has judged the certificate.
            let run = loadgen_with(
                &format!("--target {addr} --proto tls --count 10 --quiet"),
                &[&["--ca", ca.as_str()][..], more].concat(),
            );
            assert_eq!(run.code, 1, "tls12 {tls12} {more:?}: {}", run.stderr);
            assert_eq!(run.stderr.lines().count(), 1, "{more:?}: {}", run.stderr);
            run.assert_stderr_has("loadgen: connection 1: ");
            run.assert_stderr_has(&why);
            assert!(receiver.join().unwrap().is_err(), "the receiver refused it");
        }
    }
    dir.remove();
}

#[test]
fn client_certificate_flags_are_checked_before_anything_is_sent() {
    let dir = Scratch::new("mtls-usage");
    let (ca, cert, key, _) = client_files(&dir);
    let (_, other_cert, _) = certificates();
    let other_cert = dir.write("other.pem", other_cert);
    let missing = dir.path("missing.pem");
    let tls = "--target 127.0.0.1:1 --proto tls --count 1";
    let cases: [(&str, Vec<&str>, String); 9] = [
        (
            tls,
            vec!["--cert", &cert],
            "--cert and --key go together".into(),
        ),
        (
            tls,
            vec!["--key", &key],
            "--cert and --key go together".into(),
        ),
        (
            tls,
            vec!["--cert", &missing, "--key", &key],
            format!("cannot read --cert {missing}"),
        ),
        (
            tls,
            vec!["--cert", &cert, "--key", &missing],
            format!("cannot read --key {missing}"),
        ),
        (
            tls,
            vec!["--cert", &key, "--key", &key],
            format!("--cert {key}: no certificate in it"),
        ),
        (
            tls,
            vec!["--cert", &cert, "--key", &cert],
            format!("--key {cert}: no private key in it"),
        ),
        (
            tls,
            vec!["--cert", &other_cert, "--key", &key],
            format!("--key {key} is not the key of the certificate in --cert {other_cert}"),
        ),
        (
            "--target 127.0.0.1:1 --count 1",
            vec!["--cert", &cert, "--key", &key],
            "--cert and --key apply to --proto tls and http (HTTPS) only".into(),
        ),
        (
            "--target 127.0.0.1:1 --proto http --http-key k --count 1",
            vec!["--cert", &cert, "--key", &key],
            "--cert and --key need --ca FILE (HTTPS)".into(),
        ),
    ];
    for (flags, mut more, why) in cases {
        if flags == tls {
            more.extend(["--ca", &ca]);
        }
        let run: Run = loadgen_with(flags, &more);
        assert_eq!(run.code, 2, "{flags} {more:?}: {}", run.stderr);
        assert_eq!(run.stderr.lines().count(), 1, "{more:?}: {}", run.stderr);
        assert!(
            run.stderr.starts_with("loadgen: ") && run.stderr.contains(&why),
            "{more:?}: no {why:?} in {}",
            run.stderr
        );
        assert_eq!(run.stdout, "");
    }
    dir.remove();
}

#[test]
fn help_says_what_cert_and_key_are_for() {
    let run = loadgen("--help");
    assert_eq!(run.code, 0);
    let help = run.stdout.split_whitespace().collect::<Vec<_>>().join(" ");
    for text in ["--cert <FILE>", "--key <FILE>", "client_ca", "mutual TLS"] {
        assert!(
            help.contains(text),
            "no {text:?} in --help:\n{}",
            run.stdout
        );
    }
}
