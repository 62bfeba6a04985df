//! RFC 6587 framing of a syslog byte stream (TCP or TLS).
//!
//! Each frame is either octet-counted (`<len> <payload>`, RFC 6587 §3.4.1) or
//! terminated by LF with an optional CR before it (§3.4.2, non-transparent
//! framing). Senders may mix both, so the choice is made again for every
//! frame.
//!
//! A count over the largest frame accepted is not believed unless the payload after it starts
//! as a syslog message does (`<`): rsyslog reads such a frame as LF text, and so does ztel. A
//! feed template that begins with `%d{epochtime} ` makes every line look like an octet count of
//! 1.7 × 10^9; believing it would skip everything that follows as one oversize frame. UDP
//! datagrams hold LF-separated records only ([`Framer::lf_only`]).
//!
//! Once a stream's last frame was octet-counted, though, it is a relay's (rsyslog, syslog-ng, or
//! RFC 5425 syslog over TLS), whose frames need not end in LF. Then an oversize count whose
//! payload starts as a JSON record (`{`) is believed too; and bytes that do not start with a
//! header (a count that lied about its frame's length put the stream out of step) are
//! [`Next::Unframed`] up to the next thing that looks like a header (`[1-9][0-9]{0,9} ` before
//! `<`, `{`, or the `LEEF:` and `CEF:` that NSS sends without a syslog header) or LF. Read as LF text instead, an octet stream has no LF to end them, and every
//! frame after them would be skipped with them. What looks like a header inside the syslog
//! headers those bytes start with is not one: they are then an LF line that a relay sent between
//! its counted frames, whose host may end in digits (`nss1 {…`), not a piece of a frame
//! ([`resync`]).
//!
//! The framer never copies or allocates: it reports ranges into the slice it
//! was handed so the caller can parse the payload in place in its own buffer.
//! Its state is whether it is in the middle of discarding an oversize frame,
//! which lets the caller drop those bytes as they arrive instead of buffering
//! them, and whether the stream is a relay's.

use std::ops::Range;

mod resync;

use resync::{resync, Resync, KEEP};

/// The length field of an octet-counted frame has at most this many digits.
/// Ten digits cover any length a sender could mean; more than that cannot be a
/// header, so such a frame is read as LF-terminated text that begins with a
/// number.
const MAX_DIGITS: usize = 10;

/// What the framer found at the front of the input it was given.
#[must_use]
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Next {
    /// A complete frame: its payload (CR/LF or the octet-count header
    /// excluded) is `input[payload]`; `consumed` bytes of input are used up
    /// (header + payload + terminator, plus any blank lines before it).
    Frame {
        payload: Range<usize>,
        consumed: usize,
    },
    /// A frame longer than `max_frame` began here; `consumed` bytes of it (and
    /// of any blank lines before it) were discarded. Reported once per
    /// oversize frame.
    Oversize { consumed: usize },
    /// Bytes that belong to no frame were discarded: more of an oversize frame
    /// that was already reported, or blank lines.
    ///
    /// Blank lines are reported here only when no frame follows them yet in
    /// the input; dropping them at once keeps the caller's buffer bounded even
    /// if a peer sends nothing but line breaks.
    Skipped { consumed: usize },
    /// In an octet-counted stream, `input[..consumed]` (at most `max_frame` bytes) came before
    /// the next header and no count framed it: what a count that lied about its frame's length
    /// left over. More than `max_frame` such bytes are [`Next::Oversize`] instead.
    Unframed { consumed: usize },
    /// The input holds no complete frame; nothing was consumed. Read more
    /// bytes and call again with the whole unconsumed input.
    Incomplete,
}

/// What was left when the stream ended.
#[must_use]
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Tail {
    /// Nothing, or only blank lines / the rest of an oversize frame being
    /// skipped.
    Clean,
    /// LF-mode bytes with no final LF: `input[payload]` (trailing CR
    /// dropped); the caller may still try to parse it.
    Unterminated { payload: Range<usize> },
    /// An octet-counted frame (or an undecided digit prefix) cut short:
    /// `input[partial]` is what arrived of it, header included.
    Truncated { partial: Range<usize> },
}

