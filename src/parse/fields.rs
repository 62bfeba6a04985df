//! Pulls the fields a record needs out of a JSON object, borrowing from the frame.
//!
//! Feeds name the same value differently (each SIEM vendor publishes its own template), may carry
//! two names for one value, and wrap the record in `{"sourcetype":…,"event":{…}}` or not. Instead of
//! a serde struct with aliases (which rejects a second alias as a duplicate field), one visitor maps
//! every key through [`lookup`] into a slot and keeps the first value that is not absent. Keys it
//! does not know are skipped without being materialised.

use std::borrow::Cow;
use std::fmt;

use serde::de::{self, DeserializeSeed, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};

use super::keys::{lookup, Encoding, Family, Field};
use super::value;

/// A JSON scalar as a feed sends it. NSS sends numbers as strings ("600"), LSS as numbers.
#[derive(Debug, Clone, PartialEq)]
pub enum Scalar<'a> {
    Str(Cow<'a, str>),
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
#[derive(Debug, Clone, PartialEq)]
pub struct Slot<'a> {
    pub value: Scalar<'a>,
    pub encoding: Encoding,
}

/// The fields of one record, by [`Field`].
#[derive(Debug)]
pub struct Fields<'a> {
    slots: [Option<Slot<'a>>; Field::COUNT],
    /// The envelope's `sourcetype`, when there is one.
    pub sourcetype: Option<Cow<'a, str>>,
    /// How many keys of each log family were seen: a record without a sourcetype is recognised by
    /// the names it uses.
    pub zia_keys: u16,
    pub zpa_keys: u16,
}

impl Default for Fields<'_> {
    fn default() -> Self {
        Fields {
            slots: std::array::from_fn(|_| None),
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

    fn offer(&mut self, field: Field, value: Scalar<'a>, encoding: Encoding) {
        let slot = &mut self.slots[field as usize];
        // The first name that carries a value wins; a later duplicate only fills an absent one.
        if slot.as_ref().is_none_or(|s| s.value.is_absent()) {
            *slot = Some(Slot { value, encoding });
        }
    }
}

/// Parses a JSON object in place with simd-json into `fields`. `json` is rewritten (strings are
/// unescaped where they lie) and `fields` borrows from it.
pub fn extract<'a>(
    json: &'a mut [u8],
    buffers: &mut simd_json::Buffers,
    fields: &mut Fields<'a>,
) -> Result<(), simd_json::Error> {
    let mut de = simd_json::Deserializer::from_slice_with_buffers(json, buffers)?;
    (&mut de).deserialize_map(ObjectVisitor { fields, nested: false })?;
    Ok(())
}

/// Visits the top-level object, or (once) the envelope's `event` object, into the same fields.
struct ObjectVisitor<'f, 'a> {
    fields: &'f mut Fields<'a>,
    nested: bool,
}

impl<'de> Visitor<'de> for ObjectVisitor<'_, 'de> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a JSON object")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        while let Some(Key(key)) = map.next_key::<Key<'de>>()? {
            if !self.nested && key == "event" {
                map.next_value_seed(EventSeed { fields: self.fields })?;
            } else if !self.nested && key == "sourcetype" {
                if let Some(Scalar::Str(s)) = map.next_value_seed(ScalarSeed)? {
                    self.fields.sourcetype = Some(s);
                }
            } else if let Some((field, encoding, family)) = lookup(&key) {
                match family {
                    Family::Zia => self.fields.zia_keys += 1,
                    Family::Zpa => self.fields.zpa_keys += 1,
                }
                if let Some(value) = map.next_value_seed(ScalarSeed)? {
                    self.fields.offer(field, value, encoding);
                }
            } else {
                map.next_value::<IgnoredAny>()?;
            }
        }
        Ok(())
    }
}

/// The envelope's `event`: an object is the record; anything else (a flat feed's own `event`
/// field) is ignored.
struct EventSeed<'f, 'a> {
    fields: &'f mut Fields<'a>,
}

