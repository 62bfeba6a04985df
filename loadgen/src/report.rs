//! What the run did: progress while it runs, the final report (a table for people and one
//! `loadgen-result key=value …` line for scripts), and the lateness interval log.

use std::fmt::Write as _;
use std::path::Path;
use std::sync::atomic::Ordering;
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant, SystemTime};

use anyhow::{Context, Result};
use hdrhistogram::serialization::interval_log::{IntervalLogWriterBuilder, Tag};
use hdrhistogram::serialization::V2DeflateSerializer;
use hdrhistogram::Histogram;

use crate::admin::Figures;
use crate::send::{histogram, Outcome, Progress};

/// The tag of every interval in the --hist log.
pub const HIST_TAG: &str = "send_lateness";

/// Prints a progress line on stderr once a second until every sender has finished.
pub fn watch(handles: &[JoinHandle<Outcome>], progress: &Progress, start: Instant, quiet: bool) {
    let mut last = (0u64, 0u64, Duration::ZERO);
    let mut next = Duration::from_secs(1);
    while !handles.iter().all(|h| h.is_finished()) {
        thread::sleep(Duration::from_millis(20));
        let elapsed = start.elapsed();
        if quiet || elapsed < next {
            continue;
        }
        let events = progress.events.load(Ordering::Relaxed);
        let bytes = progress.bytes.load(Ordering::Relaxed);
        let dt = (elapsed - last.2).as_secs_f64();
        eprintln!(
            "loadgen: {:>5.1} s  {events:>11} events sent  {:>9.0} events/s  {:>8.1} MB/s",
            elapsed.as_secs_f64(),
            (events - last.0) as f64 / dt,
            (bytes - last.1) as f64 / dt / 1e6,
        );
        last = (events, bytes, elapsed);
        next += Duration::from_secs(1);
        // A stall longer than a second prints one line, not a burst of them.
        while next <= elapsed {
            next += Duration::from_secs(1);
        }
    }
}

/// The senders' outcomes, added up.
pub struct Totals {
    pub events: u64,
    /// Bytes on the wire: of records and their framing, for HTTP of the request bodies.
    pub bytes: u64,
    /// With --gzip: the bodies' bytes before compression.
    pub bytes_before_gzip: Option<u64>,
    /// From the start to the last write of the slowest connection.
    pub seconds: f64,
    /// Every event's send lateness (µs); `None` for --rate max.
    pub lateness: Option<Histogram<u64>>,
    /// Lateness per second of the run, for --hist.
    pub intervals: Vec<Histogram<u64>>,
    /// The --rate asked for; `None` for --rate max.
    pub rate: Option<f64>,
    /// One line per connection that failed.
    pub failures: Vec<String>,
}

impl Totals {
    pub fn merge(outcomes: Vec<Outcome>, rate: Option<f64>) -> Result<Totals> {
        let mut t = Totals {
            events: 0,
            bytes: 0,
            bytes_before_gzip: None,
            seconds: 0.0,
            lateness: rate.map(|_| histogram()),
            intervals: Vec::new(),
            rate,
            failures: Vec::new(),
        };
        for o in outcomes {
            t.events += o.events;
            t.bytes += o.bytes;
            if let Some(n) = o.bytes_before_gzip {
                *t.bytes_before_gzip.get_or_insert(0) += n;
            }
            t.seconds = t.seconds.max(o.finished.as_secs_f64());
            if let Some(h) = &mut t.lateness {
                h.add(&o.lateness).context("merging histograms")?;
            }
            if t.intervals.len() < o.intervals.len() {
                t.intervals.resize_with(o.intervals.len(), histogram);
            }
            for (sum, h) in t.intervals.iter_mut().zip(&o.intervals) {
                sum.add(h).context("merging histograms")?;
            }
            t.failures.extend(o.error);
        }
        Ok(t)
    }

    fn eps(&self) -> f64 {
        self.events as f64 / self.seconds.max(1e-9)
    }

    fn mbps(&self) -> f64 {
        self.bytes as f64 / self.seconds.max(1e-9) / 1e6
    }

    /// The --rate asked for, when the run fell short of it by more than 1% (a clear miss, not
    /// the wake-up delay of its last write).
    fn missed_rate(&self) -> Option<f64> {
        self.rate
            .filter(|&rate| self.events > 0 && self.eps() < rate * 0.99)
    }

