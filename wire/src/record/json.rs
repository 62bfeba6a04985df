//! A small JSON Lines writer: records are written field by field straight into a batch buffer, in
//! the order DESIGN §2.4 fixes, with absent values left out. No serde on this path: it would
//! build the record twice.

use std::borrow::Cow;

use jiff::Timestamp;

use super::put::put;
use super::time::TimeCache;
use crate::value::{percent_walk, Escapes, Piece, Text};

/// A key as it is written, made at compile time by [`key!`](crate::key): `,"name":"`. Records
/// write a couple of dozen keys each, and one copy of a constant beats pushing the comma, the
/// key and the opening quote of a string value one by one. A value that is not a string is
/// written after the key without its last byte.
#[derive(Debug, Clone, Copy)]
pub struct Key(pub &'static str);

impl Key {
    /// `,"name":`
    #[inline(always)]
    fn bare(self) -> &'static [u8] {
        let b = self.0.as_bytes();
        &b[..b.len() - 1]
    }

    /// `,"name":"`
    #[inline(always)]
    fn quoted(self) -> &'static [u8] {
        self.0.as_bytes()
    }
}

/// `key!("name")` is the [`Key`] `,"name":"`. Names are ztel's own constants: nothing to escape.
#[macro_export]
macro_rules! key {
    ($name:literal) => {
        $crate::record::json::Key(concat!(",\"", $name, "\":\""))
    };
}

/// One JSON object being appended to `out`. Every member is written with a leading comma; the
/// first one's is where the object's `{` goes, so no member asks whether it is the first.
pub struct Object<'b> {
    out: &'b mut Vec<u8>,
    start: usize,
    /// Borrowed values need no escaping: they are slices of a frame that the fast path found
    /// free of quotes, backslashes and control characters, or ztel's own constants.
    plain_borrowed: bool,
}

impl<'b> Object<'b> {
    pub fn begin(out: &'b mut Vec<u8>) -> Self {
        let start = out.len();
        Object {
            out,
            start,
            plain_borrowed: false,
        }
    }

    /// An object whose borrowed values are known to need no escaping (see `plain_borrowed`).
    pub fn begin_plain_borrowed(out: &'b mut Vec<u8>) -> Self {
        let mut o = Object::begin(out);
        o.plain_borrowed = true;
        o
    }

    /// Closes the object and ends the line.
    pub fn end_line(self) {
        match self.out.get_mut(self.start) {
            // The first member's comma.
            Some(first) => *first = b'{',
            None => self.out.push(b'{'),
        }
        self.out.extend_from_slice(b"}\n");
    }

    #[inline(always)]
    fn key(&mut self, key: Key) {
        put(self.out, key.bare());
    }

    pub fn str(&mut self, key: Key, value: &str) {
        self.key(key);
        write_str(self.out, value);
    }

    pub fn opt_str(&mut self, key: Key, value: Option<&str>) {
        if let Some(v) = value {
            self.str(key, v);
        }
    }

    /// A value taken from a record: copied as it is when it is borrowed from a plain frame,
    /// escaped otherwise.
    #[inline(always)]
    pub fn text(&mut self, key: Key, value: Option<&Cow<'_, str>>) {
        match value {
            Some(Cow::Borrowed(v)) if self.plain_borrowed => {
                debug_assert!(!needs_escape(v.as_bytes()), "{v:?}");
                put(self.out, key.quoted());
                put(self.out, v.as_bytes());
                self.out.push(b'"');
            }
            Some(v) => self.str(key, v),
            None => {}
        }
    }

    /// A value taken from a record that may still be percent-encoded: decoded as it is copied.
    #[inline]
    pub fn text_value(&mut self, key: Key, value: Option<&Text<'_>>) {
        match value {
            Some(Text::Plain(text)) => self.text(key, Some(text)),
            Some(Text::Percent(raw, escapes)) => {
                self.key(key);
                write_percent(self.out, raw, *escapes, self.plain_borrowed);
            }
            None => {}
        }
    }

    #[inline]
    pub fn u64(&mut self, key: Key, value: u64) {
        self.key(key);
        put(self.out, itoa::Buffer::new().format(value).as_bytes());
    }

    #[inline]
    pub fn opt_u64(&mut self, key: Key, value: Option<u64>) {
        if let Some(v) = value {
            self.u64(key, v);
        }
    }

    /// A finite number with a fraction, as the shortest text of its double.
    pub fn opt_f64(&mut self, key: Key, value: Option<f64>) {
        if let Some(v) = value.filter(|v| v.is_finite()) {
            self.key(key);
            self.out
                .extend_from_slice(ryu::Buffer::new().format_finite(v).as_bytes());
        }
    }

