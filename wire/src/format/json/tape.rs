//! The parser of record for JSON: simd-json parses a frame in place and its tape is walked into
//! [`Fields`]. Everything the fast path ([`super::flat`]) declines comes here. Nested objects are
//! read as dotted keys (`file.hash.md5`), except the few values that are documents of their own
//! (an audit's before and after), which are kept as their text in the frame as received.

use simd_json::{Buffers, Node, StaticNode, Tape};

use super::span::container_end;
use crate::fields::{Fields, Scalar};
use crate::keys::{lookup, Encoding, Field, Hit};
use crate::reason::Reason;

/// Parses a JSON object in place with simd-json into `fields`. `json` is rewritten (strings are
/// unescaped where they lie) and `fields` borrows from it. `frame` holds the bytes `json` held
/// before anything changed them (as many, at the same places): the JSON text of a value that is a
/// document of its own ([`Field::holds_json`](crate::keys::Field::holds_json)) is taken from it.
/// `tape` is simd-json's node list, kept by the caller so that parsing allocates nothing. Returns
/// where the envelope's object is on the tape, when the frame has one ([`walk_object`]).
pub fn extract<'a>(
    json: &'a mut [u8],
    frame: &'a [u8],
    buffers: &mut Buffers,
    tape: &mut Tape<'a>,
    fields: &mut Fields<'a>,
) -> Result<Extracted<'a>, Reason> {
    let base = json.as_ptr() as usize;
    simd_json::fill_tape(json, buffers, tape).map_err(|e| Reason::from_json_error(&e))?;
    match tape.0.first() {
        Some(Node::Object { len, .. }) => {
            let parsed = Parsed {
                nodes: &tape.0,
                frame,
                base,
            };
            let mut path = Path {
                bytes: [0; 128],
                len: 0,
            };
            let envelope = walk_object(&parsed, 1, *len, fields, &mut path, 0);
            Ok(Extracted {
                envelope,
                frame,
                base,
            })
        }
        // A bare string, number or array is JSON but no record.
        _ => Err(Reason::UnknownType),
    }
}

/// What [`extract`] found, for [`pairs`] to read the tape again: where the envelope's object is
/// (when the frame has one), and where the tape's strings came from, for an array's JSON text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Extracted<'a> {
    envelope: Option<usize>,
    frame: &'a [u8],
    base: usize,
}

/// Deepest nesting whose keys are looked up (as dotted paths, `file.hash.md5`).
const MAX_DEPTH: usize = 3;

/// A nested key as a dotted path, kept on the stack.
struct Path {
    bytes: [u8; 128],
    len: usize,
}

impl Path {
    /// Appends `key` and a dot; false (and nothing appended) when it does not fit.
    fn push(&mut self, key: &str) -> bool {
        let end = self.len + key.len() + 1;
        if end > self.bytes.len() {
            return false;
        }
        self.bytes[self.len..end - 1].copy_from_slice(key.as_bytes());
        self.bytes[end - 1] = b'.';
        self.len = end;
        true
    }

    /// The path of `key` under this one, when it fits.
    fn with<'p>(&'p mut self, key: &str) -> Option<&'p str> {
        let end = self.len + key.len();
        self.bytes
            .get_mut(self.len..end)?
            .copy_from_slice(key.as_bytes());
        std::str::from_utf8(&self.bytes[..end]).ok()
    }
}

/// A parsed frame, as [`walk_object`] reads it.
#[derive(Clone, Copy)]
struct Parsed<'t, 'a> {
    nodes: &'t [Node<'a>],
    /// The frame as received: simd-json has unescaped the strings of its copy, so an object's
    /// text there is no longer JSON.
    frame: &'a [u8],
    /// Where the copy simd-json parsed starts. A string parsed in place starts where its quoted
    /// text did (unescaping only shortens it), so a key's offset from here is its offset in
    /// `frame`.
    base: usize,
}

