//! The aggregator: one thread fed by the shards' batches. It writes the sinks, merges device
//! deltas into the registry and ZPA connections into the attribution table, adds up counters and
//! latency histograms, and publishes what the admin endpoint shows. Shards have already parsed
//! and serialised everything, so per batch it only writes bytes and merges a few small things.

pub mod attribution;
pub mod dedup;
pub mod latency;
pub mod lists;
pub mod registry;
pub mod schedule;
pub mod slots;
pub mod state;
pub mod store;
pub mod strings;

use std::path::PathBuf;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

use crossbeam_channel::RecvTimeoutError;
use jiff::Timestamp;
use tracing::Level;
use wire::key;
use wire::record::json::Object;

use crate::batch::channel::BatchReceiver;
use crate::batch::counters::{Counter, Counters};
use crate::batch::{Batch, DeadLetter, PerInput, Span};
use crate::logging::say;
use crate::sink::nats::outbox::Outbox;
use crate::sink::Sink;
use attribution::Sighting;
use dedup::Window;
use latency::{IntervalLog, Latency, Measure, Percentiles, Unwritten};
use registry::write_event;
use schedule::{Job, Schedule};
use state::{LatencySummary, Output, OutputCounts, Shared, Snapshot};
use store::Store;

/// The aggregator's outputs.
pub struct Sinks {
    pub records: Sink,
    pub devices: Sink,
    pub dead_letters: Sink,
    /// The latency interval log; `None` when it could not be created (said at start).
    pub latency: Option<IntervalLog>,
    /// The device registry on disk.
    pub store: Store,
    /// `[output.nats]`, when on: records, device events and device merges go there as well.
    pub nats: Option<Outbox>,
}

impl Sinks {
    /// The JSON Lines outputs, each with its label.
    fn files(&mut self) -> [(&mut Sink, Output); 3] {
        [
            (&mut self.records, Output::Records),
            (&mut self.devices, Output::Devices),
            (&mut self.dead_letters, Output::DeadLetters),
        ]
    }
}

/// What the aggregator knew when the last shard hung up.
pub struct Summary {
    pub totals: Counters,
    pub devices: usize,
    pub sink_errors: u64,
}

impl Summary {
    /// `name=value` for every count that is not zero, then the devices: the line `ztel serve`
    /// prints when it has drained.
    pub fn describe(&self) -> String {
        let mut line = format!("{} devices={}", self.totals.summary(), self.devices);
        if self.sink_errors > 0 {
            line.push_str(&format!(" sink_errors={}", self.sink_errors));
        }
        line
    }
}

/// Bytes the sinks may hold unwritten before the aggregator stops taking batches.
const BACKLOG_LIMIT: usize = 16 << 20;
/// How often a stalled sink is retried.
const RETRY_EVERY: Duration = Duration::from_millis(250);

/// Record identities remembered for de-duplication: LSS replays up to 15 minutes after a
/// reconnect, and NSS re-sends what it was unsure of; a million covers both at high rates.
pub const DEDUP_WINDOW: usize = 1 << 20;

pub struct Aggregator {
    rx: BatchReceiver,
    sinks: Sinks,
    /// Shared with the admin endpoint: registry, attribution table, snapshot.
    state: Arc<Shared>,
    schedule: Schedule,
    /// The totals as the last progress line gave them.
    logged: Counters,
    /// The newest ZPA record time: attribution expires by feed time, so that replayed or
    /// delayed logs stay attributable.
    feed_now: Option<Timestamp>,
    /// Counts per shard (index = shard) and input, and in total.
    shards: Vec<PerInput>,
    totals: Counters,
    /// When a record of each input last went to the sink (Unix seconds).
    last_record: [Option<f64>; crate::batch::Source::COUNT],
    outputs: OutputCounts,
    /// Latency per shard over the current interval; merged into the log every interval.
    interval: Vec<Latency>,
    interval_start: SystemTime,
    interval_length: Duration,
    /// The last completed interval and everything since start, merged over shards.
    last_interval: Latency,
    since_start: Latency,
    /// Batches whose records are not in their file yet, for read→write.
    unwritten: Unwritten,
    /// Where a backlog that could not be written is spilled at shutdown.
    data_dir: PathBuf,
    /// Identities of recent records: repeats are dropped.
    recent: Window,
    /// Reused buffer for device-event and dead-letter lines.
    line: Vec<u8>,
}

