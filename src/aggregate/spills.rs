//! Spills: at shutdown, what an output could not write goes to `data_dir/spill-<output>-<unix
//! seconds>.jsonl`; at the next start, before anything else is written, each spill is read back
//! into its output and removed. The duplicate window remembers a spill's records (a list of
//! their identities beside a records spill makes sure of it: [`spill_ids`]), so a feed's replay
//! of them is dropped as repeats: until it is read back, a spill is their only copy.

use std::path::{Path, PathBuf};
use std::time::Duration;

use jiff::Timestamp;
use tracing::Level;

use super::dedup::Window;
use super::state::{Output, OutputCounts};
use super::{spill_ids, Aggregator, Sinks};
use crate::logging::say;
use crate::sink::Sink;

/// The outputs that spill, as their spills are named.
fn label(output: Output) -> String {
    output.as_str().replace('_', "-")
}

/// At shutdown, how long a pipe's reader may take nothing, and how long it is waited for in
/// all, before what it has not taken is spilled ([`crate::sink::Sink::drain_stream`]).
const PIPE_QUIET: Duration = Duration::from_secs(1);
const PIPE_AT_MOST: Duration = Duration::from_secs(10);

impl Aggregator {
    /// At shutdown, before the spill: gives a pipe's live reader the time to take the rest.
    pub(super) fn drain_pipes(&mut self) {
        for (sink, _) in self.sinks.files() {
            sink.drain_stream(PIPE_QUIET, PIPE_AT_MOST);
        }
    }