    /// An id as decimal digits in a string: ids exceed 2^53, which a JSON reader using doubles
    /// would corrupt as a number.
    #[inline]
    pub fn id(&mut self, key: Key, value: Option<u64>) {
        if let Some(v) = value {
            put(self.out, key.quoted());
            put(self.out, itoa::Buffer::new().format(v).as_bytes());
            self.out.push(b'"');
        }
    }

    pub fn opt_time(&mut self, key: Key, ts: Option<Timestamp>) {
        if let Some(ts) = ts {
            self.time(key, ts);
        }
    }

    /// A 64-bit id as 16 lower-case hex digits, as a string.
    pub fn opt_hex_id(&mut self, key: Key, id: Option<u64>) {
        if let Some(id) = id {
            self.hex_id(key, id);
        }
    }

    pub fn hex_id(&mut self, key: Key, id: u64) {
        put(self.out, key.quoted());
        let mut text = [b'"'; 17];
        for (i, pair) in text[..16].chunks_exact_mut(2).enumerate() {
            let byte = usize::from((id >> (56 - 8 * i)) as u8);
            pair.copy_from_slice(&HEX_PAIRS[2 * byte..2 * byte + 2]);
        }
        self.out.extend_from_slice(&text);
    }

    pub fn time(&mut self, key: Key, ts: Timestamp) {
        put(self.out, key.quoted());
        super::time::write_rfc3339(ts, self.out);
        self.out.push(b'"');
    }

    /// A time through `cache`: a feed's records mostly share their second with the one before.
    pub fn time_cached(&mut self, key: Key, ts: Timestamp, cache: &mut TimeCache) {
        put(self.out, key.quoted());
        cache.write(ts, self.out);
        self.out.push(b'"');
    }

    pub fn str_array<'s>(&mut self, key: Key, values: impl IntoIterator<Item = &'s str>) {
        self.key(key);
        self.out.push(b'[');
        for (i, v) in values.into_iter().enumerate() {
            if i > 0 {
                self.out.push(b',');
            }
            write_str(self.out, v);
        }
        self.out.push(b']');
    }

    /// Text that is already JSON (a constant array, say), written as it is.
    #[inline]
    pub fn raw(&mut self, key: Key, json: &'static str) {
        self.key(key);
        self.out.extend_from_slice(json.as_bytes());
    }
}

/// The two hex digits of every byte, in order: a device id is written with eight lookups.
static HEX_PAIRS: [u8; 512] = {
    let digits = b"0123456789abcdef";
    let mut pairs = [0; 512];
    let mut i = 0;
    while i < 256 {
        pairs[2 * i] = digits[i >> 4];
        pairs[2 * i + 1] = digits[i & 0xf];
        i += 1;
    }
    pairs
};

/// True when `bytes` hold a character JSON strings must escape.
fn needs_escape(bytes: &[u8]) -> bool {
    bytes.iter().fold(false, |any, &b| {
        any | (b < 0x20) | (b == b'"') | (b == b'\\')
    })
}

/// Appends `s` as a JSON string. Most values need no escaping: one branch-free pass decides
/// (the compiler vectorises it), and the string is copied whole; otherwise only `"`, `\` and
/// control characters are escaped (UTF-8 passes through).
pub fn write_str(out: &mut Vec<u8>, s: &str) {
    out.reserve(s.len() + 2);
    out.push(b'"');
    escape_into(out, s.as_bytes());
    out.push(b'"');
}

/// Appends an NSS percent-encoded value as a JSON string, decoding the `escapes` it holds on the
/// way. `plain` says that its bytes need no escaping (a fast-path frame); decoded bytes are
/// escaped all the same. Should the decoded bytes not be UTF-8, the value is written as sent
/// instead, as [`percent_decode_with`](crate::value::percent_decode_with) does.
pub fn write_percent(out: &mut Vec<u8>, raw: &str, escapes: Escapes, plain: bool) {
    if !(plain && write_percent_plain(out, raw, escapes)) {
        write_percent_any(out, raw, escapes, plain);
    }
}

