//! Name-value pairs: Splunk's `key=value` separated by tabs or spaces (values possibly quoted), and
//! NetWitness's `^^`-separated variant.
//!
//! What a frame holds, read left to right:
//!
//! - **Text before the first pair** is static template text (`ZSCALERNSS: `), or the time the
//!   Splunk template starts with (`2019-10-16 15:44:36<TAB>`, `Wed May  4 08:42:00 2022<TAB>`).
//!   Leading text that reads as a time is noted as the record's `datetime`; anything else is
//!   skipped. The first pair is the first `=` with a name before it.
//! - **The separator** is whichever of a tab and `^^` comes first after the first pair; a space
//!   when there is neither. With spaces, a value runs to the next ` name=` (a name is
//!   `[A-Za-z0-9_.-]+`), so values may hold spaces; with tabs or `^^`, to the next separator.
//!   Text between a separator and the next pair that is no `name=` is skipped.
//! - **A quoted value** (`key="a b=c"`) starts with `"` and ends at the first `"` that is not
//!   escaped and is followed by the separator or the end of the frame; inside, `\"` is a quote and
//!   `\\` a backslash (any other `\x` stays as it is). With spaces, that quote must also be
//!   followed, past its spaces, by the next `name=` or the frame's end: in `ua="Quoted" Agent/1.0
//!   b=2` the value is not a quoted one, and is `"Quoted" Agent/1.0`, not `Quoted` with the rest
//!   lost as text between pairs. A value that starts with `"` but has no such end is taken as
//!   written, quote included, up to the separator (with spaces, the next ` name=`).
//!
//! [`pairs`] reads a frame that way without deciding what the keys mean; the fuzz target compares
//! it with a slow reference. The reader looks the keys up and notes their values.

use std::borrow::Cow;

use jiff::tz::TimeZone;

use crate::event::Kind;
use crate::fields::{Fields, Scalar};
use crate::keys::memo::Memo;
use crate::keys::{Encoding, Field, Hit, Vote};
use crate::reason::Reason;
use crate::time;

use super::{name_start, Survey};

/// How a frame's pairs are separated.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Separator {
    Tab,
    /// NetWitness's `^^`.
    Carets,
    Space,
}

/// One pair as written: the value without its quotes, its escapes still in it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Pair<'a> {
    pub key: &'a str,
    pub value: &'a str,
    /// Quoted, with a backslash inside: [`Pair::unescaped`] differs from `value`.
    pub escaped: bool,
    /// Where `value` starts in the frame.
    at: usize,
}

impl Pair<'_> {
    /// The value as meant: escapes of a quoted value resolved.
    pub fn unescaped(&self) -> Cow<'_, str> {
        if !self.escaped {
            return Cow::Borrowed(self.value);
        }
        let mut bytes = self.value.as_bytes().to_vec();
        let len = unescape(&mut bytes);
        bytes.truncate(len);
        // Only ASCII backslashes were removed, each before an ASCII byte: still UTF-8.
        Cow::Owned(String::from_utf8_lossy(&bytes).into_owned())
    }
}

/// The pairs of a frame, in order.
#[derive(Debug, Clone)]
pub struct Pairs<'a> {
    text: &'a str,
    first: Option<usize>,
    separator: Separator,
    /// Where the next pair's key starts, and its `=`.
    next: Option<(usize, usize)>,
    /// A quoted value opening here found no closing quote: none after it can either (the scans
    /// from two openings meet at the later one's first byte and go on alike), so it is not
    /// looked for again. Without this, a line of unclosed quotes scanned to its end once per
    /// pair: 11 s for one frame of 256 KiB.
    unclosed: usize,
    /// With spaces, the first closing quote a quoted value met here was not followed by a pair
    /// or the frame's end: a value opening before it meets it first too (as above), and is not
    /// quoted either, so it is not looked for again. A line of such openings would otherwise
    /// scan to the same quote once per pair.
    refused: usize,
    /// Closing quotes looked for: what the tests of the two above count.
    #[cfg(test)]
    scans: usize,
}

/// Reads `text` as name-value pairs (see the module's documentation).
pub fn pairs(text: &str) -> Pairs<'_> {
    let b = text.as_bytes();
    let first = memchr::memchr_iter(b'=', b).find_map(|eq| {
        let start = name_start(b, eq);
        (start < eq).then_some((start, eq))
    });
    let separator = first.map_or(Separator::Space, |(at, _)| separator(&b[at..]));
    Pairs {
        text,
        first: first.map(|(start, _)| start),
        separator,
        next: first,
        unclosed: usize::MAX,
        refused: 0,
        #[cfg(test)]
        scans: 0,
    }
}

