//! The aggregator: one thread fed by the shards' batches. It owns the device registry and the
//! sinks and adds up the counters. Shards have already parsed and serialised everything, so all
//! it does per batch is write bytes and merge a few device deltas.

use std::sync::Arc;
use std::time::{Duration, Instant};

use crossbeam_channel::{Receiver, RecvTimeoutError};
use jiff::Timestamp;

use crate::admin::AdminState;
use crate::attribution::Sighting;
use crate::device::{write_event, Registry};
use crate::json::Object;
use crate::metrics::Counters;
use crate::pipeline::{Batch, DeadLetter};
use crate::sink::Sink;

/// The aggregator's outputs.
pub struct Sinks {
    pub records: Sink,
    pub devices: Sink,
    pub dead_letters: Sink,
}

/// What the aggregator knew when the last shard hung up.
pub struct Summary {
    pub totals: Counters,
    pub devices: usize,
    pub sink_errors: u64,
}

/// How often ended ZPA connections leave the attribution table.
const EXPIRE_EVERY: Duration = Duration::from_secs(5);

/// How often a progress line is logged while data flows.
const PROGRESS_EVERY: Duration = Duration::from_secs(60);

pub struct Aggregator {
    rx: Receiver<Batch>,
    sinks: Sinks,
    /// What the admin endpoint reads: the attribution table lives here.
    state: Arc<AdminState>,
    /// The newest ZPA record time: attribution expires by feed time, so that replayed or
    /// delayed logs stay attributable.
    feed_now: Option<Timestamp>,
    registry: Registry,
    totals: Counters,
    sink_errors: u64,
    /// Reused buffer for device-event and dead-letter lines.
    line: Vec<u8>,
}

impl Aggregator {
    pub fn new(rx: Receiver<Batch>, sinks: Sinks, state: Arc<AdminState>) -> Self {
        Aggregator {
            rx,
            sinks,
            state,
            feed_now: None,
            registry: Registry::default(),
            totals: Counters::default(),
            sink_errors: 0,
            line: Vec::new(),
        }
    }

    /// Runs until every shard has dropped its sender, then flushes.
    pub fn run(mut self) -> Summary {
        let mut last_progress = Instant::now();
        let mut last_expiry = Instant::now();
        let mut logged = Counters::default();
        loop {
            match self.rx.recv_timeout(Duration::from_millis(200)) {
                Ok(batch) => self.handle(batch),
                Err(RecvTimeoutError::Timeout) => {}
                Err(RecvTimeoutError::Disconnected) => break,
            }
            // Flush when the burst is over, so that a reader tailing the files sees records
            // promptly while a busy channel still gets large writes.
            if self.rx.is_empty() {
                self.flush();
            }
            if last_expiry.elapsed() >= EXPIRE_EVERY {
                self.expire_attribution();
                last_expiry = Instant::now();
            }
            if last_progress.elapsed() >= PROGRESS_EVERY && self.totals != logged {
                tracing::info!(devices = self.registry.len(), "{}", self.totals.summary());
                logged = self.totals.clone();
                last_progress = Instant::now();
            }
        }
        self.flush();
        Summary {
            totals: self.totals,
            devices: self.registry.len(),
            sink_errors: self.sink_errors,
        }
    }

    fn handle(&mut self, batch: Batch) {
        self.totals.merge(&batch.counters);
        if !batch.records.is_empty() {
            let result = self.sinks.records.write(&batch.records);
            self.check(result, "records");
        }
        let now = Timestamp::now();
        for delta in &batch.devices {
            if let Some(event) = self.registry.apply(delta) {
                if let Some(device) = self.registry.get(delta.id) {
                    self.line.clear();
                    write_event(event, delta.id, device, now, &mut self.line);
                    let result = self.sinks.devices.write(&self.line);
                    self.check(result, "devices");
                }
            }
        }
        if !batch.flows.is_empty() {
            self.attribute(&batch);
        }
        for dead in &batch.dead {
            self.line.clear();
            write_dead_letter(dead, &mut self.line);
            let result = self.sinks.dead_letters.write(&self.line);
            self.check(result, "dead letters");
        }
    }

    /// Adds a batch's ZPA connections to the attribution table: one lock per batch.
    fn attribute(&mut self, batch: &Batch) {
        let owned =
            |span: &Option<crate::pipeline::Span>| span.as_ref().map(|s| batch.text(s).to_owned());
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

    fn flush(&mut self) {
        for (sink, what) in [
            (&mut self.sinks.records, "records"),
            (&mut self.sinks.devices, "devices"),
            (&mut self.sinks.dead_letters, "dead letters"),
        ] {
            if let Err(e) = sink.flush() {
                self.sink_errors += 1;
                tracing::error!("cannot flush {what} to {}: {e}", sink.describe());
            }
        }
    }

    fn check(&mut self, result: std::io::Result<()>, what: &str) {
        if let Err(e) = result {
            self.sink_errors += 1;
            // One line per failure would flood the log when a disk is full.
            if self.sink_errors.is_power_of_two() {
                tracing::error!(errors = self.sink_errors, "cannot write {what}: {e}");
            }
        }
    }
}

/// A dead letter line: when, why, from whom, and the frame as received (as text when it is
/// UTF-8, else base64 so that nothing is lost).
fn write_dead_letter(dead: &DeadLetter, out: &mut Vec<u8>) {
    use base64::Engine;
    let mut o = Object::begin(out);
    o.time("ts", dead.received);
    o.str("reason", dead.reason.as_str());
    o.str("peer", &dead.peer.to_string());
    match std::str::from_utf8(&dead.raw) {
        Ok(text) => o.str("raw", text),
        Err(_) => o.str(
            "raw_base64",
            &base64::engine::general_purpose::STANDARD.encode(&dead.raw),
        ),
    }
    o.end_line();
}
