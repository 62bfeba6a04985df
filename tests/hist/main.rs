//! `ztel hist`: interval logs written here with the hdrhistogram crate's own writer (V2 deflate,
//! as ztel and loadgen write them), read back by the real binary and by the library API, and
//! cross-checked against an independent reader (Python's `hdrh`) when it is installed.
//!
//! One test binary (`cargo test --test hist`): the tables here, the SVG plot in [`plot`], the
//! independent reader in [`python`].

#[path = "../common/mod.rs"]
mod common;
mod plot;
mod python;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Output;
use std::time::{Duration, UNIX_EPOCH};

use common::{ztel, TempDir};
use hdrhistogram::serialization::interval_log::{IntervalLogWriterBuilder, Tag};
use hdrhistogram::serialization::V2DeflateSerializer;
use hdrhistogram::Histogram;

/// Start of the test logs: 2024-05-01 10:00:00 UTC.
const BASE_SECS: u64 = 1_714_557_600;

/// One interval: tag (None = untagged), start offset and length in seconds, values as
/// (microseconds, count).
struct Interval {
    tag: Option<&'static str>,
    start: u64,
    length: u64,
    values: Vec<(u64, u64)>,
}

/// Writes an interval log with a BaseTime, as a collector does.
fn hlog_bytes(intervals: &[Interval]) -> Vec<u8> {
    let mut out = Vec::new();
    let mut serializer = V2DeflateSerializer::new();
    let base = UNIX_EPOCH + Duration::from_secs(BASE_SECS);
    let mut writer = IntervalLogWriterBuilder::new()
        .add_comment("ztel test log")
        .with_start_time(base)
        .with_base_time(base)
        .begin_log_with(&mut out, &mut serializer)
        .expect("begin log");
    for i in intervals {
        let mut h = Histogram::<u64>::new_with_bounds(1, 3_600_000_000, 3).expect("histogram");
        for &(value, count) in &i.values {
            h.record_n(value, count).expect("record");
        }
        writer
            .write_histogram(
                &h,
                Duration::from_secs(i.start),
                Duration::from_secs(i.length),
                i.tag.map(|t| Tag::new(t).expect("tag")),
            )
            .expect("write interval");
    }
    out
}

/// Tag a: 1..=10000 µs once each; tag b: 1000 × 500 µs and 10 × 50000 µs; over three 10 s
/// intervals, each tag's values spread over all three.
fn sample_intervals() -> Vec<Interval> {
    let mut intervals = Vec::new();
    for k in 0..3u64 {
        let a = (1..=10_000u64)
            .filter(|v| v % 3 == k)
            .map(|v| (v, 1))
            .collect();
        let mut b = vec![(500, [334, 333, 333][k as usize])];
        b.push((50_000, [4, 3, 3][k as usize]));
        intervals.push(Interval {
            tag: Some("a"),
            start: 10 * k,
            length: 10,
            values: a,
        });
        intervals.push(Interval {
            tag: Some("b"),
            start: 10 * k,
            length: 10,
            values: b,
        });
    }
    intervals
}

/// The same values, recorded directly, to know what each percentile must be.
fn expected(tag: &str) -> Histogram<u64> {
    let mut h = Histogram::<u64>::new(3).expect("histogram");
    for i in sample_intervals().iter().filter(|i| i.tag == Some(tag)) {
        for &(value, count) in &i.values {
            h.record_n(value, count).expect("record");
        }
    }
    h
}

/// Percentiles as (row name, thousandths of a percent).
const ROWS: [(&str, u64); 7] = [
    ("p50", 50_000),
    ("p75", 75_000),
    ("p90", 90_000),
    ("p95", 95_000),
    ("p99", 99_000),
    ("p99.9", 99_900),
    ("p99.99", 99_990),
];

