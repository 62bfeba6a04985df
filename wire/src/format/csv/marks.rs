//! Where a positional line's quotes and delimiters are, marked in one vectorised pass, and its
//! fields found from the marks. Finding each field's end with a search of its own (a quote,
//! then the delimiter after it) cost about as much as the rest of reading the line: a web row
//! has 34 fields of 18 bytes on average, and every search paid for starting up. The same pass
//! tells whether the line is ASCII (then UTF-8 without a check) and whether it holds a control
//! byte or a backslash (which a JSON string must escape).
//!
//! [`super::scan`] reads one field a byte at a time and stays the definition: a test and the
//! `csv` fuzz target hold the two to the same fields.

use super::{Quoting, Scanned};
use crate::format::bits::{any_in, next_one};
use crate::reason::Reason;

/// The marks of one line, kept by a reader between lines so that marking allocates nothing.
#[derive(Debug, Default, Clone)]
pub(super) struct Marks {
    quotes: Vec<u64>,
    delimiters: Vec<u64>,
    /// Not 0 when a control byte or a backslash is in the line.
    bad: u64,
    /// Not 0 when a byte from 0x80 on is.
    high: u64,
}

impl Marks {
    /// Marks the quotes and the `d` bytes of `line`.
    pub(super) fn run(&mut self, line: &[u8], d: u8) {
        self.quotes.clear();
        self.delimiters.clear();
        self.bad = 0;
        self.high = 0;
        let mut blocks = line.chunks_exact(64);
        for block in &mut blocks {
            // Every chunk is 64 bytes long.
            if let Ok(block) = block.try_into() {
                self.push(block_masks(block, d));
            }
        }
        let rest = blocks.remainder();
        if !rest.is_empty() {
            // Spaces: no quote, no delimiter, nothing to escape.
            let mut last = [b' '; 64];
            last[..rest.len()].copy_from_slice(rest);
            self.push(block_masks(&last, d));
        }
    }

    fn push(&mut self, [quotes, delimiters, bad, high]: [u64; 4]) {
        self.quotes.push(quotes);
        self.delimiters.push(delimiters);
        self.bad |= bad;
        self.high |= high;
    }

    /// Every byte is ASCII, and so the line UTF-8.
    pub(super) fn ascii(&self) -> bool {
        self.high == 0
    }

    /// No byte is a control byte or a backslash.
    pub(super) fn clean(&self) -> bool {
        self.bad == 0
    }

    /// Whether the line holds a quote at all.
    pub(super) fn any_quote(&self) -> bool {
        self.quotes.iter().any(|&w| w != 0)
    }

    /// The field of `line` (the one marked) that starts at `start`, read with `quoting`: with
    /// [`Quoting::Csv`] as [`super::scan`] reads it. Inlined where `quoting` is a constant, so
    /// that each split's loop is made for its quoting (CSV's, on every line, checks no other).
    #[inline(always)]
    pub(super) fn field(
        &self,
        line: &[u8],
        start: usize,
        d: u8,
        quoting: Quoting,
    ) -> Result<Scanned, Reason> {
        let quoted = quoting != Quoting::None && line.get(start) == Some(&b'"');
        let (text, escaped, quotes, after) = if quoted {
            let (mut escaped, mut quotes) = (false, false);
            let mut at = start + 1;
            let close = loop {
                let quote = next_one(&self.quotes, at).ok_or(Reason::FieldCount)?;
                match line.get(quote + 1) {
                    None => break quote,
                    Some(&c) if c == d => break quote,
                    Some(b'"') if line.get(quote + 2).is_none_or(|&c| c == d) => {
                        quotes = true;
                        break quote + 1;
                    }
                    Some(b'"') => {
                        escaped = true;
                        at = quote + 2;
                    }
                    Some(_) => at = quote + 1,
                }
                quotes = true;
            };
            (start + 1..close, escaped, quotes, close + 1)
        } else {
            let end = next_one(&self.delimiters, start).unwrap_or(line.len());
            // With no field quoted, one that a quote opens and closes (a template's quoted
            // field) is still read without its quotes.
            let wrapped = quoting == Quoting::None
                && end >= start + 2
                && line[start] == b'"'
                && line[end - 1] == b'"';
            let text = match wrapped {
                true => start + 1..end - 1,
                false => start..end,
            };
            (
                text.clone(),
                false,
                any_in(&self.quotes, text.start, text.end),
                end,
            )
        };
        Ok(Scanned {
            start: text.start,
            end: text.end,
            escaped,
            quotes,
            next: (after < line.len()).then_some(after + 1),
        })
    }
}

