//! The values a record is built from, by [`Field`], borrowed from the frame.
//!
//! Feeds name the same value differently (each SIEM vendor publishes its own template), may carry
//! two names for one value, and wrap the record in `{"sourcetype":…,"event":{…}}` or not. Instead of
//! a serde struct with aliases (which rejects a second alias as a duplicate field, and costs a
//! tape allocation per record), a format's reader maps every key through
//! [`lookup`](crate::keys::lookup) into a slot, and the first value that is not absent wins.

use std::borrow::Cow;

use crate::keys::{Encoding, Family, Field};
use crate::value;

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
    pub fn text(&self, field: Field) -> Option<Cow<'a, str>> {
        let slot = self.get(field)?;
        let Scalar::Str(s) = slot.value else {
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
    pub(crate) fn note(
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
