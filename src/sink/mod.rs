//! Where JSON lines go: an append-only file in `data_dir` (rotated by size), or stdout; and with
//! `[output.nats]`, a JetStream stream as well ([`nats`], with its spool and registry bucket).
//!
//! A sink keeps what it could not write yet in its own buffer and writes only from there, so a
//! failing disk loses nothing: the aggregator sees the backlog grow, stops taking batches (which
//! stops the shards reading, which pushes back on senders), retries, and at shutdown spills the
//! backlog to a file. A file is never cut: a short write's fragment is completed by the retry,
//! or its line spilled whole at shutdown, and a file that ends in a fragment (a crash, or that
//! spill) is rotated away as it is when it is opened again ([`Mended`]).

pub mod nats;
mod pagecache;
mod pipe;
mod readback;
pub mod rotated;
mod torn;

use std::fs::{File, OpenOptions};
use std::io::{self, Write};
use std::os::unix::fs::{MetadataExt, OpenOptionsExt};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use pagecache::Releaser;
use pipe::stdout_pipe;
pub use readback::{unmarked, Mark, ReadBack};
use rotated::{remove_oldest, rotated_name};
use torn::{keep_torn, mend_tail, Torn};
pub use torn::{whole_lines_of, Mended, Repair};

/// A buffer this full is written out even if more may come. A quarter of a MiB, not a whole
/// one: the copy of each batch into the buffer and `write(2)`'s read of it then cycle through
/// less memory, closer to the core's caches. With 1 MiB the aggregator took a median 1.31 µs an
/// event against 1.08 (`perf/threads.sh`, Sekoia lines with churn, seven runs each, on a 2-core
/// Xeon VM; perf/README.md); the extra writes and duplicate-window saves are a few hundred a
/// second.
const WRITE_AT: usize = 256 << 10;
/// How often a file sink asks whether its path still names the file it writes: one moved away
/// (logrotate without `copytruncate`) would otherwise take the lines until it was full.
const LOOK_EVERY: Duration = Duration::from_secs(1);

enum Target {
    File {
        path: PathBuf,
        /// Shared with the thread that releases its pages (`pagecache`).
        file: Arc<File>,
        size: u64,
        /// The file's device and inode: which file `size` is of, once rotation made another.
        id: (u64, u64),
    },
    /// Not a regular file (`/dev/null`, a FIFO): written in order, never repaired or rotated,
    /// which would rename the device or pipe and put a plain file in its place. A FIFO is
    /// written without blocking: when its reader lags, the rest waits in the backlog.
    Stream {
        path: PathBuf,
        file: File,
        /// Stdout's flags before it was set not to block: given back when the sink goes, for
        /// whatever shares the pipe after (`{ ztel serve --records -; echo done; } | reader`).
        restore: Option<libc::c_int>,
    },
    Stdout(io::Stdout),
}

/// A JSON Lines destination.
pub struct Sink {
    target: Target,
    /// Whole lines not written yet (the first may be partly written: see `torn`).
    pending: Vec<u8>,
    /// Bytes of `pending`'s first line that are already in the file.
    torn: usize,
    /// Rotate the file once it reaches this size (files only).
    rotate_bytes: Option<u64>,
    /// How many rotated files to keep, oldest removed first; `None` keeps them all.
    keep_rotated: Option<usize>,
    /// Bytes taken by `write` since the sink was opened.
    taken: u64,
    /// Bytes taken before the current file: those after go to it ([`Sink::place_of`]).
    file_start: u64,
    /// Files rotated since the sink was opened.
    rotations: u64,
    /// When the path was last looked at ([`LOOK_EVERY`]).
    looked: Instant,
    /// A new file could not be opened at the path of one moved away (said once).
    follow_failed: bool,
    /// Keeps only the end of a file in the page cache.
    releaser: Releaser,
}

/// Where a file sink's next byte lands: in which file (device and inode), at what offset.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Place {
    pub dev: u64,
    pub ino: u64,
    pub offset: u64,
}