    /// p50, p90, p99, p99.9 and max of the lateness, in µs.
    fn lateness_us(&self) -> Option<[u64; 5]> {
        let h = self.lateness.as_ref().filter(|h| !h.is_empty())?;
        Some([
            h.value_at_quantile(0.5),
            h.value_at_quantile(0.9),
            h.value_at_quantile(0.99),
            h.value_at_quantile(0.999),
            h.max(),
        ])
    }
}

/// A run shorter than this ends in the socket buffers: its rates are not the collector's.
const SHORT_RUN_SECS: f64 = 1.0;

const LATENCY_NAMES: [&str; 5] = ["p50", "p90", "p99", "p99.9", "max"];
const LATENCY_KEYS: [&str; 5] = ["p50", "p90", "p99", "p999", "max"];

/// The final report: a table, then the `loadgen-result` line.
/// `params` are the run's own `key=value` pairs ([`crate::plan::Plan::result_params`]).
pub fn render(headline: &str, params: &str, t: &Totals, admin: Option<&Figures>) -> String {
    let mut s = String::new();
    let mut row = |name: &str, value: String| {
        let _ = writeln!(s, "  {name:<22}{value}");
    };
    row("events sent", t.events.to_string());
    row("bytes sent", t.bytes.to_string());
    if let Some(n) = t.bytes_before_gzip {
        row("bytes before gzip", n.to_string());
    }
    row("duration", format!("{:.3} s", t.seconds));
    row("events/s", format!("{:.0}", t.eps()));
    row("MB/s", format!("{:.1}", t.mbps()));
    // The clock stops at the last write: a short run ends in the socket buffers (4.6 million
    // events a second for 1,000 events), which says how fast loadgen writes, not the collector.
    if t.events > 0 && t.seconds < SHORT_RUN_SECS && t.rate.is_none() {
        row(
            "note",
            format!(
                "under {SHORT_RUN_SECS} s: the rates are the socket buffers', not the \
                 collector's; send more (--count, --duration) to measure it"
            ),
        );
    }
    if let Some(rate) = t.missed_rate() {
        row(
            "target rate",
            format!(
                "not reached: {:.0} of {rate} events/s ({:.0}%)",
                t.eps(),
                t.eps() / rate * 100.0
            ),
        );
    }
    match (t.lateness_us(), &t.lateness) {
        (Some(l), _) => {
            for (name, v) in LATENCY_NAMES.iter().zip(l) {
                row(&format!("send lateness {name}"), format!("{v} µs"));
            }
        }
        (None, None) => row("send lateness", "n/a (--rate max)".to_string()),
        (None, Some(_)) => row("send lateness", "n/a (nothing sent)".to_string()),
    }
    if let Some(a) = admin {
        row("received", na(a.received));
        row("records written", na(a.written));
        row("dead letters", na(a.dead_letters));
        row("duplicates", na(a.duplicates));
        row("lost", na(a.lost));
        row(
            "udp dropped",
            match (a.dropped, a.kernel_dropped) {
                (Some(z), Some(k)) => {
                    format!("{} datagrams ({z} by ztel, {k} by the kernel)", z + k)
                }
                (Some(z), None) => format!("{z} datagrams by ztel (by the kernel: n/a)"),
                (None, Some(k)) => format!("{k} datagrams by the kernel (by ztel: n/a)"),
                (None, None) => "n/a".to_string(),
            },
        );
        for (name, v) in LATENCY_NAMES.iter().zip(a.latency_us) {
            row(
                &format!("ztel latency {name}"),
                v.map_or("n/a".into(), |us| format!("{us:.0} µs")),
            );
        }
        row(
            "ztel latency of",
            a.latency_samples
                .map_or("the collector's life (no histogram)".into(), |n| {
                    format!("this run's {n} records")
                }),
        );
    }
    if !t.failures.is_empty() {
        row("failed connections", t.failures.len().to_string());
    }
    let mut line = format!(
        "loadgen-result events={} bytes={} seconds={:.6} eps={:.1} mbps={:.3}",
        t.events,
        t.bytes,
        t.seconds,
        t.eps(),
        t.mbps()
    );
    if let Some(n) = t.bytes_before_gzip {
        let _ = write!(line, " bytes_before_gzip={n}");
    }
    let lateness = t.lateness_us();
    for (i, key) in LATENCY_KEYS.iter().enumerate() {
        let _ = write!(line, " lateness_{key}_us={}", na(lateness.map(|l| l[i])));
    }
    let _ = write!(line, " failed_connections={} {params}", t.failures.len());
    if let Some(a) = admin {
        let dropped = a.dropped.zip(a.kernel_dropped).map(|(z, k)| z + k);
        let _ = write!(
            line,
            " received={} written={} dead_letters={} duplicates={} lost={} dropped={} \
             dropped_ztel={} dropped_kernel={}",
            na(a.received),
            na(a.written),
            na(a.dead_letters),
            na(a.duplicates),
            na(a.lost),
            na(dropped),
            na(a.dropped),
            na(a.kernel_dropped)
        );
        for (key, v) in LATENCY_KEYS.iter().zip(a.latency_us) {
            let _ = write!(
                line,
                " ztel_{key}_us={}",
                v.map_or("n/a".into(), |us| format!("{us:.1}"))
            );
        }
        let (scope, samples) = match a.latency_samples {
            Some(n) => ("run", n.to_string()),
            None => ("since_start", "n/a".to_string()),
        };
        let _ = write!(
            line,
            " ztel_latency_scope={scope} ztel_latency_samples={samples}"
        );
    }
    format!("loadgen: {headline}\n{s}{line}\n")
}