/// Visits `len` key/value pairs starting at `nodes[at]`: the top-level object (`path` empty,
/// where `event` is the envelope and `sourcetype` its type), the envelope's object, or a nested
/// object whose keys are looked up under `path`. Keys it does not know are stepped over. Returns
/// where the envelope's object is, when the top-level object has one.
fn walk_object<'a>(
    parsed: &Parsed<'_, 'a>,
    mut at: usize,
    len: usize,
    fields: &mut Fields<'a>,
    path: &mut Path,
    depth: usize,
) -> Option<usize> {
    let nodes = parsed.nodes;
    let top = depth == 0;
    // The record's own keys: the top-level object's and its envelope's.
    let own = top || depth == 1 && path.len == 0;
    // Where the envelope's `event` object is, once read: the scalar keys beside it are not the
    // record's.
    let mut envelope = None;
    // At the top, objects and arrays taken whole wait for the walk's end: before an envelope
    // they are a relay's (`"user":{"id":…}`), forgotten as its scalars are, not the record's.
    let mut wholes = Wholes::default();
    for _ in 0..len {
        let (Some(Node::String(key)), Some(value)) = (nodes.get(at), nodes.get(at + 1)) else {
            break;
        };
        let value_at = at + 1;
        at = value_at + span(value);
        if envelope.is_some() && *key != "event" && *key != "sourcetype" {
            match value {
                // A client's text that closed the envelope keeps the line JSON by opening an
                // object for the rest of what NSS wrote (`x"},"junk":{"a":"` in an agent): that
                // rest is read as the envelope's, so that a key the client wrote into the
                // envelope meets NSS's own (and a relay's object, HEC's `fields`, holds none).
                Node::Object { len, .. } => {
                    for_each_key(nodes, value_at + 1, *len, |key| {
                        fields.after_envelope(lookup(key));
                    });
                    walk_object(parsed, value_at + 1, *len, fields, path, 1);
                }
                _ => fields.after_envelope(lookup(key)),
            }
            continue;
        }
        match value {
            // The envelope: its keys are the record's own. A flat feed's `event` string is not.
            // What the keys before it said is forgotten. An object that is no envelope (a
            // second, or one after the record's keys) is set aside.
            Node::Object { len, .. } if top && *key == "event" => {
                if envelope.is_some() {
                    fields.set_aside();
                } else if fields.take_envelope() {
                    envelope = Some(value_at);
                    walk_object(parsed, value_at + 1, *len, fields, path, 1);
                }
            }
            _ if top && *key == "event" => {}
            Node::String(s) if top && *key == "sourcetype" => fields.name_sourcetype(s),
            Node::Object { .. } | Node::Array { .. } => {
                let hit = match own {
                    true => lookup(key),
                    false => path.with(key).and_then(lookup),
                };
                let json = hit.is_some_and(|hit| hit.field.holds_json());
                if let Node::Object { len, .. } = value {
                    if !json && depth < MAX_DEPTH {
                        walk_nested(parsed, key, value_at + 1, *len, fields, path, depth);
                    }
                }
                // An audit's action, or an object or array where a template writes one value:
                // its JSON text as sent, which no NSS encoding touched (not left out without a
                // trace); an empty one says no value. Not an object a key of which names the
                // same field: that is the template's nesting of it (Elastic's `rule` of
                // `rule.label`), whatever that key's value says.
                let whole =
                    hit.filter(|hit| json || !names_field(nodes, key, value_at, path, hit.field));
                if let Some(hit) = whole {
                    let empty = matches!(
                        value,
                        Node::Object { len: 0, .. } | Node::Array { len: 0, .. }
                    );
                    let text = !empty || json;
                    // An audit's action is the template's wherever it is (noted at once, as
                    // before: first of its names).
                    if !top || json || !wholes.defer(key, hit, text) {
                        wholes_note(parsed, fields, key, hit, text);
                    }
                }
            }
            _ if own => {
                if let Some(hit) = lookup(key) {
                    fields.note(hit, scalar(value));
                } else if let Node::String(s) = value {
                    super::note_product(key, s, fields);
                }
            }
            _ => {
                // Checked for repeats by the whole path: `rule.label` twice is a repeat, `label`
                // in two objects is not.
                if let Some(hit) = path.with(key).and_then(lookup) {
                    fields.note(hit, scalar(value));
                }
            }
        }
    }
    if envelope.is_none() {
        for (key, hit, text) in wholes.items() {
            wholes_note(parsed, fields, key, hit, text);
        }
    }
    envelope
}

/// Top-level keys whose object or array is taken whole, until the top-level walk ends: each
/// key, its hit and whether its JSON text is the value.
#[derive(Default)]
struct Wholes<'k>([Option<(&'k str, Hit, bool)>; 4]);

