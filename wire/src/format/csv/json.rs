//! Positional lines split by their JSON values. An audit's before and after are JSON documents
//! ([`Field::holds_json`](crate::keys::Field::holds_json)) written as they are: LSS's CSV
//! template has `,%s{auditOldValue},%s{auditNewValue},` unquoted, and NSS without a Feed Escape
//! Character quotes `"{"name":"x","groups":["a","b"]}"` with its quotes bare, so an object of
//! several keys is several fields, and the line fits no order. Such a line is read again in each
//! order that has JSON columns and fewer columns than the line has fields: the fields before a
//! JSON column as they were, the JSON column (a `{` or `[`, quoted or not) to the bracket that
//! closes it, strings inside respected, then the fields after. The line is in that order when
//! its JSON columns are documents (or absent) that end where a field does, the fields are as
//! many as the columns, and their values fit the order as any line's must (its lead, its
//! numbers, its times); else it stays a `field_count` dead letter. Nothing is allocated: the
//! reader's spans are refilled.

use super::fit::Values;
use super::orders::{Columns, Order};
use super::{scan, Scanned, Span};

/// The order of `columns` that the line `text` (with `d` between its fields) is in, its JSON
/// columns read by their brackets, with `spans` refilled with its fields; none if no order with
/// JSON columns and fewer columns than `count` has it.
pub(super) fn reread<'c>(
    text: &str,
    d: u8,
    count: usize,
    columns: &'c Columns,
    spans: &mut Vec<Span>,
) -> Option<&'c Order> {
    let b = text.as_bytes();
    columns
        .with_json(count)
        .find(|order| split(b, d, order, spans) && { order.fits(Values { text, spans }, d) })
}

/// Refills `spans` with the fields of `b` in `order`, its JSON columns to their closing
/// brackets; whether the line ends with the order's last column.
fn split(b: &[u8], d: u8, order: &Order, spans: &mut Vec<Span>) -> bool {
    spans.clear();
    let mut next = Some(0);
    for column in &order.columns {
        let Some(start) = next else { return false };
        let json = match (column.json, column.json_string && d == b',') {
            (true, _) => document(b, start, d),
            (false, true) => string(b, start, d),
            (false, false) => None,
        };
        let Some(cell) = json.or_else(|| scan(b, start, d).ok()) else {
            return false;
        };
        // A JSON column not read as a document holds no value: else the line's count fitted
        // only by a quote that joined two fields elsewhere, every column after shifted.
        if column.json && json.is_none() {
            let value = b.get(cell.start..cell.end).unwrap_or_default();
            let absent = std::str::from_utf8(value).is_ok_and(crate::value::is_absent);
            if !absent {
                return false;
            }
        }
        spans.push(Span {
            start: cell.start,
            end: cell.end,
            escaped: cell.escaped,
        });
        next = cell.next;
    }
    next.is_none()
}

/// The field at `start` as a JSON object or array, maybe quoted, that ends where the field
/// does; none for a value that is not one (an absent word, an empty field), which is read as
/// any field.
fn document(b: &[u8], start: usize, d: u8) -> Option<Scanned> {
    let quoted = b.get(start) == Some(&b'"');
    let open = start + usize::from(quoted);
    let end = brackets(b, open)?;
    let after = match (quoted, b.get(end)) {
        (false, _) => end,
        (true, Some(b'"')) => end + 1,
        (true, _) => return None,
    };
    match b.get(after) {
        Some(&c) if c != d => None,
        _ => Some(Scanned {
            start: open,
            end,
            // Bare quotes, as NSS writes them without a Feed Escape Character: none doubled.
            escaped: false,
            quotes: true,
            next: (after < b.len()).then_some(after + 1),
        }),
    }
}

