//! A line without its end: left at the end of an output file by a crash, or found at a spill's
//! end (kept in `<path>.torn`: a fragment is no record; the replay brings the record it began).

use std::fs::{File, OpenOptions};
use std::io::{self, Read, Seek, SeekFrom, Write};
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};

use super::open_for_appending;
use super::rotated::{file_of, rotated_name};

/// What opening a file had to mend: a crash left a line without its end.
#[derive(Debug)]
pub struct Repair {
    pub path: PathBuf,
    /// Bytes of the line without its end.
    pub fragment: u64,
    pub mended: Mended,
}

/// How a torn file was mended.
#[derive(Debug)]
pub enum Mended {
    /// Rotated away as it is, the fragment still at its end, and a new file started. Nothing a
    /// shipper read shrinks: one that follows the file by its inode (Filebeat, Vector, Fluent
    /// Bit) never ships a last line without its end, and one that finds a file shorter than
    /// what it read (a cut) reads it all again, writing every record twice downstream.
    Rotated(PathBuf),
    /// Cut back to its last whole line where it could not be renamed (the error), the fragment
    /// kept in `<path>.torn` when the disk has room for it (else why not).
    Cut {
        rename: io::Error,
        kept_in: io::Result<PathBuf>,
    },
}

/// What the log says of it.
impl std::fmt::Display for Repair {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let (path, n) = (self.path.display(), self.fragment);
        match &self.mended {
            Mended::Rotated(to) => write!(
                f,
                "{path} ended in a torn line (a crash?): rotated to {} as it is, its last {n} \
                 bytes no line; a new file is started",
                to.display()
            ),
            Mended::Cut { rename, kept_in } => {
                write!(
                    f,
                    "{path} ended in a torn line (a crash?), and could not be rotated away \
                     ({rename}): cut {n} bytes, "
                )?;
                match kept_in {
                    Ok(kept) => write!(f, "kept in {}", kept.display()),
                    Err(e) => write!(f, "not kept: {e}"),
                }
            }
        }
    }
}

/// Mends `file` (opened at `path`) when a crash left a fragment after its last LF: it is
/// rotated away, and the file returned is a new one at `path`. A file that ends in a whole line
/// is returned as it is.
pub(super) fn mend_tail(path: &Path, file: File) -> io::Result<(File, Option<Repair>)> {
    mend_tail_to(path, file, rotated_name)
}

/// [`mend_tail`], the file rotated to the name `to` gives it.
pub(super) fn mend_tail_to(
    path: &Path,
    mut file: File,
    to: impl FnOnce(&Path) -> PathBuf,
) -> io::Result<(File, Option<Repair>)> {
    let len = file.metadata()?.len();
    let Some(cut) = whole_end(&mut file, len)? else {
        return Ok((file, None));
    };
    let fragment = len - cut;
    let to = to(path);
    let rename = match std::fs::rename(path, &to) {
        Ok(()) => {
            // The new name must survive a power cut, or the torn file would be back at the path.
            // A failure from here on names where the file went: the log would not.
            let renamed = |e: io::Error| {
                let to = to.display();
                io::Error::new(e.kind(), format!("{e} (its torn file was rotated to {to})"))
            };
            if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
                File::open(dir)
                    .and_then(|d| d.sync_all())
                    .map_err(renamed)?;
            }
            let repair = Repair {
                path: path.to_owned(),
                fragment,
                mended: Mended::Rotated(to.clone()),
            };
            return Ok((open_for_appending(path).map_err(renamed)?, Some(repair)));
        }
        Err(e) => e,
    };
    // Copied as it is read, not held: without a newline the fragment is the whole file.
    file.seek(SeekFrom::Start(cut))?;
    let kept_in = keep_torn(path, &mut (&file).take(fragment), Torn::Append);
    // Cut all the same when it cannot be kept (a full disk): it is no line, the record it began
    // is in no file, and a collector unable to open its output would not start until the disk
    // had room, though it could tell its feeds to wait and say why.
    file.set_len(cut)?;
    let repair = Repair {
        path: path.to_owned(),
        fragment,
        mended: Mended::Cut { rename, kept_in },
    };
    Ok((file, Some(repair)))
}

/// Where the whole lines end in the file of device `dev` and inode `ino`, found at `path` or
/// among its rotated files: the file a list of identities written ahead of a write was measured
/// against ([`crate::aggregate::dedup`]), whether it still has its name or was rotated away
/// since (by size, or at a start that found it torn, which a crash may have cut short before the
/// list was read). `None` when no such file is there.
pub fn whole_lines_of(path: &Path, dev: u64, ino: u64) -> Option<u64> {
    let mut file = File::open(file_of(path, dev, ino)?).ok()?;
    let meta = file.metadata().ok()?;
    // Renamed again between the two: not the file asked for.
    if (meta.dev(), meta.ino()) != (dev, ino) {
        return None;
    }
    match whole_end(&mut file, meta.len()) {
        Ok(None) => Some(meta.len()),
        Ok(Some(cut)) => Some(cut),
        Err(_) => None,
    }
}

/// Where the last whole line of a file of `len` bytes ends, when bytes without an LF follow it
/// (0 when no line is whole); `None` when the file ends in an LF or is empty.
fn whole_end(file: &mut File, len: u64) -> io::Result<Option<u64>> {
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
    let mut chunk = vec![0u8; 64 << 10];
    while end > 0 {
        let start = end.saturating_sub(chunk.len() as u64);
        let part = &mut chunk[..(end - start) as usize];
        file.seek(SeekFrom::Start(start))?;
        file.read_exact(part)?;
        if let Some(i) = memchr::memrchr(b'\n', part) {
            return Ok(Some(start + i as u64 + 1));
        }
        end = start;
    }
    Ok(Some(0))
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
pub(super) fn keep_torn(path: &Path, fragment: &mut dyn Read, how: Torn) -> io::Result<PathBuf> {
    let kept_in = PathBuf::from(format!("{}.torn", path.display()));
    let written = OpenOptions::new()
        .create(true)
        .write(true)
        .append(how == Torn::Append)
        .truncate(how == Torn::Replace)
        .open(&kept_in)
        .and_then(|mut torn| {
            io::copy(fragment, &mut torn)?;
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
