//! The CEF reader against a slow reference written from the rules in `wire::format::cef`: the
//! same outcome, the same header fields and the same pairs, unescaped; a frame read as plain
//! text has no value a JSON string must escape; and the frame through a decoder gives a record
//! line or a reason. Inputs that do not start with `CEF:` get it put in front.
#![no_main]

use jiff::tz::TimeZone;
use jiff::Timestamp;
use wire::decode::Decoder;
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

    let mut out = Vec::new();
    let received = Timestamp::from_second(1_767_225_600).expect("in range");
    let mut decoder = Decoder::new(TimeZone::UTC);
    if decoder.decode(&text, received, &mut out).is_ok() {
        let record: serde_json::Value = serde_json::from_slice(&out).expect("a record is JSON");
        assert!(record.is_object());
    } else {
        assert!(out.is_empty(), "a refused frame wrote a record");
    }
});

fn plain(value: &str) -> bool {
    !value.chars().any(|c| c < ' ' || c == '"' || c == '\\')
}

/// CEF, one character at a time.
fn reference(text: &[u8]) -> Result<Frame, Reason> {
    let text = std::str::from_utf8(text).map_err(|_| Reason::InvalidUtf8)?;
    let rest = text.strip_prefix("CEF:").ok_or(Reason::MalformedCef)?;
    let chars: Vec<char> = rest.chars().collect();
    let mut header = Vec::new();
    let mut field = String::new();
    let mut i = 0;
    while header.len() < 7 {
        match (chars.get(i), chars.get(i + 1)) {
            (None, _) => return Err(Reason::MalformedCef),
            (Some('\\'), Some(&next)) => {
                if next != '|' && next != '\\' {
                    field.push('\\');
                }
                field.push(next);
                i += 2;
            }
            (Some('|'), _) => {
                header.push(std::mem::take(&mut field));
                i += 1;
            }
            (Some(&c), _) => {
                field.push(c);
                i += 1;
            }
        }
    }
    Ok((header, spaced(&chars[i..], unescape)))
}

fn is_key(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '_' || c == '.' || c == '-'
}

/// Space-separated pairs: a key follows a space or starts the text and ends at `=`; its value
/// runs to the space before the next key, without trailing spaces.
fn spaced(text: &[char], unescape: fn(&[char]) -> String) -> Vec<(String, String)> {
    let mut keys = Vec::new();
    for (eq, &c) in text.iter().enumerate() {
        if c != '=' {
            continue;
        }
        let mut start = eq;
        while start > 0 && is_key(text[start - 1]) {
            start -= 1;
        }
        if start < eq && (start == 0 || text[start - 1] == ' ') {
            keys.push((start, eq));
        }
    }
    let mut pairs = Vec::new();
    for (n, &(start, eq)) in keys.iter().enumerate() {
        let end = keys.get(n + 1).map_or(text.len(), |&(next, _)| next - 1);
        let mut value = text[eq + 1..end].to_vec();
        while value.last() == Some(&' ') {
            value.pop();
        }
        pairs.push((text[start..eq].iter().collect(), unescape(&value)));
    }
    pairs
}

/// `\=`, `\\`, `\|`, `\n` and `\r`; any other backslash stays.
fn unescape(value: &[char]) -> String {
    let mut out = String::new();
    let mut i = 0;
    while i < value.len() {
        let c = value[i];
        let escaped = match (c, value.get(i + 1)) {
            ('\\', Some(&next @ ('=' | '\\' | '|'))) => Some(next),
            ('\\', Some('n')) => Some('\n'),
            ('\\', Some('r')) => Some('\r'),
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
