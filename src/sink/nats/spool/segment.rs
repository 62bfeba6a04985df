//! The spool's segment files: their names, which say what they hold, and what a scan finds in
//! one when the spool is opened.
//!
//! A segment is `<n>.sealed` (sealed frames only, [`super::super::seal`]) or, written by a build
//! before seals, `<n>.seg` (bare `R` and `K` frames). The kind is in the name, not in the
//! bytes, so that no byte changed on disk turns one kind into the other: a bare frame in a
//! sealed segment is damage, never a message.

use std::fs::{self, File};
use std::io::{self, BufReader, Read, Seek};
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};

use super::super::frame::{self, HEADER, SEALED};
use super::super::seal::{self, Find};

const SEALED_EXT: &str = "sealed";
const BARE_EXT: &str = "seg";

/// The first window [`next_seal`] reads; it doubles until a seal is found or the segment ends.
const FIRST_WINDOW: u64 = 64 << 10;

/// The highest segment number taken on its own. A name above it (a file put there by hand)
/// would have the numbers after it wrap to 0, which sorts before the rest and would never be
/// read: it is left as it is, and said, unless it follows the segment before it (made by the
/// spool after one at the bound: four billion more, 256 EiB, before numbers run out).
const NUMBER_MOST: u64 = u64::MAX - (1 << 32);

/// The number after segment `n`'s: an error, not a wrap, when there is none.
pub fn after(n: u64) -> io::Result<u64> {
    n.checked_add(1)
        .ok_or_else(|| io::Error::other(format!("spool segment numbers run out after {n}")))
}

/// Segment `n`'s file in `dir`.
pub fn path(dir: &Path, n: u64, bare: bool) -> PathBuf {
    let ext = if bare { BARE_EXT } else { SEALED_EXT };
    dir.join(format!("{n:016}.{ext}"))
}

/// The segments in `dir`, by number, each with whether it is bare.
pub fn list(dir: &Path) -> io::Result<Vec<(u64, bool)>> {
    let mut found: Vec<(u64, bool)> = fs::read_dir(dir)?
        .filter_map(|e| e.ok())
        .filter_map(|e| {
            let name = e.file_name().into_string().ok()?;
            let (number, ext) = name.split_once('.')?;
            let bare = match ext {
                SEALED_EXT => false,
                BARE_EXT => true,
                _ => return None,
            };
            Some((number.parse().ok()?, bare))
        })
        .collect();
    found.sort_unstable();
    found.dedup_by_key(|(n, _)| *n);
    let mut taken: Vec<(u64, bool)> = Vec::with_capacity(found.len());
    for (n, bare) in found {
        let follows = taken
            .last()
            .is_some_and(|&(last, _)| last.checked_add(1) == Some(n));
        if n <= NUMBER_MOST || follows {
            taken.push((n, bare));
        } else {
            tracing::warn!(
                "{}: segment {n} is no segment the spool writes (past {NUMBER_MOST}, after no \
                 segment of its own): left as it is, not read",
                dir.display()
            );
        }
    }
    Ok(taken)
}

/// Whether "bare" segment `n` starts with a seal that matches: the first builds with seals
/// wrote them as `<n>.seg`, before the kind was in the name. It is renamed `<n>.sealed`, rather
/// than its seals being taken for a torn end and cut. No changed byte makes a seal that matches.
pub fn holds_seals(dir: &Path, n: u64) -> io::Result<bool> {
    let from = path(dir, n, true);
    let file = File::open(&from)?;
    let size = file.metadata()?.len();
    let mut header = [0u8; HEADER];
    let sealed = file.read_exact_at(&mut header, 0).is_ok()
        && header[0] == SEALED
        && frame::length(&header).is_ok_and(|len| {
            len as u64 <= size
                && read_at(&file, 0, len as u64).is_ok_and(|whole| seal::open(&whole).is_some())
        });
    if sealed {
        let to = path(dir, n, false);
        fs::rename(&from, &to)?;
        tracing::info!(
            "{}: sealed frames; renamed {}",
            from.display(),
            to.display()
        );
    }
    Ok(sealed)
}

