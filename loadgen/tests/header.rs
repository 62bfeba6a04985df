//! `--header none|3164|5424` seen in what the real loadgen binary sends, for every synthetic
//! source and NSS format, with 10,000 devices and churn: ztel's own header reader and decoder
//! (wire) take every frame for a record of the right kind, and read the header's time and host.
//! Without --header, each source's bytes are the ones its generator writes, as before --header
//! existed. (The same lines through a real `ztel serve` are in `header_serve.rs`.)

use std::process::Command;

use wire::decode::Decoder;
use wire::event::Kind;
use wire::header::{split, Header};
use wire::synth::{
    ActivityGenerator, Cardinality, Dialect, DnsGenerator, FirewallGenerator, WebGenerator,
};

mod common;

const RECORDS: usize = 400;
const DEVICES: u64 = 10_000;
const CHURN: u64 = 4;
/// loadgen's feed rate at --rate max: `records_per_second` of the generators.
const FEED_RATE_AT_MAX: u64 = 100_000;

/// A synthetic source as loadgen's flags name it, and the kind of record ztel makes of it.
struct Case {
    flags: &'static [&'static str],
    kind: Kind,
    host: &'static str,
}

const CASES: &[Case] = &[
    Case {
        flags: &["--source", "nss", "--dialect", "ztel"],
        kind: Kind::ZiaWeb,
        host: "zscaler-nss",
    },
    Case {
        flags: &["--source", "nss", "--dialect", "elastic"],
        kind: Kind::ZiaWeb,
        host: "zscaler-nss",
    },
    Case {
        flags: &["--source", "nss", "--dialect", "sekoia"],
        kind: Kind::ZiaWeb,
        host: "zscaler-nss",
    },
    Case {
        flags: &["--source", "nss", "--format", "leef"],
        kind: Kind::ZiaWeb,
        host: "zscaler-nss",
    },
    Case {
        flags: &["--source", "nss", "--format", "cef"],
        kind: Kind::ZiaWeb,
        host: "zscaler-nss",
    },
    Case {
        flags: &["--source", "nss", "--format", "kv"],
        kind: Kind::ZiaWeb,
        host: "zscaler-nss",
    },
    Case {
        flags: &["--source", "nss", "--format", "csv"],
        kind: Kind::ZiaWeb,
        host: "zscaler-nss",
    },
    Case {
        flags: &["--source", "fw"],
        kind: Kind::ZiaFirewall,
        host: "zscaler-nss",
    },
    Case {
        flags: &["--source", "dns"],
        kind: Kind::ZiaDns,
        host: "zscaler-nss",
    },
    Case {
        flags: &["--source", "lss"],
        kind: Kind::ZpaUserActivity,
        host: "zpa-lss",
    },
];

/// The lines loadgen sent over one TCP connection with `flags`.
fn sent(flags: &[&str]) -> Vec<String> {
    let (count, devices, churn) = (RECORDS.to_string(), DEVICES.to_string(), CHURN.to_string());
    let mut args = vec!["--count", &count, "--devices", &devices, "--churn", &churn];
    args.push("--quiet");
    args.extend_from_slice(flags);
    let text = String::from_utf8(common::sent_over_one_connection(&args)).expect("UTF-8");
    let lines: Vec<String> = text.lines().map(str::to_string).collect();
    assert_eq!(lines.len(), RECORDS, "{flags:?}");
    lines
}

/// What the source's generator writes, with loadgen's settings for these tests.
fn generated(flags: &[&str]) -> Vec<String> {
    let cardinality = Cardinality {
        devices: DEVICES,
        ..Cardinality::default()
    };
    let flag = |name: &str| flags.windows(2).find(|w| w[0] == name).map_or("", |w| w[1]);
    let dialect = match (flag("--dialect"), flag("--format")) {
        ("elastic", _) => Dialect::Elastic,
        ("sekoia", _) => Dialect::Sekoia,
        (_, "leef") => Dialect::Leef,
        (_, "cef") => Dialect::Cef,
        (_, "kv") => Dialect::Kv,
        (_, "csv") => Dialect::Csv,
        _ => Dialect::Ztel,
    };
    let (seed, rate) = (1, FEED_RATE_AT_MAX);
    let mut out = String::new();
    match flag("--source") {
        "fw" => {
            let mut g = FirewallGenerator::new(seed, cardinality)
                .at_rate(rate)
                .with_churn(CHURN);
            (0..RECORDS).for_each(|_| g.write(&mut out));
        }
        "dns" => {
            let mut g = DnsGenerator::new(seed, cardinality)
                .at_rate(rate)
                .with_churn(CHURN);
            (0..RECORDS).for_each(|_| g.write(&mut out));
        }
        "lss" => {
            let mut g = ActivityGenerator::new(seed, cardinality)
                .at_rate(rate)
                .with_churn(CHURN);
            (0..RECORDS).for_each(|_| g.write(&mut out));
        }
        _ => {
            let mut g = WebGenerator::new(seed, dialect, cardinality)
                .at_rate(rate)
                .with_churn(CHURN);
            (0..RECORDS).for_each(|_| g.write(&mut out));
        }
    }
    out.lines().map(str::to_string).collect()
}

