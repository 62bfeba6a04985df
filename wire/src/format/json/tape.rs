//! The parser of record for JSON: simd-json parses a frame in place and its tape is walked into
//! [`Fields`]. Everything the fast path ([`super::flat`]) declines comes here.

use simd_json::{Buffers, Node, StaticNode, Tape};

use crate::fields::{Fields, Scalar};
use crate::keys::lookup;
use crate::reason::Reason;

/// Parses a JSON object in place with simd-json into `fields`. `json` is rewritten (strings are
/// unescaped where they lie) and `fields` borrows from it. `tape` is simd-json's node list, kept
/// by the caller so that parsing allocates nothing.
pub fn extract<'a>(
    json: &'a mut [u8],
    buffers: &mut Buffers,
    tape: &mut Tape<'a>,
    fields: &mut Fields<'a>,
) -> Result<(), Reason> {
    simd_json::fill_tape(json, buffers, tape).map_err(|e| Reason::from_json_error(&e))?;
    match tape.0.first() {
        Some(Node::Object { len, .. }) => {
            let mut path = Path {
                bytes: [0; 128],
                len: 0,
            };
            walk_object(&tape.0, 1, *len, fields, &mut path, 0);
            Ok(())
        }
        // A bare string, number or array is JSON but no record.
        _ => Err(Reason::UnknownType),
    }
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

/// Visits `len` key/value pairs starting at `nodes[at]`: the top-level object (`path` empty,
/// where `event` is the envelope and `sourcetype` its type), the envelope's object, or a nested
/// object whose keys are looked up under `path`. Keys it does not know are stepped over.
fn walk_object<'a>(
    nodes: &[Node<'a>],
    mut at: usize,
    len: usize,
    fields: &mut Fields<'a>,
    path: &mut Path,
    depth: usize,
) {
    let top = depth == 0;
    for _ in 0..len {
        let (Some(Node::String(key)), Some(value)) = (nodes.get(at), nodes.get(at + 1)) else {
            return;
        };
        let value_at = at + 1;
        at = value_at + span(value);
        match value {
            // The envelope: its keys are the record's own. A flat feed's `event` string is not.
            Node::Object { len, .. } if top && *key == "event" => {
                walk_object(nodes, value_at + 1, *len, fields, path, 1);
            }
            _ if top && *key == "event" => {}
            Node::String(s) if top && *key == "sourcetype" => fields.sourcetype = Some(s),
            Node::Object { len, .. } if depth < MAX_DEPTH => {
                let outer = path.len;
                if path.push(key) {
                    walk_object(nodes, value_at + 1, *len, fields, path, depth + 1);
                }
                path.len = outer;
            }
            _ if top || depth == 1 && path.len == 0 => {
                if let Some(hit) = lookup(key) {
                    fields.note(hit, scalar(value));
                } else if let Node::String(s) = value {
                    super::note_product(key, s, fields);
                }
            }
            _ => {
                if let Some(hit) = path.with(key).and_then(lookup) {
                    fields.note(hit, scalar(value));
                }
            }
        }
    }
}

/// The scalar pairs of a parsed frame, as Zscaler's flat templates write them: the top-level
/// object's, and those of its envelope's `event` in their place (the top-level `sourcetype` and
/// `event` are the envelope's own). Nested objects and arrays are passed over: no Zscaler
/// template nests a value that ArcSight's names ([`crate::format::cef::rules`]) read.
#[derive(Clone)]
pub struct Pairs<'t, 'a> {
    nodes: &'t [Node<'a>],
    /// The next key's node, and how many pairs are left in its object.
    at: usize,
    left: usize,
    /// Where the top-level object goes on while the envelope is walked.
    outer: Option<(usize, usize)>,
}

/// The pairs of the object `tape` holds (empty when it holds none).
pub fn pairs<'t, 'a>(tape: &'t Tape<'a>) -> Pairs<'t, 'a> {
    let left = match tape.0.first() {
        Some(Node::Object { len, .. }) => *len,
        _ => 0,
    };
    Pairs {
        nodes: &tape.0,
        at: 1,
        left,
        outer: None,
    }
}

impl<'a> Iterator for Pairs<'_, 'a> {
    type Item = (&'a str, Option<Scalar<'a>>);

    fn next(&mut self) -> Option<Self::Item> {
        loop {
            if self.left == 0 {
                (self.at, self.left) = self.outer.take()?;
                continue;
            }
            let (Some(Node::String(key)), Some(value)) =
                (self.nodes.get(self.at), self.nodes.get(self.at + 1))
            else {
                return None;
            };
            let key: &'a str = key;
            let top = self.outer.is_none();
            let value_at = self.at + 1;
            self.at = value_at + span(value);
            self.left -= 1;
            match value {
                Node::Object { len, .. } if top && key == "event" => {
                    self.outer = Some((self.at, self.left));
                    (self.at, self.left) = (value_at + 1, *len);
                }
                _ if top && matches!(key, "event" | "sourcetype") => {}
                Node::Object { .. } | Node::Array { .. } => {}
                _ => return Some((key, scalar(value))),
            }
        }
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
