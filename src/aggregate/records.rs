//! The records file and the duplicate window: which of a batch's records are new, where they
//! go (the records sink, and `[output.nats]`), and when their identities may be saved, so that a
//! replay after a crash writes exactly what is missing (`dedup.rs` says how).

use super::state::Output;
use super::Aggregator;
use crate::batch::counters::Counter;
use crate::batch::Batch;

/// How many records ahead the duplicate window's table is fetched: enough for its memory to
/// arrive while those before are written out (`benches/window.rs`).
const PREFETCH_AHEAD: usize = 8;

impl Aggregator {
    /// Writes the batch's records, leaving out those whose identity was seen already; with
    /// `[output.nats]`, hands the new ones to NATS as well. Returns how many it wrote.
    pub(super) fn write_records(&mut self, batch: &mut Batch) -> u64 {
        // Bytes before `from` are taken or skipped.
        let mut from = 0;
        let mut duplicates = 0;
        // A record ends in the records sink where the batch starts, plus its end in the batch,
        // less the bytes of the duplicates before it.
        let base = self.sinks.records.taken();
        let mut skipped = 0;
        // Every record line carries its identity (the pipeline writes lines only with one), so
        // the lines follow each other from identity to identity.
        debug_assert!(batch
            .identities
            .iter()
            .scan(0, |end, id| Some(
                std::mem::replace(end, id.end) == id.start
            ))
            .all(|adjacent| adjacent));
        debug_assert_eq!(
            batch.identities.last().map_or(0, |id| id.end),
            batch.records.len()
        );
        if let Some(nats) = &mut self.sinks.nats {
            nats.begin(batch.records.len(), batch.records.capacity());
        }
        for (i, id) in batch.identities.iter().enumerate() {
            if let Some(ahead) = batch.identities.get(i + PREFETCH_AHEAD) {
                self.recent.prefetch(ahead.hash, PREFETCH_AHEAD);
            }
            let end = base + (id.end - skipped) as u64;
            let first = self.recent.first(id.hash, end);
            if first && self.sinks.nats.is_none() {
                continue;
            }
            let line_start = id.start;
            if let Some(nats) = self.sinks.nats.as_mut().filter(|_| first) {
                nats.record(
                    &batch.records,
                    line_start..id.end - 1,
                    id.hash,
                    id.kind,
                    end,
                );
            }
            if !first {
                if line_start > from {
                    self.sinks.records.take(&batch.records[from..line_start]);
                }
                from = id.end;
                skipped += id.end - line_start;
                duplicates += 1;
            }
        }
        if from < batch.records.len() {
            self.sinks.records.take(&batch.records[from..]);
        }
        let records_len = batch.records.len();
        if let Some(nats) = &mut self.sinks.nats {
            nats.take_records(&mut batch.records);
        }
        // The ends offered to the window were where the records are now.
        debug_assert_eq!(
            base + (records_len - skipped) as u64,
            self.sinks.records.taken()
        );
        if duplicates > 0 {
            self.shards[batch.shard][batch.source as usize].add(Counter::Duplicates, duplicates);
            self.totals.add(Counter::Duplicates, duplicates);
        }
        // Under load the sink writes as its buffer fills, between flushes: the identities of
        // what it wrote are saved at once, not at the next quiet moment.
        if self.sinks.records.is_full() {
            self.flush_records();
        }
        batch.identities.len() as u64 - duplicates
    }

    /// Writes the records taken, with the duplicate window's saves on either side (see
    /// `dedup`): the list of the identities the write may carry before it, the identities of
    /// what it wrote after it, and only then a rotation, so that the list is of the file the
    /// write went to.
    pub(super) fn flush_records(&mut self) {
        let safe = self.safe_in_nats();
        let records = &self.sinks.records;
        let result = self.recent.ahead(records.done(), safe, records.place());
        self.window_saved(result);
        let result = self.sinks.records.write_out();
        self.records_failing = result.is_err();
        self.check(result, Output::Records);
        self.persist_window();
        let result = self.sinks.records.rotate_if_due();
        self.check(result, Output::Records);
    }

    /// Saves the identities whose records are in their file, never one whose record is not:
    /// while a failing disk keeps records in the backlog, their identities wait with them
    /// (saved, a crash would lose the records and drop their replay as duplicates).
    ///
    /// With `[output.nats]`, also never one whose record NATS does not keep safe yet.
    pub(super) fn persist_window(&mut self) {
        let saved = self.safe_end();
        let result = self.recent.persist(saved);
        self.window_saved(result);
        self.sign_receipts();
    }

    /// Signs the receipts of the batches whose records and dead letters are safe now.
    pub(super) fn sign_receipts(&mut self) {
        let safe = super::receipts::Ends {
            records: self.safe_end(),
            dead_letters: self.sinks.dead_letters.done(),
        };
        self.receipts.sign_through(safe);
    }

    /// Counts a failed save of the duplicate window, said at the 1st, 2nd, 4th… failure as other
    /// outputs' are: it is tried at every write of the records, thousands a second on a full
    /// disk.
    fn window_saved(&mut self, result: std::io::Result<()>) {
        if result.is_err() {
            let to = self.data_dir.join(crate::config::WINDOW_FILE);
            let to = to.display().to_string();
            super::outputs::failed(&mut self.outputs, Output::DedupWindow, result, &to);
        }
    }

    /// Where the records end, in what the records sink took, that a crash no longer loses: in
    /// their file (or spilled), and kept safe by `[output.nats]` when it is on.
    pub(super) fn safe_end(&self) -> u64 {
        self.sinks.records.done().min(self.safe_in_nats())
    }

    /// Where in the records sink the records end that `[output.nats]` keeps safe, acknowledged
    /// by JetStream or spooled on disk (everything without it). A collector killed loses what
    /// the NATS thread held in memory; the feed's replay then brings those records again, and
    /// the duplicate window must not have remembered them, or it would drop the replay and they
    /// would never reach the stream. A replay of records the file has already is then written
    /// again (JetStream drops its copies by their message id): twice, never lost.
    pub(super) fn safe_in_nats(&self) -> u64 {
        self.sinks
            .nats
            .as_ref()
            .map_or(u64::MAX, |n| n.durable_end())
    }
}
