//! `ztel hist`: reads the latency histograms that ztel writes (DESIGN §5) and that loadgen writes
//! with `--hist`, an HdrHistogram interval log (`.hlog`, values in microseconds), and prints them
//! as percentile tables or draws them as the classic HdrHistogram percentile plot (SVG).
//!
//! An interval log holds one line per interval and tag: `Tag=T,START,LENGTH,MAX,BASE64`, where the
//! payload is a V2 (optionally deflated) serialised histogram. [`read_hlog`] merges every interval
//! of each tag into one histogram; [`load_hlog`] also keeps the time span each tag covers.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use base64::Engine as _;
use hdrhistogram::serialization::interval_log::{IntervalLogIterator, LogEntry, LogIteratorError};
use hdrhistogram::Histogram;

pub use plot::plot_svg;

mod plot;

/// The name given to intervals that carry no `Tag=`.
pub const UNTAGGED: &str = "(untagged)";

/// Percentiles printed by [`percentile_table`], before the max.
const PERCENTILES: [(&str, f64); 7] = [
    ("p50", 50.0),
    ("p75", 75.0),
    ("p90", 90.0),
    ("p95", 95.0),
    ("p99", 99.0),
    ("p99.9", 99.9),
    ("p99.99", 99.99),
];

/// A year in seconds: interval timestamps below it are offsets, not seconds since the epoch (the
/// same heuristic as HdrHistogram's `HistogramLogReader`).
const YEAR_SECS: f64 = 365.0 * 24.0 * 3600.0;

/// Base64 as HdrHistogram writers emit it; padding is accepted whether present or not.
const BASE64: base64::engine::GeneralPurpose = base64::engine::GeneralPurpose::new(
    &base64::alphabet::STANDARD,
    base64::engine::GeneralPurposeConfig::new()
        .with_decode_padding_mode(base64::engine::DecodePaddingMode::Indifferent),
);

/// What can go wrong reading a log or writing a plot; every message names the file.
#[derive(Debug, thiserror::Error)]
pub enum HistError {
    #[error("cannot read {}: {source}", path.display())]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{}: line {line}: not an HdrHistogram interval log line", path.display())]
    Syntax { path: PathBuf, line: usize },
    #[error("{}: line {line}: bad histogram: {reason}", path.display())]
    Histogram {
        path: PathBuf,
        line: usize,
        reason: String,
    },
    #[error("{}: no histogram intervals in the file", path.display())]
    Empty { path: PathBuf },
    #[error("{}: no tag {tag:?} (tags: {})", path.display(), known.join(", "))]
    UnknownTag {
        path: PathBuf,
        tag: String,
        known: Vec<String>,
    },
    #[error("cannot draw {}: {reason}", path.display())]
    Plot { path: PathBuf, reason: String },
    #[error("cannot write {}: {source}", path.display())]
    Write {
        path: PathBuf,
        source: std::io::Error,
    },
}

/// The time an interval log covers, in seconds: since the epoch when `absolute`, else offsets
/// from the log's own zero (a log with neither StartTime nor BaseTime and small timestamps).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Span {
    /// Start of the first interval.
    pub start: f64,
    /// End of the last interval (the latest start + length).
    pub end: f64,
    /// Intervals merged.
    pub intervals: usize,
}

impl Span {
    /// Whether `start` and `end` are seconds since the epoch.
    pub fn is_absolute(&self) -> bool {
        self.start >= YEAR_SECS
    }

    fn cover(&mut self, start: f64, end: f64) {
        self.start = self.start.min(start);
        self.end = self.end.max(end);
        self.intervals += 1;
    }
}

/// One tag of a log: every interval merged, and when they were.
#[derive(Debug, Clone)]
pub struct TagHistogram {
    pub histogram: Histogram<u64>,
    pub span: Span,
}

