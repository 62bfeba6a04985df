//! Decoding of NSS (ZIA) and LSS (ZPA) field values.
//!
//! Every function here is called per field on the ingest hot path, so each
//! one answers from the input slice and only allocates when the value really
//! has to be rewritten.

use std::borrow::Cow;

use base64::alphabet;
use base64::engine::general_purpose::GeneralPurposeConfig;
use base64::engine::{DecodePaddingMode, GeneralPurpose};
use base64::Engine as _;

/// True for values that Zscaler feeds use to mean "no value": "", "None",
/// "NA", "N/A" (exact, after trimming ASCII whitespace). The lower-case
/// spellings "none", "na" and "n/a" are accepted too.
#[inline]
pub fn is_absent(s: &str) -> bool {
    // Most values are longer than any absent word and start and end with a visible byte: they
    // are answered without a call (this runs for every duplicate key and `has` of a record).
    match s.as_bytes() {
        [first, .., last] if s.len() > 4 && *first > b' ' && *last > b' ' => false,
        _ => absent_word(s.trim_ascii().as_bytes()),
    }
}

/// Whether trimmed text is an absent word. Deliberately a fixed list rather than a
/// case-insensitive compare: a value such as "NONE" or "Na" could be real data (a user or host
/// name), and only the spellings the feeds are known to emit may be dropped. Byte patterns: a
/// switch on the length and a few compares, where `str` patterns called `bcmp`.
#[inline]
fn absent_word(t: &[u8]) -> bool {
    matches!(
        t,
        [] | [b'N', b'o', b'n', b'e']
            | [b'N', b'A']
            | [b'N', b'/', b'A']
            | [b'n', b'o', b'n', b'e']
            | [b'n', b'a']
            | [b'n', b'/', b'a']
    )
}

/// Trims ASCII whitespace and returns `None` when the value is absent (see
/// [`is_absent`]), else the trimmed value.
// Always: a record asks it of two dozen values, and as a call it cost a dozen instructions more
// than its body.
#[inline(always)]
pub fn present(s: &str) -> Option<&str> {
    // Nearly every value starts and ends with a visible byte: no trimming, no absent word but
    // the short ones. This runs for every text value of every record.
    let t = match s.as_bytes() {
        [first, .., last] if *first > b' ' && *last > b' ' => s,
        _ => s.trim_ascii(),
    };
    // No absent word is longer than four bytes: most values are decided by their length.
    if t.len() <= 4 && absent_word(t.as_bytes()) {
        None
    } else {
        Some(t)
    }
}

/// `s.trim()`, without walking characters when `s` starts and ends with a visible ASCII byte:
/// no whitespace character, ASCII or not, starts or ends with one. A device key and a
/// sourcetype are trimmed on every record.
#[inline]
pub fn trim(s: &str) -> &str {
    match s.as_bytes() {
        [first, .., last] if visible_ascii(*first) && visible_ascii(*last) => s,
        _ => s.trim(),
    }
}

#[inline]
fn visible_ascii(b: u8) -> bool {
    (b'!'..=b'~').contains(&b)
}

#[inline]
fn hex_val(b: u8) -> Option<u8> {
    match b {
        b'0'..=b'9' => Some(b - b'0'),
        b'a'..=b'f' => Some(b - b'a' + 10),
        b'A'..=b'F' => Some(b - b'A' + 10),
        _ => None,
    }
}

/// Which `%HH` escapes an NSS `e…` value holds, by what the value is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Escapes {
    /// URLs, hosts, user agents, referers, DNS names: NSS hex-encodes only the bytes up to 0x20
    /// and from 0x7F, plus the Feed Escape Characters (`,` `\` `"` as the deployment guides set
    /// them), and leaves `%` itself alone. So `%41` or `%2F` in an `eurl` was already in the URL
    /// the user requested, and decoding it would change the URL.
    Nss,
    /// Names (logins, departments, locations, rule labels, threats, an audit's before and after):
    /// NSS URL-encodes these whole (`elogin` writes `jdoe%40example.com`), so every escape is
    /// decoded.
    All,
}

