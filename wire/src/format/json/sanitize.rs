//! Valid JSON that simd-json would refuse or change, made into JSON it reads as it should, in
//! place and keeping every length (so nothing moves): numbers too large for it to parse become
//! `null` (the value is unusable anyway, and a record must not be lost for a field it may not
//! even use). A lone UTF-16 surrogate escape (`\ud800` without its other half) becomes `\ufffd`,
//! the replacement character, so that simd-json reads the rest (it would turn a lone high
//! surrogate into a NUL and refuse a lone low one), and is said: in a field that names a device
//! or a user, two names that differ only there would be one, so such a frame is refused as
//! `invalid_utf8` ([`super::Reader::read`]). NSS and LSS never write one.
//!
//! Only frames the fast path declines come here, and only their copy is changed: the frame stays
//! as received for its dead letter.

/// Rewrites `json` in place; see the module docs. `Err` when a lone surrogate escape was
/// replaced.
pub fn sanitize(json: &mut [u8]) -> Result<(), LoneSurrogate> {
    let mut at = 0;
    let mut lone = false;
    while at < json.len() {
        match json[at] {
            b'"' => at = string(json, at + 1, &mut lone),
            b'-' | b'0'..=b'9' => at = number(json, at),
            _ => at += 1,
        }
    }
    if lone {
        Err(LoneSurrogate)
    } else {
        Ok(())
    }
}

/// A string of the frame holds a `\uXXXX` escape of one half of a surrogate pair alone.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LoneSurrogate;

/// Walks a string from just after its opening quote; returns where it ended (after its closing
/// quote, or the end of the input). Lone surrogate escapes are replaced on the way, and `lone`
/// set.
fn string(json: &mut [u8], mut at: usize, lone: &mut bool) -> usize {
    while at < json.len() {
        match json[at] {
            b'"' => return at + 1,
            b'\\' if json.get(at + 1) == Some(&b'u') => match surrogate(json, at) {
                Some(High) if surrogate(json, at + 6) == Some(Low) => at += 12,
                Some(_) => {
                    json[at + 2..at + 6].copy_from_slice(b"fffd");
                    *lone = true;
                    at += 6;
                }
                None => at += 6,
            },
            b'\\' => at += 2,
            _ => at += 1,
        }
    }
    at
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Half {
    High,
    Low,
}
use Half::{High, Low};

/// Which half of a surrogate pair the `\uXXXX` escape at `at` is, if it is one.
fn surrogate(json: &[u8], at: usize) -> Option<Half> {
    let escape = json.get(at..at + 6)?;
    if escape[0] != b'\\' || escape[1] != b'u' || !escape[2].eq_ignore_ascii_case(&b'd') {
        return None;
    }
    if !escape[4..6].iter().all(u8::is_ascii_hexdigit) {
        return None;
    }
    match escape[3].to_ascii_lowercase() {
        b'8'..=b'9' | b'a'..=b'b' => Some(High),
        b'c'..=b'f' => Some(Low),
        _ => None,
    }
}

/// Looks at a number token at `at`; returns where it ends. One that simd-json cannot parse (an
/// integer beyond 64 bits, a float beyond f64's range) is replaced by `null` and spaces.
fn number(json: &mut [u8], at: usize) -> usize {
    let len = json[at..]
        .iter()
        .take_while(|b| matches!(b, b'-' | b'+' | b'.' | b'e' | b'E' | b'0'..=b'9'))
        .count();
    let end = at + len;
    if len >= 4 && !fits(&json[at..end]) {
        json[at..at + 4].copy_from_slice(b"null");
        json[at + 4..end].fill(b' ');
    }
    end
}

/// Whether simd-json parses this number token: an integer within 64 bits, or a float whose
/// magnitude f64 holds. Tokens that are no JSON number are left for simd-json to report.
fn fits(token: &[u8]) -> bool {
    let Ok(text) = std::str::from_utf8(token) else {
        return true;
    };
    if !is_json_number(token) {
        return true;
    }
    if !text.contains(['.', 'e', 'E']) {
        return text.parse::<u64>().is_ok() || text.parse::<i64>().is_ok();
    }
    text.parse::<f64>().map_or(true, f64::is_finite)
}

/// `-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?`
fn is_json_number(t: &[u8]) -> bool {
    let digits = |t: &[u8], at: usize| t[at..].iter().take_while(|b| b.is_ascii_digit()).count();
    let mut at = usize::from(t.first() == Some(&b'-'));
    let int = digits(t, at);
    if int == 0 || (int > 1 && t[at] == b'0') {
        return false;
    }
    at += int;
    if t.get(at) == Some(&b'.') {
        let frac = digits(t, at + 1);
        if frac == 0 {
            return false;
        }
        at += 1 + frac;
    }
    if matches!(t.get(at), Some(b'e' | b'E')) {
        at += 1;
        if matches!(t.get(at), Some(b'+' | b'-')) {
            at += 1;
        }
        let exp = digits(t, at);
        if exp == 0 {
            return false;
        }
        at += exp;
    }
    at == t.len()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn clean(text: &str) -> String {
        let mut bytes = text.as_bytes().to_vec();
        assert_eq!(sanitize(&mut bytes), Ok(()), "{text}");
        String::from_utf8(bytes).unwrap()
    }

    #[test]
    fn numbers_out_of_range_become_null() {
        assert_eq!(clean(r#"{"a":1e400,"b":2}"#), r#"{"a":null ,"b":2}"#);
        assert_eq!(
            clean(r#"{"a":123456789012345678901234567890}"#),
            r#"{"a":null                          }"#
        );
        assert_eq!(
            clean(r#"{"a":-1e-400}"#),
            r#"{"a":-1e-400}"#,
            "underflow is 0"
        );
        assert_eq!(
            clean(r#"{"a":18446744073709551615}"#),
            r#"{"a":18446744073709551615}"#
        );
        assert_eq!(
            clean(r#"{"a":"1e400"}"#),
            r#"{"a":"1e400"}"#,
            "not inside strings"
        );
        // What is no JSON number stays for simd-json to refuse.
        for bad in [
            r#"{"a":12-3}"#,
            r#"{"a":0123}"#,
            r#"{"a":1.e5000}"#,
            r#"{"a":1e}"#,
        ] {
            assert_eq!(clean(bad), bad);
        }
    }

    #[test]
    fn a_lone_surrogate_is_replaced_and_said() {
        for (lone, replaced) in [
            (r#"{"a":"H\ud800X"}"#, r#"{"a":"H\ufffdX"}"#),
            (r#"{"a":"H\uDC00X"}"#, r#"{"a":"H\ufffdX"}"#),
            (r#"{"a":"\ude00\ud83d"}"#, r#"{"a":"\ufffd\ufffd"}"#),
            (r#"{"a":"\ud800"#, r#"{"a":"\ufffd"#),
        ] {
            let mut bytes = lone.as_bytes().to_vec();
            assert_eq!(sanitize(&mut bytes), Err(LoneSurrogate), "{lone}");
            assert_eq!(bytes, replaced.as_bytes(), "{lone}");
        }
        assert_eq!(
            clean(r#"{"a":"\ud83d\ude00"}"#),
            r#"{"a":"\ud83d\ude00"}"#,
            "a pair stays"
        );
        assert_eq!(
            clean(r#"{"a":"\\ud800"}"#),
            r#"{"a":"\\ud800"}"#,
            "an escaped backslash"
        );
    }
}
