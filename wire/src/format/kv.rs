//! Name-value pairs: Splunk's `key=value` separated by tabs or spaces (values possibly quoted), and
//! NetWitness's `^^`-separated variant.
//!
//! What a frame holds, read left to right:
//!
//! - **Text before the first pair** is static template text (`ZSCALERNSS: `), or the time the
//!   Splunk template starts with (`2019-10-16 15:44:36<TAB>`, `Wed May  4 08:42:00 2022<TAB>`).
//!   Leading text that reads as a time, or has a time's shape, is noted as the record's
//!   `datetime`; anything else is skipped. The first pair is the first `=` with a name before it.
//! - **The separator** is the one that ends the first value, which is the template's own
//!   (Splunk's `reason`, NetWitness's `time`): the first space, tab or `^^` after its `=` that a
//!   `name=` follows, as below; in a first value that starts with a quote, the first after the
//!   first unescaped quote that a space, tab, `^^` or the end follows. A frame whose first value
//!   no such separator ends (one pair) takes a tab or `^^`, whichever comes first, else a space.
//!   A value runs to the next separator that a `name=` follows (a name is `[A-Za-z0-9_.-]+`;
//!   with spaces, right after them; with tabs and `^^`, past spaces and tabs, or nothing but
//!   those: a trailing separator is no value's; with spaces the last value keeps its trailing
//!   spaces): so values may hold the separator and the others (an agent's space or tab, a file
//!   name's `^^`), and no text between two pairs is lost.
//! - **A quoted value** (`key="a b=c"`) starts with `"` and ends at the first `"` that is not
//!   escaped and is followed by the frame's end or a separator that ends a value (above);
//!   inside, `\"` is a quote and `\\` a backslash (any other `\x` stays as it is). At the first
//!   quote followed by a separator that ends no value, the value is not a quoted one: in
//!   `ua="Quoted" Agent/1.0 b=2` it is `"Quoted" Agent/1.0`, not `Quoted` with the rest lost as
//!   text between pairs. A value that starts with `"` but has no such end is taken as written,
//!   quote included, up to the separator that ends it.
//!
//! [`pairs`] reads a frame that way without deciding what the keys mean; the fuzz target compares
//! it with a slow reference. The reader looks the keys up and notes their values.

use jiff::tz::TimeZone;

use crate::fields::{Fields, Scalar};
use crate::keys::memo::Memo;
use crate::keys::{Encoding, Field, Hit, Vote};
use crate::kind::Kind;
use crate::reason::Reason;
use crate::time;

use super::Survey;

mod pairs;

pub use pairs::{pairs, Pair, Pairs, Separator};
use pairs::{unescape, unescaped_len};

/// Whether a JSON string can hold `value` as it is.
fn plain(value: &str) -> bool {
    value
        .bytes()
        .fold(true, |ok, c| ok & (c >= 0x20) & (c != b'"') & (c != b'\\'))
}

/// Whether every value of a frame is [`plain`], from one pass over the frame instead of one per
/// value. Tabs count only where they can be inside values: unless they separate them (then a
/// value that holds one is looked at on its own: [`Pairs::tab_in_value`]).
fn all_plain(survey: Survey, sep: Separator) -> bool {
    !survey.escape && (sep == Separator::Tab || !survey.tab)
}

/// A shard's kv reader, kept between frames so that reading allocates nothing.
#[derive(Default)]
pub struct Reader {
    /// A copy of a frame whose quoted values hold escapes, resolved in place.
    scratch: Vec<u8>,
    /// The keys of the frame before, by position.
    memo: Memo,
}

impl Reader {
    /// Reads the record that `text` holds (it starts at the format's first byte) into `fields`;
    /// true when the values are plain text.
    pub fn read<'a>(&'a mut self, text: &'a [u8], fields: &mut Fields<'a>) -> Result<bool, Reason> {
        let survey = super::survey(text);
        let text = if survey.ascii {
            // SAFETY: ASCII is UTF-8.
            unsafe { std::str::from_utf8_unchecked(text) }
        } else {
            std::str::from_utf8(text).map_err(|_| Reason::InvalidUtf8)?
        };
        let mut all = pairs(text);
        let mut note = Notes {
            plain: true,
            checked: all_plain(survey, all.separator()),
            hint: None,
            product: None,
            memo: &mut self.memo,
            position: 0,
        };
        note.prefix(all.prefix(), fields);
        // A frame without a byte to escape holds no backslash.
        if !survey.escape || memchr::memchr(b'\\', text.as_bytes()).is_none() {
            while let Some(pair) = all.next() {
                note.checked &= !all.tab_in_value();
                note.pair(pair.key, pair.value, fields);
            }
            return Ok(note.finish(fields));
        }
        // Escapes: resolve them in a copy first, then borrow the values that had some from it.
        self.scratch.clear();
        self.scratch.extend_from_slice(text.as_bytes());
        for pair in all.clone().filter(|p| p.escaped) {
            let range = pair.at..pair.at + pair.value.len();
            unescape(&mut self.scratch[range]);
        }
        let scratch: &'a [u8] = &self.scratch;
        while let Some(pair) = all.next() {
            note.checked &= !all.tab_in_value();
            let value = if pair.escaped {
                let len = unescaped_len(pair.value.as_bytes());
                std::str::from_utf8(&scratch[pair.at..pair.at + len])
                    .map_err(|_| Reason::InvalidUtf8)?
            } else {
                pair.value
            };
            note.pair(pair.key, value, fields);
        }
        Ok(note.finish(fields))
    }
}

