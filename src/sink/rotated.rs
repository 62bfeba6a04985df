//! A sink's rotated files, `<stem>-<UTC time>.<ext>` beside it: their names, the ones there,
//! and the oldest removed.

use std::path::{Path, PathBuf};

/// The name the file at `path` is rotated to now. The time has nine digits of fraction, so that
/// every name is as long and they sort by time.
pub(super) fn rotated_name(path: &Path) -> PathBuf {
    let stamp = jiff::Timestamp::now()
        .strftime("%Y%m%dT%H%M%S%.9fZ")
        .to_string();
    let (stem, ext) = parts(path);
    path.with_file_name(format!("{stem}-{stamp}.{ext}"))
}

/// A rotated name's stem and extension: the file's own, `jsonl` when it has none (so that a
/// rotated file is always named as what it holds).
fn parts(path: &Path) -> (&str, &str) {
    let stem = path.file_stem().and_then(|s| s.to_str());
    let ext = path.extension().and_then(|s| s.to_str());
    (stem.unwrap_or("output"), ext.unwrap_or("jsonl"))
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
                    .is_some_and(|stamp| {
                        stamp.ends_with('Z') && stamp.starts_with(|c: char| c.is_ascii_digit())
                    })
            })
        })
        .collect();
    rotated.sort();
    rotated
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
