//! Positional feeds: the NSS default output (every field quoted, comma-separated) and
//! tab-separated values, whose fields are named by their place in a field order: the one
//! `[formats]` gives, else Zscaler's documented default for the log type.
//!
//! **Fields.** The delimiter is decided per frame: a comma when `","` comes before the first tab,
//! else a tab when there is one, else a comma. A field that starts with `"` is quoted: it ends at
//! the first `"` that the delimiter or the end of the frame follows, and inside it `""` is one
//! quote. NSS without a Feed Escape Character writes values as they are, so quoted fields hold bare
//! quotes (`"{"status":"pending"}"`, Zscaler's own Admin Audit example): a quote followed by
//! anything else stays in the value. A value that holds a quote followed by the delimiter
//! (`"{"a":"x","b":1}"`) cannot be told from two fields; it makes the frame's field count wrong.
//! In a column that holds a JSON document (an audit's before and after), the document's brackets
//! tell where it ends: such a frame is read again by them ([`json`]). Elsewhere it becomes a dead
//! letter (`field_count`) rather than a wrong record. A quoted field with no such closing quote
//! is `field_count` too, unless read again so. Other fields run to the next delimiter.
//!
//! **Log type.** A frame's field count picks the order, and so the log type, which the reader
//! states as the frame's `sourcetype`. Zscaler's defaults (the "NSS Feed Output Format" pages'
//! examples, checked against the Splunk/Sekoia templates that name the same fields in the same
//! order): web 34 fields, firewall 36, DNS 19, tunnel 14 (the Tunnel Samples record), admin audit
//! 14, SaaS Security 19, SaaS Security Activity 6. When several orders have the frame's count
//! (DNS and SaaS Security, tunnel and audit, or a configured order and a default), the values
//! decide: the order with the fewest numeric columns (record ids, ports, sizes, durations) that
//! hold something other than digits or an absent word wins. SaaS Security's second field is its
//! numeric record id where DNS has the login; audit's second is its record id where tunnel has
//! its record type. A tie goes to a configured order, then to the order that reads more values
//! as numbers (a SaaS Security row whose record id is its only number besides the times, its
//! threat and policy "None", fits DNS's order too), then to the first in the order web,
//! firewall, DNS, tunnel, audit, SaaS Security, SaaS Security Activity. A frame that fits none of
//! them is in none (`field_count`), as a ZPA audit line stripped of its `Audit zpa-lss: ` is.
//! An order alone at a frame's count takes it with one number it cannot read, but not with
//! more, nor with an address or a time that is none: a value holding delimiters gives a line
//! another order's count (a web row whose agent holds two `","` has the firewall's 36), and
//! read in it every field would be shifted. SaaS Security Activity's six columns hold nothing
//! that can be checked: a comma-separated line is in its order only with every field quoted,
//! as NSS writes that template (an alert's six comma-separated words are not).
//!
//! **ZPA.** LSS's CSV and TSV templates are read too, in the default order of each ZPA log
//! type ([`lss`]: where the orders come from, and how their first field, `%s{LogTimestamp:time}
//! User Activity zpa-lss: `, is read). A first field that names one ZPA log type fits no other
//! order, ZIA's included. ZPA's counts (69, 33, 37, 37, 15) are ZIA's plus or minus one, so a
//! ZPA order is taken only when the values fit it, even when it is the only one of the count:
//! its ISO 8601 times (connection start and end, authentication, audit times) must be dates,
//! what the templates write with `%d` digits and with `%f` decimals (a Private Service Edge
//! Status row, App Connector Status's count, has an address where it has a latitude), and
//! Audit's first field must name it. Browser Access's CSV template writes its agent and reason
//! with `%j`, JSON strings: a line whose escaped quote CSV's rule took for a field's end is
//! read again with each of them ending at its own quote ([`json`]), and their escapes undone.
//! Browser Access and App Connector Status have the same count: the label tells them apart,
//! else the values (App Connector Status has numbers where Browser Access has its method and
//! protocol). A label of a ZPA log type with no order here makes the line `unknown_type`. The
//! tabs that end a line are its last, empty fields ([`crate::decode`] keeps them).

mod fit;
mod json;
mod lss;
mod marks;
mod orders;
mod unescape;

use crate::fields::{Fields, Scalar};
use crate::reason::Reason;
use lss::Lead;
use marks::Marks;
pub use orders::Columns;
use orders::{sourcetype, Order};
use unescape::{json_unescape, unquote};

/// One field as written: its text without its quotes, `""` still doubled.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Cell<'a> {
    pub text: &'a str,
    /// Quoted, with a `""` inside: [`Cell::unescaped`] differs from `text`.
    pub escaped: bool,
}