/// The byte encoded by a `%HH` escape starting at `i`, if NSS would have written it in a value
/// of that kind.
#[inline]
pub(crate) fn escape_at(b: &[u8], i: usize, escapes: Escapes) -> Option<u8> {
    let hi = hex_val(*b.get(i + 1)?)?;
    let lo = hex_val(*b.get(i + 2)?)?;
    let byte = hi << 4 | lo;
    let nss = byte <= 0x20 || byte >= 0x7f || matches!(byte, b',' | b'\\' | b'"');
    (nss || escapes == Escapes::All).then_some(byte)
}

/// Whether an `e…` value decodes to an absent word or to blanks (`%4E%6F%6E%65`, `%20`): the
/// record writer decodes the rest as it copies it, which cannot leave a value out. An absent word
/// is four characters at most, so only values of up to 12 bytes with a `%` are decoded, on the
/// stack.
#[inline(always)]
pub fn decodes_to_absent(s: &str, escapes: Escapes) -> bool {
    // What decodes to an absent word or blanks starts with one, or with an escape: nearly every
    // value is answered by its first byte here, inlined (this runs for every encoded field of
    // every record; as a call it cost about 1 % of the shard path's instructions).
    let starts = match s.as_bytes().first() {
        Some(&b) => matches!(b, b'%' | b'N' | b'n') || b.is_ascii_whitespace(),
        None => true,
    };
    starts && s.len() <= ABSENT_MOST && decoded_is_absent(s, escapes)
}

/// The longest encoded absent word: four characters, each an escape.
const ABSENT_MOST: usize = 12;

/// [`decodes_to_absent`] for a short value that may be one.
#[cold]
fn decoded_is_absent(s: &str, escapes: Escapes) -> bool {
    const MOST: usize = ABSENT_MOST;
    if !s.contains('%') {
        return false;
    }
    let mut decoded = [0u8; MOST];
    let mut len = 0;
    percent_walk(s, escapes, |piece| {
        let bytes: &[u8] = match &piece {
            Piece::Run(run) => run.as_bytes(),
            Piece::Byte(byte) => std::slice::from_ref(byte),
        };
        // Decoding only shrinks a value: `len` stays within the value's length.
        decoded[len..len + bytes.len()].copy_from_slice(bytes);
        len += bytes.len();
    });
    std::str::from_utf8(&decoded[..len]).is_ok_and(|text| present(text).is_none())
}

/// A piece of a percent-encoded value: text to keep as it is, or one byte an escape decoded.
/// A run is text: it starts and ends at the value's ends or beside a `%` or an escape, all
/// ASCII, so at character boundaries.
pub enum Piece<'a> {
    Run(&'a str),
    Byte(u8),
}

/// Walks an NSS `e…` value, handing `emit` its runs of plain bytes and the bytes its `%HH` escapes
/// decode to (a `%` not starting an escape NSS writes is a plain byte). Shared by
/// [`percent_decode_with`] and the record writer, which decodes straight into the record.
pub fn percent_walk<'a>(s: &'a str, escapes: Escapes, mut emit: impl FnMut(Piece<'a>)) {
    let b = s.as_bytes();
    let mut i = 0;
    while let Some(off) = find_percent(&b[i..]) {
        let pct = i + off;
        match escape_at(b, pct, escapes) {
            Some(byte) => {
                emit(Piece::Run(&s[i..pct]));
                emit(Piece::Byte(byte));
                i = pct + 3;
            }
            None => {
                emit(Piece::Run(&s[i..=pct]));
                i = pct + 1;
            }
        }
    }
    emit(Piece::Run(&s[i..]));
}

/// Decodes the `%HH` escapes NSS writes in a URL-like `e…` field (eurl, ehost, eua, ereferer):
/// [`percent_decode_with`] and [`Escapes::Nss`].
pub fn percent_decode(s: &str) -> Cow<'_, str> {
    percent_decode_with(s, Escapes::Nss)
}

