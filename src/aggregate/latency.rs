//! Latency histograms (DESIGN §5): from a frame's read to its record's hand-off to the sink, the
//! time a batch waits in the channel, and the time a shard spends parsing a batch; and, to tell
//! where read→sink goes, from the read to the batch's hand-off by the shard (parsing, and the
//! hold of `input::hold`) and from the read to the write that put the record in its file (the
//! sink's pacing on top of read→sink). Values are microseconds. They are written every `histograms.interval_secs` as an HdrHistogram interval
//! log (V2 compressed), readable by the standard HdrHistogram tools and by `ztel hist`.

use std::collections::VecDeque;
use std::fs::{File, OpenOptions};
use std::io::{self, BufWriter, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

use hdrhistogram::serialization::interval_log::{IntervalLogWriterBuilder, Tag};
use hdrhistogram::serialization::V2DeflateSerializer;
use hdrhistogram::Histogram;

/// What is measured, and its tag in the interval log.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Measure {
    ReadToSink,
    ChannelWait,
    ParseBatch,
    /// From the read to the shard's hand-off of the batch: parsing, and the hold.
    ReadToSend,
    /// From the read to the write that put the record in the records file (or stdout).
    ReadToWrite,
}

impl Measure {
    pub const ALL: [Measure; 5] = [
        Measure::ReadToSink,
        Measure::ChannelWait,
        Measure::ParseBatch,
        Measure::ReadToSend,
        Measure::ReadToWrite,
    ];

    pub fn tag(self) -> &'static str {
        match self {
            Measure::ReadToSink => "read_to_sink",
            Measure::ChannelWait => "channel_wait",
            Measure::ParseBatch => "parse_batch",
            Measure::ReadToSend => "read_to_send",
            Measure::ReadToWrite => "read_to_write",
        }
    }
}

/// One histogram per measure.
#[derive(Clone)]
pub struct Latency {
    histograms: [Histogram<u64>; Measure::ALL.len()],
}

/// Three significant digits; auto-resizing so that a stall of any length is recorded, not lost.
fn histogram() -> Histogram<u64> {
    let mut h = Histogram::new(3).expect("3 significant digits is a valid precision");
    h.auto(true);
    h
}

impl Default for Latency {
    fn default() -> Self {
        Latency {
            histograms: std::array::from_fn(|_| histogram()),
        }
    }
}

impl Latency {
    /// Records `count` events that each took `took`.
    pub fn record(&mut self, measure: Measure, took: Duration, count: u64) {
        let micros = u64::try_from(took.as_micros()).unwrap_or(u64::MAX).max(1);
        // Auto-resize makes this infallible in practice; a refusal only loses one sample.
        let _ = self.histograms[measure as usize].record_n(micros, count);
    }

    pub fn get(&self, measure: Measure) -> &Histogram<u64> {
        &self.histograms[measure as usize]
    }

    pub fn merge(&mut self, other: &Latency) {
        for (a, b) in self.histograms.iter_mut().zip(&other.histograms) {
            let _ = a.add(b);
        }
    }

    pub fn reset(&mut self) {
        for h in &mut self.histograms {
            h.reset();
        }
    }
}

/// Batches whose records the records sink holds but has not written yet, oldest first: their
/// read→write is taken once the sink's written bytes pass their end.
#[derive(Default)]
pub struct Unwritten {
    queue: VecDeque<Taken>,
}

struct Taken {
    shard: usize,
    /// The sink's taken bytes once the batch was handed over.
    end: u64,
    read_at: Instant,
    records: u64,
}

impl Unwritten {
    /// A batch of `shard` whose records end at `end` of what the sink took.
    pub fn push(&mut self, shard: usize, end: u64, read_at: Instant, records: u64) {
        self.queue.push_back(Taken {
            shard,
            end,
            read_at,
            records,
        });
    }

    /// Takes read→write, into each batch's shard's histograms, for the batches whose records are
    /// all in the first `done` bytes the sink wrote.
    pub fn written(&mut self, done: u64, now: Instant, latency: &mut [Latency]) {
        while let Some(batch) = self.queue.front() {
            if batch.end > done {
                break;
            }
            if let Some(shard) = latency.get_mut(batch.shard) {
                let took = now.saturating_duration_since(batch.read_at);
                shard.record(Measure::ReadToWrite, took, batch.records);
            }
            self.queue.pop_front();
        }
    }
}

