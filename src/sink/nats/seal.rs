//! Sealed frames: how the spool keeps frames on disk, so that bytes changed there are found
//! before they are published.
//!
//! A sealed frame is a [`frame`] of type `S` whose body is an xxh3-64 of the rest of the body
//! (8 bytes, little-endian), how many frames and how many of them messages it holds (4 bytes
//! each), then those frames (`R` and `K`). The spool appends a batch as sealed frames of about
//! [`SEAL_BYTES`] of frames each ([`seal`]) and checks each as it reads it back ([`open`]): one
//! that does not match is passed over whole, its messages counted as never published (they are
//! in the records file). After a header that does not read, reading goes on at the next seal
//! that matches ([`find`]) rather than at the segment's end. Spools written before seals hold
//! bare `R` and `K` frames: they are still read, unchecked.

use xxhash_rust::xxh3::xxh3_64;

use super::frame::{self, HEADER, SEALED};

/// Hash, frame count and message count: the body's head.
pub const SEAL_HEAD: usize = 16;
/// Frames per sealed frame, about (a larger frame is sealed alone): a byte changed on disk
/// costs the messages of one seal (a few records), for 21 bytes per 4 KiB spooled.
pub const SEAL_BYTES: usize = 4 << 10;
/// The most that `n` bytes of frames take once sealed: a seal's header and head for each seal.
/// Two seals in a row hold more than [`SEAL_BYTES`] together (a seal closes when the next whole
/// frame would not fit), so there are at most `2n / SEAL_BYTES + 1`.
pub fn sealed_len_at_most(n: usize) -> usize {
    n + (2 * n / SEAL_BYTES + 1) * (HEADER + SEAL_HEAD)
}

/// What a sealed frame says it holds.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Seal {
    pub frames: u64,
    pub messages: u64,
}

/// Appends `frames` (whole frames, as [`frame::Frames::flatten`] gives them) as sealed frames.
/// Returns how many messages they hold.
pub fn seal(out: &mut Vec<u8>, mut frames: &[u8]) -> u64 {
    let mut messages = 0;
    while !frames.is_empty() {
        let (len, count) = prefix(frames, SEAL_BYTES);
        let (piece, rest) = frames.split_at(len);
        let start = out.len();
        out.push(SEALED);
        out.extend_from_slice(&((SEAL_HEAD + len) as u32).to_le_bytes());
        out.extend_from_slice(&[0; 8]);
        out.extend_from_slice(&(count.frames as u32).to_le_bytes());
        out.extend_from_slice(&(count.messages as u32).to_le_bytes());
        out.extend_from_slice(piece);
        let hash = xxh3_64(&out[start + HEADER + 8..]);
        out[start + HEADER..start + HEADER + 8].copy_from_slice(&hash.to_le_bytes());
        messages += count.messages;
        frames = rest;
    }
    messages
}

/// The length of the whole frames at the start of `frames` that make about `limit` bytes (one
/// frame at least), and what they hold. Bytes that are no whole frame (none come from the
/// aggregator) go with the last piece, for the reader to meet.
fn prefix(frames: &[u8], limit: usize) -> (usize, Seal) {
    let mut at = 0;
    let mut count = Seal::default();
    while at < frames.len() {
        match frame::length(&frames[at..]) {
            Ok(len) if at + len <= frames.len() && (at == 0 || at + len <= limit) => {
                count.frames += 1;
                count.messages += u64::from(frame::is_message(frames[at]));
                at += len;
            }
            Ok(len) if at + len <= frames.len() => break,
            _ => return (frames.len(), count),
        }
    }
    (at, count)
}

/// The frames that a whole sealed frame (header included) holds, and what it says they are;
/// `None` when its hash does not match (then its counts are not to be trusted either: [`walk`]).
pub fn open(sealed: &[u8]) -> Option<(&[u8], Seal)> {
    let body = sealed.get(HEADER..)?;
    let (hash, rest) = body.split_first_chunk::<8>()?;
    let (counts, frames) = rest.split_first_chunk::<8>()?;
    if xxh3_64(rest) != u64::from_le_bytes(*hash) {
        return None;
    }
    let n = |at: usize| {
        u64::from(u32::from_le_bytes([
            counts[at],
            counts[at + 1],
            counts[at + 2],
            counts[at + 3],
        ]))
    };
    Some((
        frames,
        Seal {
            frames: n(0),
            messages: n(4),
        },
    ))
}