/// What a segment holds from `from` on.
pub struct Scan {
    /// The end of its last whole frame.
    pub end: u64,
    /// Messages in the frames that read (sealed ones whose checksum matches).
    pub messages: u64,
    /// True when bytes after `end` are not a whole frame: a torn end, to cut.
    pub cut: bool,
    /// Places passed over as changed on disk (said, and counted, when read for publishing).
    pub damaged: u64,
}

/// Reads a segment from `from` on. A sealed one is read whole, each seal checked, so that its
/// counts are exact and only a torn end is taken for one: bytes changed on disk are passed over
/// to the next seal that matches (and said when read for publishing). A bare one is walked by
/// its headers, as the build that wrote it did.
pub fn scan(path: &Path, from: u64, bare: bool) -> io::Result<Scan> {
    let file = File::open(path)?;
    let size = file.metadata()?.len();
    let mut reader = BufReader::with_capacity(1 << 20, &file);
    let mut at = from.min(size);
    reader.seek(io::SeekFrom::Start(at))?;
    let (mut messages, mut damaged) = (0, 0);
    // Set once a search found no seal that matches up to the end: none will be found later in
    // the segment either, and searching again for each damaged seal after it would read the
    // rest of the segment each time (quadratic in the damaged seals at its end).
    let mut none_after = false;
    let mut whole = Vec::new();
    while at < size {
        let mut header = [0u8; HEADER];
        if reader.read_exact(&mut header).is_err() {
            break;
        }
        let len = frame::spooled_length(&header)
            .ok()
            .filter(|len| at + *len as u64 <= size && (header[0] == SEALED) != bare);
        if let Some(len) = len {
            if bare {
                reader.seek_relative((len - HEADER) as i64)?;
                messages += u64::from(frame::is_message(header[0]));
                at += len as u64;
                continue;
            }
            // Its length was checked against the file: memory follows bytes that exist.
            whole.clear();
            whole.extend_from_slice(&header);
            whole.resize(len, 0);
            reader.read_exact(&mut whole[HEADER..])?;
            if let Some((_, count)) = seal::open(&whole) {
                messages += count.messages;
                at += len as u64;
                continue;
            }
            // Whole, so no torn write (that would end past the file), but changed: passed over
            // to the next seal that matches, or by its length when none follows (the last seal
            // of a segment is no less a seal than the others).
            damaged += 1;
            let next = if none_after {
                None
            } else {
                next_seal(&file, at, size)?
            };
            none_after = next.is_none();
            at = next.unwrap_or(at + len as u64);
            reader.seek(io::SeekFrom::Start(at))?;
            continue;
        }
        // No frame of this segment's kind where one should start.
        let next = if bare || none_after {
            None
        } else {
            next_seal(&file, at, size)?
        };
        let Some(next) = next else {
            break;
        };
        damaged += 1;
        at = next;
        reader.seek(io::SeekFrom::Start(at))?;
    }
    Ok(Scan {
        end: at,
        messages,
        cut: at < size,
        damaged,
    })
}

/// Where the next seal that matches starts after `at`, up to the segment's `size`: read in
/// windows that double, so that damage costs about what lies before the next seal, not the
/// rest of the segment.
pub fn next_seal(file: &File, at: u64, size: u64) -> io::Result<Option<u64>> {
    let from = at + 1;
    if from >= size {
        return Ok(None);
    }
    let mut window = FIRST_WINDOW;
    loop {
        let n = window.min(size - from);
        let bytes = read_at(file, from, n)?;
        match seal::find(&bytes, from + n == size) {
            Find::At(p) => return Ok(Some(from + p as u64)),
            Find::None => return Ok(None),
            Find::NeedMore => window = window.saturating_mul(2),
        }
    }
}

/// `n` bytes of `file` from `at`, into a buffer that is not zeroed first (a round's buffer is
/// handed to the client, so it cannot be reused; zeroing half a megabyte per round showed in
/// profiles).
pub fn read_at(file: &File, at: u64, n: u64) -> io::Result<Vec<u8>> {
    let mut bytes = Vec::with_capacity(n as usize);
    let mut reader = file;
    reader.seek(io::SeekFrom::Start(at))?;
    reader.take(n).read_to_end(&mut bytes)?;
    if (bytes.len() as u64) < n {
        return Err(io::ErrorKind::UnexpectedEof.into());
    }
    Ok(bytes)
}
