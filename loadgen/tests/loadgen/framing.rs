//! Records on the wire: newline-ended over several TCP connections, octet-counted (RFC 6587),
//! and packed whole into UDP datagrams.

use wire::event::Kind;

use crate::support::{all_lines, assert_records, lines, octet_frames, over_tcp, over_udp};

#[test]
fn tcp_lf_delivers_every_nss_record_over_several_connections() {
    let (run, received) = over_tcp(
        3,
        "--proto tcp --source nss --connections 3 --rate max --count 1000 --devices 50 --quiet",
    );
    assert_eq!(run.stderr, "", "--quiet prints nothing on stderr");
    let mut per_connection: Vec<usize> = received.iter().map(|b| lines(b).len()).collect();
    per_connection.sort_unstable();
    assert_eq!(
        per_connection,
        [333, 333, 334],
        "round-robin over 3 connections"
    );
    assert_records(&all_lines(&received), Kind::ZiaWeb);
    let bytes: usize = received.iter().map(Vec::len).sum();
    assert_eq!(run.result("events"), "1000");
    assert_eq!(run.result("bytes"), bytes.to_string());
    assert_eq!(run.result("lateness_p99_us"), "n/a");
    // The line says what was run (issue 15).
    assert_eq!(run.result("proto"), "tcp");
    assert_eq!(run.result("source"), "nss");
    assert_eq!(run.result("rate"), "max");
    assert_eq!(run.result("connections"), "3");
    assert_eq!(run.result("churn"), "0");
    assert!(run.result("seed").parse::<u64>().is_ok());
    let started: u64 = run.result("started_unix").parse().unwrap();
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    assert!(
        now.abs_diff(started) < 600,
        "started_unix={started}, now {now}"
    );
    run.assert_stdout_has("  events sent           1000\n");
}

#[test]
fn tcp_octet_framing_carries_lss_records() {
    let (_, received) = over_tcp(1, "--source lss --framing octet --count 300");
    let frames = octet_frames(&received[0]);
    assert_eq!(frames.len(), 300);
    assert!(frames.iter().all(|f| !f.ends_with(b"\n")));
    assert_records(&frames, Kind::ZpaUserActivity);
}

#[test]
fn udp_packs_whole_records_into_datagrams() {
    let (_, datagrams) = over_udp(60, "--count 60 --quiet");
    assert!(datagrams
        .iter()
        .all(|d| d.len() <= 8192 && d.ends_with(b"\n")));
    assert!(
        datagrams.len() < 30,
        "several records per datagram: {} datagrams",
        datagrams.len()
    );
    let all = all_lines(&datagrams);
    assert_eq!(all.len(), 60);
    assert_records(&all, Kind::ZiaWeb);
}
