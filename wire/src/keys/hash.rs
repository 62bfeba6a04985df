//! The tables keys are looked up in: built by the compiler from the dialects, open addressing
//! on a summary of each key (its length and first and last eight bytes) that, for keys of up to
//! 16 bytes, is the key itself, so most lookups compare no bytes.

use super::{Encoding, Field, Hit, Key, Vote};

/// Entries over some dialects (a name that several list is counted, then stored once).
pub(super) const fn entries(dialects: &[&[Key]]) -> usize {
    let mut n = 0;
    let mut d = 0;
    while d < dialects.len() {
        n += dialects[d].len();
        d += 1;
    }
    n
}

/// A key as the table compares it: its length and its first and last eight bytes (zero-padded,
/// overlapping for short keys). For keys of up to 16 bytes these cover every byte, so equal
/// summaries mean equal keys and no byte comparison is needed.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(super) struct Summary {
    pub(super) len: usize,
    pub(super) head: u64,
    pub(super) tail: u64,
}

impl Summary {
    pub(super) fn of(key: &[u8]) -> Summary {
        let len = key.len();
        let (head, tail) = match len {
            0 => (0, 0),
            1..=7 => (short_word(key), 0),
            _ => (word(&key[..8]), word(&key[len - 8..])),
        };
        Summary { len, head, tail }
    }

    /// [`Summary::of`] for the compiler, byte by byte: it builds the table with it.
    pub(super) const fn of_const(key: &[u8]) -> Summary {
        const fn byte(key: &[u8], at: usize) -> u64 {
            key[at] as u64
        }
        const fn word_at(key: &[u8], at: usize, width: usize) -> u64 {
            let mut w = 0;
            let mut i = 0;
            while i < width {
                w |= byte(key, at + i) << (8 * i);
                i += 1;
            }
            w
        }
        let len = key.len();
        let (head, tail) = if len == 0 {
            (0, 0)
        } else if len < 4 {
            (
                byte(key, 0) | byte(key, len / 2) << 8 | byte(key, len - 1) << 16,
                0,
            )
        } else if len < 8 {
            (word_at(key, 0, 4) | word_at(key, len - 4, 4) << 32, 0)
        } else {
            (word_at(key, 0, 8), word_at(key, len - 8, 8))
        };
        Summary { len, head, tail }
    }

    /// Its slot among `slots` (a power of two).
    const fn slot(&self, slots: usize) -> usize {
        let mixed = self.head ^ self.tail.rotate_left(29) ^ (self.len as u64) << 57;
        (mixed.wrapping_mul(0x9e37_79b9_7f4a_7c15) >> (64 - slots.trailing_zeros())) as usize
    }
}

/// Eight bytes as a little-endian word.
fn word(b: &[u8]) -> u64 {
    let mut w = [0u8; 8];
    w.copy_from_slice(&b[..8]);
    u64::from_le_bytes(w)
}

/// One to seven bytes as a word, from two overlapping reads (the length tells them apart).
fn short_word(b: &[u8]) -> u64 {
    let len = b.len();
    if len >= 4 {
        let half = |s: &[u8]| u64::from(u32::from_le_bytes([s[0], s[1], s[2], s[3]]));
        half(&b[..4]) | half(&b[len - 4..]) << 32
    } else {
        u64::from(b[0]) | u64::from(b[len / 2]) << 8 | u64::from(b[len - 1]) << 16
    }
}

/// Open addressing over a table's entries: each slot holds an entry's index plus one, or 0 when
/// empty. `S` slots for `E` entries: most unknown keys land on an empty slot at once.
pub(super) struct Table<const E: usize, const S: usize> {
    slots: [u16; S],
    pub(super) keys: [Key; E],
    summaries: [Summary; E],
    pub(super) len: usize,
    /// [`Hit::key`] of the first entry, less one.
    base: u32,
}

const fn same_name(a: &str, b: &str) -> bool {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    if a.len() != b.len() {
        return false;
    }
    let mut i = 0;
    while i < a.len() {
        if a[i] != b[i] {
            return false;
        }
        i += 1;
    }
    true
}

const fn same_meaning(a: &Key, b: &Key) -> bool {
    a.field as u8 == b.field as u8
        && a.encoding as u8 == b.encoding as u8
        && match (a.vote, b.vote) {
            (Vote::None, Vote::None)
            | (Vote::Zia, Vote::Zia)
            | (Vote::Zpa, Vote::Zpa)
            | (Vote::Unmapped, Vote::Unmapped) => true,
            (Vote::Kind(x), Vote::Kind(y)) => x as u8 == y as u8,
            _ => false,
        }
}

impl<const E: usize, const S: usize> Table<E, S> {
    /// Run by the compiler: every record asks a table about each of its keys, most of which it
    /// does not know, and a static needs no first-use check. The entries' [`Hit::key`]s are
    /// `base + 1` on; `base` is a multiple of 1,024, a table's most entries.
    pub(super) const fn build(dialects: &[&[Key]], base: u32) -> Self {
        const EMPTY: Key = Key {
            name: "",
            field: Field::Other,
            encoding: Encoding::Plain,
            vote: Vote::None,
        };
        assert!(S.is_power_of_two() && E * 4 <= S, "a key table is too full");
        assert!(
            E < 1 << 10 && base % (1 << 10) == 0,
            "key numbers would overlap"
        );
        let mut table = Table {
            slots: [0; S],
            keys: [EMPTY; E],
            summaries: [Summary {
                len: 0,
                head: 0,
                tail: 0,
            }; E],
            len: 0,
            base,
        };
        let mut d = 0;
        while d < dialects.len() {
            let mut k = 0;
            while k < dialects[d].len() {
                let key = dialects[d][k];
                let summary = Summary::of_const(key.name.as_bytes());
                let mut slot = summary.slot(S);
                let mut known = false;
                while table.slots[slot] != 0 {
                    let other = &table.keys[table.slots[slot] as usize - 1];
                    if same_name(other.name, key.name) {
                        assert!(
                            same_meaning(other, &key),
                            "two dialects give one key name two meanings"
                        );
                        known = true;
                        break;
                    }
                    slot = (slot + 1) % S;
                }
                if !known {
                    table.keys[table.len] = key;
                    table.summaries[table.len] = summary;
                    table.len += 1;
                    table.slots[slot] = table.len as u16;
                }
                k += 1;
            }
            d += 1;
        }
        table
    }

    // Every key of every frame comes here: inlined into each reader's loop.
    #[inline(always)]
    pub(super) fn find(&self, key: &str) -> Option<Hit> {
        self.find_summary(key, Summary::of(key.as_bytes()))
    }

    /// [`Table::find`] for a key whose summary is known.
    #[inline(always)]
    pub(super) fn find_summary(&self, key: &str, summary: Summary) -> Option<Hit> {
        let mut slot = summary.slot(S);
        loop {
            let index = usize::from(self.slots[slot]).checked_sub(1)?;
            let entry = &self.keys[index];
            if self.summaries[index] == summary && (summary.len <= 16 || entry.name == key) {
                return Some(Hit {
                    field: entry.field,
                    encoding: entry.encoding,
                    vote: entry.vote,
                    // At most 1,024 entries: the index fits.
                    key: self.base + index as u32 + 1,
                });
            }
            slot = (slot + 1) % S;
        }
    }
}
