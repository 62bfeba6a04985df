//! loadgen against a collector that requires client certificates (`[input.tls] client_ca`,
//! mutual TLS as LSS supports): with `--cert` and `--key` of a client that CA signed every
//! event is recorded; without a certificate, or with one another CA signed, loadgen fails at
//! the start with one line that says so, instead of sending into a connection the collector
//! has already refused.

mod common;

use std::path::Path;

use common::{
    loadgen_binary, loadgen_result, result_value, run_loadgen, Ca, Collector, Options, TempDir,
};

/// A collector with TLS on port 0 whose clients must present a certificate `clients` signed,
/// its server certificate signed by `server_ca`; its TLS address and admin URL.
fn mtls_collector(dir: &TempDir, server_ca: &Ca, clients: &Ca) -> (Collector, String, String) {
    let (cert, key) = server_ca.leaf("localhost", &["localhost"]);
    let toml = format!(
        "[input.tls]\ncert = {:?}\nkey = {:?}\nclient_ca = {:?}\n",
        dir.write("server.pem", &cert),
        dir.write("server.key", &key),
        dir.write("clients.pem", &clients.pem()),
    );
    let collector = Collector::start_with(
        "loadgen-mtls",
        Options {
            config: Some(toml),
            args: vec![
                "--tls".into(),
                "127.0.0.1:0".into(),
                "--admin".into(),
                "127.0.0.1:0".into(),
            ],
            // loadgen against the binary a user runs.
            binary: true,
            ..Options::default()
        },
    );
    let tls = collector.listening["tls"].to_string();
    let admin = format!("http://{}", collector.listening["admin"]);
    (collector, tls, admin)
}

/// Writes a client certificate `ca` signed and its key; their paths.
fn client_files(dir: &TempDir, ca: &Ca, name: &str) -> (String, String) {
    let (cert, key) = ca.leaf(name, &[name]);
    (
        path(&dir.write(&format!("{name}.pem"), &cert)),
        path(&dir.write(&format!("{name}.key"), &key)),
    )
}

fn path(p: &Path) -> String {
    p.display().to_string()
}

#[test]
fn a_client_certificate_the_collector_trusts_delivers_every_event() {
    let Some(binary) = loadgen_binary() else {
        return;
    };
    let dir = TempDir::new("loadgen-mtls-files");
    let (server_ca, clients) = (Ca::new("server root"), Ca::new("lss receivers"));
    let (collector, tls, admin) = mtls_collector(&dir, &server_ca, &clients);
    let ca = path(&dir.write("ca.pem", &server_ca.pem()));
    let (cert, key) = client_files(&dir, &clients, "lss-receiver-1");
    let (code, stdout, stderr) = run_loadgen(
        &binary,
        &[
            "--target",
            &tls,
            "--proto",
            "tls",
            "--ca",
            &ca,
            "--cert",
            &cert,
            "--key",
            &key,
            "--source",
            "lss",
            "--connections",
            "2",
            "--count",
            "2000",
            "--admin",
            &admin,
        ],
    );
    assert_eq!(code, 0, "{stderr}");
    let result = loadgen_result(&stdout);
    assert_eq!(result_value(&result, "events"), "2000");
    assert_eq!(result_value(&result, "received"), "2000");
    assert_eq!(result_value(&result, "lost"), "0");
    let outcome = collector.stop();
    assert_eq!(outcome.counter("tls_handshake_failures"), 0);
    assert_eq!(outcome.counter("records_zpa_user_activity"), 2000);
    assert_eq!(outcome.records.len(), 2000);
    let log = outcome.stderr.join("\n");
    assert!(
        log.contains("CN=lss-receiver-1"),
        "the client is named:\n{log}"
    );
}

#[test]
fn no_client_certificate_or_a_stranger_s_fails_at_the_start_in_one_line() {
    let Some(binary) = loadgen_binary() else {
        return;
    };
    let dir = TempDir::new("loadgen-mtls-refused-files");
    let (server_ca, clients) = (Ca::new("server root"), Ca::new("lss receivers"));
    let (collector, tls, _) = mtls_collector(&dir, &server_ca, &clients);
    let ca = path(&dir.write("ca.pem", &server_ca.pem()));
    let (cert, key) = client_files(&dir, &Ca::new("another root"), "intruder");
    // Few events: they all fit in the socket's buffers, so only the collector's verdict on the
    // certificate can tell that none of them will be read.
    let base = [
        "--target", &tls, "--proto", "tls", "--ca", &ca, "--count", "100",
    ];
    let stranger = ["--cert", cert.as_str(), "--key", key.as_str()];
    for (extra, why) in [
        (
            &[][..],
            "the collector requires a client certificate: give --cert FILE and --key FILE",
        ),
        (
            &stranger[..],
            "the collector refused the client certificate of --cert",
        ),
    ] {
        let args: Vec<&str> = base.iter().chain(extra).copied().collect();
        let (code, stdout, stderr) = run_loadgen(&binary, &args);
        assert_eq!(code, 1, "{extra:?}: {stderr}");
        assert_eq!(stderr.lines().count(), 1, "{extra:?}: {stderr}");
        assert!(
            stderr.starts_with("loadgen: connection 1: ") && stderr.contains(why),
            "{extra:?}: {stderr}"
        );
        // The report of a run that sent nothing, for the scripts that read its result line.
        let result = loadgen_result(&stdout);
        assert_eq!(result_value(&result, "events"), "0", "{extra:?}: {stdout}");
        assert_eq!(result_value(&result, "failed_connections"), "1", "{stdout}");
    }
    let outcome = collector.stop();
    assert_eq!(outcome.counter("tls_handshake_failures"), 2);
    assert!(outcome.records.is_empty());
}
