//! Feed output formats (DESIGN §3.2): how a frame's values are written. Each format reads its
//! frames into the same [`Fields`](crate::fields::Fields), so that every format maps onto the
//! same records; which format a frame is in is decided per frame, after its syslog header
//! ([`detect`]).
//!
//! One format per file: [`json`] (with its fast path), [`leef`], [`cef`], [`kv`] (name-value pairs,
//! Splunk's and NetWitness's) and [`csv`] (positional: CSV or tab-separated, in a field order).
//! What two formats share has a file of its own: `pairs` (CEF's and LEEF's escaped `key=value`
//! text) and `arcsight` (what ArcSight's names mean, in CEF and in Sentinel's JSON).
//!
//! Every reader has the same shape: `read(text, fields) -> Result<bool, Reason>` fills the
//! caller's [`Fields`](crate::fields::Fields) (empty on entry) from `text`, borrowing from it or
//! from the reader's own scratch copy, and answers whether the values are plain text (no byte a
//! JSON string must escape), which a record then copies without looking. The fields are filled
//! in place: they are a few KiB, and moving them per frame would cost more than reading them.

mod arcsight;
mod bits;
pub mod cef;
pub mod csv;
pub mod json;
pub mod kv;
pub mod leef;
mod pairs;

/// The feed formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Json,
    Leef,
    Cef,
    /// Name-value pairs: `key=value` separated by tabs, spaces or `^^`.
    Kv,
    /// Positional: CSV or tab-separated values in a known field order.
    Csv,
}

/// How far into a message a `LEEF:` or `CEF:` header may start: after static template text such
/// as `zscaler-nss: `, never deep inside a record.
const PREFIX_MAX: usize = 128;

/// Pairs that make a message name-value: one or two `key=` could be a URL's query in a
/// positional field.
const KV_MIN_PAIRS: usize = 3;

/// Decides the format of `message` (a frame after its syslog header) and where its record begins.
/// `None` when it is in none of them.
pub fn detect(message: &[u8]) -> Option<(Format, usize)> {
    let start = message
        .iter()
        .take_while(|b| b.is_ascii_whitespace())
        .count();
    let text = &message[start..];
    match text.first()? {
        b'{' => return Some((Format::Json, start)),
        // A JSON text never starts with a quote; the NSS default CSV quotes every field.
        b'"' => return Some((Format::Csv, start)),
        _ => {}
    }
    let head = &text[..text.len().min(PREFIX_MAX)];
    for (tag, format) in [(&b"LEEF:"[..], Format::Leef), (b"CEF:", Format::Cef)] {
        if let Some(at) = find_tag(head, tag) {
            if at == 0 || matches!(head[at - 1], b' ' | b'\t' | b':') {
                return Some((format, start + at));
            }
        }
    }
    // A record behind static template text (`ZscalerNSS: {…}`): JSON when a brace comes before
    // any `=` and no tab does. A field of a tab-separated positional frame may hold braces too:
    // an API path's `{id}`, or the JSON of an audit record's last fields (`{"status":"active"}`,
    // so the frame may even end with one). A comma before the brace makes it JSON only when the
    // frame ends with a closing brace (static text may hold a comma; an unquoted comma-separated
    // frame ends with its last field). A cut record behind `zscaler-nss: ` is still JSON, a
    // malformed one.
    let brace = memchr::memchr(b'{', text);
    let equals = memchr::memchr(b'=', text);
    if let Some(at) = brace {
        let before = &text[..at];
        let closed = text.trim_ascii_end().last() == Some(&b'}');
        if equals.is_none_or(|e| at < e)
            && memchr::memchr(b'\t', before).is_none()
            && (closed || memchr::memchr(b',', before).is_none())
        {
            return Some((Format::Json, start + at));
        }
    }
    let carets = memchr::memchr_iter(b'^', text).any(|at| text.get(at + 1) == Some(&b'^'));
    if carets || kv_pairs(text) >= KV_MIN_PAIRS {
        return Some((Format::Kv, start));
    }
    if memchr::memchr2(b',', b'\t', text).is_some() {
        return Some((Format::Csv, start));
    }
    brace.map(|at| (Format::Json, start + at))
}

