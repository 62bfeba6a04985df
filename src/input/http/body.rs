//! What a Cloud NSS request body holds: a JSON array of records (Zscaler's "JSON Array
//! Notation"), newline-delimited JSON, or one record written over several lines (a sample
//! pretty-printed by hand or by a tool). The whole body is checked before any record of it is
//! processed, and each record is then handed to the pipeline where it lies.

use std::ops::Range;

use wire::format::json::raw::{starts_as_object, Elements};
use wire::format::json::span::{bare_or_string_end, container_end, ends_with_object, trim};

use crate::batch::counters::Counter;
use crate::batch::{Batch, Origin};
use crate::pipeline::Pipeline;

/// What a body holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Shape {
    /// Only whitespace: no record (a connectivity test), answered 200.
    Empty,
    /// A JSON array: each element is a record.
    Array,
    /// A JSON array of objects whose elements are hidden by values NSS wrote as they are (a
    /// `%s{ua}` holding an odd number of quotes, which [`Shape::Array`]'s scan pairs wrongly):
    /// found as `wire::format::json::raw` reads such values, and each read so in the pipeline.
    RawArray,
    /// Newline-delimited JSON: each non-blank line is a record.
    Lines,
    /// One object over several lines: the body is the record.
    Object,
}

/// The body is not JSON in a shape this input takes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NotJson;

/// The body after a UTF-8 byte order mark (EF BB BF) that starts it: files saved as "UTF-8 with
/// BOM" begin with one, and a body made from such a file would otherwise be refused as not JSON.
/// Only at the start: one inside a record is the record's.
pub fn without_bom(body: &[u8]) -> &[u8] {
    body.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(body)
}

/// Decides what a body is, and checks it all, before anything of it is processed: processing
/// has effects (the shard's device cache) that a refused body must not have.
pub fn shape(body: &[u8]) -> Result<Shape, NotJson> {
    match body.iter().find(|b| !b.is_ascii_whitespace()) {
        None => Ok(Shape::Empty),
        Some(b'[') => {
            // Values read as NSS writes them first: in JSON that finds the same elements, and
            // it keeps a quote of one user agent from pairing with one of another's (two
            // records, and every one between them, ran into one dead letter, with a 200), and an
            // element that cannot be read from refusing the batch, which Cloud NSS sends again
            // for ever (it is a dead letter of its own).
            // An element that could not be read so is read as JSON reads it, where JSON can (an
            // array whose elements are no objects is JSON, and no dead letter).
            let raw = raw_objects(body);
            if raw == Some((true, false)) {
                return Ok(Shape::RawArray);
            }
            // JSON's reading has elements that are no objects only where it is right: else
            // an unreadable element's quotes may have paired up with another's.
            let mut scan = ArrayScan::new(body)?;
            let mut objects = true;
            let strict = loop {
                match scan.next(body) {
                    Ok(Some(element)) => objects &= body[element.start] == b'{',
                    Ok(None) => break true,
                    Err(NotJson) => break false,
                }
            };
            match (strict, raw) {
                (true, Some((_, true))) if objects => Ok(Shape::RawArray),
                (true, _) => Ok(Shape::Array),
                (false, Some((values, resynced))) if values || resynced => Ok(Shape::RawArray),
                (false, _) => Err(NotJson),
            }
        }
        Some(b'{') => {
            // Lines that each start with `{` and end with `}` (even when their quotes, as NSS
            // writes user agents, would pair up across them into one object), or else the body
            // one object over several lines; failing both, lines that each start as an object,
            // or lines after a first that is one, are still records, a broken one a dead
            // letter: Cloud NSS sends a batch it was refused again, so one bad line would hold
            // back every record of it for ever.
            let (mut braces, mut closed) = (true, true);
            let mut first = None;
            let mut lines = Lines { pos: 0 };
            while let Some(line) = lines.next(body) {
                let line = &body[line];
                let whole = container_end(line, 0) == Some(line.len());
                first.get_or_insert(whole);
                braces &= line[0] == b'{';
                closed &= line[line.len() - 1] == b'}';
            }
            let start = skip_whitespace(body, 0);
            let one = container_end(body, start)
                .is_some_and(|end| skip_whitespace(body, end) == body.len());
            match (braces && closed, one, braces || first == Some(true)) {
                (true, _, _) => Ok(Shape::Lines),
                (false, true, _) => Ok(Shape::Object),
                (false, false, true) => Ok(Shape::Lines),
                (false, false, false) => Err(NotJson),
            }
        }
        // Lines after a syslog header or a template's static text (`<134>{…}`, the TCP feed
        // templates' leads), as TCP takes them: when the first line is such text and then one
        // whole object, or one whose values NSS wrote as they are (`{"`, and `}` at the line's
        // end). Cloud NSS sends a refused batch again for ever.
        Some(_) => {
            let line = &body[Lines { pos: 0 }.next(body).ok_or(NotJson)?];
            let raw = line.ends_with(b"}") && memchr::memmem::find(line, b"{\"").is_some();
            (ends_with_object(line) || raw)
                .then_some(Shape::Lines)
                .ok_or(NotJson)
        }
    }
}