impl<'k> Wholes<'k> {
    /// Keeps one for later; false when there is no room (it is noted at once then).
    fn defer(&mut self, key: &'k str, hit: Hit, text: bool) -> bool {
        let Some(slot) = self.0.iter_mut().find(|slot| slot.is_none()) else {
            return false;
        };
        *slot = Some((key, hit, text));
        true
    }

    fn items(&self) -> impl Iterator<Item = (&'k str, Hit, bool)> + '_ {
        self.0.iter().flatten().copied()
    }
}

/// Notes a key's object or array taken whole: its JSON text, or no value.
fn wholes_note<'a>(
    parsed: &Parsed<'_, 'a>,
    fields: &mut Fields<'a>,
    key: &str,
    hit: Hit,
    text: bool,
) {
    match text {
        true => parsed.note_json_text(key, hit, fields),
        false => fields.note(hit, None),
    }
}

/// Whether a key of the object at `nodes[at]` (the value of `key`; false for an array) names
/// `field` by its path under `key`: the object is then the template's nesting of that field.
fn names_field(nodes: &[Node<'_>], key: &str, at: usize, path: &mut Path, field: Field) -> bool {
    let Some(Node::Object { len, .. }) = nodes.get(at) else {
        return false;
    };
    let outer = path.len;
    let mut names = false;
    if path.push(key) {
        for_each_key(nodes, at + 1, *len, |nested| {
            names |= path
                .with(nested)
                .and_then(lookup)
                .is_some_and(|hit| hit.field == field);
        });
    }
    path.len = outer;
    names
}

/// Visits the `len` pairs of the object at `nodes[at]`, the value of `key`, under its path.
fn walk_nested<'a>(
    parsed: &Parsed<'_, 'a>,
    key: &str,
    at: usize,
    len: usize,
    fields: &mut Fields<'a>,
    path: &mut Path,
    depth: usize,
) {
    let outer = path.len;
    if path.push(key) {
        walk_object(parsed, at, len, fields, path, depth + 1);
    }
    path.len = outer;
}

impl<'a> Parsed<'_, 'a> {
    /// Notes the JSON text of `key`'s object or array as `hit`'s value, read as it is.
    fn note_json_text(&self, key: &str, hit: Hit, fields: &mut Fields<'a>) {
        let hit = Hit {
            encoding: Encoding::Plain,
            ..hit
        };
        fields.note(hit, self.json_text(key).map(Scalar::Str));
    }

    /// The JSON text of the object or array that is the value of `key` (a key of the tape), as
    /// the frame has it. `None` when the key is not found as it was parsed: one written with
    /// escapes, which no template does.
    fn json_text(&self, key: &str) -> Option<&'a str> {
        let frame = self.frame;
        let start = (key.as_ptr() as usize).checked_sub(self.base)?;
        let end = start + key.len();
        let quoted = frame.get(start.checked_sub(1)?) == Some(&b'"')
            && frame.get(start..end) == Some(key.as_bytes())
            && frame.get(end) == Some(&b'"');
        if !quoted {
            return None;
        }
        let colon = spaces(frame, end + 1);
        if frame.get(colon) != Some(&b':') {
            return None;
        }
        let open = spaces(frame, colon + 1);
        let close = container_end(frame, open)?;
        std::str::from_utf8(&frame[open..close]).ok()
    }
}

/// Where the JSON whitespace from `at` ends.
fn spaces(json: &[u8], at: usize) -> usize {
    let skipped = json.get(at..).map_or(0, |rest| {
        rest.iter()
            .take_while(|b| matches!(b, b' ' | b'\t' | b'\n' | b'\r'))
            .count()
    });
    at + skipped
}

/// The scalar pairs of a parsed frame, as Zscaler's flat templates write them: the top-level
/// object's, or, when it has an envelope (`envelope`, where [`extract`] found it), its `event`
/// object's and then those of the objects after it, as [`walk_object`] reads them (the other
/// keys beside it are the sender's, or set aside). The top-level `sourcetype` is the envelope's
/// own. No Zscaler template nests a value that ArcSight's names ([`crate::format::arcsight`])
/// read, so an object or an array here is taken whole, its JSON text (an empty one no value),
/// where [`walk_object`] first reads an object's keys by their paths.
#[derive(Clone)]
pub struct Pairs<'t, 'a> {
    parsed: Parsed<'t, 'a>,
    /// The next key's node, and how many pairs are left in its object.
    at: usize,
    left: usize,
    /// Whether that object is the top-level one (not an envelope's `event`).
    top: bool,
    /// With an envelope: the next top-level key's node after it, and how many are left.
    after: usize,
    after_left: usize,
}

