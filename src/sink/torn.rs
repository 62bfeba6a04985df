//! A line without its end: cut from an output file a crash left it in, or found at a spill's
//! end, and kept in `<path>.torn` (a fragment is no record; the replay brings the record it
//! began).

use std::fs::{File, OpenOptions};
use std::io::{self, Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

use super::Repair;

/// Cuts the file back to its last LF when a crash left a fragment after it; the fragment is
/// appended to `<path>.torn` so that nothing is thrown away, when the disk has room for it.
pub(super) fn repair_tail(path: &Path, file: &mut File) -> io::Result<Option<Repair>> {
    let len = file.metadata()?.len();
    if len == 0 {
        return Ok(None);
    }
    let mut last = [0u8; 1];
    file.seek(SeekFrom::Start(len - 1))?;
    file.read_exact(&mut last)?;
    if last[0] == b'\n' {
        return Ok(None);
    }
    // Look back for the last complete line, a chunk at a time.
    let mut end = len;
    let mut cut = 0;
    let mut chunk = vec![0u8; 64 << 10];
    while end > 0 {
        let start = end.saturating_sub(chunk.len() as u64);
        let part = &mut chunk[..(end - start) as usize];
        file.seek(SeekFrom::Start(start))?;
        file.read_exact(part)?;
        if let Some(i) = memchr::memrchr(b'\n', part) {
            cut = start + i as u64 + 1;
            break;
        }
        end = start;
    }
    let mut fragment = vec![0u8; (len - cut) as usize];
    file.seek(SeekFrom::Start(cut))?;
    file.read_exact(&mut fragment)?;
    let kept_in = keep_torn(path, &fragment, Torn::Append);
    // Cut all the same when it cannot be kept (a full disk): it is no line, the record it began
    // is in no file, and a collector unable to open its output would not start until the disk
    // had room, though it could tell its feeds to wait and say why.
    file.set_len(cut)?;
    Ok(Some(Repair {
        path: path.to_owned(),
        removed: len - cut,
        kept_in,
    }))
}

/// How [`keep_torn`] writes to `<path>.torn`.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(super) enum Torn {
    /// After what earlier repairs of the file kept there.
    Append,
    /// In place of what is there: a spill's own fragment, kept again when its read-back is
    /// tried again.
    Replace,
}

/// Keeps a line without its end in `<path>.torn` (with its end added), synced; the error names
/// that file. A fragment is no record: the replay brings the record it began.
pub(super) fn keep_torn(path: &Path, fragment: &[u8], how: Torn) -> io::Result<PathBuf> {
    let kept_in = PathBuf::from(format!("{}.torn", path.display()));
    let written = OpenOptions::new()
        .create(true)
        .write(true)
        .append(how == Torn::Append)
        .truncate(how == Torn::Replace)
        .open(&kept_in)
        .and_then(|mut torn| {
            torn.write_all(fragment)?;
            torn.write_all(b"\n")?;
            torn.sync_all()
        });
    match written {
        Ok(()) => Ok(kept_in),
        Err(e) => Err(io::Error::new(
            e.kind(),
            format!("{}: {e}", kept_in.display()),
        )),
    }
}
