//! Where a JSON string, object or array ends, found without parsing it: the HTTP input checks a
//! body's shape with it before any of it is parsed, and the tape reader takes an object's text
//! from the frame as received. Strings are followed with their escapes, so a bracket or a quote
//! inside one counts for nothing. An Admin Audit's before or after whose quotes NSS left bare
//! (`"preaction":"{"id":1}"`, see `bare.rs`) counts as the one string it stands for.

/// The keys whose values NSS may send with bare quotes: an Admin Audit's before and after.
pub(crate) const BARE_KEYS: [&[u8]; 2] = [b"\"preaction\"", b"\"postaction\""];

/// The closing quote of the string whose text (after its opening quote) starts at `json[from]`.
pub fn string_end(json: &[u8], mut from: usize) -> Option<usize> {
    loop {
        from += memchr::memchr2(b'"', b'\\', json.get(from..)?)?;
        if json[from] == b'"' {
            return Some(from);
        }
        // `\"` and `\\` among them.
        from += 2;
    }
}

/// Where the object or array that opens at `json[open]` ends (just after its closing bracket);
/// `None` when it does not end in `json`, or `json[open]` opens none. Bare-quoted before and
/// after values inside are passed over whole ([`bare_or_string_end`]).
pub fn container_end(json: &[u8], open: usize) -> Option<usize> {
    end(json, open, true)
}

/// As [`container_end`], for JSON that is JSON throughout: what a bare-quoted value holds.
pub(crate) fn plain_container_end(json: &[u8], open: usize) -> Option<usize> {
    end(json, open, false)
}

/// The closing quote of the string that opens at `json[quote]`, a bare-quoted before or after
/// included while `*looking`: its end is found by reading the JSON it holds, strings and all
/// (their brackets and escaped quotes count for nothing), which a quote must follow. One that
/// does not end so turns `*looking` off, so that a hostile frame costs one such reading to its
/// end, not one for each value.
pub fn bare_or_string_end(json: &[u8], quote: usize, looking: &mut bool) -> Option<usize> {
    if *looking {
        if let Some(open) = bare_open(json, quote) {
            match plain_container_end(json, open) {
                Some(close) if json.get(close) == Some(&b'"') => return Some(close),
                _ => *looking = false,
            }
        }
    }
    string_end(json, quote + 1)
}

/// Where the JSON of a bare-quoted before or after opens, when the string at `json[quote]` is
/// one: the value of `"preaction"` or `"postaction"` that starts with `{` or `[` (more may
/// follow, and spaces) and then a bare quote followed by what JSON never has after a string
/// (`"{"id`). Valid JSON has `{\"` there, or is the brackets alone (`"{"`, `"[{"`) followed
/// by a comma, a colon, a closing bracket or a space.
pub(crate) fn bare_open(json: &[u8], quote: usize) -> Option<usize> {
    let open = quote + 1;
    if !matches!(json.get(open), Some(b'{' | b'[')) {
        return None;
    }
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
    let key = json[..quote]
        .trim_ascii_end()
        .strip_suffix(b":")?
        .trim_ascii_end();
    BARE_KEYS
        .iter()
        .any(|name| key.ends_with(name))
        .then_some(open)
}

fn end(json: &[u8], open: usize, bare: bool) -> Option<usize> {
    if !matches!(json.get(open), Some(b'{' | b'[')) {
        return None;
    }
    let mut looking = bare;
    let mut depth = 0usize;
    let mut at = open;
    while let Some(&b) = json.get(at) {
        match b {
            b'"' => at = bare_or_string_end(json, at, &mut looking)?,
            b'{' | b'[' => depth += 1,
            b'}' | b']' => {
                depth -= 1;
                if depth == 0 {
                    return Some(at + 1);
                }
            }
            _ => {}
        }
        at += 1;
    }
    None
}

/// [`ends_with_object`], or a line that ends with `}` and holds `{"`: one whose values NSS wrote
/// as they are (a `%s{ua}` with quotes of its own), which no JSON reading closes. What the HTTP
/// input takes a body's first line for a JSON record by, and what loadgen checks a line it posts
/// by.
pub fn holds_an_object(line: &[u8]) -> bool {
    ends_with_object(line) || (line.ends_with(b"}") && memchr::memmem::find(line, b"{\"").is_some())
}