/// Percentiles of one histogram, as the admin endpoint and metrics report them.
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize)]
pub struct Percentiles {
    pub count: u64,
    pub p50: u64,
    pub p90: u64,
    pub p99: u64,
    pub p99_9: u64,
    pub p99_99: u64,
    pub max: u64,
    pub mean: f64,
}

impl Percentiles {
    pub fn of(h: &Histogram<u64>) -> Percentiles {
        if h.is_empty() {
            return Percentiles::default();
        }
        Percentiles {
            count: h.len(),
            p50: h.value_at_quantile(0.5),
            p90: h.value_at_quantile(0.9),
            p99: h.value_at_quantile(0.99),
            p99_9: h.value_at_quantile(0.999),
            p99_99: h.value_at_quantile(0.9999),
            max: h.max(),
            mean: h.mean(),
        }
    }
}

/// One measure as the admin endpoint shows it.
#[derive(Debug, Clone, serde::Serialize)]
pub struct LatencySummary<'a> {
    pub name: &'static str,
    pub unit: &'static str,
    pub since_start: Percentiles,
    pub last_interval: Percentiles,
    /// The histogram since start, borrowed from the snapshot: serialised only when
    /// `/histograms` is asked for, and `/metrics` never copies it.
    #[serde(rename = "since_start_hdr", serialize_with = "serialize_hdr")]
    pub histogram: &'a Histogram<u64>,
}

/// The histograms as a snapshot holds them: since start (the interval under way included) and
/// the last completed interval. Percentiles are taken when the admin endpoint is asked, not with
/// every snapshot: walking ten histograms for them ten times a second took 1.1 % of the
/// collector's CPU in a profile of a run with `[output.nats]`, whose histograms are wide.
#[derive(Clone, Default)]
pub struct LatencyView {
    pub since_start: Arc<Latency>,
    pub last_interval: Arc<Latency>,
}

// Not derived: a histogram's Debug prints every one of its thousands of counts.
impl std::fmt::Debug for LatencyView {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LatencyView").finish_non_exhaustive()
    }
}

impl LatencyView {
    /// Per measure: percentiles since start and over the last interval.
    pub fn summaries(&self) -> Vec<LatencySummary<'_>> {
        Measure::ALL
            .iter()
            .map(|m| LatencySummary {
                name: m.tag(),
                unit: "us",
                since_start: Percentiles::of(self.since_start.get(*m)),
                last_interval: Percentiles::of(self.last_interval.get(*m)),
                histogram: self.since_start.get(*m),
            })
            .collect()
    }
}

/// A histogram as `/histograms` gives it (`since_start_hdr`): V2 deflate-compressed, base64,
/// the encoding of the interval log's lines, so that a client (loadgen) can subtract one taken
/// before its run from one taken after and report that run alone.
fn serialize_hdr<S: serde::Serializer>(h: &&Histogram<u64>, s: S) -> Result<S::Ok, S::Error> {
    use hdrhistogram::serialization::Serializer as _;
    let mut bytes = Vec::new();
    V2DeflateSerializer::new()
        .serialize(*h, &mut bytes)
        .map_err(|e| serde::ser::Error::custom(format!("{e:?}")))?;
    s.serialize_str(&base64::Engine::encode(
        &base64::engine::general_purpose::STANDARD,
        bytes,
    ))
}

/// The interval log file.
pub struct IntervalLog {
    path: PathBuf,
    out: BufWriter<File>,
    serializer: V2DeflateSerializer,
    /// Interval start times are written relative to this (the log's BaseTime).
    base: SystemTime,
}

