//! The bundled load generator against the real collector (DESIGN §7): what loadgen says it
//! sent, what ztel's /metrics says it received and what ztel wrote must agree.
//!
//! loadgen's binary is looked up next to this test's own executable (`common::loadgen_binary`).
//! Without it the test says so and does nothing; loadgen's own tests (loadgen/tests) cover it
//! against fake collectors. Mutual TLS is in loadgen_mtls.rs.
//!
//! The HTTP tests run Cloud NSS's transport end to end: loadgen POSTs JSON arrays to ztel's
//! `[input.http]`, plain, gzipped and HTTPS, with the right key and a wrong one.

mod common;

use std::path::Path;

use common::{
    loadgen_binary, loadgen_result, result_value, run_loadgen, Collector, Options, TempDir,
};

/// Runs loadgen; its exit status and the `key=value` pairs of its `loadgen-result` line.
fn loadgen(binary: &Path, args: &[&str]) -> (i32, Vec<(String, String)>, String) {
    let (code, stdout, stderr) = run_loadgen(binary, args);
    (code, loadgen_result(&stdout), stderr)
}

/// [`loadgen`] over HTTP to `target` with the key `key`, then `args`.
fn loadgen_http(
    binary: &Path,
    target: &str,
    key: &str,
    args: &[&str],
) -> (i32, Vec<(String, String)>, String) {
    let mut all = vec!["--target", target, "--proto", "http", "--http-key", key];
    all.extend_from_slice(args);
    loadgen(binary, &all)
}

#[test]
fn loadgen_traffic_is_received_counted_and_recorded() {
    let Some(binary) = loadgen_binary() else {
        return;
    };
    let collector = Collector::start_with(
        "loadgen",
        Options {
            udp: true,
            args: vec!["--admin".into(), "127.0.0.1:0".into()],
            // loadgen against the binary a user runs, as perf/ does.
            binary: true,
            ..Options::default()
        },
    );
    let admin = format!("http://{}", collector.listening["admin"]);
    let tcp = collector.addr.to_string();
    let udp = collector.listening["udp"].to_string();

    // NSS over two octet-framed TCP connections, as fast as the collector takes them.
    let (code, result, stderr) = loadgen(
        &binary,
        &[
            "--target",
            &tcp,
            "--source",
            "nss",
            "--connections",
            "2",
            "--framing",
            "octet",
            "--count",
            "3000",
            "--admin",
            &admin,
        ],
    );
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(result_value(&result, "events"), "3000");
    assert_eq!(result_value(&result, "received"), "3000");
    assert_eq!(result_value(&result, "lost"), "0");
    assert_ne!(result_value(&result, "ztel_p50_us"), "n/a");

    // LSS over UDP at a paced rate the collector keeps up with.
    let (code, result, stderr) = loadgen(
        &binary,
        &[
            "--target", &udp, "--proto", "udp", "--source", "lss", "--rate", "2000", "--count",
            "1000", "--admin", &admin,
        ],
    );
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(result_value(&result, "received"), "1000");
    assert_ne!(result_value(&result, "lateness_p99_us"), "n/a");
    // The collector's latency of this run's records alone, not of the 4,000 since its start.
    assert_eq!(result_value(&result, "ztel_latency_scope"), "run");
    assert_eq!(result_value(&result, "ztel_latency_samples"), "1000");

    let outcome = collector.stop();
    let count = |name: &str| outcome.counters.get(name).copied().unwrap_or(0);
    assert_eq!(count("records_zia_web"), 3000);
    assert_eq!(count("records_zpa_user_activity"), 1000);
    assert_eq!(count("dead_letters"), 0);
    assert_eq!(outcome.records.len(), 4000);
}

/// A collector with an HTTP input that takes `key` (plus `extra` TOML in `[input.http]`) and an
/// admin endpoint; its HTTP address and admin URL.
fn http_collector(tag: &str, extra: &str) -> (Collector, String, String) {
    let collector = Collector::start_with(
        tag,
        Options {
            // Plain HTTP on purpose, unless `extra` brings a certificate.
            config: Some(format!(
                "[input.http]\nkeys = [\"k1\"]\nplain = {}\n{extra}",
                !extra.contains("cert")
            )),
            args: vec![
                "--http".into(),
                "127.0.0.1:0".into(),
                "--admin".into(),
                "127.0.0.1:0".into(),
            ],
            ..Options::default()
        },
    );
    let http = collector.listening["http"].to_string();
    let admin = format!("http://{}", collector.listening["admin"]);
    (collector, http, admin)
}