impl Aggregator {
    pub fn new(
        rx: BatchReceiver,
        sinks: Sinks,
        state: Arc<Shared>,
        shards: usize,
        interval: Duration,
        data_dir: PathBuf,
        recent: Window,
    ) -> Self {
        let mut aggregator = Aggregator {
            data_dir,
            rx,
            sinks,
            state,
            schedule: Schedule::new(interval, crate::systemd::watchdog_every()),
            logged: Counters::default(),
            feed_now: None,
            shards: vec![PerInput::default(); shards],
            totals: Counters::default(),
            last_record: Default::default(),
            outputs: OutputCounts::default(),
            interval: vec![Latency::default(); shards],
            interval_start: SystemTime::now(),
            interval_length: interval,
            last_interval: Latency::default(),
            since_start: Latency::default(),
            unwritten: Unwritten::default(),
            recent,
            line: Vec::new(),
        };
        // Every shard's series from the start, zeros included: a scrape (or loadgen's reading
        // before its run) that comes before the first batch sees counters, not an empty page.
        aggregator.publish();
        aggregator
    }

    /// Runs until every shard has dropped its sender, then flushes.
    pub fn run(mut self) -> Summary {
        loop {
            // A sink that cannot write holds its backlog: stop taking batches so that shards stop
            // reading and TCP pushes back on senders, and retry. While draining, take everything:
            // what cannot be written is spilled at the end.
            let draining = self.state.draining.load(Ordering::SeqCst);
            if self.backlog() > BACKLOG_LIMIT && !draining {
                std::thread::sleep(RETRY_EVERY);
                self.flush();
            } else {
                match self.rx.recv_timeout(self.schedule.wait(self.backlog() > 0)) {
                    Ok(batch) => {
                        self.handle(batch);
                        // Handed over in large pieces while batches keep coming.
                        if let Some(nats) = &mut self.sinks.nats {
                            if nats.is_full() || self.rx.is_empty() {
                                nats.send();
                            }
                        }
                    }
                    Err(RecvTimeoutError::Timeout) => {}
                    Err(RecvTimeoutError::Disconnected) => break,
                }
            }
            let now = Instant::now();
            for job in Job::ALL {
                if self.schedule.is_due(job, now) {
                    let started = Instant::now();
                    if self.run_job(job) {
                        self.schedule.ran(job, now);
                    }
                    schedule::note_slow(job, started);
                }
            }
            self.note_written();
        }
        self.flush();
        self.note_written();
        if let Some(nats) = &mut self.sinks.nats {
            nats.close();
        }
        self.save_devices();
        self.spill();
        self.close_interval();
        self.publish();
        Summary {
            totals: self.totals.clone(),
            devices: self.devices(),
            sink_errors: self.outputs.errors(),
        }
    }

    /// Runs one periodic job; false when it chose to wait.
    fn run_job(&mut self, job: Job) -> bool {
        match job {
            // When the burst is over, so that a reader tailing the files sees records promptly
            // while a busy channel still gets large writes.
            Job::Flush if !self.rx.is_empty() => return false,
            Job::Flush => self.flush(),
            Job::Publish => self.publish(),
            Job::Histograms => self.close_interval(),
            Job::Save => self.save_devices(),
            Job::Expire => self.expire_attribution(),
            Job::Watchdog => crate::systemd::watchdog(),
            Job::Progress => {
                if self.totals != self.logged {
                    tracing::info!(devices = self.devices(), "{}", self.totals.summary());
                    self.logged = self.totals.clone();
                }
            }
        }
        true
    }

    fn handle(&mut self, batch: Batch) {
        let received = Instant::now();
        if self.shards.len() <= batch.shard {
            self.shards.resize(batch.shard + 1, PerInput::default());
            self.interval.resize(batch.shard + 1, Latency::default());
        }
        self.shards[batch.shard][batch.source as usize].merge(&batch.counters);
        self.totals.merge(&batch.counters);
        self.write_records(&batch);
        if batch.records_made() > 0 {
            let now = SystemTime::now().duration_since(SystemTime::UNIX_EPOCH);
            self.last_record[batch.source as usize] = now.ok().map(|d| d.as_secs_f64());
        }
        self.record_latency(&batch, received);
        if !batch.devices.is_empty() {
            self.register_devices(&batch);
        }
        if !batch.flows.is_empty() {
            self.attribute(&batch);
        }
        for dead in &batch.dead {
            self.line.clear();
            write_dead_letter(dead, &mut self.line);
            let result = self.sinks.dead_letters.write(&self.line);
            self.check(result, Output::DeadLetters);
        }
        self.rx.give_back(batch);
    }

