//! Certificates a start or a reload is given: a bad one on reload keeps the old one (said in
//! one line, counted for an alert); one no client would take is refused on reload and said at
//! start, where the other inputs go on; when the serving one expires, for an alert ahead of it.

use super::*;

#[test]
fn a_bad_certificate_on_reload_keeps_the_old_one() {
    let dir = TempDir::new("tls-badreload-files");
    let ca = Ca::new("root");
    let mut options = tls_options(&dir, &ca.leaf("localhost", &["localhost"]), None, "", true);
    options
        .args
        .extend(["--admin".into(), "127.0.0.1:0".into()]);
    let mut collector = Collector::start_with("tls-badreload", options);
    let addr = collector.listening["tls"];
    dir.write("server.pem", "not a certificate");
    collector.signal(libc::SIGHUP);
    collector.wait_for_stderr("ztel: reload failed");
    // Said in /metrics too, for an alert: `systemctl reload` reports success whatever happens.
    let (_, metrics) = common::http_get(collector.listening["admin"], "/metrics");
    let failed = common::sample(&metrics, "ztel_reloads_total{result=\"failed\"}");
    assert_eq!(failed, Some(1.0), "{metrics}");
    assert_eq!(common::sample(&metrics, "ztel_reload_failed"), Some(1.0));
    // The certificate serving, and when it expires (rcgen's default, 4096-01-01), for an alert
    // ahead of it.
    let expiry = "ztel_tls_certificate_expiry_timestamp_seconds{input=\"tls\"}";
    assert_eq!(common::sample(&metrics, expiry), Some(67_090_118_400.0));
    // A certificate for clients only is no server's: refused on reload, in words.
    let (client_cert, client_key) = ca.client_leaf("client-only");
    let client_only = dir.write("server.pem", &client_cert);
    dir.write("server.key", &client_key);
    collector.signal(libc::SIGHUP);
    collector.wait_for_stderr(&format!(
        "ztel: reload failed, keeping the current settings: input.tls.cert {}: CN=client-only is \
         not for servers (its extendedKeyUsage has no serverAuth)",
        client_only.display()
    ));
    let mut tls = connect(addr, ca.client(None)).expect("the old certificate still serves");
    send_line(&mut tls, &lss("frank@example.com", 4));
    close(tls);
    assert_eq!(collector.stop().records.len(), 1);
}

/// An expired certificate at start: said, and the collector serves its other inputs (TCP and
/// UDP need none); a reload would refuse it and keep what serves.
#[test]
fn an_expired_certificate_at_start_is_said_and_the_rest_serves() {
    let dir = TempDir::new("tls-expired-files");
    let ca = Ca::new("root");
    let server = ca.expired_leaf("old", &["localhost"]);
    let mut collector = start("tls-expired", &dir, &server, None, "", true);
    let said = collector.wait_for_stderr("input.tls.cert");
    assert!(
        said.contains("CN=old expired at 2021-01-01T00:00:00Z: no client will take it"),
        "{said}"
    );
    collector.send(format!("{}\n", common::zia_line(1, "pc-1")).as_bytes());
    assert_eq!(collector.stop().records.len(), 1);
    // `config check` judges as a reload does: it said "ok" to the file, and the reload that
    // an operator's `config check && systemctl reload ztel` ran next failed.
    let config = dir.write(
        "check.toml",
        &format!(
            "[input.tls]\naddress = \"127.0.0.1:0\"\ncert = {:?}\nkey = {:?}\n",
            dir.path().join("server.pem"),
            dir.path().join("server.key")
        ),
    );
    let (status, _, stderr) = common::run_ztel(&["config", "check", config.to_str().unwrap()]);
    assert!(!status.success(), "an expired certificate passed the check");
    assert!(
        stderr.starts_with("ztel: error: input.tls.cert ")
            && stderr.contains("CN=old expired at 2021-01-01T00:00:00Z"),
        "{stderr}"
    );
}

/// With mutual TLS, when the client CA file's last CA expires, for an alert ahead of it: then
/// no LSS receiver connects. A reload that turns mutual TLS off takes the series away.
#[test]
fn the_client_cas_expiry_is_exported() {
    let dir = TempDir::new("tls-ca-expiry-files");
    let ca = Ca::new("root");
    let clients = Ca::new("connector root");
    let server = ca.leaf("localhost", &["localhost"]);
    let mut options = tls_options(&dir, &server, Some(&clients), "", true);
    options
        .args
        .extend(["--admin".into(), "127.0.0.1:0".into()]);
    let mut collector = Collector::start_with("tls-ca-expiry", options);
    let series = "ztel_tls_certificate_expiry_timestamp_seconds{input=\"tls_client_ca\"}";
    let (_, metrics) = common::http_get(collector.listening["admin"], "/metrics");
    // rcgen's default end, 4096-01-01.
    assert_eq!(
        common::sample(&metrics, series),
        Some(67_090_118_400.0),
        "{metrics}"
    );
    collector.rewrite_config(&format!(
        "[input.tls]\ncert = {:?}\nkey = {:?}\n",
        path(&dir.path().join("server.pem")),
        path(&dir.path().join("server.key")),
    ));
    collector.signal(libc::SIGHUP);
    collector.wait_for_stderr("ztel: reloaded certificates, keys and allow-lists");
    let (_, metrics) = common::http_get(collector.listening["admin"], "/metrics");
    assert_eq!(common::sample(&metrics, series), None, "{metrics}");
    collector.stop();
}
