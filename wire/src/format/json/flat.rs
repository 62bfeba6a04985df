//! The fast path for what feeds nearly always send: one JSON object of strings and numbers (or the
//! Splunk-style envelope around one, `{"sourcetype":…,"event":{…}}`) with no escapes in it.
//!
//! Such a frame needs no unescaping, so it is read where it lies: one SIMD pass marks its quotes
//! (and checks that it is plain), each string ends at the next marked quote, only the values of
//! keys a record uses are turned into [`Scalar`]s, and nothing is copied. simd-json would copy the
//! frame into its aligned buffer, copy every string out and back, and build a tape of every value,
//! used or not; that was a third of the time spent per record.
//!
//! It reads only what it can read exactly as the tape walk of [`super::tape::extract`] would, and
//! declines (returns `false`) everything else: a backslash or control character anywhere, invalid
//! UTF-8, arrays, objects other than the envelope's `event`, fractions, exponents or long numbers on
//! a key a record uses, and anything malformed. What it declines goes to simd-json, the parser of
//! record, which decides between a record and a dead letter. `tests/flat.rs` and the `flat` fuzz
//! target hold the two paths to the same fields.

use crate::fields::{Fields, Scalar};
use crate::keys::memo::Memo;

/// Digits beyond which a number is left to simd-json: up to here no parse can overflow or lose
/// precision, so both paths agree by construction.
const MAX_DIGITS: usize = 18;

/// What the fast path keeps between frames, so that reading allocates nothing and a frame's keys
/// are compared with the frame before's.
#[derive(Default)]
pub struct Scratch {
    /// Where the quotes of a frame are.
    quotes: Vec<u64>,
    memo: Memo,
}

/// Reads `json` (which starts at its `{`) into `fields`, or returns `false` and leaves the frame to
/// simd-json. On `false`, `fields` may hold part of the frame and must be discarded.
pub fn extract<'a>(json: &'a [u8], scratch: &mut Scratch, fields: &mut Fields<'a>) -> bool {
    if !scan(json, &mut scratch.quotes) {
        return false;
    }
    let mut reader = Reader {
        bytes: json,
        quotes: Quotes::new(&scratch.quotes),
        memo: &mut scratch.memo,
        members: 0,
        at: 0,
    };
    reader.document(fields).is_some()
}

/// One pass over the frame: where its quotes are (bit `i % 64` of word `i / 64`), and whether it
/// is plain: valid UTF-8 with no backslash (so no escapes) and no control character (invalid
/// inside a string; outside one only tabs and line ends, which feeds do not send).
fn scan(json: &[u8], quotes: &mut Vec<u64>) -> bool {
    #[cfg(target_arch = "x86_64")]
    if std::is_x86_feature_detected!("avx2") {
        // SAFETY: the processor has AVX2, as just checked (std caches the answer).
        return unsafe { scan_avx2(json, quotes) };
    }
    scan_with(json, quotes, block_masks)
}

/// [`scan`] with AVX2's 32-byte comparisons: half the instructions of SSE2's on every frame.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
unsafe fn scan_avx2(json: &[u8], quotes: &mut Vec<u64>) -> bool {
    // A closure here inherits AVX2, so the masks inline into the loop.
    scan_with(json, quotes, |block| block_masks_avx2(block))
}

#[inline(always)]
fn scan_with(json: &[u8], quotes: &mut Vec<u64>, masks_of: impl Fn(&[u8; 64]) -> Masks) -> bool {
    quotes.clear();
    quotes.reserve(json.len().div_ceil(64));
    let mut bad = 0;
    let mut high = 0;
    let mut blocks = json.chunks_exact(64);
    for block in &mut blocks {
        // Every chunk is 64 bytes long (`as_chunks` would say so in the type, but needs 1.88).
        let Ok(block) = block.try_into() else {
            return false;
        };
        let masks = masks_of(block);
        quotes.push(masks.quotes);
        bad |= masks.bad;
        high |= masks.high;
    }
    let rest = blocks.remainder();
    if !rest.is_empty() {
        // Spaces are neither quotes nor bad bytes.
        let mut last = [b' '; 64];
        last[..rest.len()].copy_from_slice(rest);
        let masks = masks_of(&last);
        quotes.push(masks.quotes);
        bad |= masks.bad;
        high |= masks.high;
    }
    // All ASCII is valid UTF-8; only a frame with other bytes needs checking.
    bad == 0 && (high == 0 || std::str::from_utf8(json).is_ok())
}

