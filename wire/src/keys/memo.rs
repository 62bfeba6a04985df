//! The keys of the frame before, by position. A feed writes every record with one template, so
//! the nth key of a frame is nearly always the nth key of the frame before: comparing a key with
//! that one's summary costs less than finding it in the table, which every key of every frame
//! would otherwise do.

use super::{Hit, Summary, TABLE};

/// Positions remembered; keys after these are looked up in the table.
const POSITIONS: usize = 64;

/// Keys longer than this are looked up in the table: their summary does not cover every byte.
const SUMMED: usize = 16;

/// What [`lookup`](super::lookup) said about the key at each position of the frame before.
#[derive(Clone)]
pub struct Memo {
    seen: [(Summary, Option<Hit>); POSITIONS],
}

impl Default for Memo {
    fn default() -> Self {
        // A length no key has: nothing matches until a frame has filled the position.
        let none = Summary {
            len: usize::MAX,
            head: 0,
            tail: 0,
        };
        Memo {
            seen: [(none, None); POSITIONS],
        }
    }
}

impl Memo {
    /// What [`lookup`](super::lookup) says about `key`, the `position`th key of its frame.
    #[inline(always)]
    pub fn lookup(&mut self, position: usize, key: &str) -> Option<Hit> {
        let summary = Summary::of(key.as_bytes());
        match self.seen.get_mut(position) {
            Some(seen) if summary.len <= SUMMED => {
                // Equal summaries of keys of up to 16 bytes are equal keys.
                if seen.0 != summary {
                    *seen = (summary, TABLE.find_summary(key, summary));
                }
                seen.1
            }
            _ => TABLE.find_summary(key, summary),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::keys::lookup;

    #[test]
    fn answers_as_the_table_whatever_came_before() {
        let keys = [
            "cip",
            "eurl",
            "devicehostname",
            "sourcetype",
            "unknownkey",
            "",
            "keyprotectiontype",
            "a_key_longer_than_sixteen",
            "ClientIP",
            "clientip",
        ];
        let mut memo = Memo::default();
        // Every key at every position, in several orders, so that each position is compared
        // with keys it did and did not hold before.
        for round in 0..keys.len() {
            for (i, _) in keys.iter().enumerate() {
                for position in [0, i, POSITIONS - 1, POSITIONS, POSITIONS + 3] {
                    let key = keys[(i + round) % keys.len()];
                    assert_eq!(
                        memo.lookup(position, key),
                        lookup(key),
                        "{key} at {position}"
                    );
                }
            }
        }
    }
}