    /// Writes the batch's records, leaving out those whose identity was seen already; with
    /// `[output.nats]`, hands the new ones to NATS as well.
    fn write_records(&mut self, batch: &Batch) {
        // Bytes before `from` are written or skipped; bytes before `told` were handed to NATS.
        let mut from = 0;
        let mut told = 0;
        let mut duplicates = 0;
        for id in &batch.identities {
            let first = self.recent.first(id.hash);
            if first && self.sinks.nats.is_none() {
                continue;
            }
            // This record's line runs from the end of the previous one to `id.end`.
            let line_start =
                memchr::memrchr(b'\n', &batch.records[..id.end - 1]).map_or(0, |i| i + 1);
            if let Some(nats) = &mut self.sinks.nats {
                publish_unnamed(nats, &batch.records[told..line_start]);
                if first {
                    nats.record(&batch.records[line_start..id.end - 1], id.hash);
                }
                told = id.end;
            }
            if !first {
                if line_start > from {
                    let result = self.sinks.records.write(&batch.records[from..line_start]);
                    self.check(result, Output::Records);
                }
                from = id.end;
                duplicates += 1;
            }
        }
        if let Some(nats) = &mut self.sinks.nats {
            publish_unnamed(nats, &batch.records[told..]);
        }
        if from < batch.records.len() {
            let result = self.sinks.records.write(&batch.records[from..]);
            self.check(result, Output::Records);
        }
        if duplicates > 0 {
            self.shards[batch.shard][batch.source as usize].add(Counter::Duplicates, duplicates);
            self.totals.add(Counter::Duplicates, duplicates);
        }
        // Under load the sink writes as its buffer fills, between flushes: the identities of
        // what it wrote are saved at once, not at the next quiet moment.
        self.recent.mark(self.sinks.records.taken());
        self.persist_window();
    }

    /// Saves the identities whose records are in their file, never one whose record is not:
    /// while a failing disk keeps records in the backlog, their identities wait with them
    /// (saved, a crash would lose the records and drop their replay as duplicates).
    fn persist_window(&mut self) {
        if let Err(e) = self.recent.persist(self.sinks.records.done()) {
            self.outputs.write_errors[Output::DedupWindow as usize] += 1;
            tracing::error!("cannot save the duplicate window: {e}");
        }
    }

    /// One sample per batch for the channel wait and the parse time; one per record for
    /// read→sink, taken now that the records are in the sink's hands.
    fn record_latency(&mut self, batch: &Batch, received: Instant) {
        let latency = &mut self.interval[batch.shard];
        if let Some(sent) = batch.sent_at {
            latency.record(
                Measure::ChannelWait,
                received.saturating_duration_since(sent),
                1,
            );
        }
        let records = batch.records_made();
        if records == 0 {
            return;
        }
        latency.record(Measure::ParseBatch, batch.parse_time, 1);
        if let Some(read) = batch.read_at {
            latency.record(Measure::ReadToSink, read.elapsed(), records);
            if let Some(sent) = batch.sent_at {
                let held = sent.saturating_duration_since(read);
                latency.record(Measure::ReadToSend, held, records);
            }
            let end = self.sinks.records.taken();
            self.unwritten.push(batch.shard, end, read, records);
        }
    }

    /// Read→write for the batches whose records the records sink has now written.
    fn note_written(&mut self) {
        let done = self.sinks.records.done();
        self.unwritten
            .written(done, Instant::now(), &mut self.interval);
    }