/// Whether the body is an array of objects read as `wire::format::json::raw` reads values
/// (`None` when it is not), and whether that reading was needed: whether a value held a quote
/// or a backslash of its own, and whether an element could not be read.
fn raw_objects(body: &[u8]) -> Option<(bool, bool)> {
    let mut raw = Elements::new(body).ok()?;
    while let Some(element) = raw.next(body).ok()? {
        let element = &body[element];
        if element[0] != b'{' || element[element.len() - 1] != b'}' {
            return None;
        }
    }
    Some((raw.raw(), raw.resynced()))
}

/// Hands every record of a checked body to the pipeline, each in place. A record over
/// `max_frame` is skipped and counted, as on TCP.
pub fn process_body(
    pipeline: &mut Pipeline,
    body: &[u8],
    shape: Shape,
    max_frame: usize,
    origin: &Origin,
    batch: &mut Batch,
) {
    let mut one = |body: &[u8], range: Range<usize>, batch: &mut Batch| {
        if range.len() > max_frame {
            batch.counters.incr(Counter::OversizeFrames);
        } else {
            pipeline.process(&body[range], origin, batch);
        }
    };
    match shape {
        Shape::Empty => {}
        Shape::Array => {
            // The body was checked: the scan cannot fail now. Each element is parsed (and
            // rewritten by simd-json) only after the scan has moved past it.
            let Ok(mut scan) = ArrayScan::new(body) else {
                return;
            };
            while let Ok(Some(range)) = scan.next(body) {
                one(body, range, batch);
            }
        }
        Shape::RawArray => {
            let Ok(mut scan) = Elements::new(body) else {
                return;
            };
            while let Ok(Some(range)) = scan.next(body) {
                one(body, range, batch);
            }
        }
        Shape::Lines => {
            let mut lines = Lines { pos: 0 };
            while let Some(range) = lines.next(body) {
                if might_be_glued(&body[range.clone()]) && glued(body, range.clone()) {
                    let line = &body[..range.end];
                    let mut at = range.start;
                    while let Some(close) = piece_end(line, at) {
                        one(body, at..close, batch);
                        at = skip_whitespace(line, close);
                    }
                } else {
                    one(body, range, batch);
                }
            }
        }
        Shape::Object => one(body, trim(body, 0..body.len()), batch),
    }
}

/// A cheap first look: a `}` with only whitespace before the next `{`, which one object has
/// only inside a string.
fn might_be_glued(line: &[u8]) -> bool {
    memchr::memchr_iter(b'}', line).any(|at| {
        line[at + 1..]
            .iter()
            .find(|b| !b.is_ascii_whitespace())
            .is_some_and(|&b| b == b'{')
    })
}

/// Whether a line is several objects one after another (`{…}{…}`, Splunk HEC's batch form,
/// which a sender speaking HEC writes), each a record of its own ([`piece_end`]). Each must
/// start as a record does (`{"key":`), so that a value holding `"}{"` does not cut its record
/// in two. A line of one object is one frame, as on TCP.
fn glued(body: &[u8], line: Range<usize>) -> bool {
    let body = &body[..line.end];
    let (mut at, mut objects) = (line.start, 0);
    while at < body.len() {
        if !starts_as_object(&body[at..]) {
            return false;
        }
        match piece_end(body, at) {
            Some(close) => at = skip_whitespace(body, close),
            None => return false,
        }
        objects += 1;
    }
    objects > 1
}

/// Where the glued object that opens at `line[at]` ends: at the first `}` that the line's end
/// or the next object's start follows. Read by this alone: JSON never has `}` then `{` (a comma
/// comes between), and inside a value (`"}{\"k\":"`) a quote is escaped; a value written as NSS
/// writes it, whose quotes would pair up with the next object's, or that lost its closing quote,
/// then costs its own record only.
fn piece_end(line: &[u8], at: usize) -> Option<usize> {
    memchr::memchr_iter(b'}', &line[at..])
        .map(|i| at + i + 1)
        .find(|&end| {
            let next = skip_whitespace(line, end);
            next == line.len() || starts_as_object(&line[next..])
        })
}