/// What the frames at the start of `inner` (a damaged seal's body past its head) hold, walked
/// by their own headers: `R` and `K` frames, up to the first that does not read; and the bytes
/// walked. A damaged seal's own counts are not trusted (they may be what changed).
pub fn walk(inner: &[u8]) -> (Seal, usize) {
    let mut count = Seal::default();
    let mut at = 0;
    while let Ok(len) = frame::length(&inner[at..]) {
        if at + len > inner.len() || !matches!(inner[at], frame::PUBLISH | frame::MERGE) {
            break;
        }
        count.frames += 1;
        count.messages += u64::from(inner[at] == frame::PUBLISH);
        at += len;
    }
    (count, at)
}

/// What [`find`] found.
#[derive(Debug, PartialEq, Eq)]
pub enum Find {
    At(usize),
    None,
    /// A seal may start in the bytes given and end past them: give more.
    NeedMore,
}

/// Where the first whole sealed frame whose hash matches starts in `bytes`; `whole` when they
/// run to the segment's end (else one that starts there and ends past them asks for more,
/// rather than being passed over for a later one). The spool's frames are ztel's own JSON
/// records and device merges: their text has no control bytes, so a seal's length (under 2^28,
/// its top byte a control byte) is never read inside a record.
pub fn find(bytes: &[u8], whole: bool) -> Find {
    for at in memchr::memchr_iter(SEALED, bytes) {
        let rest = &bytes[at..];
        match frame::length(rest) {
            Ok(len) if len <= rest.len() && open(&rest[..len]).is_some() => return Find::At(at),
            Ok(len) if len <= rest.len() => {}
            Ok(_) | Err(frame::FrameError::Incomplete) if !whole => return Find::NeedMore,
            _ => {}
        }
    }
    Find::None
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sink::nats::frame::numbered;

    #[test]
    fn sealed_frames_open_to_what_was_sealed_in_pieces() {
        let frames = numbered(0..10_000);
        let mut out = Vec::new();
        assert_eq!(seal(&mut out, &frames), 10_000);
        let (mut at, mut opened, mut pieces) = (0, Vec::new(), 0);
        while at < out.len() {
            let len = frame::length(&out[at..]).unwrap();
            let (inner, count) = open(&out[at..at + len]).unwrap();
            assert!(inner.len() <= SEAL_BYTES);
            assert_eq!(frame::count(inner), (count.frames, count.messages));
            opened.extend_from_slice(inner);
            at += len;
            pieces += 1;
        }
        assert_eq!(opened, frames);
        assert!(pieces > 1, "sealed in pieces");
        // A frame larger than a piece is sealed alone.
        let mut big = Vec::new();
        frame::publish(&mut big, b"s", b"1", &vec![b'x'; SEAL_BYTES * 2]);
        let mut out = Vec::new();
        seal(&mut out, &big);
        assert_eq!(open(&out).unwrap().0, &big[..]);
    }

    #[test]
    fn a_changed_byte_breaks_the_seal_and_the_next_seal_is_found() {
        let mut out = Vec::new();
        seal(&mut out, &numbered(0..3));
        let first = out.len();
        seal(&mut out, &numbered(3..5));
        for at in HEADER..first {
            let mut bad = out.clone();
            bad[at] ^= 0x20;
            assert!(open(&bad[..first]).is_none(), "a change at {at}");
            assert_eq!(find(&bad[1..], true), Find::At(first - 1));
        }
        assert_eq!(open(&out[..first]).unwrap().1.messages, 3);
        assert_eq!(find(&out[1..first], true), Find::None);
        assert_eq!(find(b"S\x05\x00\x00\x00hello", true), Find::None);
        // A seal cut by the end of what was read asks for more, unless that is the end.
        assert_eq!(find(&out[..first - 1], false), Find::NeedMore);
        assert_eq!(find(&out[..first - 1], true), Find::None);
    }
}
