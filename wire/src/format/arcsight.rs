//! What Zscaler's ArcSight names mean, whichever format carries them: CEF frames
//! ([`super::cef::Reader::read`]) and the flat JSON of Zscaler's Sentinel Cloud NSS templates
//! ([`read_pairs`]), which write the same names with the same values (`"cs5":"…",
//! "cs5Label":"dns_req"`, `"name":"%s{rulelabel}"`). One set of rules, so that a Sentinel JSON
//! record and the same values in Zscaler's CEF template give the same fields.

use crate::fields::{Fields, Scalar};
use crate::keys::{lookup_cef, Encoding, Field, Hit, Vote};
use crate::kind::Kind;

/// Header fields by position.
pub(super) const SIGNATURE: usize = 4;
pub(super) const NAME: usize = 5;

/// What the Zscaler CEF templates of `kind` put in the header and nowhere else, and where: in the
/// firewall and DNS templates the Name is the rule (`%s{rulelabel}`), in the tunnel template the
/// Signature ID the record type (`%s{tunnelactionname}`). Noted last, so that a value of the
/// frame's own keys comes first.
pub(super) fn header_field(kind: Option<Kind>) -> Option<(Field, usize)> {
    match kind {
        Some(Kind::ZiaFirewall | Kind::ZiaDns) => Some((Field::Rule, NAME)),
        Some(Kind::ZiaTunnel) => Some((Field::RecordType, SIGNATURE)),
        _ => None,
    }
}

/// The hit of a header value: plain text, and no vote.
pub(super) fn header_hit(field: Field) -> Hit {
    Hit {
        field,
        encoding: Encoding::Plain,
        vote: Vote::None,
        key: 0,
    }
}

/// The custom fields of one frame, by slot: the first value and the first label of each.
/// Labels may come before or after their values, so they are matched once every key is seen.
pub(super) struct Custom<V> {
    values: [Option<V>; CUSTOM_SLOTS],
    labels: [Option<V>; CUSTOM_SLOTS],
    /// The slots whose value (bit `slot`) or label (bit `LABEL + slot`) came twice with two
    /// values ([`Fields::contested`] says why that matters).
    contested: u64,
}

/// Where a slot's label has its bit in [`Custom::contested`].
const LABEL: usize = 32;
const _: () = assert!(CUSTOM_SLOTS <= LABEL);

impl<V: Copy + PartialEq> Custom<V> {
    pub(super) fn new() -> Self {
        Custom {
            values: [None; CUSTOM_SLOTS],
            labels: [None; CUSTOM_SLOTS],
            contested: 0,
        }
    }

    /// Keeps the value of `key` when it is a custom field or a label (asked for only then);
    /// false for any other key.
    #[inline]
    pub(super) fn offer(&mut self, key: &str, value: impl FnOnce() -> V) -> bool {
        let Some((slot, label)) = custom_slot(key) else {
            return false;
        };
        let (to, bit) = match label {
            true => (&mut self.labels[slot], LABEL + slot),
            false => (&mut self.values[slot], slot),
        };
        match to {
            Some(old) => {
                if *old != value() {
                    self.contested |= 1 << bit;
                }
            }
            None => *to = Some(value()),
        }
        true
    }

    /// Notes each labelled value with `note`, under the hit of the name its label gives (so a
    /// client's `flexString1=CEO-PC flexString1Label=devicehostname` and NSS's
    /// `devicehostname=JDOE-PC` are two values of one key). A value that came twice with two
    /// values leaves its field contested; so does a label that did (the field its first names:
    /// which of the two is NSS's, the frame does not say).
    pub(super) fn note_into<'a>(
        self,
        fields: &mut Fields<'a>,
        text: impl Fn(V) -> Option<&'a str>,
        lookup: impl Fn(&str) -> Option<Hit>,
        mut note: impl FnMut(&mut Fields<'a>, Hit, V),
    ) {
        for slot in 0..CUSTOM_SLOTS {
            let (Some(value), Some(label)) = (self.values[slot], self.labels[slot]) else {
                continue;
            };
            let Some(hit) = text(label).and_then(&lookup) else {
                continue;
            };
            match self.contested & (1 << slot | 1 << (LABEL + slot)) {
                0 => note(fields, hit, value),
                _ => fields.contest(hit.field),
            }
        }
    }
}