/// The field at `start` as a JSON string (LSS's `%j` in a CSV template), from its quote to
/// the first quote no backslash escapes, which must end the field: CSV's rule would take an
/// escaped quote before a comma (`\",`), or a last one (`\""`), for the field's end or a
/// doubled quote. None for a field that is not one, which is read as any field.
fn string(b: &[u8], start: usize, d: u8) -> Option<Scanned> {
    if b.get(start) != Some(&b'"') {
        return None;
    }
    let mut at = start + 1;
    let close = loop {
        match *b.get(at)? {
            b'\\' => at += 2,
            b'"' => break at,
            _ => at += 1,
        }
    };
    let after = close + 1;
    match b.get(after) {
        Some(&c) if c != d => None,
        _ => Some(Scanned {
            start: start + 1,
            end: close,
            escaped: false,
            quotes: true,
            next: (after < b.len()).then_some(after + 1),
        }),
    }
}

/// Where the `{` or `[` at `open` is closed (just after its bracket): brackets in JSON strings
/// count for nothing, a `\` escapes the next byte there, and each closing bracket must be of its
/// opening one's kind. Nesting deeper than 64 is not read.
fn brackets(b: &[u8], open: usize) -> Option<usize> {
    if !matches!(b.get(open), Some(b'{' | b'[')) {
        return None;
    }
    // One bit per open bracket, the innermost lowest: set for a brace.
    let (mut kinds, mut depth) = (0u64, 0u32);
    let mut string = false;
    let mut at = open;
    while let Some(&c) = b.get(at) {
        at += 1;
        match (string, c) {
            (true, b'\\') => at += 1,
            (_, b'"') => string = !string,
            (true, _) => {}
            (false, b'{' | b'[') => {
                if depth == u64::BITS {
                    return None;
                }
                kinds = kinds << 1 | u64::from(c == b'{');
                depth += 1;
            }
            (false, b'}' | b']') => {
                if (kinds & 1 == 1) != (c == b'}') {
                    return None;
                }
                kinds >>= 1;
                depth -= 1;
                if depth == 0 {
                    return Some(at);
                }
            }
            (false, _) => {}
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn brackets_close_where_json_says() {
        let cases: &[(&str, Option<usize>)] = &[
            (r#"{"a":"b"}"#, Some(9)),
            (r#"{"a":[1,{"b":[]}]},x"#, Some(18)),
            (r#"{"a":"}]"},"#, Some(10)),
            (r#"{"a":"\"}"}"#, Some(11)),
            (r#"[["a"],{}]"#, Some(10)),
            (r#"{"a":"b""#, None),
            (r#"{"a":"b"]"#, None),
            ("[}", None),
            ("None", None),
            ("", None),
        ];
        for (text, want) in cases {
            assert_eq!(brackets(text.as_bytes(), 0), *want, "{text}");
        }
        let deep = format!("{}{}", "[".repeat(64), "]".repeat(64));
        assert_eq!(brackets(deep.as_bytes(), 0), Some(128));
        let deeper = format!("{}{}", "[".repeat(65), "]".repeat(65));
        assert_eq!(brackets(deeper.as_bytes(), 0), None);
    }

    #[test]
    fn a_document_ends_where_its_field_does() {
        let at = |text: &str| document(text.as_bytes(), 0, b',').map(|s| (s.start, s.end, s.next));
        assert_eq!(at(r#"{"a":1,"b":2},x"#), Some((0, 13, Some(14))));
        assert_eq!(at(r#""{"a":"x","b":2}","x""#), Some((1, 16, Some(18))));
        assert_eq!(at(r#""[1,2]""#), Some((1, 6, None)));
        assert_eq!(at(r#"{"a":1} more,x"#), None);
        assert_eq!(at(r#""{"a":1}x","#), None);
        assert_eq!(at(r#""{"a":1}"#), None);
        assert_eq!(at("None,x"), None);
    }

    #[test]
    fn a_json_string_ends_at_its_own_quote() {
        let at = |text: &str| string(text.as_bytes(), 0, b',').map(|s| (s.start, s.end, s.next));
        assert_eq!(at(r#""a \"x\"",y"#), Some((1, 8, Some(10))));
        assert_eq!(at(r#""a, \"b\", c",y"#), Some((1, 12, Some(14))));
        assert_eq!(at(r#""a\\",y"#), Some((1, 4, Some(6))));
        assert_eq!(at(r#""a""#), Some((1, 2, None)));
        assert_eq!(at(r#""a"b,y"#), None);
        assert_eq!(at(r#""a \","#), None);
        assert_eq!(at("a,y"), None);
    }
}