    fn register_devices(&mut self, batch: &Batch) {
        let now = Timestamp::now();
        let Ok(mut registry) = self.state.registry.lock() else {
            return;
        };
        let mut changed = Vec::new();
        for delta in &batch.devices {
            let event = registry.apply(&delta.read(&batch.flow_text));
            if self.sinks.nats.is_some() && !changed.contains(&delta.id) {
                changed.push(delta.id);
            }
            let Some((event, device)) = event.zip(registry.get(delta.id)) else {
                continue;
            };
            self.line.clear();
            write_event(event, delta.id, &device, now, &mut self.line);
            let result = self.sinks.devices.write(&self.line);
            if let Err(e) = result {
                self.outputs.write_errors[Output::Devices as usize] += 1;
                tracing::error!("cannot write devices: {e}");
            }
            if let Some(nats) = &mut self.sinks.nats {
                // The change's id: the same change told by two collectors is one
                // message (the event's own time differs between them).
                let tags: Vec<&str> = device.tags().collect();
                let id = format!(
                    "dev-{:016x}-{}-{}",
                    delta.id,
                    event.as_str(),
                    tags.join("+")
                );
                let line = self.line.strip_suffix(b"\n").unwrap_or(&self.line);
                nats.device_event(line, &id);
            }
        }
        // The registry bucket gets each changed device once per batch, merged there.
        if let Some(nats) = &mut self.sinks.nats {
            for id in changed {
                if let Some(device) = registry.get(id) {
                    nats.device(id, &device);
                }
            }
        }
    }

    /// Writes the devices that changed to the store, in one transaction.
    fn save_devices(&mut self) {
        let Ok(mut registry) = self.state.registry.lock() else {
            return;
        };
        if registry.unsaved() == 0 {
            return;
        }
        match self.sinks.store.save(registry.unsaved_devices()) {
            Ok(()) => registry.saved(),
            Err(e) => {
                // Kept unsaved: the next save tries again.
                self.outputs.write_errors[Output::Registry as usize] += 1;
                tracing::error!("cannot save devices: {e}");
            }
        }
    }

    /// Devices changed since they were last saved.
    fn unsaved_devices(&self) -> usize {
        self.state.registry.lock().map(|r| r.unsaved()).unwrap_or(0)
    }

    /// Adds a batch's ZPA connections to the attribution table: one lock per batch.
    fn attribute(&mut self, batch: &Batch) {
        let owned = |span: &Option<Span>| span.as_ref().map(|s| batch.text(s).to_owned());
        let Ok(mut table) = self.state.attribution.lock() else {
            return;
        };
        for flow in &batch.flows {
            self.feed_now = self.feed_now.max(Some(flow.seen));
            table.record(Sighting {
                key: flow.key,
                user: batch.text(&flow.user).to_owned(),
                device: owned(&flow.device),
                device_id: flow.device_id,
                session_id: owned(&flow.session_id),
                connection_id: owned(&flow.connection_id),
                start: flow.start,
                end: flow.end,
                seen: flow.seen,
            });
        }
    }

    fn expire_attribution(&mut self) {
        if let (Some(now), Ok(mut table)) = (self.feed_now, self.state.attribution.lock()) {
            table.expire(now);
        }
    }

    /// Merges the shards' histograms of the interval that ends now and logs them.
    fn close_interval(&mut self) {
        let end = SystemTime::now();
        let mut merged = Latency::default();
        for shard in &mut self.interval {
            merged.merge(shard);
            shard.reset();
        }
        self.since_start.merge(&merged);
        if let Some(log) = &mut self.sinks.latency {
            if let Err(e) = log.write(&merged, self.interval_start, end) {
                self.outputs.write_errors[Output::Histograms as usize] += 1;
                tracing::error!("cannot write {}: {e}", log.path().display());
            }
        }
        self.last_interval = merged;
        self.interval_start = end;
    }

    fn devices(&self) -> usize {
        self.state.registry.lock().map(|r| r.len()).unwrap_or(0)
    }

    /// Copies what the admin endpoint shows.
    fn publish(&mut self) {
        // "Since start" includes the interval under way, so that the numbers are current.
        let mut current = self.since_start.clone();
        for shard in &self.interval {
            current.merge(shard);
        }
        let latency = Measure::ALL
            .iter()
            .map(|m| LatencySummary {
                name: m.tag(),
                unit: "us",
                since_start: Percentiles::of(current.get(*m)),
                last_interval: Percentiles::of(self.last_interval.get(*m)),
                histogram: current.get(*m).clone(),
            })
            .collect();
        for (sink, output) in self.sinks.files() {
            self.outputs.rotations[output as usize] = sink.rotations();
        }
        let snapshot = Snapshot {
            shards: self.shards.clone(),
            totals: self.totals.clone(),
            last_record: self.last_record,
            outputs: self.outputs,
            devices: self.devices(),
            channel_depth: self.rx.len(),
            channel_capacity: self.rx.capacity(),
            attribution_entries: self.state.attribution.lock().map(|a| a.len()).unwrap_or(0),
            devices_unsaved: self.unsaved_devices(),
            nats: self.sinks.nats.as_ref().map(Outbox::figures),
            interval_secs: self.interval_length.as_secs(),
            latency,
        };
        if let Ok(mut s) = self.state.snapshot.lock() {
            *s = snapshot;
        }
    }