impl IntervalLog {
    /// Opens the log for appending and writes the standard header lines, whose StartTime and
    /// BaseTime the intervals after them count from. Appended, not truncated: a restart (by the
    /// watchdog, an upgrade) must not wipe the latencies from just before it, which are the ones
    /// wanted then; readers take each run's header as it comes.
    pub fn create(path: &Path) -> io::Result<IntervalLog> {
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir)?;
        }
        let file = OpenOptions::new()
            .create(true)
            .read(true)
            .append(true)
            .open(path)?;
        cut_partial_line(&file)?;
        let mut out = BufWriter::new(file);
        let mut serializer = V2DeflateSerializer::new();
        let base = SystemTime::now();
        IntervalLogWriterBuilder::new()
            .add_comment("[Logged with ztel: latencies in microseconds]")
            .add_comment("[Histogram log format version 1.3]")
            .with_start_time(base)
            .with_base_time(base)
            .begin_log_with(&mut out, &mut serializer)?;
        writeln!(
            out,
            "\"StartTimestamp\",\"Interval_Length\",\"Interval_Max\",\"Interval_Compressed_Histogram\""
        )?;
        out.flush()?;
        Ok(IntervalLog {
            path: path.to_owned(),
            out,
            serializer,
            base,
        })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Appends one interval: a line per measure that saw anything.
    pub fn write(
        &mut self,
        latency: &Latency,
        start: SystemTime,
        end: SystemTime,
    ) -> io::Result<()> {
        let offset = start.duration_since(self.base).unwrap_or_default();
        let length = end.duration_since(start).unwrap_or_default();
        // A builder with no headers writes nothing itself: it only lends a writer.
        let mut writer =
            IntervalLogWriterBuilder::new().begin_log_with(&mut self.out, &mut self.serializer)?;
        for m in Measure::ALL {
            let h = latency.get(m);
            if h.is_empty() {
                continue;
            }
            writer
                .write_histogram(h, offset, length, Tag::new(m.tag()))
                .map_err(|e| io::Error::other(e.to_string()))?;
        }
        self.out.flush()
    }
}

