//! Epoch times: seconds or milliseconds since 1970, as digits in text or as JSON numbers.

use jiff::Timestamp;

/// Epoch seconds with a fraction, `1700000022.5`: up to ten digits, a dot, up to nine digits.
pub(super) fn parse_epoch_fraction(b: &[u8]) -> Option<Timestamp> {
    let dot = b.iter().position(|&c| c == b'.')?;
    let (secs, frac) = (&b[..dot], &b[dot + 1..]);
    let digits = |d: &[u8]| !d.is_empty() && d.iter().all(u8::is_ascii_digit);
    if !digits(secs) || !digits(frac) || frac.len() > 9 {
        return None;
    }
    // Milliseconds or microseconds written as a whole float (`1663346058860810.0`, a JSON
    // number printed with its fraction): the digits before the point, as they would be alone.
    if secs.len() > 10 {
        return frac.iter().all(|&d| d == b'0').then(|| parse_epoch(secs))?;
    }
    let whole = parse_epoch(secs)?;
    let mut nanos = 0i32;
    for i in 0..9 {
        nanos = nanos * 10 + frac.get(i).map_or(0, |d| i32::from(d - b'0'));
    }
    Timestamp::new(whole.as_second(), nanos).ok()
}

/// The integer a double holds when it has no fraction, as a JSON writer may print any number
/// (`1.562130745e9`, microseconds as `1.66334605886081e15`): read as the same digits in text
/// are. Below 10^16, the most digits an epoch time has (exact below 2^53).
pub fn whole(x: f64) -> Option<i64> {
    (x.fract() == 0.0 && x.abs() < 1e16).then_some(x as i64)
}

/// Epoch seconds from a JSON number with a fraction; `None` when out of range, not finite, or 0.
/// Kept to the microsecond: a double near today's epoch is exact to a quarter of one (2^-22 s),
/// so its nanoseconds are the binary rounding's, not the sender's (`1663346058.860810` is
/// 1663346058.860810041… as a double).
pub fn from_epoch_f64(secs: f64) -> Option<Timestamp> {
    if !secs.is_finite() || secs <= 0.0 || secs >= 1e11 {
        return None;
    }
    let micros = (secs * 1e6).round();
    if micros < 1.0 {
        return None;
    }
    let whole = (micros / 1e6).floor();
    let nanos = (micros - whole * 1e6) as i32 * 1000;
    Timestamp::new(whole as i64, nanos).ok()
}

/// Epoch seconds, milliseconds or microseconds as a JSON number writes them, read as
/// [`super::parse_time`] reads the same digits: up to ten digits are seconds, thirteen
/// milliseconds, sixteen microseconds (ZPA AppProtection's request times); `None` for anything
/// else (eleven or twelve digits fit neither a plausible time in seconds nor one in
/// milliseconds, fourteen or fifteen neither milliseconds nor microseconds), for 0 and for
/// negative numbers.
pub fn from_epoch_number(n: i64) -> Option<Timestamp> {
    match n {
        1..=9_999_999_999 => Timestamp::from_second(n).ok(),
        1_000_000_000_000..=9_999_999_999_999 => Timestamp::from_millisecond(n).ok(),
        1_000_000_000_000_000..=9_999_999_999_999_999 => Timestamp::from_microsecond(n).ok(),
        _ => None,
    }
}

/// Epoch seconds (from a JSON number) → Timestamp; `None` when out of range
/// or 0 (which feeds use for "unset", never for 1970-01-01).
pub fn from_epoch_secs(secs: i64) -> Option<Timestamp> {
    if secs == 0 {
        return None;
    }
    Timestamp::from_second(secs).ok()
}

/// All-digit input: epoch seconds (up to 10 digits), milliseconds (13) or microseconds (16).
pub(super) fn parse_epoch(b: &[u8]) -> Option<Timestamp> {
    // At most 16 digits, so the accumulator cannot overflow.
    if b.len() > 16 {
        return None;
    }
    let v = b
        .iter()
        .fold(0i64, |acc, &d| acc * 10 + i64::from(d - b'0'));
    if v == 0 {
        return None;
    }
    match b.len() {
        0..=10 => Timestamp::from_second(v).ok(),
        13 => Timestamp::from_millisecond(v).ok(),
        16 => Timestamp::from_microsecond(v).ok(),
        // 11 or 12 digits fit neither a plausible seconds value (past 2286)
        // nor a plausible milliseconds value (before 2001); 14 or 15 neither milliseconds
        // (past 2286) nor microseconds (before 2001).
        _ => None,
    }
}
