//! Timestamps as Zscaler feeds send them, and the zones they are read in.
//!
//! Every record carries at least one timestamp, so the common forms are
//! parsed by hand into integers: no allocation, and no trip through jiff's
//! general parser (whose error values allocate).

use jiff::civil::DateTime;
use jiff::tz::{AmbiguousOffset, TimeZone};
use jiff::Timestamp;

pub(crate) mod civil;
mod epoch;
mod recent;
mod zone;
use civil::days_from_civil;
pub use epoch::{from_epoch_f64, from_epoch_number, from_epoch_secs, whole};
use epoch::{parse_epoch, parse_epoch_fraction};
pub use recent::Recent;
pub use zone::{looks_like_zone_word, parse_time_in_zone_named, parse_zone};

/// Parses every time format Zscaler feeds send, interpreting times that carry
/// no zone or offset in `zone`:
///
///  - ctime: "Fri Dec 17 07:04:57 2021", also with a space-padded day
///    "Mon Mar  2 02:57:01 2020"
///  - "2023-08-28 15:43:14", optionally with fractional seconds
///  - epoch seconds as up to 10 digits, or epoch milliseconds as 13 digits
///  - ISO 8601 / RFC 3339: "2019-05-30T08:20:42.230Z",
///    "2019-05-30T08:20:42+02:00", "2019-05-30T08:20:42" (in `zone`)
///  - ctime with a zone word before the year, as LEEF devTime and `date`
///    send: "Mon Oct 02 16:21:40 UTC 2017", "… Europe/Berlin 2017", "… +0200
///    2017", or the abbreviation `zone` has then ("Mon Oct 02 16:21:40 PDT
///    2017" in America/Los_Angeles), or after the year ("… 2017 UTC"); the
///    ISO forms may end in such a word
///    ("2023-08-28 15:43:14 UTC")
///  - the month first and the year before the time, as Zscaler's QRadar LEEF
///    (`devTime`) and ArcSight CEF (`rt`) templates write it, optionally with
///    a fraction and a zone (UTC/GMT, an IANA name, an offset, or the
///    abbreviation `zone` has then, as NSS's `%s{tz}`): "Oct 02 2017 16:21:40",
///    "Oct 02 2017 16:21:40 GMT", also with the month as a number,
///    "10 02 2017 16:21:40"
///
/// Surrounding whitespace is ignored. `None` for anything else, for invalid
/// dates, and for the absent words "", "None", "NA", "N/A" and "0". Local
/// times in a DST gap or overlap resolve with jiff's "compatible" rule (the
/// later side of a gap, the earlier of an overlap).
pub fn parse_time(s: &str, zone: &TimeZone) -> Option<Timestamp> {
    let b = s.trim_ascii().as_bytes();
    let &first = b.first()?;
    if first.is_ascii_digit() {
        // A `-` after four digits is a date's (LSS's `2019-07-03T05:17:22.000Z`, several a
        // record): no epoch time, whole or with a fraction, has one before its digits end.
        if b.get(4) == Some(&b'-') {
            parse_iso(b, zone).or_else(|| parse_month_first(b, zone))
        } else if b.iter().all(u8::is_ascii_digit) {
            parse_epoch(b)
        } else if let Some(ts) = parse_epoch_fraction(b) {
            Some(ts)
        } else {
            parse_iso(b, zone).or_else(|| parse_month_first(b, zone))
        }
    } else if first.is_ascii_alphabetic() {
        parse_ctime(b, zone).or_else(|| parse_month_first(b, zone))
    } else {
        None
    }
}

// ---------------------------------------------------------------------------
// Field parsing helpers

#[inline]
fn digit(b: u8) -> Option<u32> {
    if b.is_ascii_digit() {
        Some(u32::from(b - b'0'))
    } else {
        None
    }
}

#[inline]
fn two(a: u8, b: u8) -> Option<u32> {
    // Both checked at once: a date has six of these.
    let (tens, ones) = (a.wrapping_sub(b'0'), b.wrapping_sub(b'0'));
    (tens < 10 && ones < 10).then(|| u32::from(tens) * 10 + u32::from(ones))
}

#[inline]
fn four(b: &[u8]) -> Option<u32> {
    match *b {
        [a, b2, c, d] => Some(two(a, b2)? * 100 + two(c, d)?),
        _ => None,
    }
}

/// Calendar fields before validation. Integers are kept small and unsigned
/// so that out-of-range values can only be rejected, never wrap.
#[derive(Clone, Copy)]
struct Fields {
    year: u32,
    month: u32,
    day: u32,
    hour: u32,
    minute: u32,
    second: u32,
    nanos: u32,
}