/// The non-blank lines of a body, whitespace trimmed.
struct Lines {
    pos: usize,
}

impl Lines {
    fn next(&mut self, body: &[u8]) -> Option<Range<usize>> {
        while self.pos < body.len() {
            let start = self.pos;
            let end = memchr::memchr(b'\n', &body[start..]).map_or(body.len(), |i| start + i);
            self.pos = end + 1;
            let range = trim(body, start..end);
            if !range.is_empty() {
                return Some(range);
            }
        }
        None
    }
}

/// Finds the elements of a JSON array, one at a time, as byte ranges (whitespace trimmed). It
/// follows strings (with their escapes) and the nesting depth, and checks the array's own
/// syntax: brackets, commas, nothing after the closing bracket. What an element holds is the
/// pipeline's business: one that is not a valid object becomes a dead letter there.
struct ArrayScan {
    pos: usize,
    state: ArrayState,
    /// Bare-quoted audit values are still looked for ([`bare_or_string_end`]).
    looking: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum ArrayState {
    /// After `[`: an element or `]`.
    Open,
    /// After an element: `,` or `]`.
    Between,
    Done,
}

impl ArrayScan {
    /// Starts after the `[` (which must be the first non-whitespace byte).
    fn new(body: &[u8]) -> Result<ArrayScan, NotJson> {
        let pos = skip_whitespace(body, 0);
        if body.get(pos) != Some(&b'[') {
            return Err(NotJson);
        }
        Ok(ArrayScan {
            pos: pos + 1,
            state: ArrayState::Open,
            looking: true,
        })
    }

    fn next(&mut self, body: &[u8]) -> Result<Option<Range<usize>>, NotJson> {
        loop {
            match self.state {
                ArrayState::Done => return Ok(None),
                ArrayState::Open | ArrayState::Between => {
                    self.pos = skip_whitespace(body, self.pos);
                    match body.get(self.pos) {
                        Some(b']') => {
                            self.state = ArrayState::Done;
                            if skip_whitespace(body, self.pos + 1) != body.len() {
                                return Err(NotJson);
                            }
                        }
                        Some(b',') if self.state == ArrayState::Between => {
                            self.pos += 1;
                            let element = self.element(body)?;
                            return Ok(Some(element));
                        }
                        Some(_) if self.state == ArrayState::Open => {
                            let element = self.element(body)?;
                            return Ok(Some(element));
                        }
                        _ => return Err(NotJson),
                    }
                }
            }
        }
    }

    /// One element from `pos`, which is left on the `,` or `]` after it.
    fn element(&mut self, body: &[u8]) -> Result<Range<usize>, NotJson> {
        let start = skip_whitespace(body, self.pos);
        let mut depth = 0usize;
        // A string, object or array at the top level has ended: only `,` or `]` may follow.
        let mut closed = false;
        let mut i = start;
        while let Some(&b) = body.get(i) {
            if closed && !b.is_ascii_whitespace() && b != b',' && b != b']' {
                return Err(NotJson);
            }
            match b {
                b'"' => {
                    // An Admin Audit's bare-quoted before or after too: its own quotes,
                    // brackets and escapes would otherwise pair wrongly, refusing the batch or
                    // running two records into one.
                    i = bare_or_string_end(body, i, &mut self.looking).ok_or(NotJson)?;
                    closed = depth == 0;
                }
                b'{' | b'[' => depth += 1,
                b'}' | b']' if depth > 0 => {
                    depth -= 1;
                    closed = depth == 0;
                }
                b']' | b',' if depth == 0 => break,
                b'}' => return Err(NotJson),
                _ => {}
            }
            i += 1;
        }
        if i >= body.len() {
            return Err(NotJson);
        }
        self.pos = i;
        self.state = ArrayState::Between;
        let range = trim(body, start..i);
        if range.is_empty() {
            return Err(NotJson);
        }
        Ok(range)
    }
}

fn skip_whitespace(body: &[u8], mut pos: usize) -> usize {
    while body.get(pos).is_some_and(u8::is_ascii_whitespace) {
        pos += 1;
    }
    pos
}

#[cfg(test)]
mod tests {
    use super::*;