impl Cell<'_> {
    /// The value as meant: each `""` of a quoted field one quote.
    pub fn unescaped(&self) -> std::borrow::Cow<'_, str> {
        if self.escaped {
            self.text.replace("\"\"", "\"").into()
        } else {
            self.text.into()
        }
    }
}

/// The fields of a frame, in order; an `Err` (`FieldCount`) for a quote that never closes, after
/// which there are none.
#[derive(Debug, Clone)]
pub struct Cells<'a> {
    text: &'a str,
    delimiter: u8,
    marks: Marks,
    /// Where the next field starts; `None` after the last.
    next: Option<usize>,
}

/// Reads `text` as delimited fields (see the module's documentation).
pub fn fields(text: &str) -> Cells<'_> {
    let d = delimiter(text.as_bytes());
    let mut marks = Marks::default();
    marks.run(text.as_bytes(), d);
    Cells {
        text,
        delimiter: d,
        marks,
        next: Some(0),
    }
}

impl Cells<'_> {
    pub fn delimiter(&self) -> u8 {
        self.delimiter
    }
}

/// A comma when `","` comes before the first tab, else a tab when there is one, else a comma.
pub(crate) fn delimiter(b: &[u8]) -> u8 {
    let tab = memchr::memchr(b'\t', b).unwrap_or(b.len());
    // A `","` whose comma is before the first tab starts before it. Looked for at the commas:
    // the first is nearly always one (`memmem` built a searcher for each line).
    let quoted = memchr::memchr_iter(b',', &b[..tab])
        .any(|c| c > 0 && b[c - 1] == b'"' && b.get(c + 1) == Some(&b'"'));
    match quoted || tab == b.len() {
        true => b',',
        false => b'\t',
    }
}

impl<'a> Iterator for Cells<'a> {
    type Item = Result<Cell<'a>, Reason>;

    fn next(&mut self) -> Option<Self::Item> {
        let start = self.next.take()?;
        let cell = match self
            .marks
            .field(self.text.as_bytes(), start, self.delimiter)
        {
            Ok(cell) => cell,
            Err(reason) => return Some(Err(reason)),
        };
        self.next = cell.next;
        Some(Ok(Cell {
            text: &self.text[cell.start..cell.end],
            escaped: cell.escaped,
        }))
    }
}

/// One field as [`scan`] finds it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Scanned {
    /// Its text, without quotes.
    start: usize,
    end: usize,
    /// Quoted, with a `""`.
    escaped: bool,
    /// A quote inside its text (a bare one or a `""`).
    quotes: bool,
    /// Where the next field starts, if one does.
    next: Option<usize>,
}

/// The field that starts at `start`, read a byte at a time: the definition of a field, which
/// [`Marks::field`] reads from the line's marks.
fn scan(b: &[u8], start: usize, d: u8) -> Result<Scanned, Reason> {
    let (text, escaped, quotes, after) = if b.get(start) == Some(&b'"') {
        let (mut escaped, mut quotes) = (false, false);
        let mut at = start + 1;
        let close = loop {
            let quote = super::find_byte(b, at, b'"').ok_or(Reason::FieldCount)?;
            match b.get(quote + 1) {
                None => break quote,
                Some(&c) if c == d => break quote,
                Some(b'"') => {
                    escaped = true;
                    at = quote + 2;
                }
                Some(_) => at = quote + 1,
            }
            quotes = true;
        };
        (start + 1..close, escaped, quotes, close + 1)
    } else {
        let end = super::find_byte(b, start, d).unwrap_or(b.len());
        let quotes = memchr::memchr(b'"', &b[start..end]).is_some();
        (start..end, false, quotes, end)
    };
    Ok(Scanned {
        start: text.start,
        end: text.end,
        escaped,
        quotes,
        // A delimiter at `after`: a field follows, if only an empty one.
        next: (after < b.len()).then_some(after + 1),
    })
}

/// Where one field of the frame being read is, in the frame or (escaped) in the scratch copy.
#[derive(Debug, Clone, Copy)]
struct Span {
    start: usize,
    end: usize,
    escaped: bool,
}

impl Span {
    /// Whether the field was quoted in `line`: a quoted field's text starts after its quote,
    /// any other's after a delimiter or at the line's start.
    fn quoted(&self, line: &[u8]) -> bool {
        self.start > 0 && line[self.start - 1] == b'"'
    }
}

/// A shard's positional reader, kept between frames so that reading allocates nothing.
#[derive(Default)]
pub struct Reader {
    spans: Vec<Span>,
    /// The fields of a frame read again by its JSON values' brackets ([`json`]).
    again: Vec<Span>,
    /// A copy of a frame with `""` in a field, resolved in place.
    scratch: Vec<u8>,
    marks: Marks,
}