/// Whether a line (trimmed) ends with an object that opens at one of its first few `{`, after
/// text such as a syslog header or a template's lead, which may hold braces of its own
/// (`ZSCALER {web}: {…}`): `{`, then a key's quote or its end (`{x}` is braces in text), closing
/// at the line's end.
pub fn ends_with_object(line: &[u8]) -> bool {
    let object = |at: usize| {
        let inner = line[at + 1..].iter().find(|b| !b.is_ascii_whitespace());
        matches!(inner, Some(b'"' | b'}')) && container_end(line, at) == Some(line.len())
    };
    memchr::memchr_iter(b'{', line).take(8).any(object)
}

/// `range` of `json` without the whitespace at its ends.
pub fn trim(json: &[u8], mut range: std::ops::Range<usize>) -> std::ops::Range<usize> {
    #[cfg(test)]
    let before = range.len();
    while range.start < range.end && json[range.start].is_ascii_whitespace() {
        range.start += 1;
    }
    while range.end > range.start && json[range.end - 1].is_ascii_whitespace() {
        range.end -= 1;
    }
    #[cfg(test)]
    TRIMMED.with(|t| t.set(t.get() + before - range.len()));
    range
}

#[cfg(test)]
thread_local! {
    /// Whitespace stepped over by [`trim`]: what the tests of the readers that trim count.
    pub(crate) static TRIMMED: std::cell::Cell<usize> = const { std::cell::Cell::new(0) };
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ends_are_found_past_strings_escapes_and_nesting() {
        assert_eq!(container_end(br#"{"a":[1,{}]} "#, 0), Some(12));
        assert_eq!(container_end(br#"x{"a":"}\"{"} "#, 1), Some(13));
        assert_eq!(container_end(br#"[{"a":"\\"}]"#, 0), Some(12));
        assert_eq!(container_end(br#"{"a":{}"#, 0), None);
        assert_eq!(container_end(br#"{"a":"}"#, 0), None);
        assert_eq!(container_end(b"a", 0), None);
        assert_eq!(string_end(br#"ab\"c" "#, 0), Some(5));
        assert_eq!(string_end(br#"ab\"#, 0), None);
        // An Admin Audit's bare-quoted before and after: one string each, whatever their own
        // strings hold (escaped quotes, brackets).
        for audit in [
            &br#"{"preaction":"{"name":"a \"b\" \\"}","x":1}"#[..],
            br#"{"preaction":"{"name":"[::1]"}", "postaction" : "[{"n":"}{"}]","x":1}"#,
        ] {
            assert_eq!(container_end(audit, 0), Some(audit.len()));
        }
        // The same after another key: strings as JSON has them (the first `}` closes).
        assert_eq!(container_end(br#"{"a":"{"b":"}"}"#, 0), Some(13));
        let audit = br#"{"preaction":"{"b":"}"}"}"#;
        assert_eq!(container_end(audit, 0), Some(audit.len()));
    }

    #[test]
    fn a_frame_of_bare_values_that_never_end_is_read_once() {
        // Each value's JSON runs to the frame's end: read for the first only, or this frame
        // would cost 20,000 readings of itself.
        let mut frame = b"{".to_vec();
        for _ in 0..20_000 {
            frame.extend_from_slice(br#""preaction":"{"a"#);
        }
        assert_eq!(container_end(&frame, 0), None);
    }

    #[test]
    fn a_line_ends_with_an_object_after_text_with_braces_of_its_own() {
        assert!(ends_with_object(br#"{"a":1}"#));
        assert!(ends_with_object(br#"ZSCALER {web}: {"a":1}"#));
        assert!(ends_with_object(b"<134>x {}"));
        assert!(!ends_with_object(b"hello {x}"));
        assert!(!ends_with_object(br#"{"a":1} x"#));
        assert!(!ends_with_object(br#""a","{b}""#));
        // Values NSS wrote as they are: no JSON, but a record.
        let raw = br#"<134>x {"ua":"a"b","n":1}"#;
        assert!(!ends_with_object(raw) && holds_an_object(raw));
        assert!(!holds_an_object(b"hello {x}"));
    }
}
