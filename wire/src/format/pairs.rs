//! The text-level work the CEF and LEEF readers share: finding separators that no backslash
//! escapes, splitting space-separated `key=value` pairs (with one vectorised pass that marks a
//! frame's `=`, separators and key bytes), unescaping values in place and telling whether a
//! frame needs JSON escaping at all.

use crate::format::bits::{next_one, ones};
// A byte a key can hold, as the scan's key mask marks them: a name's, `[A-Za-z0-9_.-]`.
use crate::format::is_name as is_key_byte;

/// A byte range of a frame (or of its unescaped copy).
pub(super) type Range = (usize, usize);

/// One `key=value` of a frame: the key's bytes in the frame, the value's in whichever text the
/// values are read from (the frame, or its unescaped copy).
#[derive(Debug, Clone, Copy)]
pub(super) struct Span {
    pub(super) key: Range,
    pub(super) value: Range,
}

/// A frame taken apart: its `N` header fields and its pairs, unescaped, borrowing from the frame
/// or from the reader's copy of it.
pub struct Parsed<'a, const N: usize> {
    pub(super) text: &'a str,
    pub(super) values: &'a str,
    pub(super) header: [Range; N],
    pub(super) spans: &'a [Span],
    /// No byte of the whole frame needs escaping in a JSON string (a LEEF delimiter apart).
    pub(super) clean: bool,
}

impl<'a, const N: usize> Parsed<'a, N> {
    /// Header field `i` (0 is the version, 2 the product), unescaped.
    pub fn header(&self, i: usize) -> &'a str {
        let (start, end) = self.header.get(i).copied().unwrap_or((0, 0));
        self.values.get(start..end).unwrap_or("")
    }

    /// The pairs in the order they were written.
    pub fn pairs(&self) -> impl Iterator<Item = (&'a str, &'a str)> + '_ {
        self.spans.iter().map(|s| (self.key(s), self.value(s)))
    }

    /// The key of one of the pairs.
    pub(super) fn key(&self, span: &Span) -> &'a str {
        sub(self.text, span.key)
    }

    /// The value of one of the pairs, unescaped.
    pub(super) fn value(&self, span: &Span) -> &'a str {
        sub(self.values, span.value)
    }
}

/// `text[start..end]` without the checks that both ends are character boundaries: a reader's
/// ranges start or end next to an ASCII byte (`|`, `=`, a space, a one-byte delimiter), next to
/// a whole multi-byte delimiter, or at the text's ends; and unescaping only drops a backslash, or
/// turns one and the ASCII byte after it into one ASCII byte.
#[inline]
pub(super) fn sub(text: &str, (start, end): Range) -> &str {
    // Two compares: `get` would also work out the length first.
    if start > end || end > text.len() {
        return "";
    }
    debug_assert!(text.is_char_boundary(start) && text.is_char_boundary(end));
    // SAFETY: `start..end` is within `text` (just checked). `text` is UTF-8, and so is any
    // range of it between character boundaries, which the ends of a reader's ranges are (above).
    unsafe { std::str::from_utf8_unchecked(text.as_bytes().get_unchecked(start..end)) }
}

/// The `N` header fields from `at` on, each closed by a `|` that no backslash escapes, and where
/// the rest of the frame starts.
pub(super) fn header_fields<const N: usize>(
    text: &[u8],
    mut at: usize,
    malformed: crate::reason::Reason,
) -> Result<([Range; N], usize), crate::reason::Reason> {
    let mut header = [(0, 0); N];
    for field in &mut header {
        let end = next_unescaped(text, at, b'|').ok_or(malformed)?;
        *field = (at, end);
        at = end + 1;
    }
    Ok((header, at))
}

