//! Bytes of the spool that changed on disk: where reading goes on past them, and what they
//! are counted as (an estimate: what the damaged frames' own headers still say, and one for
//! bytes past them that cannot be read at all).

use std::fs::File;
use std::io;

use super::super::frame::{self, HEADER, SEALED};
use super::super::seal::{self, SEAL_HEAD};
use super::segment::{next_seal, read_at};
use super::{Chunk, Cursor, Spool};

impl Spool {
    /// Bytes at `at` of the segment being read are damaged (`damaged`, when they are one whole
    /// frame: a seal whose checksum does not match, or a bare frame that does not read; else
    /// no frame of the segment's kind): passed over, counted and said once (a rewind reads them
    /// again). Returns how many bytes are passed over.
    pub(super) fn pass_over(
        &mut self,
        at: u64,
        available: u64,
        damaged: Option<&[u8]>,
        chunk: &mut Chunk,
    ) -> io::Result<u64> {
        let segment = self.next.segment;
        let bare = self.bare.contains(&segment);
        let Some((_, file)) = self.reader.as_ref().filter(|(n, _)| *n == segment) else {
            return Err(io::Error::other("spool reader missing"));
        };
        let next = if bare {
            // No seals to look for: past the frame when a frame follows it.
            match damaged {
                Some(f) if followed(file, at + f.len() as u64, at + available)? => {
                    Some(at + f.len() as u64)
                }
                _ => None,
            }
        } else {
            // The next seal that matches, whatever the damaged seal's length says (it may be
            // what changed); when none does to the segment's end (remembered until the next
            // append: searching again for each would read the rest of the segment each time),
            // a whole damaged seal is stepped over by its length, each counted as itself.
            let known_none = self
                .none_after
                .is_some_and(|c| c.segment == segment && c.offset <= at);
            let found = if known_none {
                None
            } else {
                next_seal(file, at, at + available)?
            };
            if found.is_none() && !known_none {
                self.none_after = Some(Cursor {
                    segment,
                    offset: at,
                });
            }
            found.or(damaged.map(|f| at + f.len() as u64))
        };
        let skip = next.map_or(available, |n| n - at);
        // What the damaged frame still says it holds (a seal's frames walked by their own
        // headers; a bare frame is one), and one more when what is skipped runs past that.
        let head = if bare { 0 } else { HEADER + SEAL_HEAD };
        let (found, walked) = damaged
            .map(|f| seal::walk(f.get(head..).unwrap_or_default()))
            .unwrap_or_default();
        // A bare segment's frames were counted by their headers when it was opened.
        if bare {
            chunk.messages += found.messages;
        }
        let beyond = u64::from(skip > (head + walked) as u64);
        let lost = (found.messages + beyond).max(u64::from(found.frames == 0));
        let merges = found.frames - found.messages;
        if (Cursor {
            segment,
            offset: at,
        }) >= self.said_to
        {
            self.said_to = Cursor {
                segment,
                offset: at + 1,
            };
            chunk.damaged += lost;
            self.damaged_places += 1;
            // The 1st, 2nd, 4th…: a spool damaged in many places must not flood the log.
            if self.damaged_places.is_power_of_two() {
                tracing::error!(
                    places = self.damaged_places,
                    "{}: {skip} bytes at offset {at} changed on disk (no frame, or a checksum \
                     that does not match); passed over: about {lost} records or device events \
                     and {merges} registry merges, in the records file and the local registry \
                     only",
                    self.path(segment).display(),
                );
            }
        }
        Ok(skip)
    }
}

/// Whether a bare frame starts at `end` (or the segment, which ends at `size`, ends there).
fn followed(file: &File, end: u64, size: u64) -> io::Result<bool> {
    if end == size {
        return Ok(true);
    }
    let header = read_at(file, end, (HEADER as u64).min(size - end))?;
    Ok(frame::spooled_length(&header).is_ok() && header[0] != SEALED)
}

/// Whether an older build's bare frame reads as what it says: a record's payload is JSON (a
/// length changed on disk would publish a record and the frames after it as one).
pub(super) fn bare_reads(whole: &[u8]) -> bool {
    match frame::read(whole) {
        Ok((frame::Frame::Publish { payload, .. }, _)) => {
            serde_json::from_slice::<serde::de::IgnoredAny>(payload).is_ok()
        }
        Ok((frame::Frame::Merge { .. }, _)) => true,
        _ => false,
    }
}