impl<'de> DeserializeSeed<'de> for EventSeed<'_, 'de> {
    type Value = ();
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_any(EventVisitor { fields: self.fields })
    }
}

struct EventVisitor<'f, 'a> {
    fields: &'f mut Fields<'a>,
}

impl<'de> Visitor<'de> for EventVisitor<'_, 'de> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("any JSON value")
    }
    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<(), A::Error> {
        ObjectVisitor { fields: self.fields, nested: true }.visit_map(map)
    }
    fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<(), A::Error> {
        IgnoredAny.visit_seq(seq).map(drop)
    }
    fn visit_bool<E>(self, _: bool) -> Result<(), E> {
        Ok(())
    }
    fn visit_i64<E>(self, _: i64) -> Result<(), E> {
        Ok(())
    }
    fn visit_u64<E>(self, _: u64) -> Result<(), E> {
        Ok(())
    }
    fn visit_f64<E>(self, _: f64) -> Result<(), E> {
        Ok(())
    }
    fn visit_str<E>(self, _: &str) -> Result<(), E> {
        Ok(())
    }
    fn visit_unit<E>(self) -> Result<(), E> {
        Ok(())
    }
    fn visit_none<E>(self) -> Result<(), E> {
        Ok(())
    }
}

/// A scalar value; `None` for null, objects and arrays (which no record field takes).
struct ScalarSeed;

impl<'de> DeserializeSeed<'de> for ScalarSeed {
    type Value = Option<Scalar<'de>>;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        d.deserialize_any(ScalarVisitor)
    }
}

struct ScalarVisitor;

impl<'de> Visitor<'de> for ScalarVisitor {
    type Value = Option<Scalar<'de>>;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a JSON scalar")
    }
    fn visit_borrowed_str<E>(self, s: &'de str) -> Result<Self::Value, E> {
        Ok(Some(Scalar::Str(Cow::Borrowed(s))))
    }
    fn visit_str<E>(self, s: &str) -> Result<Self::Value, E> {
        Ok(Some(Scalar::Str(Cow::Owned(s.to_owned()))))
    }
    fn visit_u64<E>(self, n: u64) -> Result<Self::Value, E> {
        Ok(Some(Scalar::U64(n)))
    }
    fn visit_i64<E>(self, n: i64) -> Result<Self::Value, E> {
        Ok(Some(Scalar::I64(n)))
    }
    fn visit_f64<E>(self, n: f64) -> Result<Self::Value, E> {
        Ok(Some(Scalar::F64(n)))
    }
    fn visit_bool<E>(self, b: bool) -> Result<Self::Value, E> {
        Ok(Some(Scalar::Bool(b)))
    }
    fn visit_unit<E>(self) -> Result<Self::Value, E> {
        Ok(None)
    }
    fn visit_none<E>(self) -> Result<Self::Value, E> {
        Ok(None)
    }
    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Self::Value, A::Error> {
        IgnoredAny.visit_map(map).map(|_| None)
    }
    fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<Self::Value, A::Error> {
        IgnoredAny.visit_seq(seq).map(|_| None)
    }
}

/// An object key, borrowed from the frame whenever the parser allows.
struct Key<'a>(Cow<'a, str>);

impl<'de> de::Deserialize<'de> for Key<'de> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct KeyVisitor;
        impl<'de> Visitor<'de> for KeyVisitor {
            type Value = Key<'de>;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("an object key")
            }
            fn visit_borrowed_str<E>(self, s: &'de str) -> Result<Key<'de>, E> {
                Ok(Key(Cow::Borrowed(s)))
            }
            fn visit_str<E>(self, s: &str) -> Result<Key<'de>, E> {
                Ok(Key(Cow::Owned(s.to_owned())))
            }
        }
        d.deserialize_str(KeyVisitor)
    }
}
