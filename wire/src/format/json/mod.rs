//! JSON frames: the fast path ([`flat`]) for the plain objects feeds nearly always send, simd-json
//! ([`tape`]) for everything else, on a copy that [`sanitize`] has made safe for it (and [`bare`]
//! readable, where an audit's before and after came with their quotes bare).
//!
//! Zscaler's Sentinel Cloud NSS templates write flat JSON under ArcSight's CEF names, which mean
//! different NSS variables in different log types (`cat` is the URL category of a web record,
//! the interface of an audit one) and name custom fields by labels (`"cs5Label":"dns_req"`). A
//! frame whose `product` names a Zscaler log type is therefore read again, from simd-json's
//! tape, by the CEF rules of that type ([`crate::format::arcsight::read_pairs`]). Frames
//! without one are read once, as before.

mod bare;
pub mod flat;
pub mod raw;
pub mod sanitize;
mod scan;
pub mod span;
pub mod tape;

use crate::fields::{decides, Fields, Scalar};
use crate::keys::Field;
use crate::kind::{sourcetype_kinds, Kind};
use crate::reason::Reason;

/// Notes the log type a key of no field names, when it is Zscaler's `product` (Sentinel's JSON
/// templates, after CEF's DeviceProduct); the first one named wins, and one that names another
/// type after it is a repeat ([`Fields::repeated`]).
#[inline]
fn note_product(key: &str, value: &str, fields: &mut Fields<'_>) {
    if matches!(key, "product" | "DeviceProduct") {
        match (fields.product, crate::kind::product_kind(value)) {
            (None, kind) => fields.product = kind,
            (Some(old), Some(new)) if old != new => fields.set_repeated(),
            _ => {}
        }
    }
}

/// A Zscaler sourcetype (which decides the type) and a product that name two log types: one of
/// them is a client's (an agent `x","product":"NSSFWlog` in a web template that names no
/// product), and the product would win.
fn contradicts(sourcetype: Option<&str>, product: Kind) -> bool {
    let sourcetype = sourcetype.map(crate::value::trim).filter(|s| decides(s));
    sourcetype.is_some_and(|s| !sourcetype_kinds(s).contains(&product))
}

/// A shard's JSON reader: simd-json's scratch space and the fast path's, kept between frames so
/// that reading allocates nothing.
pub struct Reader {
    /// simd-json's scratch space.
    buffers: simd_json::Buffers,
    /// simd-json's node list, emptied and reused for every frame (`None` only while in use).
    tape: Option<simd_json::Tape<'static>>,
    /// The fast path's.
    flat: flat::Scratch,
    /// The copy of a frame that simd-json parses: it unescapes strings in place, and the frame
    /// itself must stay as received for its dead letter and for the JSON text of objects that
    /// records keep (an audit's before and after).
    scratch: Vec<u8>,
    /// A frame whose audit before and after came with bare quotes, with them escaped
    /// ([`bare`]): read in the frame's place.
    escaped: Vec<u8>,
    /// A refused frame whose values NSS wrote as they are, escaped ([`raw`]), and its copy
    /// for simd-json: read in the frame's place when the frame itself was refused.
    raw: Vec<u8>,
    raw_scratch: Vec<u8>,
}

impl Default for Reader {
    fn default() -> Self {
        Reader {
            buffers: simd_json::Buffers::new(4096),
            tape: Some(simd_json::Tape::null().reset()),
            flat: flat::Scratch::default(),
            scratch: Vec::new(),
            escaped: Vec::new(),
            raw: Vec::new(),
            raw_scratch: Vec::new(),
        }
    }
}

impl Reader {
    /// Reads the JSON object that `json` holds (it starts at its `{`) into `fields`, and says
    /// whether its values are plain text (the fast path read it).
    pub fn read<'a>(&'a mut self, json: &'a [u8], fields: &mut Fields<'a>) -> Result<bool, Reason> {
        let plain = flat::extract(json, &mut self.flat, fields);
        if plain && fields.product.is_none() {
            return Ok(true);
        }
        // A frame the fast path read stays plain when read again: its values are the same.
        fields.clear();
        let json = if !plain && bare::escape(json, &mut self.escaped) {
            &self.escaped[..]
        } else {
            json
        };
        self.scratch.clear();
        self.scratch.extend_from_slice(json);
        let mut lone = sanitize::sanitize(&mut self.scratch).is_err();
        let mut tape = self
            .tape
            .take()
            .map_or_else(|| simd_json::Tape::null().reset(), |t| t.reset());
        let mut parsed = tape::extract(
            &mut self.scratch,
            json,
            &mut self.buffers,
            &mut tape,
            fields,
        );
        if parsed == Err(Reason::MalformedJson) && raw::escape(json, &mut self.raw) {
            // Refused as sent: read again with the values' quotes and backslashes as their
            // text (the first reading filled no field: simd-json refuses before the walk).
            let json = &self.raw[..];
            self.raw_scratch.clear();
            self.raw_scratch.extend_from_slice(json);
            lone = sanitize::sanitize(&mut self.raw_scratch).is_err();
            fields.clear();
            tape = tape.reset();
            parsed = tape::extract(
                &mut self.raw_scratch,
                json,
                &mut self.buffers,
                &mut tape,
                fields,
            );
        }
        if let (Ok(extracted), Some(kind)) = (&parsed, fields.product) {
            // What the first reading made of ArcSight's names was a guess; the product says.
            // What it found repeated stays marked, as does a product its sourcetype contradicts,
            // and what it set aside (the pairs read again are only the record's own).
            let sourcetype = fields.sourcetype;
            let repeated = fields.repeated() || contradicts(sourcetype, kind);
            let set_aside = fields.contested();
            fields.clear();
            if repeated {
                fields.set_repeated();
            }
            if set_aside {
                fields.set_aside();
            }
            fields.product = Some(kind);
            fields.set_sourcetype(sourcetype);
            crate::format::arcsight::read_pairs(kind, tape::pairs(&tape, *extracted), fields);
        }
        // The fields borrow from the scratch copy and the frame, not from the tape: it can go
        // back at once.
        self.tape = Some(tape.reset());
        parsed?;
        if lone && replaced_in_a_name(fields) {
            // Read as JSON, a name held a lone surrogate escape: no character (`sanitize`).
            return Err(Reason::InvalidUtf8);
        }
        Ok(plain)
    }
}

/// Whether a field that names a device or its user holds U+FFFD, when `sanitize` put one for a
/// lone surrogate somewhere in the frame: there, two names that differ only in it (`\ud800`,
/// `\udbff`) would be one device or user. Elsewhere (an agent, a reason) the replacement stays,
/// and the record with it.
fn replaced_in_a_name(fields: &Fields<'_>) -> bool {
    const NAMES: [Field; 5] = [
        Field::DeviceHostname,
        Field::SourceHost,
        Field::Login,
        Field::Hostname,
        Field::Username,
    ];
    NAMES.iter().any(|&name| {
        fields
            .get(name)
            .is_some_and(|slot| matches!(slot.value, Scalar::Str(s) if s.contains('\u{fffd}')))
    })
}

#[cfg(test)]
mod tests;
