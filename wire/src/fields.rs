//! The values a record is built from, by [`Field`], borrowed from the frame.
//!
//! Feeds name the same value differently (each SIEM vendor publishes its own template), may carry
//! two names for one value, and wrap the record in `{"sourcetype":…,"event":{…}}` or not. Instead of
//! a serde struct with aliases (which rejects a second alias as a duplicate field, and costs a
//! tape allocation per record), a format's reader maps every key through
//! [`lookup`](crate::keys::lookup) into a slot, and the first value that is not absent wins. One
//! key that comes again with another value is no second name but text a client wrote: its field
//! is left empty ([`Fields::contested`]).

use std::borrow::Cow;
use std::mem::MaybeUninit;

use crate::keys::{Encoding, Field, Hit, Vote};
use crate::kind::Kind;
use crate::value::{self, Text};

/// 2^53: below it a double holds every integer, so a whole one is the integer its text said;
/// from it on, doubles are spaced 2 and more apart, and a text's integer may be rounded to
/// another. (A fraction past a double's 17 digits, `0.99999999999999999`, still reads as 1.)
const EXACT_IN_A_DOUBLE: f64 = 9_007_199_254_740_992.0;

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
    pub(crate) fn is_absent(&self) -> bool {
        matches!(self, Scalar::Str(s) if value::is_absent(s))
    }
}

/// A value as found, with how its key says it is encoded.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Slot<'a> {
    pub value: Scalar<'a>,
    pub encoding: Encoding,
    /// The [`Hit::key`] it was written under (in the padding: the slot stays 32 bytes).
    key: u32,
}

// A record writes a slot per value it reads: the key's number must not make them larger.
const _: () = assert!(std::mem::size_of::<Slot<'static>>() == 32);

/// The key number of a contested slot ([`Fields::contested`]): one no key table gives.
const CONTESTED: u32 = u32::MAX;

/// What the keys beside an envelope may fill: Splunk HEC's `time` and `host`, and votes.
const RELAYED: [Field; 3] = [Field::Time, Field::Host, Field::Other];

/// Words of the set of filled slots.
const WORDS: usize = Field::COUNT.div_ceil(64);

/// The fields of one record, by [`Field`]. Plain data, nothing to drop: it is made and discarded
/// once per record, so making one writes only the set of filled slots (a few words), not the
/// slots themselves (a hundred and more).
pub struct Fields<'a> {
    /// Which slots hold a value: bit `f % 64` of word `f / 64`.
    set: [u64; WORDS],
    /// Only the slots in `set` are initialised.
    slots: [MaybeUninit<Slot<'a>>; Field::COUNT],
    /// The envelope's `sourcetype`, when there is one. Set with [`Fields::set_sourcetype`].
    pub sourcetype: Option<&'a str>,
    /// The sourcetype is Zscaler's and decides the type, so the keys' votes are not counted
    /// (counting them cost 3 % of the shard path).
    typed: bool,
    /// The log type that a JSON frame's Zscaler `product` (or `DeviceProduct`) names. It wins
    /// over `sourcetype`: Zscaler's Sentinel templates name web `zscalernss` and DNS
    /// `zscaler-nss-fw`, but each type's product is its own (`NSSWeblog`, `NSSDNSlog`, …).
    pub product: Option<Kind>,
    /// What the keys seen said about the log type: a record without a sourcetype is recognised
    /// by the names it uses.
    pub votes: Votes,
    /// The frame's sourcetype or product is in doubt ([`Fields::repeated`]).
    repeated: bool,
    /// A field was left empty for two values of one key, or keys were set aside
    /// ([`Fields::contested`]).
    contested: bool,
}

/// Votes of the keys of one record ([`Vote`]).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Votes {
    /// Keys of one log type only, by [`Kind`].
    pub kinds: [u8; Kind::COUNT],
    /// Keys of the ZIA (NSS) family, those of one type included.
    pub zia: u16,
    /// Keys of the ZPA (LSS) family, those of one type included.
    pub zpa: u16,
    /// Keys of a log type ztel has no record for ([`Vote::Unmapped`]).
    pub unmapped: u8,
}