/// Whether leading text is a time: one that reads in UTC, or one with a zone word that only the
/// feed's zone may own (`PST`, after the time or before a ctime's year), which reads without it.
/// The whole is then read as the record's time is, in the feed's zone: a word that is not that
/// zone's makes the record a `bad_time` dead letter, where skipping the text dated it when it
/// was read, without a trace.
fn reads_as_time(stamp: &str) -> bool {
    if time::parse_time(stamp, &TimeZone::UTC).is_some() {
        return true;
    }
    // A zone word goes with a clock time, not with epoch seconds.
    let clock = |t: &str| t.contains(':') && time::parse_time(t, &TimeZone::UTC).is_some();
    let Some((rest, last)) = stamp.rsplit_once(' ') else {
        return false;
    };
    if time::looks_like_zone_word(last) {
        return clock(rest);
    }
    // `Sat Nov 22 08:26:40 PST 2025`: the time with its year, without the word.
    let Some((before, word)) = rest.rsplit_once(' ') else {
        return false;
    };
    // Longer than any time that reads.
    let mut joined = [0u8; 64];
    let len = before.len() + 1 + last.len();
    if !time::looks_like_zone_word(word) || len > joined.len() {
        return false;
    }
    joined[..before.len()].copy_from_slice(before.as_bytes());
    joined[before.len()] = b' ';
    joined[before.len() + 1..len].copy_from_slice(last.as_bytes());
    std::str::from_utf8(&joined[..len]).is_ok_and(clock)
}

/// Whether leading text has a time's shape though it does not read as one (`2025-02-30
/// 08:26:40`, `Sun Feb 30 08:26:40 2025`): a date, ISO's or ctime's, right before a clock
/// `hh:mm:ss`, and nothing after it but what a time may have (a fraction, a zone, a year).
/// Noted as the record's time, it is a `bad_time` dead letter; skipped as template text, the
/// record was dated when it was read. No template's static text has that shape.
fn shaped_as_time(stamp: &str) -> bool {
    let b = stamp.as_bytes();
    let digits =
        |r: std::ops::Range<usize>| b.get(r).is_some_and(|d| d.iter().all(u8::is_ascii_digit));
    let Some(clock) = (2..b.len()).find(|&i| {
        b[i] == b':'
            && digits(i - 2..i)
            && digits(i + 1..i + 3)
            && b.get(i + 3) == Some(&b':')
            && digits(i + 4..i + 6)
    }) else {
        return false;
    };
    let (date, after) = (&b[..clock - 2], &b[clock + 6..]);
    let iso = date.len() == 11
        && digits(0..4)
        && date[4] == b'-'
        && digits(5..7)
        && date[7] == b'-'
        && digits(8..10)
        && matches!(date[10], b' ' | b'T' | b't');
    // `Www Mmm dd ` or `Www Mmm  d `.
    let ctime = date.len() == 11
        && date[..3].iter().all(u8::is_ascii_alphabetic)
        && date[3] == b' '
        && date[4..7].iter().all(u8::is_ascii_alphabetic)
        && date[7] == b' '
        && (date[8] == b' ' || date[8].is_ascii_digit())
        && date[9].is_ascii_digit()
        && date[10] == b' ';
    if !(iso || ctime) {
        return false;
    }
    // After the clock: its fraction, then only years and zone words (a host or a template's word
    // after a good time is text, as it was: `2025-11-22 08:26:40 fw01`).
    let mut rest = after;
    if let [b'.' | b',', fraction @ ..] = rest {
        let digits = fraction.iter().take_while(|c| c.is_ascii_digit()).count();
        if digits == 0 {
            return false;
        }
        rest = &fraction[digits..];
    }
    std::str::from_utf8(rest).is_ok_and(|rest| {
        rest.split(' ').filter(|t| !t.is_empty()).all(|t| {
            (t.len() == 4 && t.bytes().all(|c| c.is_ascii_digit())) || time::looks_like_zone_word(t)
        })
    })
}

