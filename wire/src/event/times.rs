//! A record's times: its own (ZIA's in the feed's zone or the zone its record names, LSS's in
//! UTC), else its syslog header's, else when it arrived; a time that is there but cannot be read
//! is a `bad_time`, never a time made up for it.

use jiff::tz::TimeZone;
use jiff::Timestamp;

use super::{zpa_name, Context, Reason};
use crate::fields::{Fields, Scalar};
use crate::keys::Field;
use crate::time;

/// The earliest time a record may have, 2000-01-01: Zscaler's logs began after it, and an
/// earlier one is a placeholder or garbage (`0001-01-01`, a negative or tiny epoch), which the
/// registry took as a device's first sighting (and could not hold: its times are nanoseconds in
/// an i64, from 1677).
const EARLIEST: i64 = 946_684_800;
/// The latest, 2262-01-01: where the registry's times end.
const LATEST: i64 = 9_183_110_400;

/// `ts` if a record may have it ([`EARLIEST`], [`LATEST`]).
pub fn plausible(ts: Timestamp) -> Option<Timestamp> {
    (EARLIEST..LATEST).contains(&ts.as_second()).then_some(ts)
}

/// Whether `text` is what NSS writes where it has no time, `Thu Jan  1 00:00:00 1970`, whatever
/// the feed's zone (read in New York's it was a time, 05:00).
fn no_time(text: &str) -> bool {
    // Asked of every record's `time`: read only when it could be.
    let text = text.trim_ascii();
    text.starts_with("Thu Jan")
        && text.ends_with("1970")
        && time::parse_time(text, &TimeZone::UTC) == Some(Timestamp::UNIX_EPOCH)
}

/// A ZIA record's time: `epochtime` (unambiguous), else `time` (ctime in the feed's zone, or in
/// the record's own `tz`: [`time::parse_time_in_zone_named`]), else `datetime`, else the syslog
/// header's, else the time it was received. A time field that is there but unreadable is an
/// error rather than a silent substitution.
pub fn zia_time(f: &Fields<'_>, ctx: &Context<'_>) -> Result<Timestamp, Reason> {
    let mut unreadable = false;
    if f.has(Field::EpochTime) {
        match epoch(f, Field::EpochTime).and_then(plausible) {
            Some(ts) => return Ok(ts),
            None => unreadable = true,
        }
    }
    let word = f.text(Field::Tz);
    for field in [Field::Time, Field::DateTime] {
        // NSS's "no time" is no time of the record's own: the next field, the header or the
        // arrival dates it, as when the field is absent.
        if let Some(text) = f.text(field).filter(|text| !no_time(text)) {
            match zia_zoned(&text, word.as_deref(), ctx).and_then(plausible) {
                Some(ts) => return Ok(ts),
                None => unreadable = true,
            }
        }
    }
    if unreadable {
        return Err(Reason::BadTime);
    }
    Ok(ctx.header_time(ctx.zone)?.unwrap_or(ctx.received))
}

/// A ZIA time in the record's own zone word (`%s{tz}`) when it has one, else in the feed's.
fn zia_zoned(text: &str, word: Option<&str>, ctx: &Context<'_>) -> Option<Timestamp> {
    // Most often the word is the feed zone's or GMT, whose times go through the decoder's memory
    // of the last one.
    // A time without a year (`Jun 20 15:29:11`, some CEF templates' `rt`) takes one as an RFC
    // 3164 header's does: the record's own time, where a relay's header or the arrival would be
    // another.
    // The year is the one nearest before the header's time when it has a full one (a replay
    // through a relay that kept the original stamps), else before the arrival.
    let read = |zone: &TimeZone| {
        ctx.parse_time(text, zone).or_else(|| {
            let now = ctx.header.time(zone, ctx.received).unwrap_or(ctx.received);
            crate::header::yearless_time(text, zone, now)
        })
    };
    match word.map(str::trim) {
        None => read(ctx.zone),
        Some("GMT" | "UTC") => read(&TimeZone::UTC),
        Some(name) if ctx.zone.iana_name() == Some(name) => read(ctx.zone),
        Some(name) => time::parse_time_in_zone_named(text, name, ctx.zone),
    }
}

/// Another time of a ZIA record than its own (a SaaS file's last change), read as the record's
/// time is: `None` when absent, and when unreadable.
pub fn zia_other_time(f: &Fields<'_>, field: Field, ctx: &Context<'_>) -> Option<Timestamp> {
    match f.get(field)?.value {
        Scalar::Str(_) => {
            let text = f.text(field).filter(|text| !no_time(text))?;
            zia_zoned(&text, f.text(Field::Tz).as_deref(), ctx).and_then(plausible)
        }
        _ => epoch(f, field).and_then(plausible),
    }
}

