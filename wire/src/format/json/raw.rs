//! A JSON feed line whose values NSS wrote as they are: a `%s{ua}` (or any `%s` field) that holds
//! quotes (`SophosUpdate/6.13.1014 SDDS/3.0 (t="b418…" d="3683…")`) or backslashes
//! (`Name:C:\Program Files (x86)\ZohoMeeting\…`), which NSS escapes only when the feed's escape
//! characters include them (elastic/integrations#5296 quotes both from a real feed). The line is
//! then not JSON, though what it says is plain; a template with Elastic's `"ua":"%s{ua}"` sends
//! such lines for every client whose agent is no browser.
//!
//! Only a frame that simd-json refused comes here ([`escape`]: it is read again from a copy),
//! and a Cloud NSS array body whose elements could not be found otherwise ([`Elements`]: found
//! in place). Inside each value string, every backslash is a backslash (NSS writes no escapes:
//! each is the text's own), a control byte is the text's own, and so is a quote unless it ends
//! the value: unless what follows it is what follows a value in JSON (a comma and then, in an
//! object, a key and its colon; or the container's close, then what may follow that). Keys are
//! read as JSON has them.
//! A quote followed by `","key":` inside a value would still end it early; the copy is then
//! refused as the frame was. A frame whose value lost its closing quote is left alone. In an
//! object, a quote followed by a comma and a record's start, or by `]` and the body's end, ends
//! a value too: there the element lost its closing braces ([`Elements::unclosed`]). A value of
//! an array's element that holds `",{"key":` is then two dead letters, where it was one.

use std::ops::Range;

use super::span::trim;

/// Deepest nesting followed: deeper frames are left as they were.
const MAX_DEPTH: u32 = 64;

/// Writes into `out` a copy of `json` with its values' text escaped as JSON has it, and returns
/// true; false (and `out` undefined) when the copy would be the frame itself, or the frame is
/// nested deeper than [`MAX_DEPTH`].
pub fn escape(json: &[u8], out: &mut Vec<u8>) -> bool {
    out.clear();
    out.reserve(json.len() + json.len() / 8);
    let mut state = State::default();
    let mut at = 0;
    while let Some(&b) = json.get(at) {
        if b == b'"' {
            let Some((end, key)) = state.string_end(json, at) else {
                return false;
            };
            out.push(b'"');
            if key {
                out.extend_from_slice(&json[at + 1..end]);
            } else {
                text(&json[at + 1..end], out);
            }
            out.push(b'"');
            at = end + 1;
            continue;
        }
        if !state.structural(b) {
            return false;
        }
        out.push(b);
        at += 1;
    }
    out.as_slice() != json
}

/// The elements of a JSON array of objects (a Cloud NSS body) whose values are read as
/// [`escape`] reads them, one at a time, as byte ranges of the body (whitespace trimmed): found
/// in place, so that each goes to the pipeline as received (its dead letter the bytes sent),
/// and with no list of them kept (a body of a million tiny elements must not cost a million
/// ranges).
pub struct Elements {
    state: State,
    at: usize,
    /// Where the element being read starts.
    start: usize,
    done: bool,
    /// An element could not be read, and ran to the next one's start ([`Elements::resync`]).
    resynced: bool,
}

/// `Elements::next` found the body no array so read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NotArray;

impl Elements {
    /// From the array's `[`, the first non-whitespace byte of `body`.
    pub fn new(body: &[u8]) -> Result<Elements, NotArray> {
        let open = skip_spaces(body, 0);
        if body.get(open) != Some(&b'[') {
            return Err(NotArray);
        }
        let mut state = State::default();
        state.structural(b'[');
        Ok(Elements {
            state,
            at: open + 1,
            start: open + 1,
            done: false,
            resynced: false,
        })
    }

    /// Whether a value read so far held a quote or a backslash of its own: without one (and
    /// without [`Elements::resynced`]), these rules read the body as JSON's do.
    pub fn raw(&self) -> bool {
        self.state.raw
    }

    /// Whether an element so far could not be read, and ran to the next one's start: a body
    /// that is JSON (an array with elements that are no objects) is better read as JSON.
    pub fn resynced(&self) -> bool {
        self.resynced
    }

