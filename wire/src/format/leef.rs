//! QRadar LEEF 1.0 and 2.0: `LEEF:Version|Vendor|Product|Version|EventID|` then attributes
//! `key=value`, separated by a tab or, in 2.0, by the delimiter the header declares.
//!
//! What a frame is taken to mean (the `leef` fuzz target holds this reader to a slow reference
//! written from these rules):
//!
//! - The header is five fields, each closed by a `|` that no backslash escapes; fewer is
//!   [`Reason::MalformedLeef`]. In header fields `\|` and `\\` stand for `|` and `\`. NSS escapes
//!   no `|` in the EventID it writes (the QRadar preset's `%s{reason}`): when no delimiter field
//!   follows it and `|`s come before the first `=` after the fifth, the EventID takes them,
//!   but for a last field that declares a delimiter other than a letter or a digit (in 2.0),
//!   and the attributes start after them.
//! - LEEF 2.0 (a version starting with `2`) may add a delimiter field after the EventID: one
//!   character, or its code in hex (`0x09`, `x5E`: one to four digits), or nothing for a tab.
//!   What comes before the next `|` is that field only if it is one of these, neither `\` nor
//!   `=` nor a letter or a digit, and, unless it declares `|`, no `|` follows it before the
//!   attributes' first `=`; otherwise the attributes start after the EventID and are
//!   tab-separated. LEEF 1.0 separates them with tabs.
//! - Attributes are separated by every delimiter, a backslash before it included: NSS escapes
//!   nothing in its values, so `realm=C:\share\` then a tab is a value that ends in a
//!   backslash, not an escaped tab running into the next attribute. An attribute's key is what
//!   comes before its first `=`, without surrounding spaces, when that is runs of `[A-Za-z0-9_.-]`
//!   with a `:` between each two (IBM's `TimestampAuthentication:iso8601`); one without `=` or
//!   such a key is not a pair, but the value's before it, with the delimiter between them (an
//!   agent's tab and its `(compatible; rv=1)`): no text is lost between pairs. One of nothing
//!   but spaces and tabs is no text.
//! - Tab-separated attributes without a single tab are read as space-separated ones, the way a
//!   CEF extension is (a key follows a space and ends at its `=`; its value runs to the space
//!   before the next key): documentation pages print Zscaler's LEEF with its tabs turned into
//!   spaces (Sumo Logic's sample), and values hold spaces (`policy=Malicious file Blocked`). A
//!   key may hold a `:` between runs of key bytes, as IBM's names for ZPA's times do
//!   (`TimestampAuthentication:iso8601`): so ` a:b=` inside a value starts a pair too, as ` ab=`
//!   does.
//! - Values are as written: LEEF defines no escapes, and NSS escapes nothing, so a backslash
//!   is the value's text (`C:\temp`, a UNC path's `\\srv`), whatever follows it.
//!
//! `devTime` is read by its form, not by `devTimeFormat`: Zscaler's QRadar preset declares
//! `MMM dd yyyy HH:mm:ss z` and writes `Oct 02 2017 16:21:40 GMT`, but published samples show
//! `Mon Oct 02 16:21:40 UTC 2017` under the same declaration.

use super::pairs::{
    self, header_fields, is_clean, is_leef_key, is_plain, next_unescaped, split_spaced,
    unescape_copy, widen, Range, Scan, Span,
};
use crate::fields::{Fields, Scalar};
use crate::keys::memo::Memo;
use crate::keys::{lookup_leef, lookup_leef_zpa, table};
use crate::kind::sourcetype;
use crate::reason::Reason;

/// Fields of the header, each closed by a `|`.
const HEADER_FIELDS: usize = 5;
/// Header fields by position.
const PRODUCT: usize = 2;
const EVENT_ID: usize = 4;

/// The attribute delimiter: one character, as its UTF-8 bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Delimiter {
    bytes: [u8; 4],
    len: usize,
}

impl Delimiter {
    const TAB: Delimiter = Delimiter {
        bytes: [b'\t', 0, 0, 0],
        len: 1,
    };

