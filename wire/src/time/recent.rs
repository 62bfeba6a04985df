//! The last time text a decoder read, and what it read it as. A feed's records mostly share
//! their second with the record before, and reading a time of text (its tokens, its date, its
//! zone's offset) costs about a thousand instructions; comparing it with the last one, a few.
//! A record a second or two later differs from the last one in its seconds only: once two
//! readings showed where they are, such a text is the last time moved by their difference.

use jiff::tz::TimeZone;
use jiff::{SignedDuration, Timestamp};

/// Time texts up to this long are remembered (NSS's longest, ctime with a zone, is 28 bytes).
const LONGEST: usize = 40;

/// Times before this (2000-01-01) are not moved by their seconds: a zone word in the text may
/// name a zone whose offset changed at a time that was no whole minute (the local mean times of
/// the 19th century, Liberia's -0:44:30 until 1972), and the seconds of one minute could then
/// straddle the change.
const MOVABLE_SINCE: i64 = 946_684_800;

/// One remembered reading of [`parse_time`](super::parse_time).
#[derive(Debug)]
pub struct Recent {
    text: [u8; LONGEST],
    len: usize,
    zone: TimeZone,
    ts: Option<Timestamp>,
    /// Where the two digits of the seconds are in `text`, as the last two readings showed it.
    seconds: Option<usize>,
}

impl Default for Recent {
    fn default() -> Self {
        // Nothing read yet: no text is longer than LONGEST, so none matches.
        Recent {
            text: [0; LONGEST],
            len: usize::MAX,
            zone: TimeZone::UTC,
            ts: None,
            seconds: None,
        }
    }
}

impl Recent {
    /// What [`parse_time`](super::parse_time) says of `s` in `zone`.
    pub fn parse(&mut self, s: &str, zone: &TimeZone) -> Option<Timestamp> {
        let b = s.as_bytes();
        // `zone` is nearly always the clone remembered, which compares by pointer.
        if b.len() == self.len && self.zone == *zone {
            if b == &self.text[..self.len] {
                return self.ts;
            }
            if let Some(ts) = self.moved(b) {
                return Some(ts);
            }
        }
        let ts = super::parse_time(s, zone);
        let seconds = self.seconds_between(b, zone, ts);
        if let Some(text) = self.text.get_mut(..b.len()) {
            text.copy_from_slice(b);
            self.len = b.len();
            if self.zone != *zone {
                self.zone = zone.clone();
            }
            self.ts = ts;
            self.seconds = seconds;
        }
        ts
    }

    /// The time of `b`, a text as long as the last one in the same zone, when it differs from it
    /// in its seconds only: the last time moved by their difference.
    fn moved(&mut self, b: &[u8]) -> Option<Timestamp> {
        let (at, last) = (self.seconds?, self.ts?);
        let text = &self.text[..self.len];
        if b[..at] != text[..at] || b[at + 2..] != text[at + 2..] {
            return None;
        }
        let (new, old) = (seconds(b, at)?, seconds(text, at)?);
        let ts = last
            .checked_add(SignedDuration::from_secs(new - old))
            .ok()?;
        self.text[at..at + 2].copy_from_slice(&b[at..at + 2]);
        self.ts = Some(ts);
        Some(ts)
    }

    /// Where the seconds are in `b` and in the last text, when the two differ there only and
    /// their times (`ts`, and the last) differ by as many seconds as those digits do: no other
    /// field of a time counts in seconds. Only in a zone of one offset, so that every second of
    /// a minute is read with the same offset.
    fn seconds_between(&self, b: &[u8], zone: &TimeZone, ts: Option<Timestamp>) -> Option<usize> {
        let (last, ts) = (self.ts?, ts?);
        if b.len() != self.len || self.zone != *zone || last.as_second() < MOVABLE_SINCE {
            return None;
        }
        let text = &self.text[..self.len];
        let differs = |(x, y): (&u8, &u8)| x != y;
        let first = text.iter().zip(b).position(differs)?;
        let end = text.iter().zip(b).rposition(differs)?;
        // Two digits bounded by what is no digit: one of two places when one digit differs.
        let at = [first.checked_sub(1), Some(first)]
            .into_iter()
            .flatten()
            .find(|&at| at + 1 >= end && at >= 1 && at + 2 <= b.len() && bounded(b, at))?;
        let (new, old) = (seconds(b, at)?, seconds(text, at)?);
        let fixed = zone.to_fixed_offset().is_ok();
        let same = ts.subsec_nanosecond() == last.subsec_nanosecond()
            && ts.as_second() - last.as_second() == new - old;
        (fixed && same).then_some(at)
    }
}