/// SSE2, which every x86-64 processor has: the quote and `d` masks of 64 bytes, and whether
/// they hold a control byte or a backslash, and a byte from 0x80 on (1 or 0).
#[cfg(target_arch = "x86_64")]
fn block_masks(block: &[u8; 64], d: u8) -> [u64; 4] {
    use std::arch::x86_64::{
        _mm_cmpeq_epi8, _mm_loadu_si128, _mm_min_epu8, _mm_movemask_epi8, _mm_or_si128,
        _mm_set1_epi8, _mm_setzero_si128,
    };
    let (mut quotes, mut delimiters) = (0u64, 0u64);
    // SAFETY: SSE2 is part of the x86-64 baseline.
    let (mut bad, mut high) = unsafe { (_mm_setzero_si128(), _mm_setzero_si128()) };
    for i in 0..4 {
        // SAFETY: SSE2 is part of the x86-64 baseline, so these instructions always exist; bytes
        // 16 i to 16 i + 15 of a 64-byte block are readable, and an unaligned load has no
        // alignment requirement.
        let (q, s) = unsafe {
            let v = _mm_loadu_si128(block.as_ptr().add(16 * i).cast());
            let is = |c: u8| _mm_cmpeq_epi8(v, _mm_set1_epi8(c as i8));
            // min(v, 0x1f) == v exactly when v <= 0x1f (unsigned).
            let control = _mm_cmpeq_epi8(_mm_min_epu8(v, _mm_set1_epi8(0x1f)), v);
            bad = _mm_or_si128(bad, _mm_or_si128(control, is(b'\\')));
            high = _mm_or_si128(high, v);
            (_mm_movemask_epi8(is(b'"')), _mm_movemask_epi8(is(d)))
        };
        let bits = |m: i32| u64::from(m as u16) << (16 * i);
        quotes |= bits(q);
        delimiters |= bits(s);
    }
    // SAFETY: as above.
    let any = |v| u64::from(unsafe { _mm_movemask_epi8(v) } != 0);
    [quotes, delimiters, any(bad), any(high)]
}

#[cfg(not(target_arch = "x86_64"))]
fn block_masks(block: &[u8; 64], d: u8) -> [u64; 4] {
    block_masks_scalar(block, d)
}

/// The same masks a byte at a time: the definition the SSE2 version is tested against.
#[cfg_attr(target_arch = "x86_64", allow(dead_code))]
fn block_masks_scalar(block: &[u8; 64], d: u8) -> [u64; 4] {
    let mut masks = [0u64; 4];
    for (i, &b) in block.iter().enumerate() {
        masks[0] |= u64::from(b == b'"') << i;
        masks[1] |= u64::from(b == d) << i;
        masks[2] |= u64::from(b < 0x20 || b == b'\\');
        masks[3] |= u64::from(b >= 0x80);
    }
    masks
}

#[cfg(test)]
mod tests {
    use super::*;

    proptest::proptest! {
        /// Blocks of the bytes at the edges of what the masks tell apart.
        #[test]
        fn vector_masks_are_the_scalar_ones(picks in proptest::collection::vec(0usize..12, 64)) {
            let bytes = [b'"', b',', b'\t', b'\\', 0x00, 0x1f, 0x20, 0x7f, 0x80, 0xff, b'x', b'!'];
            let mut block = [0u8; 64];
            for (b, &i) in block.iter_mut().zip(&picks) {
                *b = bytes[i];
            }
            for d in [b',', b'\t'] {
                proptest::prop_assert_eq!(block_masks(&block, d), block_masks_scalar(&block, d));
            }
        }
    }

