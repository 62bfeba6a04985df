//! The spool: frames on their way to NATS, on disk in `data_dir/nats-spool`, oldest first.
//!
//! Frames come here while NATS is unreachable or failing, and from memory when the publisher
//! stops being live or the collector stops ([`super::queue::Queue`]): the aggregator's bytes are
//! appended as they come, the publisher reads them back and moves the head past them once
//! JetStream acknowledged them. A frame is out of the spool's hands only when acknowledged; a
//! collector stopped (or killed) before that publishes it again at its next start, under the
//! same `Nats-Msg-Id`, which JetStream's duplicate window drops if it had arrived.
//!
//! Files: segments of whole frames (a batch is never split across two), `<n>.sealed` (or
//! `<n>.seg`, bare frames from a build before seals: [`segment`]), and `head`, where the first
//! unacknowledged frame is (segment and offset, 16 bytes). Segments wholly before the head are
//! removed. A segment that ends in a torn frame (a crash mid-append) is cut back to its last
//! whole frame when the spool is opened. Frames are kept sealed under a checksum
//! ([`super::seal`]), checked when the spool is opened and again when read: bytes changed on
//! disk are passed over to the next seal that matches, what they held counted as never
//! published.

use std::collections::VecDeque;
use std::fs::{self, File, OpenOptions};
use std::io::{self, Write};
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};

use super::frame::{self, FrameError, HEADER, SEALED};
use super::seal::{self, SEAL_HEAD};
use segment::read_at;

/// A segment this large is closed and a new one started: what was published is given back to
/// the disk a segment at a time.
const SEGMENT_BYTES: u64 = 64 << 20;

/// A place in the spool.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Default)]
pub struct Cursor {
    pub segment: u64,
    pub offset: u64,
}

/// Frames read for publishing, and where the spool's head goes once they are acknowledged.
#[derive(Debug, Default)]
pub struct Chunk {
    /// Whole `R` and `K` frames, out of their seals.
    pub bytes: Vec<u8>,
    pub end: Cursor,
    /// The messages of the seals that read in what the chunk covers: what acknowledging it
    /// takes off [`Spool::messages`]. (A seal damaged after it was appended in this run stays
    /// in that count until the spool empties; one damaged before the spool was opened was
    /// never in it.)
    pub messages: u64,
    /// Messages passed over because their bytes changed on disk (at least one for bytes that
    /// are no frame at all): never published, in the records file only.
    pub damaged: u64,
}

pub struct Spool {
    dir: PathBuf,
    /// Unacknowledged bytes past which `has_room` says no.
    limit: u64,
    /// [`SEGMENT_BYTES`]; smaller in tests.
    segment_bytes: u64,
    /// Segments on disk, oldest first, with their sizes; the last is appended to.
    segments: VecDeque<(u64, u64)>,
    tail: File,
    head_file: File,
    /// The first unacknowledged byte.
    head: Cursor,
    /// The next byte to hand to the publisher (at or after `head`).
    next: Cursor,
    reader: Option<(u64, File)>,
    /// Segments of bare frames, written by a build before seals: the only ones where a frame
    /// outside a seal is read (elsewhere it is damage).
    bare: Vec<u64>,
    /// Damage before this place was counted and said already (a rewind reads it again).
    said_to: Cursor,
    /// Damaged places passed over since the spool was opened.
    damaged_places: u64,
    /// No seal that matches was found from here to the end of its segment (until the next
    /// append): a damaged seal after it is stepped over by its length, not searched from again
    /// (each search would read the rest of the segment).
    none_after: Option<Cursor>,
    /// Unacknowledged records and device events, as their seals say.
    messages: u64,
}

