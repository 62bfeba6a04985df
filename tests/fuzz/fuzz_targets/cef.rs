//! The CEF reader against a slow reference written from the rules in `wire::format::cef`: the
//! same outcome, the same header fields and the same pairs, unescaped; a frame read as plain
//! text has no value a JSON string must escape; and the frame through a decoder gives a record
//! line or a reason, checked as `shared::run` checks every decoder's output. Inputs that do not
//! start with `CEF:` get it put in front.
#![no_main]

mod escaped;
mod shared;

use wire::fields::Fields;
use wire::format::cef::Reader;
use wire::reason::Reason;

/// Header fields and pairs, as the reference reads them.
type Frame = (Vec<String>, Vec<(String, String)>);

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let text = if data.starts_with(b"CEF:") {
        data.to_vec()
    } else {
        [b"CEF:", data].concat()
    };
    let want = reference(&text);
    let mut reader = Reader::default();
    let got = reader.parse(&text).map(|parsed| {
        let header = (0..7).map(|i| parsed.header(i).to_string()).collect();
        let pairs = parsed
            .pairs()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        (header, pairs)
    });
    assert_eq!(got, want, "{:?}", String::from_utf8_lossy(&text));

    let mut fields = Fields::default();
    if let (Ok(true), Ok((_, pairs))) = (reader.read(&text, &mut fields), &want) {
        for (key, value) in pairs {
            // A time without a year is left to the syslog header, unread.
            let hit = wire::keys::lookup(key);
            if hit.is_some_and(|hit| hit.field != wire::keys::Field::Time) {
                assert!(plain(value), "{key}={value:?} read as plain text");
            }
        }
    }

    shared::run(&text);
});

fn plain(value: &str) -> bool {
    !value.chars().any(|c| c < ' ' || c == '"' || c == '\\')
}

/// CEF, one character at a time.
fn reference(text: &[u8]) -> Result<Frame, Reason> {
    let text = std::str::from_utf8(text).map_err(|_| Reason::InvalidUtf8)?;
    // Spaces after the tag are a relay's (rsyslog spaces a `CEF:` it took for a syslog tag).
    let rest = text.strip_prefix("CEF:").ok_or(Reason::MalformedCef)?;
    let rest = rest.trim_start_matches(' ');
    let chars: Vec<char> = rest.chars().collect();
    // The Name (the sixth field) takes the `|`s NSS leaves in a value.
    let (header, i) = escaped::widened(&chars, 7, 5, Reason::MalformedCef)?;
    Ok((header, escaped::spaced(&chars[i..], false, &unescape)))
}

/// `\=` and `\|`; any other backslash stays.
fn unescape(value: &[char]) -> String {
    let mut out = String::new();
    let mut i = 0;
    while i < value.len() {
        let c = value[i];
        let escaped = match (c, value.get(i + 1)) {
            ('\\', Some(&next @ ('=' | '|'))) => Some(next),
            _ => None,
        };
        match escaped {
            Some(e) => {
                out.push(e);
                i += 2;
            }
            None => {
                out.push(c);
                i += 1;
            }
        }
    }
    out
}
