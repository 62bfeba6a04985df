//! What `ztel serve` writes to stderr: with `--log-format json` one JSON object per line, the
//! listening and drained lines included; under journald (`JOURNAL_STREAM` naming stderr) plain
//! lines without a timestamp of their own, since journald stamps each line.

mod common;

use std::io::Write;
use std::net::{SocketAddr, TcpStream};

use common::{close_and_wait, zia_line, Collector, Options, Supervised, TempDir, DEADLINE};
use serde_json::Value;

fn json(line: &str) -> Value {
    let v: Value =
        serde_json::from_str(line).unwrap_or_else(|e| panic!("not JSON ({e}): {line:?}"));
    assert!(v.is_object(), "not an object: {line:?}");
    v
}

#[test]
fn json_log_format_writes_every_line_as_json() {
    let dir = TempDir::new("log-json");
    let mut ztel = Supervised::start(&dir, &["--log-format", "json"], &[], false);
    let line = ztel.wait_for_line(|l| {
        serde_json::from_str::<Value>(l).is_ok_and(|v| {
            v["message"]
                .as_str()
                .unwrap_or("")
                .starts_with("listening tcp ")
        })
    });
    let listening = json(&line);
    assert_eq!(listening["level"], "INFO");
    assert_eq!(listening["input"], "tcp");
    assert_eq!(listening["shards"], 1);
    let addr: SocketAddr = listening["address"]
        .as_str()
        .and_then(|a| a.parse().ok())
        .unwrap_or_else(|| panic!("an address field: {line}"));
    assert_eq!(
        listening["message"],
        format!("listening tcp {addr} (1 shard)"),
        "the text mode's message"
    );

    let mut stream = TcpStream::connect_timeout(&addr, DEADLINE).expect("connect");
    stream
        .write_all(format!("{}\n", zia_line(1, "host-1")).as_bytes())
        .expect("send");
    close_and_wait(stream);

    ztel.signal(libc::SIGTERM);
    let (status, lines) = ztel.wait();
    assert_eq!(status.code(), Some(0), "stderr:\n{}", lines.join("\n"));
    let all: Vec<Value> = lines.iter().map(|l| json(l)).collect();
    for v in &all {
        assert!(v["timestamp"].is_string(), "a timestamp: {v}");
        assert!(v["level"].is_string(), "a level: {v}");
    }
    let drained = all
        .iter()
        .filter_map(|v| v["message"].as_str()?.strip_prefix("drained: "))
        .collect::<Vec<_>>();
    assert_eq!(drained.len(), 1, "one drained message: {lines:?}");
    assert!(
        drained[0].split(' ').any(|t| t == "records_zia_web=1"),
        "the record is counted: {}",
        drained[0]
    );
}

#[test]
fn under_journald_lines_carry_no_timestamp_of_their_own() {
    let serving = |l: &str| l.contains("serving; SIGTERM");
    for journal in [true, false] {
        let dir = TempDir::new("log-journal");
        let mut ztel = Supervised::start(&dir, &[], &[], journal);
        let line = ztel.wait_for_line(serving);
        assert!(!line.contains('\x1b'), "no colour codes: {line:?}");
        if journal {
            assert!(
                line.trim_start().starts_with("INFO "),
                "level first: {line:?}"
            );
        } else {
            // Not the journal's stream: a pipe or a file keeps its timestamps.
            assert!(
                line.starts_with(|c: char| c.is_ascii_digit()),
                "a timestamp first: {line:?}"
            );
        }
        // The lines scripts read are the same either way.
        assert!(
            ztel.lines
                .iter()
                .any(|l| l.starts_with("ztel: listening tcp 127.0.0.1:")),
            "{:?}",
            ztel.lines
        );
        ztel.signal(libc::SIGTERM);
        let (status, lines) = ztel.wait();
        assert_eq!(status.code(), Some(0), "stderr:\n{}", lines.join("\n"));
    }
}

/// The TLS input's default address without a certificate is the input off (DESIGN §2.2): said
/// once the others listen, or an LSS receiver pointed at 6514 finds it closed with no word why.
#[test]
fn a_tls_input_without_a_certificate_is_said_to_be_off() {
    let options = Options {
        binary: true,
        ..Options::default()
    };
    let mut collector = Collector::start_with("tls-off", options);
    let line = collector.wait_for_stderr("input.tls: not listening on ");
    assert!(line.contains("no input.tls.cert and key"), "{line}");
    collector.stop();
}
