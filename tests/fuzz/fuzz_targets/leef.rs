//! The LEEF reader against a slow reference written from the rules in `wire::format::leef`: the
//! same outcome, the same header fields, delimiter and pairs, unescaped; a frame read as plain
//! text has no value a JSON string must escape; and the frame through a decoder gives a record
//! line or a reason, checked as `shared::run` checks every decoder's output. Inputs that do not
//! start with `LEEF:` get it put in front.
#![no_main]

mod escaped;
mod shared;

use wire::fields::Fields;
use wire::format::leef::Reader;
use wire::reason::Reason;

/// Header fields, delimiter and pairs, as the reference reads them.
type Frame = (Vec<String>, String, Vec<(String, String)>);

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let text = if data.starts_with(b"LEEF:") {
        data.to_vec()
    } else {
        [b"LEEF:", data].concat()
    };
    let want = reference(&text);
    let mut reader = Reader::default();
    let got = reader.parse(&text).map(|parsed| {
        let header = (0..5).map(|i| parsed.header(i).to_string()).collect();
        let delimiter = String::from_utf8(parsed.delimiter.as_bytes().to_vec()).expect("a char");
        let pairs = parsed
            .pairs()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        (header, delimiter, pairs)
    });
    assert_eq!(got, want, "{:?}", String::from_utf8_lossy(&text));

    let mut fields = Fields::default();
    if let (Ok(true), Ok((_, _, pairs))) = (reader.read(&text, &mut fields), &want) {
        for (key, value) in pairs {
            if wire::keys::lookup_leef(key).is_some() {
                assert!(plain(value), "{key}={value:?} read as plain text");
            }
        }
    }

    shared::run(&text);
});

fn plain(value: &str) -> bool {
    !value.chars().any(|c| c < ' ' || c == '"' || c == '\\')
}

/// LEEF, one character at a time.
fn reference(text: &[u8]) -> Result<Frame, Reason> {
    let text = std::str::from_utf8(text).map_err(|_| Reason::InvalidUtf8)?;
    // Spaces after the tag are a relay's (rsyslog spaces a `LEEF:` it took for a syslog tag).
    let rest = text.strip_prefix("LEEF:").ok_or(Reason::MalformedLeef)?;
    let rest = rest.trim_start_matches(' ');
    let chars: Vec<char> = rest.chars().collect();
    let (first, i0) = escaped::header(&chars, 5, Reason::MalformedLeef)?;
    let two = first[0].starts_with('2');
    let mut delimiter = '\t';
    // 2.0's delimiter field: the raw text up to the next `|` that no backslash escapes, when it
    // declares one and, unless that is `|`, no `|` comes after it before the attributes' `=`.
    let mut j = i0;
    while j < chars.len() && chars[j] != '|' {
        j += if chars[j] == '\\' { 2 } else { 1 };
    }
    let field: String = chars[i0..j.min(chars.len())].iter().collect();
    let last = j < chars.len() && escaped::pipes_before_eq(&chars, j + 1).is_empty();
    let fits = |d: char| two && !d.is_alphanumeric() && (d == '|' || last);
    let (header, i) = match declared(&field).filter(|&d| fits(d)) {
        Some(declared) => {
            delimiter = declared;
            (first, j + 1)
        }
        None => {
            // The EventID takes the `|`s NSS leaves in it; the last of the fields it took may
            // be 2.0's delimiter field.
            let (mut header, i) = escaped::widened(&chars, 5, 4, Reason::MalformedLeef)?;
            let k = escaped::pipes_before_eq(&chars, i0).len();
            if two && k > 0 {
                let (parts, _) = escaped::header(&chars[..i], 5 + k, Reason::MalformedLeef)?;
                let mut pipes = vec![i0 - 1];
                pipes.extend(escaped::pipes_before_eq(&chars, i0));
                let candidate: String = chars[pipes[k - 1] + 1..pipes[k]].iter().collect();
                if let Some(declared) = declared(&candidate).filter(|c| !c.is_alphanumeric()) {
                    delimiter = declared;
                    header[4] = parts[4..4 + k].join("|");
                }
            }
            (header, i)
        }
    };
    let attributes = &chars[i..];
    // Values are as written: LEEF defines no escapes, and NSS writes none.
    let unescape = |value: &[char]| -> String { value.iter().collect() };
    let pairs = if delimiter == '\t' && !attributes.contains(&'\t') {
        escaped::spaced(attributes, true, &unescape)
    } else {
        // Each attribute as its range of `attributes`.
        let mut pieces = vec![(0, 0)];
        for (j, &c) in attributes.iter().enumerate() {
            if c == delimiter {
                pieces.push((j + 1, j + 1));
            } else {
                pieces.last_mut().unwrap().1 = j + 1;
            }
        }
        // Each pair's key (runs of key characters, a `:` between each two), and its value's
        // range: text that is no pair is the value's before it (delimiters included), unless
        // it is blank.
        let mut found: Vec<(String, usize, usize)> = Vec::new();
        for (start, end) in pieces {
            let piece = &attributes[start..end];
            let key = piece.iter().position(|&c| c == '=').map(|eq| {
                let key: String = piece[..eq].iter().collect();
                (key.trim_matches(' ').to_string(), start + eq + 1)
            });
            match key {
                Some((key, value)) if is_leef_key(&key) => found.push((key, value, end)),
                _ if piece.iter().all(|&c| c == ' ' || c == '\t') => {}
                _ => {
                    if let Some(last) = found.last_mut() {
                        last.2 = end;
                    }
                }
            }
        }
        found
            .into_iter()
            .map(|(key, start, end)| (key, unescape(&attributes[start..end])))
            .collect()
    };
    Ok((header, delimiter.to_string(), pairs))
}

/// A LEEF key: runs of key characters with a `:` between each two.
fn is_leef_key(key: &str) -> bool {
    key.split(':')
        .all(|run| !run.is_empty() && run.chars().all(escaped::is_key))
}

/// A LEEF 2.0 delimiter field: nothing (a tab), one character, or its code in hex.
fn declared(field: &str) -> Option<char> {
    let c = match field.chars().count() {
        0 => '\t',
        1 => field.chars().next()?,
        _ => {
            let digits = ["0x", "0X", "x", "X"]
                .iter()
                .find_map(|prefix| field.strip_prefix(prefix))?;
            if digits.is_empty()
                || digits.len() > 4
                || !digits.chars().all(|c| c.is_ascii_hexdigit())
            {
                return None;
            }
            char::from_u32(u32::from_str_radix(digits, 16).ok()?)?
        }
    };
    (c != '\\' && c != '=').then_some(c)
}