/// What [`scan`] learns from 64 bytes, one bit per byte.
#[derive(Debug, PartialEq)]
struct Masks {
    quotes: u64,
    /// Backslashes and control characters.
    bad: u64,
    /// Bytes of 0x80 and above (not ASCII).
    high: u64,
}

/// SSE2, which every x86-64 processor has: 16 bytes per comparison.
#[cfg(target_arch = "x86_64")]
fn block_masks(block: &[u8; 64]) -> Masks {
    use std::arch::x86_64::{
        _mm_cmpeq_epi8, _mm_loadu_si128, _mm_min_epu8, _mm_movemask_epi8, _mm_or_si128,
        _mm_set1_epi8,
    };
    let mut masks = Masks {
        quotes: 0,
        bad: 0,
        high: 0,
    };
    for i in 0..4 {
        // SAFETY: SSE2 is part of the x86-64 baseline, so these instructions always exist; bytes
        // 16 i to 16 i + 15 of a 64-byte block are readable, and an unaligned load has no
        // alignment requirement.
        let (quotes, bad, high) = unsafe {
            let v = _mm_loadu_si128(block.as_ptr().add(16 * i).cast());
            let quotes = _mm_cmpeq_epi8(v, _mm_set1_epi8(b'"' as i8));
            // min(v, 0x1f) == v exactly when v <= 0x1f (unsigned).
            let control = _mm_cmpeq_epi8(_mm_min_epu8(v, _mm_set1_epi8(0x1f)), v);
            let backslash = _mm_cmpeq_epi8(v, _mm_set1_epi8(b'\\' as i8));
            (
                _mm_movemask_epi8(quotes),
                _mm_movemask_epi8(_mm_or_si128(control, backslash)),
                _mm_movemask_epi8(v),
            )
        };
        let bits = |m: i32| u64::from(m as u16) << (16 * i);
        masks.quotes |= bits(quotes);
        masks.bad |= bits(bad);
        masks.high |= bits(high);
    }
    masks
}

/// AVX2: 32 bytes per comparison.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
fn block_masks_avx2(block: &[u8; 64]) -> Masks {
    use std::arch::x86_64::{
        _mm256_cmpeq_epi8, _mm256_loadu_si256, _mm256_min_epu8, _mm256_movemask_epi8,
        _mm256_or_si256, _mm256_set1_epi8,
    };
    let mut masks = Masks {
        quotes: 0,
        bad: 0,
        high: 0,
    };
    for i in 0..2 {
        // SAFETY: bytes 32 i to 32 i + 31 of a 64-byte block are readable, and an unaligned load
        // has no alignment requirement.
        let v = unsafe { _mm256_loadu_si256(block.as_ptr().add(32 * i).cast()) };
        let quotes = _mm256_cmpeq_epi8(v, _mm256_set1_epi8(b'"' as i8));
        // min(v, 0x1f) == v exactly when v <= 0x1f (unsigned).
        let control = _mm256_cmpeq_epi8(_mm256_min_epu8(v, _mm256_set1_epi8(0x1f)), v);
        let backslash = _mm256_cmpeq_epi8(v, _mm256_set1_epi8(b'\\' as i8));
        let bits = |m: i32| u64::from(m as u32) << (32 * i);
        masks.quotes |= bits(_mm256_movemask_epi8(quotes));
        masks.bad |= bits(_mm256_movemask_epi8(_mm256_or_si256(control, backslash)));
        masks.high |= bits(_mm256_movemask_epi8(v));
    }
    masks
}

#[cfg(not(target_arch = "x86_64"))]
fn block_masks(block: &[u8; 64]) -> Masks {
    block_masks_scalar(block)
}

/// The same masks a byte at a time: the definition the SIMD version is tested against.
#[cfg_attr(target_arch = "x86_64", allow(dead_code))]
fn block_masks_scalar(block: &[u8; 64]) -> Masks {
    let mut masks = Masks {
        quotes: 0,
        bad: 0,
        high: 0,
    };
    for (i, &b) in block.iter().enumerate() {
        masks.quotes |= u64::from(b == b'"') << i;
        masks.bad |= u64::from(b < 0x20 || b == b'\\') << i;
        masks.high |= u64::from(b >= 0x80) << i;
    }
    masks
}