/// Reads the pairs of a JSON frame whose Zscaler `product` names `kind` as
/// [`super::cef::Reader::read`] reads a CEF frame of that product: custom fields by their labels
/// first, then the other keys as that type's template means them ([`lookup_cef`]), then what CEF's
/// header would hold (`name`, `deviceEventClassId`: the JSON templates write the header's values
/// under these keys). `pairs` is walked twice (custom fields, then the rest); nulls count as
/// absent.
pub(super) fn read_pairs<'a, P>(kind: Kind, pairs: P, fields: &mut Fields<'a>)
where
    P: Iterator<Item = (&'a str, Option<Scalar<'a>>)> + Clone,
{
    let lookup = |key: &str| lookup_cef(Some(kind), key);
    let mut custom = Custom::new();
    for (key, value) in pairs.clone() {
        custom.offer(key, || value);
    }
    let text = |value: Option<Scalar<'a>>| match value {
        Some(Scalar::Str(s)) => Some(s),
        _ => None,
    };
    custom.note_into(fields, text, lookup, |fields, hit, value| {
        fields.note(hit, value)
    });
    let header = header_field(Some(kind));
    let mut from_header = None;
    // A tunnel record's `name`: its first present value, and whether another differs (a key
    // written twice with two values contests its field, as everywhere).
    let mut tunnel_name = None;
    let mut tunnel_names_differ = false;
    for (key, value) in pairs {
        if custom_slot(key).is_some() {
            continue;
        }
        if kind == Kind::ZiaTunnel && key == "name" {
            match (tunnel_name, value) {
                (_, None) => {}
                (_, Some(v)) if v.is_absent() => {}
                (None, Some(v)) => tunnel_name = Some(v),
                (Some(first), Some(v)) => tunnel_names_differ |= first != v,
            }
            continue;
        }
        if let Some((_, at)) = header {
            if from_header.is_none() && key == header_key(at) {
                from_header = Some(value);
            }
        }
        if let Some(hit) = lookup(key) {
            fields.note(hit, value);
        }
    }
    if let (Some((field, _)), Some(value)) = (header, from_header) {
        fields.note(header_hit(field), value);
    }
    if let Some(value) = tunnel_name {
        match tunnel_name_field(fields) {
            Some(field) if tunnel_names_differ => fields.contest(field),
            Some(field) => fields.note(header_hit(field), Some(value)),
            None => {}
        }
    }
}

/// What the `name` of a Sentinel tunnel JSON record holds: the CEF header's Name, which each
/// record type's template fills with another variable (`%s{destvip}` in IKE Phase 1,
/// `%s{tunnelprotocol}` in Phase 2, `%s{event}` in Tunnel Events, `%s{tunneltype}` in Tunnel
/// Samples). Told by the record type (`IPSec Phase2`, `WL_TUNNEL_EVENT`: both spellings are
/// seen) or by the event's reason beside it; `None` for Phase 1 and Samples, whose templates
/// write that value under its own key too, and for a type not told, rather than an event made up.
fn tunnel_name_field(fields: &Fields<'_>) -> Option<Field> {
    let kind = fields.text(Field::RecordType).unwrap_or_default();
    // Letters and digits only, lower case: `IPSec Phase2` and `WL_TUNNEL_IPSECPHASE2` alike.
    let mut squeezed = [0u8; 48];
    let mut len = 0;
    for b in kind
        .bytes()
        .filter(u8::is_ascii_alphanumeric)
        .take(squeezed.len())
    {
        squeezed[len] = b.to_ascii_lowercase();
        len += 1;
    }
    let holds = |word: &[u8]| squeezed[..len].windows(word.len()).any(|w| w == word);
    if holds(b"event") || fields.has(Field::EventReason) {
        Some(Field::TunnelEvent)
    } else if holds(b"phase2") {
        Some(Field::TunnelProtocol)
    } else {
        None
    }
}

/// The key under which the JSON templates write a header field's value.
fn header_key(at: usize) -> &'static str {
    match at {
        SIGNATURE => "deviceEventClassId",
        _ => "name",
    }
}

/// CEF's custom fields that a `…Label` key names, as slots: `cs1`–`cs6`, `cn1`–`cn3`,
/// `cfp1`–`cfp4`, `c6a1`–`c6a4`, `flexString1`–`2`, `flexNumber1`–`2`, `flexDate1`,
/// `deviceCustomDate1`–`2`.
const CUSTOM_SLOTS: usize = 24;

/// The slot of a custom field's key (`cs3` or `cs3Label`; Zscaler's firewall template writes
/// `cs6label`), and whether it is the label. Every key of a frame is asked, so the prefix is
/// told by its first bytes.
#[inline]
pub(super) fn custom_slot(key: &str) -> Option<(usize, bool)> {
    let key = key.as_bytes();
    // The prefix's length, the slot of its first field and how many fields it has.
    let (len, base, count) = match key {
        [b'c', b's', ..] => (2, 0, 6),
        [b'c', b'n', ..] => (2, 6, 3),
        [b'c', b'f', b'p', ..] => (3, 9, 4),
        [b'c', b'6', b'a', ..] => (3, 13, 4),
        [b'f', b'l', b'e', b'x', rest @ ..] => {
            if rest.starts_with(b"String") {
                (10, 17, 2)
            } else if rest.starts_with(b"Number") {
                (10, 19, 2)
            } else if rest.starts_with(b"Date") {
                (8, 21, 1)
            } else {
                return None;
            }
        }
        [b'd', b'e', b'v', b'i', b'c', b'e', b'C', ..] if key.starts_with(b"deviceCustomDate") => {
            (16, 22, 2)
        }
        _ => return None,
    };
    let (&digit, tail) = key[len..].split_first()?;
    let n = digit.wrapping_sub(b'1');
    if n >= count {
        return None;
    }
    let slot = base + usize::from(n);
    match tail {
        b"" => Some((slot, false)),
        b"Label" | b"label" => Some((slot, true)),
        _ => None,
    }
}