/// What [`Reader::read`] found besides the fields.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Read {
    /// The values are plain text: a JSON string holds each as it is.
    pub plain: bool,
    /// The record's time is the header's `stamp`: LSS's own lead
    /// (`Wed Jul  3 05:17:22 2019 Connector Status zpa-lss: `) reads as a syslog header, so the
    /// time is in what the decoder took for one, and the record's identity must keep it.
    pub took_stamp: bool,
}

impl Reader {
    /// Reads the record that `text` holds into `fields`, in the order of `columns` that has its
    /// field count. `stamp` is the frame's syslog header time: a ZPA line's `LogTimestamp` when
    /// a header reader took it from the first field.
    pub fn read<'a>(
        &'a mut self,
        text: &'a [u8],
        stamp: Option<&'a str>,
        columns: &Columns,
        fields: &mut Fields<'a>,
    ) -> Result<Read, Reason> {
        let d = delimiter(text);
        self.marks.run(text, d);
        let text = match self.marks.ascii() {
            // SAFETY: every byte is ASCII, and ASCII is UTF-8.
            true => unsafe { std::str::from_utf8_unchecked(text) },
            false => std::str::from_utf8(text).map_err(|_| Reason::InvalidUtf8)?,
        };
        let b = text.as_bytes();
        let (order, escaped, quotes) = match self.split(b, d, columns.widest) {
            Split::Fields { escaped, quotes } => {
                let values = fit::Values {
                    text,
                    spans: &self.spans,
                };
                let all_quoted = || self.spans.iter().all(|s| s.quoted(b));
                let picked = columns
                    .pick(values, d)
                    .filter(|o| !o.unchecked() || d != b',' || all_quoted());
                // Split at its `","`, an audit may have another order's count, which its values
                // may fit: a line with a quote inside a field (as a split JSON value has) is
                // read again unless its order holds JSON. A line without one pays nothing more.
                match picked.filter(|o| o.json || !quotes) {
                    Some(order) => (order, escaped, quotes),
                    None => match self.reread(text, d, self.spans.len(), columns) {
                        Some(order) => (order, self.escaped(), true),
                        None => (picked.ok_or_else(|| no_order(text, d))?, escaped, quotes),
                    },
                }
            }
            Split::Other => {
                let order = self.reread(text, d, usize::MAX, columns);
                (
                    order.ok_or_else(|| no_order(text, d))?,
                    self.escaped(),
                    true,
                )
            }
        };
        // LSS's `%j` in a CSV template: a JSON string, quoted, whose escapes are undone when it
        // has any.
        let json_string = |column: &orders::Column, span: &Span| {
            d == b','
                && column.json_string
                && span.quoted(b)
                && b[span.start..span.end].contains(&b'\\')
        };
        let json_escaped = order.json_strings
            && (order.columns.iter().zip(&self.spans)).any(|(c, s)| json_string(c, s));
        let source: &'a str = if escaped || json_escaped {
            self.scratch.clear();
            self.scratch.extend_from_slice(b);
            for (span, column) in self.spans.iter_mut().zip(&order.columns) {
                if json_string(column, span) {
                    span.end = span.start + json_unescape(&mut self.scratch[span.start..span.end]);
                } else if span.escaped {
                    span.end = span.start + unquote(&mut self.scratch[span.start..span.end]);
                }
            }
            // Removing one quote of each pair (and blanking what is left over) keeps it UTF-8;
            // checked all the same.
            std::str::from_utf8(&self.scratch).map_err(|_| Reason::InvalidUtf8)?
        } else {
            text
        };
        // With commas, one look at the whole frame tells whether every value is plain: its only
        // quotes are those around fields unless a field held one. Tabs may be inside values.
        let checked = d == b',' && !quotes && self.marks.clean();
        // The order names the log type: set first, so that no votes are counted.
        fields.set_sourcetype(sourcetype(order.kind));
        fields.product = order.kind.is_zpa().then_some(order.kind);
        let mut plain_values = true;
        let mut took_stamp = false;
        for (i, (span, column)) in self.spans.iter().zip(&order.columns).enumerate() {
            let Some(hit) = column.hit else { continue };
            // A value LSS writes with a comma runs on through the next field.
            let end = match (order.columns.get(i + 1), self.spans.get(i + 1)) {
                (Some(next), Some(s)) if next.joins => s.end,
                _ => span.end,
            };
            let mut value = source.get(span.start..end).ok_or(Reason::InvalidUtf8)?;
            if let (0, Some(label)) = (i, order.label) {
                value = match lss::lead(value, label) {
                    Lead::Cut => {
                        took_stamp = stamp.is_some();
                        stamp.unwrap_or("")
                    }
                    Lead::Labelled(time) => time,
                    Lead::Untagged | Lead::Other => value,
                };
            }
            plain_values &= checked || plain(value.as_bytes());
            fields.note(hit, Some(Scalar::Str(value)));
        }
        Ok(Read {
            plain: plain_values,
            took_stamp,
        })
    }
}