/// The first `tag` in `head`. A searcher is built per call of `memmem::find`, which costs more than
/// looking at the few places where a short head holds the tag's first byte.
fn find_tag(head: &[u8], tag: &[u8]) -> Option<usize> {
    let first = *tag.first()?;
    memchr::memchr_iter(first, head).find(|&at| head[at..].starts_with(tag))
}

/// The bytes of a name, as keys are written: `[A-Za-z0-9_.-]`.
const NAME: [bool; 256] = {
    let mut table = [false; 256];
    let mut c = 0;
    while c < 256 {
        let b = c as u8;
        table[c] = b.is_ascii_alphanumeric() || b == b'_' || b == b'.' || b == b'-';
        c += 1;
    }
    table
};

pub(super) fn is_name(b: u8) -> bool {
    NAME[b as usize]
}

/// Where the run of name bytes that ends at `end` starts (`end` when there is none).
pub(crate) fn name_start(b: &[u8], end: usize) -> usize {
    let mut start = end;
    while start > 0 && is_name(b[start - 1]) {
        start -= 1;
    }
    start
}

/// `at`, past the spaces at it.
pub(crate) fn after_spaces(b: &[u8], at: usize) -> usize {
    at + b[at.min(b.len())..]
        .iter()
        .take_while(|&&c| c == b' ')
        .count()
}

/// The first `needle` at or after `from`. The values of text formats are mostly short, and
/// starting a vector search costs more than looking at their first 128 bytes, 16 at a time.
pub(crate) fn find_byte(b: &[u8], from: usize, needle: u8) -> Option<usize> {
    let mut at = from;
    while at < from + 128 {
        let Some(c) = b.get(at..).and_then(<[u8]>::first_chunk) else {
            break;
        };
        let found = byte_mask(c, needle);
        if found != 0 {
            return Some(at + found.trailing_zeros() as usize);
        }
        at += 16;
    }
    // A long value, or the last 15 bytes of the text.
    memchr::memchr(needle, b.get(at..)?).map(|i| at + i)
}

/// How many bytes of a name (`[A-Za-z0-9_.-]`, as keys are written) `b` holds from `at` on.
pub(crate) fn name_len(b: &[u8], at: usize) -> usize {
    let mut end = at;
    while let Some(c) = b.get(end..).and_then(<[u8]>::first_chunk) {
        let stop = nonname_mask(c);
        if stop != 0 {
            return end + stop.trailing_zeros() as usize - at;
        }
        end += 16;
    }
    // The last 15 bytes of the text.
    while end < b.len() && is_name(b[end]) {
        end += 1;
    }
    end.saturating_sub(at)
}

/// What one look at every byte of a frame tells.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Survey {
    /// Every byte is ASCII: the frame is UTF-8 without a check.
    pub(crate) ascii: bool,
    /// A byte a JSON string must escape, tabs apart: a control byte, a quote or a backslash.
    pub(crate) escape: bool,
    pub(crate) tab: bool,
}