    fn of(c: char) -> Option<Delimiter> {
        if matches!(c, '\\' | '=') {
            return None;
        }
        let mut bytes = [0; 4];
        let len = c.encode_utf8(&mut bytes).len();
        Some(Delimiter { bytes, len })
    }

    pub fn as_bytes(&self) -> &[u8] {
        &self.bytes[..self.len]
    }

    /// A letter or a digit.
    fn alphanumeric(&self) -> bool {
        let c = std::str::from_utf8(self.as_bytes())
            .ok()
            .and_then(|s| s.chars().next());
        c.is_some_and(char::is_alphanumeric)
    }
}

/// A shard's LEEF reader, kept between frames so that reading allocates nothing.
#[derive(Default)]
pub struct Reader {
    parts: Parts,
    /// The keys of the frame before, by position.
    memo: Memo,
}

/// What taking a frame apart uses, kept between frames.
#[derive(Default)]
struct Parts {
    /// A copy of a frame that holds escapes, unescaped in place: the frame itself stays as
    /// received, for its dead letter.
    scratch: Vec<u8>,
    spans: Vec<Span>,
    scan: Scan,
}

/// A LEEF frame taken apart: what CEF's is, and the delimiter of its attributes.
pub struct Parsed<'a> {
    frame: pairs::Parsed<'a, HEADER_FIELDS>,
    pub delimiter: Delimiter,
}

impl<'a> std::ops::Deref for Parsed<'a> {
    type Target = pairs::Parsed<'a, HEADER_FIELDS>;

    fn deref(&self) -> &Self::Target {
        &self.frame
    }
}

impl Reader {
    /// Reads the record that `text` holds (it starts at the format's first byte) into `fields`;
    /// true when the values are plain text.
    pub fn read<'a>(&'a mut self, text: &'a [u8], fields: &mut Fields<'a>) -> Result<bool, Reason> {
        let parsed = self.parts.parse(text)?;
        // A ZPA frame (IBM's QRadar template for LSS) means LSS values by QRadar's names.
        let zpa = parsed.header(PRODUCT).trim_ascii() == "ZPA";
        let (table, lookup): (_, fn(&str) -> _) = match zpa {
            true => (table::LEEF_ZPA, lookup_leef_zpa),
            false => (table::LEEF, lookup_leef),
        };
        // Zscaler's QRadar preset says `NSS` and puts the reason in the EventID; a template
        // written after the CEF ones may name the log type in either. Set first: a frame that
        // names its type counts no votes.
        fields.set_sourcetype(
            sourcetype(parsed.header(PRODUCT)).or_else(|| sourcetype(parsed.header(EVENT_ID))),
        );
        let mut plain = true;
        for (position, (key, value)) in parsed.pairs().enumerate() {
            if let Some(hit) = self.memo.lookup_with(position, table, key, lookup) {
                plain &= parsed.clean || is_plain(value);
                fields.note(hit, Some(Scalar::Str(value)));
            }
        }
        Ok(plain)
    }

    /// Takes a frame apart without looking its keys up: its header, its pairs, their values
    /// unescaped.
    pub fn parse<'a>(&'a mut self, text: &'a [u8]) -> Result<Parsed<'a>, Reason> {
        self.parts.parse(text)
    }
}

