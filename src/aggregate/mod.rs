//! The aggregator: one thread fed by the shards' batches. It writes the sinks, merges device
//! deltas into the registry and ZPA connections into the attribution table, adds up counters and
//! latency histograms, and publishes what the admin endpoint shows. Shards have already parsed
//! and serialised everything, so per batch it only writes bytes and merges a few small things.

pub mod attribution;
mod attribution_file;
pub mod dedup;
pub mod latency;
pub mod lists;
mod outputs;
mod receipts;
mod records;
pub mod registry;
mod report;
pub mod saver;
pub mod schedule;
pub mod slots;
mod spill_ids;
mod spills;
pub use spills::read_back_spills;
pub mod state;
pub mod store;
pub mod strings;

use std::path::PathBuf;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

use crossbeam_channel::RecvTimeoutError;
use jiff::Timestamp;

use crate::batch::channel::BatchReceiver;
use crate::batch::counters::Counters;
use crate::batch::{Batch, PerInput, Span};
use crate::sink::nats::outbox::Outbox;
use crate::sink::Sink;
use attribution::SightingRef;
use dedup::Window;
use latency::{IntervalLog, Latency, Unwritten};
use outputs::write_dead_letter;
use registry::write_event;
use saver::Saver;
use schedule::{Job, Schedule};
pub use state::OutputCounts;
use state::{Output, Shared};

