//! What the aggregator reports: latency samples per batch and per record, the histogram
//! intervals it logs, and the snapshot the admin endpoint shows.

use std::sync::Arc;
use std::time::{Instant, SystemTime};

use super::latency::{Latency, LatencyView, Measure};
use super::state::{Output, Snapshot};
use super::Aggregator;
use crate::batch::Batch;
use crate::sink::nats::outbox::Outbox;

impl Aggregator {
    /// One sample per batch for the channel wait and the parse time; one per record for
    /// read→sink, taken now that the records are in the sink's hands.
    pub(super) fn record_latency(&mut self, batch: &Batch, received: Instant) {
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
    pub(super) fn note_written(&mut self) {
        let done = self.sinks.records.done();
        self.unwritten
            .written(done, Instant::now(), &mut self.interval);
    }

    /// Merges the shards' histograms of the interval that ends now and logs them.
    pub(super) fn close_interval(&mut self) {
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
        self.last_interval = Arc::new(merged);
        self.interval_start = end;
    }

    /// Copies what the admin endpoint shows.
    pub(super) fn publish(&mut self) {
        // "Since start" includes the interval under way, so that the numbers are current.
        let mut current = self.since_start.clone();
        for shard in &self.interval {
            current.merge(shard);
        }
        let latency = LatencyView {
            since_start: Arc::new(current),
            last_interval: self.last_interval.clone(),
        };
        for (sink, output) in self.sinks.files() {
            self.outputs.rotations[output as usize] = sink.rotations();
        }
        self.outputs.write_errors[Output::Registry as usize] = self.sinks.saver.errors();
        let snapshot = Snapshot {
            shards: self.shards.clone(),
            totals: self.totals.clone(),
            last_record: self.last_record,
            outputs: self.outputs,
            devices: self.devices(),
            registry_bytes: self.registry_bytes(),
            devices_saved: self.sinks.saver.saved(),
            devices_refused: self.devices_refused(),
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
}