#[test]
fn loadgen_over_http_is_received_counted_and_recorded() {
    let Some(binary) = loadgen_binary() else {
        return;
    };
    let (collector, http, admin) = http_collector("loadgen-http", "");
    let (code, result, stderr) = loadgen_http(
        &binary,
        &http,
        "k1",
        &[
            "--source",
            "nss",
            "--connections",
            "2",
            "--count",
            "5000",
            "--admin",
            &admin,
        ],
    );
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(result_value(&result, "events"), "5000");
    assert_eq!(result_value(&result, "received"), "5000");
    assert_eq!(result_value(&result, "lost"), "0");
    assert_eq!(result_value(&result, "failed_connections"), "0");
    assert_ne!(result_value(&result, "ztel_p50_us"), "n/a");

    let outcome = collector.stop();
    assert_eq!(outcome.counter("records_zia_web"), 5000);
    assert_eq!(outcome.counter("frames"), 5000);
    // 2500 events per connection, 100 per request (the default --batch).
    assert_eq!(outcome.counter("http_requests"), 50);
    assert_eq!(outcome.counter("http_rejected_auth"), 0);
    assert_eq!(outcome.counter("http_bad_requests"), 0);
    assert_eq!(outcome.counter("dead_letters"), 0);
    assert_eq!(outcome.counter("connections_opened"), 2);
    assert_eq!(outcome.records.len(), 5000);
    outcome.assert_counters_match_files();
}

/// A Cloud NSS feed whose output type is not JSON sends lines: each format of loadgen's, gzipped
/// too, is taken whole.
#[test]
fn loadgen_over_http_in_other_feed_formats_is_recorded() {
    let Some(binary) = loadgen_binary() else {
        return;
    };
    let (collector, http, admin) = http_collector("loadgen-http-formats", "");
    let formats = ["kv", "csv", "leef", "cef"];
    for (i, format) in formats.iter().enumerate() {
        let seed = (11 + i).to_string();
        let mut args = vec![
            "--source", "nss", "--format", format, "--count", "1000", "--seed", &seed, "--admin",
            &admin,
        ];
        if i % 2 == 1 {
            args.push("--gzip");
        }
        let (code, result, stderr) = loadgen_http(&binary, &http, "k1", &args);
        assert_eq!(code, 0, "{format}: {stderr}");
        assert_eq!(result_value(&result, "lost"), "0", "{format}");
    }
    let outcome = collector.stop();
    assert_eq!(outcome.counter("records_zia_web"), 4000);
    assert_eq!(outcome.counter("http_bad_requests"), 0);
    assert_eq!(outcome.counter("dead_letters"), 0);
    assert_eq!(outcome.records.len(), 4000);
    outcome.assert_counters_match_files();
}

#[test]
fn loadgen_over_http_with_a_wrong_key_fails_on_403() {
    let Some(binary) = loadgen_binary() else {
        return;
    };
    let (collector, http, _) = http_collector("loadgen-http-403", "");
    let (code, result, stderr) = loadgen_http(&binary, &http, "not-the-key", &["--count", "500"]);
    assert_eq!(code, 1, "{stderr}");
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(
        stderr.starts_with("loadgen: connection 1: the collector answered 403 Forbidden"),
        "{stderr}"
    );
    assert_eq!(result_value(&result, "failed_connections"), "1");
    assert_eq!(
        result_value(&result, "events"),
        "0",
        "refused events were not sent"
    );
    let outcome = collector.stop();
    assert!(outcome.records.is_empty());
    assert_eq!(
        outcome.counter("http_requests"),
        1,
        "no request after the 403"
    );
    assert_eq!(outcome.counter("http_rejected_auth"), 1);
}