/// The value at a percentile computed without floating point from the raw values: the
/// ceil(p × n)-th smallest value (HdrHistogram's rank), reported as the highest value of its
/// bucket, as every HdrHistogram does.
fn exact_percentile(intervals: &[Interval], tag: &str, milli_percent: u64) -> u64 {
    let mut raw: Vec<u64> = intervals
        .iter()
        .filter(|i| i.tag == Some(tag))
        .flat_map(|i| i.values.iter().flat_map(|&(v, n)| (0..n).map(move |_| v)))
        .collect();
    raw.sort_unstable();
    let n = raw.len() as u64;
    let rank = (milli_percent * n).div_ceil(100_000).max(1);
    let bucket = Histogram::<u64>::new(3).expect("histogram");
    bucket.highest_equivalent(raw[rank as usize - 1])
}

/// Tag c: 999 × 100 µs and 1 × 5000 µs, where p99.9 is exactly the 999th value (100 µs) and a
/// naive floating-point rank (0.999 × 1000 = 999.0000000000001) would round up to the 1000th.
fn exact_rank_intervals() -> Vec<Interval> {
    let mut intervals = sample_intervals();
    intervals.push(Interval {
        tag: Some("c"),
        start: 0,
        length: 30,
        values: vec![(100, 999), (5000, 1)],
    });
    intervals
}

fn sample_log(dir: &TempDir) -> PathBuf {
    let path = dir.path().join("latency.hlog");
    std::fs::write(&path, hlog_bytes(&sample_intervals())).expect("write hlog");
    path
}

fn hist(args: &[&str]) -> Output {
    ztel().arg("hist").args(args).output().expect("run ztel")
}

