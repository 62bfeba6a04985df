//! A sink's rotated files, `<stem>-<UTC time>.<ext>` beside it: their names, the ones there,
//! and the oldest removed.

use std::path::{Path, PathBuf};

use crate::config::rotated_parts as parts;

/// A rotated name's time: nine digits of fraction, so that every name is as long and names
/// sort as their times do.
const STAMP: &str = "%Y%m%dT%H%M%S%.9fZ";

/// The name the file at `path` is rotated to now: the time, unless that does not sort after
/// every rotated file already there (a clock set back, or stopped), then a nanosecond after the
/// newest. Names sort in the order the files were written, which the "keep the newest" removal,
/// the devices file's crash merge and shippers that read rotated files in name order all take
/// for it, and a rotation never takes the name of an earlier one: the rename would have
/// replaced that file, with its lines.
pub(super) fn rotated_name(path: &Path) -> PathBuf {
    let (stem, ext) = parts(path);
    let name =
        |at: jiff::Timestamp| path.with_file_name(format!("{stem}-{}.{ext}", at.strftime(STAMP)));
    // A name at the end of jiff's time (9999-12-30T22:00:00.999999999Z, a name anyone may
    // put there) has no time after it: the clock's, out of order, rather than a panic at
    // every rotation.
    let after = |t: jiff::Timestamp| {
        t.checked_add(jiff::SignedDuration::from_nanos(1))
            .unwrap_or_else(|_| jiff::Timestamp::now())
    };
    let mut at = jiff::Timestamp::now();
    if let Some(newest) = rotated_files(path).last() {
        if name(at) <= *newest {
            at = stamp_of(newest, stem, ext).map_or(at, after);
        }
    }
    // Only another writer in the folder could have taken it since.
    while name(at).exists() {
        at = after(at);
    }
    name(at)
}

/// The time a rotated file's name says.
fn stamp_of(rotated: &Path, stem: &str, ext: &str) -> Option<jiff::Timestamp> {
    let name = rotated.file_name()?.to_str()?;
    let stamp = name
        .strip_prefix(stem)?
        .strip_prefix('-')?
        .strip_suffix(ext)?;
    let civil = stamp.strip_suffix(".")?.strip_suffix('Z')?;
    let civil = jiff::civil::DateTime::strptime("%Y%m%dT%H%M%S%.f", civil).ok()?;
    jiff::tz::TimeZone::UTC.to_timestamp(civil).ok()
}

/// The rotated files of `path`, oldest first: their names sort by time.
pub fn rotated_files(path: &Path) -> Vec<PathBuf> {
    let Some(dir) = path.parent() else {
        return Vec::new();
    };
    let (stem, ext) = parts(path);
    let dir = if dir.as_os_str().is_empty() {
        Path::new(".")
    } else {
        dir
    };
    let prefix = format!("{stem}-");
    let suffix = format!(".{ext}");
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut rotated: Vec<PathBuf> = entries
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| {
            p.file_name().and_then(|n| n.to_str()).is_some_and(|n| {
                n.strip_prefix(&prefix)
                    .and_then(|rest| rest.strip_suffix(&suffix))
                    .is_some_and(is_stamp)
            })
        })
        .collect();
    rotated.sort();
    rotated
}

/// Whether `text` is a rotated name's time (`20261205T013139.665824090Z`, [`STAMP`]; a fraction
/// of fewer digits taken too), and nothing more: another output's rotated files
/// (`dead-letter-2-<time>.jsonl` beside `dead-letter.jsonl`'s) are not this file's, to be
/// removed with them.
fn is_stamp(text: &str) -> bool {
    let b = text.as_bytes();
    let digits =
        |r: std::ops::Range<usize>| b.get(r).is_some_and(|d| d.iter().all(u8::is_ascii_digit));
    let fraction = match b.get(15..b.len().saturating_sub(1)) {
        Some([]) => true,
        Some([b'.', rest @ ..]) => {
            (1..=9).contains(&rest.len()) && rest.iter().all(u8::is_ascii_digit)
        }
        _ => false,
    };
    digits(0..8) && b.get(8) == Some(&b'T') && digits(9..15) && fraction && b.last() == Some(&b'Z')
}

/// The regular file of device `dev` and inode `ino` at `path` or among its rotated files: the
/// file a saved place names, under its name or renamed since. Each name is asked before anything
/// opens it (opening a FIFO to read may wait for a writer).
pub fn file_of(path: &Path, dev: u64, ino: u64) -> Option<PathBuf> {
    use std::os::unix::fs::MetadataExt;
    std::iter::once(path.to_owned())
        .chain(rotated_files(path))
        .find(|candidate| {
            std::fs::metadata(candidate)
                .is_ok_and(|m| m.is_file() && (m.dev(), m.ino()) == (dev, ino))
        })
}

/// Removes rotated files of `path` but the newest `keep`.
pub(super) fn remove_oldest(path: &Path, keep: usize) {
    let rotated = rotated_files(path);
    let excess = rotated.len().saturating_sub(keep);
    for old in &rotated[..excess] {
        match std::fs::remove_file(old) {
            Ok(()) => tracing::info!("removed {} (keeping the newest {keep})", old.display()),
            Err(e) => tracing::warn!("cannot remove {}: {e}", old.display()),
        }
    }
}