impl Default for Fields<'_> {
    fn default() -> Self {
        Fields {
            set: [0; WORDS],
            slots: [const { MaybeUninit::uninit() }; Field::COUNT],
            sourcetype: None,
            typed: false,
            product: None,
            votes: Votes::default(),
            repeated: false,
            contested: false,
        }
    }
}

impl std::fmt::Debug for Fields<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mut list = f.debug_map();
        for i in 0..Field::COUNT {
            if let Some(slot) = self.slot(i) {
                list.entry(&i, slot);
            }
        }
        list.entry(&"sourcetype", &self.sourcetype);
        list.entry(&"product", &self.product);
        list.entry(&"votes", &self.votes);
        list.entry(&"repeated", &self.repeated);
        list.entry(&"contested", &self.contested);
        list.finish()
    }
}

/// A number or a boolean as text: an integer as its digits, any other number as the shortest
/// text of its double (`1E5` is `100000.0`; JSON has no infinities), `true` and `false` as
/// themselves. Allocates: only for a template that wrote a text field unquoted.
fn scalar_text(value: Scalar<'_>) -> Option<String> {
    match value {
        Scalar::U64(n) => Some(itoa::Buffer::new().format(n).to_owned()),
        Scalar::I64(n) => Some(itoa::Buffer::new().format(n).to_owned()),
        Scalar::F64(x) if x.is_finite() => Some(ryu::Buffer::new().format_finite(x).to_owned()),
        Scalar::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

/// A value decoded into a caller's buffer, borrowed, unless decoding gave it what JSON escapes
/// (`%22`, `%5C`, `%0A`: `special`): the record writer copies a borrowed value of a frame
/// without escapes as it is, so such a value goes as an owned one, which it escapes (rare: a
/// hostile or broken feed's).
fn decoded_in((decoded, special): (&str, bool)) -> Cow<'_, str> {
    if special {
        Cow::Owned(decoded.to_owned())
    } else {
        Cow::Borrowed(decoded)
    }
}

/// Room for the decoded values of one frame's event that the collector needs decoded, not only
/// written ([`Fields::text_in`]): kept by the decoder from frame to frame.
#[derive(Debug, Default)]
pub struct Scratch {
    pub hostname: String,
    pub user: String,
    /// Lower-cased values ([`crate::event::lower_in`]).
    pub action: String,
    pub service: String,
}

/// Whether a sourcetype is Zscaler's (`zscalernss-*`), which names the log type; a relay's own
/// (a Splunk forwarder's `_json`, Splunk's `zscalerlss-zpa-app`) leaves it to the keys.
pub(crate) fn decides(sourcetype: &str) -> bool {
    value::trim(sourcetype).starts_with("zscalernss-")
}

impl<'a> Fields<'a> {
    /// Empties it for another reading, writing only the set of filled slots (the slots are a few
    /// KiB: a fresh `Fields` assigned over this one could copy them all).
    pub fn clear(&mut self) {
        self.set = [0; WORDS];
        self.sourcetype = None;
        self.typed = false;
        self.product = None;
        self.votes = Votes::default();
        self.repeated = false;
        self.contested = false;
    }

    /// Sets the envelope's sourcetype. Only Zscaler's (`zscalernss-*`) decide the log type; under
    /// a relay's own (a Splunk forwarder's `_json`, Splunk's `zscalerlss-zpa-app`) the keys'
    /// votes still do, so they go on being counted.
    pub(crate) fn set_sourcetype(&mut self, sourcetype: Option<&'a str>) {
        self.sourcetype = sourcetype;
        self.typed = sourcetype.is_some_and(decides);
    }

    /// Sets the sourcetype a frame's own `sourcetype` key names; a second one that names another
    /// is a repeat ([`Fields::repeated`]): it would choose the record's log type.
    pub(crate) fn name_sourcetype(&mut self, sourcetype: &'a str) {
        self.repeated |= self.sourcetype.is_some_and(|old| old != sourcetype);
        self.set_sourcetype(Some(sourcetype));
    }

    /// Whether the sourcetype is Zscaler's, and so decides the log type.
    pub(crate) fn sourcetype_decides(&self) -> bool {
        self.typed
    }

    /// Whether the first top-level `event` object of a frame is its envelope, whose keys are the
    /// record's: only a relay's keys came before it. Splunk HEC's `time` and `host` fill
    /// [`Field::Time`] and [`Field::Host`], and what they said is forgotten (they describe the
    /// sender, not the record); the `sourcetype` stays.
    ///
    /// Any other field filled there means the object came after the record's own keys, as text a
    /// client wrote into a template without an envelope does
    /// (`x","event":{"devicehostname":"ceo-pc"},"z":"` in an agent): the reader sets it aside
    /// (false), and the frame is [`Fields::contested`]. So does a second `event` object
    /// ([`Fields::set_aside`]).
    pub(crate) fn take_envelope(&mut self) -> bool {
        let mut own = self.set;
        for field in RELAYED {
            let i = field as usize;
            own[i / 64] &= !(1 << (i % 64));
        }
        if own.iter().any(|&w| w != 0) {
            self.contested = true;
            return false;
        }
        self.set = [0; WORDS];
        self.product = None;
        self.votes = Votes::default();
        true
    }

    /// Notes a top-level key after the envelope, which the reader passes over: one that would
    /// fill a field other than a relay's is the record's, which only a client's text closing
    /// the envelope puts there (`x"},"devicehostname":"ceo-pc","z":{"a":"`), so the frame is
    /// [`Fields::contested`].
    pub(crate) fn after_envelope(&mut self, hit: Option<Hit>) {
        if hit.is_some_and(|hit| !RELAYED.contains(&hit.field)) {
            self.contested = true;
        }
    }

    /// Notes what a reader set aside as a client's (a second envelope), or what the first
    /// reading of a frame read again did.
    pub(crate) fn set_aside(&mut self) {
        self.contested = true;
    }

    /// Whether the frame's log type is in doubt: its `sourcetype` or `product` named another log
    /// type than one before it. Text a client wrote can do that ([`Fields::contested`] says
    /// how); unlike a contested field, this leaves no record to build without a guess, and the
    /// frame is a dead letter.
    pub fn repeated(&self) -> bool {
        self.repeated
    }

    /// Marks the record as [`Fields::repeated`], where a reader finds it itself: a product or
    /// sourcetype key of its own, and a JSON frame read again that the first reading found so.
    pub(crate) fn set_repeated(&mut self) {
        self.repeated = true;
    }

    /// Whether one of the record's own keys came twice with two values, and its field was left
    /// empty; or the reader set keys aside that only a client's text puts where they were (an
    /// envelope after the record's keys, a second one, record keys after it).
    ///
    /// NSS writes each key of a template once, and writes what a client sent (`%s{ua}`,
    /// `%s{url}`, `%s{referer}`) as it is: an agent `x","devicehostname":"ceo-pc` in JSON, or
    /// `x<TAB>devicehostname=ceo-pc` in key=value and LEEF, reads as a pair of its own. Which of
    /// two `devicehostname`s is NSS's depends on where the template puts the agent, which the
    /// frame does not say, so the decoder takes neither, and no other name fills the field
    /// later. The rest of the record stands: a client must not be able to take its own
    /// connections out of the records. The same value twice says nothing new (Zscaler's
    /// Sentinel DNS template writes `cat` twice), and two names for one field (`sip` and
    /// `serverip`) are a template's choice (DESIGN §3).
    pub fn contested(&self) -> bool {
        self.contested
    }

    /// Leaves `field` empty for good, as two values of one key leave it (CEF's custom keys,
    /// which a reader matches to their fields itself).
    #[cold]
    pub(crate) fn contest(&mut self, field: Field) {
        if field == Field::Other {
            return;
        }
        let i = field as usize;
        self.slots[i].write(Slot {
            value: Scalar::Str(""),
            encoding: Encoding::Plain,
            key: CONTESTED,
        });
        self.set[i / 64] |= 1 << (i % 64);
        self.contested = true;
    }

    /// Whether `field` was left empty for two values of one key ([`Fields::contested`]): a
    /// record must not fill it from another field either.
    #[inline]
    pub fn is_contested(&self, field: Field) -> bool {
        // Asked of every ZIA record: the frame's mark first, which is nearly always clear.
        self.contested && self.get(field).is_some_and(|slot| slot.key == CONTESTED)
    }

    pub fn get(&self, field: Field) -> Option<&Slot<'a>> {
        self.slot(field as usize)
    }

    fn slot(&self, i: usize) -> Option<&Slot<'a>> {
        if self.set[i / 64] & (1 << (i % 64)) == 0 {
            return None;
        }
        // SAFETY: a slot's bit is set only once the slot is written (`offer`).
        Some(unsafe { self.slots[i].assume_init_ref() })
    }

    /// The field as text: present (not an absent word), trimmed, and decoded as its key says. A
    /// number or a boolean is its text ([`scalar_text`]): a template may write any field
    /// unquoted (`%d{login}`), and a value the feed sent must not vanish for its quotes.
    pub fn text(&self, field: Field) -> Option<Cow<'a, str>> {
        self.text_with(field, None)
    }

    /// The field as an address is written in a record ([`crate::device::record_ip`]).
    pub fn ip(&self, field: Field) -> Option<Cow<'a, str>> {
        self.text(field).map(crate::device::record_ip)
    }

    /// Like [`text`](Self::text), decoding a percent-encoded value into `buf`, which the caller
    /// keeps from frame to frame ([`Scratch`]): for the values the collector needs decoded, not
    /// only written (a device's user and hostname), on every record of the feeds that send them
    /// encoded.
    pub fn text_in(&self, field: Field, buf: &'a mut String) -> Option<Cow<'a, str>> {
        self.text_with(field, Some(buf))
    }

    fn text_with(&self, field: Field, buf: Option<&'a mut String>) -> Option<Cow<'a, str>> {
        let slot = self.get(field)?;
        let s = match slot.value {
            Scalar::Str(s) => value::present(s)?,
            other => return scalar_text(other).map(Cow::Owned),
        };
        match slot.encoding {
            Encoding::Plain => Some(Cow::Borrowed(s)),
            Encoding::Percent | Encoding::PercentAll => {
                let escapes = slot.encoding.escapes();
                let decoded = match buf {
                    Some(buf) => decoded_in(value::percent_decode_into(s, escapes, buf)),
                    None => value::percent_decode_with(s, escapes),
                };
                // What decoding changed may have become an absent word or blanks.
                let changed = !std::ptr::eq(decoded.as_ptr(), s.as_ptr());
                (!changed || value::present(&decoded).is_some()).then_some(decoded)
            }
            Encoding::Base64 => value::base64_decode(s)
                .filter(|d| value::present(d).is_some())
                .map(Cow::Owned),
        }
    }

    /// Like [`text`](Self::text), for a value the record only copies: an NSS-percent-encoded one
    /// stays encoded, and the record writer decodes it as it writes it.
    pub fn record_text(&self, field: Field) -> Option<Text<'a>> {
        let slot = self.get(field)?;
        let s = match slot.value {
            Scalar::Str(s) => value::present(s)?,
            other => return scalar_text(other).map(|n| Text::Plain(Cow::Owned(n))),
        };
        match slot.encoding {
            // Not searched for a `%` here: the writer's word-at-a-time copy finds none as fast
            // as a search would, and a value with none is written as it is.
            Encoding::Percent | Encoding::PercentAll => {
                let escapes = slot.encoding.escapes();
                (!value::decodes_to_absent(s, escapes)).then_some(Text::Percent(s, escapes))
            }
            Encoding::Plain => Some(Text::Plain(Cow::Borrowed(s))),
            Encoding::Base64 => self.text(field).map(Text::Plain),
        }
    }

    /// The field as an unsigned integer, from a JSON number or a string of digits.
    pub fn u64(&self, field: Field) -> Option<u64> {
        match &self.get(field)?.value {
            Scalar::U64(n) => Some(*n),
            Scalar::I64(n) => u64::try_from(*n).ok(),
            // A double holds every integer below 2^53 only: past it, the text's integer may
            // have been rounded to another (`9007199254740993.0` is read as ...992).
            Scalar::F64(f) if f.fract() == 0.0 && *f >= 0.0 && *f < EXACT_IN_A_DOUBLE => {
                Some(*f as u64)
            }
            // `"52352.0"`: the integer a JSON number `52352.0` is, written in a string (a relay
            // that quotes numbers): read as that number is, not left out.
            Scalar::Str(s) => value::parse_u64(s).or_else(|| value::parse_whole_decimal(s)),
            _ => None,
        }
    }

    /// The field as the log sent it, for a default's sake: `None` where the log has none (no key,
    /// or an absent word), `Some(None)` where it sent something that is no unsigned integer (a
    /// default standing in for that would be a value the log did not say).
    pub fn sent_u64(&self, field: Field) -> Option<Option<u64>> {
        self.has(field).then(|| self.u64(field))
    }

    /// The field as a finite number, from a JSON number or a string that reads as one.
    pub fn f64(&self, field: Field) -> Option<f64> {
        let n = match self.get(field)?.value {
            Scalar::U64(n) => n as f64,
            Scalar::I64(n) => n as f64,
            Scalar::F64(x) => x,
            Scalar::Str(s) => value::present(s)?.parse().ok()?,
            Scalar::Bool(_) => return None,
        };
        n.is_finite().then_some(n)
    }

    /// True when the field is there with a value that is not an absent word.
    pub fn has(&self, field: Field) -> bool {
        self.get(field).is_some_and(|s| !s.value.is_absent())
    }

    /// Counts a known key's vote and offers its value, if it has one. A record whose envelope
    /// already named its type with a Zscaler sourcetype needs no votes: they are not counted.
    #[inline]
    pub(crate) fn note(&mut self, hit: Hit, value: Option<Scalar<'a>>) {
        if !self.typed {
            self.vote(hit.vote);
        }
        if let Some(value) = value {
            self.offer(hit.field, value, hit.encoding, hit.key);
        }
    }

    #[inline]
    fn vote(&mut self, vote: Vote) {
        let votes = &mut self.votes;
        // Saturating: a frame of 256 KiB can repeat one short key 65,536 times, which a u16
        // that wrapped would count as no vote at all.
        match vote {
            Vote::None => {}
            Vote::Zia => votes.zia = votes.zia.saturating_add(1),
            Vote::Zpa => votes.zpa = votes.zpa.saturating_add(1),
            Vote::Unmapped => votes.unmapped = votes.unmapped.saturating_add(1),
            Vote::Kind(kind) => {
                let count = &mut votes.kinds[kind as usize];
                *count = count.saturating_add(1);
                if kind.is_zpa() {
                    votes.zpa = votes.zpa.saturating_add(1);
                } else {
                    votes.zia = votes.zia.saturating_add(1);
                }
            }
        }
    }

    // Inlined into each reader's loop: a call here costs more than the rest of it.
    #[inline(always)]
    fn offer(&mut self, field: Field, value: Scalar<'a>, encoding: Encoding, key: u32) {
        let i = field as usize;
        if let Some(&old) = self.get(field) {
            // A key kept for its vote fills no record: its repeats change nothing.
            if key != 0 && old.key == key && old.value != value && field != Field::Other {
                return self.contest(field);
            }
            // The first name that carries a value wins; a later duplicate only fills an absent
            // one, and no name a contested one.
            if !old.value.is_absent() || old.key == CONTESTED {
                return;
            }
        }
        self.slots[i].write(Slot {
            value,
            encoding,
            key,
        });
        self.set[i / 64] |= 1 << (i % 64);
    }
}

#[cfg(test)]
mod tests;
