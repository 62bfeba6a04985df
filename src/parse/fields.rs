//! Pulls the fields a record needs out of a JSON object, borrowing from the frame.
//!
//! Feeds name the same value differently (each SIEM vendor publishes its own template), may carry
//! two names for one value, and wrap the record in `{"sourcetype":…,"event":{…}}` or not. Instead of
//! a serde struct with aliases (which rejects a second alias as a duplicate field, and costs a
//! tape allocation per record), the walk goes over simd-json's tape, maps every key through
//! [`lookup`] into a slot and keeps the first value that is not absent.

use std::borrow::Cow;

use simd_json::{Buffers, Node, StaticNode, Tape};

use super::keys::{lookup, Encoding, Family, Field};
use super::{value, Reason};

/// A JSON scalar as a feed sends it. NSS sends numbers as strings ("600"), LSS as numbers.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Scalar<'a> {
    Str(&'a str),
    U64(u64),
    I64(i64),
    F64(f64),
    Bool(bool),
}

impl Scalar<'_> {
    /// True when the feed means "no value": "", "None", "NA", "N/A".
    fn is_absent(&self) -> bool {
        matches!(self, Scalar::Str(s) if value::is_absent(s))
    }
}

/// A value as found, with how its key says it is encoded.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Slot<'a> {
    pub value: Scalar<'a>,
    pub encoding: Encoding,
}

/// The fields of one record, by [`Field`].
/// Plain data, nothing to drop: it is made and discarded once per record.
#[derive(Debug, PartialEq)]
pub struct Fields<'a> {
    slots: [Option<Slot<'a>>; Field::COUNT],
    /// The envelope's `sourcetype`, when there is one.
    pub sourcetype: Option<&'a str>,
    /// How many keys of each log family were seen: a record without a sourcetype is recognised by
    /// the names it uses.
    pub zia_keys: u16,
    pub zpa_keys: u16,
}

impl Default for Fields<'_> {
    fn default() -> Self {
        Fields {
            slots: [None; Field::COUNT],
            sourcetype: None,
            zia_keys: 0,
            zpa_keys: 0,
        }
    }
}

impl<'a> Fields<'a> {
    pub fn get(&self, field: Field) -> Option<&Slot<'a>> {
        self.slots[field as usize].as_ref()
    }

    /// The field as text: present (not an absent word), trimmed, and decoded as its key says.
    /// Numbers are not text: callers that accept both use [`Fields::u64`].
    pub fn text(&self, field: Field) -> Option<Cow<'_, str>> {
        let slot = self.get(field)?;
        let Scalar::Str(s) = &slot.value else {
            return None;
        };
        let s = value::present(s)?;
        match slot.encoding {
            Encoding::Plain => Some(Cow::Borrowed(s)),
            Encoding::Percent => {
                let decoded = value::percent_decode(s);
                match decoded {
                    Cow::Borrowed(b) => Some(Cow::Borrowed(b)),
                    Cow::Owned(o) => value::present(&o).is_some().then_some(Cow::Owned(o)),
                }
            }
            Encoding::Base64 => value::base64_decode(s)
                .filter(|d| value::present(d).is_some())
                .map(Cow::Owned),
        }
    }

    /// The field as an unsigned integer, from a JSON number or a string of digits.
    pub fn u64(&self, field: Field) -> Option<u64> {
        match &self.get(field)?.value {
            Scalar::U64(n) => Some(*n),
            Scalar::I64(n) => u64::try_from(*n).ok(),
            Scalar::F64(f) if f.fract() == 0.0 && *f >= 0.0 && *f < 1.8e19 => Some(*f as u64),
            Scalar::Str(s) => value::parse_u64(s),
            _ => None,
        }
    }

    /// True when the field is there with a value that is not an absent word.
    pub fn has(&self, field: Field) -> bool {
        self.get(field).is_some_and(|s| !s.value.is_absent())
    }

    /// Counts a known key for its family and offers its value, if it has one.
    pub(super) fn note(
        &mut self,
        (field, encoding, family): (Field, Encoding, Family),
        value: Option<Scalar<'a>>,
    ) {
        match family {
            Family::Zia => self.zia_keys += 1,
            Family::Zpa => self.zpa_keys += 1,
        }
        if let Some(value) = value {
            self.offer(field, value, encoding);
        }
    }

    fn offer(&mut self, field: Field, value: Scalar<'a>, encoding: Encoding) {
        let slot = &mut self.slots[field as usize];
        // The first name that carries a value wins; a later duplicate only fills an absent one.
        if slot.as_ref().is_none_or(|s| s.value.is_absent()) {
            *slot = Some(Slot { value, encoding });
        }
    }
}

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