/// Header fields of which field `wide` held `|`s that no backslash escapes: NSS escapes none in
/// the values it puts in a header (`%s{reason}`, `%s{rulelabel}`). Such a pipe comes before the
/// first `=` of what [`header_fields`] took for the rest of the frame (a `Not allowed | x` reason
/// made the firewall's `act=Block` the key `3|act`): field `wide` takes it, the fields after
/// `wide` move to the last pipes before that `=`, and the rest starts after the last one.
/// Returns where the rest starts: `at` when no pipe comes before that `=`, or there is none.
pub(super) fn widen<const N: usize>(
    text: &[u8],
    header: &mut [Range; N],
    at: usize,
    wide: usize,
) -> usize {
    let Some(eq) = memchr::memchr(b'=', &text[at..]).map(|i| at + i) else {
        return at;
    };
    // The ends of the last N fields (the header's, until a pipe comes after them).
    let mut ends: [usize; N] = std::array::from_fn(|i| header[i].1);
    let (mut from, mut moved) = (at, false);
    while let Some(pipe) = next_unescaped(&text[..eq], from, b'|') {
        ends.rotate_left(1);
        ends[N - 1] = pipe;
        (from, moved) = (pipe + 1, true);
    }
    if !moved || wide >= N {
        return at;
    }
    header[wide].1 = ends[wide];
    for j in wide + 1..N {
        header[j] = (ends[j - 1] + 1, ends[j]);
    }
    ends[N - 1] + 1
}

/// A frame that holds a backslash, copied into `scratch` and unescaped there: its header fields
/// by `header_escape`, its values by `value_escape`. Returns the text the values are read from.
pub(super) fn unescape_copy<'s>(
    scratch: &'s mut Vec<u8>,
    text: &[u8],
    header: &mut [Range],
    spans: &mut [Span],
    value_escape: impl Fn(&[u8]) -> Option<u8>,
) -> Result<&'s str, crate::reason::Reason> {
    scratch.clear();
    scratch.extend_from_slice(text);
    for field in header {
        field.1 = unescape_in_place(scratch, *field, header_escape);
    }
    for span in spans {
        span.value.1 = unescape_in_place(scratch, span.value, &value_escape);
    }
    std::str::from_utf8(scratch).map_err(|_| crate::reason::Reason::InvalidUtf8)
}

/// What a header escape stands for, given the bytes after its backslash.
pub(super) fn header_escape(rest: &[u8]) -> Option<u8> {
    let c = *rest.first()?;
    matches!(c, b'|' | b'\\').then_some(c)
}

/// Where the next `byte` at or after `from` is that no backslash escapes: a backslash escapes
/// the byte after it, whatever it is.
pub(super) fn next_unescaped(text: &[u8], mut from: usize, byte: u8) -> Option<usize> {
    while from < text.len() {
        let at = from + memchr::memchr2(byte, b'\\', &text[from..])?;
        if text[at] == byte {
            return Some(at);
        }
        from = at + 2;
    }
    None
}

/// Where a frame's `=`, separators and key bytes are, one bit per byte (bit `i % 64` of word
/// `i / 64`): one vectorised pass over the frame, instead of a search and a walk back per `=`.
/// Kept by a reader between frames.
#[derive(Default)]
pub(super) struct Scan {
    eq: Vec<u64>,
    sep: Vec<u64>,
    /// Bytes a key cannot hold (letters, digits, `_`, `.` and `-` can).
    nonkey: Vec<u64>,
    /// Not 0 when a byte a JSON string must escape, separators apart (no value holds one), is
    /// in any block.
    bad: u64,
    /// Not 0 when a byte from 0x80 on is in any block.
    high: u64,
}

impl Scan {
    /// Marks the `=`, the `sep` bytes and the key bytes of `text`.
    pub(super) fn run(&mut self, text: &[u8], sep: u8) {
        self.eq.clear();
        self.sep.clear();
        self.nonkey.clear();
        self.bad = 0;
        self.high = 0;
        let mut blocks = text.chunks_exact(64);
        for block in &mut blocks {
            // Every chunk is 64 bytes long.
            if let Ok(block) = block.try_into() {
                self.push(block_masks(block, sep));
            }
        }
        let rest = blocks.remainder();
        if !rest.is_empty() {
            // Spaces: no `=`, nothing to escape, no key; a separator only when spaces are.
            let mut last = [b' '; 64];
            last[..rest.len()].copy_from_slice(rest);
            let [eq, sep_bits, nonkey, bad, high] = block_masks(&last, sep);
            let valid = (1u64 << rest.len()) - 1;
            self.push([eq, sep_bits & valid, nonkey, bad, high]);
        }
    }

