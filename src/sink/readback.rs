//! Reading a spill back into its file at start: the lines an earlier run could not write by its
//! shutdown. A spill's records are remembered by the duplicate window, so a feed's replay of them
//! is dropped; the spill is their only copy, and they belong in the output before anything new.
//!
//! No line is lost or written twice, whatever stops the read-back:
//! - Before its first byte goes out, the spill is renamed to say where it goes: the file (device
//!   and inode) and the offset its lines start at (`….at-<dev>-<ino>-<offset>.jsonl`).
//! - It is removed once its every line is in the file and synced (then the folder is synced, so
//!   that a power cut does not bring it back).
//! - A read-back that fails (a full disk) cuts the file back to where it ended, and the spill
//!   stays for the next start.
//! - At the next start, a file that holds exactly the beginning of the spill (whole lines) from
//!   that offset to its end is a read-back that a crash cut short, or one that a crash came after
//!   before the spill could go: only the rest is appended. A crash that tore the read-back's last
//!   line had the file rotated away at that start ([`super::Mended`]): the beginning is looked
//!   for there, and the spill marked again for the new file with how much of it went before
//!   (`…-<offset>-<from>.jsonl`).
//!
//! Only into a regular file: a FIFO, a device or stdout cannot be cut back, and a pipe takes part
//! of a line when its reader lags; their spills stay, for an operator.

use std::fs::File;
use std::io::{self, BufRead, BufReader, Seek, SeekFrom};
use std::os::unix::fs::{FileExt, MetadataExt};
use std::path::{Path, PathBuf};

use super::rotated::file_of;
use super::{keep_torn, Place, Sink, Target, Torn, WRITE_AT};

/// What reading a spill back moved.
#[derive(Debug, Default)]
pub struct ReadBack {
    pub lines: u64,
    pub bytes: u64,
    /// Bytes of the spill an earlier read-back had already put in the file.
    pub found: u64,
    /// A last line without its end (a crash while the spill was written), not read: kept here,
    /// or why it could not be (it is no record; the replay brings the record it began).
    pub torn: Option<io::Result<PathBuf>>,
}

/// Between a spill's own name and where its lines go.
const AT: &str = ".at-";

/// Where a spill's lines go, as its name says: its bytes from `from` on go to `place`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Mark {
    pub place: Place,
    /// Bytes of the spill an earlier read-back put in a file rotated away since (a crash that
    /// tore its last line), which the next read-back goes on from.
    pub from: u64,
}

/// A spill's name without where its lines go, and that place, when the name says one:
/// `….at-<dev>-<ino>-<offset>[-<from>].jsonl`.
pub fn unmarked(name: &str) -> (String, Option<Mark>) {
    let marked = name.strip_suffix(".jsonl").and_then(|stem| {
        let (stem, at) = stem.rsplit_once(AT)?;
        let mut numbers = at.split('-').map(|n| n.parse::<u64>().ok());
        let place = Place {
            dev: numbers.next()??,
            ino: numbers.next()??,
            offset: numbers.next()??,
        };
        let from = numbers.next().map_or(Some(0), |n| n)?;
        numbers
            .next()
            .is_none()
            .then(|| (format!("{stem}.jsonl"), Mark { place, from }))
    });
    match marked {
        Some((name, mark)) => (name, Some(mark)),
        None => (name.to_owned(), None),
    }
}

impl Sink {
    /// Appends the spill's whole lines to this sink's file, syncs, and removes the spill. Called
    /// on a sink with nothing pending (just opened). The lines are the file's, not taken by this
    /// run: the sink's counts stay as they were. On error nothing of the spill stays in the
    /// sink, and the file is cut back to its length before.
    pub fn read_back(&mut self, spill: &Path) -> io::Result<ReadBack> {
        let (Target::File { .. }, Some(now)) = (&self.target, self.place()) else {
            return Err(io::Error::other(
                "its output is no regular file (a FIFO, a device or stdout): it could not be \
                 cut back should the read-back fail, and a pipe may take part of a line",
            ));
        };
        let name = spill
            .file_name()
            .and_then(|n| n.to_str())
            .unwrap_or_default();
        let dir = spill.parent().unwrap_or(Path::new("."));
        let (plain, mark) = unmarked(name);
        let found = match mark {
            Some(mark) => self.found(mark, now, spill)?,
            None => None,
        };
        let (spill, from) = match found {
            Some(Found { from, here: true }) => (spill.to_owned(), from),
            // Nothing more of it found, or its beginning in a file rotated away since: marked
            // for this one, from where it goes on. What its mark says went to a file rotated
            // away before stays there, whatever became of the file it names since (a read-back
            // that failed, then records written after it).
            found => {
                let from = found.map_or(mark.map_or(0, |m| m.from), |f| f.from);
                let stem = plain.strip_suffix(".jsonl").unwrap_or(&plain);
                let more = match from {
                    0 => String::new(),
                    from => format!("-{from}"),
                };
                let to = dir.join(format!(
                    "{stem}{AT}{}-{}-{}{more}.jsonl",
                    now.dev, now.ino, now.offset
                ));
                std::fs::rename(spill, &to)?;
                sync_dir(dir)?;
                (to, from)
            }
        };
        let taken = self.taken;
        let result = self
            .append_from(&spill, from)
            .and_then(|(mut read, fragment)| {
                if let Target::File { file, .. } = &self.target {
                    file.sync_data()?;
                }
                // Not kept on a full disk: the read-back must not wait for room for it.
                read.torn = fragment
                    .map(|f| keep_torn(&dir.join(&plain), &mut f.as_slice(), Torn::Replace));
                std::fs::remove_file(&spill)?;
                // Gone, its lines must stay: a folder that cannot be synced only risks the
                // spill coming back after a power cut, which the next start then finds done.
                let _ = sync_dir(dir);
                read.found = from;
                Ok(read)
            });
        let result = result.map_err(|e| match self.take_back(now) {
            true => e,
            false => io::Error::new(
                e.kind(),
                format!(
                    "{e}; nor could the file be cut back to where it ended (the lines written \
                     of it are written again at the next start)"
                ),
            ),
        });
        self.taken = taken;
        result
    }