/// [`write_percent`] for a value of a plain frame, a word at a time: user agents and referers
/// hold an escape every few bytes (`%20`), and a search and a copy per escape cost more than the
/// bytes between them. False, with nothing written, when a decoded byte needs escaping in JSON
/// (`%22`, `%5C`, a control byte): [`write_percent_any`] writes those.
///
/// It writes into the buffer's spare capacity through a pointer: with bounds-checked slices the
/// checks were half of the loop, which every URL, user agent and referer goes through. The
/// `percent_writer_matches_the_decoder` property test and the `percent` fuzz target hold it to
/// [`percent_decode_with`](crate::value::percent_decode_with).
fn write_percent_plain(out: &mut Vec<u8>, raw: &str, escapes: Escapes) -> bool {
    const ONES: u64 = u64::from_ne_bytes([0x01; 8]);
    const HIGHS: u64 = u64::from_ne_bytes([0x80; 8]);
    const PERCENTS: u64 = u64::from_ne_bytes([b'%'; 8]);
    let b = raw.as_bytes();
    let start = out.len();
    // The opening quote, then room for the value as sent: decoding only shrinks it.
    out.reserve(b.len() + 2);
    out.push(b'"');
    let dst = out.spare_capacity_mut().as_mut_ptr().cast::<u8>();
    // Invariant: w <= r, as every step writes at most the bytes it consumes (a plain byte one
    // for one, an escape one for three). So a write that ends at or before r + 8 <= b.len()
    // stays inside the b.len() bytes reserved after the quote.
    let (mut r, mut w) = (0, 0);
    let mut high = false;
    loop {
        let at = match b[r..].first_chunk::<8>() {
            Some(word) => {
                // SAFETY: w + 8 <= r + 8 <= b.len() (see the invariant above).
                unsafe { dst.add(w).cast::<[u8; 8]>().write_unaligned(*word) };
                // The lowest byte that equals `%` sets the lowest bit; bits above it may be
                // false alarms, and only the lowest is used.
                let x = u64::from_le_bytes(*word) ^ PERCENTS;
                let found = x.wrapping_sub(ONES) & !x & HIGHS;
                if found == 0 {
                    r += 8;
                    w += 8;
                    continue;
                }
                (found.trailing_zeros() / 8) as usize
            }
            None => {
                let rest = &b[r..];
                let at = rest.iter().position(|&c| c == b'%').unwrap_or(rest.len());
                // SAFETY: w + at <= r + at <= b.len(), and `rest` is not inside `out`.
                unsafe { std::ptr::copy_nonoverlapping(rest.as_ptr(), dst.add(w), at) };
                if at == rest.len() {
                    w += at;
                    break;
                }
                at
            }
        };
        // The bytes before the `%` are copied; now the `%` itself.
        r += at;
        w += at;
        // `%20`, a space, is most of the escapes in user agents, referers and locations.
        let byte = if b.get(r + 1..r + 3) == Some(b"20") {
            r += 3;
            b' '
        } else {
            match crate::value::escape_at(b, r, escapes) {
                Some(byte) if byte < 0x20 || byte == b'"' || byte == b'\\' => {
                    out.truncate(start);
                    return false;
                }
                Some(byte) => {
                    high |= byte >= 0x80;
                    r += 3;
                    byte
                }
                None => {
                    r += 1;
                    b'%'
                }
            }
        };
        // SAFETY: w < r <= b.len(): the byte just consumed was at w or later.
        unsafe { dst.add(w).write(byte) };
        w += 1;
    }
    // SAFETY: the w bytes after the quote were all written above, within the reserved room.
    unsafe { out.set_len(start + 1 + w) };
    if high && std::str::from_utf8(&out[start + 1..]).is_err() {
        out.truncate(start);
        write_str(out, raw);
        return true;
    }
    out.push(b'"');
    true
}

/// [`write_percent`] for any value: escapes decoded bytes, and runs too unless `plain`.
fn write_percent_any(out: &mut Vec<u8>, raw: &str, escapes: Escapes, plain: bool) {
    let start = out.len();
    out.reserve(raw.len() + 2);
    out.push(b'"');
    let mut high = false;
    percent_walk(raw, escapes, |piece| match piece {
        Piece::Run(run) if plain => out.extend_from_slice(run.as_bytes()),
        Piece::Run(run) => escape_into(out, run.as_bytes()),
        Piece::Byte(byte) => {
            high |= byte >= 0x80;
            escape_into(out, &[byte]);
        }
    });
    if high && std::str::from_utf8(&out[start + 1..]).is_err() {
        out.truncate(start);
        write_str(out, raw);
        return;
    }
    out.push(b'"');
}

