//! Positional feeds: the NSS default output (every field quoted, comma-separated) and
//! tab-separated values, whose fields are named by their place in a field order: the one
//! `[formats]` gives, else Zscaler's documented default for the log type.
//!
//! **Fields.** The delimiter is decided per frame: a comma when `","` comes before the first tab,
//! else a tab when there is one, else a comma. A field that starts with `"` is quoted: it ends at
//! the first `"` that the delimiter or the end of the frame follows, and inside it `""` is one
//! quote, but before the delimiter or the end, where it is the value's last quote and the
//! closing one (NSS doubles no quote: an agent ending `"corp"` is written `"… "corp""`), and in
//! a column that holds a JSON document, where it is an empty string (`"name":""`). NSS
//! without a Feed Escape Character writes values as they are, so quoted fields hold bare
//! quotes (`"{"status":"pending"}"`, Zscaler's own Admin Audit example): a quote followed by
//! anything else stays in the value. A value that holds a quote followed by the delimiter
//! (`"{"a":"x","b":1}"`) cannot be told from two fields; it makes the frame's field count wrong.
//! In a column that holds a JSON document (an audit's before and after), the document's brackets
//! tell where it ends: such a frame is read again by them ([`json`]). Elsewhere it becomes a dead
//! letter (`field_count`) rather than a wrong record. A quoted field with no such closing quote
//! is `field_count` too, unless read again so. Other fields run to the next delimiter.
//!
//! **Values as written.** Neither NSS nor LSS escapes a quote: a value that holds `""` is read
//! by the rule above as holding one, and one that starts with a quote in an unquoted template
//! (LSS's `%s`, tab-separated output: `"Quoted" Rule`) as a quoted field that never closes. A
//! line that the rule reads into no order is read again as they write ([`Quoting`]): unless
//! its first two fields are quoted, with every field running to the next delimiter (one that a
//! quote opens and closes without them). Its values must fit an order as any line's must.
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
//! Audit's first field must name it. A User Status line whose lists (postures, SAML attributes)
//! LSS joined with commas is read by the columns around them ([`lists`]); a line whose other
//! text values hold commas, where one way alone of giving them its extra fields fits
//! ([`commas`]). Browser Access's CSV template writes its agent and reason with `%j`, JSON
//! strings: a line whose escaped quote CSV's rule took for a field's end is read again with
//! each of them ending at its own quote ([`json`]), and their escapes undone.
//! Browser Access and App Connector Status have the same count: the label tells them apart,
//! else the values (App Connector Status has numbers where Browser Access has its method and
//! protocol). A label of a ZPA log type with no order here makes the line `unknown_type`. The
//! tabs that end a line are its last, empty fields ([`crate::decode`] keeps them).

mod cells;
mod commas;
mod fit;
mod json;
mod lists;
mod lss;
mod marks;
mod orders;
mod unescape;

use crate::fields::{Fields, Scalar};
use crate::reason::Reason;
pub(crate) use cells::delimiter;
pub use cells::{fields, Cell, Cells};
use cells::{scan, Quoting, Scanned};
use lss::Lead;
use marks::Marks;
pub use orders::Columns;
use orders::{sourcetype, Order};
use unescape::{json_unescape, unquote};

/// Where one field of the frame being read is, in the frame or (escaped) in the scratch copy.
#[derive(Debug, Clone, Copy)]
struct Span {
    start: usize,
    end: usize,
    escaped: bool,
}