    /// The next element; `None` after the last, when only whitespace follows the array.
    pub fn next(&mut self, body: &[u8]) -> Result<Option<Range<usize>>, NotArray> {
        if self.done {
            return Ok(None);
        }
        while let Some(&b) = body.get(self.at) {
            if self.state.depth == 1 && !b.is_ascii_whitespace() {
                // Between elements: `{` opens one, after `[` or `,`; `,` or `]` follows one's
                // `}`. Anything else (a value's `"},` or `"}}` read as the element's end)
                // means the element is not read right.
                let between = match b {
                    b'{' => matches!(self.state.last, b'[' | b','),
                    b',' => self.state.last == b'}',
                    b']' => matches!(self.state.last, b'}' | b'['),
                    _ => false,
                };
                if !between {
                    return self.resync(body);
                }
            }
            if b == b'"' {
                let Some((end, _)) = self.state.string_end(body, self.at) else {
                    return self.resync(body);
                };
                self.at = end + 1;
                continue;
            }
            if self.state.depth >= 2 && self.state.arrays & 1 == 0 {
                if let Some(element) = self.unclosed(body, b) {
                    return Ok(Some(element));
                }
            }
            let top = self.state.depth == 1 && matches!(b, b',' | b']');
            // `[]` has no element; `[1,]`, `[,1]` and `[1,,2]` are no arrays.
            let empty = self.state.last == b'[' && b == b']';
            if !self.state.structural(b) {
                return self.resync(body);
            }
            if top {
                // What follows must be a record's start, or the body's end: else this
                // `,` or `]` was a value's (`"},"`), and the element is not read right.
                let next = skip_spaces(body, self.at + 1);
                let follows = match b {
                    b',' => starts_as_object(&body[next..]),
                    _ => next == body.len(),
                };
                if !follows {
                    return self.resync(body);
                }
            }
            let at = self.at;
            self.at += 1;
            if top {
                let range = trim(body, self.start..at);
                self.start = self.at;
                if b == b']' {
                    self.done = true;
                    if empty {
                        return Ok(None);
                    }
                }
                return if range.is_empty() {
                    Err(NotArray)
                } else {
                    Ok(Some(range))
                };
            }
        }
        Err(NotArray)
    }

    /// The element being read, when `b` (outside strings, in an object inside it) says it lost
    /// its closing braces (`{"sourcetype":…,"event":{…}` and no `}`): in an object a comma is
    /// followed by a key, never by a record's start, and `]` closes nothing. The element ends
    /// there, a dead letter of its own, where the record after it was read into it (and the
    /// records after that, up to a brace that balanced them) or the batch was refused (and sent
    /// again for ever).
    fn unclosed(&mut self, body: &[u8], b: u8) -> Option<Range<usize>> {
        // Every byte of an element comes here: only a comma or a bracket looks further (a look
        // past every space of a run of them was quadratic in the run).
        if !matches!(b, b',' | b']') {
            return None;
        }
        let next = skip_spaces(body, self.at + 1);
        // Trimmed only for the element found: its leading spaces, walked at every comma, were
        // quadratic too (`[`, spaces, `{`, commas).
        let element = self.start..self.at;
        match b {
            b',' if starts_as_object(&body[next..]) => {
                self.at = next;
                self.start = next;
                self.state = State {
                    arrays: 1,
                    depth: 1,
                    last: b',',
                    raw: self.state.raw,
                };
            }
            b']' if next == body.len() => self.done = true,
            _ => return None,
        }
        self.resynced = true;
        Some(trim(body, element))
    }

    /// The element being read when it cannot be read (a value that lost its closing quote, or
    /// holds a key's `":`, or a `"},` that seemed to end it), as one that runs to the next `}`
    /// followed by a comma and a record's start, or by the array's `]` and the body's end: a
    /// dead letter of its own, where the whole batch would be refused (and sent again for ever).
    fn resync(&mut self, body: &[u8]) -> Result<Option<Range<usize>>, NotArray> {
        // The element's leading blanks are stepped over once, not again for each `}` looked at
        // (which made a body of blanks and braces cost their product).
        let start = skip_spaces(body, self.start);
        if body.get(start) != Some(&b'{') {
            return Err(NotArray);
        }
        let from = self.at;
        for close in memchr::memchr_iter(b'}', &body[from..]).map(|i| from + i) {
            let next = skip_spaces(body, close + 1);
            let element = start..close + 1;
            match body.get(next) {
                Some(b',') if starts_as_object(&body[skip_spaces(body, next + 1)..]) => {
                    self.at = skip_spaces(body, next + 1);
                    self.start = self.at;
                    self.state = State {
                        arrays: 1,
                        depth: 1,
                        last: b',',
                        raw: self.state.raw,
                    };
                    self.resynced = true;
                    return Ok(Some(element));
                }
                Some(b']') if skip_spaces(body, next + 1) == body.len() => {
                    self.done = true;
                    self.resynced = true;
                    return Ok(Some(element));
                }
                _ => {}
            }
        }
        Err(NotArray)
    }
}

/// Whether `text` starts as a record does: `{`, then a key of letters, digits, `_`, `.`, `-` or
/// `@` (what NSS, LSS and their relays name fields) and its colon, or the object's end (spaces
/// allowed where JSON allows them). Where a raw value's `"},{"` or `"}{"` seems to end an object,
/// what follows it rarely starts so (`{"y",`, `{"{":`).
pub fn starts_as_object(text: &[u8]) -> bool {
    if text.first() != Some(&b'{') {
        return false;
    }
    let at = skip_spaces(text, 1);
    match text.get(at) {
        Some(b'}') => true,
        Some(b'"') => {
            let key = text[at + 1..]
                .iter()
                .take_while(|&&b| {
                    b.is_ascii_alphanumeric() || matches!(b, b'_' | b'.' | b'-' | b'@')
                })
                .count();
            key > 0
                && text.get(at + 1 + key) == Some(&b'"')
                && text.get(skip_spaces(text, at + 2 + key)) == Some(&b':')
        }
        _ => false,
    }
}

