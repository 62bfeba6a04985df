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
/// The smallest frame that is a message (`R`, empty subject, id and payload): what bounds the
/// count a damaged seal may claim.
const SMALLEST_FRAME: usize = HEADER + 2;

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
/// `Err` with what it claims (bounded by its length) when its hash does not match.
pub fn open(sealed: &[u8]) -> Result<(&[u8], Seal), Seal> {
    let body = sealed.get(HEADER..).unwrap_or_default();
    if body.len() < SEAL_HEAD {
        return Err(Seal::default());
    }
    let n = |at: usize| u32::from_le_bytes([body[at], body[at + 1], body[at + 2], body[at + 3]]);
    let claimed = Seal {
        frames: bound(n(8), sealed.len()),
        messages: bound(n(12), sealed.len()),
    };
    let hash = u64::from_le_bytes([
        body[0], body[1], body[2], body[3], body[4], body[5], body[6], body[7],
    ]);
    if xxh3_64(&body[8..]) != hash {
        return Err(claimed);
    }
    Ok((&body[SEAL_HEAD..], claimed))
}

/// A count that a sealed frame of `len` bytes says it holds, no more than so many frames fit
/// in it: a count changed on disk must not claim billions.
pub fn bound(count: u32, len: usize) -> u64 {
    u64::from(count).min((len.saturating_sub(HEADER + SEAL_HEAD) / SMALLEST_FRAME) as u64)
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
            Ok(len) if len <= rest.len() && open(&rest[..len]).is_ok() => return Find::At(at),
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
            let claimed = open(&bad[..first]).unwrap_err();
            let fit = ((first - HEADER - SEAL_HEAD) / SMALLEST_FRAME) as u64;
            assert!(claimed.messages <= fit, "{claimed:?}");
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