    fn push(&mut self, [eq, sep, nonkey, bad, high]: [u64; 5]) {
        self.eq.push(eq);
        self.sep.push(sep);
        self.nonkey.push(nonkey);
        self.bad |= bad;
        self.high |= high;
    }

    /// True when every byte of the text is ASCII, and so the text UTF-8.
    pub(super) fn ascii(&self) -> bool {
        self.high == 0
    }

    /// True when no byte of the text but a separator needs escaping in a JSON string: then no
    /// value does, and none needs looking at.
    pub(super) fn clean(&self) -> bool {
        self.bad == 0
    }

    /// The separators' positions, in order.
    pub(super) fn seps(&self) -> impl Iterator<Item = usize> + '_ {
        ones(&self.sep)
    }

    /// The first `=` at or after `from`.
    pub(super) fn next_eq(&self, from: usize) -> Option<usize> {
        next_one(&self.eq, from)
    }

    /// Whether every byte of `from..to` is one a key can hold: no bit of the non-key mask set
    /// there, a word at a time.
    pub(super) fn key_bytes(&self, from: usize, to: usize) -> bool {
        let mut at = from;
        while at < to {
            let (w, low) = (at / 64, at % 64);
            let high = (to - w * 64).min(64);
            let within = (u64::MAX >> (64 - high)) & (u64::MAX << low);
            if self.nonkey.get(w).is_none_or(|&word| word & within != 0) {
                return false;
            }
            at = w * 64 + 64;
        }
        true
    }

    /// The last byte before `at` that a key cannot hold.
    fn prev_nonkey(&self, at: usize) -> Option<usize> {
        let mut w = at / 64;
        let mut word = self.nonkey.get(w).copied().unwrap_or(0) & ((1u64 << (at % 64)) - 1);
        loop {
            if word != 0 {
                return Some(w * 64 + 63 - word.leading_zeros() as usize);
            }
            w = w.checked_sub(1)?;
            word = self.nonkey[w];
        }
    }
}

/// SSE2, which every x86-64 processor has: 16 bytes per comparison. Returns the `=`, `sep` and
/// non-key masks of 64 bytes, and whether they hold a
/// byte to escape, and one from 0x80 on (1 or 0: a frame's are only ever asked whether there is
/// one).
#[cfg(target_arch = "x86_64")]
fn block_masks(block: &[u8; 64], sep: u8) -> [u64; 5] {
    use std::arch::x86_64::{
        _mm_andnot_si128, _mm_cmpeq_epi8, _mm_loadu_si128, _mm_min_epu8, _mm_movemask_epi8,
        _mm_or_si128, _mm_set1_epi8, _mm_setzero_si128,
    };
    let (mut eq, mut sp, mut key) = (0u64, 0u64, 0u64);
    // SAFETY: SSE2 is part of the x86-64 baseline.
    let (mut bad, mut high) = unsafe { (_mm_setzero_si128(), _mm_setzero_si128()) };
    for i in 0..4 {
        // SAFETY: SSE2 is part of the x86-64 baseline, so these instructions always exist; bytes
        // 16 i to 16 i + 15 of a 64-byte block are readable, and an unaligned load has no
        // alignment requirement.
        let (e, s, k) = unsafe {
            let v = _mm_loadu_si128(block.as_ptr().add(16 * i).cast());
            let is = |c: u8| _mm_cmpeq_epi8(v, _mm_set1_epi8(c as i8));
            let key = crate::format::name_bytes(v);
            // min(v, 0x1f) == v exactly when v <= 0x1f (unsigned).
            let control = _mm_cmpeq_epi8(_mm_min_epu8(v, _mm_set1_epi8(0x1f)), v);
            let escape = _mm_or_si128(
                _mm_andnot_si128(is(sep), control),
                _mm_or_si128(is(b'"'), is(b'\\')),
            );
            bad = _mm_or_si128(bad, escape);
            high = _mm_or_si128(high, v);
            (
                _mm_movemask_epi8(is(b'=')),
                _mm_movemask_epi8(is(sep)),
                _mm_movemask_epi8(key),
            )
        };
        let bits = |m: i32| u64::from(m as u16) << (16 * i);
        eq |= bits(e);
        sp |= bits(s);
        key |= bits(k);
    }
    // SAFETY: as above.
    let any = |v| u64::from(unsafe { _mm_movemask_epi8(v) } != 0);
    [eq, sp, !key, any(bad), any(high)]
}