impl<'a> Pairs<'a> {
    /// The text before the first pair (all of it when there is none).
    pub fn prefix(&self) -> &'a str {
        &self.text[..self.first.unwrap_or(self.text.len())]
    }

    pub fn separator(&self) -> Separator {
        self.separator
    }
}

impl<'a> Iterator for Pairs<'a> {
    type Item = Pair<'a>;

    #[inline]
    fn next(&mut self) -> Option<Pair<'a>> {
        let (start, eq) = self.next?;
        let b = self.text.as_bytes();
        let v = eq + 1;
        // Splunk's tab-separated feed, which quotes nothing: the common case, without the
        // general path's questions.
        if self.separator == Separator::Tab && b.get(v) != Some(&b'"') {
            let end = super::find_byte(b, v, b'\t').unwrap_or(b.len());
            self.next = next_tab_pair(b, end);
            return Some(Pair {
                key: sub(self.text, start, eq),
                value: sub(self.text, v, end),
                escaped: false,
                at: v,
            });
        }
        Some(self.general(start, eq))
    }
}

impl<'a> Pairs<'a> {
    /// [`Pairs::next`] for any separator and quoted values: kept out of the loops that read the
    /// common case.
    #[inline(never)]
    fn general(&mut self, start: usize, eq: usize) -> Pair<'a> {
        let b = self.text.as_bytes();
        let sep = self.separator;
        let v = eq + 1;
        let close = if v < self.refused {
            Close::Refused(self.refused)
        } else if v < self.unclosed {
            #[cfg(test)]
            {
                self.scans += usize::from(b.get(v) == Some(&b'"'));
            }
            quoted_end(b, v, sep)
        } else {
            Close::None
        };
        match close {
            Close::None if b.get(v) == Some(&b'"') => self.unclosed = self.unclosed.min(v),
            Close::Refused(at) => self.refused = at,
            _ => {}
        }
        let (value, escaped, after, next) = match close {
            Close::At(close, escaped) => (v + 1..close, escaped, close + 1, None),
            Close::Refused(_) | Close::None => {
                let (end, next) = value_end(b, v, sep);
                (v..end, false, end, next)
            }
        };
        self.next = next.or_else(|| next_pair(b, after, sep));
        Pair {
            key: sub(self.text, start, eq),
            value: sub(self.text, value.start, value.end),
            escaped,
            at: value.start,
        }
    }
}

/// `text[start..end]`, where both ends are next to an ASCII byte (a name's, an `=`, a quote, a
/// separator) or the text's ends, without the checks that they are character boundaries.
fn sub(text: &str, start: usize, end: usize) -> &str {
    let bytes = &text.as_bytes()[start..end];
    debug_assert!(text.is_char_boundary(start) && text.is_char_boundary(end));
    // SAFETY: `text` is UTF-8, and a range from one character boundary to another is too: an
    // ASCII byte is a whole character, so the positions next to one are boundaries.
    unsafe { std::str::from_utf8_unchecked(bytes) }
}

/// The `=` of a `name=` that starts at `at`, if one does.
fn pair_at(b: &[u8], at: usize) -> Option<usize> {
    let name = super::name_len(b, at);
    (name > 0 && b.get(at + name) == Some(&b'=')).then_some(at + name)
}

/// Tab or `^^`, whichever comes first; space when neither does.
fn separator(b: &[u8]) -> Separator {
    let mut from = 0;
    while let Some(i) = memchr::memchr2(b'\t', b'^', &b[from..]) {
        let at = from + i;
        if b[at] == b'\t' {
            return Separator::Tab;
        }
        if b.get(at + 1) == Some(&b'^') {
            return Separator::Carets;
        }
        from = at + 1;
    }
    Separator::Space
}

fn separator_at(b: &[u8], at: usize, sep: Separator) -> bool {
    match sep {
        Separator::Tab => b.get(at) == Some(&b'\t'),
        Separator::Space => b.get(at) == Some(&b' '),
        Separator::Carets => b.get(at..at + 2) == Some(b"^^"),
    }
}

/// The first separator at or after `from`.
fn find_separator(b: &[u8], from: usize, sep: Separator) -> Option<usize> {
    match sep {
        Separator::Tab => super::find_byte(b, from, b'\t'),
        // A searcher per value would cost more than the search: `^` is rare in values.
        _ => memchr::memchr_iter(b'^', &b[from..])
            .map(|i| from + i)
            .find(|&at| b.get(at + 1) == Some(&b'^')),
    }
}

/// What ends a value that may be quoted.
enum Close {
    /// Its closing quote, and whether the value holds a backslash.
    At(usize, bool),
    /// With spaces, the first quote followed by one is followed by neither a pair nor the
    /// frame's end: the value is not quoted.
    Refused(usize),
    /// Not quoted, or no closing quote.
    None,
}