/// How [`Reader::split`] found a frame.
enum Split {
    /// Its fields are in the reader's spans; `escaped`, a field has a `""`; `quotes`, a field
    /// has a quote inside.
    Fields { escaped: bool, quotes: bool },
    /// More fields than any order has, or a quote that never closes (a quoted field's end is a
    /// quote before a delimiter, which a JSON value split at a comma may not have): in no order
    /// as it is read.
    Other,
}

impl Reader {
    /// Fills the spans with the fields of `b` (the line marked last), as [`scan`] reads them,
    /// up to `widest`.
    fn split(&mut self, b: &[u8], d: u8, widest: usize) -> Split {
        self.spans.clear();
        let (mut escaped, mut quotes) = (false, false);
        let mut next = Some(0);
        while let Some(start) = next {
            let Ok(cell) = self.marks.field(b, start, d) else {
                return Split::Other;
            };
            if self.spans.len() == widest {
                return Split::Other;
            }
            escaped |= cell.escaped;
            quotes |= cell.quotes;
            self.spans.push(Span {
                start: cell.start,
                end: cell.end,
                escaped: cell.escaped,
            });
            next = cell.next;
        }
        Split::Fields { escaped, quotes }
    }

    /// Reads the line again in an order with JSON columns and fewer than `count` ([`json`]):
    /// its spans then hold the fields of that order, else they are as they were.
    fn reread<'c>(
        &mut self,
        text: &str,
        d: u8,
        count: usize,
        columns: &'c Columns,
    ) -> Option<&'c Order> {
        // As wide as any line's fields: swapped with the spans, it never makes them grow.
        self.again.reserve(columns.widest);
        let order = json::reread(text, d, count, columns, &mut self.again)?;
        std::mem::swap(&mut self.spans, &mut self.again);
        Some(order)
    }

    /// Whether a field in the spans has a `""`.
    fn escaped(&self) -> bool {
        self.spans.iter().any(|s| s.escaped)
    }
}

/// Why a line is in no order: its lead names a ZPA log type that has none, or its fields are
/// not as many as an order's, or do not fit one.
fn no_order(text: &str, d: u8) -> Reason {
    let first = text.split(char::from(d)).next().unwrap_or("");
    match lss::unknown_label(first) {
        true => Reason::UnknownType,
        false => Reason::FieldCount,
    }
}

/// Whether a JSON string can hold `bytes` as they are.
fn plain(bytes: &[u8]) -> bool {
    bytes
        .iter()
        .fold(true, |ok, &c| ok & (c >= 0x20) & (c != b'"') & (c != b'\\'))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(text: &str) -> Result<Vec<String>, Reason> {
        fields(text)
            .map(|c| c.map(|c| c.unescaped().into_owned()))
            .collect()
    }

    proptest::proptest! {
        /// The delimiter as the module's documentation defines it: a comma when `","` comes
        /// before the first tab, else a tab when there is one, else a comma.
        #[test]
        fn the_delimiter_as_defined(picks in proptest::collection::vec(0usize..5, 0..40)) {
            let line: Vec<u8> = picks.iter().map(|&i| b"\",\ta "[i]).collect();
            let quoted = line.windows(3).position(|w| w == b"\",\"").unwrap_or(line.len());
            let want = match line[..quoted].contains(&b'\t') {
                true => b'\t',
                false => b',',
            };
            proptest::prop_assert_eq!(delimiter(&line), want);
        }
    }

    #[test]
    fn quoting_bare_quotes_and_delimiters() {
        let ok: &[(&str, &[&str])] = &[
            (r#""a","b,c","""q""","""#, &["a", "b,c", r#""q""#, ""]),
            (r#""{"s":"p"}","x""#, &[r#"{"s":"p"}"#, "x"]),
            ("a\t\"b\tc\"\td,e", &["a", "b\tc", "d,e"]),
            ("a,b,", &["a", "b", ""]),
            (r#"a"b,"c"d""#, &[r#"a"b"#, r#"c"d"#]),
            ("", &[""]),
        ];
        for (text, want) in ok {
            assert_eq!(
                read(text),
                Ok(want.iter().map(|s| s.to_string()).collect()),
                "{text:?}"
            );
        }
        for bad in [r#""a","b"#, r#""a"b"#, "\""] {
            assert_eq!(read(bad), Err(Reason::FieldCount), "{bad:?}");
        }
    }
}