/// Decodes `%HH` escapes, as found in the NSS `e…` fields, those `escapes` says NSS writes.
///
/// Borrowed when nothing needs decoding. A `%` not followed by two hex digits
/// is kept literally, and `+` is kept because NSS does not use form encoding.
/// When the decoded bytes are not valid UTF-8 the input is returned
/// unchanged, so that no replacement characters are ever invented.
pub fn percent_decode_with(s: &str, escapes: Escapes) -> Cow<'_, str> {
    // An empty String costs nothing until there is something to decode.
    let mut out = String::new();
    let (decoded, _) = percent_decode_into(s, escapes, &mut out);
    if std::ptr::eq(decoded.as_ptr(), s.as_ptr()) {
        return Cow::Borrowed(s);
    }
    Cow::Owned(out)
}

/// [`percent_decode_with`] into a buffer the caller keeps from record to record: what most NSS
/// feeds send in every record (`elogin` writes `jdoe%40example.com`) costs no allocation. The
/// flag says whether an escape decoded to a byte JSON escapes (`"`, `\`, a control character):
/// the rest of the value is as the frame holds it.
///
/// Decoded into a `String`, a piece of the value and an ASCII byte at a time: the value is UTF-8
/// and an escape is three ASCII bytes, so what an ASCII escape leaves is UTF-8 too, and is not
/// validated again. An escape of a byte from 0x80 ([`percent_decode_bytes`]) is.
pub fn percent_decode_into<'s>(
    s: &'s str,
    escapes: Escapes,
    buf: &'s mut String,
) -> (&'s str, bool) {
    let b = s.as_bytes();
    // A stray '%' (as in "100%") is common in URLs and must not cost a copy: decoding starts at
    // the first *valid* escape.
    let Some(first) = first_escape(b, escapes) else {
        return (s, false);
    };
    buf.clear();
    buf.reserve(b.len());
    buf.push_str(&s[..first]);
    let (mut special, mut high) = (false, false);
    percent_walk(&s[first..], escapes, |piece| match piece {
        Piece::Run(run) => buf.push_str(run),
        Piece::Byte(byte) if byte.is_ascii() => {
            special |= byte < 0x20 || byte == b'"' || byte == b'\\';
            buf.push(char::from(byte));
        }
        Piece::Byte(_) => high = true,
    });
    if high {
        // Not UTF-8 on its own: the whole value is decoded as bytes and validated.
        return percent_decode_bytes(s, escapes, buf);
    }
    (buf.as_str(), special)
}

/// [`percent_decode_into`] for a value with an escape of a byte from 0x80 (a UTF-8 name's,
/// `jos%C3%A9`): decoded as bytes in `buf`'s room, and the value as sent unless they are UTF-8.
#[cold]
fn percent_decode_bytes<'s>(s: &'s str, escapes: Escapes, buf: &'s mut String) -> (&'s str, bool) {
    let mut bytes = std::mem::take(buf).into_bytes();
    bytes.clear();
    let mut special = false;
    percent_walk(s, escapes, |piece| match piece {
        Piece::Run(run) => bytes.extend_from_slice(run.as_bytes()),
        Piece::Byte(byte) => {
            special |= byte < 0x20 || byte == b'"' || byte == b'\\';
            bytes.push(byte);
        }
    });
    match String::from_utf8(bytes) {
        Ok(decoded) => {
            *buf = decoded;
            (buf.as_str(), special)
        }
        Err(e) => {
            // The room is kept for the next value: an empty buffer is UTF-8.
            let mut room = e.into_bytes();
            room.clear();
            *buf = String::from_utf8(room).unwrap_or_default();
            (s, false)
        }
    }
}