/// A whole interval log, by tag (untagged intervals under [`UNTAGGED`]).
#[derive(Debug, Clone)]
pub struct Hlog {
    pub tags: BTreeMap<String, TagHistogram>,
    /// Line number of an unterminated last line that did not parse and was skipped: a log that
    /// is still being written.
    pub skipped_partial_line: Option<usize>,
}

impl Hlog {
    /// The time covered by every tag together.
    pub fn span(&self) -> Option<Span> {
        let mut spans = self.tags.values().map(|t| t.span);
        let first = spans.next()?;
        Some(spans.fold(first, |mut all, s| {
            all.start = all.start.min(s.start);
            all.end = all.end.max(s.end);
            all.intervals += s.intervals;
            all
        }))
    }
}

/// Reads an interval log and merges its intervals per tag.
pub fn read_hlog(path: impl AsRef<Path>) -> Result<BTreeMap<String, Histogram<u64>>, HistError> {
    Ok(load_hlog(path)?
        .tags
        .into_iter()
        .map(|(tag, t)| (tag, t.histogram))
        .collect())
}

/// Reads an interval log, merges its intervals per tag and keeps the time each tag covers.
/// A file without any interval is an error.
pub fn load_hlog(path: impl AsRef<Path>) -> Result<Hlog, HistError> {
    let path = path.as_ref();
    let bytes = std::fs::read(path).map_err(|source| HistError::Read {
        path: path.to_owned(),
        source,
    })?;
    let log = parse_hlog(path, bytes)?;
    if log.tags.is_empty() {
        return Err(HistError::Empty {
            path: path.to_owned(),
        });
    }
    Ok(log)
}

/// Parses the contents of an interval log; `path` only names it in errors. An empty log is
/// returned as such.
pub fn parse_hlog(path: &Path, mut bytes: Vec<u8>) -> Result<Hlog, HistError> {
    // The parser wants every line terminated. An unterminated last line is usually a log that
    // is being written: it is kept if it parses and skipped if it does not (unless nothing
    // before it did, when the file is simply not a log).
    let unterminated = !bytes.is_empty() && !bytes.ends_with(b"\n");
    if unterminated {
        bytes.push(b'\n');
    }
    let last_line = memchr::memchr_iter(b'\n', &bytes).count();
    let mut lines = LineCounter::default();
    let mut times = TimeBase::default();
    let mut log = Hlog {
        tags: BTreeMap::new(),
        skipped_partial_line: None,
    };
    let partial =
        |line: usize, log: &Hlog| unterminated && line == last_line && !log.tags.is_empty();

    for entry in IntervalLogIterator::new(&bytes) {
        let interval = match entry {
            Ok(LogEntry::StartTime(t)) => {
                times.start_time = Some(t.as_secs_f64());
                continue;
            }
            Ok(LogEntry::BaseTime(t)) => {
                times.base_time = Some(t.as_secs_f64());
                continue;
            }
            Ok(LogEntry::Interval(interval)) => interval,
            Err(LogIteratorError::ParseError { offset }) => {
                let line = lines.line_at(&bytes, offset);
                if partial(line, &log) {
                    log.skipped_partial_line = Some(line);
                    break;
                }
                return Err(HistError::Syntax {
                    path: path.to_owned(),
                    line,
                });
            }
        };
        // The payload is a slice of `bytes`: its position gives the line, for messages.
        let payload = interval.encoded_histogram();
        let offset = (payload.as_ptr() as usize).saturating_sub(bytes.as_ptr() as usize);
        let line = lines.line_at(&bytes, offset);
        let histogram = match decode(payload) {
            Ok(h) => h,
            Err(_) if partial(line, &log) => {
                log.skipped_partial_line = Some(line);
                break;
            }
            Err(reason) => {
                return Err(HistError::Histogram {
                    path: path.to_owned(),
                    line,
                    reason,
                })
            }
        };
        let tag = interval.tag().map_or(UNTAGGED, |t| t.as_str());
        let start = times.absolute(interval.start_timestamp().as_secs_f64());
        let end = start + interval.duration().as_secs_f64();
        let bad = |reason: String| HistError::Histogram {
            path: path.to_owned(),
            line,
            reason,
        };
        if !log.tags.contains_key(tag) {
            // Auto-resizing, at the precision the writer chose.
            let merged = Histogram::new(histogram.sigfig()).map_err(|e| bad(e.to_string()))?;
            let span = Span {
                start,
                end,
                intervals: 0,
            };
            log.tags.insert(
                tag.to_owned(),
                TagHistogram {
                    histogram: merged,
                    span,
                },
            );
        }
        if let Some(t) = log.tags.get_mut(tag) {
            t.histogram
                .add(&histogram)
                .map_err(|e| bad(e.to_string()))?;
            t.span.cover(start, end);
        }
    }
    Ok(log)
}

