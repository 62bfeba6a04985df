//! Values undone in place, in the reader's copy of a line: a quoted field's doubled quotes,
//! and the escapes of a JSON string that an LSS CSV template writes with `%j`. Both only
//! shrink a value, and blank what they free, so that the copy stays UTF-8.

/// Makes each `""` one quote, in place, and blanks the bytes left over at the end (which could
/// end in the middle of a character); returns the new length.
pub(super) fn unquote(buf: &mut [u8]) -> usize {
    let (mut read, mut write) = (0, 0);
    while read < buf.len() {
        buf[write] = buf[read];
        read += if buf[read] == b'"' && buf.get(read + 1) == Some(&b'"') {
            2
        } else {
            1
        };
        write += 1;
    }
    buf[write..].fill(b' ');
    write
}

/// Undoes the escapes of a JSON string's text in place (`\"`, `\\`, `\/`, `\b`, `\f`, `\n`, `\r`,
/// `\t`, `\uXXXX` and surrogate pairs; a lone surrogate is U+FFFD, as in a JSON frame); a
/// backslash before anything else stays. Blanks the bytes left over at the end, and returns the
/// new length.
pub(super) fn json_unescape(buf: &mut [u8]) -> usize {
    let hex = |at: usize, buf: &[u8]| -> Option<u32> {
        let digits = buf.get(at..at + 4)?;
        // Four hex digits: `from_str_radix` would also take a sign.
        let digits = std::str::from_utf8(digits)
            .ok()
            .filter(|_| digits.iter().all(u8::is_ascii_hexdigit))?;
        u32::from_str_radix(digits, 16).ok()
    };
    let (mut read, mut write) = (0, 0);
    while read < buf.len() {
        let b = buf[read];
        let next = buf.get(read + 1).copied();
        let simple = match next {
            Some(c @ (b'"' | b'\\' | b'/')) => Some(c),
            Some(b'b') => Some(8),
            Some(b'f') => Some(12),
            Some(b'n') => Some(b'\n'),
            Some(b'r') => Some(b'\r'),
            Some(b't') => Some(b'\t'),
            _ => None,
        };
        if b != b'\\' {
            buf[write] = b;
            (read, write) = (read + 1, write + 1);
        } else if let Some(c) = simple {
            buf[write] = c;
            (read, write) = (read + 2, write + 1);
        } else if let (Some(b'u'), Some(high)) = (next, hex(read + 2, buf)) {
            read += 6;
            let low = (buf.get(read..read + 2) == Some(b"\\u"))
                .then(|| hex(read + 2, buf))
                .flatten()
                .filter(|low| (0xDC00..0xE000).contains(low));
            let code = match (high, low) {
                (0xD800..0xDC00, Some(low)) => {
                    read += 6;
                    0x10000 + ((high - 0xD800) << 10) + (low - 0xDC00)
                }
                _ => high,
            };
            let c = char::from_u32(code).unwrap_or(char::REPLACEMENT_CHARACTER);
            write += c.encode_utf8(&mut buf[write..]).len();
        } else {
            buf[write] = b;
            (read, write) = (read + 1, write + 1);
        }
    }
    buf[write..].fill(b' ');
    write
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_strings_lose_their_escapes() {
        for (text, want) in [
            (r#"a \"b\" C:\\d"#, r#"a "b" C:\d"#),
            (r"caf\u00e9 \/x\ty", "caf\u{e9} /x\ty"),
            (r"\ud83d\ude00!", "\u{1f600}!"),
            (r"\ud800x \q \u12", "\u{fffd}x \\q \\u12"),
            (r"\u+041", r"\u+041"),
            ("plain", "plain"),
        ] {
            let mut buf = text.as_bytes().to_vec();
            let len = json_unescape(&mut buf);
            assert_eq!(std::str::from_utf8(&buf[..len]), Ok(want), "{text}");
            assert!(std::str::from_utf8(&buf).is_ok(), "{text}");
        }
    }
}
