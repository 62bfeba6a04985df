//! The aggregator's outputs when they fail or must be emptied: flushing, counting and saying
//! failures, and spilling at shutdown what could not be written; and the dead letter line.

use jiff::Timestamp;
use tracing::Level;
use wire::key;
use wire::record::json::Object;

use super::state::{Output, OutputCounts};
use super::{Aggregator, BACKLOG_LIMIT, RETRY_EVERY};
use crate::batch::DeadLetter;
use crate::logging::say;
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

    /// At shutdown, what could not be written goes to a file of its own in `data_dir`.
    pub(super) fn spill(&mut self) {
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
                Err(e) => {
                    self.outputs.lost_bytes += backlog as u64;
                    let (to, spill) = (sink.describe(), path.display());
                    say(
                        Level::ERROR,
                        format_args!(
                            "could not write {backlog} bytes of {what} to {to}, nor spill them \
                             to {spill}: {e}"
                        ),
                    )
                }
            }
        }
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

/// Says, at start, which spills of earlier runs `data_dir` holds: their lines were never written
/// to their outputs, nothing reads them back, and a replay of their records is dropped as
/// repeats (the duplicate window remembers them), so they are the only copy.
pub fn say_leftover_spills(data_dir: &std::path::Path) {
    let Ok(entries) = std::fs::read_dir(data_dir) else {
        return;
    };
    let mut spills: Vec<String> = entries
        .filter_map(Result::ok)
        .filter(|e| e.metadata().is_ok_and(|m| m.is_file() && m.len() > 0))
        .filter_map(|e| e.file_name().into_string().ok())
        .filter(|name| name.starts_with("spill-") && name.ends_with(".jsonl"))
        .collect();
    if spills.is_empty() {
        return;
    }
    spills.sort();
    tracing::warn!(
        "{}: {} spill files of earlier runs hold lines never written to their outputs (the only \
         copy: append each to its file, then remove it): {}",
        data_dir.display(),
        spills.len(),
        spills.join(", ")
    );
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