    /// How much of the spill the file its mark names holds from there on, when it holds
    /// nothing else there: the spill's bytes from the mark's `from`, whole lines, up to the
    /// file's end. That file is this one, or one rotated away since: a crash tore the read-back's
    /// last line, and the start rotated the file away ([`super::Mended`]) with that fragment
    /// at its end, which is then no line.
    fn found(&self, mark: Mark, now: Place, spill: &Path) -> io::Result<Option<Found>> {
        let Target::File { file, path, .. } = &self.target else {
            return Ok(None);
        };
        let spill = File::open(spill)?;
        let spill_len = spill.metadata()?.len().saturating_sub(mark.from);
        let place = mark.place;
        if (place.dev, place.ino) == (now.dev, now.ino) {
            let Some(have) = now.offset.checked_sub(place.offset) else {
                return Ok(None);
            };
            let whole = holds(file, place.offset, have, &spill, mark.from, spill_len)?;
            let from = whole.filter(|&w| w == have).map(|w| mark.from + w);
            return Ok(from.map(|from| Found { from, here: true }));
        }
        // Not this file (asked above): one rotated away since, if any.
        let Some(rotated) = file_of(path, place.dev, place.ino) else {
            return Ok(None);
        };
        let file = File::open(rotated)?;
        let Some(have) = file.metadata()?.len().checked_sub(place.offset) else {
            return Ok(None);
        };
        let whole = holds(&file, place.offset, have, &spill, mark.from, spill_len)?;
        Ok(whole.map(|w| Found {
            from: mark.from + w,
            here: false,
        }))
    }

    /// Appends the spill's whole lines from `from` on; returns a last line without its end apart.
    fn append_from(&mut self, spill: &Path, from: u64) -> io::Result<(ReadBack, Option<Vec<u8>>)> {
        let mut file = File::open(spill)?;
        file.seek(SeekFrom::Start(from))?;
        let mut reader = BufReader::with_capacity(WRITE_AT, file);
        let mut read = ReadBack::default();
        let mut fragment = None;
        let mut piece = Vec::with_capacity(WRITE_AT);
        loop {
            let start = piece.len();
            // One line at a time, however long: a line is as long as the run that spilled it
            // wrote, never what some count declares.
            if reader.read_until(b'\n', &mut piece)? == 0 {
                break;
            }
            if piece.last() != Some(&b'\n') {
                fragment = Some(piece.split_off(start));
                break;
            }
            read.lines += 1;
            if piece.len() >= WRITE_AT {
                self.write_piece(&mut piece, &mut read)?;
            }
        }
        self.write_piece(&mut piece, &mut read)?;
        Ok((read, fragment))
    }

    fn write_piece(&mut self, piece: &mut Vec<u8>, read: &mut ReadBack) -> io::Result<()> {
        self.take(piece);
        read.bytes += piece.len() as u64;
        piece.clear();
        self.write_out()
    }

    /// Forgets what a failed read-back took, and cuts the file back to where it ended before;
    /// false when it could not be cut.
    fn take_back(&mut self, place: Place) -> bool {
        self.pending.clear();
        self.torn = 0;
        let Target::File { file, size, .. } = &mut self.target else {
            return false;
        };
        let same = file
            .metadata()
            .is_ok_and(|m| (m.dev(), m.ino()) == (place.dev, place.ino) && m.len() >= place.offset);
        if same && file.set_len(place.offset).is_ok() {
            *size = place.offset;
            return true;
        }
        false
    }
}

/// How much of a spill a file holds, and where.
struct Found {
    /// Bytes of the spill in the file: the read-back goes on from there.
    from: u64,
    /// In the sink's file, not in one rotated away since.
    here: bool,
}

/// Whether `file`'s `have` bytes from `at` are the spill's from `from` (which has `spill_len`
/// bytes from there): then how many of them are whole lines.
fn holds(
    file: &File,
    at: u64,
    have: u64,
    spill: &File,
    from: u64,
    spill_len: u64,
) -> io::Result<Option<u64>> {
    if have > spill_len {
        return Ok(None);
    }
    let (mut ours, mut theirs) = (vec![0u8; 64 << 10], vec![0u8; 64 << 10]);
    let (mut done, mut whole) = (0, 0);
    while done < have {
        let n = (have - done).min(ours.len() as u64) as usize;
        file.read_exact_at(&mut ours[..n], at + done)?;
        spill.read_exact_at(&mut theirs[..n], from + done)?;
        if ours[..n] != theirs[..n] {
            return Ok(None);
        }
        if let Some(i) = memchr::memrchr(b'\n', &ours[..n]) {
            whole = done + i as u64 + 1;
        }
        done += n as u64;
    }
    Ok(Some(whole))
}

/// Makes a rename or removal in `dir` survive a power cut.
fn sync_dir(dir: &Path) -> io::Result<()> {
    File::open(dir)?.sync_all()
}

#[cfg(test)]
mod tests;