impl Spool {
    /// Opens (or creates) the spool in `dir`, with what an earlier run left unacknowledged.
    pub fn open(dir: &Path, limit: u64) -> io::Result<Spool> {
        fs::create_dir_all(dir)?;
        let mut numbers = segment::list(dir)?;
        for (n, bare) in &mut numbers {
            if *bare && segment::holds_seals(dir, *n)? {
                *bare = false;
            }
        }
        let head_file = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(dir.join("head"))?;
        let mut raw = [0u8; 16];
        let mut head = match head_file.read_exact_at(&mut raw, 0) {
            Ok(()) => Cursor {
                segment: u64::from_le_bytes(raw[..8].try_into().unwrap_or_default()),
                offset: u64::from_le_bytes(raw[8..].try_into().unwrap_or_default()),
            },
            Err(_) => Cursor::default(),
        };
        if !numbers.iter().any(|(n, _)| *n == head.segment) {
            head = Cursor {
                segment: numbers.first().map_or(1, |(n, _)| *n),
                offset: 0,
            };
        }
        let mut segments = VecDeque::new();
        let mut messages = 0;
        let mut bare = Vec::new();
        let mut head_moved = false;
        for (n, is_bare) in numbers {
            let path = segment::path(dir, n, is_bare);
            if n < head.segment {
                fs::remove_file(&path)?;
                continue;
            }
            let from = if n == head.segment { head.offset } else { 0 };
            let scan = segment::scan(&path, from, is_bare)?;
            if scan.cut {
                tracing::warn!(
                    "{}: ends in a torn frame (a crash while spooling?); cut back to {} bytes",
                    path.display(),
                    scan.end
                );
                OpenOptions::new()
                    .write(true)
                    .open(&path)?
                    .set_len(scan.end)?;
            }
            // Neither the head nor the segments are synced: after a power loss the saved head
            // may point past what its segment kept. What is there is read from its end.
            if n == head.segment && head.offset > scan.end {
                tracing::warn!(
                    "{}: the spool's head is at byte {} but the segment holds {}; \
                     reading on from its end",
                    path.display(),
                    head.offset,
                    scan.end
                );
                head.offset = scan.end;
                head_moved = true;
            }
            messages += scan.messages;
            if scan.damaged > 0 {
                tracing::warn!(
                    "{}: {} places changed on disk since they were written; passed over when \
                     published, and what they held counted then",
                    path.display(),
                    scan.damaged
                );
            }
            if is_bare {
                bare.push(n);
            }
            segments.push_back((n, scan.end));
        }
        if segments.is_empty() {
            segments.push_back((head.segment, 0));
            File::create(segment::path(dir, head.segment, false))?;
        }
        // Seals go to a sealed segment: not after an older build's bare frames.
        if let Some(&(n, _)) = segments.back().filter(|(n, _)| bare.contains(n)) {
            let next = segment::after(n)?;
            segments.push_back((next, 0));
            File::create(segment::path(dir, next, false))?;
        }
        let (last, _) = segments.back().copied().unwrap_or_default();
        let tail = OpenOptions::new()
            .append(true)
            .open(segment::path(dir, last, false))?;
        let spool = Spool {
            dir: dir.to_owned(),
            limit,
            segment_bytes: SEGMENT_BYTES,
            segments,
            tail,
            head_file,
            head,
            next: head,
            reader: None,
            bare,
            said_to: Cursor::default(),
            damaged_places: 0,
            none_after: None,
            messages,
        };
        // Saved at once: frames appended past the old head and then torn by a crash would
        // otherwise be scanned from the old head, mid-frame, and cut away at the next open.
        if head_moved {
            spool.save_head()?;
        }
        Ok(spool)
    }

    /// Unacknowledged bytes: from the head to the end, damaged ones included (they are passed
    /// over only as the head moves past them).
    pub fn bytes(&self) -> u64 {
        self.segments
            .iter()
            .filter(|(n, _)| *n >= self.head.segment)
            .map(|&(n, size)| {
                let from = if n == self.head.segment {
                    self.head.offset
                } else {
                    0
                };
                size.saturating_sub(from)
            })
            .sum()
    }

    /// Unacknowledged records and device events.
    pub fn messages(&self) -> u64 {
        self.messages
    }

    pub fn is_empty(&self) -> bool {
        self.bytes() == 0
    }

