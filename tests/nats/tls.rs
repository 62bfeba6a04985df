//! `output.nats.tls_ca`: with the CA that signed the server's certificate the collector
//! publishes over TLS; with another, the start stops in one line. Its own module because the
//! server here is configured for TLS, which no other test wants.

use crate::common::TempDir;
use crate::server::{installed, Server};
use crate::support::{comes_true, lines, lines_naming, metric, serve_once, start_configured};

#[test]
fn tls_with_the_servers_ca_publishes_and_another_ca_stops_the_start() {
    let dir = TempDir::new("nats-tls");
    if !installed() {
        return;
    }
    let server_cert = rcgen::generate_simple_self_signed(vec!["127.0.0.1".into()]).expect("cert");
    let cert = dir.write("server.pem", &server_cert.cert.pem());
    let key = dir.write("server.key", &server_cert.signing_key.serialize_pem());
    let conf = dir.write(
        "nats.conf",
        &format!(
            "tls {{\n  cert_file: {:?}\n  key_file: {:?}\n}}\n",
            cert.display().to_string(),
            key.display().to_string()
        ),
    );
    let server = Server::on(0, dir.path().join("nats-store"), Some(conf));
    // The server's own certificate is the CA the collector trusts.
    let c = start_configured(
        "nats-tls-ok",
        &server.url(),
        &format!("tls_ca = {:?}", cert.display().to_string()),
        None,
    );
    c.send(&lines(50));
    assert!(
        comes_true(|| metric(&c, "ztel_nats_acknowledged_total") >= 50.0),
        "published over TLS"
    );
    c.stop();
    // A CA that did not sign the server's certificate: one line at start.
    let other = rcgen::generate_simple_self_signed(vec!["127.0.0.1".into()]).expect("cert");
    let wrong = dir.write("other.pem", &other.cert.pem());
    let (ok, stderr) = serve_once(
        &dir,
        &server.url(),
        &format!("tls_ca = {:?}", wrong.display().to_string()),
    );
    assert!(!ok, "the start fails");
    let errors = lines_naming(&stderr, "output.nats");
    assert_eq!(errors.len(), 1, "one line: {stderr}");
    assert!(errors[0].contains("TLS"), "{stderr}");
}
