//! The keys of the frame before, by position. A feed writes every record with one template, so
//! the nth key of a frame is nearly always the nth key of the frame before: comparing a key with
//! that one's summary costs less than finding it in the table, which every key of every frame
//! would otherwise do.

use super::{Hit, Summary, TABLE};

/// Positions remembered; keys after these are looked up in the table.
const POSITIONS: usize = 64;

/// Keys longer than this are looked up in the table: their summary does not cover every byte.
const SUMMED: usize = 16;

/// What a lookup said about the key at each position of the frame before, and which lookup it
/// was: a format whose frames name their log type consults a table per type.
#[derive(Clone)]
pub struct Memo {
    seen: [Seen; POSITIONS],
}

#[derive(Clone, Copy)]
struct Seen {
    summary: Summary,
    table: u8,
    hit: Option<Hit>,
}

impl Default for Memo {
    fn default() -> Self {
        // A length no key has: nothing matches until a frame has filled the position.
        let none = Seen {
            summary: Summary {
                len: usize::MAX,
                head: 0,
                tail: 0,
            },
            table: 0,
            hit: None,
        };
        Memo {
            seen: [none; POSITIONS],
        }
    }
}

impl Memo {
    /// What [`lookup`](super::lookup) says about `key`, the `position`th key of its frame.
    #[inline(always)]
    pub fn lookup(&mut self, position: usize, key: &str) -> Option<Hit> {
        let summary = Summary::of(key.as_bytes());
        self.remembered(position, 0, key, summary, |key| {
            TABLE.find_summary(key, summary)
        })
    }

    /// What `find` says about `key`, the `position`th key of its frame, where `table` (not 0,
    /// which is [`lookup`](Self::lookup)'s) names `find` among the caller's lookups.
    #[inline(always)]
    pub fn lookup_with(
        &mut self,
        position: usize,
        table: u8,
        key: &str,
        find: impl FnOnce(&str) -> Option<Hit>,
    ) -> Option<Hit> {
        debug_assert_ne!(table, 0, "table 0 is the shared table's");
        self.remembered(position, table, key, Summary::of(key.as_bytes()), find)
    }

    #[inline(always)]
    fn remembered(
        &mut self,
        position: usize,
        table: u8,
        key: &str,
        summary: Summary,
        find: impl FnOnce(&str) -> Option<Hit>,
    ) -> Option<Hit> {
        match self.seen.get_mut(position) {
            Some(seen) if summary.len <= SUMMED => {
                // Equal summaries of keys of up to 16 bytes are equal keys.
                if seen.summary != summary || seen.table != table {
                    *seen = Seen {
                        summary,
                        table,
                        hit: find(key),
                    };
                }
                seen.hit
            }
            _ => find(key),
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
            "outcome",
            "cat",
        ];
        let mut memo = Memo::default();
        // Every key at every position, in several orders, so that each position is compared
        // with keys it did and did not hold before.
        for round in 0..keys.len() {
            for (i, _) in keys.iter().enumerate() {
                for position in [0, i, POSITIONS - 1, POSITIONS, POSITIONS + 3] {
                    let key = keys[(i + round) % keys.len()];
                    assert_eq!(memo.lookup(position, key), lookup(key), "{key}");
                    // Another table at the same position: its own answer, never the other's.
                    let cef =
                        |k: &str| crate::keys::lookup_cef(Some(crate::kind::Kind::ZiaAudit), k);
                    assert_eq!(memo.lookup_with(position, 3, key, cef), cef(key), "{key}");
                    assert_eq!(memo.lookup(position, key), lookup(key), "{key}");
                }
            }
        }
    }
}
