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
//! record, which decides between a record and a dead letter. `wire/tests/json.rs` and the `flat`
//! fuzz target hold the two paths to the same fields.

use super::scan::scan;
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
        enveloped: false,
        at: 0,
    };
    reader.document(fields).is_some()
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
    /// Whether the envelope's `event` object has been read: the keys beside it are not the
    /// record's.
    enveloped: bool,
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
            let key = self.key()?;
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
            // The envelope; a flat feed's own `event` string is ignored. What the keys before
            // it said is forgotten, and those after it are passed over. An object that is no
            // envelope (a second, or one after the record's keys) is set aside: simd-json's
            // walk steps over it.
            if self.peek() == b'{' {
                if self.enveloped || !fields.take_envelope() {
                    return None;
                }
                self.at += 1;
                self.enveloped = true;
                return self.object::<true>(fields);
            }
            return self.skip_scalar();
        }
        if !NESTED && key == "sourcetype" {
            if self.peek() == b'"' {
                self.at += 1;
                fields.name_sourcetype(self.string()?);
                return Some(());
            }
            return self.skip_scalar();
        }
        if !NESTED && self.enveloped {
            fields.after_envelope(crate::keys::lookup(key));
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

    /// A member's key, after any spaces. Its opening quote is the next one the scan marked, so
    /// it is taken from there and checked to be where the cursor is, rather than looked for.
    #[inline(always)]
    fn key(&mut self) -> Option<&'a str> {
        let open = self.quotes.take()?;
        if open != self.at {
            self.spaces();
            if open != self.at {
                return None;
            }
        }
        self.string_from(open + 1)
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
        self.string_from(start)
    }

    /// The string whose opening quote, at `start - 1`, was the last one taken.
    #[inline(always)]
    fn string_from(&mut self, start: usize) -> Option<&'a str> {
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