impl Sink {
    /// Stdout for "-". A pipe or a socket is written without blocking, as a FIFO is: a reader
    /// that stopped held the aggregator's write, and so the drain at SIGTERM, for as long as it
    /// stopped (for ever if it never reads again); its backlog is held, then spilled at shutdown.
    /// A terminal or a file is written as it is.
    pub fn stdout() -> Sink {
        let target = match stdout_pipe() {
            Some((file, flags)) => Target::Stream {
                path: PathBuf::from("stdout"),
                file,
                restore: Some(flags),
            },
            None => Target::Stdout(io::stdout()),
        };
        Sink {
            target,
            pending: Vec::new(),
            torn: 0,
            rotate_bytes: None,
            keep_rotated: None,
            taken: 0,
            file_start: 0,
            rotations: 0,
            looked: Instant::now(),
            follow_failed: false,
            releaser: Releaser::new(),
        }
    }

    /// Keeps only the newest `n` rotated files: for output whose every line is also counted
    /// (dead letters), where a flood must not fill the disk. The oldest go at once: a file a
    /// crash tore was rotated away as it opened.
    pub fn keep_rotated(mut self, n: usize) -> Sink {
        self.keep_rotated = Some(n);
        if let Target::File { path, .. } = &self.target {
            remove_oldest(path, n);
        }
        self
    }

