//! Feed output formats (DESIGN §3.2): how a frame's values are written. Each format reads its
//! frames into the same [`Fields`](crate::fields::Fields), so that every format maps onto the
//! same records; which format a frame is in is decided per frame, after its syslog header
//! ([`detect`]).
//!
//! One format per file: [`json`] (with its fast path), [`leef`], [`cef`], [`kv`] (name-value pairs,
//! Splunk's and NetWitness's) and [`csv`] (positional: CSV or tab-separated, in a field order).
//!
//! Every reader has the same shape: `read(text, fields) -> Result<bool, Reason>` fills the
//! caller's [`Fields`](crate::fields::Fields) (empty on entry) from `text`, borrowing from it or
//! from the reader's own scratch copy, and answers whether the values are plain text (no byte a
//! JSON string must escape), which a record then copies without looking. The fields are filled
//! in place: they are a few KiB, and moving them per frame would cost more than reading them.

pub mod cef;
pub mod csv;
pub mod json;
pub mod kv;
pub mod leef;

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
        if let Some(at) = memchr::memmem::find(head, tag) {
            if at == 0 || matches!(head[at - 1], b' ' | b'\t' | b':') {
                return Some((format, start + at));
            }
        }
    }
    // A record behind static template text (`ZscalerNSS: {…}`): JSON when a brace comes before
    // any `=`.
    let brace = memchr::memchr(b'{', text);
    let equals = memchr::memchr(b'=', text);
    if let Some(at) = brace {
        if equals.is_none_or(|e| at < e) {
            return Some((Format::Json, start + at));
        }
    }
    if memchr::memmem::find(text, b"^^").is_some() || kv_pairs(text) >= KV_MIN_PAIRS {
        return Some((Format::Kv, start));
    }
    if memchr::memchr2(b',', b'\t', text).is_some() {
        return Some((Format::Csv, start));
    }
    brace.map(|at| (Format::Json, start + at))
}

/// The first `needle` at or after `from`. The values of text formats are mostly short, and
/// starting a vector search costs more than looking at their first words, eight bytes at a time.
pub(crate) fn find_byte(b: &[u8], from: usize, needle: u8) -> Option<usize> {
    const ONES: u64 = 0x0101_0101_0101_0101;
    let mut at = from;
    while at + 8 <= b.len() && at < from + 32 {
        let mut word = [0u8; 8];
        word.copy_from_slice(&b[at..at + 8]);
        // A zero byte where the word holds the needle; the lowest flag is the first one (a
        // borrow can only flag bytes above a real zero).
        let x = u64::from_le_bytes(word) ^ (ONES * u64::from(needle));
        let zero = x.wrapping_sub(ONES) & !x & (ONES << 7);
        if zero != 0 {
            return Some(at + (zero.trailing_zeros() / 8) as usize);
        }
        at += 8;
    }
    memchr::memchr(needle, b.get(at..)?).map(|i| at + i)
}

/// Counts `key=` where the key is a name (letters, digits, `_`, `.`, `-`) that starts the text or
/// follows a space or a tab, up to [`KV_MIN_PAIRS`].
fn kv_pairs(text: &[u8]) -> usize {
    let mut pairs = 0;
    for at in memchr::memchr_iter(b'=', text) {
        let key_start = text[..at]
            .iter()
            .rposition(|b| !(b.is_ascii_alphanumeric() || matches!(b, b'_' | b'.' | b'-')))
            .map_or(0, |i| i + 1);
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