/// The pairs of the object `tape` holds (empty when it holds none), or of its envelope's.
pub fn pairs<'t, 'a>(tape: &'t Tape<'a>, extracted: Extracted<'a>) -> Pairs<'t, 'a> {
    let nodes = &tape.0;
    let envelope = extracted.envelope;
    let len_at = |at: usize| match nodes.get(at) {
        Some(Node::Object { len, .. }) => *len,
        _ => 0,
    };
    let mut pairs = Pairs {
        parsed: Parsed {
            nodes,
            frame: extracted.frame,
            base: extracted.base,
        },
        at: 1,
        left: len_at(0),
        top: true,
        after: 0,
        after_left: 0,
    };
    if let Some(envelope) = envelope {
        // Past the top-level members before the envelope's, and past it.
        let (mut at, mut left) = (1, pairs.left);
        while left > 0 {
            let value = at + 1;
            at = value + nodes.get(value).map_or(1, span);
            left -= 1;
            if value == envelope {
                break;
            }
        }
        (pairs.after, pairs.after_left) = (at, left);
        (pairs.at, pairs.left, pairs.top) = (envelope + 1, len_at(envelope), false);
    }
    pairs
}

impl<'a> Iterator for Pairs<'_, 'a> {
    type Item = (&'a str, Option<Scalar<'a>>);

    fn next(&mut self) -> Option<Self::Item> {
        loop {
            let nodes = self.parsed.nodes;
            while self.left > 0 {
                let (Some(Node::String(key)), Some(value)) =
                    (nodes.get(self.at), nodes.get(self.at + 1))
                else {
                    return None;
                };
                let key: &'a str = key;
                self.at += 1 + span(value);
                self.left -= 1;
                match value {
                    _ if self.top && matches!(key, "event" | "sourcetype") => {}
                    Node::Object { len: 0, .. } | Node::Array { len: 0, .. } => {
                        return Some((key, None));
                    }
                    Node::Object { .. } | Node::Array { .. } => {
                        return Some((key, self.parsed.json_text(key).map(Scalar::Str)));
                    }
                    _ => return Some((key, scalar(value))),
                }
            }
            // The next object after the envelope that is not a second one.
            loop {
                if self.after_left == 0 {
                    return None;
                }
                let (Some(Node::String(key)), Some(value)) =
                    (nodes.get(self.after), nodes.get(self.after + 1))
                else {
                    return None;
                };
                let value_at = self.after + 1;
                self.after = value_at + span(value);
                self.after_left -= 1;
                if let (Node::Object { len, .. }, false) = (value, *key == "event") {
                    (self.at, self.left) = (value_at + 1, *len);
                    break;
                }
            }
        }
    }
}

/// Calls `each` with the keys of the `len` pairs starting at `nodes[at]`.
fn for_each_key<'a>(nodes: &[Node<'a>], mut at: usize, len: usize, mut each: impl FnMut(&'a str)) {
    for _ in 0..len {
        let (Some(Node::String(key)), Some(value)) = (nodes.get(at), nodes.get(at + 1)) else {
            return;
        };
        each(key);
        at += 1 + span(value);
    }
}

/// Nodes a value occupies on the tape, itself included.
fn span(node: &Node<'_>) -> usize {
    match node {
        Node::Object { count, .. } | Node::Array { count, .. } => count + 1,
        _ => 1,
    }
}

/// A scalar value; `None` for null, objects and arrays (which no record field takes).
fn scalar<'a>(node: &Node<'a>) -> Option<Scalar<'a>> {
    match node {
        Node::String(s) => Some(Scalar::Str(s)),
        Node::Static(StaticNode::U64(n)) => Some(Scalar::U64(*n)),
        Node::Static(StaticNode::I64(n)) => Some(Scalar::I64(*n)),
        Node::Static(StaticNode::F64(n)) => Some(Scalar::F64(*n)),
        Node::Static(StaticNode::Bool(b)) => Some(Scalar::Bool(*b)),
        _ => None,
    }
}
