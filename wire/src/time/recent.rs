//! The last time text a decoder read, and what it read it as. A feed's records mostly share
//! their second with the record before, and reading a time of text (its tokens, its date, its
//! zone's offset) costs about a thousand instructions; comparing it with the last one, a few.

use jiff::tz::TimeZone;
use jiff::Timestamp;

/// Time texts up to this long are remembered (NSS's longest, ctime with a zone, is 28 bytes).
const LONGEST: usize = 40;

/// One remembered reading of [`parse_time`](super::parse_time).
#[derive(Debug)]
pub struct Recent {
    text: [u8; LONGEST],
    len: usize,
    zone: TimeZone,
    ts: Option<Timestamp>,
}

impl Default for Recent {
    fn default() -> Self {
        // Nothing read yet: no text is longer than LONGEST, so none matches.
        Recent {
            text: [0; LONGEST],
            len: usize::MAX,
            zone: TimeZone::UTC,
            ts: None,
        }
    }
}

impl Recent {
    /// What [`parse_time`](super::parse_time) says of `s` in `zone`.
    pub fn parse(&mut self, s: &str, zone: &TimeZone) -> Option<Timestamp> {
        let b = s.as_bytes();
        // `zone` is nearly always the clone remembered, which compares by pointer.
        if b.len() == self.len && b == &self.text[..self.len] && self.zone == *zone {
            return self.ts;
        }
        let ts = super::parse_time(s, zone);
        if let Some(text) = self.text.get_mut(..b.len()) {
            text.copy_from_slice(b);
            self.len = b.len();
            if self.zone != *zone {
                self.zone = zone.clone();
            }
            self.ts = ts;
        }
        ts
    }
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
}