    /// True when `n` more bytes of frames fit, sealed as [`Spool::append`] writes them (the
    /// seals' heads counted: the spool went past its limit by them). An empty spool takes
    /// anything, so that a batch larger than the limit cannot wait for ever.
    pub fn has_room(&self, n: usize) -> bool {
        let bytes = self.bytes();
        bytes == 0 || bytes.saturating_add(seal::sealed_len_at_most(n) as u64) <= self.limit
    }

    /// Appends whole frames, sealed; returns the bytes written. On an error nothing was
    /// appended, so the caller may try again.
    pub fn append(&mut self, frames: &[u8]) -> io::Result<u64> {
        if frames.is_empty() {
            return Ok(0);
        }
        let mut sealed = Vec::with_capacity(frames.len() + frames.len() / 64 + 64);
        let messages = seal::seal(&mut sealed, frames);
        // A full segment is closed before the write, not after it: were the next one not to
        // open, the frames written would be written again by the caller's next attempt.
        if self
            .segments
            .back()
            .is_some_and(|(_, size)| *size >= self.segment_bytes)
        {
            let number = match self.segments.back() {
                Some(&(n, _)) => segment::after(n)?,
                None => 1,
            };
            self.tail = OpenOptions::new()
                .create(true)
                .append(true)
                .open(segment::path(&self.dir, number, false))?;
            self.segments.push_back((number, 0));
        }
        let Some(last) = self.segments.back_mut() else {
            return Err(io::Error::other("spool has no segment"));
        };
        if let Err(e) = self.tail.write_all(&sealed) {
            // A partial write is cut off, so that the segment holds whole frames only.
            let _ = self.tail.set_len(last.1);
            return Err(e);
        }
        last.1 += sealed.len() as u64;
        self.messages += messages;
        self.none_after = None;
        Ok(sealed.len() as u64)
    }

    /// Up to about `max` bytes of whole frames not yet handed out (one sealed frame at least),
    /// oldest first, out of their seals; `None` when every frame was handed out.
    pub fn read(&mut self, max: usize) -> io::Result<Option<Chunk>> {
        loop {
            // The segment read last may be gone: acknowledged to its end and removed before
            // this read moved on (this returned `None` for ever, the segments after it never
            // published and the full spool stopping the inputs, until a restart).
            let Some(&(n, size)) = self.segments.iter().find(|(n, _)| *n >= self.next.segment)
            else {
                return Ok(None);
            };
            if n > self.next.segment {
                self.next = Cursor {
                    segment: n,
                    offset: 0,
                };
            }
            if self.next.offset >= size {
                match self.segments.iter().find(|(n, _)| *n > self.next.segment) {
                    Some(&(n, _)) => {
                        self.next = Cursor {
                            segment: n,
                            offset: 0,
                        };
                        continue;
                    }
                    None => return Ok(None),
                }
            }
            self.open_reader(self.next.segment)?;
            let Some((_, file)) = &self.reader else {
                return Err(io::Error::other("spool reader missing"));
            };
            let at = self.next.offset;
            let available = size - at;
            let bare = self.bare.contains(&self.next.segment);
            let want = available.min(max.max(HEADER + SEAL_HEAD) as u64);
            let mut bytes = read_at(file, at, want)?;
            let mut chunk = Chunk::default();
            // Frames are opened in place: `out` is where the next one's contents go.
            let (mut pos, mut out) = (0, 0);
            while pos < bytes.len() {
                let len = match frame::spooled_length(&bytes[pos..]) {
                    Ok(len) if pos + len <= bytes.len() => Some(len),
                    Ok(len) if pos == 0 && len as u64 <= available => {
                        // One frame larger than `max`: read it alone. Its length was checked
                        // against the file, so memory follows bytes that exist.
                        bytes = read_at(file, at, len as u64)?;
                        continue;
                    }
                    Ok(_) | Err(FrameError::Incomplete) if pos > 0 => break,
                    _ => None,
                };
                // The frame's contents, or what a damaged seal claimed to hold.
                let read = match len {
                    // An older build's frame: unchecked, but a record must be JSON (a length
                    // changed on disk would publish a record and the frames after it as one).
                    Some(len) if bare && bytes[pos] != SEALED => {
                        if damage::bare_reads(&bytes[pos..pos + len]) {
                            chunk.messages += u64::from(frame::is_message(bytes[pos]));
                            Ok(pos..pos + len)
                        } else {
                            Err(Some(pos..pos + len))
                        }
                    }
                    Some(len) if !bare && bytes[pos] == SEALED => {
                        match seal::open(&bytes[pos..pos + len]) {
                            Some((inner, count)) => {
                                chunk.messages += count.messages;
                                Ok(pos + len - inner.len()..pos + len)
                            }
                            None => Err(Some(pos..pos + len)),
                        }
                    }
                    _ => Err(None),
                };
                match read {
                    Ok(contents) => {
                        let end = contents.end;
                        bytes.copy_within(contents.clone(), out);
                        out += contents.len();
                        pos = end;
                    }
                    // Damage starts a chunk of its own.
                    Err(_) if pos > 0 => break,
                    Err(seal) => {
                        let seal = seal.map(|whole| &bytes[whole]);
                        pos = self.pass_over(at, available, seal, &mut chunk)? as usize;
                        break;
                    }
                }
            }
            bytes.truncate(out);
            self.next.offset += pos as u64;
            chunk.bytes = bytes;
            chunk.end = self.next;
            return Ok(Some(chunk));
        }
    }