/// Where the framer is between calls.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Skip {
    /// At a frame boundary.
    None,
    /// Inside a reported oversize LF-mode frame; discarding up to and
    /// including the next LF.
    ToLf,
    /// Inside a reported oversize octet-counted frame; this many payload
    /// bytes are still to be discarded. `u64` because a ten-digit count does
    /// not fit a 32-bit `usize`.
    Octets(u64),
    /// Inside reported oversize unframed bytes of an octet-counted stream; discarding up to the
    /// next header, or up to and including the next LF.
    ToHeader,
}

/// How the frame at the front of the input is framed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Head {
    /// Octet-counted: `header` bytes of digits and space, then `count` bytes.
    Octet { header: usize, count: u64 },
    /// Starts with digits that may yet turn out to be a length field.
    Undecided,
    /// LF-terminated.
    Lf,
}

/// The result of looking at one frame, before blank lines are folded in.
enum Step {
    /// A blank line (LF or CRLF) of this many bytes.
    Blank(usize),
    Frame {
        payload: Range<usize>,
        consumed: usize,
    },
    Oversize {
        consumed: usize,
    },
    Unframed(usize),
    Incomplete,
}

/// Splits a syslog byte stream into frames; see the module docs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Framer {
    max_frame: usize,
    skip: Skip,
    /// Whether a frame may be octet-counted (TCP, TLS) or is always LF-terminated (UDP).
    octets: bool,
    /// Whether the last frame was octet-counted: the stream is a relay's (see the module docs).
    counted: bool,
    /// When `next` last found unframed bytes incomplete: how many it looked through for a header
    /// or LF and found neither. The next call is given them again with more (its contract), and
    /// looks on from there: a sender trickling unframed bytes a few at a time made every read
    /// search them all again, 2.4 s of a shard for 256 KiB in reads of 100 bytes.
    searched: usize,
}

impl Framer {
    /// A framer that accepts payloads of up to `max_frame` bytes.
    #[must_use]
    pub fn new(max_frame: usize) -> Framer {
        Framer {
            max_frame,
            skip: Skip::None,
            octets: true,
            counted: false,
            searched: 0,
        }
    }

    /// A framer for LF-terminated frames only (UDP: a datagram's records are LF-separated, and
    /// a record that starts with digits and a space is not a count).
    #[must_use]
    pub fn lf_only(max_frame: usize) -> Framer {
        Framer {
            octets: false,
            ..Framer::new(max_frame)
        }
    }

    /// A framer at a boundary of a stream whose last frame was octet-counted (`counted`) or not:
    /// where another framer of the stream, [`Framer::counted`] said, left off.
    #[must_use]
    pub fn resume(max_frame: usize, counted: bool) -> Framer {
        Framer {
            counted,
            ..Framer::new(max_frame)
        }
    }

    /// Whether the stream's last frame was octet-counted: it is a relay's (see the module docs).
    #[must_use]
    pub fn counted(&self) -> bool {
        self.counted
    }

    /// Largest payload accepted.
    #[must_use]
    pub fn max_frame(&self) -> usize {
        self.max_frame
    }

    /// Whether the framer is at a frame boundary rather than inside an oversize frame it is
    /// discarding: only then does a clone of it cut the bytes that follow as this one will.
    #[must_use]
    pub fn at_boundary(&self) -> bool {
        self.skip == Skip::None
    }