/// ztel's decoder makes a record of `kind` of every line: none would be a dead letter.
fn assert_every_line_is_a_record(lines: &[String], kind: Kind, what: &str) {
    let mut decoder = Decoder::new(jiff::tz::TimeZone::UTC);
    let received = "2025-11-22T10:00:00Z".parse().unwrap();
    let mut out = Vec::new();
    for line in lines {
        match decoder.decode(line.as_bytes(), received, &mut out) {
            Ok(decoded) => assert_eq!(decoded.facts.kind, kind, "{what}: {line}"),
            Err(reason) => panic!("{what}: dead letter ({reason:?}): {line}"),
        }
    }
}

#[test]
fn without_header_each_source_sends_what_its_generator_writes() {
    for case in CASES {
        let lines = sent(case.flags);
        assert_eq!(lines, generated(case.flags), "{:?}", case.flags);
        assert_every_line_is_a_record(&lines, case.kind, &format!("{:?}", case.flags));
    }
}

#[test]
fn header_none_sends_bare_records() {
    for case in CASES {
        let what = format!("{:?} --header none", case.flags);
        let lines = sent(&[case.flags, &["--header", "none"]].concat());
        for (line, own) in lines.iter().zip(generated(case.flags)) {
            assert_eq!(
                split(line.as_bytes()),
                (Header::default(), 0),
                "{what}: {line}"
            );
            // The record is the generator's, without the header its template has, if any.
            assert!(own.ends_with(line.as_str()), "{what}: {line}");
            assert!(
                matches!(line.as_bytes()[0], b'{' | b'"' | b'L' | b'C' | b'2'),
                "{what}: {line}"
            );
        }
        assert_every_line_is_a_record(&lines, case.kind, &what);
    }
}

#[test]
fn rfc3164_and_5424_headers_are_read_by_ztel_and_the_record_after_them_too() {
    for case in CASES {
        let bare = sent(&[case.flags, &["--header", "none"]].concat());
        for header in ["3164", "5424"] {
            let what = format!("{:?} --header {header}", case.flags);
            let lines = sent(&[case.flags, &["--header", header]].concat());
            for (line, record) in lines.iter().zip(&bare) {
                assert!(line.starts_with("<134>"), "{what}: {line}");
                assert!(line.ends_with(record.as_str()), "{what}: {line}");
                let (h, _) = split(line.as_bytes());
                assert_eq!(h.host(), Some(case.host), "{what}: {line}");
                let stamp = h.timestamp().unwrap_or_else(|| panic!("{what}: {line}"));
                if header == "3164" {
                    assert!(stamp.starts_with("Nov 22 08:26:4"), "{what}: {line}");
                } else {
                    assert!(stamp.starts_with("2025-11-22T08:26:4"), "{what}: {line}");
                }
            }
            assert_every_line_is_a_record(&lines, case.kind, &what);
        }
    }
}

#[test]
fn help_explains_the_header_and_what_it_replaces() {
    let out = Command::new(env!("CARGO_BIN_EXE_loadgen"))
        .arg("--help")
        .output()
        .expect("loadgen runs");
    assert!(out.status.success());
    let stdout = String::from_utf8_lossy(&out.stdout);
    let help = stdout.split_whitespace().collect::<Vec<_>>().join(" ");
    for text in [
        "--header <none|3164|5424>",
        "[possible values: none, 3164, 5424]",
        "`<134>Nov 22 10:15:01 zscaler-nss nss: RECORD`",
        "`<134>1 2025-11-22T10:15:01Z zscaler-nss nss - - - RECORD`",
        "which --header replaces (none removes it)",
        "With --proto http only in lines (--http-array false",
    ] {
        assert!(help.contains(text), "no {text:?} in --help:\n{stdout}");
    }
}

#[test]
fn a_header_for_http_or_a_file_is_a_usage_error() {
    for args in [
        &["--proto", "http", "--http-key", "k", "--header", "3164"][..],
        &["--source", "Cargo.toml", "--header", "none"],
    ] {
        let out = Command::new(env!("CARGO_BIN_EXE_loadgen"))
            .args(["--target", "127.0.0.1:9", "--count", "1"])
            .args(args)
            .output()
            .expect("loadgen runs");
        assert_eq!(out.status.code(), Some(2), "{args:?}: {out:?}");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(stderr.contains("--header"), "{args:?}: {stderr}");
    }
}
