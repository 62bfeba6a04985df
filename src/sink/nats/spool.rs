//! The spool: frames on their way to NATS, on disk in `data_dir/nats-spool`, oldest first.
//!
//! Frames come here while NATS is unreachable or failing, and from memory when the publisher
//! stops being live or the collector stops ([`super::queue::Queue`]): the aggregator's bytes are
//! appended as they come, the publisher reads them back and moves the head past them once
//! JetStream acknowledged them. A frame is out of the spool's hands only when acknowledged; a
//! collector stopped (or killed) before that publishes it again at its next start, under the
//! same `Nats-Msg-Id`, which JetStream's duplicate window drops if it had arrived.
//!
//! Files: segments `<n>.seg` of whole frames (a batch is never split across two), and `head`,
//! where the first unacknowledged frame is (segment and offset, 16 bytes). Segments wholly
//! before the head are removed. A segment that ends in a torn frame (a crash mid-append) is cut
//! back to its last whole frame when the spool is opened.

use std::collections::VecDeque;
use std::fs::{self, File, OpenOptions};
use std::io::{self, BufReader, Read, Seek, Write};
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};

use super::frame::{self, FrameError};

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
    pub bytes: Vec<u8>,
    pub end: Cursor,
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
    /// Unacknowledged bytes, frames and messages (frames that are records or device events).
    bytes: u64,
    frames: u64,
    messages: u64,
}