fn stdout(out: &Output) -> String {
    assert!(
        out.status.success(),
        "ztel hist failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout.clone()).expect("utf-8 stdout")
}

/// The rows of one tag's table: name → the number after it (µs, or the count).
fn table(stdout: &str, tag: &str) -> BTreeMap<String, f64> {
    let header = format!("tag: {tag}");
    let mut lines = stdout.lines().skip_while(|l| *l != header);
    assert_eq!(
        lines.next(),
        Some(header.as_str()),
        "no table for {tag}:\n{stdout}"
    );
    lines
        .take_while(|l| l.starts_with("  "))
        .filter_map(|l| {
            let mut words = l.split_whitespace();
            let name = words.next()?.to_owned();
            let value = words.next()?.parse().ok()?;
            Some((name, value))
        })
        .collect()
}

/// Asserts the command failed with exit 1 and exactly one `ztel: error:` line; returns it.
fn one_error(out: &Output) -> String {
    assert_eq!(out.status.code(), Some(1), "exit status: {:?}", out.status);
    assert!(
        out.stdout.is_empty(),
        "stdout: {}",
        String::from_utf8_lossy(&out.stdout)
    );
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    let lines: Vec<&str> = stderr.lines().collect();
    assert_eq!(lines.len(), 1, "stderr: {stderr}");
    assert!(lines[0].starts_with("ztel: error: "), "stderr: {stderr}");
    lines[0].to_owned()
}

fn within(value: f64, target: f64, relative: f64) -> bool {
    (value - target).abs() <= target * relative
}

#[test]
fn prints_percentiles_counts_and_span_per_tag() {
    let dir = TempDir::new("hist-table");
    let path = sample_log(&dir);
    let text = stdout(&hist(&[path.to_str().expect("utf-8 path")]));

    let a = table(&text, "a");
    assert_eq!(a["count"], 10_000.0, "{text}");
    assert_eq!(a["min"], 1.0);
    assert!(within(a["mean"], 5000.5, 0.001), "{text}");
    assert!(within(a["p50"], 5000.0, 0.001), "{text}");
    assert!(within(a["p99"], 9900.0, 0.001), "{text}");
    assert!(within(a["max"], 10_000.0, 0.001), "{text}");
    let b = table(&text, "b");
    assert_eq!(b["count"], 1010.0);
    assert_eq!(b["p50"], 500.0);
    assert_eq!(b["p99"], 500.0);
    assert!(within(b["p99.9"], 50_000.0, 0.001), "{text}");
    assert!(within(b["max"], 50_000.0, 0.001), "{text}");

    // Exactly the rank HdrHistogram defines, computed from the raw values.
    for (tag, rows) in [("a", &a), ("b", &b)] {
        for (name, milli) in ROWS {
            let want = exact_percentile(&sample_intervals(), tag, milli);
            assert_eq!(rows[name], want as f64, "{tag} {name}");
        }
        assert_eq!(rows["max"], expected(tag).max() as f64, "{tag} max");
    }
    // The ms column beside the µs one.
    let p99 = text
        .lines()
        .skip_while(|l| *l != "tag: a")
        .find(|l| l.trim_start().starts_with("p99 "))
        .expect("p99 row");
    let ms = format!("{:.3} ms", a["p99"] / 1000.0);
    assert!(p99.contains(" µs ") && p99.ends_with(&ms), "{p99}");
    // Three 10 s intervals from 10:00:00 UTC.
    assert!(
        text.contains(
            "30.000 s in 3 intervals, 2024-05-01 10:00:00 UTC to 2024-05-01 10:00:30 UTC"
        ),
        "{text}"
    );
}

#[test]
fn tag_selects_one_table() {
    let dir = TempDir::new("hist-tag");
    let path = sample_log(&dir);
    let text = stdout(&hist(&[path.to_str().expect("utf-8 path"), "--tag", "b"]));
    assert_eq!(table(&text, "b")["count"], 1010.0);
    assert!(!text.contains("tag: a"), "{text}");
}

#[test]
fn library_reads_the_same_histograms() {
    let dir = TempDir::new("hist-lib");
    let path = sample_log(&dir);
    let tags = ztel::cli::hist::read_hlog(&path).expect("read");
    assert_eq!(tags.keys().collect::<Vec<_>>(), ["a", "b"]);
    for (tag, h) in &tags {
        let want = expected(tag);
        assert_eq!(h.len(), want.len());
        assert_eq!(h.value_at_quantile(0.99), want.value_at_quantile(0.99));
        assert_eq!(h.max(), want.max());
    }
    let log = ztel::cli::hist::load_hlog(&path).expect("load");
    let span = log.tags["a"].span;
    assert_eq!(
        (span.start, span.end, span.intervals),
        (BASE_SECS as f64, BASE_SECS as f64 + 30.0, 3)
    );
    for (tag, h) in &tags {
        for (name, milli) in ROWS {
            let p = milli as f64 / 1000.0;
            let want = exact_percentile(&sample_intervals(), tag, milli);
            assert_eq!(
                ztel::cli::hist::value_at_percentile(h, p),
                want,
                "{tag} {name}"
            );
        }
    }
    let table = ztel::cli::hist::percentile_table("a", &tags["a"], None);
    assert!(
        table.starts_with("tag: a\n") && table.contains("p99.99"),
        "{table}"
    );
}

#[test]
fn exact_ranks_are_not_rounded_up() {
    let dir = TempDir::new("hist-rank");
    let path = dir.path().join("ranks.hlog");
    std::fs::write(&path, hlog_bytes(&exact_rank_intervals())).expect("write hlog");
    let text = stdout(&hist(&[path.to_str().expect("utf-8 path"), "--tag", "c"]));
    let c = table(&text, "c");
    assert_eq!((c["count"], c["p99.9"]), (1000.0, 100.0), "{text}");
    let top = exact_percentile(&exact_rank_intervals(), "c", 99_990);
    assert_eq!((c["p99.99"], c["max"]), (top as f64, top as f64), "{text}");
}

#[test]
fn untagged_intervals_and_log_relative_times() {
    let dir = TempDir::new("hist-untagged");
    // No BaseTime or StartTime, timestamps from 0: loadgen-style offsets.
    let mut out = Vec::new();
    let mut serializer = V2DeflateSerializer::new();
    {
        let mut writer = IntervalLogWriterBuilder::new()
            .begin_log_with(&mut out, &mut serializer)
            .expect("begin log");
        let mut h = Histogram::<u64>::new(3).expect("histogram");
        h.record_n(250, 4).expect("record");
        for start in 0..2 {
            writer
                .write_histogram(&h, Duration::from_secs(start), Duration::from_secs(1), None)
                .expect("write");
        }
    }
    let path = dir.path().join("offsets.hlog");
    std::fs::write(&path, out).expect("write");
    let text = stdout(&hist(&[path.to_str().expect("utf-8 path")]));
    let rows = table(&text, ztel::cli::hist::UNTAGGED);
    assert_eq!((rows["count"], rows["p50"]), (8.0, 250.0), "{text}");
    assert!(
        text.contains("2.000 s in 2 intervals, 0.000 s to 2.000 s (log time)"),
        "{text}"
    );
}

#[test]
fn unfinished_last_line_is_skipped() {
    let dir = TempDir::new("hist-partial");
    let mut bytes = hlog_bytes(&sample_intervals());
    let whole = bytes.len();
    // A log being written: half of one more line.
    let extra = hlog_bytes(&sample_intervals()[..1]);
    let last = String::from_utf8_lossy(&extra)
        .lines()
        .last()
        .expect("line")
        .to_owned();
    bytes.extend_from_slice(&last.as_bytes()[..last.len() / 2]);
    let path = dir.path().join("live.hlog");
    std::fs::write(&path, &bytes).expect("write");
    let text = stdout(&hist(&[path.to_str().expect("utf-8 path")]));
    assert_eq!(table(&text, "a")["count"], 10_000.0, "{text}");
    assert!(text.contains("skipped the unfinished last line"), "{text}");

    // Complete but without its newline: kept.
    bytes.truncate(whole);
    bytes.extend_from_slice(last.as_bytes());
    std::fs::write(&path, &bytes).expect("write");
    let text = stdout(&hist(&[path.to_str().expect("utf-8 path")]));
    assert_eq!(table(&text, "a")["count"], 10_000.0 + 3333.0, "{text}");
    assert!(!text.contains("skipped"), "{text}");
}

#[test]
fn bad_input_is_one_error_line() {
    let dir = TempDir::new("hist-errors");
    let missing = dir.path().join("missing.hlog");
    let line = one_error(&hist(&[missing.to_str().expect("utf-8 path")]));
    assert!(line.contains("missing.hlog"), "{line}");

    let garbage = dir.path().join("garbage.hlog");
    std::fs::write(&garbage, b"\x00\x01binary\xff\xfe junk\nmore junk\n").expect("write");
    let line = one_error(&hist(&[garbage.to_str().expect("utf-8 path")]));
    assert!(
        line.contains("garbage.hlog") && line.contains("line 1"),
        "{line}"
    );

    let no_newline = dir.path().join("word.hlog");
    std::fs::write(&no_newline, b"hello").expect("write");
    one_error(&hist(&[no_newline.to_str().expect("utf-8 path")]));

    let empty = dir.path().join("empty.hlog");
    std::fs::write(&empty, b"#only a comment\n").expect("write");
    let line = one_error(&hist(&[empty.to_str().expect("utf-8 path")]));
    assert!(line.contains("no histogram intervals"), "{line}");

    // A well-formed line whose payload is not a histogram, after a good one.
    let mut bytes = hlog_bytes(&sample_intervals()[..1]);
    bytes.extend_from_slice(b"Tag=a,10.000,10.000,1.000,bm90IGEgaGlzdG9ncmFt\n");
    let corrupt = dir.path().join("corrupt.hlog");
    std::fs::write(&corrupt, bytes).expect("write");
    let line = one_error(&hist(&[corrupt.to_str().expect("utf-8 path")]));
    assert!(
        line.contains("corrupt.hlog: line 5: bad histogram"),
        "{line}"
    );

    let bad_base64 = dir.path().join("b64.hlog");
    std::fs::write(&bad_base64, b"Tag=a,0.000,10.000,1.000,@@@@\n").expect("write");
    let line = one_error(&hist(&[bad_base64.to_str().expect("utf-8 path")]));
    assert!(line.contains("line 1") && line.contains("base64"), "{line}");

    let good = sample_log(&dir);
    let line = one_error(&hist(&[
        good.to_str().expect("utf-8 path"),
        "--tag",
        "nope",
    ]));
    assert!(
        line.contains("\"nope\"") && line.contains("tags: a, b"),
        "{line}"
    );
}
