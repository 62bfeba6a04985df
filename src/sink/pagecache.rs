//! What of a records file the page cache keeps: its last few megabytes, not all of it.
//!
//! A records file is written once and read, if at all, by a shipper that follows its end. Left
//! to the kernel, every byte of it stays cached until memory runs short, and at hundreds of
//! megabytes a second the file takes the box's free memory within minutes, pushing out pages
//! that are read again (the registry's). Each byte also lands in a page the kernel has to hand
//! over afresh: on a VM whose host takes back the memory the guest frees, that is a fault on the
//! host for every 4 KiB, and it was most of the aggregator's write(2) (perf/README.md, "Where the
//! time goes"). So every [`STEP`] bytes the writeback of what was written is started (as
//! PostgreSQL's `*_flush_after` and RocksDB's `bytes_per_sync` do), and what lies more than
//! [`KEEP`] bytes behind the end, written back by then, is dropped from the cache.
//! Its pages are free again for the next writes: the file's cache stays about [`KEEP`] bytes, and
//! its writes reuse the same pages.
//!
//! That work is a thread's of its own ([`Releaser`]): starting writeback submits megabytes of
//! I/O, and the wait for a range to be on disk is the disk's. On the aggregator, both held up
//! the batches behind them: channel_wait's p99 went from 0.6–1.1 ms to 1.6–3.4 ms at 150,000
//! records a second (perf/README.md, "Where the time goes").

use std::fs::File;
use std::io;
use std::os::fd::AsRawFd;
use std::sync::mpsc::{self, Receiver, SyncSender};
use std::sync::Arc;

/// Writeback is started once this much more was written, and the cache dropped in ranges of
/// whole steps: a multiple of the largest folio (2 MiB) a file system caches.
pub const STEP: u64 = 8 << 20;
/// The end of the file that stays cached, for a shipper that follows it: over a second of
/// records at 50,000 a second, a quarter of a second at the most one shard parses.
pub const KEEP: u64 = 64 << 20;

/// How far writeback was started and the cache dropped, in one file.
#[derive(Debug)]
pub struct Release {
    step: u64,
    keep: u64,
    /// Writeback was started for every byte before this.
    started: u64,
    /// Bytes before this are no longer cached (unless read again).
    dropped: u64,
}

impl Release {
    /// Bytes that were in the file before (a restart's) count as new, so that what the last run
    /// left cached is dropped too once far enough behind.
    fn with(step: u64, keep: u64) -> Release {
        Release {
            step,
            keep,
            started: 0,
            dropped: 0,
        }
    }

    /// After a write that left the file `size` bytes long. An error is the system's.
    pub fn written(&mut self, file: &File, size: u64) -> io::Result<()> {
        if size < self.started + self.step {
            return Ok(());
        }
        let fd = file.as_raw_fd();
        sync_file_range(
            fd,
            self.started,
            size - self.started,
            libc::SYNC_FILE_RANGE_WRITE,
        )?;
        self.started = size;
        // In whole steps: the kernel keeps a page (or a larger folio) that the range covers only
        // in part, and ranges ending anywhere left a page cached at every end.
        let end = size.saturating_sub(self.keep) / self.step * self.step;
        if end > self.dropped {
            // Started at least `keep - step` bytes ago, so normally on disk already: waiting
            // costs nothing then, and the wait is what makes the pages droppable (a dirty page
            // or one still being written stays cached). With a disk slower than the records, it
            // is the disk's pace, which the kernel's dirty limits would impose later anyway.
            sync_file_range(
                fd,
                self.dropped,
                end - self.dropped,
                libc::SYNC_FILE_RANGE_WAIT_BEFORE
                    | libc::SYNC_FILE_RANGE_WRITE
                    | libc::SYNC_FILE_RANGE_WAIT_AFTER,
            )?;
            // SAFETY: posix_fadvise only reads its arguments; `fd` is open for `file`'s lifetime.
            let rc = unsafe {
                libc::posix_fadvise(
                    fd,
                    offset(self.dropped)?,
                    offset(end - self.dropped)?,
                    libc::POSIX_FADV_DONTNEED,
                )
            };
            if rc != 0 {
                return Err(io::Error::from_raw_os_error(rc));
            }
            self.dropped = end;
        }
        Ok(())
    }
}

/// The writer's side: tells the sink's releasing thread, every [`STEP`] bytes, how long the file
/// is. The thread starts at the first step, so a sink that never writes that much (the dead
/// letters) has none.
pub struct Releaser {
    step: u64,
    keep: u64,
    thread: Thread,
    /// The file last told of, and the size told.
    told: Option<(Arc<File>, u64)>,
}

