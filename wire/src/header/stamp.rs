//! The stamps a syslog header starts with: RFC 3164's, a ctime with its year, RFC 3339's.

/// Bytes of the stamp an RFC 3164 header starts with: `Nov 22 10:15:01` (15, or 14 with an
/// unpadded day before a space, [`rfc3164_len`]), the ctime
/// stamp with a weekday and a year that LSS templates put there (`Tue Apr 20 22:23:25 2021`,
/// 24), or an RFC 3339 one, as relays forward with it (rsyslog's `RSYSLOG_ForwardFormat`,
/// syslog-ng's `ts-format(iso)`). The longer ones only when a space follows them: a
/// tab-separated positional record starts with such a time as its first field, and must keep it.
pub(super) fn stamp_len(b: &[u8]) -> Option<usize> {
    if let Some(len) = rfc3164_len(b) {
        return Some(len);
    }
    if let Some(len) = rfc3339_len(b) {
        return (b.get(len) == Some(&b' ')).then_some(len);
    }
    (ctime_shape(b) && b.get(CTIME_LEN) == Some(&b' ')).then_some(CTIME_LEN)
}

/// Whether `b` starts `Www Mmm dd hh:mm:ss yyyy`, every position checked (the weekday any three
/// letters).
fn ctime_shape(b: &[u8]) -> bool {
    b.len() >= CTIME_LEN
        && b[..3].iter().all(u8::is_ascii_alphabetic)
        && b[3] == b' '
        && is_rfc3164_stamp(&b[4..19])
        && b[19] == b' '
        && b[20..24].iter().all(u8::is_ascii_digit)
}

/// An RFC 3164 stamp with its day padded: `Nov  2 10:15:01`.
pub(super) const RFC3164_LEN: usize = 15;

/// A ctime stamp with its year: `Sat Nov 22 08:26:40 2025`.
pub(super) const CTIME_LEN: usize = 24;

/// Bytes of an RFC 3339 stamp at the front (`2025-11-22T10:15:01.003+01:00`): a fraction of
/// one to nine digits, then `Z` or an offset. The reading of it is `parse_time`'s.
pub(super) fn rfc3339_len(b: &[u8]) -> Option<usize> {
    const SHAPE: &[u8; 19] = b"dddd-dd-ddTdd:dd:dd";
    let fits = |at: usize, shape: &[u8]| {
        let bytes = b.get(at..at + shape.len())?;
        let ok = shape.iter().zip(bytes).all(|(&s, &c)| match s {
            b'd' => c.is_ascii_digit(),
            _ => c == s,
        });
        ok.then_some(at + shape.len())
    };
    let mut at = fits(0, SHAPE)?;
    if b.get(at) == Some(&b'.') {
        let digits = b[at + 1..]
            .iter()
            .take(10)
            .take_while(|c| c.is_ascii_digit());
        let digits = digits.count();
        if !(1..=9).contains(&digits) {
            return None;
        }
        at += 1 + digits;
    }
    match b.get(at)? {
        b'Z' => Some(at + 1),
        b'+' | b'-' => fits(at + 1, b"dd:dd"),
        _ => None,
    }
}

/// Bytes of an RFC 3164 stamp at the front: `Mmm dd hh:mm:ss` (15), or with the day unpadded as
/// some relays and hand-written senders write it (`Nov 2 10:15:01`, 14) when a space follows:
/// a positional record's first field may be such a time, with a tab or a comma after it.
pub(super) fn rfc3164_len(b: &[u8]) -> Option<usize> {
    if b.len() >= 15 && is_rfc3164_stamp(&b[..15]) {
        return Some(15);
    }
    let unpadded = b.len() > 14 && b[14] == b' ' && b[4].is_ascii_digit();
    (unpadded && rfc3164_padded(&b[..14]).is_some()).then_some(14)
}

/// An RFC 3164 stamp of 14 or 15 bytes as 15: an unpadded day gets its padding space.
pub(super) fn rfc3164_padded(b: &[u8]) -> Option<[u8; 15]> {
    let mut padded = [b' '; 15];
    match b.len() {
        15 => padded.copy_from_slice(b),
        14 => {
            padded[..4].copy_from_slice(&b[..4]);
            padded[5..].copy_from_slice(&b[4..]);
        }
        _ => return None,
    }
    is_rfc3164_stamp(&padded).then_some(padded)
}

/// `Mmm dd hh:mm:ss`, every position checked: the stamp is then plain ASCII, so slicing the
/// text right after it is always on a character boundary.
pub(super) fn is_rfc3164_stamp(b: &[u8]) -> bool {
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

pub(super) fn month_index(m: &[u8]) -> Option<i8> {
    const MONTHS: [&[u8; 3]; 12] = [
        b"Jan", b"Feb", b"Mar", b"Apr", b"May", b"Jun", b"Jul", b"Aug", b"Sep", b"Oct", b"Nov",
        b"Dec",
    ];
    MONTHS.iter().position(|x| *x == m).map(|i| i as i8 + 1)
}

/// Whether `b` starts with a ctime and its year (`Wed May  4 08:42:00 2022`) that a word or a
/// delimiter follows, or nothing: a record's own leading time, or a header's stamp.
pub(super) fn ctime_with_year(b: &[u8]) -> bool {
    const WEEKDAYS: [&[u8; 3]; 7] = [b"Mon", b"Tue", b"Wed", b"Thu", b"Fri", b"Sat", b"Sun"];
    ctime_shape(b)
        && WEEKDAYS.iter().any(|d| b.starts_with(*d))
        && b.get(CTIME_LEN).is_none_or(|c| !c.is_ascii_alphanumeric())
}
