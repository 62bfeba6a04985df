//! Splitting a key=value frame into its pairs, as the kv module's documentation describes, without
//! deciding what the keys mean.

use std::borrow::Cow;

use crate::format::{find_byte, name_len, name_start};

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
    pub(super) at: usize,
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
    pub(super) unclosed: usize,
    /// With spaces, the first closing quote a quoted value met here was not followed by a pair
    /// or the frame's end: a value opening before it meets it first too (as above), and is not
    /// quoted either, so it is not looked for again. A line of such openings would otherwise
    /// scan to the same quote once per pair.
    pub(super) refused: usize,
    /// A value held a tab that separates no pairs (see [`Pairs::tab_in_value`]).
    tab_in_value: bool,
    /// Closing quotes looked for: what the tests of the two above count.
    #[cfg(test)]
    pub(super) scans: usize,
}

/// Reads `text` as name-value pairs (see the documentation of [`super`]).
pub fn pairs(text: &str) -> Pairs<'_> {
    let b = text.as_bytes();
    let first = memchr::memchr_iter(b'=', b).find_map(|eq| {
        let start = name_start(b, eq);
        (start < eq).then_some((start, eq))
    });
    let separator = first.map_or(Separator::Space, |(_, eq)| separator(b, eq));
    Pairs {
        text,
        first: first.map(|(start, _)| start),
        separator,
        next: first,
        unclosed: usize::MAX,
        refused: 0,
        tab_in_value: false,
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
            let (end, next) = self.separated_end(b, v, Separator::Tab);
            self.next = next;
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
        let (value, escaped, next) = match close {
            Close::At(close, escaped) => (v + 1..close, escaped, pair_after(b, close + 1, sep)),
            Close::Refused(_) | Close::None => {
                let (end, next) = match sep {
                    Separator::Space => {
                        space_pair(b, v).map_or((b.len(), None), |(end, next)| (end, Some(next)))
                    }
                    _ => self.separated_end(b, v, sep),
                };
                (v..end, false, next)
            }
        };
        self.next = next;
        Pair {
            key: sub(self.text, start, eq),
            value: sub(self.text, value.start, value.end),
            escaped,
            at: value.start,
        }
    }
}

impl Pairs<'_> {
    /// With tabs or `^^`: where an unquoted value starting at `v` ends, and the pair after it.
    /// It ends at the first separator that a `name=` or nothing but blanks follows; a separator
    /// before other text is part of the value (an agent's tab, a file name's `^^`), so that no
    /// text between two pairs is lost.
    #[inline]
    fn separated_end(
        &mut self,
        b: &[u8],
        v: usize,
        sep: Separator,
    ) -> (usize, Option<(usize, usize)>) {
        let mut from = v;
        while let Some(at) = find_separator(b, from, sep) {
            if let Some(next) = boundary(b, at, sep) {
                self.tab_in_value |= sep == Separator::Tab && from > v;
                return (at, next);
            }
            from = next_look(b, at, sep);
        }
        self.tab_in_value |= sep == Separator::Tab && from > v;
        (b.len(), None)
    }

    /// Whether a value read so far holds a tab: one that separates no pairs, which a frame's
    /// survey counted as a separator.
    pub fn tab_in_value(&self) -> bool {
        self.tab_in_value
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
    let name = name_len(b, at);
    (name > 0 && b.get(at + name) == Some(&b'=')).then_some(at + name)
}

/// The separator that ends the first value, whose `=` is at `eq`: the first space, tab or `^^`
/// after it (after its first quote that a blank or `^^` follows, when it starts with a quote)
/// that ends a value as that separator does, a `name=` following it. Whichever comes first: a
/// space-separated line's agent may hold a tab or a `^^` (NSS encodes neither in `%s{ua}`, nor
/// `^` in a URL), and the first value is the template's own (Splunk's `reason`, NetWitness's
/// `time`). A frame whose first value no separator ends (one pair) takes a tab or `^^`,
/// whichever comes first; a space when neither does.
fn separator(b: &[u8], eq: usize) -> Separator {
    let mut from = first_value_unquoted(b, eq + 1);
    while let Some(i) = memchr::memchr3(b' ', b'\t', b'^', &b[from..]) {
        let at = from + i;
        let sep = match b[at] {
            b' ' => Separator::Space,
            b'\t' => Separator::Tab,
            _ if b.get(at + 1) == Some(&b'^') => Separator::Carets,
            _ => {
                from = at + 1;
                continue;
            }
        };
        let (ends, next) = match sep {
            // A run of spaces is one look: from each of its spaces it meets the same text.
            Separator::Space => {
                let spaces = b[at..].iter().take_while(|&&c| c == b' ').count();
                #[cfg(test)]
                STEPPED.with(|s| s.set(s.get() + spaces));
                (pair_at(b, at + spaces).is_some(), at + spaces)
            }
            _ => (
                matches!(boundary(b, at, sep), Some(Some(_))),
                next_look(b, at, sep),
            ),
        };
        if ends {
            return sep;
        }
        from = next;
    }
    first_tab_or_carets(&b[eq..])
}