/// Looks at every byte of `text` once, 16 at a time.
#[cfg(target_arch = "x86_64")]
pub(crate) fn survey(text: &[u8]) -> Survey {
    use std::arch::x86_64::{
        __m128i, _mm_andnot_si128, _mm_cmpeq_epi8, _mm_loadu_si128, _mm_min_epu8,
        _mm_movemask_epi8, _mm_or_si128, _mm_set1_epi8, _mm_setzero_si128,
    };
    let mut chunks = text.chunks_exact(16);
    // Spaces after the text's tail: no byte a survey notes.
    let mut tail = [b' '; 16];
    tail[..chunks.remainder().len()].copy_from_slice(chunks.remainder());
    // SAFETY: SSE2 is part of the x86-64 baseline, so these instructions always exist; every
    // chunk is 16 readable bytes, and an unaligned load has no alignment requirement.
    unsafe {
        let (mut high, mut escape, mut tab) = (
            _mm_setzero_si128(),
            _mm_setzero_si128(),
            _mm_setzero_si128(),
        );
        let mut look = |v: __m128i| {
            let is = |b: u8| _mm_cmpeq_epi8(v, _mm_set1_epi8(b as i8));
            let tabs = is(b'\t');
            // min(v, 0x1f) == v exactly when v <= 0x1f (unsigned).
            let control = _mm_cmpeq_epi8(_mm_min_epu8(v, _mm_set1_epi8(0x1f)), v);
            let quoted = _mm_or_si128(is(b'"'), is(b'\\'));
            high = _mm_or_si128(high, v);
            tab = _mm_or_si128(tab, tabs);
            escape = _mm_or_si128(
                escape,
                _mm_or_si128(_mm_andnot_si128(tabs, control), quoted),
            );
        };
        for chunk in &mut chunks {
            look(_mm_loadu_si128(chunk.as_ptr().cast()));
        }
        look(_mm_loadu_si128(tail.as_ptr().cast()));
        Survey {
            ascii: _mm_movemask_epi8(high) == 0,
            escape: _mm_movemask_epi8(escape) != 0,
            tab: _mm_movemask_epi8(tab) != 0,
        }
    }
}

#[cfg(not(target_arch = "x86_64"))]
pub(crate) fn survey(text: &[u8]) -> Survey {
    survey_scalar(text)
}

/// [`survey`] a byte at a time: its definition, which the vector version is tested against.
#[cfg_attr(target_arch = "x86_64", allow(dead_code))]
fn survey_scalar(text: &[u8]) -> Survey {
    Survey {
        ascii: text.is_ascii(),
        escape: text
            .iter()
            .any(|&b| (b < 0x20 && b != b'\t') || b == b'"' || b == b'\\'),
        tab: text.contains(&b'\t'),
    }
}

/// Bit `i` set where byte `i` of `c` is `needle`.
#[cfg(target_arch = "x86_64")]
#[inline(always)]
fn byte_mask(c: &[u8; 16], needle: u8) -> u32 {
    use std::arch::x86_64::{_mm_cmpeq_epi8, _mm_loadu_si128, _mm_movemask_epi8, _mm_set1_epi8};
    // SAFETY: SSE2 is part of the x86-64 baseline, so these instructions always exist; `c` is 16
    // readable bytes, and an unaligned load has no alignment requirement.
    let m = unsafe {
        let v = _mm_loadu_si128(c.as_ptr().cast());
        _mm_movemask_epi8(_mm_cmpeq_epi8(v, _mm_set1_epi8(needle as i8)))
    };
    m as u32 & 0xffff
}

/// Bit `i` set where byte `i` of `c` cannot be part of a name (`[A-Za-z0-9_.-]`).
#[cfg(target_arch = "x86_64")]
#[inline(always)]
fn nonname_mask(c: &[u8; 16]) -> u32 {
    use std::arch::x86_64::{_mm_loadu_si128, _mm_movemask_epi8};
    // SAFETY: as in `byte_mask`.
    let m = unsafe { _mm_movemask_epi8(name_bytes(_mm_loadu_si128(c.as_ptr().cast()))) };
    !(m as u32) & 0xffff
}

/// 0xff in each byte of `v` that can be part of a name (`[A-Za-z0-9_.-]`), 0 in the others: for
/// the key scans of key=value, CEF and LEEF frames alike.
#[cfg(target_arch = "x86_64")]
#[inline(always)]
pub(crate) fn name_bytes(v: std::arch::x86_64::__m128i) -> std::arch::x86_64::__m128i {
    use std::arch::x86_64::{
        _mm_add_epi8, _mm_cmpeq_epi8, _mm_cmplt_epi8, _mm_or_si128, _mm_set1_epi8,
    };
    // SAFETY: SSE2 is part of the x86-64 baseline, so these instructions always exist.
    unsafe {
        let is = |b: u8| _mm_cmpeq_epi8(v, _mm_set1_epi8(b as i8));
        // Shifted so that the range starts at -128, a range check is one signed compare:
        // '0'..='9' + 0x50 is -128..=-119, ('a'..='z' | 0x20) + 0x1f is -128..=-103.
        let digit = _mm_cmplt_epi8(_mm_add_epi8(v, _mm_set1_epi8(0x50)), _mm_set1_epi8(-118));
        let lower = _mm_or_si128(v, _mm_set1_epi8(0x20));
        let letter = _mm_cmplt_epi8(
            _mm_add_epi8(lower, _mm_set1_epi8(0x1f)),
            _mm_set1_epi8(-102),
        );
        let punct = _mm_or_si128(_mm_or_si128(is(b'_'), is(b'.')), is(b'-'));
        _mm_or_si128(_mm_or_si128(digit, letter), punct)
    }
}