/// Cuts a line a killed run left unfinished at the end of the log back to the line before it:
/// the next run's header after it would make one line no reader can parse, in the middle of the
/// file (at the end, readers pass over it). Only a regular file with something in it: the log
/// may be `/dev/null` or a pipe, which cannot be cut (EINVAL) and hold no earlier run.
fn cut_partial_line(file: &File) -> io::Result<()> {
    use std::os::unix::fs::FileExt;
    let meta = file.metadata()?;
    let len = meta.len();
    if !meta.is_file() || len == 0 {
        return Ok(());
    }
    let mut end = len;
    let mut chunk = [0u8; 4096];
    while end > 0 {
        let start = end.saturating_sub(chunk.len() as u64);
        let part = &mut chunk[..(end - start) as usize];
        file.read_exact_at(part, start)?;
        if let Some(lf) = memchr::memrchr(b'\n', part) {
            let keep = start + lf as u64 + 1;
            if keep < len {
                file.set_len(keep)?;
            }
            return Ok(());
        }
        end = start;
    }
    // No line end at all: nothing in it is a whole line.
    file.set_len(0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use hdrhistogram::serialization::interval_log::{IntervalLogIterator, LogEntry};
    use hdrhistogram::serialization::Deserializer;

    #[test]
    fn read_to_write_is_taken_once_the_sink_wrote_past_a_batch() {
        let mut unwritten = Unwritten::default();
        let mut latency = vec![Latency::default(), Latency::default()];
        let t0 = Instant::now();
        unwritten.push(0, 1000, t0, 3);
        unwritten.push(1, 2500, t0 + Duration::from_millis(1), 4);
        // The sink wrote part of the second batch: only the first is in the file.
        unwritten.written(2000, t0 + Duration::from_millis(5), &mut latency);
        let counts = |l: &[Latency]| {
            l.iter()
                .map(|s| s.get(Measure::ReadToWrite).len())
                .collect::<Vec<_>>()
        };
        assert_eq!(counts(&latency), [3, 0]);
        let h = latency[0].get(Measure::ReadToWrite);
        assert!(h.equivalent(h.max(), 5000), "{}", h.max());
        unwritten.written(2500, t0 + Duration::from_millis(9), &mut latency);
        assert_eq!(counts(&latency), [3, 4]);
        let h = latency[1].get(Measure::ReadToWrite);
        assert!(h.equivalent(h.max(), 8000), "{}", h.max());
        // Nothing is taken twice.
        unwritten.written(9999, t0 + Duration::from_millis(20), &mut latency);
        assert_eq!(counts(&latency), [3, 4]);
    }

    #[test]
    fn log_reads_back_with_the_crate_reader() {
        let dir = std::env::temp_dir().join(format!("ztel-latency-{}", std::process::id()));
        let path = dir.join("latency.hlog");
        let mut log = IntervalLog::create(&path).unwrap();
        let mut l = Latency::default();
        l.record(Measure::ReadToSink, Duration::from_micros(250), 1000);
        l.record(Measure::ChannelWait, Duration::from_micros(40), 10);
        let t0 = SystemTime::now();
        log.write(&l, t0, t0 + Duration::from_secs(10)).unwrap();
        l.reset();
        l.record(Measure::ReadToSink, Duration::from_millis(3), 5);
        log.write(
            &l,
            t0 + Duration::from_secs(10),
            t0 + Duration::from_secs(20),
        )
        .unwrap();
        assert_eq!(
            read_back(&path),
            vec![
                (Some("read_to_sink".into()), 1000),
                (Some("channel_wait".into()), 10),
                (Some("read_to_sink".into()), 5)
            ]
        );
        std::fs::remove_dir_all(dir).unwrap();
    }

    /// Each interval's tag and count, read with the crate's reader, which must read all of it.
    fn read_back(path: &Path) -> Vec<(Option<String>, u64)> {
        let text = std::fs::read(path).unwrap();
        let mut counts = Vec::new();
        for entry in IntervalLogIterator::new(&text) {
            if let LogEntry::Interval(i) = entry.unwrap() {
                let bytes = base64::Engine::decode(
                    &base64::engine::general_purpose::STANDARD,
                    i.encoded_histogram(),
                )
                .unwrap();
                let h: Histogram<u64> = Deserializer::new().deserialize(&mut &bytes[..]).unwrap();
                counts.push((i.tag().map(|t| t.as_str().to_owned()), h.len()));
            }
        }
        counts
    }

    /// Regression: every start truncated the log, so a restart wiped the latencies from just
    /// before it. A line a killed run left unfinished is cut, not glued to the next header.
    #[test]
    fn a_restart_appends_and_cuts_an_unfinished_line() {
        let dir = std::env::temp_dir().join(format!("ztel-latency-again-{}", std::process::id()));
        let path = dir.join("latency.hlog");
        let mut l = Latency::default();
        l.record(Measure::ReadToSink, Duration::from_micros(250), 7);
        let t0 = SystemTime::now();
        let mut log = IntervalLog::create(&path).unwrap();
        log.write(&l, t0, t0 + Duration::from_secs(1)).unwrap();
        drop(log);
        let whole = std::fs::read(&path).unwrap();
        let mut file = OpenOptions::new().append(true).open(&path).unwrap();
        file.write_all(b"Tag=read_to_sink,0.000,1.000,250.0,HISTFAAAA")
            .unwrap();
        drop(file);

        let mut log = IntervalLog::create(&path).unwrap();
        l.reset();
        l.record(Measure::ReadToSink, Duration::from_micros(300), 3);
        log.write(&l, t0, t0 + Duration::from_secs(1)).unwrap();
        drop(log);
        let again = std::fs::read(&path).unwrap();
        assert!(again.starts_with(&whole));
        assert!(again[whole.len()..].starts_with(b"#[Logged with ztel"));
        assert_eq!(
            read_back(&path),
            vec![
                (Some("read_to_sink".into()), 7),
                (Some("read_to_sink".into()), 3)
            ]
        );

        // A file with no line end holds no whole line.
        std::fs::write(&path, b"Tag=read_to_sink,0.0").unwrap();
        drop(IntervalLog::create(&path).unwrap());
        assert!(std::fs::read(&path)
            .unwrap()
            .starts_with(b"#[Logged with ztel"));
        std::fs::remove_dir_all(dir).unwrap();
        // The way to keep no log: /dev/null, which cannot be cut, takes the header and intervals.
        let mut log = IntervalLog::create(Path::new("/dev/null")).unwrap();
        log.write(&l, t0, t0 + Duration::from_secs(1)).unwrap();
    }
}
