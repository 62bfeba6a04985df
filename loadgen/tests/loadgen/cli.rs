//! The command line: --help, configuration errors (one line, status 2, nothing sent) and failures
//! while sending (status 1).

use std::io::Read;
use std::net::TcpListener;
use std::thread;

use crate::support::{loadgen, loadgen_with, refusing, Run};

/// A configuration error: status 2 and a single line on stderr, from loadgen.
fn assert_configuration_error(run: &Run, args: &str) {
    assert_eq!(run.code, 2, "{args}: {}", run.stderr);
    assert_eq!(run.stderr.lines().count(), 1, "{args}: {}", run.stderr);
    assert!(run.stderr.starts_with("loadgen: "), "{}", run.stderr);
}

#[test]
fn formats_and_gzip_that_do_not_apply_are_refused_with_status_2() {
    let cases = [
        (
            "--format leef --dialect elastic",
            "--dialect picks the template of --format json",
        ),
        (
            "--format csv --proto http --http-key k --http-array true",
            "goes over --proto http as lines",
        ),
        ("--format cef --source fw", "--source nss only"),
        ("--source dns --dialect sekoia", "--source nss only"),
        ("--gzip --proto udp", "--gzip applies to --proto http only"),
    ];
    for (extra, why) in cases {
        let run = loadgen(&format!("--target 127.0.0.1:1 --count 1 {extra}"));
        assert_configuration_error(&run, extra);
        assert!(run.stderr.contains(why), "{extra}: {}", run.stderr);
        assert_eq!(run.stdout, "");
    }
}

#[test]
fn help_explains_sources_formats_and_gzip() {
    let run = loadgen("--help");
    assert_eq!(run.code, 0);
    let help = run.stdout.split_whitespace().collect::<Vec<_>>().join(" ");
    for text in [
        "--source <nss|fw|dns|lss|FILE>",
        "\"fw\" (synthetic ZIA firewall records",
        "\"dns\" (synthetic ZIA DNS records",
        "--format <FORMAT>",
        "[possible values: json, leef, cef, kv, csv]",
        "Over --proto http the others go as lines, one record a line",
        "--gzip",
        "Content-Encoding: gzip",
        "the bytes before compression",
    ] {
        assert!(
            help.contains(text),
            "no {text:?} in --help:\n{}",
            run.stdout
        );
    }
}

#[test]
fn http_without_a_key_is_refused_with_status_2() {
    let run = loadgen("--target 127.0.0.1:1 --proto http --count 1");
    assert_eq!(run.code, 2);
    assert_eq!(
        run.stderr,
        "loadgen: --proto http needs --http-key KEY (one of the collector's input.http.keys)\n"
    );
    assert_eq!(run.stdout, "");
    let run = loadgen("--target 127.0.0.1:1 --proto http --http-key k --framing octet --count 1");
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert_eq!(run.stderr.lines().count(), 1, "{}", run.stderr);
}

#[test]
fn configuration_errors_are_one_line_and_status_2() {
    let missing = std::env::temp_dir().join("loadgen-test-no-such-file.log");
    let missing = missing.to_str().unwrap();
    // Flags, then values that may hold a space (the path).
    let cases: [(&str, &[&str]); 5] = [
        ("--target 127.0.0.1:1 --count 1", &["--source", missing]),
        (
            "--target 127.0.0.1:1 --proto tls --count 1",
            &["--ca", missing],
        ),
        ("--count 1", &["--target", "no port here"]),
        (
            "--target 127.0.0.1:1 --proto udp --framing octet --count 1",
            &[],
        ),
        (
            "--target 127.0.0.1:1 --rate max --hist x.hlog --count 1",
            &[],
        ),
    ];
    for (flags, more) in cases {
        let run = loadgen_with(flags, more);
        assert_configuration_error(&run, &format!("{flags} {more:?}"));
    }
    let run = loadgen_with("--target 127.0.0.1:1 --count 1", &["--source", missing]);
    run.assert_stderr_has("cannot read");
    // clap's own usage errors also exit 2.
    assert_eq!(loadgen("--target 127.0.0.1:1").code, 2);
    assert_eq!(loadgen("--help").code, 0);
}

#[test]
fn a_refused_connection_is_status_1() {
    let (_refusing, addr) = refusing();
    let run = loadgen(&format!("--target {addr} --count 10 --quiet"));
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert_eq!(run.stderr.lines().count(), 1, "{}", run.stderr);
    run.assert_stderr_has("connection 1");
}

#[test]
fn a_connection_lost_mid_run_is_status_1() {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap().to_string();
    let receiver = thread::spawn(move || {
        let (mut sock, _) = listener.accept().unwrap();
        let mut buf = vec![0u8; 64 << 10];
        sock.read_exact(&mut buf).unwrap();
        // Closing with unread bytes resets the connection.
    });
    let run = loadgen(&format!("--target {addr} --count 50000 --quiet"));
    receiver.join().unwrap();
    assert_eq!(run.code, 1, "{}", run.stderr);
    run.assert_stderr_has("connection 1: send");
    assert_eq!(run.result("failed_connections"), "1");
}

#[test]
fn impossible_stops_and_an_unwritable_hist_are_refused_before_sending() {
    let dir = std::env::temp_dir().join(format!("loadgen-test-{}-no-such-dir", std::process::id()));
    let hlog = dir.join("x.hlog");
    let hlog = hlog.to_str().unwrap();
    // Each refused at the start (status 2, one line), not found at the end or run for nothing.
    let cases: [(&str, &[&str], &str); 4] = [
        (
            "--target 127.0.0.1:1 --rate 1000 --count 10",
            &["--hist", hlog],
            "no such directory",
        ),
        ("--target 127.0.0.1:1 --count 0", &[], "--count 0"),
        (
            "--target 127.0.0.1:1 --duration 1e9",
            &[],
            "more than 0 and less than 1e9 seconds",
        ),
        (
            "--target 127.0.0.1:1 --duration 0",
            &[],
            "more than 0 and less than 1e9 seconds",
        ),
    ];
    for (flags, more, why) in cases {
        let run = loadgen_with(flags, more);
        assert_configuration_error(&run, &format!("{flags} {more:?}"));
        assert!(run.stderr.contains(why), "{flags}: {}", run.stderr);
        assert_eq!(run.stdout, "", "{flags}");
    }
    assert!(!dir.exists());
    // The longest duration the message allows is taken (and the run fails on the target).
    let (_refusing, addr) = refusing();
    let file = std::env::temp_dir().join(format!("loadgen-test-{}-one.log", std::process::id()));
    std::fs::write(&file, "{}\n").unwrap();
    let run = loadgen_with(
        &format!("--target {addr} --duration 999999999 --quiet"),
        &["--source", file.to_str().unwrap()],
    );
    std::fs::remove_file(&file).unwrap();
    assert_eq!(run.code, 1, "{}", run.stderr);
    run.assert_stderr_has("connection 1");
}