#[cfg(not(target_arch = "x86_64"))]
fn byte_mask(c: &[u8; 16], needle: u8) -> u32 {
    byte_mask_scalar(c, needle)
}

#[cfg(not(target_arch = "x86_64"))]
fn nonname_mask(c: &[u8; 16]) -> u32 {
    nonname_mask_scalar(c)
}

/// [`byte_mask`] a byte at a time: its definition, which the vector version is tested against.
#[cfg_attr(target_arch = "x86_64", allow(dead_code))]
fn byte_mask_scalar(c: &[u8; 16], needle: u8) -> u32 {
    c.iter()
        .enumerate()
        .fold(0, |m, (i, &b)| m | u32::from(b == needle) << i)
}

/// [`nonname_mask`] a byte at a time.
#[cfg_attr(target_arch = "x86_64", allow(dead_code))]
fn nonname_mask_scalar(c: &[u8; 16]) -> u32 {
    c.iter().enumerate().fold(0, |m, (i, &b)| {
        let name = b.is_ascii_alphanumeric() || matches!(b, b'_' | b'.' | b'-');
        m | u32::from(!name) << i
    })
}

/// Counts `key=` where the key is a name (letters, digits, `_`, `.`, `-`) that starts the text or
/// follows a space or a tab, up to [`KV_MIN_PAIRS`].
fn kv_pairs(text: &[u8]) -> usize {
    let mut pairs = 0;
    for at in memchr::memchr_iter(b'=', text) {
        let key_start = name_start(text, at);
        let delimited = key_start == 0 || matches!(text[key_start - 1], b' ' | b'\t');
        if key_start < at && delimited {
            pairs += 1;
            if pairs >= KV_MIN_PAIRS {
                break;
            }
        }
    }
    pairs
}

#[cfg(test)]
mod tests {
    use super::*;

    proptest::proptest! {
        /// The word-at-a-time search finds what a byte-by-byte one does, wherever it starts, among
        /// bytes next to the needle's value (where a borrow could flag the wrong byte).
        #[test]
        fn find_byte_is_a_search(
            picks in proptest::collection::vec(0usize..8, 0..80),
            needle: u8,
            from in 0usize..90,
        ) {
            let (up, down) = (needle.wrapping_add(1), needle.wrapping_sub(1));
            let near = [needle, 0, 0x80, 0xff, b'a', needle ^ 0x80, up, down];
            let bytes: Vec<u8> = picks.iter().map(|&i| near[i]).collect();
            let from = from.min(bytes.len());
            let naive = bytes[from..].iter().position(|&b| b == needle).map(|i| from + i);
            proptest::prop_assert_eq!(find_byte(&bytes, from, needle), naive);
        }
    }