/// The two digits at `at` as seconds, 00 to 59.
fn seconds(b: &[u8], at: usize) -> Option<i64> {
    super::two(b[at], b[at + 1])
        .filter(|&s| s < 60)
        .map(i64::from)
}

/// Whether the two bytes at `at` (`at` >= 1) have no digit either side of them.
fn bounded(b: &[u8], at: usize) -> bool {
    !b[at - 1].is_ascii_digit() && b.get(at + 2).is_none_or(|c| !c.is_ascii_digit())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn answers_as_parse_time_whatever_came_before() {
        let paris = crate::time::parse_zone("Europe/Paris").unwrap();
        let fixed = crate::time::parse_zone("+05:30").unwrap();
        let zones = [TimeZone::UTC, paris, fixed];
        let texts = [
            "Mon Jun 17 13:55:05 2024",
            "Mon Jun 17 13:55:06 2024",
            "Jun 17 2024 13:55:05",
            "2024-06-17 13:55:05",
            "1718632505",
            "not a time",
            "",
            "Mon Jun 17 13:55:05 2024 a text longer than forty bytes",
        ];
        let mut recent = Recent::default();
        for round in 0..3 {
            for zone in &zones {
                for text in texts.iter().chain(texts.iter().rev()) {
                    let want = crate::time::parse_time(text, zone);
                    assert_eq!(
                        recent.parse(text, zone),
                        want,
                        "{text:?} in {zone:?} ({round})"
                    );
                    // Twice in a row: the remembered answer.
                    assert_eq!(recent.parse(text, zone), want, "{text:?} in {zone:?} again");
                }
            }
        }
    }
    /// Texts a second or a few apart, over minutes, hours, days, a year's end and a change of
    /// daylight saving time, in zones with one offset and without: the remembered readings,
    /// moved by their seconds, are what reading each text afresh gives.
    #[test]
    fn seconds_apart_read_as_parse_time() {
        let zones = [
            "UTC",
            "Europe/Paris",
            "+05:30",
            "-03:30",
            "America/New_York",
        ]
        .map(|z| crate::time::parse_zone(z).unwrap());
        let starts = [
            1_711_846_700,
            1_704_067_100,
            1_718_632_505,
            946_684_700,
            946_684_790,
        ];
        for zone in &zones {
            for format in [
                "%a %b %e %H:%M:%S %Y",
                "%Y-%m-%d %H:%M:%S",
                "%b %d %Y %H:%M:%S",
            ] {
                for &start in &starts {
                    let mut recent = Recent::default();
                    let mut t = start;
                    for step in 0..400i64 {
                        let civil = Timestamp::from_second(t).unwrap().to_zoned(zone.clone());
                        let text = civil.strftime(format).to_string();
                        let want = crate::time::parse_time(&text, zone);
                        assert_eq!(recent.parse(&text, zone), want, "{text:?} in {zone:?}");
                        t += [0, 1, 1, 2, 1, 0, 3][(step % 7) as usize];
                    }
                }
            }
        }
    }

    /// A change of a field other than the seconds is never taken for one of them.
    #[test]
    fn only_the_seconds_move() {
        read_in_turn(&[
            "2024-06-17 13:55:05",
            "2024-06-17 13:55:06",
            "2024-06-17 13:56:06",
            "2024-06-17 14:56:06",
            "2024-06-18 14:56:06",
            "2024-06-18 14:56:07.5",
            "2024-06-18 14:56:08.5",
            "2024-06-18 14:56:08.6",
            "2024-06-18 14:56:59",
            "2024-06-18 14:56:60",
            "1718632505",
            "1718632506",
            "1718632507",
            "Mon Jun 17 13:55:05 2024 EST",
            "Mon Jun 17 13:55:06 2024 EST",
            "Mon Jun 17 13:55:07 2024 PST",
        ]);
    }

    /// Bytes that are no digits where the seconds are: read afresh, never a panic (the `time`
    /// fuzz target's find: `&` in the tens wrapped to 246, and its product overflowed).
    #[test]
    fn no_digits_where_the_seconds_are() {
        read_in_turn(&[
            "2025-11-22 08:26:40",
            "2025-11-22 08:26:41",
            "2025-11-22 08:26:&3",
            "2025-11-22 08:26:4&",
            "2025-11-22 08:26:\u{ff}3",
            "2025-11-22 08:26:42",
        ]);
    }

    /// Reads `texts` in turn through one `Recent`: each as `parse_time` reads it afresh.
    fn read_in_turn(texts: &[&str]) {
        let mut recent = Recent::default();
        for text in texts {
            let want = crate::time::parse_time(text, &TimeZone::UTC);
            assert_eq!(recent.parse(text, &TimeZone::UTC), want, "{text:?}");
        }
    }
}