/// What became of the events the collector received, one line each, when not every one became
/// a record written: dead letters and duplicates are not lost, but a user should know.
pub fn fates(a: &Figures, sent: u64) -> Vec<String> {
    let mut lines = Vec::new();
    if let Some(n) = a.dead_letters.filter(|&n| n > 0) {
        let also = match a.contested.filter(|&c| c > 0) {
            Some(c) => format!(
                "; {c} of them were written as records too, without a field the \
                                line named twice"
            ),
            None => String::new(),
        };
        lines.push(format!(
            "{n} of the {sent} events became dead letters (the collector's dead-letter file \
             keeps them with the reason{also})"
        ));
    }
    if let Some(n) = a.duplicates.filter(|&n| n > 0) {
        lines.push(format!(
            "{n} of the {sent} events were duplicates of records the collector already had (not \
             written again)"
        ));
    }
    if let Some(n) = a.oversize.filter(|&n| n > 0) {
        lines.push(format!(
            "{n} of the {sent} events were longer than the collector's max_frame_bytes (read and \
             counted in ztel_oversize_frames_total, no record)"
        ));
    }
    lines
}

/// Why UDP events were lost, for the line that says they were: "" when nothing was dropped.
pub fn drops(a: &Figures) -> String {
    match (a.dropped.unwrap_or(0), a.kernel_dropped.unwrap_or(0)) {
        (0, 0) => String::new(),
        (z, k) => format!(" (UDP datagrams dropped: {z} by ztel, {k} by the kernel)"),
    }
}

fn na<T: ToString>(v: Option<T>) -> String {
    v.map_or("n/a".to_string(), |v| v.to_string())
}

