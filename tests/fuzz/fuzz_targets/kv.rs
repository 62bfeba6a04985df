//! The key=value reader against a slow reference written from its documentation (char by char,
//! owned strings): the same text before the pairs, the same pairs, and the reader's fields holding
//! exactly the values the reference pairs give, first present value per slot.
#![no_main]

use jiff::tz::TimeZone;
use wire::fields::{Fields, Scalar};
use wire::format::kv;
use wire::keys::{self, Field};

#[derive(Clone, Copy, PartialEq)]
enum Sep {
    Tab,
    Carets,
    Space,
}

fn is_name(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '_' || c == '.' || c == '-'
}

/// Where the `=` of a `name=` starting at `i` is.
fn pair_at(c: &[char], i: usize) -> Option<usize> {
    let mut j = i;
    while j < c.len() && is_name(c[j]) {
        j += 1;
    }
    (j > i && j < c.len() && c[j] == '=').then_some(j)
}

/// With spaces: a run of spaces at `k` followed by a `name=`; where that name starts.
fn space_boundary(c: &[char], k: usize) -> Option<usize> {
    if c.get(k) != Some(&' ') {
        return None;
    }
    let mut j = k;
    while j < c.len() && c[j] == ' ' {
        j += 1;
    }
    pair_at(c, j).map(|_| j)
}

fn sep_at(c: &[char], i: usize, sep: Sep) -> bool {
    match sep {
        Sep::Tab => c.get(i) == Some(&'\t'),
        Sep::Space => c.get(i) == Some(&' '),
        Sep::Carets => c.get(i) == Some(&'^') && c.get(i + 1) == Some(&'^'),
    }
}

/// With tabs or `^^`: whether the separator at `k` ends a value (a `name=` or nothing follows it,
/// past spaces and tabs); where what follows starts.
fn sep_boundary(c: &[char], k: usize, sep: Sep) -> Option<usize> {
    if !sep_at(c, k, sep) {
        return None;
    }
    let mut j = k + if sep == Sep::Carets { 2 } else { 1 };
    while j < c.len() && (c[j] == ' ' || c[j] == '\t') {
        j += 1;
    }
    (j == c.len() || pair_at(c, j).is_some()).then_some(j)
}

/// The pair after a value that ends at `after` (the frame's end or a separator that ends it).
fn next_pair(c: &[char], after: usize, sep: Sep) -> Option<usize> {
    if sep == Sep::Space {
        return (after..c.len()).find_map(|k| space_boundary(c, k));
    }
    sep_boundary(c, after, sep).filter(|&j| j < c.len())
}

/// The separator that ends the first value (past its closing quote when quoted): the first
/// space run, tab or `^^` that a `name=` follows; else the first tab or `^^`; else a space.
fn first_separator(c: &[char], first: usize) -> Sep {
    let eq = pair_at(c, first).expect("a pair starts here");
    let mut from = eq + 1;
    if c.get(from) == Some(&'"') {
        let mut i = from + 1;
        while i < c.len() {
            if c[i] == '\\' {
                i += 2;
                continue;
            }
            let closes = i + 1 == c.len()
                || c[i + 1] == ' '
                || c[i + 1] == '\t'
                || sep_at(c, i + 1, Sep::Carets);
            if c[i] == '"' && closes {
                from = i + 1;
                break;
            }
            i += 1;
        }
    }
    for k in from..c.len() {
        if space_boundary(c, k).is_some() {
            return Sep::Space;
        }
        for sep in [Sep::Tab, Sep::Carets] {
            if sep_boundary(c, k, sep).is_some_and(|j| j < c.len()) {
                return sep;
            }
        }
    }
    for i in first..c.len() {
        if c[i] == '\t' {
            return Sep::Tab;
        }
        if sep_at(c, i, Sep::Carets) {
            return Sep::Carets;
        }
    }
    Sep::Space
}

