//! A small JSON Lines writer: records are written field by field straight into a batch buffer, in
//! the order DESIGN §2.4 fixes, with absent values left out. No serde on this path: it would
//! build the record twice.

use jiff::Timestamp;

/// One JSON object being appended to `out`.
pub struct Object<'b> {
    out: &'b mut Vec<u8>,
    empty: bool,
}

impl<'b> Object<'b> {
    pub fn begin(out: &'b mut Vec<u8>) -> Self {
        out.push(b'{');
        Object { out, empty: true }
    }

    /// Closes the object and ends the line.
    pub fn end_line(self) {
        self.out.extend_from_slice(b"}\n");
    }

    fn key(&mut self, key: &str) {
        if !self.empty {
            self.out.push(b',');
        }
        self.empty = false;
        // Keys are ztel's own constants: nothing to escape.
        self.out.push(b'"');
        self.out.extend_from_slice(key.as_bytes());
        self.out.extend_from_slice(b"\":");
    }

    pub fn str(&mut self, key: &str, value: &str) {
        self.key(key);
        write_str(self.out, value);
    }

    pub fn opt_str(&mut self, key: &str, value: Option<&str>) {
        if let Some(v) = value {
            self.str(key, v);
        }
    }

    pub fn u64(&mut self, key: &str, value: u64) {
        self.key(key);
        self.out
            .extend_from_slice(itoa::Buffer::new().format(value).as_bytes());
    }

    pub fn opt_u64(&mut self, key: &str, value: Option<u64>) {
        if let Some(v) = value {
            self.u64(key, v);
        }
    }

    /// A 64-bit id as 16 lower-case hex digits, as a string.
    pub fn hex_id(&mut self, key: &str, id: u64) {
        self.key(key);
        self.out.push(b'"');
        for shift in (0..16).rev() {
            self.out
                .push(b"0123456789abcdef"[((id >> (shift * 4)) & 0xf) as usize]);
        }
        self.out.push(b'"');
    }

    pub fn time(&mut self, key: &str, ts: Timestamp) {
        self.key(key);
        self.out.push(b'"');
        crate::parse::time::write_rfc3339(ts, self.out);
        self.out.push(b'"');
    }

    pub fn str_array<'s>(&mut self, key: &str, values: impl IntoIterator<Item = &'s str>) {
        self.key(key);
        self.out.push(b'[');
        for (i, v) in values.into_iter().enumerate() {
            if i > 0 {
                self.out.push(b',');
            }
            write_str(self.out, v);
        }
        self.out.push(b']');
    }
}

/// Appends `s` as a JSON string. Most values need no escaping: one branch-free pass decides
/// (the compiler vectorises it), and the string is copied whole; otherwise only `"`, `\` and
/// control characters are escaped (UTF-8 passes through).
pub fn write_str(out: &mut Vec<u8>, s: &str) {
    let bytes = s.as_bytes();
    let plain = !bytes.iter().fold(false, |any, &b| {
        any | (b < 0x20) | (b == b'"') | (b == b'\\')
    });
    out.reserve(bytes.len() + 2);
    out.push(b'"');
    if plain {
        out.extend_from_slice(bytes);
        out.push(b'"');
        return;
    }
    let mut run = 0;
    for (i, &b) in bytes.iter().enumerate() {
        let escape: &[u8] = match b {
            b'"' => b"\\\"",
            b'\\' => b"\\\\",
            b'\n' => b"\\n",
            b'\r' => b"\\r",
            b'\t' => b"\\t",
            0..=0x1f => b"",
            _ => continue,
        };
        out.extend_from_slice(&bytes[run..i]);
        if escape.is_empty() {
            out.extend_from_slice(b"\\u00");
            out.push(b"0123456789abcdef"[(b >> 4) as usize]);
            out.push(b"0123456789abcdef"[(b & 0xf) as usize]);
        } else {
            out.extend_from_slice(escape);
        }
        run = i + 1;
    }
    out.extend_from_slice(&bytes[run..]);
    out.push(b'"');
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_what_json_requires() {
        let mut out = Vec::new();
        write_str(&mut out, "a\"b\\c\nd\u{1}é");
        assert_eq!(out, "\"a\\\"b\\\\c\\nd\\u0001é\"".as_bytes());
        let back: String = serde_json::from_slice(&out).unwrap();
        assert_eq!(back, "a\"b\\c\nd\u{1}é");
    }

    #[test]
    fn object_in_order_without_absent_values() {
        let mut out = Vec::new();
        let mut o = Object::begin(&mut out);
        o.str("a", "x");
        o.opt_str("b", None);
        o.opt_u64("c", Some(7));
        o.hex_id("id", 0xab);
        o.str_array("tags", ["ZIA"]);
        o.end_line();
        assert_eq!(
            String::from_utf8(out).unwrap(),
            "{\"a\":\"x\",\"c\":7,\"id\":\"00000000000000ab\",\"tags\":[\"ZIA\"]}\n"
        );
    }
}
