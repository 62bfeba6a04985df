//! Masks of a frame's bytes, one bit per byte (bit `i % 64` of word `i / 64`), as the text
//! formats' vectorised scans make them ([`cef`](super::cef)'s `=` and separators, [`csv`]'s
//! quotes and delimiters): finding the next marked byte is then a look at a word or two, not a
//! search that has to be started for every field.
//!
//! [`csv`]: super::csv

/// The first set bit of `words` at or after `from`.
#[inline]
pub(crate) fn next_one(words: &[u64], from: usize) -> Option<usize> {
    let mut w = from / 64;
    let mut word = words.get(w)? & (!0u64 << (from % 64));
    loop {
        if word != 0 {
            return Some(w * 64 + word.trailing_zeros() as usize);
        }
        w += 1;
        word = *words.get(w)?;
    }
}

/// Whether a bit of `words` is set in `from..to`: the words of that range only, not a search on
/// past its end.
#[inline]
pub(crate) fn any_in(words: &[u64], from: usize, to: usize) -> bool {
    if from >= to {
        return false;
    }
    let (first, last) = (from / 64, (to - 1) / 64);
    (first..=last).any(|w| {
        let mut word = words.get(w).copied().unwrap_or(0);
        if w == first {
            word &= !0u64 << (from % 64);
        }
        if w == last {
            word &= !0u64 >> (63 - (to - 1) % 64);
        }
        word != 0
    })
}

/// The positions of the set bits of `words`, in order.
pub(crate) fn ones(words: &[u64]) -> Ones<'_> {
    Ones {
        words,
        w: 0,
        bits: words.first().copied().unwrap_or(0),
    }
}

/// The iterator of [`ones`]: a word at a time, without the adapters a `flat_map` would stack.
pub(crate) struct Ones<'a> {
    words: &'a [u64],
    w: usize,
    /// The bits of word `w` not yet given.
    bits: u64,
}

impl Iterator for Ones<'_> {
    type Item = usize;

    #[inline]
    fn next(&mut self) -> Option<usize> {
        while self.bits == 0 {
            self.w += 1;
            self.bits = *self.words.get(self.w)?;
        }
        let bit = self.bits.trailing_zeros() as usize;
        self.bits &= self.bits - 1;
        Some(self.w * 64 + bit)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn set_bits_found_from_anywhere() {
        let words = [1u64 << 63 | 1 << 5, 0, 1 << 1];
        let set = [5, 63, 129];
        assert_eq!(ones(&words).collect::<Vec<_>>(), set);
        for from in 0..200 {
            let want = set.iter().copied().find(|&s| s >= from);
            assert_eq!(next_one(&words, from), want, "{from}");
            for to in from..200 {
                let any = set.iter().any(|&s| s >= from && s < to);
                assert_eq!(any_in(&words, from, to), any, "{from}..{to}");
            }
        }
        assert_eq!(ones(&[]).next(), None);
        assert_eq!(next_one(&[], 0), None);
    }
}