impl Spool {
    /// Opens (or creates) the spool in `dir`, with what an earlier run left unacknowledged.
    pub fn open(dir: &Path, limit: u64) -> io::Result<Spool> {
        fs::create_dir_all(dir)?;
        let mut numbers: Vec<u64> = fs::read_dir(dir)?
            .filter_map(|e| e.ok())
            .filter_map(|e| {
                let name = e.file_name().into_string().ok()?;
                name.strip_suffix(".seg")?.parse().ok()
            })
            .collect();
        numbers.sort_unstable();
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
        if !numbers.contains(&head.segment) {
            head = Cursor {
                segment: numbers.first().copied().unwrap_or(1),
                offset: 0,
            };
        }
        let mut segments = VecDeque::new();
        let (mut bytes, mut frames, mut messages) = (0, 0, 0);
        let mut head_moved = false;
        for n in numbers {
            let path = segment_path(dir, n);
            if n < head.segment {
                fs::remove_file(&path)?;
                continue;
            }
            let from = if n == head.segment { head.offset } else { 0 };
            let scan = scan(&path, from)?;
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
            bytes += scan.end - from.min(scan.end);
            frames += scan.frames;
            messages += scan.messages;
            segments.push_back((n, scan.end));
        }
        if segments.is_empty() {
            segments.push_back((head.segment, 0));
            File::create(segment_path(dir, head.segment))?;
        }
        let (last, _) = segments.back().copied().unwrap_or_default();
        let tail = OpenOptions::new()
            .append(true)
            .open(segment_path(dir, last))?;
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
            bytes,
            frames,
            messages,
        };
        // Saved at once: frames appended past the old head and then torn by a crash would
        // otherwise be scanned from the old head, mid-frame, and cut away at the next open.
        if head_moved {
            spool.save_head()?;
        }
        Ok(spool)
    }

    /// Unacknowledged bytes.
    pub fn bytes(&self) -> u64 {
        self.bytes
    }

    /// Unacknowledged records and device events.
    pub fn messages(&self) -> u64 {
        self.messages
    }

    pub fn is_empty(&self) -> bool {
        self.bytes == 0
    }

    /// True when `n` more bytes fit. An empty spool takes anything, so that a batch larger than
    /// the limit cannot wait for ever.
    pub fn has_room(&self, n: usize) -> bool {
        self.bytes == 0 || self.bytes.saturating_add(n as u64) <= self.limit
    }

    /// Appends whole frames. On an error nothing was appended, so the caller may try again.
    pub fn append(&mut self, frames: &[u8]) -> io::Result<()> {
        if frames.is_empty() {
            return Ok(());
        }
        // A full segment is closed before the write, not after it: were the next one not to
        // open, the frames written would be written again by the caller's next attempt.
        if self
            .segments
            .back()
            .is_some_and(|(_, size)| *size >= self.segment_bytes)
        {
            let number = self.segments.back().map_or(1, |(n, _)| n + 1);
            self.tail = OpenOptions::new()
                .create(true)
                .append(true)
                .open(segment_path(&self.dir, number))?;
            self.segments.push_back((number, 0));
        }
        let Some(last) = self.segments.back_mut() else {
            return Err(io::Error::other("spool has no segment"));
        };
        if let Err(e) = self.tail.write_all(frames) {
            // A partial write is cut off, so that the segment holds whole frames only.
            let _ = self.tail.set_len(last.1);
            return Err(e);
        }
        last.1 += frames.len() as u64;
        let (n, m) = frame::count(frames);
        self.bytes += frames.len() as u64;
        self.frames += n;
        self.messages += m;
        Ok(())
    }

    /// Up to about `max` bytes of whole frames not yet handed out (one frame at least), oldest
    /// first; `None` when every frame was handed out.
    pub fn read(&mut self, max: usize) -> io::Result<Option<Chunk>> {
        loop {
            let Some(size) = self.size_of(self.next.segment) else {
                return Ok(None);
            };
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
            let mut bytes = read_at(file, at, available.min(max.max(frame::HEADER) as u64))?;
            let mut whole = 0;
            loop {
                match frame::spooled_length(&bytes[whole..]) {
                    Ok(len) if whole + len <= bytes.len() => whole += len,
                    Ok(len) if whole == 0 && len as u64 <= available => {
                        // One frame larger than `max`: read it alone. Its length was checked
                        // against the file, so memory follows bytes that exist.
                        bytes = read_at(file, at, len as u64)?;
                        whole = len;
                        break;
                    }
                    Ok(_) | Err(FrameError::Incomplete) if whole > 0 => break,
                    Ok(_) | Err(_) => {
                        // Not a frame where one should start: the rest of the segment cannot
                        // be read. Skipped and said, rather than stuck on for ever.
                        tracing::error!(
                            "{}: no frame at offset {at}; the segment's last {available} bytes \
                             are skipped",
                            segment_path(&self.dir, self.next.segment).display(),
                        );
                        whole = 0;
                        break;
                    }
                }
            }
            if whole == 0 {
                self.next.offset = size;
                continue;
            }
            bytes.truncate(whole);
            self.next.offset += whole as u64;
            return Ok(Some(Chunk {
                bytes,
                end: self.next,
            }));
        }
    }

    /// The frames handed out up to `end` were acknowledged: the head moves there, whole
    /// segments behind it are removed.
    pub fn acknowledge(&mut self, end: Cursor, acked: &[u8]) -> io::Result<()> {
        let (frames, messages) = frame::count(acked);
        self.bytes = self.bytes.saturating_sub(acked.len() as u64);
        self.frames = self.frames.saturating_sub(frames);
        self.messages = self.messages.saturating_sub(messages);
        self.head = end.max(self.head);
        while self.segments.len() > 1 {
            let (n, size) = self.segments[0];
            if n < self.head.segment || (n == self.head.segment && self.head.offset >= size) {
                self.segments.pop_front();
                if self.reader.as_ref().is_some_and(|(r, _)| *r == n) {
                    self.reader = None;
                }
                fs::remove_file(segment_path(&self.dir, n))?;
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
        if self.bytes == 0 && self.next == self.head && self.segments.len() == 1 {
            let (n, size) = self.segments[0];
            if size > 0 {
                self.head = Cursor {
                    segment: n,
                    offset: 0,
                };
                self.next = self.head;
                self.save_head()?;
                self.tail.set_len(0)?;
                self.segments[0].1 = 0;
                self.frames = 0;
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

    fn size_of(&self, segment: u64) -> Option<u64> {
        self.segments
            .iter()
            .find(|(n, _)| *n == segment)
            .map(|(_, s)| *s)
    }

    fn open_reader(&mut self, segment: u64) -> io::Result<()> {
        if self.reader.as_ref().is_none_or(|(n, _)| *n != segment) {
            let file = File::open(segment_path(&self.dir, segment))?;
            self.reader = Some((segment, file));
        }
        Ok(())
    }
}

/// `n` bytes of `file` from `at`, into a buffer that is not zeroed first (a round's buffer is
/// handed to the client, so it cannot be reused; zeroing half a megabyte per round showed in
/// profiles).
fn read_at(file: &File, at: u64, n: u64) -> io::Result<Vec<u8>> {
    let mut bytes = Vec::with_capacity(n as usize);
    let mut reader = file;
    reader.seek(io::SeekFrom::Start(at))?;
    reader.take(n).read_to_end(&mut bytes)?;
    if (bytes.len() as u64) < n {
        return Err(io::ErrorKind::UnexpectedEof.into());
    }
    Ok(bytes)
}

fn segment_path(dir: &Path, n: u64) -> PathBuf {
    dir.join(format!("{n:016}.seg"))
}

/// What a segment holds from `from` on.
struct Scan {
    /// The end of its last whole frame.
    end: u64,
    frames: u64,
    messages: u64,
    /// True when bytes after `end` are not a whole frame.
    cut: bool,
}

/// Walks a segment's frame headers (reading only headers: bodies are skipped).
fn scan(path: &Path, from: u64) -> io::Result<Scan> {
    let file = File::open(path)?;
    let size = file.metadata()?.len();
    let mut reader = BufReader::with_capacity(1 << 20, file);
    let mut at = from.min(size);
    reader.seek(io::SeekFrom::Start(at))?;
    let (mut frames, mut messages) = (0, 0);
    let mut header = [0u8; frame::HEADER];
    while at < size {
        if reader.read_exact(&mut header).is_err() {
            break;
        }
        let Ok(len) = frame::spooled_length(&header) else {
            break;
        };
        if at + len as u64 > size {
            break;
        }
        reader.seek_relative((len - frame::HEADER) as i64)?;
        at += len as u64;
        frames += 1;
        messages += u64::from(frame::is_message(header[0]));
    }
    Ok(Scan {
        end: at,
        frames,
        messages,
        cut: at < size,
    })
}

#[cfg(test)]
mod tests;