/// Where the first escape to decode in `b` starts.
fn first_escape(b: &[u8], escapes: Escapes) -> Option<usize> {
    let mut from = 0;
    loop {
        let at = from + find_percent(&b[from..])?;
        if escape_at(b, at, escapes).is_some() {
            return Some(at);
        }
        from = at + 1;
    }
}

/// The first `%` in `b`. Most values are short (a login, `jdoe%40example.com`, and a hostname
/// are searched on every record), and eight bytes at a time answer them before memchr's dispatch
/// would.
#[inline]
fn find_percent(b: &[u8]) -> Option<usize> {
    if b.len() >= 32 {
        return memchr::memchr(b'%', b);
    }
    const ONES: u64 = u64::from_ne_bytes([0x01; 8]);
    const HIGHS: u64 = u64::from_ne_bytes([0x80; 8]);
    const PERCENTS: u64 = u64::from_ne_bytes([b'%'; 8]);
    let mut words = b.chunks_exact(8);
    for (i, chunk) in words.by_ref().enumerate() {
        let mut word = [0u8; 8];
        word.copy_from_slice(chunk);
        // A zero byte where `%` was: the lowest byte flagged is the first `%` (a borrow only
        // flags bytes above a zero one).
        let x = u64::from_le_bytes(word) ^ PERCENTS;
        let found = x.wrapping_sub(ONES) & !x & HIGHS;
        if found != 0 {
            return Some(i * 8 + (found.trailing_zeros() / 8) as usize);
        }
    }
    let rest = words.remainder();
    let at = b.len() - rest.len();
    rest.iter().position(|&c| c == b'%').map(|p| at + p)
}

/// A text value as a record carries it: decoded already, or an NSS `e…` value whose `%HH`
/// escapes the record writer decodes as it copies it, so that no value is decoded into a
/// `String` of its own on the hot path.
#[derive(Debug, Clone, PartialEq)]
pub enum Text<'a> {
    Plain(Cow<'a, str>),
    Percent(&'a str, Escapes),
}

/// Padding is optional in the wild (some producers strip it), so both
/// engines accept it present or not.
const LENIENT_PADDING: GeneralPurposeConfig =
    GeneralPurposeConfig::new().with_decode_padding_mode(DecodePaddingMode::Indifferent);
const STANDARD_ANY_PAD: GeneralPurpose = GeneralPurpose::new(&alphabet::STANDARD, LENIENT_PADDING);
const URL_SAFE_ANY_PAD: GeneralPurpose = GeneralPurpose::new(&alphabet::URL_SAFE, LENIENT_PADDING);

/// Decodes the NSS `b64…` fields: standard or URL-safe alphabet, padded or
/// not, surrounding whitespace ignored.
///
/// `None` when the value is absent (see [`is_absent`]), is not valid base64,
/// or does not decode to UTF-8. Absent words are refused up front because
/// some of them are themselves valid base64 ("NA" decodes to "4").
pub fn base64_decode(s: &str) -> Option<String> {
    let t = s.trim_ascii();
    if is_absent(t) {
        return None;
    }
    let b = t.as_bytes();
    // The two alphabets differ only in '+' '/' versus '-' '_'; whichever pair
    // shows up picks the engine, and a value mixing both is rejected by it.
    let engine = if memchr::memchr2(b'-', b'_', b).is_some() {
        &URL_SAFE_ANY_PAD
    } else {
        &STANDARD_ANY_PAD
    };
    let bytes = engine.decode(b).ok()?;
    String::from_utf8(bytes).ok()
}

/// An unsigned integer written with a fraction of zeros (`52352.0`, `7.00`): the integer, as
/// [`parse_u64`] reads its digits. Anything else (another fraction, an exponent) is `None`.
#[inline]
pub fn parse_whole_decimal(s: &str) -> Option<u64> {
    // Asked of every count that did not read (`None`, `NA`, a word): most end in no `0`, and
    // are refused before the trim and the search for the point.
    match s.as_bytes().last() {
        Some(b'0' | b' ' | b'\t' | b'\n' | b'\r' | b'\x0c') => whole_decimal(s),
        _ => None,
    }
}

fn whole_decimal(s: &str) -> Option<u64> {
    let (whole, zeros) = s.trim_ascii().split_once('.')?;
    let zeros_only = !zeros.is_empty() && zeros.bytes().all(|b| b == b'0');
    let digits = whole.strip_prefix('+').unwrap_or(whole);
    (zeros_only && !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit()))
        .then(|| parse_u64(whole))
        .flatten()
}