#[cfg(not(target_arch = "x86_64"))]
fn block_masks(block: &[u8; 64], sep: u8) -> [u64; 5] {
    block_masks_scalar(block, sep)
}

/// The same masks a byte at a time: the definition the SSE2 version is tested against.
#[cfg_attr(target_arch = "x86_64", allow(dead_code))]
fn block_masks_scalar(block: &[u8; 64], sep: u8) -> [u64; 5] {
    let mut masks = [0u64; 5];
    for (i, &b) in block.iter().enumerate() {
        let key = is_key_byte(b);
        let bad = (b < 0x20 && b != sep) || b == b'"' || b == b'\\';
        masks[0] |= u64::from(b == b'=') << i;
        masks[1] |= u64::from(b == sep) << i;
        masks[2] |= u64::from(!key) << i;
        masks[3] |= u64::from(bad);
        masks[4] |= u64::from(b >= 0x80);
    }
    masks
}

/// Splits space-separated `key=value` pairs as CEF's extension writes them (and LEEF when a
/// page or a relay turned its tabs into spaces): a key follows a space (or starts the text) and
/// ends at its `=`, and its value runs to the space before the next key, trailing spaces
/// trimmed. In CEF (`LEEF` false), a run whose value opens with a quote is no key after a value
/// a client writes ([`client_written`]: NSS's `d="3683"` inside a user agent is the agent's
/// text). In LEEF, a key may hold a `:` between two runs of its bytes: IBM's names for ZPA's
/// times (`TimestampAuthentication:iso8601`). `each` gets the key's and the value's ranges in
/// `text`.
pub(super) fn split_spaced<const LEEF: bool>(
    text: &[u8],
    scan: &mut Scan,
    mut each: impl FnMut(Range, Range),
) {
    scan.run(text, b' ');
    let mut pending: Option<(Range, usize)> = None;
    for (w, &word) in scan.eq.iter().enumerate() {
        let mut bits = word;
        while bits != 0 {
            let eq = w * 64 + bits.trailing_zeros() as usize;
            bits &= bits - 1;
            // The key's bytes before the `=`: most often within the same word.
            let before = scan.nonkey[w] & ((1u64 << (eq % 64)) - 1);
            let mut start = match before {
                0 => scan.prev_nonkey(w * 64).map_or(0, |q| q + 1),
                _ => w * 64 + 64 - before.leading_zeros() as usize,
            };
            if LEEF && start < eq {
                start = with_colons(text, start);
            }
            if start == eq || (start > 0 && text[start - 1] != b' ') {
                continue;
            }
            if !LEEF
                && text.get(eq + 1) == Some(&b'"')
                && pending.is_some_and(|((key, end), _)| client_written(&text[key..end]))
            {
                continue;
            }
            if let Some((key, value_start)) = pending {
                each(
                    key,
                    (value_start, trim_spaces(text, value_start, start - 1)),
                );
            }
            pending = Some(((start, eq), eq + 1));
        }
    }
    if let Some((key, value_start)) = pending {
        each(
            key,
            (value_start, trim_spaces(text, value_start, text.len())),
        );
    }
}