/// Appends `bytes` escaped for the inside of a JSON string.
fn escape_into(out: &mut Vec<u8>, bytes: &[u8]) {
    if !needs_escape(bytes) {
        put(out, bytes);
        return;
    }
    let mut run = 0;
    for (i, &b) in bytes.iter().enumerate() {
        let escape: &[u8] = match b {
            b'"' => b"\\\"",
            b'\\' => b"\\\\",
            b'\n' => b"\\n",
            b'\r' => b"\\r",
            b'\t' => b"\\t",
            0..=0x1f => b"",
            _ => continue,
        };
        out.extend_from_slice(&bytes[run..i]);
        if escape.is_empty() {
            out.extend_from_slice(b"\\u00");
            out.push(b"0123456789abcdef"[(b >> 4) as usize]);
            out.push(b"0123456789abcdef"[(b & 0xf) as usize]);
        } else {
            out.extend_from_slice(escape);
        }
        run = i + 1;
    }
    out.extend_from_slice(&bytes[run..]);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_what_json_requires() {
        let mut out = Vec::new();
        write_str(&mut out, "a\"b\\c\nd\u{1}é");
        assert_eq!(out, "\"a\\\"b\\\\c\\nd\\u0001é\"".as_bytes());
        let back: String = serde_json::from_slice(&out).unwrap();
        assert_eq!(back, "a\"b\\c\nd\u{1}é");
    }

    /// What a percent-encoded value must read as: its decoding (or, when that is not UTF-8, the
    /// value as sent), whatever path wrote it.
    fn check_percent(raw: &str, plain: bool) {
        for escapes in [Escapes::Nss, Escapes::All] {
            let mut out = b"x".to_vec();
            write_percent(&mut out, raw, escapes, plain);
            let back: String =
                serde_json::from_slice(&out[1..]).unwrap_or_else(|e| panic!("{raw:?}: {e}"));
            let want = crate::value::percent_decode_with(raw, escapes);
            assert_eq!(back, want, "{raw:?} {escapes:?}");
            assert_eq!(out[0], b'x');
        }
    }

    #[test]
    fn percent_values_decode_as_they_are_written() {
        for raw in [
            "",
            "%",
            "%2",
            "%20",
            "a%20b",
            "Mozilla/5.0%20(Windows%20NT%2010.0;%20Win64;%20x64)%20AppleWebKit/537.36",
            "100%%20sure",
            "%41%2F stay encoded: NSS never writes them",
            "%C3%A9t%C3%A9",
            "%C3 lone lead byte",
            "12345678%20",
            "1234567%20",
            "%0A%22%5C need escaping",
        ] {
            check_percent(raw, true);
            check_percent(raw, false);
        }
    }

    proptest::proptest! {
        /// The word-at-a-time writer against the piece-by-piece one's meaning, on values dense in
        /// escapes, stray `%`, hex digits and multi-byte characters.
        #[test]
        fn percent_writer_matches_the_decoder(
            raw in r#"([%0-9A-Fa-f a-z]|%20|%2C|%40|%3D|%C3%A9|%E2%82|%22|%0A|é|€){0,40}"#,
        ) {
            check_percent(&raw, true);
            check_percent(&raw, false);
        }
    }

    #[test]
    fn object_in_order_without_absent_values() {
        let mut out = Vec::new();
        let mut o = Object::begin(&mut out);
        o.str(key!("a"), "x");
        o.opt_str(key!("b"), None);
        o.opt_u64(key!("c"), Some(7));
        o.hex_id(key!("id"), 0xab);
        o.str_array(key!("tags"), ["ZIA"]);
        o.raw(key!("raw"), "[1]");
        o.end_line();
        assert_eq!(
            String::from_utf8(out).unwrap(),
            "{\"a\":\"x\",\"c\":7,\"id\":\"00000000000000ab\",\"tags\":[\"ZIA\"],\"raw\":[1]}\n"
        );
    }

    #[test]
    fn borrowed_text_is_copied_only_when_the_object_says_it_is_plain() {
        let quoted = Cow::Borrowed("a\"b");
        let mut out = Vec::new();
        let mut o = Object::begin(&mut out);
        o.text(key!("v"), Some(&quoted));
        o.text(key!("w"), Some(&Cow::Owned("c\\d".to_string())));
        o.text(key!("x"), None);
        o.end_line();
        assert_eq!(out, b"{\"v\":\"a\\\"b\",\"w\":\"c\\\\d\"}\n");

        let mut out = Vec::new();
        let mut o = Object::begin_plain_borrowed(&mut out);
        o.text(key!("v"), Some(&Cow::Borrowed("host.example")));
        o.text(key!("w"), Some(&Cow::Owned("c\\d".to_string())));
        o.end_line();
        assert_eq!(out, b"{\"v\":\"host.example\",\"w\":\"c\\\\d\"}\n");
    }
}
