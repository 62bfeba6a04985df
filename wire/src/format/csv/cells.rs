//! The fields of a positional line: where each starts and ends, by the rules of the
//! [`csv`](super) module's documentation. [`scan`] reads one field a byte at a time and is the
//! definition; [`super::marks`] finds the same fields from one vectorised pass over the line.

use super::marks::Marks;
use crate::reason::Reason;

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
/// Marks the text in buffers of its own: for tests and fuzz targets, not for a per-frame path
/// (the [`Reader`](super::Reader) keeps its marks between frames).
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
            .field(self.text.as_bytes(), start, self.delimiter, Quoting::Csv)
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

/// What a quote that starts a field means.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Quoting {
    /// The field is quoted: it ends at a quote that the delimiter or the end follows, and a
    /// `""` inside is one quote (before the delimiter or the end, the value's last and the
    /// closing one).
    Csv,
    /// Nothing: the field runs to the next delimiter, quotes and all, as LSS's `%s` and NSS's
    /// tab-separated output write a value that starts with one (`"Quoted" Rule`).
    None,
}

/// One field as [`scan`] finds it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Scanned {
    /// Its text, without quotes.
    pub(super) start: usize,
    pub(super) end: usize,
    /// Quoted, with a `""`.
    pub(super) escaped: bool,
    /// A quote inside its text (a bare one or a `""`).
    pub(super) quotes: bool,
    /// Where the next field starts, if one does.
    pub(super) next: Option<usize>,
}

/// The field that starts at `start`, read a byte at a time: the definition of a field, which
/// [`Marks::field`] reads from the line's marks.
pub(super) fn scan(b: &[u8], start: usize, d: u8) -> Result<Scanned, Reason> {
    let (text, escaped, quotes, after) = if b.get(start) == Some(&b'"') {
        let (mut escaped, mut quotes) = (false, false);
        let mut at = start + 1;
        let close = loop {
            let quote = crate::format::find_byte(b, at, b'"').ok_or(Reason::FieldCount)?;
            match b.get(quote + 1) {
                None => break quote,
                Some(&c) if c == d => break quote,
                // NSS doubles no quote: `""` before the delimiter or the end is a value's last
                // quote and the field's closing one.
                Some(b'"') if b.get(quote + 2).is_none_or(|&c| c == d) => {
                    quotes = true;
                    break quote + 1;
                }
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
        let end = crate::format::find_byte(b, start, d).unwrap_or(b.len());
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