    /// Finds the next event at the front of `input` (the caller's unconsumed
    /// bytes).
    ///
    /// Every event other than [`Next::Incomplete`] consumes at least one byte,
    /// so a caller that loops until `Incomplete` always terminates. When
    /// `Incomplete` is returned, `input` is at most `max_frame + 15` bytes
    /// long, so a caller that keeps only unconsumed bytes never holds more.
    pub fn next(&mut self, input: &[u8]) -> Next {
        // Good for this call only: whatever it returns but unframed bytes incomplete again, the
        // input of the next starts elsewhere.
        let searched = std::mem::take(&mut self.searched);
        match self.skip {
            Skip::None => {}
            Skip::ToLf => {
                return match memchr::memchr(b'\n', input) {
                    Some(lf) => {
                        self.skip = Skip::None;
                        Next::Skipped { consumed: lf + 1 }
                    }
                    None if input.is_empty() => Next::Incomplete,
                    None => Next::Skipped {
                        consumed: input.len(),
                    },
                };
            }
            Skip::Octets(left) => {
                if input.is_empty() {
                    return Next::Incomplete;
                }
                let n = take_up_to(left, input.len());
                self.skip = remaining(left, n);
                return Next::Skipped { consumed: n };
            }
            Skip::ToHeader => {
                // The byte before the search is only looked behind at, so that what is kept is
                // judged as one read would judge it. These bytes start wherever a read left off,
                // past where the syslog headers of the unframed bytes could be: none is read.
                return match resync(input, self.max_frame, false, 0) {
                    Some(Resync::Header(at)) => {
                        self.skip = Skip::None;
                        Next::Skipped { consumed: at }
                    }
                    Some(Resync::Lf(lf)) => {
                        self.skip = Skip::None;
                        Next::Skipped { consumed: lf + 1 }
                    }
                    None if input.len() > KEEP => Next::Skipped {
                        consumed: input.len() - KEEP,
                    },
                    None => Next::Incomplete,
                };
            }
        }

        // Blank lines are dropped here rather than reported one by one, so a
        // run of them costs one call.
        let mut start = 0;
        loop {
            let rest = input.get(start..).unwrap_or_default();
            match self.step(rest, if start == 0 { searched } else { 0 }) {
                Step::Blank(n) => start += n,
                Step::Frame { payload, consumed } => {
                    return Next::Frame {
                        payload: start + payload.start..start + payload.end,
                        consumed: start + consumed,
                    };
                }
                Step::Oversize { consumed } => {
                    return Next::Oversize {
                        consumed: start + consumed,
                    };
                }
                Step::Unframed(n) if start == 0 => return Next::Unframed { consumed: n },
                // The blank lines go first, so that the unframed bytes start the input.
                Step::Unframed(_) => return Next::Skipped { consumed: start },
                Step::Incomplete if start == 0 => return Next::Incomplete,
                Step::Incomplete => return Next::Skipped { consumed: start },
            }
        }
    }

    /// Called once at end of stream with the unconsumed bytes, i.e. the input
    /// for which [`Framer::next`] last returned [`Next::Incomplete`].
    ///
    /// The framer is back at a frame boundary afterwards, so it could be
    /// reused for a new stream.
    pub fn finish(&mut self, input: &[u8]) -> Tail {
        self.searched = 0;
        let skip = std::mem::replace(&mut self.skip, Skip::None);
        if skip != Skip::None {
            // Whatever is left belongs to the oversize frame that was already
            // reported.
            return Tail::Clean;
        }

        let mut start = 0;
        loop {
            let rest = input.get(start..).unwrap_or_default();
            match rest {
                [b'\n', ..] => start += 1,
                [b'\r', b'\n', ..] => start += 2,
                [] | [b'\r'] => return Tail::Clean,
                _ => break,
            }
        }
        let rest = input.get(start..).unwrap_or_default();

        match self.head(rest) {
            Head::Octet { .. } | Head::Undecided => Tail::Truncated {
                partial: start..input.len(),
            },
            // In a relay's stream, bytes that no count framed are a piece of a frame, not a
            // line whose LF is missing: parsed, half a record could pass for a whole one.
            Head::Lf if self.counted => Tail::Truncated {
                partial: start..input.len(),
            },
            Head::Lf => {
                // After `next` returned `Incomplete` there is no LF left; if a
                // caller passes one anyway, the tail still ends at it.
                let mut end = memchr::memchr(b'\n', rest).unwrap_or(rest.len());
                if end > 0 && rest.get(end - 1) == Some(&b'\r') {
                    end -= 1;
                }
                Tail::Unterminated {
                    payload: start..start + end,
                }
            }
        }
    }

    /// Looks at the frame at the front of `input`, with no skip in progress; `searched`: see
    /// the field.
    fn step(&mut self, input: &[u8], searched: usize) -> Step {
        if input.is_empty() {
            return Step::Incomplete;
        }
        match self.head(input) {
            Head::Undecided => Step::Incomplete,
            Head::Octet { header, count } => self.octet_frame(input, header, count),
            Head::Lf if self.counted => self.unframed(input, searched),
            Head::Lf => self.lf_frame(input),
        }
    }

    /// Bytes at a boundary of a relay's stream that do not start with a header: unframed up to
    /// the next header, or an LF frame when an LF comes first (a stream may mix both).
    fn unframed(&mut self, input: &[u8], searched: usize) -> Step {
        match resync(input, self.max_frame, true, searched) {
            Some(Resync::Header(at)) if at <= self.max_frame => Step::Unframed(at),
            Some(Resync::Header(at)) => Step::Oversize { consumed: at },
            Some(Resync::Lf(_)) => self.lf_frame(input),
            // Any header that starts within `max_frame` bytes would have been found by now.
            None if input.len() > self.max_frame + KEEP - 1 => {
                self.skip = Skip::ToHeader;
                Step::Oversize {
                    consumed: input.len() - KEEP,
                }
            }
            None => {
                self.searched = input.len();
                Step::Incomplete
            }
        }
    }