enum Thread {
    NotYet,
    Running(SyncSender<(Arc<File>, u64)>),
    /// It could not be started, or it is gone (said when it went).
    Off,
}

impl Releaser {
    /// [`STEP`] and [`KEEP`].
    pub fn new() -> Releaser {
        Releaser::with(STEP, KEEP)
    }

    /// Other sizes, for tests.
    pub fn with(step: u64, keep: u64) -> Releaser {
        Releaser {
            step,
            keep,
            thread: Thread::NotYet,
            told: None,
        }
    }

    /// After a write that left `file` `size` bytes long. Never blocks: when the thread is
    /// behind, the size is told at the next step, and the thread catches up from there.
    pub fn written(&mut self, file: &Arc<File>, size: u64) {
        let since = match &self.told {
            Some((told, at)) if Arc::ptr_eq(told, file) => *at,
            // Another file (a rotation): from its start.
            _ => 0,
        };
        if size < since + self.step {
            return;
        }
        if let Thread::NotYet = self.thread {
            self.thread = spawn(self.step, self.keep);
        }
        let Thread::Running(tx) = &self.thread else {
            return;
        };
        if let Err(mpsc::TrySendError::Disconnected(_)) = tx.try_send((file.clone(), size)) {
            self.thread = Thread::Off;
        }
        self.told = Some((file.clone(), size));
    }
}

impl Releaser {
    /// The sink writes `file` now, another than before (its path was moved away): the one told
    /// of before is let go at once, here and by the thread, since a file removed by someone
    /// else keeps its disk space while it is held open.
    pub fn switched(&mut self, file: &Arc<File>) {
        self.told = None;
        if let Thread::Running(tx) = &self.thread {
            // Size 0 releases nothing: the thread only takes it for its current file. When
            // its queue is full, the next size told does the same.
            let _ = tx.try_send((file.clone(), 0));
        }
    }
}

/// The releasing thread, or `Off` (said once) when the system has no thread for it: the
/// records are written all the same, only kept cached.
fn spawn(step: u64, keep: u64) -> Thread {
    // A few sizes waiting are plenty: each covers what the ones before it did.
    let (tx, rx) = mpsc::sync_channel(4);
    match std::thread::Builder::new()
        .name("records-cache".into())
        .spawn(move || release(rx, step, keep))
    {
        Ok(_) => Thread::Running(tx),
        Err(e) => {
            tracing::warn!("records files stay in the page cache: no thread to release them: {e}");
            Thread::Off
        }
    }
}

/// Until the sink is dropped: releases each file it is told of. On the system's refusal (a disk
/// failing writeback, a file system that does not take the advice) it stops for that file and
/// says so.
fn release(rx: Receiver<(Arc<File>, u64)>, step: u64, keep: u64) {
    // The file told of last, and how far it is released: `None` once the system refused.
    let mut current: Option<(Arc<File>, Option<Release>)> = None;
    for (file, size) in rx {
        if !current.as_ref().is_some_and(|(f, _)| Arc::ptr_eq(f, &file)) {
            current = Some((file.clone(), Some(Release::with(step, keep))));
        }
        if let Some((_, state)) = &mut current {
            if let Some(Err(e)) = state.as_mut().map(|r| r.written(&file, size)) {
                tracing::warn!("a records file stays in the page cache: {e}");
                *state = None;
            }
        }
    }
}

fn sync_file_range(fd: i32, from: u64, len: u64, flags: u32) -> io::Result<()> {
    // SAFETY: sync_file_range only reads its arguments; `fd` is open for the caller's `File`.
    let rc = unsafe { libc::sync_file_range(fd, offset(from)?, offset(len)?, flags) };
    if rc != 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(())
}