/// Writes the lateness per second as an HdrHistogram interval log (format 1.3, V2 deflate),
/// readable by HistogramLogProcessor, HdrHistogram's plotters and hdrhistogram's own reader.
pub fn write_hlog(path: &Path, t: &Totals, started: SystemTime) -> Result<()> {
    let mut text = Vec::new();
    let mut serializer = V2DeflateSerializer::new();
    // The builder writes the comments and times; the column legend the Java tools print comes
    // after them, then the intervals, whose timestamps count from BaseTime.
    drop(
        IntervalLogWriterBuilder::new()
            .add_comment(&format!("[Logged with loadgen {}]", env!("CARGO_PKG_VERSION")))
            .add_comment("[Histogram log format version 1.3]")
            .add_comment("[send lateness per event: actual send time - scheduled send time, in microseconds]")
            .with_start_time(started)
            .with_base_time(started)
            .begin_log_with(&mut text, &mut serializer)?,
    );
    text.extend_from_slice(
        b"\"StartTimestamp\",\"Interval_Length\",\"Interval_Max\",\"Interval_Compressed_Histogram\"\n",
    );
    let mut log = IntervalLogWriterBuilder::new().begin_log_with(&mut text, &mut serializer)?;
    let tag = Tag::new(HIST_TAG);
    for (second, h) in t.intervals.iter().enumerate() {
        let from = second as f64;
        let length = (t.seconds - from).clamp(0.001, 1.0);
        log.write_histogram(
            h,
            Duration::from_secs(second as u64),
            Duration::from_secs_f64(length),
            tag,
        )
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    }
    std::fs::write(path, text).with_context(|| format!("cannot write {}", path.display()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn totals(paced: bool) -> Totals {
        let mut lateness = histogram();
        for v in 1..=1000 {
            lateness.record(v).unwrap();
        }
        Totals {
            events: 1000,
            bytes: 1_000_000,
            bytes_before_gzip: None,
            seconds: 2.0,
            lateness: paced.then_some(lateness),
            intervals: Vec::new(),
            rate: paced.then_some(500.0),
            failures: Vec::new(),
        }
    }

    #[test]
    fn machine_line_has_every_key() {
        let text = render("x", "p=1", &totals(true), None);
        let line = text.lines().last().unwrap();
        assert!(
            line.starts_with(
                "loadgen-result events=1000 bytes=1000000 seconds=2.000000 eps=500.0 mbps=0.500"
            ),
            "{line}"
        );
        assert!(line.contains(" lateness_p50_us=500 "), "{line}");
        assert!(line.contains(" lateness_max_us=1000 "), "{line}");
        assert!(line.contains(" failed_connections=0 p=1"), "{line}");
        assert!(!line.contains("received"));
        assert!(text.contains("  send lateness p99.9   999 µs\n"), "{text}");
        assert!(!text.contains("target rate"), "{text}");
        assert!(!text.contains("socket buffers"), "{text}");
        // A run of a few milliseconds measured the socket buffers: said.
        let quick = Totals {
            seconds: 0.000_2,
            ..totals(false)
        };
        let text = render("x", "p=1", &quick, None);
        assert!(text.contains("the rates are the socket buffers'"), "{text}");
        // A paced run's rate is the one it was asked for, however short.
        let paced = Totals {
            seconds: 0.000_2,
            ..totals(true)
        };
        let text = render("x", "p=1", &paced, None);
        assert!(!text.contains("socket buffers"), "{text}");
        let short = Totals {
            rate: Some(1000.0),
            ..totals(true)
        };
        let text = render("x", "p=1", &short, None);
        assert!(
            text.contains("  target rate           not reached: 500 of 1000 events/s (50%)\n"),
            "{text}"
        );
    }

    #[test]
    fn unpaced_lateness_is_na_and_admin_fields_appear() {
        let figures = Figures {
            received: Some(990),
            oversize: None,
            lost: Some(10),
            written: Some(990),
            dead_letters: None,
            contested: None,
            duplicates: None,
            dropped: None,
            kernel_dropped: None,
            latency_us: [Some(35.0), None, Some(1200.0), Some(5000.0)],
            latency_samples: Some(990),
            notes: Vec::new(),
        };
        let text = render("x", "p=1", &totals(false), Some(&figures));
        let line = text.lines().last().unwrap();
        assert!(line.contains(" lateness_p50_us=n/a "), "{line}");
        assert!(line.ends_with(
            " received=990 written=990 dead_letters=n/a duplicates=n/a lost=10 dropped=n/a \
             dropped_ztel=n/a dropped_kernel=n/a ztel_p50_us=35.0 ztel_p90_us=n/a ztel_p99_us=1200.0 ztel_p999_us=5000.0 \
             ztel_latency_scope=run ztel_latency_samples=990"
        ), "{line}");
        assert!(text.contains("n/a (--rate max)"));
    }

    #[test]
    fn fates_say_which_dead_letters_were_written_too() {
        let figures = Figures {
            dead_letters: Some(3),
            contested: Some(2),
            duplicates: Some(1),
            ..Figures::default()
        };
        let lines = fates(&figures, 10);
        assert_eq!(lines.len(), 2, "{lines:?}");
        assert!(lines[0].starts_with("3 of the 10 events became dead letters"));
        assert!(lines[0].contains("2 of them were written as records too"));
        let none = Figures {
            contested: Some(0),
            ..figures
        };
        assert!(!fates(&none, 10)[0].contains("written as records"));
    }

    #[test]
    fn gzip_shows_the_bytes_on_the_wire_and_before() {
        let plain = render("x", "p=1", &totals(true), None);
        assert!(!plain.contains("gzip"), "{plain}");
        let t = Totals {
            bytes_before_gzip: Some(9_000_000),
            ..totals(true)
        };
        let text = render("x", "p=1", &t, None);
        assert!(
            text.contains("  bytes sent            1000000\n  bytes before gzip     9000000\n"),
            "{text}"
        );
        let line = text.lines().last().unwrap();
        assert!(
            line.contains(
                " bytes=1000000 seconds=2.000000 eps=500.0 mbps=0.500 bytes_before_gzip=9000000 "
            ),
            "{line}"
        );
    }
}
