//! The aggregator's outputs when they fail or must be emptied: flushing, counting and saying
//! failures (spilling at shutdown what could not be written is `spills.rs`'s); and the dead
//! letter line.

use wire::key;
use wire::record::json::Object;

use super::state::{Output, OutputCounts};
use super::{Aggregator, BACKLOG_LIMIT, RETRY_EVERY};
use crate::batch::DeadLetter;
use crate::sink::nats::outbox::Outbox;

impl Aggregator {
    pub(super) fn backlog(&self) -> usize {
        self.sinks.nats.as_ref().map_or(0, Outbox::backlog) + self.files_backlog()
    }

    fn files_backlog(&self) -> usize {
        self.sinks.records.backlog()
            + self.sinks.devices.backlog()
            + self.sinks.dead_letters.backlog()
    }

    /// Tries a stalled hand-over or write again, after a wait. When what holds the backlog is
    /// NATS's hand-over, the wait ends as soon as the NATS thread takes one, and the hand-over
    /// is tried again at once; the files are written too when it took none for [`RETRY_EVERY`]
    /// (the last records taken wait in the sink's buffer for its next write: while NATS moves,
    /// within milliseconds; while it is stuck, not longer than at a stalled sink's pace). Any
    /// other stall waits [`RETRY_EVERY`], the pace of retrying a sink that cannot write, and
    /// tries everything.
    pub(super) fn retry_stalled(&mut self) {
        let files = self.files_backlog();
        if let Some(nats) = self.sinks.nats.as_mut() {
            if nats.is_waiting() && files <= BACKLOG_LIMIT {
                let taken = nats.wait_for_room(RETRY_EVERY);
                nats.send();
                if !taken {
                    self.flush_files();
                }
                return;
            }
        }
        std::thread::sleep(RETRY_EVERY);
        self.flush();
    }

    /// Everything: at shutdown, and while a backlog is retried.
    pub(super) fn flush(&mut self) {
        self.hand_over();
        self.flush_files();
    }

    /// What `[output.nats]` gathered, to its thread.
    pub(super) fn hand_over(&mut self) {
        if let Some(nats) = &mut self.sinks.nats {
            nats.send();
        }
    }

    pub(super) fn flush_files(&mut self) {
        self.flush_records();
        for (sink, output) in self.sinks.files() {
            if output == Output::Records {
                continue;
            }
            let result = sink.flush();
            if result.is_err() {
                failed(&mut self.outputs, output, result, &sink.describe());
            }
        }
        // The dead letters just written may be what a receipt waited for.
        self.sign_receipts();
    }

    pub(super) fn check(&mut self, result: std::io::Result<()>, output: Output) {
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

/// Counts a failed write or flush of `output`, and says so at the 1st, 2nd, 4th, 8th… failure:
/// one line per failure would flood the log while a disk is full (a retry every 250 ms).
pub(super) fn failed(
    counts: &mut OutputCounts,
    output: Output,
    result: std::io::Result<()>,
    to: &str,
) {
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
pub(super) fn write_dead_letter(dead: &DeadLetter, out: &mut Vec<u8>) {
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
