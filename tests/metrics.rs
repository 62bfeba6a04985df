//! The admin endpoint's numbers (DESIGN §2.3, §5): `/metrics` in the Prometheus text format
//! (checked by `promtool`), counters that match a known load, `/healthz` during a drain, and the
//! latency interval log read back by an independent implementation (HdrHistogram_py).

mod common;

use std::io::Write;
use std::net::TcpStream;
use std::process::Command;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use common::{http_get, zia_line, Collector, Options};

/// A sample's value: `name{labels} value`.
fn sample(metrics: &str, series: &str) -> f64 {
    common::sample(metrics, series).unwrap_or_else(|| panic!("no series {series} in:\n{metrics}"))
}

/// Interval lines in an HdrHistogram log so far.
fn intervals(hlog: &std::path::Path) -> usize {
    std::fs::read_to_string(hlog)
        .map(|t| t.lines().filter(|l| l.starts_with("Tag=")).count())
        .unwrap_or(0)
}

fn admin_options(hold: bool) -> Options {
    Options {
        shards: 2,
        args: vec!["--admin".into(), "127.0.0.1:0".into()],
        config: Some("[histograms]\ninterval_secs = 1\n".into()),
        records_to_stdout: hold,
        hold_stdout: hold,
        ..Options::default()
    }
}

#[test]
fn metrics_count_a_known_load_and_pass_promtool() {
    let collector = Collector::start_with("metrics", admin_options(false));
    let admin = collector.listening["admin"];
    // Before any traffic, every shard's counters are there, at zero.
    let (_, fresh) = http_get(admin, "/metrics");
    for shard in ["0", "1"] {
        let series = format!("ztel_frames_total{{shard=\"{shard}\",input=\"tcp\"}} 0\n");
        assert!(fresh.contains(&series), "{series} in:\n{fresh}");
    }
    let mut lines = String::new();
    for i in 1..=300 {
        lines.push_str(&zia_line(i, &format!("pc-{}", i % 7)));
        lines.push('\n');
    }
    lines.push_str("not json at all\n");
    collector.send(lines.as_bytes());
    // The aggregator publishes a few times a second.
    let metrics = common::wait_for_metric(admin, "ztel_frames_total", |v| v == 301.0);
    assert_eq!(
        sample(&metrics, "ztel_records_total{kind=\"zia.web\"}"),
        300.0
    );
    assert_eq!(sample(&metrics, "ztel_frames_total"), 301.0);
    assert_eq!(
        sample(
            &metrics,
            "ztel_dead_letters_by_reason_total{reason=\"unknown_format\"}"
        ),
        1.0
    );
    assert_eq!(sample(&metrics, "ztel_connections_opened_total"), 1.0);
    assert_eq!(sample(&metrics, "ztel_devices"), 7.0);
    // Seven devices in a registry that has not grown yet: some bytes, and not megabytes.
    let registry = sample(&metrics, "ztel_registry_bytes");
    assert!(registry > 7.0 * 48.0 && registry < 1e6, "{registry}");
    assert!(metrics.contains("# TYPE ztel_devices_saved_total counter"));
    let per_shard = sample(&metrics, "ztel_frames_total{shard=\"0\"}")
        + sample(&metrics, "ztel_frames_total{shard=\"1\"}");
    assert_eq!(per_shard, 301.0, "shards add up to the total");
    // Prometheus's conventions: queries sum, so nothing is pre-summed; inputs are a label.
    assert!(!metrics.contains("shard=\"all\""), "{metrics}");
    assert_eq!(sample(&metrics, "ztel_frames_total{input=\"tcp\"}"), 301.0);
    assert!(
        common::sample(&metrics, "ztel_frames_total{input=\"tls\"}").is_none(),
        "TLS is off"
    );
    assert_eq!(sample(&metrics, "ztel_build_info"), 1.0);
    assert!(sample(&metrics, "process_resident_memory_bytes") > 1e6);
    assert!(sample(&metrics, "process_cpu_seconds_total") >= 0.0);
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs_f64();
    let last = sample(
        &metrics,
        "ztel_last_record_timestamp_seconds{input=\"tcp\"}",
    );
    assert!((now - 60.0..=now + 1.0).contains(&last), "{last} vs {now}");
    assert!(common::sample(
        &metrics,
        "ztel_last_record_timestamp_seconds{input=\"udp\"}"
    )
    .is_none());
    assert_eq!(sample(&metrics, "ztel_output_write_errors_total"), 0.0);
    assert_eq!(
        sample(&metrics, "ztel_output_rotations_total{output=\"records\"}"),
        0.0
    );
    assert_eq!(
        sample(&metrics, "ztel_latency_read_to_sink_seconds_count"),
        300.0
    );
    assert!(
        sample(
            &metrics,
            "ztel_latency_read_to_sink_seconds{quantile=\"0.99\"}"
        ) > 0.0
    );

    let (status, hist) = http_get(admin, "/histograms");
    assert_eq!(status, 200);
    let hist: serde_json::Value = serde_json::from_str(&hist).unwrap();
    let read = hist["histograms"]
        .as_array()
        .unwrap()
        .iter()
        .find(|h| h["name"] == "read_to_sink")
        .unwrap();
    assert_eq!(read["since_start"]["count"], 300);
    for p in ["p50", "p90", "p99", "p99_9", "p99_99", "max"] {
        assert!(read["since_start"][p].as_u64().unwrap() > 0, "{p}");
    }
    let (status, devices) = http_get(admin, "/devices?limit=5");
    assert_eq!(status, 200);
    let devices: serde_json::Value = serde_json::from_str(&devices).unwrap();
    assert_eq!(devices["total"], 7);
    assert_eq!(devices["devices"].as_array().unwrap().len(), 5);
    let (_, count) = http_get(admin, "/devices?limit=0");
    let count: serde_json::Value = serde_json::from_str(&count).unwrap();
    assert_eq!((&count["total"], &count["limit"]), (&7.into(), &0.into()));
    assert_eq!(
        count["devices"].as_array().map(Vec::len),
        Some(0),
        "the count alone"
    );
    let (status, one) = http_get(admin, "/devices/PC-3");
    assert_eq!(status, 200, "hostnames match whatever their case");
    assert!(one.contains("\"hostname\":\"pc-3\""), "{one}");
    assert_eq!(http_get(admin, "/devices/nope").0, 404);

    // A replay dropped whole as duplicates writes nothing: the last record's time stays.
    let seconds = |page: &str| sample(page, "ztel_last_record_timestamp_seconds{input=\"tcp\"}");
    let later = common::wait_for(common::DEADLINE, || {
        let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH);
        now.ok().filter(|d| d.as_secs_f64() > last + 0.05)
    });
    assert!(later.is_some(), "the clock stood still");
    collector.send(format!("{}\n", zia_line(1, "pc-1")).as_bytes());
    let replayed =
        common::wait_for_metric(admin, "ztel_duplicates_total{input=\"tcp\"}", |n| n == 1.0);
    assert_eq!(seconds(&replayed), last);

    common::assert_promtool_accepts(&metrics);
    collector.stop();
}