fn offset(n: u64) -> io::Result<libc::off_t> {
    libc::off_t::try_from(n).map_err(|_| io::ErrorKind::InvalidInput.into())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    /// Which pages of `file`'s first `len` bytes are in the page cache (`file` open for reading).
    fn resident(file: &File, len: usize) -> Vec<bool> {
        let page = 4096;
        // SAFETY: a shared read-only mapping of an open file, unmapped before returning; mincore
        // fills one byte per page of it and does not fault any page in.
        unsafe {
            let at = libc::mmap(
                std::ptr::null_mut(),
                len,
                libc::PROT_READ,
                libc::MAP_SHARED,
                file.as_raw_fd(),
                0,
            );
            assert_ne!(at, libc::MAP_FAILED, "{}", io::Error::last_os_error());
            let mut pages = vec![0u8; len.div_ceil(page)];
            let rc = libc::mincore(at, len, pages.as_mut_ptr());
            let err = io::Error::last_os_error();
            libc::munmap(at, len);
            assert_eq!(rc, 0, "{err}");
            pages.iter().map(|p| p & 1 == 1).collect()
        }
    }

    /// A file beside the build, not in /tmp: a tmpfs holds its pages in memory and drops none.
    fn scratch(name: &str) -> (std::path::PathBuf, File) {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("target/tmp")
            .join(format!("pagecache-{name}-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("records.jsonl");
        let file = File::create(&path).unwrap();
        (path, file)
    }

    /// Writes 4 MiB of lines to `file`, telling `written` the size after each write; returns
    /// what was written.
    fn fill(file: &mut File, mut written: impl FnMut(&File, u64)) -> Vec<u8> {
        let lines: Vec<u8> = (0..1000u32)
            .flat_map(|i| format!("{{\"n\":{i}}}\n").into_bytes())
            .collect();
        let mut all = Vec::new();
        while all.len() < 4 << 20 {
            file.write_all(&lines).unwrap();
            all.extend_from_slice(&lines);
            written(file, all.len() as u64);
        }
        all
    }

    /// Cached pages before `dropped`, and pages of the last `keep` bytes not cached.
    fn misplaced(path: &std::path::Path, size: u64, dropped: u64, keep: u64) -> (usize, usize) {
        let pages = resident(&File::open(path).unwrap(), size as usize);
        let kept_from = (size - keep).div_ceil(4096) as usize;
        let early = pages[..(dropped / 4096) as usize].iter().filter(|&&p| p);
        let late = pages[kept_from..].iter().filter(|&&p| !p);
        (early.count(), late.count())
    }

    const STEP: u64 = 64 << 10;
    const KEEP: u64 = 512 << 10;

    #[test]
    fn drops_what_is_far_behind_the_end_and_keeps_the_end() {
        let (path, mut file) = scratch("release");
        let mut release = Release::with(STEP, KEEP);
        let all = fill(&mut file, |f, size| release.written(f, size).unwrap());
        let size = all.len() as u64;
        assert!(size - release.started < STEP, "{release:?}");
        assert!(release.dropped >= size - KEEP - 2 * STEP, "{release:?}");
        assert_eq!(misplaced(&path, size, release.dropped, KEEP), (0, 0));
        // Dropped from the cache, not from the file.
        assert_eq!(std::fs::read(&path).unwrap(), all);
        std::fs::remove_dir_all(path.parent().unwrap()).unwrap();
    }

    #[test]
    fn the_writer_only_tells_and_its_thread_releases() {
        let (path, mut file) = scratch("releaser");
        let all = fill(&mut file, |_, _| {});
        let size = all.len() as u64;
        let file = Arc::new(file);
        let mut releaser = Releaser::with(STEP, KEEP);
        // Told once, as a writer that wrote it all at once would be.
        releaser.written(&file, size);
        assert!(
            matches!(releaser.thread, Thread::Running(_)),
            "a thread after the first step"
        );
        // The thread works on its own: wait for it, boundedly.
        let dropped = (size - KEEP) / STEP * STEP;
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
        while misplaced(&path, size, dropped, KEEP).0 > 0 {
            assert!(std::time::Instant::now() < deadline, "not released in 20 s");
            std::thread::sleep(std::time::Duration::from_millis(5));
        }
        assert_eq!(misplaced(&path, size, dropped, KEEP), (0, 0));
        // Less than a step more: nothing to tell.
        releaser.written(&file, size + STEP - 1);
        assert_eq!(releaser.told.as_ref().map(|t| t.1), Some(size));

        // A rotation: the new file is counted from its start, not from the old one's size.
        let (next_path, next) = scratch("releaser-next");
        let next = Arc::new(next);
        releaser.written(&next, STEP - 1);
        assert!(releaser
            .told
            .as_ref()
            .is_some_and(|t| Arc::ptr_eq(&t.0, &file)));
        releaser.written(&next, STEP);
        assert!(releaser
            .told
            .as_ref()
            .is_some_and(|t| Arc::ptr_eq(&t.0, &next) && t.1 == STEP));
        std::fs::remove_dir_all(path.parent().unwrap()).unwrap();
        std::fs::remove_dir_all(next_path.parent().unwrap()).unwrap();
    }
}
