//! What a record carries before its JSON: a syslog PRI (`<134>`), an RFC 3164 header
//! (`Nov 22 10:15:01 zscaler-nss`), an RFC 5424 header, or static text from the feed template.
//! The JSON starts at the first `{`; the header's timestamp and host are kept as fallbacks.

use jiff::tz::TimeZone;
use jiff::Timestamp;

/// The header of one frame, borrowed from it.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Header<'a> {
    /// The header's timestamp as written: RFC 3164 (`Nov 22 10:15:01`, no year) or RFC 5424.
    pub timestamp: Option<&'a str>,
    /// The sending host as the header names it.
    pub host: Option<&'a str>,
}

/// Where the JSON begins: the first `{`. `None` when the frame holds none.
pub fn json_start(frame: &[u8]) -> Option<usize> {
    memchr::memchr(b'{', frame)
}

/// Reads the text before the JSON. Anything it does not recognise is static template text.
pub fn parse(head: &[u8]) -> Header<'_> {
    std::str::from_utf8(head)
        .map(parse_text)
        .unwrap_or_default()
}

fn parse_text(text: &str) -> Header<'_> {
    let text = strip_pri(text.trim_start());
    if text.is_empty() {
        return Header::default();
    }
    // RFC 5424: VERSION SP TIMESTAMP SP HOSTNAME SP APP-NAME ...
    if let Some(rest) = text.strip_prefix("1 ") {
        let mut parts = rest.split(' ');
        let timestamp = parts.next().filter(|t| *t != "-");
        let host = parts.next().filter(|h| *h != "-" && !h.is_empty());
        return Header { timestamp, host };
    }
    // RFC 3164: "Mmm dd hh:mm:ss HOST ..." (the day is space-padded: "Mar  2").
    if text.len() >= 15 && is_rfc3164_stamp(&text.as_bytes()[..15]) {
        let host = text[15..]
            .split_ascii_whitespace()
            .next()
            .map(|h| h.trim_end_matches(':'))
            .filter(|h| !h.is_empty());
        return Header {
            timestamp: Some(&text[..15]),
            host,
        };
    }
    Header::default()
}

fn strip_pri(text: &str) -> &str {
    let Some(rest) = text.strip_prefix('<') else {
        return text;
    };
    match rest.find('>') {
        Some(end) if (1..=3).contains(&end) && rest[..end].bytes().all(|b| b.is_ascii_digit()) => {
            &rest[end + 1..]
        }
        _ => text,
    }
}

/// `Mmm dd hh:mm:ss`, every position checked: the stamp is then plain ASCII, so slicing the
/// text right after it is always on a character boundary.
fn is_rfc3164_stamp(b: &[u8]) -> bool {
    let digit = |i: usize| b[i].is_ascii_digit();
    b.len() >= 15
        && month_index(&b[..3]).is_some()
        && b[3] == b' '
        && (b[4] == b' ' || digit(4))
        && digit(5)
        && b[6] == b' '
        && digit(7)
        && digit(8)
        && b[9] == b':'
        && digit(10)
        && digit(11)
        && b[12] == b':'
        && digit(13)
        && digit(14)
}

fn month_index(m: &[u8]) -> Option<i8> {
    const MONTHS: [&[u8; 3]; 12] = [
        b"Jan", b"Feb", b"Mar", b"Apr", b"May", b"Jun", b"Jul", b"Aug", b"Sep", b"Oct", b"Nov",
        b"Dec",
    ];
    MONTHS.iter().position(|x| *x == m).map(|i| i as i8 + 1)
}