/// Epoch seconds as a number or a string, a fraction allowed (`1700000022.5`); a number past
/// ten digits (or a whole float of as many) is read as the same digits in text are:
/// milliseconds (13), microseconds (16).
fn epoch(f: &Fields<'_>, field: Field) -> Option<Timestamp> {
    match f.get(field)?.value {
        Scalar::Str(s) => time::parse_time(s, &TimeZone::UTC),
        Scalar::U64(n) => time::from_epoch_number(i64::try_from(n).ok()?),
        // Negative: refused, as `-5` in text is.
        Scalar::I64(n) => time::from_epoch_number(n),
        Scalar::F64(x) => match time::whole(x) {
            Some(n) => time::from_epoch_number(n),
            None => time::from_epoch_f64(x),
        },
        Scalar::Bool(_) => None,
    }
}

/// An optional time of an LSS record (LSS writes UTC): absent, or read; unreadable is an error.
/// `"0"` is absent, as the number 0 is: an epoch-seconds template writes it for a connection
/// that has not ended or a session still authenticated, and the record must not be lost for it.
/// A JSON number is epoch seconds or milliseconds, as the same digits in a string are: a custom
/// template may write `%d{LogTimestamp:epoch}` unquoted, and re-emitters write milliseconds.
pub fn lss_time(f: &Fields<'_>, field: Field) -> Result<Option<Timestamp>, Reason> {
    lss_time_with(f, field, |text| time::parse_time(text, &TimeZone::UTC))
}

/// [`lss_time`] of `LogTimestamp`, through the decoder's memory of the last time text read
/// ([`Context::parse_time`]): a feed's records mostly share their second with the one before,
/// and LSS writes this one in ctime, whose reading costs the most.
pub fn lss_log_time(f: &Fields<'_>, ctx: &Context<'_>) -> Result<Option<Timestamp>, Reason> {
    lss_time_with(f, Field::LogTimestamp, |text| {
        ctx.parse_time(text, &TimeZone::UTC)
    })
}

/// The record's `LogTimestamp` ([`lss_log_time`]). When another of its times already dates it
/// (`dated`: a connection's start, a request's arrival), this one is a second time, read as
/// [`lss_other_time`] reads one: left out when unreadable.
pub fn lss_logged(
    f: &Fields<'_>,
    ctx: &Context<'_>,
    dated: bool,
) -> Result<Option<Timestamp>, Reason> {
    let logged = lss_log_time(f, ctx);
    if dated {
        Ok(logged.ok().flatten())
    } else {
        logged
    }
}

/// [`lss_time`], a text read by `parse`.
fn lss_time_with(
    f: &Fields<'_>,
    field: Field,
    parse: impl FnOnce(&str) -> Option<Timestamp>,
) -> Result<Option<Timestamp>, Reason> {
    let number = match f.get(field).map(|slot| slot.value) {
        Some(Scalar::U64(n)) => Some(i64::try_from(n).ok()),
        Some(Scalar::I64(n)) => Some(Some(n)),
        // Whole, read as its digits; else seconds with a fraction.
        Some(Scalar::F64(x)) => match time::whole(x) {
            Some(n) => Some(Some(n)),
            None => {
                return (time::from_epoch_f64(x).and_then(plausible))
                    .map(Some)
                    .ok_or(Reason::BadTime)
            }
        },
        _ => None,
    };
    if let Some(n) = number {
        return match n {
            Some(0) => Ok(None),
            Some(n) => (time::from_epoch_number(n).and_then(plausible))
                .map(Some)
                .ok_or(Reason::BadTime),
            None => Err(Reason::BadTime),
        };
    }
    match zpa_name(f, field) {
        None => Ok(None),
        Some(text) => parse(&text)
            .and_then(plausible)
            .map(Some)
            .ok_or(Reason::BadTime),
    }
}

/// A second time of an LSS record, beside the one that dates it (a session's authentication,
/// the log line's own when a connection's start dates the record): `None` when absent, and
/// when unreadable, left out rather than losing the record for it.
pub fn lss_other_time(f: &Fields<'_>, field: Field) -> Option<Timestamp> {
    lss_time(f, field).ok().flatten()
}

/// An LSS record's time: its own, else its syslog header's (IBM's LEEF templates put
/// LogTimestamp there), read as UTC like every LSS time, else when it arrived.
pub fn lss_or_header_time(own: Option<Timestamp>, ctx: &Context<'_>) -> Result<Timestamp, Reason> {
    match own {
        Some(ts) => Ok(ts),
        None => Ok(ctx.header_time(&TimeZone::UTC)?.unwrap_or(ctx.received)),
    }
}