impl Span {
    /// A field from `start` to `end` of the line itself, no `""` in it.
    fn plain(start: usize, end: usize) -> Span {
        Span {
            start,
            end,
            escaped: false,
        }
    }

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
        let read = match self.split(b, d, columns.widest, Quoting::Csv) {
            Split::Fields { escaped, quotes } => {
                let picked = self.pick(text, d, columns);
                // Split at its `","`, an audit may have another order's count, which its values
                // may fit: a line with a quote inside a field (as a split JSON value has) is
                // read again unless its order holds JSON whose documents are whole (a quoted
                // `"x"` as many fields on as a document has `","` brings a split line back to
                // its order's count: tester U5). A line without one pays nothing more.
                let whole = |o: &Order| o.json && self.documents_whole(o, b);
                match picked.filter(|o| !quotes || whole(o)) {
                    Some(order) => Some((order, escaped, quotes)),
                    None => match self.reread(text, d, usize::MAX, columns) {
                        Some(order) => Some((order, self.escaped(), true)),
                        None => picked.map(|order| (order, escaped, quotes)),
                    },
                }
            }
            Split::Other => (self.reread(text, d, usize::MAX, columns))
                .map(|order| (order, self.escaped(), true)),
        };
        let read = read
            // Values hold quotes that CSV's rule misreads: read as NSS and LSS write them.
            .or_else(|| self.as_written(text, d, columns).map(|o| (o, false, true)))
            // ZPA's lists joined with commas: read by the columns around them.
            .or_else(|| self.lists(text, d, columns).map(|o| (o, false, false)))
            // Text values with commas: read where one reading alone fits.
            .or_else(|| self.commas(text, d, columns).map(|o| (o, false, false)));
        let Some((order, escaped, quotes)) = read else {
            return Err(no_order(text, d));
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
                } else if span.escaped && !column.json {
                    // A JSON document's `""` is an empty string's (NSS doubles no quote): it
                    // stays (tester U4: `"name":""` became `"name":"`, no JSON).
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
        // The place of a value LSS writes with a comma: it runs on through the next field.
        let joined = order.repeats.map(|(part, _)| part);
        for (i, (span, column)) in self.spans.iter().zip(&order.columns).enumerate() {
            let Some(hit) = column.hit else { continue };
            let end = match (joined == Some(i), self.spans.get(i + 1)) {
                (true, Some(s)) => s.end,
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
            // A position, not a key a client could write twice.
            fields.note(hit.unkeyed(), Some(Scalar::Str(value)));
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
    /// Fills the spans with the fields of `b` (the line marked last), as [`scan`] reads them
    /// (with `quoting`), up to `widest`.
    #[inline(always)]
    fn split(&mut self, b: &[u8], d: u8, widest: usize, quoting: Quoting) -> Split {
        self.spans.clear();
        let (mut escaped, mut quotes) = (false, false);
        let mut next = Some(0);
        while let Some(start) = next {
            let Ok(cell) = self.marks.field(b, start, d, quoting) else {
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

    /// The order whose columns the fields in the spans fit ([`Columns::pick`]). SaaS Security
    /// Activity's, whose six columns hold nothing that can be checked, takes a comma-separated
    /// line only with every field quoted.
    fn pick<'c>(&self, text: &str, d: u8, columns: &'c Columns) -> Option<&'c Order> {
        let values = fit::Values {
            text,
            spans: &self.spans,
        };
        let all_quoted = || self.spans.iter().all(|s| s.quoted(text.as_bytes()));
        columns
            .pick(values, d)
            .filter(|o| !o.unchecked() || d != b',' || all_quoted())
    }

    /// Whether every value in the spans of a column of `order` that holds JSON, and opens a
    /// document, also closes it (a split one ends elsewhere).
    fn documents_whole(&self, order: &Order, b: &[u8]) -> bool {
        let columns = order.columns.iter().zip(&self.spans);
        columns.filter(|(c, _)| c.json).all(|(_, s)| {
            let v = b.get(s.start..s.end).unwrap_or_default().trim_ascii();
            match v.first() {
                Some(b'{') => v.last() == Some(&b'}'),
                Some(b'[') => v.last() == Some(&b']'),
                _ => true,
            }
        })
    }

    /// Reads a line that no order takes as CSV's rule splits it (its spans are still that
    /// split's) as NSS and LSS write values, neither of which escapes a quote: unless the
    /// line's first two fields are quoted (a template that quotes every value), with every
    /// field running to the next delimiter (one that a quote opens and closes without them).
    /// The values must fit an order as any line's do.
    fn as_written<'c>(&mut self, text: &str, d: u8, columns: &'c Columns) -> Option<&'c Order> {
        let b = text.as_bytes();
        // Without a quote both quotings split the line alike: nothing to read again.
        if !self.marks.any_quote() {
            return None;
        }
        let quoted = |i: usize| self.spans.get(i).is_some_and(|s: &Span| s.quoted(b));
        if quoted(0) && quoted(1) {
            return None;
        }
        match self.split(b, d, columns.widest, Quoting::None) {
            Split::Fields { .. } => self.pick(text, d, columns),
            Split::Other => None,
        }
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

    /// Reads the line again by the columns around its lists ([`lists`]): its spans then hold
    /// the fields of that order, else they are as they were.
    fn lists<'c>(&mut self, text: &str, d: u8, columns: &'c Columns) -> Option<&'c Order> {
        // As wide as any line's fields: swapped with the spans, it never makes them grow.
        self.again.reserve(columns.widest);
        let order = lists::reread(text, d, columns, &mut self.again)?;
        std::mem::swap(&mut self.spans, &mut self.again);
        Some(order)
    }

    /// Reads the line again where one way alone of giving its extra fields to text values fits
    /// an order ([`commas`]): its spans then hold the fields of that order.
    fn commas<'c>(&mut self, text: &str, d: u8, columns: &'c Columns) -> Option<&'c Order> {
        // The line's fields, then its columns (swapped): neither grows past the first line.
        for spans in [&mut self.spans, &mut self.again] {
            spans.clear();
            spans.reserve(commas::FIELDS);
        }
        let order = commas::reread(text, d, columns, &mut self.spans, &mut self.again)?;
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
