//! Timestamps packed for the attribution table's entries.
//!
//! A jiff `Timestamp` is an i64 of seconds and an i32 of nanoseconds, padded to 16 bytes, and
//! `Option<Timestamp>` takes 24. An entry holds four of them, one per connection in a table of a
//! million: packed to 12 bytes each, with "none" as an impossible nanosecond, they take 48
//! instead of 80. Every timestamp jiff can represent round-trips exactly.

use jiff::Timestamp;

/// A `Timestamp` in 12 bytes, ordered as jiff orders it (by seconds, then nanoseconds).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
#[repr(C, packed(4))]
pub(super) struct Stamp {
    second: i64,
    /// [`NONE`] in an [`OptStamp`] that holds none.
    nanosecond: i32,
}

/// Outside jiff's nanosecond range (±999,999,999).
const NONE: i32 = i32::MIN;

impl Stamp {
    pub(super) fn new(t: Timestamp) -> Stamp {
        Stamp {
            second: t.as_second(),
            nanosecond: t.subsec_nanosecond(),
        }
    }

    pub(super) fn get(self) -> Timestamp {
        // Cannot fail: the parts of a valid timestamp.
        Timestamp::new(self.second, self.nanosecond).unwrap_or(Timestamp::MIN)
    }
}

/// An `Option<Timestamp>` in 12 bytes.
#[derive(Debug, Clone, Copy)]
pub(super) struct OptStamp(Stamp);

impl OptStamp {
    pub(super) fn new(t: Option<Timestamp>) -> OptStamp {
        OptStamp(match t {
            Some(t) => Stamp::new(t),
            None => Stamp {
                second: 0,
                nanosecond: NONE,
            },
        })
    }

    pub(super) fn get(self) -> Option<Timestamp> {
        let nanosecond = self.0.nanosecond;
        (nanosecond != NONE).then(|| self.0.get())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_timestamp_round_trips() {
        for t in [
            Timestamp::MIN,
            Timestamp::MAX,
            Timestamp::UNIX_EPOCH,
            Timestamp::new(-1, -500_000_000).unwrap(),
            Timestamp::new(1_705_573_861, 123_456_789).unwrap(),
        ] {
            assert_eq!(Stamp::new(t).get(), t);
            assert_eq!(OptStamp::new(Some(t)).get(), Some(t));
        }
        assert_eq!(OptStamp::new(None).get(), None);
        assert_eq!(std::mem::size_of::<Stamp>(), 12);
        assert_eq!(std::mem::size_of::<OptStamp>(), 12);
    }
}