    /// How the frame at the front of `input` is framed, for this framer: a count over
    /// `max_frame`, or any count on a framer for LF only, is LF text that begins with a number.
    fn head(&self, input: &[u8]) -> Head {
        if !self.octets {
            return Head::Lf;
        }
        match head(input) {
            // An oversize count is believed when its payload starts as a syslog message does (or,
            // in a relay's stream, as a JSON record does): no LF line starts `1700000000 <`.
            Head::Octet { header, count } if count > self.max_frame as u64 => {
                match input.get(header) {
                    None => Head::Undecided,
                    Some(b'<') => Head::Octet { header, count },
                    Some(b'{') if self.counted => Head::Octet { header, count },
                    Some(_) => Head::Lf,
                }
            }
            other => other,
        }
    }

    fn octet_frame(&mut self, input: &[u8], header: usize, count: u64) -> Step {
        self.counted = true;
        // `header` bytes were found in `input`, so this never saturates.
        let body = input.len().saturating_sub(header);
        let within_limit = usize::try_from(count)
            .ok()
            .filter(|&count| count <= self.max_frame);
        match within_limit {
            Some(count) if body >= count => Step::Frame {
                payload: header..header + count,
                consumed: header + count,
            },
            // Waiting is safe: the frame fits in `max_frame` bytes.
            Some(_) => Step::Incomplete,
            None => {
                // Report at once whatever the sender claims, so a false count
                // never makes the caller buffer up to it.
                let n = take_up_to(count, body);
                self.skip = remaining(count, n);
                Step::Oversize {
                    consumed: header + n,
                }
            }
        }
    }

    fn lf_frame(&mut self, input: &[u8]) -> Step {
        let Some(lf) = memchr::memchr(b'\n', input) else {
            // `max_frame` bytes followed by a CR may still end as a CRLF frame
            // of exactly `max_frame` bytes; one more byte and the payload is
            // too long whatever comes next.
            let over = input.len() > self.max_frame
                && !(input.len() - self.max_frame == 1 && input.last() == Some(&b'\r'));
            if !over {
                return Step::Incomplete;
            }
            self.skip = Skip::ToLf;
            return Step::Oversize {
                consumed: input.len(),
            };
        };
        let end = if lf > 0 && input.get(lf - 1) == Some(&b'\r') {
            lf - 1
        } else {
            lf
        };
        if end == 0 {
            Step::Blank(lf + 1)
        } else if end > self.max_frame {
            Step::Oversize { consumed: lf + 1 }
        } else {
            self.counted = false;
            Step::Frame {
                payload: 0..end,
                consumed: lf + 1,
            }
        }
    }
}

/// Decides how the frame at the front of `input` is framed.
fn head(input: &[u8]) -> Head {
    if !matches!(input.first(), Some(b'1'..=b'9')) {
        return Head::Lf;
    }
    let mut count: u64 = 0;
    for (i, &b) in input.iter().enumerate().take(MAX_DIGITS + 1) {
        match b {
            // Ten digits stay below 10^10, far inside `u64`.
            b'0'..=b'9' if i < MAX_DIGITS => count = count * 10 + u64::from(b - b'0'),
            b' ' => {
                return Head::Octet {
                    header: i + 1,
                    count,
                }
            }
            _ => return Head::Lf,
        }
    }
    // Every byte so far is a digit and there are at most `MAX_DIGITS` of
    // them: the next byte decides.
    Head::Undecided
}

/// How many of `available` bytes to discard when `left` are still owed.
fn take_up_to(left: u64, available: usize) -> usize {
    usize::try_from(left).map_or(available, |left| left.min(available))
}

/// The skip state after discarding `taken` of `left` owed bytes.
fn remaining(left: u64, taken: usize) -> Skip {
    // `taken <= left`, so the conversion and subtraction cannot fail; the
    // fallbacks only keep this free of panics.
    let left = left.saturating_sub(u64::try_from(taken).unwrap_or(u64::MAX));
    if left == 0 {
        Skip::None
    } else {
        Skip::Octets(left)
    }
}