/// Decodes one base64 payload into a histogram.
fn decode(payload: &str) -> Result<Histogram<u64>, String> {
    let raw = BASE64
        .decode(payload.trim())
        .map_err(|e| format!("not base64: {e}"))?;
    wire::hdr::decode(&raw)
}

/// Line numbers (1-based) of increasing byte offsets, counted once.
#[derive(Default)]
struct LineCounter {
    offset: usize,
    newlines: usize,
}

impl LineCounter {
    fn line_at(&mut self, bytes: &[u8], offset: usize) -> usize {
        let offset = offset.min(bytes.len());
        if offset < self.offset {
            self.offset = 0;
            self.newlines = 0;
        }
        self.newlines += memchr::memchr_iter(b'\n', &bytes[self.offset..offset]).count();
        self.offset = offset;
        self.newlines + 1
    }
}

/// How interval timestamps map to time: HdrHistogram's rules (BaseTime, else StartTime when the
/// timestamps are more than a year before it, else the timestamps as they are).
#[derive(Default)]
struct TimeBase {
    start_time: Option<f64>,
    base_time: Option<f64>,
}

impl TimeBase {
    fn absolute(&self, timestamp: f64) -> f64 {
        match (self.base_time, self.start_time) {
            (Some(base), _) => base + timestamp,
            (None, Some(start)) if timestamp < start - YEAR_SECS => start + timestamp,
            _ => timestamp,
        }
    }
}

/// A readable percentile table of one histogram of microseconds: count, min, mean, the time span
/// (when known), then p50 … p99.99 and max, each in µs and ms.
pub fn percentile_table(tag: &str, histogram: &Histogram<u64>, span: Option<&Span>) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "tag: {tag}");
    if let Some(span) = span {
        let _ = writeln!(out, "  {:<8}{}", "span", describe_span(span));
    }
    let _ = writeln!(out, "  {:<8}{:>12}", "count", histogram.len());
    if histogram.is_empty() {
        let _ = writeln!(out, "  (no values)");
        return out;
    }
    let row = |out: &mut String, name: &str, micros: u64| {
        let _ = writeln!(
            out,
            "  {name:<8}{micros:>12} µs {:>12.3} ms",
            micros as f64 / 1000.0
        );
    };
    row(&mut out, "min", histogram.min());
    let mean = histogram.mean();
    let _ = writeln!(
        out,
        "  {:<8}{mean:>12.1} µs {:>12.3} ms",
        "mean",
        mean / 1000.0
    );
    for (name, percentile) in PERCENTILES {
        row(&mut out, name, value_at_percentile(histogram, percentile));
    }
    row(&mut out, "max", histogram.max());
    out
}