    fn backlog(&self) -> usize {
        self.sinks.nats.as_ref().map_or(0, Outbox::backlog)
            + self.sinks.records.backlog()
            + self.sinks.devices.backlog()
            + self.sinks.dead_letters.backlog()
    }

    /// At shutdown, what could not be written goes to a file of its own in `data_dir`.
    fn spill(&mut self) {
        let stamp = Timestamp::now().as_second();
        for (sink, output) in self.sinks.files() {
            let what = output.as_str().replace('_', "-");
            let backlog = sink.backlog();
            if backlog == 0 {
                continue;
            }
            self.outputs.spills[output as usize] += 1;
            let path = self.data_dir.join(format!("spill-{what}-{stamp}.jsonl"));
            match sink.spill(&path) {
                Ok(n) => say(
                    Level::WARN,
                    format_args!(
                        "could not write {n} bytes of {what} to {}; spilled them to {}",
                        sink.describe(),
                        path.display()
                    ),
                ),
                Err(e) => say(
                    Level::ERROR,
                    format_args!(
                        "could not write {backlog} bytes of {what} to {}, nor spill them to {}: {e}",
                        sink.describe(),
                        path.display()
                    ),
                ),
            }
        }
    }

    fn flush(&mut self) {
        if let Some(nats) = &mut self.sinks.nats {
            nats.send();
        }
        for (sink, output) in self.sinks.files() {
            let result = sink.flush();
            if result.is_err() {
                failed(&mut self.outputs, output, result, &sink.describe());
            }
        }
        self.persist_window();
    }

    fn check(&mut self, result: std::io::Result<()>, output: Output) {
        if result.is_err() {
            let to = match output {
                Output::Records => self.sinks.records.describe(),
                Output::Devices => self.sinks.devices.describe(),
                _ => self.sinks.dead_letters.describe(),
            };
            failed(&mut self.outputs, output, result, &to);
        }
    }
}

/// Hands NATS record lines that carry no identity (none today: the pipeline gives every record
/// one), each under the hash of its own bytes, so that nothing written to the file is missing
/// from the stream.
fn publish_unnamed(nats: &mut Outbox, lines: &[u8]) {
    for line in lines.split(|b| *b == b'\n').filter(|l| !l.is_empty()) {
        nats.record(line, xxhash_rust::xxh3::xxh3_128(line));
    }
}

/// Counts a failed write or flush of `output`, and says so at the 1st, 2nd, 4th, 8th… failure:
/// one line per failure would flood the log while a disk is full (a retry every 250 ms).
fn failed(counts: &mut OutputCounts, output: Output, result: std::io::Result<()>, to: &str) {
    if let Err(e) = result {
        let errors = &mut counts.write_errors[output as usize];
        *errors += 1;
        if errors.is_power_of_two() {
            let what = output.as_str().replace('_', " ");
            tracing::error!(errors = *errors, "cannot write {what} to {to}: {e}");
        }
    }
}

/// A dead letter line: when, why, from whom, and the frame as received (as text when it is
/// UTF-8, else base64 so that nothing is lost).
fn write_dead_letter(dead: &DeadLetter, out: &mut Vec<u8>) {
    use base64::Engine;
    let mut o = Object::begin(out);
    o.time(key!("ts"), dead.received);
    o.str(key!("reason"), dead.reason.as_str());
    o.str(key!("peer"), &dead.peer.to_string());
    match std::str::from_utf8(&dead.raw) {
        Ok(text) => o.str(key!("raw"), text),
        Err(_) => o.str(
            key!("raw_base64"),
            &base64::engine::general_purpose::STANDARD.encode(&dead.raw),
        ),
    }
    o.end_line();
}