/// Parses an unsigned integer as feeds send it: ASCII digits with an optional
/// leading `+`, surrounded by optional ASCII whitespace.
///
/// `None` for anything else: negative numbers, decimals such as "600.0",
/// empty or absent words, and values that overflow `u64`.
pub fn parse_u64(s: &str) -> Option<u64> {
    // Most counts are a few plain digits (sizes, codes, `0`): read without looking for spaces, a
    // sign or a chunk of eight; 7 digits cannot overflow, and one that is not a digit sends the
    // text on to the full reading.
    if let b @ [_, ..] = s.as_bytes() {
        if b.len() < 8 {
            let (n, digits) = b.iter().fold((0u64, true), |(n, digits), &d| {
                let v = d.wrapping_sub(b'0');
                (n * 10 + u64::from(v), digits & (v <= 9))
            });
            if digits {
                return Some(n);
            }
        }
    }
    // Trimming and a sign are looked for only when the first or last byte is not a digit.
    let t = match s.as_bytes() {
        [first, .., last] if first.is_ascii_digit() && last.is_ascii_digit() => s,
        _ => s.trim_ascii(),
    };
    let digits = t.as_bytes().strip_prefix(b"+").unwrap_or(t.as_bytes());
    // Up to 19 digits cannot overflow: a plain loop, this runs for every count and size a record
    // carries. Longer ones go to std's parser, whose rules (optional '+', digits only, overflow
    // checked) these are.
    if digits.is_empty() || digits.len() > 19 {
        return t.parse().ok();
    }
    let mut n = 0u64;
    let mut rest = digits;
    // Eight digits at a time: record ids have 19, epoch times 10.
    while let Some((chunk, tail)) = rest.split_first_chunk::<8>() {
        n = n * 100_000_000 + eight_digits(*chunk)?;
        rest = tail;
    }
    for &d in rest {
        let v = d.wrapping_sub(b'0');
        if v > 9 {
            return None;
        }
        n = n * 10 + u64::from(v);
    }
    Some(n)
}

/// The value of eight ASCII digits, or `None` if one of them is not a digit: a SWAR reading that
/// adds pairs of digits, then pairs of pairs, then the two halves.
#[inline]
fn eight_digits(chunk: [u8; 8]) -> Option<u64> {
    const ZEROS: u64 = u64::from_le_bytes([b'0'; 8]);
    const HIGH_NIBBLES: u64 = u64::from_le_bytes([0xf0; 8]);
    const SIXES: u64 = u64::from_le_bytes([0x06; 8]);
    let word = u64::from_le_bytes(chunk);
    // Each byte is 0x30..=0x39: its high nibble is 3, and so it stays once 6 is added.
    let digits = word & HIGH_NIBBLES == ZEROS && word.wrapping_add(SIXES) & HIGH_NIBBLES == ZEROS;
    if !digits {
        return None;
    }
    // The first digit is the lowest byte: each step multiplies the higher-order (earlier) half.
    // The products' bits above a lane's are masked off (the last one's leave the word).
    let v = word - ZEROS;
    let v = (v.wrapping_mul(10) + (v >> 8)) & 0x00ff_00ff_00ff_00ff;
    let v = (v.wrapping_mul(100) + (v >> 16)) & 0x0000_ffff_0000_ffff;
    Some((v.wrapping_mul(10_000) + (v >> 32)) & 0xffff_ffff)
}

#[cfg(test)]
mod tests;