    /// The frames handed out up to `end` were acknowledged, `messages` of them (as the chunks
    /// say): the head moves there, whole segments behind it are removed.
    pub fn acknowledge(&mut self, end: Cursor, messages: u64) -> io::Result<()> {
        self.messages = self.messages.saturating_sub(messages);
        self.head = end.max(self.head);
        while self.segments.len() > 1 {
            let (n, size) = self.segments[0];
            if n < self.head.segment || (n == self.head.segment && self.head.offset >= size) {
                self.segments.pop_front();
                if self.reader.as_ref().is_some_and(|(r, _)| *r == n) {
                    self.reader = None;
                }
                fs::remove_file(self.path(n))?;
                if self.head.segment == n {
                    self.head = Cursor {
                        segment: self.segments[0].0,
                        offset: 0,
                    };
                }
            } else {
                break;
            }
        }
        self.save_head()?;
        // All acknowledged: the tail starts over, so that the disk holds nothing published. The
        // head is saved first: a crash in between re-publishes, it never skips.
        if self.bytes() == 0 && self.next == self.head && self.segments.len() == 1 {
            let (n, size) = self.segments[0];
            if size > 0 {
                self.head = Cursor {
                    segment: n,
                    offset: 0,
                };
                self.next = self.head;
                // New bytes will be written where damage was said: they are not said yet.
                self.said_to = self.head;
                self.save_head()?;
                self.tail.set_len(0)?;
                self.segments[0].1 = 0;
                self.messages = 0;
            }
        }
        Ok(())
    }

    /// Hands out again everything unacknowledged: after a failed publish, oldest first.
    pub fn rewind(&mut self) {
        self.next = self.head;
    }

    fn save_head(&self) -> io::Result<()> {
        let mut raw = [0u8; 16];
        raw[..8].copy_from_slice(&self.head.segment.to_le_bytes());
        raw[8..].copy_from_slice(&self.head.offset.to_le_bytes());
        self.head_file.write_all_at(&raw, 0)
    }

    fn path(&self, n: u64) -> PathBuf {
        segment::path(&self.dir, n, self.bare.contains(&n))
    }

    fn open_reader(&mut self, segment: u64) -> io::Result<()> {
        if self.reader.as_ref().is_none_or(|(n, _)| *n != segment) {
            let file = File::open(self.path(segment))?;
            self.reader = Some((segment, file));
        }
        Ok(())
    }
}

mod damage;
mod segment;
#[cfg(test)]
mod tests;