/// Tab or `^^`, whichever comes first; space when neither does.
fn first_tab_or_carets(b: &[u8]) -> Separator {
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

/// Where a first value starting at `v` can first end: past its closing quote when it is quoted
/// (the first unescaped `"` followed by a space, tab, `^^` or the end), so that a ` name=` inside
/// the quotes chooses no separator; at `v` when it is not, or no such quote closes it.
fn first_value_unquoted(b: &[u8], v: usize) -> usize {
    if b.get(v) != Some(&b'"') {
        return v;
    }
    let mut at = v + 1;
    while let Some(i) = b
        .get(at..)
        .and_then(|rest| memchr::memchr2(b'"', b'\\', rest))
    {
        at += i;
        if b[at] == b'\\' {
            at += 2;
            continue;
        }
        match b.get(at + 1) {
            None => return at + 1,
            Some(b' ' | b'\t') => return at + 1,
            Some(b'^') if b.get(at + 2) == Some(&b'^') => return at + 1,
            _ => at += 1,
        }
    }
    v
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
        Separator::Tab => find_byte(b, from, b'\t'),
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
        if at + 1 == b.len() {
            return Close::At(at, escaped);
        }
        if separator_at(b, at + 1, sep) {
            let ends = match sep {
                // A run of spaces, then a pair or the end: a tab after spaces is the value's.
                Separator::Space => {
                    let next = at + 1 + b[at + 1..].iter().take_while(|&&c| c == b' ').count();
                    next == b.len() || pair_at(b, next).is_some()
                }
                _ => boundary(b, at + 1, sep).is_some(),
            };
            if !ends {
                return Close::Refused(at);
            }
            return Close::At(at, escaped);
        }
        at += 1;
    }
}

/// Whether the separator at `at` ends a value: what follows it, past spaces and tabs, is a
/// `name=` (its start and `=`) or nothing.
#[inline]
fn boundary(b: &[u8], at: usize, sep: Separator) -> Option<Option<(usize, usize)>> {
    let mut next = at + if sep == Separator::Carets { 2 } else { 1 };
    while matches!(b.get(next), Some(b' ' | b'\t')) {
        next += 1;
    }
    #[cfg(test)]
    STEPPED.with(|s| s.set(s.get() + next - at));
    if next >= b.len() {
        return Some(None);
    }
    pair_at(b, next).map(|eq| Some((next, eq)))
}

#[cfg(test)]
thread_local! {
    /// Blanks stepped over after separators: what the tests of their looks count.
    pub(super) static STEPPED: std::cell::Cell<usize> = const { std::cell::Cell::new(0) };
}

/// Where to look for the next separator after the one at `at` ended no value: past the blanks
/// after it, whose separators would each look at the same text after them and end no value
/// either (looking from each one, a value of tabs cost its length squared: 2 s for 100,000),
/// but not past the second `^` of a `^^` that no blank follows (`^^^` holds two).
#[cold]
#[inline(never)]
fn next_look(b: &[u8], at: usize, sep: Separator) -> usize {
    let next = at + if sep == Separator::Carets { 2 } else { 1 };
    let blanks = b[next.min(b.len())..]
        .iter()
        .take_while(|&&c| matches!(c, b' ' | b'\t'))
        .count();
    (next + blanks).saturating_sub(1).max(at + 1)
}

/// The pair after a quoted value whose closing quote is right before `after` (which is the
/// frame's end or a separator that ends the value).
fn pair_after(b: &[u8], after: usize, sep: Separator) -> Option<(usize, usize)> {
    match sep {
        Separator::Space => space_pair(b, after).map(|(_, next)| next),
        _ if after < b.len() => boundary(b, after, sep).flatten(),
        _ => None,
    }
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

/// Resolves `\"` and `\\` in place; returns the new length (values only shrink).
pub(super) fn unescape(buf: &mut [u8]) -> usize {
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
pub(super) fn unescaped_len(value: &[u8]) -> usize {
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