/// The value at a percentile as HdrHistogram's Java reference reports it: the highest value
/// equivalent to the one at rank ceil(p/100 × count), with p lowered by one ulp first so that an
/// exact rank is not pushed to the next one by rounding (99.9 % of 1000 values is the 999th, where
/// the crate's `value_at_percentile` computes 999.0000000000001 and takes the 1000th).
pub fn value_at_percentile(histogram: &Histogram<u64>, percentile: f64) -> u64 {
    let total = histogram.len();
    if total == 0 {
        return 0;
    }
    let p = percentile.clamp(0.0, 100.0);
    let p = if p > 0.0 {
        f64::from_bits(p.to_bits() - 1)
    } else {
        p
    };
    let rank = (p / 100.0 * total as f64).ceil().max(1.0);
    // `value_at_quantile` rounds quantile × count up: aim half a count below the rank.
    histogram.value_at_quantile((rank - 0.5) / total as f64)
}

/// "30.000 s in 3 intervals, 2024-05-01 10:00:00 UTC to 2024-05-01 10:00:30 UTC".
fn describe_span(span: &Span) -> String {
    let length = duration_text(span.end - span.start);
    let plural = if span.intervals == 1 { "" } else { "s" };
    if span.is_absolute() {
        format!(
            "{length} in {} interval{plural}, {} to {}",
            span.intervals,
            wall_clock(span.start),
            wall_clock(span.end)
        )
    } else {
        format!(
            "{length} in {} interval{plural}, {:.3} s to {:.3} s (log time)",
            span.intervals, span.start, span.end
        )
    }
}

fn duration_text(secs: f64) -> String {
    if secs < 60.0 {
        return format!("{secs:.3} s");
    }
    let total = secs.round() as u64;
    let (h, m, s) = (total / 3600, total / 60 % 60, total % 60);
    if h > 0 {
        format!("{h}h{m:02}m{s:02}s")
    } else {
        format!("{m}m{s:02}s")
    }
}

fn wall_clock(secs: f64) -> String {
    match jiff::Timestamp::from_second(secs.round() as i64) {
        Ok(t) => t.strftime("%Y-%m-%d %H:%M:%S UTC").to_string(),
        Err(_) => format!("{secs:.3} s"),
    }
}

/// `ztel hist FILE [--tag TAG] [--plot OUT.svg]`: the text to print on success.
pub fn command(file: &Path, tag: Option<&str>, plot: Option<&Path>) -> Result<String, HistError> {
    let mut log = load_hlog(file)?;
    if let Some(tag) = tag {
        match log.tags.remove(tag) {
            Some(one) => log.tags = BTreeMap::from([(tag.to_owned(), one)]),
            None => {
                return Err(HistError::UnknownTag {
                    path: file.to_owned(),
                    tag: tag.to_owned(),
                    known: log.tags.into_keys().collect(),
                })
            }
        }
    }
    let name = file.file_name().map_or_else(
        || file.display().to_string(),
        |n| n.to_string_lossy().into_owned(),
    );

    let mut out = String::new();
    let tags = log.tags.len();
    let _ = write!(
        out,
        "{}: {tags} tag{}",
        file.display(),
        if tags == 1 { "" } else { "s" }
    );
    let span = log.span();
    if let Some(span) = &span {
        let _ = write!(out, ", {}", describe_span(span));
    }
    out.push('\n');
    if let Some(line) = log.skipped_partial_line {
        let _ = writeln!(
            out,
            "(skipped the unfinished last line {line}: the log is still being written)"
        );
    }
    for (tag, t) in &log.tags {
        out.push('\n');
        out.push_str(&percentile_table(tag, &t.histogram, Some(&t.span)));
    }
    if let Some(svg) = plot {
        let histograms = log
            .tags
            .into_iter()
            .map(|(tag, t)| (tag, t.histogram))
            .collect();
        // The title says what the curves cover: the file and its time range.
        let title = match &span {
            Some(span) => format!("{name}: {}", describe_span(span)),
            None => name,
        };
        plot_svg(svg, &title, &histograms)?;
        let _ = writeln!(out, "\nwrote the percentile plot to {}", svg.display());
    }
    Ok(out)
}