    /// Opens `path` for appending (creating its folder). A file a crash left ending in a torn
    /// line is rotated away as it is, and a new one started ([`Mended`]). A path that is not a
    /// regular file (`/dev/null`, a FIFO) is written as it is, and not rotated.
    pub fn open(path: &Path, rotate_bytes: Option<u64>) -> io::Result<(Sink, Option<Repair>)> {
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir)?;
        }
        let file = open_for_appending(path)?;
        let (target, repair) = if file.metadata()?.is_file() {
            let (file, repair) = mend_tail(path, file)?;
            let meta = file.metadata()?;
            let target = Target::File {
                path: path.to_owned(),
                file: Arc::new(file),
                size: meta.len(),
                id: (meta.dev(), meta.ino()),
            };
            (target, repair)
        } else {
            let path = path.to_owned();
            let restore = None;
            (
                Target::Stream {
                    path,
                    file,
                    restore,
                },
                None,
            )
        };
        let sink = Sink {
            target,
            pending: Vec::with_capacity(WRITE_AT),
            torn: 0,
            rotate_bytes,
            keep_rotated: None,
            taken: 0,
            file_start: 0,
            rotations: 0,
            looked: Instant::now(),
            follow_failed: false,
            releaser: Releaser::new(),
        };
        Ok((sink, repair))
    }

    /// Takes whole lines. They are written when enough have gathered, or at `flush`.
    pub fn write(&mut self, lines: &[u8]) -> io::Result<()> {
        self.take(lines);
        if self.is_full() {
            self.flush()
        } else {
            Ok(())
        }
    }

    /// Takes whole lines and only keeps them: the caller flushes, once [`Sink::is_full`], after
    /// whatever must come before the write (the duplicate window's list of what it writes).
    pub fn take(&mut self, lines: &[u8]) {
        self.taken += lines.len() as u64;
        self.pending.extend_from_slice(lines);
    }

    /// Enough is pending for a large write.
    pub fn is_full(&self) -> bool {
        self.pending.len() >= WRITE_AT
    }

    /// Where the next byte written lands, for files: the byte taken at [`Sink::done`] goes
    /// there, and those after it follow in order until the next rotation. The file's length is
    /// asked of the system, not counted: another writer's lines, or logrotate's copytruncate,
    /// move it.
    pub fn place(&self) -> Option<Place> {
        match &self.target {
            Target::File { file, size, id, .. } => Some(Place {
                dev: id.0,
                ino: id.1,
                offset: file.metadata().map_or(*size, |m| m.len()),
            }),
            Target::Stream { .. } | Target::Stdout(_) => None,
        }
    }

    /// Where the byte taken at `taken` went or goes, for files: in the current file (counted
    /// back from its end as the system has it, so that a file cut under it gives 0, never past
    /// the bytes written since), or `None` when that byte went to a file rotated since.
    pub fn place_of(&self, taken: u64) -> Option<Place> {
        let now = self.place()?;
        if taken < self.file_start {
            return None;
        }
        let done = self.done();
        let offset = if taken <= done {
            now.offset.saturating_sub(done - taken)
        } else {
            now.offset + (taken - done)
        };
        Some(Place { offset, ..now })
    }

    /// Writes everything pending, then rotates the file if it is due. On error what was not
    /// written stays pending, for a retry.
    pub fn flush(&mut self) -> io::Result<()> {
        self.write_out()?;
        self.rotate_if_due()
    }

    /// Writes everything pending, and does not rotate: for a caller with something to do between
    /// the write and the rotation (the duplicate window's save, which must be of this file).
    pub fn write_out(&mut self) -> io::Result<()> {
        while self.torn < self.pending.len() {
            let result = match &mut self.target {
                Target::File { file, .. } => file.as_ref().write(&self.pending[self.torn..]),
                Target::Stream { file, .. } => file.write(&self.pending[self.torn..]),
                Target::Stdout(out) => out.write(&self.pending[self.torn..]),
            };
            match result {
                Ok(0) => return Err(io::ErrorKind::WriteZero.into()),
                Ok(n) => {
                    if let Target::File { file, size, .. } = &mut self.target {
                        *size += n as u64;
                        self.releaser.written(file, *size);
                    }
                    self.torn += n;
                    // Forget only whole lines: a line cut short by an error must be whole again
                    // in the spill, should it come to that.
                    let written = &self.pending[..self.torn];
                    if let Some(last) = memchr::memrchr(b'\n', written) {
                        self.pending.drain(..=last);
                        self.torn -= last + 1;
                    }
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                // A full pipe (a FIFO): the rest stays pending, retried at the next flush.
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => return Ok(()),
                Err(e) => return Err(e),
            }
        }
        if let Target::Stdout(out) = &mut self.target {
            out.flush()?;
        }
        Ok(())
    }

    /// Whether lines wait to be written to a regular file (a crash would lose them there).
    pub fn holds_back_a_file(&self) -> bool {
        self.backlog() > 0 && matches!(self.target, Target::File { .. })
    }

    /// Bytes taken but not yet written.
    pub fn backlog(&self) -> usize {
        self.pending.len() - self.torn
    }

    /// Files rotated since the sink was opened.
    pub fn rotations(&self) -> u64 {
        self.rotations
    }

    /// Bytes taken since the sink was opened.
    pub fn taken(&self) -> u64 {
        self.taken
    }

    /// Bytes taken since the sink was opened that are out of its hands: whole lines in the
    /// file (or spilled), a crash of the process no longer loses them.
    pub fn done(&self) -> u64 {
        self.taken - self.backlog() as u64
    }

    /// Where it writes, for messages.
    pub fn describe(&self) -> String {
        match &self.target {
            Target::File { path, .. } | Target::Stream { path, .. } => path.display().to_string(),
            Target::Stdout(_) => "stdout".into(),
        }
    }

    /// Where, in bytes taken, a spill of the backlog would begin: at the first line not wholly
    /// in the file.
    pub fn unwritten_from(&self) -> u64 {
        self.taken - self.pending.len() as u64
    }

    /// Writes the backlog to a new file `path` (whole lines). Returns the bytes spilled.
    pub fn spill(&mut self, path: &Path) -> io::Result<usize> {
        if self.pending.is_empty() {
            return Ok(0);
        }
        let mut out = OpenOptions::new().create_new(true).write(true).open(path)?;
        if let Err(e) = out.write_all(&self.pending).and_then(|()| out.sync_all()) {
            // Made just now and left empty (a full disk): it would pass for a spill to look at.
            if out.metadata().is_ok_and(|m| m.len() == 0) {
                let _ = std::fs::remove_file(path);
            }
            return Err(e);
        }
        // A fragment of the first line spilled stays at the file's end, not cut: a shipper that
        // read it would find the file shorter than what it read, and read it all again (or join
        // its fragment to later bytes). The next start rotates the file away as it is.
        let spilled = self.pending.len();
        self.pending.clear();
        self.torn = 0;
        Ok(spilled)
    }

    /// Starts a new file once this one is big enough, at a line boundary, renaming the full one
    /// `<stem>-<UTC time>.<ext>`; or, once its path names another file or none (moved away by
    /// someone else: logrotate), starts a new one there without renaming anything. When the
    /// new file cannot be opened (no descriptor or inode left, something in the way), the lines
    /// go on to the old one, and every later call tries the open again until it works.
    pub fn rotate_if_due(&mut self) -> io::Result<()> {
        let Target::File {
            path,
            file,
            size,
            id,
        } = &mut self.target
        else {
            return Ok(());
        };
        let limit = self.rotate_bytes.unwrap_or(u64::MAX);
        let full = *size >= limit;
        if self.torn > 0 || !(full || self.looked.elapsed() >= LOOK_EVERY) {
            return Ok(());
        }
        self.looked = Instant::now();
        // Renamed only while the path names this file: after a rotation whose open failed it
        // names nothing, or whatever was put there since, which is not ours to rename; renaming
        // it again would fail (ENOENT) at every flush, for good, and the open is what is left.
        let now = std::fs::metadata(&*path)
            .ok()
            .filter(|m| (m.dev(), m.ino()) == *id);
        if let Some(m) = &now {
            // Cut under us (logrotate's copytruncate): not full, whatever was counted.
            if m.len() < limit {
                *size = m.len();
                return Ok(());
            }
        }
        let ours = now.is_some();
        let moved = !ours && !full;
        let mut rotated = None;
        if ours {
            let to = rotated_name(path);
            std::fs::rename(&*path, &to)?;
            self.rotations += 1;
            tracing::info!("rotated {} to {}", path.display(), to.display());
            if let Some(keep) = self.keep_rotated {
                remove_oldest(path, keep);
            }
            rotated = Some(to);
        }
        // A file, as the one it replaces: a FIFO or device put at the path is refused, and the
        // open tried again at the next flush.
        let opened = open_for_appending(path).and_then(|new| {
            let meta = new.metadata()?;
            if !meta.is_file() {
                return Err(io::Error::other(
                    "something other than a file is in the way",
                ));
            }
            Ok((meta, new))
        });
        let (meta, new) = match opened {
            Ok(opened) => opened,
            // Nothing was renamed and nothing is lost: the lines go on to the moved file, as
            // they did before the path was looked at (a removed directory, a data_dir moved
            // aside, a file logrotate made that ztel may not open), and the next look tries
            // again. Said once, not counted as a failing output.
            Err(e) if moved => {
                if !self.follow_failed {
                    self.follow_failed = true;
                    tracing::warn!(
                        "{} no longer names the file written (moved or removed: logrotate?), \
                         and a new one cannot be opened there: {e}; the lines go on to the \
                         moved file, and every second tries again",
                        path.display()
                    );
                }
                return Ok(());
            }
            // Said by the caller after "cannot write … to <path>: ", once in a while.
            Err(e) => {
                let there = match &rotated {
                    Some(to) => format!("renaming it to {}", to.display()),
                    None => "a rotation".into(),
                };
                return Err(io::Error::new(
                    e.kind(),
                    format!(
                        "cannot open it again after {there} (the lines go on to the rotated \
                         file until it can; each flush tries again): {e}"
                    ),
                ));
            }
        };
        if moved {
            self.follow_failed = false;
            tracing::info!(
                "{} no longer names the file written (moved or removed: logrotate?); writing \
                 a new one there",
                path.display()
            );
        }
        *file = Arc::new(new);
        self.releaser.switched(file);
        *size = meta.len();
        *id = (meta.dev(), meta.ino());
        self.file_start = self.taken - (self.pending.len() - self.torn) as u64;
        Ok(())
    }
}

/// Opens (creating) `path` for appending, without blocking, which only a FIFO heeds: one whose
/// reader stopped would block the aggregator's write for ever, the drain at shutdown included;
/// a full pipe is a backlog instead, like a slow disk.
fn open_for_appending(path: &Path) -> io::Result<File> {
    OpenOptions::new()
        .create(true)
        .read(true)
        .append(true)
        .custom_flags(libc::O_NONBLOCK)
        .open(path)
}

#[cfg(test)]
mod tests;