impl Parts {
    fn parse<'a>(&'a mut self, text: &'a [u8]) -> Result<Parsed<'a>, Reason> {
        // A relay may have put a space after the `LEEF:` it took for a syslog tag.
        let header = match text.starts_with(b"LEEF:") {
            true => header_fields(text, super::after_spaces(text, 5), Reason::MalformedLeef),
            false => Err(Reason::MalformedLeef),
        };
        let (mut header, mut at) = match header {
            Ok(found) => found,
            // Text that is no UTF-8 is said first, whatever else is wrong with it.
            Err(malformed) => {
                std::str::from_utf8(text).map_err(|_| Reason::InvalidUtf8)?;
                return Err(malformed);
            }
        };
        let mut delimiter = Delimiter::TAB;
        let two = text[header[0].0..header[0].1].starts_with(b"2");
        // A field that is no UTF-8 declares nothing (and the frame is refused below).
        let declares = |(start, end): Range| {
            let field = std::str::from_utf8(&text[start..end]).ok();
            field.and_then(declared_delimiter)
        };
        // A delimiter field is the last before the attributes: no `|` comes after it before
        // their first `=` (`Not allowed || x|0x09` has an empty field that is none).
        let last = move |end: usize| {
            let mut header = header;
            widen(text, &mut header, end + 1, EVENT_ID) == end + 1
        };
        let field = next_unescaped(text, at, b'|').filter(|_| two);
        let declared = field.and_then(|end| Some((end, declares((at, end))?)));
        // After a declared `|`, pipes are the attributes' delimiters (review B1); a letter or a
        // digit is an EventID's text after a `|` (`Block|A`), no delimiter (tester U3).
        let fits = |end: usize, d: Delimiter| d.as_bytes() == b"|" || last(end);
        match declared.filter(|&(end, d)| !d.alphanumeric() && fits(end, d)) {
            Some((end, declared)) => {
                delimiter = declared;
                at = end + 1;
            }
            None => {
                at = widen(text, &mut header, at, EVENT_ID);
                // The pipes the EventID took may end with 2.0's delimiter field.
                let (start, end) = header[EVENT_ID];
                let mut tail = None;
                while let Some(pipe) =
                    next_unescaped(&text[..end], tail.map_or(start, |p| p + 1), b'|')
                {
                    tail = Some(pipe);
                }
                let declared = tail
                    .filter(|_| two)
                    .and_then(|p| Some((p, declares((p + 1, end))?)));
                if let Some((pipe, declared)) = declared.filter(|(_, d)| !d.alphanumeric()) {
                    delimiter = declared;
                    header[EVENT_ID].1 = pipe;
                }
            }
        }
        let attributes = at;
        self.spans.clear();
        let (spans, scan) = (&mut self.spans, &mut self.scan);
        // Whether a value holds a delimiter (and what followed it), which the scan took for one.
        let mut joined = false;
        let mut push = |key: Option<Range>, value: Range| match key {
            Some(key) => spans.push(Span {
                key: (attributes + key.0, attributes + key.1),
                value: (attributes + value.0, attributes + value.1),
            }),
            None => {
                if let Some(last) = spans.last_mut() {
                    last.value.1 = attributes + value.1;
                    joined = true;
                }
            }
        };
        let rest = &text[attributes..];
        // Only header fields have escapes (`\|`): read from a copy that undoes them.
        let escaped = memchr::memchr(b'\\', &text[..attributes]).is_some();
        // Whether the scan saw every byte of the attributes (else they are looked at again).
        let mut scanned = true;
        match *delimiter.as_bytes() {
            // Tab-separated attributes without a tab are spaced ones: that reading scans for
            // itself.
            [b'\t'] if memchr::memchr(b'\t', rest).is_none() => {
                split_spaced::<true>(rest, scan, |key, value| push(Some(key), value));
            }
            // The common case: one pass marks every delimiter, `=` and key byte.
            [byte] => {
                scan.run(rest, byte);
                let mut start = 0;
                // The first `=` at or after an earlier start, once looked for: attributes
                // without one must not each search on to the next (a frame of 260,000
                // delimiters took 0.4 s).
                let mut found: Option<Option<usize>> = None;
                for end in scan.seps().chain(std::iter::once(rest.len())) {
                    let eq = match found {
                        Some(None) => None,
                        Some(Some(eq)) if eq >= start => Some(eq),
                        _ => *found.insert(scan.next_eq(start)),
                    };
                    let eq = eq.filter(|&eq| eq < end);
                    let keyed = |a, b| scan.key_bytes(a, b);
                    attribute(start, end, eq, rest, keyed, &mut push);
                    start = end + 1;
                }
            }
            // A delimiter of more than a byte (a character outside ASCII).
            _ => {
                scanned = false;
                split_delimited(rest, delimiter.as_bytes(), &mut push);
            }
        }
        // When the scan saw every attribute, it saw whether the whole frame is ASCII.
        let s = if scanned && self.scan.ascii() && text[..attributes].is_ascii() {
            // SAFETY: ASCII is UTF-8.
            unsafe { std::str::from_utf8_unchecked(text) }
        } else {
            std::str::from_utf8(text).map_err(|_| Reason::InvalidUtf8)?
        };
        if !escaped {
            let clean = if scanned && !joined {
                is_clean(&text[..attributes]) && self.scan.clean()
            } else {
                is_clean(text)
            };
            return Ok(Parsed {
                frame: pairs::Parsed {
                    text: s,
                    values: s,
                    header,
                    spans: &self.spans,
                    clean,
                },
                delimiter,
            });
        }
        let values = unescape_copy(
            &mut self.scratch,
            text,
            &mut header,
            &mut self.spans,
            |_| None,
        )?;
        Ok(Parsed {
            frame: pairs::Parsed {
                text: s,
                values,
                header,
                spans: &self.spans,
                clean: false,
            },
            delimiter,
        })
    }
}