/// Where a walk through a frame is: its open containers, and what came last.
#[derive(Default)]
struct State {
    /// One bit per open container, the innermost lowest: set for an array.
    arrays: u64,
    depth: u32,
    /// The last structural byte, to tell a key from a value.
    last: u8,
    /// A value read so far held a quote or a backslash of its own: read as JSON has it, the
    /// frame would have been something else.
    raw: bool,
}

impl State {
    /// The closing quote of the string that opens at `json[at]`, and whether it is a key (read
    /// as JSON has it) rather than a value (read as [`value_end`] reads it).
    fn string_end(&mut self, json: &[u8], at: usize) -> Option<(usize, bool)> {
        let in_array = self.arrays & 1 == 1;
        let key = matches!(self.last, b'{' | b',') && !in_array;
        let end = if key {
            super::span::string_end(json, at + 1)
        } else {
            value_end(json, at + 1, in_array, self.depth)
        }?;
        self.raw |= !key && memchr::memchr2(b'"', b'\\', &json[at + 1..end]).is_some();
        self.last = b'"';
        Some((end, key))
    }

    /// Follows a byte outside strings; false when it opens a container past [`MAX_DEPTH`].
    fn structural(&mut self, b: u8) -> bool {
        match b {
            b'{' | b'[' => {
                if self.depth == MAX_DEPTH {
                    return false;
                }
                self.arrays = self.arrays << 1 | u64::from(b == b'[');
                self.depth += 1;
                self.last = b;
            }
            b'}' | b']' => {
                self.arrays >>= 1;
                self.depth = self.depth.saturating_sub(1);
                self.last = b;
            }
            b',' | b':' => self.last = b,
            _ => {}
        }
        true
    }
}

/// The quote that ends the value string whose text starts at `from`: the first one followed by
/// what JSON has after a value, in an array (`in_array`) or an object, `depth` containers deep.
/// `None` when a quote before it is followed by a colon: that is a key's end, and the value
/// would swallow it (a value whose closing quote is missing, `"time":"Fri May 6,"user":"a"`),
/// inventing a value and losing a field, where the frame must stay a dead letter.
fn value_end(json: &[u8], from: usize, in_array: bool, depth: u32) -> Option<usize> {
    let mut at = from;
    loop {
        at += memchr::memchr(b'"', json.get(at..)?)?;
        if ends_value(json, at + 1, in_array, depth) {
            return Some(at);
        }
        if json.get(skip_spaces(json, at + 1)) == Some(&b':') {
            return None;
        }
        at += 1;
    }
}

/// Whether what follows a quote at `after` is what follows a value: a comma and the next member
/// (an object's key and its colon), or the container's close and then what may follow it (the
/// frame's end, for the outermost). In an object, also a comma and a record's start, or `]` and
/// the body's end: an array's element that lost its closing braces right after a string value,
/// which [`Elements::unclosed`] then ends there (else the quote ended nothing, and the element
/// ran into the next one or the batch was refused).
fn ends_value(json: &[u8], after: usize, in_array: bool, depth: u32) -> bool {
    let next = skip_spaces(json, after);
    match json.get(next) {
        Some(b',') if in_array => true,
        Some(b',') => {
            let key = skip_spaces(json, next + 1);
            starts_as_object(&json[key..])
                || json.get(key) == Some(&b'"')
                    && super::span::string_end(json, key + 1)
                        .is_some_and(|end| json.get(skip_spaces(json, end + 1)) == Some(&b':'))
        }
        Some(b']') if in_array => closes(json, next + 1, depth),
        Some(b']') => skip_spaces(json, next + 1) == json.len(),
        Some(b'}') if !in_array => closes(json, next + 1, depth),
        _ => false,
    }
}

/// After a container's close: the outermost ends the frame (whatever follows is not read);
/// an inner one is followed by a comma or another close.
fn closes(json: &[u8], after: usize, depth: u32) -> bool {
    depth <= 1
        || matches!(
            json.get(skip_spaces(json, after)),
            None | Some(b',' | b'}' | b']')
        )
}

fn skip_spaces(json: &[u8], mut at: usize) -> usize {
    while json.get(at).is_some_and(u8::is_ascii_whitespace) {
        at += 1;
    }
    at
}

/// A value's text as written, escaped as JSON has it.
fn text(raw: &[u8], out: &mut Vec<u8>) {
    for &b in raw {
        match b {
            b'"' | b'\\' => out.extend_from_slice(&[b'\\', b]),
            0..=0x1f => {
                const HEX: &[u8; 16] = b"0123456789abcdef";
                let escaped = [
                    b'\\',
                    b'u',
                    b'0',
                    b'0',
                    HEX[usize::from(b >> 4)],
                    HEX[usize::from(b & 15)],
                ];
                out.extend_from_slice(&escaped);
            }
            _ => out.push(b),
        }
    }
}

#[cfg(test)]
mod tests;