/// What the reader learns besides the fields.
struct Notes<'m> {
    plain: bool,
    /// The whole frame is plain: no value needs a look.
    checked: bool,
    /// The log type a `Recordtype=` says, as a `sourcetype`.
    hint: Option<&'static str>,
    /// The log type the first `product=` named.
    product: Option<&'static str>,
    memo: &'m mut Memo,
    /// The next key's position in the frame.
    position: usize,
}

impl Notes<'_> {
    /// Leading text that reads as a time is the record's time (Splunk's templates start with it).
    fn prefix<'a>(&mut self, prefix: &'a str, fields: &mut Fields<'a>) {
        let stamp = prefix.trim_ascii().trim_end_matches(':').trim_ascii_end();
        if stamp.is_empty() || !(reads_as_time(stamp) || shaped_as_time(stamp)) {
            return;
        }
        let hit = Hit {
            field: Field::DateTime,
            encoding: Encoding::Plain,
            vote: Vote::None,
            key: 0,
        };
        self.plain &= self.checked || plain(stamp);
        fields.note(hit, Some(Scalar::Str(stamp)));
    }

    #[inline]
    fn pair<'a>(&mut self, key: &'a str, value: &'a str, fields: &mut Fields<'a>) {
        let position = self.position;
        self.position += 1;
        let Some(hit) = self.memo.lookup(position, key) else {
            match key {
                "sourcetype" => fields.name_sourcetype(value),
                "product" => {
                    // A second product that names another type is a client's, as a second
                    // value of any key is (`Fields::repeated`).
                    let named = product(value);
                    if self
                        .product
                        .is_some_and(|first| named.is_some_and(|p| p != first))
                    {
                        fields.set_repeated();
                    }
                    self.product = self.product.or(named);
                }
                _ => {}
            }
            return;
        };
        if hit.field == Field::RecordType {
            // Only tunnel logs have a record type (IKE phase 1 or 2, tunnel event, samples).
            self.hint = self.hint.or(Some("zscalernss-tunnel"));
        }
        self.plain &= self.checked || plain(value);
        fields.note(hit, Some(Scalar::Str(value)));
    }

    /// A Zscaler `sourcetype=` pair wins over what `product=` or `Recordtype=` say, which win
    /// over a relay's own sourcetype. `product=NSS` is Zscaler's Splunk web template's, which
    /// templates for other log types copy: it names web only while no other type's own keys
    /// outnumber web's, and otherwise the keys decide, as they do for a JSON frame's
    /// `"product":"NSS"`. A product wins over `Recordtype=`, wherever each stands: a client's
    /// agent can write a `Recordtype=` before the template's `product=` (one vote, which does
    /// not outnumber a web line's keys).
    fn finish(self, fields: &mut Fields<'_>) -> bool {
        if !fields.sourcetype_decides() {
            let votes = &fields.votes;
            let web = votes.kinds[Kind::ZiaWeb as usize];
            let hint = self
                .product
                .or(self.hint)
                .filter(|&hint| hint != WEB || votes.kinds.iter().all(|&n| n <= web));
            if hint.is_some() {
                fields.set_sourcetype(hint);
            }
        }
        self.plain
    }
}

const WEB: &str = "zscalernss-web";

/// The log type that the `product=` of Zscaler's Splunk templates names (`NSS` for web, `fw`,
/// `dns`, `audit`, `tunnel_sample`, `IKE…`: what Splunk Connect for Syslog routes on).
pub fn product(value: &str) -> Option<&'static str> {
    let value = value.trim_ascii();
    let starts = |p: &str| {
        (value.as_bytes().get(..p.len()))
            .is_some_and(|head| head.eq_ignore_ascii_case(p.as_bytes()))
    };
    if value.eq_ignore_ascii_case("NSS") {
        Some(WEB)
    } else if value.eq_ignore_ascii_case("fw") {
        Some("zscalernss-fw")
    } else if value.eq_ignore_ascii_case("dns") {
        Some("zscalernss-dns")
    } else if value.eq_ignore_ascii_case("audit") {
        Some("zscalernss-audit")
    } else if starts("tunnel") || starts("IKE") {
        Some("zscalernss-tunnel")
    } else {
        None
    }
}

#[cfg(test)]
mod tests;