    /// At shutdown, what could not be written goes to a file of its own in `data_dir`; the
    /// identities of the records spilled to a list beside it first ([`spill_ids`]).
    pub(super) fn spill(&mut self) {
        let stamp = free_stamp(&self.data_dir, Timestamp::now().as_second());
        let records = &self.sinks.records;
        // With `[output.nats]`, only those NATS keeps safe: the others' replay must be
        // published (and is written to the file again).
        let upto = records.taken().min(self.safe_in_nats());
        let from = records.unwritten_from();
        let ids: Vec<(u128, u64)> = match records.backlog() {
            0 => Vec::new(),
            _ => self.recent.unsaved_between(records.done(), upto),
        };
        for (sink, output) in self.sinks.files() {
            let what = label(output);
            let backlog = sink.backlog();
            if backlog == 0 {
                continue;
            }
            self.outputs.spills[output as usize] += 1;
            let path = spill_path(&self.data_dir, output, stamp);
            if output == Output::Records && !ids.is_empty() {
                let list = path.with_extension("ids");
                let ends: Vec<(u128, u64)> =
                    ids.iter().map(|&(id, end)| (id, end - from)).collect();
                if let Err(e) = spill_ids::write(&list, &ends) {
                    tracing::warn!(
                        "cannot write {}: {e}; should the collector be killed before the \
                         duplicate window is saved, a replay of the spilled records is written \
                         twice",
                        list.display()
                    );
                }
            }
            let spilled = sink.spill(&path);
            if spilled.is_err() && output == Output::Records && !path.exists() {
                // Its records are in no spill: a replay must write them. (A spill cut short
                // keeps its list: the next start learns only what it holds whole.)
                let _ = std::fs::remove_file(path.with_extension("ids"));
            }
            match spilled {
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
}

/// Reads the spills of earlier runs in `data_dir` back into their outputs, oldest first, and
/// says what it moved. A spill that cannot be read back (its output failing again, a name of no
/// output) stays, and is named in a warning; so do the later spills of its output, whose lines
/// come after its own.
pub fn read_back_spills(data_dir: &Path, sinks: &mut Sinks, window: &mut Window) -> OutputCounts {
    let mut counts = OutputCounts::default();
    let mut spills: Vec<(Option<(Output, u64)>, String)> = spill_names(data_dir)
        .into_iter()
        .map(|name| (parse(&name), name))
        .collect();
    spills.sort_by_key(|(parsed, name)| (parsed.map(|(_, stamp)| stamp), name.clone()));
    let mut failing: Vec<Output> = Vec::new();
    for (parsed, name) in spills {
        let path = data_dir.join(&name);
        let list = data_dir
            .join(crate::sink::unmarked(&name).0)
            .with_extension("ids");
        // Whether or not it is read back now: its records' replay is dropped meanwhile.
        if parsed.is_some_and(|(output, _)| output == Output::Records) {
            remember(&path, &list, window);
        }
        let Some((output, _)) = parsed.filter(|(output, _)| !failing.contains(output)) else {
            continue;
        };
        let [records, devices, dead_letters] = sinks.files();
        let (sink, _) = match output {
            Output::Records => records,
            Output::Devices => devices,
            _ => dead_letters,
        };
        if read_back(sink, &path, output) {
            counts.read_back[output as usize] += 1;
            let _ = std::fs::remove_file(&list);
        } else {
            failing.push(output);
        }
    }
    forget_lists_without_spill(data_dir);
    // As they are named now: a read-back renames its spill before it starts.
    let mut left = spill_names(data_dir);
    left.sort();
    for (output, _) in left.iter().filter_map(|name| parse(name)) {
        counts.waiting[output as usize] += 1;
    }
    if !left.is_empty() {
        tracing::warn!(
            "{}: {} spill files of earlier runs hold lines never written to their outputs, and \
             were not read back (each start tries again; to append one by hand, stop the \
             collector first, then remove it): {}",
            data_dir.display(),
            left.len(),
            left.join(", ")
        );
    }
    counts
}

/// Has the window remember the records the spill at `path` holds whole, as its list beside it
/// names them: a collector killed before its window was saved had not.
fn remember(path: &Path, list: &Path, window: &mut Window) {
    if !list.exists() {
        return;
    }
    let spilled = std::fs::metadata(path).map_or(0, |m| m.len());
    let learned = spill_ids::read(list, spilled).and_then(|ids| window.learn(ids));
    if let Err(e) = learned {
        tracing::warn!(
            "{}: {e}; the duplicate window may not remember the records of {}, and a replay of \
             them is written twice",
            list.display(),
            path.display()
        );
    }
}

/// Removes the identity lists whose spills were never made (a collector killed between the
/// two): their records are in no file, and a replay must write them.
fn forget_lists_without_spill(data_dir: &Path) {
    let spills: Vec<String> = spill_names(data_dir)
        .iter()
        .map(|name| crate::sink::unmarked(name).0)
        .collect();
    let Ok(entries) = std::fs::read_dir(data_dir) else {
        return;
    };
    for name in entries.filter_map(|e| e.ok()?.file_name().into_string().ok()) {
        let Some(stem) = name
            .strip_prefix("spill-")
            .and_then(|n| n.strip_suffix(".ids"))
        else {
            continue;
        };
        if !spills.contains(&format!("spill-{stem}.jsonl")) {
            let _ = std::fs::remove_file(data_dir.join(&name));
        }
    }
}

/// Reads one spill back into `sink` and says how it went; false when it stays.
fn read_back(sink: &mut Sink, path: &Path, output: Output) -> bool {
    let what = label(output);
    match sink.read_back(path) {
        Ok(read) => {
            let found = match read.found {
                0 => String::new(),
                n => format!(" ({n} bytes before them were there already: a read-back cut short)"),
            };
            tracing::info!(
                "read {} lines ({} bytes) of {what} that an earlier run could not write back \
                 from {} into {}{found}, and removed it",
                read.lines,
                read.bytes,
                path.display(),
                sink.describe()
            );
            if let Some(torn) = read.torn {
                let kept = match torn {
                    Ok(kept) => format!("kept in {}", kept.display()),
                    Err(e) => format!("not kept: {e}"),
                };
                tracing::warn!(
                    "{} ended in a torn line (a crash while it was written): {kept}",
                    path.display(),
                );
            }
            true
        }
        Err(e) => {
            tracing::error!(
                "cannot read {} back into {}: {e}; it stays, for the next start",
                path.display(),
                sink.describe()
            );
            false
        }
    }
}

/// The spills in `data_dir`.
fn spill_names(data_dir: &Path) -> Vec<String> {
    let Ok(entries) = std::fs::read_dir(data_dir) else {
        return Vec::new();
    };
    entries
        .filter_map(Result::ok)
        .filter(|e| e.metadata().is_ok_and(|m| m.is_file()))
        .filter_map(|e| e.file_name().into_string().ok())
        .filter(|name| name.starts_with("spill-") && name.ends_with(".jsonl"))
        .collect()
}

/// `spill-<output>-<unix seconds>.jsonl`: the output it belongs to, and when it was made.
fn parse(name: &str) -> Option<(Output, u64)> {
    // A spill being read back says where its lines go (`crate::sink::readback`).
    let (name, _) = crate::sink::unmarked(name);
    let middle = name.strip_prefix("spill-")?.strip_suffix(".jsonl")?;
    let (what, stamp) = middle.rsplit_once('-')?;
    let stamp = stamp.parse().ok()?;
    [Output::Records, Output::Devices, Output::DeadLetters]
        .into_iter()
        .find(|&o| label(o) == what)
        .map(|o| (o, stamp))
}

/// `stamp`, or the first second after it that names no spill or list of an earlier run (one
/// whose read-back failed in the same second): a spill's list, and the name a read-back gives
/// it, are by its name.
fn free_stamp(data_dir: &Path, mut stamp: i64) -> i64 {
    let spills: Vec<String> = spill_names(data_dir)
        .iter()
        .map(|name| crate::sink::unmarked(name).0)
        .collect();
    let outputs = [Output::Records, Output::Devices, Output::DeadLetters];
    while outputs.iter().any(|&output| {
        let path = spill_path(data_dir, output, stamp);
        let name = path.file_name().map(|n| n.to_string_lossy().into_owned());
        name.is_some_and(|n| spills.contains(&n)) || path.with_extension("ids").exists()
    }) {
        stamp += 1;
    }
    stamp
}

/// Where a spill of `output` made at `stamp` goes.
fn spill_path(data_dir: &Path, output: Output, stamp: i64) -> PathBuf {
    data_dir.join(format!("spill-{}-{stamp}.jsonl", label(output)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_spill_takes_a_name_no_earlier_spill_or_list_has() {
        let dir = std::env::temp_dir().join(format!("ztel-spill-stamp-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        assert_eq!(free_stamp(&dir, 100), 100);
        // A spill of that second whose read-back failed, renamed as a read-back renames it.
        std::fs::write(dir.join("spill-devices-100.at-1-2-3.jsonl"), "x\n").unwrap();
        assert_eq!(free_stamp(&dir, 100), 101);
        // The list of a records spill of the next.
        std::fs::write(dir.join("spill-records-101.ids"), "").unwrap();
        assert_eq!(free_stamp(&dir, 100), 102);
        // Something else in the way is no spill: the spill there fails, and says so.
        std::fs::create_dir(dir.join("spill-records-102.jsonl")).unwrap();
        assert_eq!(free_stamp(&dir, 100), 102);
        std::fs::remove_dir_all(dir).unwrap();
    }
}