#[test]
fn loadgen_over_https_with_a_test_ca() {
    use rcgen::{BasicConstraints, CertificateParams, CertifiedIssuer, DnType, IsCa, KeyPair};
    let Some(binary) = loadgen_binary() else {
        return;
    };
    let dir = TempDir::new("loadgen-https-files");
    let mut ca_params = CertificateParams::new(Vec::<String>::new()).unwrap();
    ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    ca_params
        .distinguished_name
        .push(DnType::CommonName, "loadgen https test CA");
    let ca = CertifiedIssuer::self_signed(ca_params, KeyPair::generate().unwrap()).unwrap();
    let key = KeyPair::generate().unwrap();
    let cert = CertificateParams::new(vec!["localhost".to_owned()])
        .unwrap()
        .signed_by(&key, &ca)
        .unwrap();
    let extra = format!(
        "cert = {:?}\nkey = {:?}\n",
        dir.write("server.pem", &cert.pem()).display().to_string(),
        dir.write("server.key", &key.serialize_pem())
            .display()
            .to_string()
    );
    let ca_file = dir.write("ca.pem", &ca.pem());
    let (collector, https, admin) = http_collector("loadgen-https", &extra);
    let (code, result, stderr) = loadgen_http(
        &binary,
        &https,
        "k1",
        &[
            "--ca",
            ca_file.to_str().unwrap(),
            "--source",
            "lss",
            "--connections",
            "2",
            "--batch",
            "50",
            "--count",
            "2000",
            "--admin",
            &admin,
        ],
    );
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(result_value(&result, "received"), "2000");
    assert_eq!(result_value(&result, "lost"), "0");
    let outcome = collector.stop();
    assert_eq!(outcome.counter("records_zpa_user_activity"), 2000);
    assert_eq!(outcome.counter("http_requests"), 40);
    assert_eq!(outcome.counter("tls_handshake_failures"), 0);
    assert_eq!(outcome.counter("dead_letters"), 0);
    assert_eq!(outcome.records.len(), 2000);
    assert!(outcome
        .records
        .iter()
        .all(|r| r["kind"] == "zpa.user_activity"));
    // (assert_counters_match_files counts ZIA records only.)
    assert_eq!(outcome.counter("sink_errors"), 0);
    assert_eq!(
        outcome.counter("connections_opened"),
        outcome.counter("connections_closed")
    );
}

#[test]
fn loadgen_gzip_bodies_of_firewall_and_dns_records_are_inflated_and_recorded() {
    let Some(binary) = loadgen_binary() else {
        return;
    };
    let (collector, http, admin) = http_collector("loadgen-http-gzip", "");
    for source in ["fw", "dns"] {
        let (code, result, stderr) = loadgen_http(
            &binary,
            &http,
            "k1",
            &[
                "--gzip", "--source", source, "--count", "1500", "--admin", &admin,
            ],
        );
        assert_eq!(code, 0, "{source}: {stderr}");
        assert_eq!(
            result_value(&result, "received"),
            "1500",
            "{source}: {stderr}"
        );
        assert_eq!(result_value(&result, "lost"), "0", "{source}");
        // What crossed the wire is the compressed bodies, a fraction of the JSON they carry.
        let sent: u64 = result_value(&result, "bytes").parse().unwrap();
        let json: u64 = result_value(&result, "bytes_before_gzip").parse().unwrap();
        assert!(sent * 4 < json, "{source}: {sent} bytes for {json} of JSON");
    }
    let outcome = collector.stop();
    assert_eq!(outcome.counter("records_zia_firewall"), 1500);
    assert_eq!(outcome.counter("records_zia_dns"), 1500);
    // 1500 events per run, 100 per request (the default --batch).
    assert_eq!(outcome.counter("http_requests"), 30);
    assert_eq!(outcome.counter("http_bad_requests"), 0);
    assert_eq!(outcome.counter("dead_letters"), 0);
    assert_eq!(outcome.records.len(), 3000);
    // Firewall records carry the client's real source port and the NAT address.
    let firewall: Vec<_> = outcome
        .records
        .iter()
        .filter(|r| r["kind"] == "zia.firewall")
        .collect();
    assert_eq!(firewall.len(), 1500);
    assert!(firewall.iter().all(|r| r["nat_ip"].is_string()));
    assert!(firewall
        .iter()
        .filter_map(|r| r["src_port"].as_u64())
        .all(|p| p >= 49_152));
    outcome.assert_counters_match_files();
}