/// The delimiter a LEEF 2.0 header field declares, if it is one: empty (a tab), one character,
/// or `0x`/`x` and one to four hex digits.
fn declared_delimiter(field: &str) -> Option<Delimiter> {
    let mut chars = field.chars();
    match (chars.next(), chars.next()) {
        (None, _) => return Some(Delimiter::TAB),
        (Some(c), None) => return Delimiter::of(c),
        _ => {}
    }
    let digits = ["0x", "0X", "x", "X"]
        .iter()
        .find_map(|prefix| field.strip_prefix(prefix))?;
    if !(1..=4).contains(&digits.len()) || !digits.bytes().all(|b| b.is_ascii_hexdigit()) {
        return None;
    }
    let code = u32::from_str_radix(digits, 16).ok()?;
    Delimiter::of(char::from_u32(code)?)
}

/// Splits `delimiter`-separated attributes where the delimiter is more than a byte.
fn split_delimited(text: &[u8], delimiter: &[u8], each: &mut impl FnMut(Option<Range>, Range)) {
    let mut start = 0;
    loop {
        let end = next_delimiter(text, start, delimiter);
        let eq = memchr::memchr(b'=', &text[start..end]).map(|eq| start + eq);
        attribute(start, end, eq, text, |_, _| false, each);
        if end == text.len() {
            return;
        }
        start = end + delimiter.len();
    }
}

/// The pair of the attribute `text[start..end]`, whose first `=` is at `eq`: `each` gets the
/// key's range, without surrounding spaces, and the value's. An attribute that is no pair (no
/// `=`, or no key before it: [`is_leef_key`]) gets no key, and the range of its text: it is the
/// value's before it, with the delimiter that split them (an agent's tab and its `(x; rv=1)`, a
/// file name's delimiter), not text lost without a trace. One of nothing but blanks (two
/// delimiters in a row, one at the end) is no text.
///
/// `keyed(a, b)` says cheaply (from a scan's key mask) that `text[a..b]` is all key bytes, the
/// common case; when it does not, the key is looked at a byte at a time.
fn attribute(
    start: usize,
    end: usize,
    eq: Option<usize>,
    text: &[u8],
    keyed: impl Fn(usize, usize) -> bool,
    each: &mut impl FnMut(Option<Range>, Range),
) {
    // The common case: a key of key bytes alone, no spaces around it.
    if let Some(eq) = eq.filter(|&eq| start < eq && keyed(start, eq)) {
        each(Some((start, eq)), (eq + 1, end));
        return;
    }
    let key = eq.map_or(&[][..], |eq| &text[start..eq]);
    let first = key.iter().position(|&b| b != b' ').unwrap_or(key.len());
    let last = key
        .iter()
        .rposition(|&b| b != b' ')
        .map_or(first, |i| i + 1);
    let (a, b) = (start + first, start + last);
    let is_key = (a < b && keyed(a, b)) || is_leef_key(&key[first..last]);
    if !is_key {
        if text[start..end].iter().any(|&b| b != b' ' && b != b'\t') {
            each(None, (start, end));
        }
        return;
    }
    each(
        Some((start + first, start + last)),
        (start + key.len() + 1, end),
    );
}

/// Where the next delimiter at or after `from` starts, or the end.
fn next_delimiter(text: &[u8], from: usize, delimiter: &[u8]) -> usize {
    memchr::memmem::find(&text[from..], delimiter).map_or(text.len(), |at| from + at)
}

#[cfg(test)]
mod tests;