    #[test]
    fn spaces_mark_nothing() {
        for d in [b',', b'\t'] {
            assert_eq!(block_masks(&[b' '; 64], d), [0; 4]);
        }
    }

    /// Walks `line`'s fields from its marks and with [`super::super::scan`], for each
    /// delimiter: the same fields, the same ends.
    fn same_fields(line: &[u8]) {
        let mut marks = Marks::default();
        for d in [b',', b'\t'] {
            marks.run(line, d);
            assert_eq!(marks.ascii(), line.is_ascii(), "{line:?}");
            let clean = !line.iter().any(|&c| c < 0x20 || c == b'\\');
            assert_eq!(marks.clean(), clean, "{line:?}");
            let mut next = Some(0);
            while let Some(at) = next {
                let (m, s) = (
                    marks.field(line, at, d, Quoting::Csv),
                    super::super::scan(line, at, d),
                );
                assert_eq!(m, s, "{line:?} at {at}");
                next = s.ok().and_then(|s| s.next);
            }
        }
    }

    #[test]
    fn fields_as_the_byte_scan_reads_them() {
        let long = "x".repeat(70);
        for line in [
            r#""a","b,c","""q""","""#.to_string(),
            r#""{"s":"p"}","x""#.to_string(),
            "a\t\"b\tc\"\td,e".to_string(),
            "a,b,".to_string(),
            r#"a"b,"c"d""#.to_string(),
            String::new(),
            r#""a","b"#.to_string(),
            r#""a"b"#.to_string(),
            "\"".to_string(),
            format!(r#""{long}","{long}"",""{long}",{long}"q,"#),
            format!("\"é\",{long}\t\"{long}\"\"\"\t"),
        ] {
            same_fields(line.as_bytes());
        }
    }

    #[test]
    fn quotes_as_written() {
        let mut marks = Marks::default();
        let fields = |marks: &mut Marks, line: &str, quoting| {
            marks.run(line.as_bytes(), b',');
            let mut out = Vec::new();
            let mut next = Some(0);
            while let Some(at) = next {
                let Ok(f) = marks.field(line.as_bytes(), at, b',', quoting) else {
                    out.push(None);
                    break;
                };
                out.push(Some(line[f.start..f.end].to_string()));
                next = f.next;
            }
            out
        };
        let some = |v: &[&str]| v.iter().map(|s| Some(s.to_string())).collect::<Vec<_>>();
        // A quote ends a quoted field only before the delimiter or the end; `""` inside is one
        // (`escaped`).
        let line = r#""a ""b"" c","d""e""#;
        let csv = some(&[r#"a ""b"" c"#, r#"d""e"#]);
        assert_eq!(fields(&mut marks, line, Quoting::Csv), csv);
        marks.run(line.as_bytes(), b',');
        let first = marks.field(line.as_bytes(), 0, b',', Quoting::Csv);
        assert!(first.is_ok_and(|f| f.escaped));
        // `""` before the delimiter or the end is a value's last quote, then its end.
        let line = r#""a "b"","c""d"","e"""#;
        let want = some(&[r#"a "b""#, r#"c""d""#, r#"e""#]);
        assert_eq!(fields(&mut marks, line, Quoting::Csv), want);
        // No field is quoted: every one runs to the next delimiter, and one that a quote opens
        // and closes is read without them.
        let line = r#""Quoted" Rule,x,"y","z,"#;
        let want = some(&[r#""Quoted" Rule"#, "x", "y", "\"z", ""]);
        assert_eq!(fields(&mut marks, line, Quoting::None), want);
    }

    proptest::proptest! {
        /// Lines of the bytes that matter to a field's end, long enough to cross blocks.
        #[test]
        fn any_line_as_the_byte_scan_reads_it(
            picks in proptest::collection::vec(0usize..9, 0..200),
        ) {
            let bytes = [b'"', b'"', b',', b'\t', b'a', b'\\', 0x01, 0xc3, b' '];
            let line: Vec<u8> = picks.iter().map(|&i| bytes[i]).collect();
            same_fields(&line);
        }
    }
}