#[test]
fn healthz_turns_503_while_draining() {
    // Records go to a stdout nobody reads yet, so the drain cannot finish until we read it.
    let mut collector = Collector::start_with("healthz", admin_options(true));
    let admin = collector.listening["admin"];
    assert_eq!(http_get(admin, "/healthz"), (200, "ok\n".into()));
    let big = "x".repeat(1500);
    let mut lines = String::new();
    for i in 1..=4000 {
        lines.push_str(
            &zia_line(i, "pc").replace("\"login\"", &format!("\"pad\":\"{big}\",\"login\"")),
        );
        lines.push('\n');
    }
    let addr = collector.addr;
    let written = Arc::new(AtomicUsize::new(0));
    let progress = written.clone();
    let sender = std::thread::spawn(move || {
        let mut s = TcpStream::connect(addr).unwrap();
        for chunk in lines.as_bytes().chunks(16 << 10) {
            if s.write_all(chunk).is_err() {
                return;
            }
            progress.fetch_add(chunk.len(), Ordering::Relaxed);
        }
    });
    // The collector has stopped reading: its stdout is full and the sender is pushed back.
    common::wait_until_stalled(&written, Duration::from_millis(100));
    collector.signal(libc::SIGTERM);
    let said = common::wait_for(common::DEADLINE, || {
        let (status, body) = http_get(admin, "/healthz");
        (status == 503).then_some(body)
    });
    assert_eq!(
        said.as_deref(),
        Some("draining\n"),
        "healthz never said draining"
    );
    collector.open_stdout();
    let _ = sender.join();
    let outcome = collector.stop_after_signal();
    assert!(outcome.counter("records_zia_web") > 0);
}