impl Header<'_> {
    /// The header's time, when the record carries none of its own. RFC 3164 has no year: the
    /// year is the one that puts the stamp nearest before `now` (a December stamp read in
    /// January belongs to last year).
    pub fn time(&self, zone: &TimeZone, now: Timestamp) -> Option<Timestamp> {
        let stamp = self.timestamp?;
        if stamp.len() == 15 && is_rfc3164_stamp(stamp.as_bytes()) {
            let b = stamp.as_bytes();
            let month = month_index(&b[..3])?;
            let day: i8 = stamp[4..6].trim().parse().ok()?;
            let hour: i8 = stamp[7..9].parse().ok()?;
            let minute: i8 = stamp[10..12].parse().ok()?;
            let second: i8 = stamp[13..15].parse().ok()?;
            let this_year = now.to_zoned(zone.clone()).year();
            for year in [this_year, this_year - 1] {
                let civil = jiff::civil::DateTime::new(year, month, day, hour, minute, second, 0);
                let Ok(civil) = civil else { continue };
                let Ok(ts) = zone.to_timestamp(civil) else {
                    continue;
                };
                // A day of clock skew is tolerated before deciding the stamp is last year's.
                if ts.as_second() <= now.as_second() + 86_400 {
                    return Some(ts);
                }
            }
            return None;
        }
        super::time::parse_time(stamp, zone)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn header(line: &str) -> (Header<'_>, usize) {
        let at = json_start(line.as_bytes()).expect("has a brace");
        (parse(&line.as_bytes()[..at]), at)
    }

    #[test]
    fn bare_json_has_no_header() {
        assert_eq!(header("{\"a\":1}"), (Header::default(), 0));
    }

    #[test]
    fn pri_only() {
        assert_eq!(header("<111>{\"a\":1}"), (Header::default(), 5));
    }

    #[test]
    fn rfc3164_with_pri_and_host() {
        let (h, at) = header("<134>Nov 22 10:15:01 zscaler-nss {\"a\":1}");
        assert_eq!(h.timestamp, Some("Nov 22 10:15:01"));
        assert_eq!(h.host, Some("zscaler-nss"));
        assert_eq!(at, 33);
    }

    #[test]
    fn rfc3164_space_padded_day_and_tag() {
        let (h, _) = header("Mar  2 02:57:01 nss01 zscaler-nss: {}");
        assert_eq!(h.timestamp, Some("Mar  2 02:57:01"));
        assert_eq!(h.host, Some("nss01"));
    }

    #[test]
    fn rfc5424_header() {
        let (h, _) = header("<165>1 2025-11-22T10:15:01.003Z nss01 zscaler - - - {\"a\":1}");
        assert_eq!(h.timestamp, Some("2025-11-22T10:15:01.003Z"));
        assert_eq!(h.host, Some("nss01"));
    }

    #[test]
    fn static_text_is_skipped() {
        let (h, at) = header("ZSCALER-NSS web: {\"a\":1}");
        assert_eq!(h, Header::default());
        assert_eq!(at, 17);
    }

    #[test]
    fn no_brace_is_none() {
        assert!(
            json_start(b"Mon Oct 02 16:21:40 UTC 2017 zscaler-nss: LEEF:1.0|Zscaler").is_none()
        );
    }

    #[test]
    fn a_stamp_cut_inside_a_utf8_character_is_no_stamp() {
        // Found by the header fuzz target: this used to slice inside "é" and panic.
        let (h, at) = header("Jan 01 00:00:0\u{e9}{}");
        assert_eq!((h, at), (Header::default(), 16));
    }

    #[test]
    fn rfc3164_time_takes_the_year_before_now() {
        let now: Timestamp = "2026-01-03T00:00:00Z".parse().unwrap();
        let (h, _) = header("Dec 31 23:59:59 nss {}");
        let ts = h.time(&TimeZone::UTC, now).unwrap();
        assert_eq!(ts.to_string(), "2025-12-31T23:59:59Z");
        let (h, _) = header("Jan  2 10:00:00 nss {}");
        assert_eq!(
            h.time(&TimeZone::UTC, now).unwrap().to_string(),
            "2026-01-02T10:00:00Z"
        );
    }

    #[test]
    fn rfc5424_time_parses() {
        let now = Timestamp::now();
        let (h, _) = header("<165>1 2025-11-22T10:15:01Z nss01 zscaler - - - {}");
        assert_eq!(
            h.time(&TimeZone::UTC, now).unwrap().to_string(),
            "2025-11-22T10:15:01Z"
        );
    }
}
