//! An Admin Audit record's before and after whose quotes NSS left bare: the JSON feed template
//! quotes `%s{preaction}` and `%s{postaction}`, which are JSON documents themselves, and NSS
//! escapes in them only the Feed Escape Character (`,` as `%2c`, unless an admin also chose
//! `"`). The line is then not JSON (`"preaction":"{"id":6%2c"name":"x"}"`), though what it means
//! is plain; Google's SecOps documentation shows such a line as its audit sample. Such a value is
//! found by its brackets, its quotes (and backslashes) are escaped in a copy of the frame, and
//! the copy is read instead. Only frames that simd-json reads come here, and only those holding
//! `action":"{"` or `action":"["` (spaces allowed), which valid JSON never does where a value of
//! more than `{` or `[` follows.

use memchr::memmem;

/// The keys whose values are treated so.
const KEYS: [&[u8]; 2] = [b"\"preaction\"", b"\"postaction\""];

/// Writes into `out` a copy of `json` in which each before or after value with bare quotes is
/// escaped, and returns true; false (and `out` undefined) when there is none, or when a
/// value's brackets do not close just before a quote (then the frame is left as it was, to be
/// refused).
pub fn escape(json: &[u8], out: &mut Vec<u8>) -> bool {
    // Each value's brackets, in the frame's order (templates write the two keys either way).
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

/// After a key: `:`, the value's opening quote and a bracket, then a bare quote (spaces allowed
/// where JSON allows them). Returns where the bracket opens and where its match closes, which
/// a quote must follow.
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
    let open = at + 1;
    if !matches!(json.get(open), Some(b'{' | b'[')) {
        return None;
    }
    // A bare quote right inside the brackets (`{"id`, `[{"id`), then no token JSON could take
    // after a string: the value is not JSON there. Valid JSON has `{\"` there, or is the
    // brackets alone (`"{"`, `"[{"`) followed by a comma, a colon, a closing bracket or a
    // space, which is left alone.
    let mut inner = open + 1;
    while json
        .get(inner)
        .is_some_and(|&b| b == b'{' || b == b'[' || b.is_ascii_whitespace())
    {
        inner += 1;
    }
    (json.get(inner) == Some(&b'"')).then_some(())?;
    let after = *json.get(inner + 1)?;
    if matches!(after, b',' | b':' | b'}' | b']') || after.is_ascii_whitespace() {
        return None;
    }
    let mut depth = 0usize;
    for (i, &b) in json.iter().enumerate().skip(open) {
        match b {
            b'{' | b'[' => depth += 1,
            b'}' | b']' => {
                depth -= 1;
                if depth == 0 {
                    return (json.get(i + 1) == Some(&b'"')).then_some((open, i));
                }
            }
            _ => {}
        }
    }
    None
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