#[test]
fn latency_log_reads_back_in_hdrhistogram_py() {
    let collector = Collector::start_with("hlog", admin_options(false));
    let mut sent = 0;
    for round in 0..3 {
        let mut lines = String::new();
        for i in 0..200 {
            lines.push_str(&zia_line(round * 1000 + i + 1, "pc"));
            lines.push('\n');
        }
        collector.send(lines.as_bytes());
        sent += 200;
        // Spread the records over more than one interval: wait until this one is logged.
        let logged = intervals(&collector.data_dir().join("latency.hlog"));
        common::wait_for(common::DEADLINE, || {
            (intervals(&collector.data_dir().join("latency.hlog")) > logged).then_some(())
        })
        .expect("the next interval is logged");
    }
    let outcome = collector.stop();
    assert_eq!(outcome.records.len(), sent);
    let hlog = outcome.data.join("latency.hlog");
    let text = std::fs::read_to_string(&hlog).unwrap();
    assert!(text.starts_with("#[Logged with ztel"), "{text}");
    assert!(
        text.contains("#[StartTime: ") && text.contains("\"StartTimestamp\""),
        "{text}"
    );
    if !common::have(
        "python3 hdrh",
        Command::new("python3").args(["-c", "import hdrh"]),
    ) {
        return;
    }
    let script = r#"
import sys
from hdrh.log import HistogramLogReader
from hdrh.histogram import HdrHistogram
reader = HistogramLogReader(sys.argv[1], HdrHistogram(1, 3600 * 1000 * 1000, 3))
counts = {}
intervals = 0
while True:
    h = reader.get_next_interval_histogram()
    if h is None:
        break
    intervals += 1
    tag = h.get_tag()
    counts[tag] = counts.get(tag, 0) + h.get_total_count()
print(intervals, counts.get("read_to_sink", 0), counts.get("parse_batch", 0))
"#;
    let out = Command::new("python3")
        .args(["-c", script])
        .arg(&hlog)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8(out.stdout).unwrap();
    let fields: Vec<u64> = text
        .split_whitespace()
        .map(|f| f.parse().unwrap())
        .collect();
    assert!(fields[0] >= 2, "several intervals: {text}");
    assert_eq!(
        fields[1], sent as u64,
        "every record's read→sink latency is in the log"
    );
    assert!(fields[2] >= 1);
}

/// A lone record on a connection that stays open is not held until more comes, and a peer that
/// then writes a record per packet has every one written and counted in the batch latency.
/// How much such records are batched depends on the machine's pace, and is measured in perf/
/// ("Where the time goes"), not asserted here.
#[test]
fn a_lone_record_is_not_held_and_records_one_per_packet_all_arrive() {
    let collector = Collector::start_with("per-packet", admin_options(false));
    let admin = collector.listening["admin"];
    let records = collector.data_dir().join("connections.jsonl");
    let mut stream = collector.connect();
    stream.set_nodelay(true).unwrap();
    stream
        .write_all(format!("{}\n", zia_line(1, "solo")).as_bytes())
        .unwrap();
    // The connection stays open and nothing else comes: the record is written all the same.
    common::wait_for_lines(&records, 1);
    const RECORDS: u64 = 400;
    for i in 2..=RECORDS {
        stream
            .write_all(format!("{}\n", zia_line(i, "pc")).as_bytes())
            .unwrap();
        // A sender that writes a record at a time, as some do.
        std::thread::sleep(Duration::from_micros(50));
    }
    common::wait_for_lines(&records, RECORDS as usize);
    let metrics = common::wait_for_metric(admin, "ztel_records_total{kind=\"zia.web\"}", |v| {
        v == RECORDS as f64
    });
    let batches = sample(&metrics, "ztel_latency_parse_batch_seconds_count");
    assert!(
        batches >= 1.0 && batches <= RECORDS as f64,
        "{batches} batches"
    );
    drop(stream);
    let out = collector.stop();
    assert_eq!(out.counter("records_zia_web"), RECORDS);
}