    fn elements(body: &str) -> Result<Vec<&str>, NotJson> {
        let b = body.as_bytes();
        let mut scan = ArrayScan::new(b)?;
        let mut out = Vec::new();
        while let Some(r) = scan.next(b)? {
            out.push(&body[r]);
        }
        Ok(out)
    }

    #[test]
    fn array_elements_are_found_with_strings_escapes_and_nesting() {
        assert_eq!(elements("[]"), Ok(vec![]));
        assert_eq!(elements(" [ ] \n"), Ok(vec![]));
        assert_eq!(
            elements(r#"[{"a":"x,]}"},{"b":[1,{"c":"\"]"}]} , 5,"s"]"#),
            Ok(vec![
                r#"{"a":"x,]}"}"#,
                r#"{"b":[1,{"c":"\"]"}]}"#,
                "5",
                r#""s""#
            ])
        );
        assert_eq!(
            elements("[\n  {\"a\":\"\\\\\"}\n]\n"),
            Ok(vec![r#"{"a":"\\"}"#])
        );
        // An Admin Audit whose bare-quoted before holds an escaped quote and backslash: one
        // element, for the pipeline to read.
        let audit = r#"{"action":"UPDATE","preaction":"{"name":"a \"b\" \\"}","x":1}"#;
        assert_eq!(
            elements(&format!("[{audit},\n{audit}]")),
            Ok(vec![audit, audit])
        );
        // Brackets in its strings, one opening (a batch refused) and one closing (two records
        // run into one).
        let (open, close) = (
            r#"{"preaction":"{"name":"Block [test"}","x":1}"#,
            r#"{"postaction":"{"name":"oops]"}","x":2}"#,
        );
        assert_eq!(
            elements(&format!("[{open},{close},{{}}]")),
            Ok(vec![open, close, "{}"])
        );
    }

    #[test]
    fn arrays_that_do_not_close_are_not_json() {
        for body in [
            "[",
            "[{}",
            "[{},]",
            "[,{}]",
            "[{}] x",
            r#"[{"a":"unterminated]"#,
            r#"[{"a":1}"x"]"#,
            r#"["x" "y"]"#,
        ] {
            assert_eq!(shape(body.as_bytes()), Err(NotJson), "{body}");
        }
        // An element that cannot be read (its value, or its commas or braces) in an array that
        // can: a dead letter of its own, not a batch refused (and sent again for ever).
        for body in [
            r#"[{"a":"unterminated}]"#,
            "[{}{}]",
            "[{}}]",
            "[{},,{}]",
            "[{} {}]",
            r#"[{"ua":"(build":7)"}, {"a":1}]"#,
            r#"[{"ua":"x,"loc":"HQ"},{"a":1}]"#,
        ] {
            assert_eq!(shape(body.as_bytes()), Ok(Shape::RawArray), "{body}");
        }
    }

    #[test]
    fn bodies_are_arrays_lines_empty_or_refused() {
        assert_eq!(shape(b""), Ok(Shape::Empty));
        assert_eq!(shape(b" \r\n"), Ok(Shape::Empty));
        assert_eq!(shape(b"[{}]"), Ok(Shape::Array));
        // A user agent as NSS writes it, an odd number of quotes in it.
        let raw = br#"[{"ua":"x (t="a) y","n":1}, {"ua":"C:\p"}]"#;
        assert_eq!(shape(raw), Ok(Shape::RawArray));
        // Elements that are no objects: JSON, read as JSON (each a dead letter of its own).
        assert_eq!(shape(br#"[{"a":1}, 42, "x", {"b":2}]"#), Ok(Shape::Array));
        assert_eq!(shape(b"{\"a\":1}\n\n  {\"b\":2}\r\n"), Ok(Shape::Lines));
        // A first line that is an object makes the body lines: later ones are the pipeline's.
        assert_eq!(shape(b"{\"a\":1}\nnot json\n"), Ok(Shape::Lines));
        assert_eq!(shape(b"{\"a\":1}\n<134>{\"b\":2}\n"), Ok(Shape::Lines));
        assert_eq!(shape(b"hello"), Err(NotJson));
        // A header or static text before the first line's object: lines, as on TCP.
        assert_eq!(shape(b"<134>{\"a\":1}"), Ok(Shape::Lines));
        let rfc3164 = b"Dec 05 09:58:00 zscaler-nss nss: {\"a\":1}\nDec 05 09:58:01 x {\"b\":2}";
        assert_eq!(shape(rfc3164), Ok(Shape::Lines));
        let braces =
            b"ZSCALER {web}: {\"a\":1}\n<134>1 2025-11-22T08:26:40Z h a - - [x@1 k=\"{\"] {}";
        assert_eq!(shape(braces), Ok(Shape::Lines));
        let data = b"<134>1 2025-11-22T08:26:40Z h a - - [x@1 k=\"{\"] {\"b\":2}";
        assert_eq!(shape(data), Ok(Shape::Lines));
        // Text with no object after it, or not one that ends the line, is refused.
        for body in [
            "<134>hello",
            "<134>{\"a\":1} x",
            "text {\"a\":",
            "<134>{\"a\":1\n}",
            "hello {x}\nworld\n",
            "x [y] {z}",
        ] {
            assert_eq!(shape(body.as_bytes()), Err(NotJson), "{body}");
        }
    }

    #[test]
    fn one_object_over_several_lines_is_one_record() {
        let pretty = b"{\n  \"sourcetype\": \"zscalernss-web\",\n  \"event\": {\n    \"a\": \"}\\\"{\"\n  }\n}\n";
        assert_eq!(shape(pretty), Ok(Shape::Object));
        // Wrapped before a nested object, every line starts with `{`: still one record.
        let wrapped = b"{\"sourcetype\":\"zscalernss-web\",\"event\":\n{\"cip\":\"10.0.0.1\"}}";
        assert_eq!(shape(wrapped), Ok(Shape::Object));
        // Lines that each start as an object stay records, a broken one a dead letter.
        assert_eq!(shape(b"{\"a\":1}\n{\"b\":\n"), Ok(Shape::Lines));
        // Anything after it, or an object that never ends, is not one record.
        assert_eq!(shape(b"{\n \"a\": 1\n}\nx"), Err(NotJson));
        assert_eq!(shape(b"{\n \"a\": {\n}"), Err(NotJson));
        assert_eq!(shape(b"{\n \"a\": \"}\n"), Err(NotJson));
    }

    #[test]
    fn a_byte_order_mark_is_skipped_at_the_start_only() {
        assert_eq!(without_bom(b"\xEF\xBB\xBF[{}]"), b"[{}]");
        assert_eq!(
            shape(without_bom(b"\xEF\xBB\xBF{\"a\":1}\n")),
            Ok(Shape::Lines)
        );
        assert_eq!(shape(without_bom(b"\xEF\xBB\xBF")), Ok(Shape::Empty));
        assert_eq!(without_bom(b"\xEF\xBB"), b"\xEF\xBB");
        assert_eq!(without_bom(b" \xEF\xBB\xBF[]"), b" \xEF\xBB\xBF[]");
    }

    #[test]
    fn a_line_of_glued_objects_is_each_of_them() {
        let is =
            |line: &str| might_be_glued(line.as_bytes()) && glued(line.as_bytes(), 0..line.len());
        assert!(is(r#"{"a":1}{"b":"}{"}"#));
        assert!(is(r#"{"a":1} {"b":2}  {"c":{"d":3}}"#));
        assert!(is("{\"a\":1}\t {\"b\":2}"));
        // An Admin Audit whose bare-quoted before holds escaped quotes, glued to another.
        let audit = r#"{"preaction":"{"name":"a \"b\" \\"}","x":1}"#;
        assert!(is(&format!("{audit}{audit}")));
        // A user agent's odd quote in each, as NSS writes them; one that cannot be read.
        assert!(is(r#"{"ua":"a "b"} {"ua":"c "d"}"#));
        assert!(is(r#"{"ua":"a":b"}{"ua":"ok"}{"ua":"Q "x"}"#));
        for line in [
            r#"{"a":"}{"}"#,
            r#"{"a":1}{"b":2"#,
            r#"{"a":1}{"b":2}x"#,
            r#"{"a":1} [1]"#,
            r#"<134>{"a":1}{"b":2}"#,
            // A value holding `"}{"` or `}{"{":`: the second piece starts as no record.
            r#"{"ua":"x"}{"y","loc":"HQ"}"#,
            r#"{"ua":"U}{"{":Z","loc":"HQ"}"#,
        ] {
            assert!(!is(line), "{line}");
        }
    }

    #[test]
    fn lines_are_trimmed_and_blank_ones_skipped() {
        let body = b"  {\"a\":1}\r\n\n\t{\"b\":2}";
        let mut lines = Lines { pos: 0 };
        let mut got = Vec::new();
        while let Some(r) = lines.next(body) {
            got.push(&body[r]);
        }
        assert_eq!(got, [&b"{\"a\":1}"[..], &b"{\"b\":2}"[..]]);
    }
}