/// Where a key that starts at `start` starts when the runs of key bytes that a single `:` joins
/// to it are its own (rare: looked at a byte at a time).
fn with_colons(text: &[u8], mut start: usize) -> usize {
    while start >= 2 && text[start - 1] == b':' && is_key_byte(text[start - 2]) {
        start -= 1;
        while start > 0 && is_key_byte(text[start - 1]) {
            start -= 1;
        }
    }
    start
}

/// Whether `key` is a LEEF key: runs of key bytes with a `:` between each two (IBM's
/// `TimestampAuthentication:iso8601`), as [`split_spaced`] finds them in LEEF. Asked of every
/// attribute of a tab-separated frame: the name table and one pass (splitting at the `:`s first
/// cost LEEF a quarter more instructions a frame).
pub(super) fn is_leef_key(key: &[u8]) -> bool {
    // Whether the byte before was a key byte: a `:` may follow it, and a key ends on one.
    let mut after_key_byte = false;
    for &b in key {
        if is_key_byte(b) {
            after_key_byte = true;
        } else if b == b':' && after_key_byte {
            after_key_byte = false;
        } else {
            return false;
        }
    }
    after_key_byte
}

/// Keys whose values a client or a remote server writes, spaces and quotes as sent (a user
/// agent, a URL or referer, a downloaded file's name, and the custom strings a template may fill
/// with any of them): a run inside such a value whose value opens with a quote may be the
/// client's text (`d="3683"`, or a `suser="ceo@corp"` put there), so it is no key. After any other
/// value it is the template's next key, whose value the client started with a quote
/// (`requestClientApplication="Go" client/1.0` after NSS's `sourceTranslatedAddress=…`).
fn client_written(key: &[u8]) -> bool {
    let custom = |prefix: &[u8]| {
        key.strip_prefix(prefix)
            .is_some_and(|n| !n.is_empty() && n.iter().all(u8::is_ascii_digit))
    };
    matches!(
        key,
        b"requestClientApplication" | b"request" | b"requestContext" | b"fname" | b"filePath"
    ) || custom(b"cs")
        || custom(b"flexString")
        || custom(b"deviceCustomString")
}

/// The end of `text[start..end]` without its trailing spaces.
fn trim_spaces(text: &[u8], start: usize, mut end: usize) -> usize {
    while end > start && text[end - 1] == b' ' {
        end -= 1;
    }
    end
}

/// Unescapes `buf[range]` in place: a backslash and the byte after it become what `escape`
/// says, given the bytes from that one to the end of the range, or stay when it says nothing.
/// Values only shrink; the bytes freed at the end become spaces, so that the buffer stays UTF-8
/// (a shifted multi-byte character would leave a stray tail). Returns the new end.
fn unescape_in_place(
    buf: &mut [u8],
    (start, end): Range,
    escape: impl Fn(&[u8]) -> Option<u8>,
) -> usize {
    let (mut read, mut write) = (start, start);
    while read < end {
        let mut b = buf[read];
        read += 1;
        if b == b'\\' && read < end {
            if let Some(unescaped) = escape(&buf[read..end]) {
                b = unescaped;
                read += 1;
            }
        }
        buf[write] = b;
        write += 1;
    }
    buf[write..end].fill(b' ');
    write
}

/// True when no byte of `text` needs escaping in a JSON string: the bytes a [`Scan`] did not see
/// (a header) looked at in one pass.
pub(super) fn is_clean(text: &[u8]) -> bool {
    text.chunks(64).all(|chunk| {
        // No early exit inside a chunk: the compiler turns the fold into vector compares.
        !chunk.iter().fold(false, |bad, &b| {
            bad | (b < 0x20) | (b == b'"') | (b == b'\\')
        })
    })
}

/// True when a value needs no escaping in a JSON string.
pub(super) fn is_plain(value: &str) -> bool {
    !value.bytes().any(|b| b < 0x20 || b == b'"' || b == b'\\')
}

#[cfg(test)]
mod tests;
