//! Reading a spill back into its sink at start: the lines an earlier run could not write by its
//! shutdown. A spill's records are remembered by the duplicate window, so a feed's replay of them
//! is dropped; the spill is their only copy, and they belong in the output before anything new.
//!
//! All or nothing: the spill is removed only once its every line is in the output and synced, and
//! a read-back that fails (a full disk) takes back what it wrote, so that the spill stays the
//! only copy of its lines and none is written twice when it is read again.

use std::fs::{File, OpenOptions};
use std::io::{self, BufRead, BufReader, Write};
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};

use super::{Sink, Target, WRITE_AT};

/// What reading a spill back moved.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct ReadBack {
    pub lines: u64,
    pub bytes: u64,
    /// A last line without its end (a crash while the spill was written), kept here, not read.
    pub torn: Option<PathBuf>,
}

impl Sink {
    /// Appends the spill's whole lines to this sink, syncs, and removes the spill. Called on a
    /// sink with nothing pending (just opened). On error nothing of the spill stays in the sink,
    /// and a file is cut back to its length before (a FIFO or stdout cannot be: what it took,
    /// it keeps).
    pub fn read_back(&mut self, spill: &Path) -> io::Result<ReadBack> {
        let before = (self.taken, self.place());
        let result = self.append_lines(spill).and_then(|(mut read, fragment)| {
            if let Target::File { file, .. } = &self.target {
                file.sync_data()?;
            }
            if let Some(fragment) = fragment {
                read.torn = Some(keep_torn(spill, &fragment)?);
            }
            std::fs::remove_file(spill)?;
            Ok(read)
        });
        if result.is_err() {
            self.take_back(before);
        }
        result
    }

    /// Appends the spill's whole lines; returns a last line without its end apart.
    fn append_lines(&mut self, spill: &Path) -> io::Result<(ReadBack, Option<Vec<u8>>)> {
        let mut reader = BufReader::with_capacity(WRITE_AT, File::open(spill)?);
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
        self.write_out()?;
        // A FIFO whose reader lags takes part of it: the rest is no more written than read.
        match self.backlog() {
            0 => Ok(()),
            left => Err(io::Error::new(
                io::ErrorKind::WouldBlock,
                format!("{left} bytes not taken"),
            )),
        }
    }

    /// Forgets what a failed read-back took, and cuts the file back to where it ended before.
    fn take_back(&mut self, (taken, place): (u64, Option<super::Place>)) {
        self.pending.clear();
        self.torn = 0;
        self.taken = taken;
        if let (Target::File { file, size, .. }, Some(place)) = (&mut self.target, place) {
            let same = file.metadata().is_ok_and(|m| {
                (m.dev(), m.ino()) == (place.dev, place.ino) && m.len() >= place.offset
            });
            if same && file.set_len(place.offset).is_ok() {
                *size = place.offset;
            }
        }
    }
}

/// Appends a torn last line to `<spill>.torn`, as a torn output file's is kept.
fn keep_torn(spill: &Path, fragment: &[u8]) -> io::Result<PathBuf> {
    let kept_in = PathBuf::from(format!("{}.torn", spill.display()));
    let mut torn = OpenOptions::new()
        .create(true)
        .append(true)
        .open(&kept_in)?;
    torn.write_all(fragment)?;
    torn.write_all(b"\n")?;
    torn.sync_all()?;
    Ok(kept_in)
}

#[cfg(test)]
mod tests;