/// The quotes of a frame in order, from the scan's masks.
///
/// Every quote of a plain frame opens or closes a string, and the reader passes no quote without
/// taking it from here, so the next quote here is the first at or after the cursor. Finding a
/// string's end is then clearing the lowest bit of a word, which does not wait for the bytes
/// before it to be read: finding each end from the cursor's position made every string wait for
/// the one before, and that chain was most of the walk's time.
struct Quotes<'q> {
    words: &'q [u64],
    /// The word `bits` came from.
    word: usize,
    /// The quotes of that word not taken yet.
    bits: u64,
}

impl<'q> Quotes<'q> {
    fn new(words: &'q [u64]) -> Self {
        Quotes {
            words,
            word: 0,
            bits: words.first().copied().unwrap_or(0),
        }
    }

    /// The position of the next quote, and takes it.
    #[inline(always)]
    fn take(&mut self) -> Option<usize> {
        while self.bits == 0 {
            self.word += 1;
            self.bits = *self.words.get(self.word)?;
        }
        let at = self.word * 64 + self.bits.trailing_zeros() as usize;
        self.bits &= self.bits - 1;
        Some(at)
    }
}

/// A cursor over a frame known to be plain UTF-8. Every method returns `None` to decline.
struct Reader<'a, 'q> {
    bytes: &'a [u8],
    quotes: Quotes<'q>,
    memo: &'q mut Memo,
    /// Members read so far, the envelope's and its event's: the position of the next key.
    members: usize,
    at: usize,
}

