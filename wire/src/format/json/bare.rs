//! An Admin Audit record's before and after whose quotes NSS left bare: the JSON feed template
//! quotes `%s{preaction}` and `%s{postaction}`, which are JSON documents themselves, and NSS
//! escapes in them only the Feed Escape Character (`,` as `%2c`, unless an admin also chose
//! `"`). The line is then not JSON (`"preaction":"{"id":6%2c"name":"x"}"`), though what it means
//! is plain; Google's SecOps documentation shows such a line as its audit sample. Such a value is
//! found by reading the JSON it holds (Zscaler's own, valid), its quotes (and backslashes) are
//! escaped in a copy of the frame, and the copy is read instead. Only frames that simd-json
//! reads come here, and only those holding `action":"{"` or `action":"["` (spaces allowed),
//! which valid JSON never does where a value of more than `{` or `[` follows.

use memchr::memmem;

use super::span::{self, BARE_KEYS as KEYS};

/// Writes into `out` a copy of `json` in which each before or after value with bare quotes is
/// escaped, and returns true; false (and `out` undefined) when there is none, or when a
/// value's JSON does not close just before a quote (then the frame is left as it was, to be
/// refused).
pub fn escape(json: &[u8], out: &mut Vec<u8>) -> bool {
    // Each value's JSON, in the frame's order (templates write the two keys either way).
    // Only each key's first place: templates write each once, and a frame of many, whose
    // brackets never close, made each search read to its end.
    let mut values: Vec<(usize, usize)> = KEYS
        .iter()
        .filter_map(|key| memmem::find(json, key).map(|at| at + key.len()))
        .filter_map(|after| bare_value(json, after))
        .collect();
    if values.is_empty() {
        return false;
    }
    values.sort_unstable();
    out.clear();
    let mut copied = 0;
    for (open, close) in values {
        if open < copied {
            continue;
        }
        out.extend_from_slice(&json[copied..open]);
        for &b in &json[open..=close] {
            if matches!(b, b'"' | b'\\') {
                out.push(b'\\');
            }
            out.push(b);
        }
        copied = close + 1;
    }
    out.extend_from_slice(&json[copied..]);
    true
}

/// After a key: `:` and the value's opening quote (spaces allowed where JSON allows them), then
/// a bare-quoted value ([`span::bare_open`]). Returns where its JSON opens and closes (the
/// closing bracket, which a quote must follow); its JSON is read as JSON, so brackets and
/// escaped quotes inside its strings count for nothing.
fn bare_value(json: &[u8], mut at: usize) -> Option<(usize, usize)> {
    let spaces = |at: &mut usize| {
        while json.get(*at).is_some_and(u8::is_ascii_whitespace) {
            *at += 1;
        }
    };
    spaces(&mut at);
    (json.get(at) == Some(&b':')).then_some(())?;
    at += 1;
    spaces(&mut at);
    (json.get(at) == Some(&b'"')).then_some(())?;
    let open = span::bare_open(json, at)?;
    let end = span::plain_container_end(json, open)?;
    (json.get(end) == Some(&b'"')).then_some((open, end - 1))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn escaped(json: &str) -> Option<String> {
        let mut out = Vec::new();
        escape(json.as_bytes(), &mut out).then(|| String::from_utf8(out).unwrap())
    }

    #[test]
    fn bare_quotes_in_a_before_and_after_are_escaped() {
        let line = r#"{"action":"UPDATE","preaction": "{"id":{"val":130%2c"m":[1%2c2]}%2c"n":""}","postaction":"{}","x":1}"#;
        let fixed = escaped(line).expect("repaired");
        assert_eq!(
            fixed,
            r#"{"action":"UPDATE","preaction": "{\"id\":{\"val\":130%2c\"m\":[1%2c2]}%2c\"n\":\"\"}","postaction":"{}","x":1}"#
        );
        let value: serde_json::Value = serde_json::from_str(&fixed).expect("JSON now");
        assert_eq!(value["postaction"], "{}");
        // A list of objects.
        assert_eq!(
            escaped(r#"{"preaction":"[{"id":1}%2c{"id":2}]"}"#).unwrap(),
            r#"{"preaction":"[{\"id\":1}%2c{\"id\":2}]"}"#
        );
        // Brackets and escaped quotes inside the value's own strings (an IPv6 literal, a name).
        assert_eq!(
            escaped(r#"{"preaction":"{"url":"[::1]:80"%2c"n":"a \"}\" ["}","x":1}"#).unwrap(),
            r#"{"preaction":"{\"url\":\"[::1]:80\"%2c\"n\":\"a \\\"}\\\" [\"}","x":1}"#
        );
        // Both, after before before (keys sorted), and an array.
        let both = r#"{"postaction":"{"b":"c\d"}","preaction":"["a"]"}"#;
        assert_eq!(
            escaped(both).unwrap(),
            r#"{"postaction":"{\"b\":\"c\\d\"}","preaction":"[\"a\"]"}"#
        );
    }

    #[test]
    fn valid_json_and_values_that_do_not_close_are_left_alone() {
        for line in [
            r#"{"preaction":"{\"id\":1}","postaction":"{}"}"#,
            r#"{"preaction":"{","postaction":"["}"#,
            // Valid JSON whose one-bracket value a later bracket would seem to close.
            r#"{"preaction":"{","postaction":"}"}"#,
            r#"{"preaction":"[" ,"postaction":"]"}"#,
            r#"{"preaction":"[{","postaction":"}]"}"#,
            r#"{"preaction":"None"}"#,
            // Brackets that do not close before a quote: no repair, the frame is refused.
            r#"{"preaction":"{"id":1","x":2}"#,
            r#"{"preaction":"{"id":{1}"#,
            r#"{"nothing":"here"}"#,
        ] {
            assert_eq!(escaped(line), None, "{line}");
        }
    }
}
