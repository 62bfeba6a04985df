//! What a Cloud NSS request body holds: a JSON array of records (Zscaler's "JSON Array
//! Notation"), newline-delimited JSON, one record written over several lines (a sample
//! pretty-printed by hand or by a tool), or lines in another feed format. The whole body is
//! checked before any record of it is processed, and each record is then handed to the pipeline
//! where it lies.

use std::ops::Range;

use wire::decode::{feed_format, in_another_feed_format};
use wire::format::json::raw::{starts_as_object, Elements};
use wire::format::json::span::{bare_or_string_end, container_end, holds_an_object, trim};
use wire::format::Format;

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
    /// Lines in another feed format (tab-separated, name-value pairs, CSV, LEEF, CEF: Zscaler's
    /// Cloud NSS feeds offer other Feed Output Types than JSON), each a frame as TCP frames it:
    /// up to its LF, less a CR before it, its tabs kept (a tab-separated line's last fields may
    /// be empty).
    FeedLines,
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
            // an unreadable element's quotes may have paired up with another's. A body that is
            // no array in either reading may be lines of pairs whose template starts with a
            // bracket (`[2026-12-07 08:39:01]<TAB>reason=…`), as TCP reads them; not CSV, which
            // a cut array's commas or tabs would pass for (a cut body is refused, to be sent
            // again whole).
            let Ok(mut scan) = ArrayScan::new(body) else {
                return bracketed_pairs(body);
            };
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
                (false, _) => bracketed_pairs(body),
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
                // Only the first line's: each line's would read the whole body once more.
                first.get_or_insert_with(|| container_end(line, 0) == Some(line.len()));
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
        // Lines, as TCP takes them, when the first line is in another feed format than JSON
        // (a Cloud NSS feed's Tab-separated or Name Value Pairs output), or is a syslog header
        // or a template's static text (`<134>{…}`, the TCP feed templates' leads) and then one
        // whole object, or one whose values NSS wrote as they are (`{"`, and `}` at the line's
        // end). The feed format is asked first: a tab-separated audit line may end with its
        // actions' JSON objects, and read as JSON lines, each line trimmed, another would lose
        // the empty fields that end it. A first line in neither refuses the body (Cloud NSS
        // sends a refused batch again for ever, so only a body of no record is refused).
        Some(_) => {
            let line = &body[Lines { pos: 0 }.next(body).ok_or(NotJson)?];
            if in_another_feed_format(line) {
                Ok(Shape::FeedLines)
            } else if holds_an_object(line) {
                Ok(Shape::Lines)
            } else {
                Err(NotJson)
            }
        }
    }
}

/// [`Shape::FeedLines`] when the first line of a body that starts with `[` and is no array is in
/// a format of pairs (key=value, LEEF, CEF) and holds no object's start (`{"`): key=value needs
/// its first `=` before any brace, and a cut array's value that holds ` LEEF:` still has its
/// record's `{"` before it.
fn bracketed_pairs(body: &[u8]) -> Result<Shape, NotJson> {
    let line = &body[Lines { pos: 0 }.next(body).ok_or(NotJson)?];
    let pairs = matches!(
        feed_format(line),
        Some(Format::Kv | Format::Leef | Format::Cef)
    );
    (pairs && memchr::memmem::find(line, b"{\"").is_none())
        .then_some(Shape::FeedLines)
        .ok_or(NotJson)
}

/// Whether the body is an array of objects read as `wire::format::json::raw` reads values
/// (`None` when it is not), and whether that reading was needed: whether a value held a quote
/// or a backslash of its own, and whether an element could not be read. An element that lost
/// its closing braces is one that starts as an object (it ends as its last value does).
fn raw_objects(body: &[u8]) -> Option<(bool, bool)> {
    let mut raw = Elements::new(body).ok()?;
    while let Some(element) = raw.next(body).ok()? {
        if body[element][0] != b'{' {
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
        Shape::FeedLines => {
            let mut start = 0;
            while start < body.len() {
                let lf = memchr::memchr(b'\n', &body[start..]).map_or(body.len(), |i| start + i);
                let end = if lf > start && body[lf - 1] == b'\r' {
                    lf - 1
                } else {
                    lf
                };
                if body[start..end].iter().any(|b| !b.is_ascii_whitespace()) {
                    one(body, start..end, batch);
                }
                start = lf + 1;
            }
        }
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
mod tests;