/// The closing quote of a quoted value starting at `v`.
fn quoted_end(b: &[u8], v: usize, sep: Separator) -> Close {
    if b.get(v) != Some(&b'"') {
        return Close::None;
    }
    let mut escaped = false;
    let mut at = v + 1;
    loop {
        let Some(found) = b
            .get(at..)
            .and_then(|rest| memchr::memchr2(b'"', b'\\', rest))
        else {
            return Close::None;
        };
        at += found;
        if b[at] == b'\\' {
            escaped = true;
            at += 2;
            continue;
        }
        if at + 1 == b.len() || separator_at(b, at + 1, sep) {
            if sep == Separator::Space && !pair_or_end_after_spaces(b, at + 1) {
                return Close::Refused(at);
            }
            return Close::At(at, escaped);
        }
        at += 1;
    }
}

/// Whether the spaces at `at` are followed by a `name=` or by nothing.
fn pair_or_end_after_spaces(b: &[u8], at: usize) -> bool {
    let next = at + b[at..].iter().take_while(|&&c| c == b' ').count();
    next == b.len() || pair_at(b, next).is_some()
}

/// Where an unquoted value starting at `v` ends, and, with spaces, where the next pair starts
/// (found on the way).
fn value_end(b: &[u8], v: usize, sep: Separator) -> (usize, Option<(usize, usize)>) {
    if sep == Separator::Space {
        return match space_pair(b, v) {
            Some((end, next)) => (end, Some(next)),
            None => (b.len(), None),
        };
    }
    (find_separator(b, v, sep).unwrap_or(b.len()), None)
}

/// The first ` name=` at or after `from`: where its spaces start, and its name and `=`.
fn space_pair(b: &[u8], from: usize) -> Option<(usize, (usize, usize))> {
    memchr::memchr_iter(b'=', &b[from..]).find_map(|i| {
        let eq = from + i;
        let start = name_start(b, eq);
        if start == eq || start <= from || b[start - 1] != b' ' {
            return None;
        }
        let spaces = b[from..start]
            .iter()
            .rev()
            .take_while(|&&c| c == b' ')
            .count();
        Some((start - spaces, (start, eq)))
    })
}

/// Where the pair after a value that ended at `after` starts, and its `=`.
fn next_pair(b: &[u8], mut after: usize, sep: Separator) -> Option<(usize, usize)> {
    let width = match sep {
        Separator::Space => return space_pair(b, after).map(|(_, next)| next),
        Separator::Tab => 1,
        Separator::Carets => 2,
    };
    loop {
        // A value ends at a separator: no search for the common case.
        let found = if separator_at(b, after, sep) {
            after
        } else {
            find_separator(b, after, sep)?
        };
        let mut at = found + width;
        while matches!(b.get(at), Some(b' ' | b'\t')) {
            at += 1;
        }
        if let Some(eq) = pair_at(b, at) {
            return Some((at, eq));
        }
        after = at;
    }
}

/// [`next_pair`] with tabs, after a value that ends at `end` (a tab, or the end of the frame).
fn next_tab_pair(b: &[u8], end: usize) -> Option<(usize, usize)> {
    let mut at = end;
    while at < b.len() {
        at += 1;
        while matches!(b.get(at), Some(b' ' | b'\t')) {
            at += 1;
        }
        let name = super::name_len(b, at);
        if name > 0 && b.get(at + name) == Some(&b'=') {
            return Some((at, at + name));
        }
        // No pair: skipped up to the next tab (a name holds none).
        at = super::find_byte(b, at + name, b'\t')?;
    }
    None
}

/// Resolves `\"` and `\\` in place; returns the new length (values only shrink).
fn unescape(buf: &mut [u8]) -> usize {
    let (mut read, mut write) = (0, 0);
    while read < buf.len() {
        let c = buf[read];
        if c == b'\\' && matches!(buf.get(read + 1), Some(b'"' | b'\\')) {
            read += 1;
        }
        buf[write] = buf[read];
        read += 1;
        write += 1;
    }
    write
}

/// The length [`unescape`] leaves.
fn unescaped_len(value: &[u8]) -> usize {
    let (mut read, mut len) = (0, 0);
    while read < value.len() {
        if value[read] == b'\\' && matches!(value.get(read + 1), Some(b'"' | b'\\')) {
            read += 1;
        }
        read += 1;
        len += 1;
    }
    len
}

/// Whether a JSON string can hold `value` as it is.
fn plain(value: &str) -> bool {
    value
        .bytes()
        .fold(true, |ok, c| ok & (c >= 0x20) & (c != b'"') & (c != b'\\'))
}

/// Whether every value of a frame is [`plain`], from one pass over the frame instead of one per
/// value. Tabs count only where they can be inside values: unless they separate them.
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
        let all = pairs(text);
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
            for pair in all {
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
        for pair in all {
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
        if stamp.is_empty() || !reads_as_time(stamp) {
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
