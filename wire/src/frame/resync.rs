//! Where unframed bytes of a relay's stream end: at the next octet-count header, or at an LF.
//!
//! A count that lied puts the stream out of step, and what follows its frame is a piece of
//! payload (it said too little) or the rest of the next frame (too much), with no LF to end it in
//! an octet stream: the next header ends it. A relay may also send an LF line between its
//! counted frames, though, and such a line is a syslog message: its host may end in a digit
//! before the record (`<134>Nov 22 10:15:01 nss1 {…`, `10.0.0.5 <…`, `relay1 <134>…` for a
//! header stacked on another). So what looks like a header inside the syslog headers that the
//! bytes start with is no header: no payload's tail starts with a syslog header, while a line
//! does.

use super::MAX_DIGITS;
use crate::header;

/// What ends unframed bytes: the first header after their first byte, or an LF.
pub(super) enum Resync {
    /// Where a header starts.
    Header(usize),
    /// Where an LF is.
    Lf(usize),
}

/// What a frame's payload starts with, as far as finding the next header needs: a syslog
/// message's `<`, a JSON record's `{`, or the LEEF and CEF that NSS sends with no syslog header
/// (`LEEF:1.0|Zscaler|…`), whose frames nothing else would end.
const LEEF_CEF: [&[u8]; 2] = [b"LEEF", b"CEF"];

/// Bytes kept back while unframed bytes are discarded: a header not yet whole (ten digits, a
/// space, all but the colon of `LEEF:`) can be at most this long, and the byte before it is
/// looked behind at.
pub(super) const KEEP: usize = 1 + MAX_DIGITS + 1 + b"LEEF".len();

/// How far into unframed bytes their syslog headers are looked for: bounded, so that a long
/// "host" costs no more, and at most `max_frame`, so that one read and many judge alike. Many
/// reads may discard the first `max_frame` bytes before the header that ends them has arrived
/// (`Skip::ToHeader`), and only then look at what follows, without their start: no header past
/// these bytes may depend on it.
const HEADERS_WITHIN: usize = 512;

/// The first header in `input` that starts after its first byte (`[1-9][0-9]{0,9} ` counting at
/// most `max_frame`, before `<`, `{`, `LEEF:` or `CEF:`, not preceded by a digit), or the first LF, whichever comes
/// first. `None` when neither is in `input` whole. With `boundary`, `input` starts where a frame
/// would, and what looks like a header inside the syslog headers it starts with is none.
/// `input[..from]` is known to hold neither (an earlier call found none there): a header whose
/// payload starts in it was judged then, on the same bytes, and only later ones are looked at.
pub(super) fn resync(
    input: &[u8],
    max_frame: usize,
    boundary: bool,
    from: usize,
) -> Option<Resync> {
    let from = from.min(input.len());
    let lf = memchr::memchr(b'\n', &input[from..]).map(|i| from + i);
    let within = lf.map_or(input, |lf| &input[..lf]);
    let headers_within = if boundary {
        HEADERS_WITHIN.min(max_frame)
    } else {
        0
    };
    let header = payload_starts(within, from)
        .filter_map(|at| header_before(within, at, max_frame))
        .find(|&start| !in_syslog_headers(within, start, headers_within));
    match (header, lf) {
        (Some(at), _) => Some(Resync::Header(at)),
        (None, Some(lf)) => Some(Resync::Lf(lf)),
        (None, None) => None,
    }
}

/// Where something in `input` starts as a payload does (see [`LEEF_CEF`]), in order: LEEF and
/// CEF are found by their colon, and hold no `<` or `{` before it. Those at `from` or after.
fn payload_starts(input: &[u8], from: usize) -> impl Iterator<Item = usize> + '_ {
    let found = memchr::memchr3_iter(b'<', b'{', b':', input.get(from..).unwrap_or_default());
    found
        .map(move |i| from + i)
        .filter_map(|at| match input[at] {
            b':' => LEEF_CEF
                .iter()
                .find(|tag| input[..at].ends_with(tag))
                .map(|tag| at - tag.len()),
            _ => Some(at),
        })
}

/// Whether the header-like digits at `input[start]` lie inside the syslog headers that `input`
/// starts with. Judged on the bytes up to the space after the digits (at most `limit` of them):
/// all there whenever the digits are, so one read and many judge alike.
fn in_syslog_headers(input: &[u8], start: usize, limit: usize) -> bool {
    if start >= limit {
        return false;
    }
    let space = start
        + input[start..]
            .iter()
            .take_while(|b| b.is_ascii_digit())
            .count();
    let judged = &input[..(space + 1).min(limit).min(input.len())];
    start < header::split_stacked(judged).message
}

/// Where the header whose payload starts at `input[payload]` starts, if the bytes before it are
/// one: a space, one to ten digits counting at most `max_frame` with no leading zero, and before
/// them a byte that is not a digit (never the first byte of `input`).
fn header_before(input: &[u8], payload: usize, max_frame: usize) -> Option<usize> {
    let space = payload.checked_sub(1)?;
    if input[space] != b' ' {
        return None;
    }
    let digits = input[..space]
        .iter()
        .rev()
        .take(MAX_DIGITS + 1)
        .take_while(|b| b.is_ascii_digit())
        .count();
    let start = space - digits;
    if digits == 0 || digits > MAX_DIGITS || start == 0 || input[start - 1].is_ascii_digit() {
        return None;
    }
    let count = input[start..space]
        .iter()
        .fold(0u64, |n, b| n * 10 + u64::from(b - b'0'));
    (input[start] != b'0' && count <= max_frame as u64).then_some(start)
}