fn reference(text: &str) -> (String, Vec<(String, String)>) {
    let c: Vec<char> = text.chars().collect();
    let first = (0..c.len()).find(|&i| (i == 0 || !is_name(c[i - 1])) && pair_at(&c, i).is_some());
    let Some(first) = first else {
        return (text.to_string(), Vec::new());
    };
    let prefix: String = c[..first].iter().collect();
    let sep = first_separator(&c, first);
    let mut pairs = Vec::new();
    let mut next = Some(first);
    while let Some(start) = next {
        let eq = pair_at(&c, start).expect("a pair starts here");
        let key: String = c[start..eq].iter().collect();
        let v = eq + 1;
        let mut quoted = None;
        if c.get(v) == Some(&'"') {
            let mut value = String::new();
            let mut i = v + 1;
            while i < c.len() {
                if c[i] == '\\' {
                    if i + 1 >= c.len() {
                        break;
                    }
                    if c[i + 1] != '"' && c[i + 1] != '\\' {
                        value.push('\\');
                    }
                    value.push(c[i + 1]);
                    i += 2;
                } else if c[i] == '"' {
                    if i + 1 == c.len() || sep_at(&c, i + 1, sep) {
                        // Only before the next pair or the end: else not quoted.
                        let ends = match sep {
                            Sep::Space => {
                                c[i + 1..].iter().all(|&x| x == ' ')
                                    || space_boundary(&c, i + 1).is_some()
                            }
                            _ => i + 1 == c.len() || sep_boundary(&c, i + 1, sep).is_some(),
                        };
                        if !ends {
                            break;
                        }
                        quoted = Some((value, i + 1));
                        break;
                    }
                    value.push('"');
                    i += 1;
                } else {
                    value.push(c[i]);
                    i += 1;
                }
            }
        }
        let (value, after) = match quoted {
            Some(q) => q,
            None => {
                let end = (v..c.len())
                    .find(|&k| match sep {
                        Sep::Space => space_boundary(&c, k).is_some(),
                        _ => sep_boundary(&c, k, sep).is_some(),
                    })
                    .unwrap_or(c.len());
                (c[v..end].iter().collect(), end)
            }
        };
        pairs.push((key, value));
        next = next_pair(&c, after, sep);
    }
    (prefix, pairs)
}

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let mut fields = Fields::default();
    let mut reader = kv::Reader::default();
    let read = reader.read(data, &mut fields);
    let Ok(text) = std::str::from_utf8(data) else {
        assert!(read.is_err(), "invalid UTF-8 read");
        return;
    };
    let fast = kv::pairs(text);
    let prefix = fast.prefix().to_string();
    let got: Vec<(String, String)> = fast
        .map(|p| (p.key.to_string(), p.unescaped().into_owned()))
        .collect();
    let (want_prefix, want) = reference(text);
    assert_eq!((&prefix, &got), (&want_prefix, &want));

    // The slots: the leading time first, then each known key's value where none is present yet.
    let plain = read.expect("UTF-8 text always reads");
    // A frame read as plain text hands the record writer no value a JSON string must escape.
    if plain {
        for (key, value) in &want {
            if keys::lookup(key).is_some() {
                assert!(
                    !value.bytes().any(|b| b < 0x20 || b == b'"' || b == b'\\'),
                    "{key}={value:?} read as plain text"
                );
            }
        }
    }
    // Each slot with the key that wrote it; a key that finds its own name there with another
    // value contests it.
    let mut expected: Vec<(Field, String, &str)> = Vec::new();
    let (mut repeated, mut contested) = (false, false);
    let stamp = prefix.trim_ascii().trim_end_matches(':').trim_ascii_end();
    if !stamp.is_empty() && (leading_time(stamp) || shaped_as_time(stamp)) {
        offer(&mut expected, &mut contested, Field::DateTime, stamp, "");
    }
    let (mut sourcetype, mut product): (Option<&str>, Option<&str>) = (None, None);
    for (key, value) in &want {
        if let Some(hit) = keys::lookup(key) {
            offer(&mut expected, &mut contested, hit.field, value, key);
        } else if key == "sourcetype" {
            // A second sourcetype or product that names another type is a repeat too.
            repeated |= sourcetype.is_some_and(|old| old != value);
            sourcetype = Some(value);
        } else if key == "product" {
            let named = kv::product(value);
            repeated |= product.is_some_and(|first| named.is_some_and(|p| p != first));
            product = product.or(named);
        }
    }
    assert_eq!(
        (fields.repeated(), fields.contested()),
        (repeated, contested)
    );
    // Every slot a key can fill (and the time's): as expected, or empty.
    let slots = keys::all().iter().map(|k| k.field).chain([Field::DateTime]);
    for field in slots {
        let got = fields.get(field).map(|slot| match slot.value {
            Scalar::Str(s) => s.to_string(),
            other => panic!("not a string: {other:?}"),
        });
        let want = expected
            .iter()
            .find(|(f, _, _)| *f == field)
            .map(|(_, v, _)| v.clone());
        assert_eq!(got, want, "{field:?}");
    }
});