impl<'a> Reader<'a, '_> {
    /// The whole frame: one object, then nothing but spaces.
    fn document(&mut self, fields: &mut Fields<'a>) -> Option<()> {
        self.spaces();
        self.expect(b'{')?;
        self.object::<false>(fields)?;
        self.spaces();
        (self.at == self.bytes.len()).then_some(())
    }

    /// The members of an object whose `{` was just read, through its `}`. `NESTED` is true inside
    /// the envelope's `event`, where `event` and `sourcetype` are ordinary keys.
    ///
    /// Everything the loop calls is inlined and the nested object is a function of its own, not a
    /// recursion: then the cursor and the quotes stay in registers. A call that takes the reader
    /// keeps them in memory, and every string then waited on a store and a load of the last.
    fn object<const NESTED: bool>(&mut self, fields: &mut Fields<'a>) -> Option<()> {
        self.spaces();
        if self.peek() == b'}' {
            self.at += 1;
            return Some(());
        }
        loop {
            self.token(b'"')?;
            let key = self.string()?;
            self.token(b':')?;
            self.spaces();
            self.member::<NESTED>(key, fields)?;
            let mut next = self.peek();
            if next == b' ' {
                self.spaces();
                next = self.peek();
            }
            self.at += 1;
            match next {
                b',' => {}
                b'}' => return Some(()),
                _ => return None,
            }
        }
    }

    /// `b`, after any spaces: looked for at once first, as compact feeds write it, so that
    /// most tokens cost one comparison.
    #[inline(always)]
    fn token(&mut self, b: u8) -> Option<()> {
        if self.peek() != b {
            self.spaces();
        }
        self.expect(b)
    }

    /// One value, as the tape walk treats its key.
    #[inline(always)]
    fn member<const NESTED: bool>(&mut self, key: &'a str, fields: &mut Fields<'a>) -> Option<()> {
        if !NESTED && key == "event" {
            // The envelope; a flat feed's own `event` string is ignored.
            if self.peek() == b'{' {
                self.at += 1;
                return self.object::<true>(fields);
            }
            return self.skip_scalar();
        }
        if !NESTED && key == "sourcetype" {
            if self.peek() == b'"' {
                self.at += 1;
                fields.sourcetype = Some(self.string()?);
                return Some(());
            }
            return self.skip_scalar();
        }
        let position = self.members;
        self.members += 1;
        match self.memo.lookup(position, key) {
            Some(hit) => {
                let value = self.scalar()?;
                fields.note(hit, value);
                Some(())
            }
            None if self.peek() == b'"' && matches!(key, "product" | "DeviceProduct") => {
                self.at += 1;
                let value = self.string()?;
                super::note_product(key, value, fields);
                Some(())
            }
            None => self.skip_scalar(),
        }
    }

    /// A value a record may use: `Some(None)` for null, which no field takes.
    #[inline(always)]
    fn scalar(&mut self) -> Option<Option<Scalar<'a>>> {
        let value = match self.peek() {
            b'"' => {
                self.at += 1;
                Scalar::Str(self.string()?)
            }
            b't' => {
                self.literal("true")?;
                Scalar::Bool(true)
            }
            b'f' => {
                self.literal("false")?;
                Scalar::Bool(false)
            }
            b'n' => {
                self.literal("null")?;
                return Some(None);
            }
            _ => self.integer()?,
        };
        Some(Some(value))
    }

    /// A value no record uses: only checked to be JSON.
    #[inline(always)]
    fn skip_scalar(&mut self) -> Option<()> {
        match self.peek() {
            b'"' => {
                self.at += 1;
                self.string().map(drop)
            }
            b't' => self.literal("true"),
            b'f' => self.literal("false"),
            b'n' => self.literal("null"),
            _ => self.number(),
        }
    }

    /// The rest of a string whose opening quote was just read. Without escapes its end is the
    /// next quote.
    #[inline(always)]
    fn string(&mut self) -> Option<&'a str> {
        let start = self.at;
        // The opening quote: always the one just read, as [`Quotes`] says; checked all the same,
        // off the path the next string's end waits on.
        if self.quotes.take()? + 1 != start {
            return None;
        }
        let end = self.quotes.take()?;
        self.at = end + 1;
        debug_assert!(start <= end && end < self.bytes.len());
        // SAFETY: `end` is the position of a quote after the opening one at `start - 1`, and
        // `scan` marks only quotes inside the frame, so `start <= end < self.bytes.len()`.
        let bytes = unsafe { self.bytes.get_unchecked(start..end) };
        debug_assert!(std::str::from_utf8(bytes).is_ok());
        // SAFETY: `scan` found the frame valid UTF-8, and `bytes` lies between two quotes: a
        // quote, being ASCII, is a character of its own, so both ends are character boundaries.
        Some(unsafe { std::str::from_utf8_unchecked(bytes) })
    }

    /// An integer as simd-json reads it: `U64`, or `I64` when negative. Fractions, exponents, -0
    /// and long numbers decline.
    #[inline(always)]
    fn integer(&mut self) -> Option<Scalar<'a>> {
        let negative = self.peek() == b'-';
        if negative {
            self.at += 1;
        }
        let digits = self.digits()?;
        if matches!(self.peek(), b'.' | b'e' | b'E') {
            return None;
        }
        let n = digits
            .iter()
            .fold(0u64, |n, d| n * 10 + u64::from(d - b'0'));
        Some(match negative {
            false => Scalar::U64(n),
            // n < 10^18 < 2^63
            true if n > 0 => Scalar::I64(-(n as i64)),
            true => return None,
        })
    }

    /// A number no record uses: JSON's grammar, without an exponent, at most [`MAX_DIGITS`] digits.
    #[inline(always)]
    fn number(&mut self) -> Option<()> {
        if self.peek() == b'-' {
            self.at += 1;
        }
        let int = self.digits()?.len();
        if self.peek() == b'.' {
            self.at += 1;
            let frac = self.digits_after_point()?;
            if int + frac > MAX_DIGITS {
                return None;
            }
        }
        if matches!(self.peek(), b'e' | b'E') {
            return None;
        }
        Some(())
    }

    /// The digits of a JSON integer part: no leading zero, at most [`MAX_DIGITS`].
    #[inline(always)]
    fn digits(&mut self) -> Option<&'a [u8]> {
        let start = self.at;
        let len = self.run_of_digits();
        let digits = &self.bytes[start..start + len];
        let leading_zero = len > 1 && digits[0] == b'0';
        (len > 0 && len <= MAX_DIGITS && !leading_zero).then_some(digits)
    }

    /// How many digits follow a decimal point: at least one.
    #[inline(always)]
    fn digits_after_point(&mut self) -> Option<usize> {
        let len = self.run_of_digits();
        (len > 0).then_some(len)
    }

    #[inline(always)]
    fn run_of_digits(&mut self) -> usize {
        let start = self.at;
        let len = self.bytes[start..]
            .iter()
            .take_while(|b| b.is_ascii_digit())
            .count();
        self.at = start + len;
        len
    }

    #[inline(always)]
    fn literal(&mut self, word: &str) -> Option<()> {
        let end = self.at + word.len();
        (self.bytes.get(self.at..end)? == word.as_bytes()).then(|| self.at = end)
    }

    /// The byte at the cursor; 0 at the end (a plain frame holds no NUL, so 0 matches nothing).
    #[inline(always)]
    fn peek(&self) -> u8 {
        self.bytes.get(self.at).copied().unwrap_or(0)
    }

    #[inline(always)]
    fn expect(&mut self, b: u8) -> Option<()> {
        (self.peek() == b).then(|| self.at += 1)
    }

    /// Spaces between tokens (the only JSON whitespace a plain frame can hold).
    #[inline(always)]
    fn spaces(&mut self) {
        while self.bytes.get(self.at) == Some(&b' ') {
            self.at += 1;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::keys::Field;

    fn read(json: &str) -> Option<Fields<'_>> {
        let mut fields = Fields::default();
        extract(json.as_bytes(), &mut Scratch::default(), &mut fields).then_some(fields)
    }

    #[test]
    fn simd_masks_are_the_scalar_masks() {
        let mut block = [0u8; 64];
        for seed in 0..2000u64 {
            let mut x = seed.wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1;
            for b in block.iter_mut() {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                // Mostly the bytes that matter, and their neighbours.
                *b = [b'"', b'\\', 0x1f, 0x20, 0x7f, 0x80, 0xff, 0x00, x as u8]
                    [(x >> 8) as usize % 9];
            }
            assert_eq!(block_masks(&block), block_masks_scalar(&block));
            #[cfg(target_arch = "x86_64")]
            if std::is_x86_feature_detected!("avx2") {
                // SAFETY: the processor has AVX2, as just checked.
                assert_eq!(
                    unsafe { block_masks_avx2(&block) },
                    block_masks_scalar(&block)
                );
            }
        }
    }

    #[test]
    fn quotes_across_blocks() {
        let long = "x".repeat(150);
        let json = format!(r#"{{"cip":"{long}","sip":"1.2.3.4"}}"#);
        let f = read(&json).unwrap();
        assert_eq!(f.text(Field::ClientIp).as_deref(), Some(long.as_str()));
        assert_eq!(f.text(Field::ServerIp).as_deref(), Some("1.2.3.4"));
    }

    #[test]
    fn reads_flat_and_enveloped_objects() {
        let f =
            read(r#"{"cip":"10.0.0.1","reqsize":"600","respcode":200,"x":1.5,"y":null}"#).unwrap();
        assert_eq!(f.text(Field::ClientIp).as_deref(), Some("10.0.0.1"));
        assert_eq!(f.u64(Field::BytesOut), Some(600));
        assert_eq!(f.u64(Field::RespCode), Some(200));
        assert_eq!(f.votes.zia, 3);

        let f =
            read(r#" { "sourcetype" : "zscalernss-web", "event" :{"sip":"1.2.3.4"} } "#).unwrap();
        assert_eq!(f.sourcetype, Some("zscalernss-web"));
        assert_eq!(f.text(Field::ServerIp).as_deref(), Some("1.2.3.4"));
    }

    #[test]
    fn declines_what_simd_json_must_decide() {
        for json in [
            r#"{"cip":"a\"b"}"#,            // escape
            "{\"cip\":\"a\tb\"}",           // control character
            r#"{"cip":["a"]}"#,             // array
            r#"{"x":{"y":1}}"#,             // object other than the envelope
            r#"{"reqsize":1.5}"#,           // fraction on a used key
            r#"{"reqsize":-0}"#,            // negative zero
            r#"{"x":1e5}"#,                 // exponent
            r#"{"x":01}"#,                  // leading zero
            r#"{"x":1234567890123456789}"#, // long number
            r#"{"cip":"a"} x"#,             // trailing text
            r#"{"cip":"a",}"#,              // trailing comma
            r#"{"cip" "a"}"#,               // missing colon
            r#"{"cip":"a""#,                // unterminated
            r#"{"cip":tru}"#,               // bad literal
            r#"{"cip":truex}"#,
            r#"["cip"]"#, // not an object
        ] {
            assert!(read(json).is_none(), "{json}");
        }
    }
}
