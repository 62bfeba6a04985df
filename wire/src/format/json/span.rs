//! Where a JSON string, object or array ends, found without parsing it: the HTTP input checks a
//! body's shape with it before any of it is parsed, and the tape reader takes an object's text
//! from the frame as received. Strings are followed with their escapes, so a bracket or a quote
//! inside one counts for nothing.

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
/// `None` when it does not end in `json`, or `json[open]` opens none. A backslash outside a
/// string, never in valid JSON, escapes the byte after it: in an Admin Audit's bare-quoted
/// before or after (`bare.rs`) the quotes of the value's own strings are offset by one, so
/// their escapes fall outside, and the quote after one must not open a string.
pub fn container_end(json: &[u8], open: usize) -> Option<usize> {
    if !matches!(json.get(open), Some(b'{' | b'[')) {
        return None;
    }
    let mut depth = 0usize;
    let mut at = open;
    while let Some(&b) = json.get(at) {
        match b {
            b'"' => at = string_end(json, at + 1)?,
            b'\\' => at += 1,
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

/// Whether a line (trimmed) ends with an object that opens at one of its first few `{`, after
/// text such as a syslog header or a template's lead, which may hold braces of its own
/// (`ZSCALER {web}: {…}`): `{`, then a key's quote or its end (`{x}` is braces in text), closing
/// at the line's end. What the HTTP input takes a body's first line for a record by, and what
/// loadgen checks a line it posts by.
pub fn ends_with_object(line: &[u8]) -> bool {
    let object = |at: usize| {
        let inner = line[at + 1..].iter().find(|b| !b.is_ascii_whitespace());
        matches!(inner, Some(b'"' | b'}')) && container_end(line, at) == Some(line.len())
    };
    memchr::memchr_iter(b'{', line).take(8).any(object)
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
        // An Admin Audit's bare-quoted before, its own escapes outside the scan's strings.
        let audit = br#"{"preaction":"{"name":"a \"b\" \\"}","x":1}"#;
        assert_eq!(container_end(audit, 0), Some(audit.len()));
    }

    #[test]
    fn a_line_ends_with_an_object_after_text_with_braces_of_its_own() {
        assert!(ends_with_object(br#"{"a":1}"#));
        assert!(ends_with_object(br#"ZSCALER {web}: {"a":1}"#));
        assert!(ends_with_object(b"<134>x {}"));
        assert!(!ends_with_object(b"hello {x}"));
        assert!(!ends_with_object(br#"{"a":1} x"#));
        assert!(!ends_with_object(br#""a","{b}""#));
    }
}
