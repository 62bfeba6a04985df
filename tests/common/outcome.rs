//! What a stopped collector reported and wrote: the counts of its drained summary line and
//! the JSON Lines files in its data_dir, read the same way whichever way it ran.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde_json::Value;

use super::TempDir;

/// What a stopped collector reported and wrote.
pub struct Outcome {
    /// The `ztel: drained:` line as `name → value` (absent names are zero).
    pub counters: BTreeMap<String, u64>,
    pub records: Vec<Value>,
    pub devices: Vec<Value>,
    pub dead_letters: Vec<Value>,
    /// Captured stdout (`--records -`).
    pub stdout: Vec<u8>,
    /// Every stderr line.
    pub stderr: Vec<String>,
    /// The data dir, still there until the outcome is dropped.
    pub data: PathBuf,
    pub(super) _dir: TempDir,
}

impl Outcome {
    /// A counter of the drained line; the line lists only non-zero ones.
    pub fn counter(&self, name: &str) -> u64 {
        self.counters.get(name).copied().unwrap_or(0)
    }

    /// The dead letters with this reason.
    pub fn dead(&self, reason: &str) -> Vec<&Value> {
        self.dead_letters
            .iter()
            .filter(|d| d["reason"] == reason)
            .collect()
    }

    /// Checks that what the drained line counts agrees with what is in the files: records,
    /// dead letters (in total and per reason) and devices, and that nothing failed to be written.
    pub fn assert_counters_match_files(&self) {
        let c = |n: &str| self.counter(n);
        // Shards count the records they make; the aggregator drops replays among them.
        let made: u64 = self
            .counters
            .iter()
            .filter(|(name, _)| name.starts_with("records_"))
            .map(|(_, n)| n)
            .sum();
        assert_eq!(
            made - c("duplicates"),
            self.records.len() as u64,
            "records made less duplicates"
        );
        // Past a batch's cap dead letters are counted and not written.
        assert_eq!(
            c("dead_letters") - c("dead_letters_unkept"),
            self.dead_letters.len() as u64,
            "dead_letters"
        );
        let reasons: &[&str] = if c("dead_letters_unkept") > 0 {
            &[]
        } else {
            &[
                "unknown_format",
                "invalid_utf8",
                "malformed_json",
                "unknown_type",
                "no_device",
                "bad_time",
                "truncated",
                "unframed",
                "repeated_key",
            ]
        };
        for reason in reasons {
            assert_eq!(
                c(&format!("dead_{reason}")),
                self.dead(reason).len() as u64,
                "dead_{reason}"
            );
        }
        let created = self
            .devices
            .iter()
            .filter(|d| d["event"] == "created")
            .count();
        assert_eq!(c("devices"), created as u64, "devices");
        assert_eq!(c("sink_errors"), 0, "sink_errors");
        assert_eq!(
            c("connections_opened"),
            c("connections_closed"),
            "every connection opened was closed"
        );
    }

    /// The records written to stdout (`--records -`), one JSON object per line.
    pub fn stdout_records(&self) -> Vec<Value> {
        parse_jsonl(&self.stdout, "stdout")
    }
}

/// Parses `ztel: drained: a=1 b=2 ... devices=N` into a map. Every token is `name=value`
/// (the only exception is the `nothing received` of a collector that got nothing).
pub fn parse_drained(line: &str) -> BTreeMap<String, u64> {
    let rest = line.strip_prefix("ztel: drained: ").expect("drained line");
    let rest = rest.strip_prefix("nothing received").unwrap_or(rest);
    let mut counters = BTreeMap::new();
    for token in rest.split_whitespace() {
        let (name, value) = token
            .split_once('=')
            .unwrap_or_else(|| panic!("token {token:?} of {line:?} is not name=value"));
        let value: u64 = value
            .parse()
            .unwrap_or_else(|_| panic!("value of {name} in {line:?} is not a number"));
        assert!(
            counters.insert(name.to_owned(), value).is_none(),
            "{name} twice in {line:?}"
        );
    }
    assert!(counters.contains_key("devices"), "no devices= in {line:?}");
    counters
}

/// Reads an output's lines: those of its rotated files (`<stem>-<time>.jsonl`), oldest first,
/// then the file's. No test rotates by size: a rotated file is one a crash tore, rotated away
/// at the next start, and only its last line may be unfinished (left out here).
pub fn read_output(path: &Path) -> Vec<Value> {
    let name = path
        .file_name()
        .and_then(|n| n.to_str())
        .unwrap_or_default();
    let (stem, ext) = name.rsplit_once('.').unwrap_or((name, "jsonl"));
    let (prefix, suffix) = (format!("{stem}-"), format!(".{ext}"));
    let dir = path.parent().unwrap_or(Path::new("."));
    let mut rotated: Vec<PathBuf> = std::fs::read_dir(dir)
        .map(|entries| entries.filter_map(|e| e.ok().map(|e| e.path())).collect())
        .unwrap_or_default();
    rotated.retain(|p| {
        let name = p.file_name().and_then(|n| n.to_str()).unwrap_or_default();
        name.starts_with(&prefix) && name.ends_with(&suffix)
    });
    rotated.sort();
    let mut lines = Vec::new();
    for file in rotated {
        let bytes = std::fs::read(&file).unwrap_or_else(|e| panic!("{}: {e}", file.display()));
        let whole = bytes.iter().rposition(|&b| b == b'\n').map_or(0, |i| i + 1);
        lines.extend(parse_jsonl(&bytes[..whole], &file.display().to_string()));
    }
    lines.extend(read_jsonl(path));
    lines
}

/// Reads a JSON Lines file; a missing file is empty. Every line must be one JSON object.
pub fn read_jsonl(path: &Path) -> Vec<Value> {
    match std::fs::read(path) {
        Ok(bytes) => parse_jsonl(&bytes, &path.display().to_string()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Vec::new(),
        Err(e) => panic!("read {}: {e}", path.display()),
    }
}

pub fn parse_jsonl(bytes: &[u8], what: &str) -> Vec<Value> {
    if bytes.is_empty() {
        return Vec::new();
    }
    assert!(bytes.ends_with(b"\n"), "{what} does not end with a newline");
    let text = std::str::from_utf8(bytes).unwrap_or_else(|e| panic!("{what} is not UTF-8: {e}"));
    text.lines()
        .enumerate()
        .map(|(i, line)| {
            let v: Value = serde_json::from_str(line)
                .unwrap_or_else(|e| panic!("{what} line {}: {e}: {line:?}", i + 1));
            assert!(
                v.is_object(),
                "{what} line {} is not an object: {line}",
                i + 1
            );
            v
        })
        .collect()
}