/// The aggregator's outputs.
pub struct Sinks {
    pub records: Sink,
    pub devices: Sink,
    pub dead_letters: Sink,
    /// The latency interval log; `None` when it could not be created (said at start).
    pub latency: Option<IntervalLog>,
    /// The device registry on disk, written by a thread of its own.
    pub saver: Saver,
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
    /// Bytes of output that could be neither written nor spilled: the drain was not clean.
    pub lost_bytes: u64,
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

/// Record identities remembered for de-duplication. LSS replays up to 15 minutes after a
/// reconnect, and NSS re-sends what it was unsure of: a million covers a 15-minute replay up to
/// about 1,100 records a second, and 21 s of one at 50,000 (then the older part of a replay is
/// written again: twice, never lost). It costs 32 MiB of memory and a 16 MiB file.
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
    last_interval: Arc<Latency>,
    since_start: Latency,
    /// Batches whose records are not in their file yet, for read→write.
    unwritten: Unwritten,
    /// Senders waiting for their batch's records to be safe (Cloud NSS's 200).
    receipts: receipts::Receipts,
    /// The records sink's last write failed (and what it holds waits for the next).
    records_failing: bool,
    /// When writing out the devices file before a registry save last failed.
    devices_failed: Option<Instant>,
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
            last_interval: Arc::default(),
            since_start: Latency::default(),
            unwritten: Unwritten::default(),
            receipts: receipts::Receipts::default(),
            records_failing: false,
            devices_failed: None,
            recent,
            line: Vec::new(),
        };
        // Every shard's series from the start, zeros included: a scrape (or loadgen's reading
        // before its run) that comes before the first batch sees counters, not an empty page.
        aggregator.publish();
        aggregator
    }

    /// What became of the spills of earlier runs at start ([`read_back_spills`]), for the
    /// metrics.
    pub fn with_spills(mut self, spills: OutputCounts) -> Self {
        self.outputs.read_back = spills.read_back;
        self.outputs.waiting = spills.waiting;
        self.publish();
        self
    }

    /// Runs until every shard has dropped its sender, then flushes.
    pub fn run(mut self) -> Summary {
        self.load_attribution();
        loop {
            self.take_counts();
            // A sink that cannot write holds its backlog: stop taking batches so that shards stop
            // reading and TCP pushes back on senders, and retry. While draining, take everything:
            // what cannot be written is spilled at the end.
            let draining = self.state.draining.load(Ordering::SeqCst);
            if self.backlog() > BACKLOG_LIMIT && !draining {
                self.note_failing(true);
                self.retry_stalled();
            } else {
                // Still taking batches, but holding records it could not write.
                self.note_failing(self.records_failing && self.sinks.records.backlog() > 0);
                match self.rx.recv_timeout(self.schedule.wait(self.backlog() > 0)) {
                    Ok(batch) => {
                        self.handle(batch);
                        // Handed over in large pieces while batches keep coming, and at least
                        // every `HAND_OVER_EVERY` (the job) while they trickle.
                        if let Some(nats) = &mut self.sinks.nats {
                            if nats.is_full() {
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
        // Every shard has hung up: whatever counts they offered last are in the side channel.
        self.take_counts();
        self.merge_devices(true);
        self.flush();
        self.drain_pipes();
        self.note_written();
        if let Some(nats) = &mut self.sinks.nats {
            nats.close();
        }
        // Spilled before the registry's last save, so that no device is saved while its events
        // are only in memory: a kill before the spill would leave it known, never announced.
        self.spill();
        if let Ok(mut registry) = self.state.registry.lock() {
            self.sinks.saver.finish(&mut registry, &self.sinks.devices);
        }
        self.save_attribution();
        // The NATS thread spools what it could not publish as it ends; until then those records
        // are not safe, and a window saved before would not remember them.
        if let Some(nats) = &self.sinks.nats {
            if !nats.wait_finished() {
                tracing::warn!(
                    "output.nats: the NATS thread did not end in time; the duplicate window \
                     leaves out the records it held, and a replay of them is written again"
                );
            }
        }
        // Spilled records are out of the sink's hands as well.
        self.persist_window();
        self.close_interval();
        self.publish();
        Summary {
            totals: self.totals.clone(),
            devices: self.devices(),
            sink_errors: self.outputs.errors(),
            lost_bytes: self.outputs.lost_bytes,
        }
    }

    /// Runs one periodic job; false when it chose to wait.
    fn run_job(&mut self, job: Job) -> bool {
        match job {
            // When the burst is over, so that a reader tailing the files sees records promptly
            // while a busy channel still gets large writes.
            Job::Flush if !self.rx.is_empty() => return false,
            Job::Flush => {
                // An output that cannot write (a full disk) is tried again at a stalled output's
                // pace, not at every flush: one unwritable record counted 3,000 write errors a
                // second and took a tenth of a core.
                let before = self.outputs.errors();
                self.flush_files();
                let failing = self.outputs.errors() > before;
                self.schedule.retry_flush(failing.then_some(RETRY_EVERY));
            }
            Job::HandOver => {
                self.merge_devices(false);
                self.hand_over();
                // What NATS acknowledged since the last write of the records file.
                self.persist_window();
            }
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

    /// Tells `/healthz` whether the outputs fail to write what they hold (and past the backlog's
    /// limit the aggregator takes no batch): failing, since when.
    fn note_failing(&self, failing: bool) {
        let since = &self.state.stalled_since_ms;
        match (failing, since.load(Ordering::Relaxed)) {
            (true, 0) => {
                let now = SystemTime::now().duration_since(SystemTime::UNIX_EPOCH);
                let ms = now.map_or(1, |d| d.as_millis().max(1) as u64);
                since.store(ms, Ordering::Relaxed);
            }
            (false, ms) if ms != 0 => since.store(0, Ordering::Relaxed),
            _ => {}
        }
    }

    /// The counts the shards sent on the side channel, taken even while the records' backlog
    /// keeps batches waiting (see `BatchSender::offer_counts`).
    fn take_counts(&mut self) {
        while let Some(counts) = self.rx.try_recv_counts() {
            self.handle(counts);
        }
    }

    fn handle(&mut self, mut batch: Batch) {
        let received = Instant::now();
        if self.shards.len() <= batch.shard {
            self.shards.resize(batch.shard + 1, PerInput::default());
            self.interval.resize(batch.shard + 1, Latency::default());
        }
        self.shards[batch.shard][batch.source as usize].merge(&batch.counters);
        self.totals.merge(&batch.counters);
        // Only records written: a replay dropped whole does not say records still arrive.
        if self.write_records(&mut batch) > 0 {
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
        if let Some(receipt) = batch.receipt.take() {
            let end = receipts::Ends {
                records: self.sinks.records.taken(),
                dead_letters: self.sinks.dead_letters.taken(),
            };
            self.receipts.push(end, receipt);
            // A batch of repeats only, or whatever is written already: signed at once.
            self.sign_receipts();
        }
        self.rx.give_back(batch);
    }

    fn register_devices(&mut self, batch: &Batch) {
        let now = Timestamp::now();
        let Ok(mut registry) = self.state.registry.lock() else {
            return;
        };
        for delta in &batch.devices {
            let event = registry.apply(&delta.read(&batch.flow_text));
            // Merged into the registry bucket at the next sweep, as the registry has it then.
            if let Some(nats) = &mut self.sinks.nats {
                nats.device_changed(delta.id);
            }
            // Most deltas are a new IP or user, with no event: the device is looked up again
            // only for those that have one (`Option::zip` would look it up for every delta).
            let Some(event) = event else {
                continue;
            };
            let Some(device) = registry.get(delta.id) else {
                continue;
            };
            self.line.clear();
            write_event(event, delta.id, &device, now, &mut self.line);
            let result = self.sinks.devices.write(&self.line);
            // Said as every output's failures are: one line per event flooded the log while
            // a disk was full (2,000 a second).
            if result.is_err() {
                let to = self.sinks.devices.describe();
                outputs::failed(&mut self.outputs, Output::Devices, result, &to);
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
    }

    /// Hands the devices changed since the last sweep to `[output.nats]` for merging into its
    /// registry bucket, as the registry has them now: when due, or at once at shutdown (`all`).
    fn merge_devices(&mut self, all: bool) {
        let now = Instant::now();
        let Some(nats) = &mut self.sinks.nats else {
            return;
        };
        if !all && !nats.merges_due(now) {
            return;
        }
        let Ok(registry) = self.state.registry.lock() else {
            return;
        };
        nats.sweep(now, all, |id| registry.get(id));
    }

    /// Hands the devices that changed to the saving thread.
    fn save_devices(&mut self) {
        // The registry saves only devices whose events are written ([`Saver::save`]): they are
        // written out first, a failing file at a stalled output's pace.
        let due = self
            .devices_failed
            .is_none_or(|at| at.elapsed() >= RETRY_EVERY);
        if self.sinks.devices.backlog() > 0 && due {
            let written = self.sinks.devices.write_out();
            self.devices_failed = written.is_err().then(Instant::now);
            self.check(written, Output::Devices);
        }
        if let Ok(mut registry) = self.state.registry.lock() {
            self.sinks
                .saver
                .save(&mut registry, &self.sinks.devices, Instant::now());
        }
    }

    /// Devices changed since they were last saved, those being saved included.
    fn unsaved_devices(&self) -> usize {
        let unsaved = self.state.registry.lock().map(|r| r.unsaved()).unwrap_or(0);
        unsaved + self.sinks.saver.in_flight()
    }

    /// Adds a batch's ZPA connections to the attribution table: one lock per batch. The table
    /// copies only the strings it has not got (most users and devices it has).
    fn attribute(&mut self, batch: &Batch) {
        let text = |span: &Option<Span>| span.as_ref().map(|s| batch.text(s));
        let Ok(mut table) = self.state.attribution.lock() else {
            return;
        };
        for flow in &batch.flows {
            self.feed_now = self.feed_now.max(Some(flow.seen));
            table.record_ref(SightingRef {
                key: flow.key,
                user: batch.text(&flow.user),
                device: text(&flow.device),
                device_id: flow.device_id,
                session_id: text(&flow.session_id),
                connection_id: text(&flow.connection_id),
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

    fn devices(&self) -> usize {
        self.state.registry.lock().map(|r| r.len()).unwrap_or(0)
    }

    fn devices_refused(&self) -> u64 {
        self.state.registry.lock().map(|r| r.refused()).unwrap_or(0)
    }

    fn registry_bytes(&self) -> usize {
        self.state
            .registry
            .lock()
            .map(|r| r.heap_bytes())
            .unwrap_or(0)
    }
}