    proptest::proptest! {
        /// Names end where a byte-by-byte walk says, from any start, across chunk boundaries.
        #[test]
        fn name_len_is_a_walk(
            picks in proptest::collection::vec(0usize..10, 0..80),
            from in 0usize..90,
        ) {
            let near = [b'a', b'Z', b'0', b'9', b'_', b'.', b'-', b'=', b' ', 0x80];
            let bytes: Vec<u8> = picks.iter().map(|&i| near[i]).collect();
            let walk = bytes
                .get(from..)
                .unwrap_or_default()
                .iter()
                .take_while(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'.' | b'-'))
                .count();
            proptest::prop_assert_eq!(name_len(&bytes, from), walk);
        }
    }

    proptest::proptest! {
        /// The vector survey says what the byte-by-byte one does, whatever the length.
        #[test]
        fn survey_is_a_look_at_every_byte(
            picks in proptest::collection::vec(0usize..8, 0..80),
        ) {
            let near = [b'a', b' ', b'\t', 0, 0x1f, b'"', b'\\', 0x80];
            let bytes: Vec<u8> = picks.iter().map(|&i| near[i]).collect();
            proptest::prop_assert_eq!(survey(&bytes), survey_scalar(&bytes));
        }
    }

    #[test]
    fn surveys_see_every_byte_and_no_padding() {
        let plain = Survey {
            ascii: true,
            escape: false,
            tab: false,
        };
        assert_eq!(survey(b""), plain);
        for len in [1, 15, 16, 17, 40] {
            let mut text = vec![b'a'; len];
            assert_eq!(survey(&text), plain, "{len}");
            for (at, b, want) in [
                (
                    0,
                    0xc3,
                    Survey {
                        ascii: false,
                        ..plain
                    },
                ),
                (
                    len - 1,
                    0,
                    Survey {
                        escape: true,
                        ..plain
                    },
                ),
                (
                    len / 2,
                    b'"',
                    Survey {
                        escape: true,
                        ..plain
                    },
                ),
                (
                    len - 1,
                    b'\\',
                    Survey {
                        escape: true,
                        ..plain
                    },
                ),
                (len / 3, b'\t', Survey { tab: true, ..plain }),
            ] {
                let keep = text[at];
                text[at] = b;
                assert_eq!(survey(&text), want, "{len} {at} {b}");
                text[at] = keep;
            }
        }
    }

    #[test]
    fn vector_masks_are_the_scalar_ones() {
        let mut c = [0u8; 16];
        for start in (0..256).step_by(16) {
            for (i, b) in c.iter_mut().enumerate() {
                *b = (start + i) as u8;
            }
            assert_eq!(nonname_mask(&c), nonname_mask_scalar(&c), "{start}");
            for needle in [0, b'\t', b'=', 0x7f, 0x80, 0xff] {
                assert_eq!(byte_mask(&c, needle), byte_mask_scalar(&c, needle));
            }
        }
    }

    #[test]
    fn formats_are_told_apart_by_their_first_bytes() {
        let cases: &[(&str, Option<(Format, usize)>)] = &[
            (r#"{"a":"b"}"#, Some((Format::Json, 0))),
            (r#"  {"a":"b"}"#, Some((Format::Json, 2))),
            (r#"ZscalerNSS: {"a":"b=c"}"#, Some((Format::Json, 12))),
            (
                "LEEF:1.0|Zscaler|NSS|4.1|Blocked|cat=x",
                Some((Format::Leef, 0)),
            ),
            (
                "zscaler-nss: LEEF:1.0|Zscaler|NSS|4.1|x|",
                Some((Format::Leef, 13)),
            ),
            (
                "CEF:0|Zscaler|NSSWeblog|5.0|Allowed|Allowed|3|act=Allowed",
                Some((Format::Cef, 0)),
            ),
            ("a=1\tb=2\tc=3", Some((Format::Kv, 0))),
            (
                "2019-10-16 15:44:36\treason=Allowed\taction=Allowed\tstatus=200",
                Some((Format::Kv, 0)),
            ),
            ("time=Nov 30^^action=Blocked", Some((Format::Kv, 0))),
            (
                r#""Mon Jun 20 15:29:11 2022","new-gre""#,
                Some((Format::Csv, 0)),
            ),
            (
                "Mon Jun 20 15:29:11 2022\tnew-gre\tebay.com/?a=b",
                Some((Format::Csv, 0)),
            ),
            ("just some text", None),
            ("", None),
        ];
        for (text, want) in cases {
            assert_eq!(detect(text.as_bytes()), *want, "{text:?}");
        }
    }
}
