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
            walk_object(&tape.0, 1, *len, fields, false);
            Ok(())
        }
        // A bare string, number or array is JSON but no record.
        _ => Err(Reason::UnknownType),
    }
}

/// Visits `len` key/value pairs starting at `nodes[at]`: the top-level object, or (once) the
/// envelope's `event` object, into the same fields. Keys it does not know are stepped over.
fn walk_object<'a>(
    nodes: &[Node<'a>],
    mut at: usize,
    len: usize,
    fields: &mut Fields<'a>,
    nested: bool,
) {
    for _ in 0..len {
        let (Some(Node::String(key)), Some(value)) = (nodes.get(at), nodes.get(at + 1)) else {
            return;
        };
        let value_at = at + 1;
        at = value_at + span(value);
        if !nested && *key == "event" {
            // A flat feed's own `event` field is a string and is ignored.
            if let Node::Object { len, .. } = value {
                walk_object(nodes, value_at + 1, *len, fields, true);
            }
        } else if !nested && *key == "sourcetype" {
            if let Node::String(s) = value {
                fields.sourcetype = Some(s);
            }
        } else if let Some(hit) = lookup(key) {
            fields.note(hit, scalar(value));
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