fn is_leap(year: u32) -> bool {
    year % 4 == 0 && (year % 100 != 0 || year % 400 == 0)
}

fn days_in_month(year: u32, month: u32) -> u32 {
    match month {
        2 if is_leap(year) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

impl Fields {
    /// Checks ranges, so that the conversions below cannot fail on the
    /// calendar (and never build a jiff error, which allocates).
    fn validate(mut self) -> Option<Self> {
        if !(1..=12).contains(&self.month)
            || self.day == 0
            || self.day > days_in_month(self.year, self.month)
            || self.hour > 23
            || self.minute > 59
            || self.second > 60
            || self.nanos > 999_999_999
        {
            return None;
        }
        // A leap second has no representation in Unix time; like jiff's own
        // RFC 3339 parser, fold it onto the second before it.
        if self.second == 60 {
            self.second = 59;
        }
        Some(self)
    }

    /// Seconds since the Unix epoch of these fields read as UTC.
    fn utc_epoch_seconds(&self) -> i64 {
        days_from_civil(self.year, self.month, self.day) * 86_400
            + i64::from(self.hour * 3600 + self.minute * 60 + self.second)
    }

    /// The instant these fields denote at a known UTC offset.
    fn at_offset(self, offset_secs: i32) -> Option<Timestamp> {
        let secs = self.utc_epoch_seconds() - i64::from(offset_secs);
        Timestamp::new(secs, self.nanos as i32).ok()
    }

    /// The instant these fields denote in the feed's `zone`, if `word` is that zone's
    /// abbreviation then: NSS prints its feed's zone (`%s{tz}`), and with
    /// `feed_timezone = "America/Los_Angeles"` that is `PST` or `PDT`, which no zone is named
    /// after. Any other abbreviation stays unreadable: `CST` alone is Chicago's or China's.
    /// In the hour a clock turns back the time is there twice, once for each abbreviation
    /// (`01:30 PDT`, then `01:30 PST`): the word says which.
    fn in_feed_zone_named(self, word: &[u8], zone: &TimeZone) -> Option<Timestamp> {
        let named = |at: Timestamp| zone.to_offset_info(at).abbreviation().as_bytes() == word;
        let at = self.in_zone(zone)?;
        if named(at) {
            return Some(at);
        }
        let dt = self.civil()?;
        match zone.to_ambiguous_timestamp(dt).offset() {
            AmbiguousOffset::Fold { after, .. } => {
                after.to_timestamp(dt).ok().filter(|t| named(*t))
            }
            _ => None,
        }
    }

    /// The instant these fields denote in the zone a word beside them names: UTC, GMT, an IANA
    /// name, an offset, or the abbreviation `zone` (the feed's) has then. One rule for every
    /// form that carries a word, so that a time's form does not decide whether it is read.
    fn in_zone_word(self, word: &[u8], zone: &TimeZone) -> Option<Timestamp> {
        let name = std::str::from_utf8(word).ok()?;
        // The feed's own zone is the usual one, and UTC/GMT the next: no lookup for either (the
        // lookup reads the zone database, and builds an error text for a word that is no zone).
        if zone.iana_name() == Some(name) {
            return self.in_zone(zone);
        }
        if ["UTC", "GMT", "Z"]
            .iter()
            .any(|utc| name.eq_ignore_ascii_case(utc))
        {
            return self.at_offset(0);
        }
        // The feed zone's abbreviation before the zone database: the lookup fails for `PDT`.
        // Another abbreviation that names no zone stays unreadable (`CST` alone is Chicago's or
        // China's); the database's short names are its zones (`CET`, as NetWitness templates
        // write `timezone=CET`, is Central European time, summer time included; `Japan`).
        self.in_feed_zone_named(word, zone)
            .or_else(|| self.in_zone(&parse_zone(name).ok()?))
    }

    /// These fields as a civil date and time, zone-less.
    fn civil(self) -> Option<DateTime> {
        DateTime::new(
            self.year as i16,
            self.month as i8,
            self.day as i8,
            self.hour as i8,
            self.minute as i8,
            self.second as i8,
            self.nanos as i32,
        )
        .ok()
    }

    /// The instant these fields denote as local time in `zone`.
    fn in_zone(self, zone: &TimeZone) -> Option<Timestamp> {
        if *zone == TimeZone::UTC {
            return self.at_offset(0);
        }
        let dt = self.civil()?;
        zone.to_ambiguous_timestamp(dt).compatible().ok()
    }
}

/// "YYYY-MM-DD[T ,]hh:mm:ss[.fff…][Z|±hh[:mm]]". The comma is Zscaler's Sentinel templates'
/// (`"TimeGenerated":"2024-06-11,02:52:44"`).
fn parse_iso(b: &[u8], zone: &TimeZone) -> Option<Timestamp> {
    if b.len() < 19
        || b[4] != b'-'
        || b[7] != b'-'
        || !matches!(b[10], b'T' | b't' | b' ' | b',')
        || b[13] != b':'
        || b[16] != b':'
    {
        return None;
    }
    let mut f = Fields {
        year: four(&b[0..4])?,
        month: two(b[5], b[6])?,
        day: two(b[8], b[9])?,
        hour: two(b[11], b[12])?,
        minute: two(b[14], b[15])?,
        second: two(b[17], b[18])?,
        nanos: 0,
    };
    let mut rest = &b[19..];
    if let Some((&(b'.' | b','), frac)) = rest.split_first() {
        let n = frac.iter().take_while(|c| c.is_ascii_digit()).count();
        if n == 0 || n > 9 {
            return None;
        }
        let mut nanos = 0u32;
        for &d in &frac[..n] {
            nanos = nanos * 10 + u32::from(d - b'0');
        }
        // A table, not `pow`: that is a loop.
        const SCALE: [u32; 10] = [
            1_000_000_000,
            100_000_000,
            10_000_000,
            1_000_000,
            100_000,
            10_000,
            1_000,
            100,
            10,
            1,
        ];
        f.nanos = nanos * SCALE[n];
        rest = &frac[n..];
    }
    let f = f.validate()?;
    match *rest {
        [] => f.in_zone(zone),
        [b'Z' | b'z'] => f.at_offset(0),
        [sign @ (b'+' | b'-'), ref off @ ..] => f.at_offset(signed_offset(sign, off)?),
        // `2023-08-28 15:43:14 UTC`, as `date` and many relays write it.
        [b' ', ref word @ ..] if !word.is_empty() && !word.contains(&b' ') => {
            f.in_zone_word(word, zone)
        }
        _ => None,
    }
}

/// Seconds of an offset's `HH`, `HHMM` or `HH:MM` after its sign (`+` or `-`), as RFC 3339 and
/// `feed_timezone` write it; `None` past 23:59.
fn signed_offset(sign: u8, off: &[u8]) -> Option<i32> {
    let (h, m) = match *off {
        [h1, h2] => (two(h1, h2)?, 0),
        [h1, h2, m1, m2] | [h1, h2, b':', m1, m2] => (two(h1, h2)?, two(m1, m2)?),
        _ => return None,
    };
    if h > 23 || m > 59 {
        return None;
    }
    let secs = (h * 3600 + m * 60) as i32;
    match sign {
        b'+' => Some(secs),
        b'-' => Some(-secs),
        _ => None,
    }
}

/// English month names, abbreviated (`Aug`, as ctime writes them) or in full (`August`, as some
/// templates and samples do), any case.
fn month_number(name: &[u8]) -> Option<u32> {
    const MONTHS: [&str; 12] = [
        "january",
        "february",
        "march",
        "april",
        "may",
        "june",
        "july",
        "august",
        "september",
        "october",
        "november",
        "december",
    ];
    const SHORT: [u32; 12] = shorts(&MONTHS);
    full_or_short(name, &MONTHS, &SHORT).map(|i| i as u32 + 1)
}

fn is_weekday(name: &[u8]) -> bool {
    const DAYS: [&str; 7] = [
        "monday",
        "tuesday",
        "wednesday",
        "thursday",
        "friday",
        "saturday",
        "sunday",
    ];
    const SHORT: [u32; 7] = shorts(&DAYS);
    full_or_short(name, &DAYS, &SHORT).is_some()
}

/// The first three letters of a name, lower-cased (`| 0x20`), as one word.
const fn short(a: u8, b: u8, c: u8) -> u32 {
    (a as u32 | 0x20) | (b as u32 | 0x20) << 8 | (c as u32 | 0x20) << 16
}

const fn shorts<const N: usize>(names: &[&str; N]) -> [u32; N] {
    let mut out = [0; N];
    let mut i = 0;
    while i < N {
        let n = names[i].as_bytes();
        out[i] = short(n[0], n[1], n[2]);
        i += 1;
    }
    out
}

/// The index of the name that `name` is, in full or by its first three letters (`shorts`, their
/// words). Every record's time comes here twice: one word compare per name. `| 0x20` lower-cases a
/// letter and maps no other byte onto a lower-case letter, so equal words mean equal letters.
fn full_or_short(name: &[u8], names: &[&str], shorts: &[u32]) -> Option<usize> {
    let [a, b, c, ..] = *name else {
        return None;
    };
    let i = shorts.iter().position(|&s| s == short(a, b, c))?;
    (name.len() == 3 || name.eq_ignore_ascii_case(names[i].as_bytes())).then_some(i)
}

/// Splits off the bytes before the next single space. Two consecutive
/// spaces give an empty token, which every caller rejects, except the day
/// field, which handles its own padding.
fn token(b: &[u8]) -> (&[u8], &[u8]) {
    match memchr::memchr(b' ', b) {
        Some(i) => (&b[..i], &b[i + 1..]),
        None => (b, &[]),
    }
}

/// "Www Mmm dd hh:mm:ss yyyy", "Www Mmm  d hh:mm:ss yyyy", with a zone word
/// before the year (LEEF's, `date`'s) or after it (`%s{time} %s{tz}`).
fn parse_ctime(b: &[u8], zone: &TimeZone) -> Option<Timestamp> {
    let (wday, rest) = token(b);
    // The weekday name is checked to reject arbitrary words, but not against
    // the date: the date fields are authoritative, and a producer's wrong
    // weekday is no reason to drop the record.
    if !is_weekday(wday) {
        return None;
    }
    let (mon, rest) = token(rest);
    let month = month_number(mon)?;
    // ctime pads a one-digit day with a space ("Mar  2").
    let rest = rest.strip_prefix(b" ").unwrap_or(rest);
    let (day, rest) = token(rest);
    let day = match *day {
        [d] => digit(d)?,
        [d1, d2] => two(d1, d2)?,
        _ => return None,
    };
    let (hms, rest) = token(rest);
    let [h1, h2, b':', m1, m2, b':', s1, s2] = *hms else {
        return None;
    };
    let (word, rest) = token(rest);
    let (named, year) = match word {
        _ if rest.is_empty() => (None, word),
        // The word after the year, as a template that writes `%s{time} %s{tz}` puts it.
        [b'0'..=b'9', _, _, _] if !rest.contains(&b' ') && word.iter().all(u8::is_ascii_digit) => {
            (Some(rest), word)
        }
        _ => (Some(word), rest),
    };
    let f = Fields {
        year: four(year)?,
        month,
        day,
        hour: two(h1, h2)?,
        minute: two(m1, m2)?,
        second: two(s1, s2)?,
        nanos: 0,
    }
    .validate()?;
    match named {
        Some(word) => f.in_zone_word(word, zone),
        None => f.in_zone(zone),
    }
}

/// "Mmm dd yyyy hh:mm:ss[.fff][ zone]": `%s{mon} %02d{dd} %d{yy} %02d{hh}:%02d{mm}:%02d{ss}`
/// (NSS's `yy` is the whole year: the QRadar preset declares it `MMM dd yyyy HH:mm:ss z`),
/// then, in the LEEF preset, ` %s{tz}`. The month may be a number (`%02d{mth}`, which some CEF
/// firewall templates write: Exabeam's parser for them reads `MM dd yyyy HH:mm:ss`). A zone word that no zone is named after makes the
/// time unreadable rather than read in the wrong zone.
fn parse_month_first(b: &[u8], zone: &TimeZone) -> Option<Timestamp> {
    let (mon, rest) = token(b);
    let month = match *mon {
        [m] => digit(m)?,
        [m1, m2] => two(m1, m2)?,
        _ => month_number(mon)?,
    };
    let (day, rest) = token(rest);
    let day = match *day {
        [d] => digit(d)?,
        [d1, d2] => two(d1, d2)?,
        _ => return None,
    };
    let (year, rest) = token(rest);
    let (clock, word) = token(rest);
    let (hms, frac) = match memchr::memchr(b'.', clock) {
        Some(dot) => (&clock[..dot], Some(&clock[dot + 1..])),
        None => (clock, None),
    };
    let [h1, h2, b':', m1, m2, b':', s1, s2] = *hms else {
        return None;
    };
    let nanos = match frac {
        None => 0,
        Some(d) if (1..=9).contains(&d.len()) && d.iter().all(u8::is_ascii_digit) => {
            let n = d.iter().fold(0u32, |n, c| n * 10 + u32::from(c - b'0'));
            n * 10u32.pow(9 - d.len() as u32)
        }
        Some(_) => return None,
    };
    let f = Fields {
        year: four(year)?,
        month,
        day,
        hour: two(h1, h2)?,
        minute: two(m1, m2)?,
        second: two(s1, s2)?,
        nanos,
    }
    .validate()?;
    if word.is_empty() {
        return f.in_zone(zone);
    }
    f.in_zone_word(word, zone)
}

#[cfg(test)]
mod tests;