/// Whether leading text is the record's time: it reads in UTC, or a clock time does once one
/// zone-shaped word is left out, the last or the one before it (README: a zone word after the
/// time, or before a ctime's year). Words split on single spaces, as the reader does.
fn leading_time(stamp: &str) -> bool {
    let reads = |t: &str| wire::time::parse_time(t, &TimeZone::UTC).is_some();
    if reads(stamp) {
        return true;
    }
    let words: Vec<&str> = stamp.split(' ').collect();
    let n = words.len();
    let without = |skip: usize| {
        let kept: Vec<&str> = (0..n).filter(|&i| i != skip).map(|i| words[i]).collect();
        kept.join(" ")
    };
    let clock = |t: &str| t.contains(':') && reads(t);
    let zone = wire::time::looks_like_zone_word;
    (n >= 2 && zone(words[n - 1]) && clock(&without(n - 1)))
        || (n >= 3 && !zone(words[n - 1]) && zone(words[n - 2]) && clock(&without(n - 2)))
}

/// Or it has a time's shape (README): an ISO date and a space or `T`, or a ctime's weekday,
/// month and day, then `hh:mm:ss`, then at most a fraction and words that are a four-digit year
/// or zone-shaped. Such text is the record's time even when its date or clock is none.
fn shaped_as_time(stamp: &str) -> bool {
    let c: Vec<char> = stamp.chars().collect();
    if c.len() < 19 {
        return false;
    }
    let digit = |i: usize| c[i].is_ascii_digit();
    let letter = |i: usize| c[i].is_ascii_alphabetic();
    let iso = (0..4).all(digit)
        && c[4] == '-'
        && digit(5)
        && digit(6)
        && c[7] == '-'
        && digit(8)
        && digit(9)
        && matches!(c[10], ' ' | 'T' | 't');
    let ctime = (0..3).all(letter)
        && c[3] == ' '
        && (4..7).all(letter)
        && c[7] == ' '
        && (c[8] == ' ' || digit(8))
        && digit(9)
        && c[10] == ' ';
    let clock = digit(11)
        && digit(12)
        && c[13] == ':'
        && digit(14)
        && digit(15)
        && c[16] == ':'
        && digit(17)
        && digit(18);
    if !((iso || ctime) && clock) {
        return false;
    }
    let mut rest: String = c[19..].iter().collect();
    if let Some(fraction) = rest.strip_prefix(['.', ',']) {
        let digits = fraction.chars().take_while(char::is_ascii_digit).count();
        if digits == 0 {
            return false;
        }
        rest = fraction[digits..].to_owned();
    }
    rest.split(' ').filter(|w| !w.is_empty()).all(|w| {
        (w.len() == 4 && w.chars().all(|c| c.is_ascii_digit()))
            || wire::time::looks_like_zone_word(w)
    })
}

/// What `Fields` does with a value: the first that is not absent wins, and a key that finds its
/// own name on the slot it offers to, with another value, contests it: the slot is emptied for
/// good.
fn offer<'k>(
    expected: &mut Vec<(Field, String, &'k str)>,
    contested: &mut bool,
    field: Field,
    value: &str,
    key: &'k str,
) {
    // No key's name: the slot's writer once contested.
    const CONTESTED: &str = "\0";
    match expected.iter_mut().find(|(f, _, _)| *f == field) {
        Some((_, old, by)) => {
            if !key.is_empty() && *by == key && old != value && field != Field::Other {
                (*old, *by) = (String::new(), CONTESTED);
                *contested = true;
            } else if *by != CONTESTED && wire::value::is_absent(old) {
                (*old, *by) = (value.to_string(), key);
            }
        }
        None => expected.push((field, value.to_string(), key)),
    }
}