#[test]
fn loadgen_fails_when_it_cannot_tell_whether_events_were_lost() {
    let Some(binary) = loadgen_binary() else {
        return;
    };
    let collector = Collector::start("loadgen-no-admin");
    // An admin URL where nothing listens: a port this test holds, bound and not listening.
    let (_held, down) = common::hold_port(0);
    let admin = format!("http://{down}");
    let target = collector.addr.to_string();
    let args = ["--target", &target, "--count", "200", "--admin", &admin];
    let (code, result, stderr) = loadgen(&binary, &args);
    assert_eq!(result_value(&result, "lost"), "n/a", "{result:?}");
    assert_eq!(code, 1, "{stderr}");
    assert!(
        stderr.contains("whether events were lost is unknown"),
        "{stderr}"
    );
    assert_eq!(collector.stop().records.len(), 200);
}

/// A target nobody listens on: exit status 1, and the report and result line of a run that sent
/// nothing (there was only an error line, and a script reading the result line found none).
#[test]
fn loadgen_reports_a_refused_connection_as_a_run_that_sent_nothing() {
    let Some(binary) = loadgen_binary() else {
        return;
    };
    let (_held, down) = common::hold_port(0);
    let target = down.to_string();
    let (code, result, stderr) = loadgen(&binary, &["--target", &target, "--count", "10"]);
    assert_eq!(code, 1, "{stderr}");
    assert_eq!(result_value(&result, "events"), "0", "{result:?}");
    assert_eq!(
        result_value(&result, "failed_connections"),
        "1",
        "{result:?}"
    );
    assert!(stderr.contains("Connection refused"), "{stderr}");
}

#[test]
fn loadgen_tells_records_written_from_dead_letters_and_duplicates() {
    let Some(binary) = loadgen_binary() else {
        return;
    };
    let collector = Collector::start_with(
        "loadgen-fates",
        Options {
            args: vec!["--admin".into(), "127.0.0.1:0".into()],
            ..Options::default()
        },
    );
    let admin = format!("http://{}", collector.listening["admin"]);
    let target = collector.addr.to_string();
    let dir = TempDir::new("loadgen-fates-files");
    let junk: String = (0..100).map(|i| format!("not a record {i}\n")).collect();
    let junk = dir.write("junk.log", &junk);
    let junk = junk.to_str().expect("a UTF-8 path");

    // Every line a dead letter: received, kept (with its reason), none written as a record.
    let (code, result, stderr) = loadgen(
        &binary,
        &[
            "--target", &target, "--source", junk, "--count", "100", "--admin", &admin,
        ],
    );
    assert_eq!(result_value(&result, "received"), "100", "{stderr}");
    assert_eq!(result_value(&result, "written"), "0");
    assert_eq!(result_value(&result, "dead_letters"), "100");
    assert_eq!(result_value(&result, "lost"), "0");
    assert!(
        stderr.contains("loadgen: 100 of the 100 events became dead letters"),
        "{stderr}"
    );
    // Not lost: the dead-letter file keeps them (--help says so).
    assert_eq!(code, 0, "{stderr}");

    // The same 1000 records twice: the second time every one is a duplicate, not written again.
    let args = [
        "--target", &target, "--source", "nss", "--count", "1000", "--admin", &admin,
    ];
    let (code, result, stderr) = loadgen(&binary, &args);
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(result_value(&result, "written"), "1000");
    assert_eq!(result_value(&result, "duplicates"), "0");
    assert_eq!(result_value(&result, "dead_letters"), "0");
    assert_eq!(stderr, "");
    let (code, result, stderr) = loadgen(&binary, &args);
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(result_value(&result, "received"), "1000");
    assert_eq!(result_value(&result, "lost"), "0");
    assert_eq!(result_value(&result, "written"), "0");
    assert_eq!(result_value(&result, "duplicates"), "1000");
    assert!(
        stderr.contains("loadgen: 1000 of the 1000 events were duplicates"),
        "{stderr}"
    );

    let outcome = collector.stop();
    assert_eq!(outcome.counter("dead_letters"), 100);
    assert_eq!(outcome.counter("duplicates"), 1000);
    assert_eq!(outcome.records.len(), 1000);
}
