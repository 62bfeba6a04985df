//! A key named twice in one frame of the pair formats (key=value, LEEF, CEF).
//!
//! NSS writes each key of a template once, and escapes none of these formats' separators in the
//! values it writes as a client sent them (`%s{ua}`, `%s{url}`, `%s{referer}`): an agent
//! `x<TAB>devicehostname=ceo-pc<TAB>user=ceo@corp` reads as the pairs it holds. Which of two
//! `devicehostname`s is NSS's depends on where the template puts the agent, which the frame does
//! not say, so neither is taken: the frame is a dead letter (`repeated_key`), kept as received.
//! A key the template does not have cannot be told from NSS's own this way; README says so.
//!
//! Only keys that fill a field are checked: a repeat of a key no record reads changes nothing.
//! Two different keys for one field (`sip` and `serverip`) are a template's choice, not a
//! repeat (DESIGN §3: the first non-absent one wins).

use std::mem::MaybeUninit;

use crate::keys::Field;
use crate::reason::Reason;

const WORDS: usize = Field::COUNT.div_ceil(64);

/// The key that first filled each field of a frame. Made once per frame: only the set of
/// fields is written, not the keys (a hundred and more).
pub(crate) struct Repeats<'a> {
    set: [u64; WORDS],
    /// Only the fields in `set` are initialised.
    keys: [MaybeUninit<&'a str>; Field::COUNT],
}

impl<'a> Repeats<'a> {
    pub(crate) fn new() -> Self {
        Repeats {
            set: [0; WORDS],
            keys: [MaybeUninit::uninit(); Field::COUNT],
        }
    }

    /// Notes that `key` fills `field`; [`Reason::RepeatedKey`] when the same key did before.
    #[inline]
    pub(crate) fn check(&mut self, field: Field, key: &'a str) -> Result<(), Reason> {
        let i = field as usize;
        let bit = 1 << (i % 64);
        if self.set[i / 64] & bit == 0 {
            self.set[i / 64] |= bit;
            self.keys[i].write(key);
            return Ok(());
        }
        // SAFETY: the bit is set only together with the key's write.
        let first = unsafe { self.keys[i].assume_init() };
        match first == key {
            true => Err(Reason::RepeatedKey),
            false => Ok(()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_same_key_twice_is_refused_and_two_names_for_one_field_are_not() {
        let mut repeats = Repeats::new();
        assert_eq!(repeats.check(Field::ServerIp, "sip"), Ok(()));
        assert_eq!(repeats.check(Field::ServerIp, "serverip"), Ok(()));
        assert_eq!(repeats.check(Field::Other, "product"), Ok(()));
        assert_eq!(
            repeats.check(Field::ServerIp, "sip"),
            Err(Reason::RepeatedKey)
        );
        // The key that filled the field first is the one a repeat is compared with.
        assert_eq!(repeats.check(Field::ServerIp, "serverip"), Ok(()));
    }
}
