//! `--proto tls`: records over TLS to a rustls server whose certificate the test's own CA
//! signed, and a handshake refused when `--ca` names another CA.

use std::io::Read;
use std::net::TcpListener;
use std::sync::Arc;
use std::thread::{self, JoinHandle};

use rcgen::{BasicConstraints, CertificateParams, CertifiedIssuer, DnType, IsCa, KeyPair};
use wire::event::Kind;

use crate::support::{all_lines, assert_records, loadgen_with, Run, Scratch};

/// A CA and a certificate for "localhost" it signed, PEM: (ca, cert, key).
pub fn certificates() -> (String, String, String) {
    let ca = authority("loadgen test CA");
    let (cert, key) = leaf(&ca, "localhost");
    (ca.pem(), cert, key)
}

/// A certificate authority of the test's own.
pub fn authority(name: &str) -> CertifiedIssuer<'static, KeyPair> {
    let mut ca_params = CertificateParams::new(Vec::<String>::new()).unwrap();
    ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    ca_params.distinguished_name.push(DnType::CommonName, name);
    CertifiedIssuer::self_signed(ca_params, KeyPair::generate().unwrap()).unwrap()
}

/// A certificate for `name` that `ca` signed, and its key, PEM.
pub fn leaf(ca: &CertifiedIssuer<'static, KeyPair>, name: &str) -> (String, String) {
    let mut params = CertificateParams::new(vec![name.to_string()]).unwrap();
    params.distinguished_name.push(DnType::CommonName, name);
    let key = KeyPair::generate().unwrap();
    let cert = params.signed_by(&key, ca).unwrap();
    (cert.pem(), key.serialize_pem())
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

/// Runs loadgen over TLS to `addr` with `ca` (PEM) as the CA it trusts, written to a file.
fn over_tls(dir: &Scratch, addr: &str, ca: &str, flags: &str) -> Run {
    let ca_file = dir.write("ca.pem", ca);
    loadgen_with(
        &format!("--target {addr} --proto tls {flags}"),
        &["--ca", &ca_file],
    )
}

#[test]
fn tls_delivers_every_record() {
    let dir = Scratch::new("tls");
    let (ca, cert, key) = certificates();
    let (addr, receiver) = tls_receiver(&cert, &key, 2);
    let run = over_tls(&dir, &addr, &ca, "--connections 2 --source lss --count 500");
    assert_eq!(run.code, 0, "{}", run.stderr);
    let received: Vec<Vec<u8>> = receiver
        .join()
        .unwrap()
        .into_iter()
        .collect::<Result<_, _>>()
        .unwrap();
    let all = all_lines(&received);
    assert_eq!(all.len(), 500);
    assert_records(&all, Kind::ZpaUserActivity);
    dir.remove();
}

#[test]
fn tls_refuses_a_certificate_from_another_ca() {
    let dir = Scratch::new("tls-wrong");
    let (_, cert, key) = certificates();
    let (other_ca, _, _) = certificates();
    let (addr, _receiver) = tls_receiver(&cert, &key, 1);
    let run = over_tls(&dir, &addr, &other_ca, "--count 5");
    assert_eq!(run.code, 1, "{}", run.stderr);
    run.assert_stderr_has("TLS handshake");
    dir.remove();
}

#[test]
fn tls_to_a_port_that_never_answers_says_so() {
    // A plain TCP port takes the connection and waits for a line: the handshake's read timed
    // out as "Resource temporarily unavailable (os error 11)", which named no cause.
    let dir = Scratch::new("tls-silent");
    let (ca, _, _) = certificates();
    let silent = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = silent.local_addr().unwrap().to_string();
    let run = over_tls(&dir, &addr, &ca, "--count 1");
    assert_eq!(run.code, 1, "{}", run.stderr);
    run.assert_stderr_has("TLS handshake: no answer within 5 s");
    drop(silent);
    dir.remove();
}
