//! What a record carries before its own text: a syslog PRI (`<134>`), an RFC 3164 header
//! (`Nov 22 10:15:01 zscaler-nss`) or an RFC 5424 one (structured data included), then perhaps
//! static text from the feed template. The header's timestamp and host are kept as fallbacks.
//! A relay may put its own header before the sender's ([`split_stacked`]).

use jiff::tz::TimeZone;
use jiff::Timestamp;

mod rfc5424;
mod stamp;

use rfc5424::rfc5424;
use stamp::{ctime_with_year, month_index, rfc3164_padded, stamp_len, CTIME_LEN, RFC3164_LEN};

/// The header of one frame, borrowed from it. Its parts stay bytes until asked for as text:
/// most records carry their own time and nothing reads the host, and checking both as UTF-8
/// for every frame was 40 % of the split (perf/instructions.sh).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Header<'a> {
    timestamp: Option<&'a [u8]>,
    host: Option<&'a [u8]>,
}

/// Reads the syslog header at the front of a frame: a PRI, then an RFC 5424 header (up to the
/// end of its structured data) or an RFC 3164 one (up to its host). Returns it and where the
/// message begins, which may still hold static text from the feed template before the record.
/// A frame with no header (or one that is not well formed) begins at 0.
pub fn split(frame: &[u8]) -> (Header<'_>, usize) {
    let start = leading_space(frame);
    let mut at = start + pri_len(&frame[start..]);
    if at > start {
        // Some senders put a space after the PRI (`<134> Nov 12 10:15:01 …`): skipped when an
        // RFC 3164 stamp follows it, so that the header is the one it would be without.
        let spaces = frame[at..].iter().take_while(|&&b| b == b' ').count();
        if spaces > 0 && stamp_len(&frame[at + spaces..]).is_some() {
            at += spaces;
        }
    }
    let rest = &frame[at..];
    if rest.first() == Some(&b'{') {
        // A JSON record, as most frames are (after a PRI or not): no header starts with a brace.
        return (Header::default(), at);
    }
    if let Some((header, len)) = rfc5424(rest) {
        // RFC 5424 §6.4: a UTF-8 MSG may start with a BOM, which is not the record's.
        let bom = if rest[len..].starts_with(BOM) {
            BOM.len()
        } else {
            0
        };
        return (header, at + len + bom);
    }
    if let Some(stamp_len) = stamp_len(rest) {
        // The stamp was checked byte by byte: it is ASCII.
        let mut stamp_len = stamp_len;
        let mut after = stamp_len + rest[stamp_len..].iter().take_while(|&&b| b == b' ').count();
        // `Jun 20 15:29:11 2022 nss: …`: a sender that writes the year after an RFC 3164 stamp.
        // Read as a host, the year was lost and the time took the arrival's.
        if stamp_len <= RFC3164_LEN && year_then_word(&rest[after..]) {
            stamp_len = after + 4;
            after = stamp_len + rest[stamp_len..].iter().take_while(|&&b| b == b' ').count();
        }
        let timestamp = Some(&rest[..stamp_len]);
        if year_then_delimiter(&rest[after..]) {
            // `Jun 7 07:50:48 2022,…`: an unquoted positional record whose first field is a
            // date with its year, not a header; read as one, the year became the record's
            // time (as epoch seconds) and the date was lost.
            return (Header::default(), at);
        }
        // Read no further than a host's longest (a header that is not one must not cost a
        // read to the frame's end: `split_stacked` may try many).
        let host_len = rest[after..]
            .iter()
            .take(HOST_MOST + 1)
            .take_while(|b| !b.is_ascii_whitespace())
            .count();
        // A "host" that is not UTF-8 is none, and the message starts at it: checked here, not
        // left to `host()`, because it decides where the message begins.
        let host = Some(&rest[after..after + host_len])
            .filter(|_| host_len <= HOST_MOST)
            .filter(|h| h.is_ascii() || std::str::from_utf8(h).is_ok())
            .filter(|h| !h.starts_with(b"LEEF:") && !h.starts_with(b"CEF:"))
            .map(trim_colons)
            .filter(|h| !h.is_empty() && h[0] != b'{')
            .filter(|h| !h.iter().any(|c| matches!(c, b'=' | b',' | b'"' | b'|')));
        // A relay that took the weekday of a line's leading ctime for the sender's host
        // (rsyslog's default forward template before `Wed May  4 08:42:00 2022<TAB>…` or
        // QRadar's `Tue Apr 20 22:23:25 2021 host LEEF:…`): its header has no host, and the
        // message is the line, its time whole. Read as a host, the weekday left the record the
        // relay's time, or the ctime without its year.
        if stamp_len != CTIME_LEN && host_len == 3 && ctime_with_year(&rest[after..]) {
            let header = Header {
                timestamp,
                host: None,
            };
            return (header, at + after);
        }
        // A ctime with its year, then a zone word, then a pair: a key=value record that starts
        // with its time and zone (`Sat Nov 22 08:26:40 2025 UTC<TAB>reason=…`, as `%s{time}
        // %s{tz}` writes it), no header with a host `UTC`: read as one, the record took the
        // stamp in the feed's zone and the word was lost. Only words no host is named: UTC,
        // GMT, an offset, an IANA name. An abbreviation (`PST`) could be a sender's host (`NSS`,
        // `ZIA`) before a record without a tag; such a line stays a header, whose stamp is read
        // in the feed's zone (the zone `%s{tz}` names, for the feed's own abbreviation).
        if stamp_len == CTIME_LEN
            && host.is_some_and(|h| matches!(h, b"UTC" | b"GMT") || zone_not_host(h))
            && pair_follows(&rest[after + host_len..])
        {
            return (Header::default(), at);
        }
        // A "host" that is the record itself (`{…`, `LEEF:…`, `CEF:…`, a key=value pair, CSV
        // fields: a sender that leaves the host out, or a record that starts with a time) is
        // none: the message starts there. No hostname holds `=`, `,`, `"` or `|`.
        let end = match host {
            Some(_) => after + host_len + tag_len(&rest[after + host_len..]),
            None => after,
        };
        return (Header { timestamp, host }, at + end);
    }
    (Header::default(), at)
}

/// The syslog headers at the front of a frame, a relay's before its sender's, and the static
/// text that may follow them.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Stack<'a> {
    /// The innermost header with a timestamp (else the outermost): the original sender's, whose
    /// time is the one a record without its own was sent at.
    pub header: Header<'a>,
    /// Where `header` begins (its PRI, or its stamp when it has none): a record that takes the
    /// header's time is identified by the frame from there on, so that the same record sent
    /// directly and through a relay is one record, and two that differ only in that time are two.
    pub start: usize,
    /// Where the message begins, after the innermost header: what identifies a record that
    /// carries its own time. It may still hold static text from the feed template before the
    /// record.
    pub message: usize,
    /// Where the record begins: the message after static text that ends with a syslog tag
    /// ([`static_text_len`]), else the message.
    pub body: usize,
}

/// Reads the syslog headers at the front of a frame, each as [`split`] does, as long as they
/// parse: a relay that forwards a line as its own message puts its header before the sender's,
/// and a chain of relays one more each, so only the innermost is the sender's. Another header is
/// read only where the one before it ends, or after static text that ends with a syslog tag
/// ([`static_text_len`]: a relay's tag before the sender's line); other text between a header
/// and the record ends the stack. Each header read is at least its PRI or its stamp, and looks
/// no further past itself than a header's longest parts (an RFC 5424 header's structured data,
/// 2 KiB; a host, [`HOST_MOST`]). Static text is stepped over [`TEXTS_MOST`] times at most: a
/// header read after it may be a PRI alone, whose look went to the frame's end before those
/// bounds, so a frame of `<1>1 a b c d e [ t: ` repeated cost such a look every 19 bytes (3 s of
/// a shard for 256 KiB). A frame without a header has an empty stack at 0.
pub fn split_stacked(frame: &[u8]) -> Stack<'_> {
    let (header, message) = split(frame);
    let mut stack = Stack {
        header,
        start: leading_space(frame),
        message,
        body: message,
    };
    // Where the next header would start: the message, or past static text after it.
    let mut at = message;
    // Whether static text was stepped over since the last header read.
    let mut past_text = false;
    // The first reading found no header: the loop's first would read the same bytes again, and
    // find none (a positional, key=value, LEEF or CEF record without a header).
    let mut unread = message == stack.start;
    let mut texts = 0;
    loop {
        let rest = &frame[at..];
        if rest.iter().find(|b| !b.is_ascii_whitespace()) == Some(&b'{') {
            // What nearly every frame meets here: a JSON record, which is neither a header nor
            // static text (`split` and `static_text_len` would both find nothing, at a cost).
            stack.body = at;
            break;
        }
        let (inner, len) = match std::mem::take(&mut unread) {
            true => (Header::default(), 0),
            false => split(rest),
        };
        let space = leading_space(rest);
        // Nothing but spaces read: no PRI and no stamp, so no header.
        if len == space {
            let text = static_text_len(rest);
            stack.body = at + text;
            texts += 1;
            if text == 0 || texts > TEXTS_MOST || !starts_with_header(&rest[text..]) {
                break;
            }
            at += text;
            past_text = true;
            continue;
        }
        if past_text && inner.timestamp.is_none() {
            // A PRI alone after static text: the text, and any time in it, stays in the
            // message (what identifies a record without a time of its own); the record starts
            // after the PRI.
            at += len;
            stack.body = at;
            continue;
        }
        // A PRI-only header (`<134>{…}`) has no time: the relay's stays the fallback.
        if inner.timestamp.is_some() || stack.header.timestamp.is_none() {
            stack.header = inner;
            stack.start = at + space;
        }
        at += len;
        stack.message = at;
        stack.body = at;
        past_text = false;
    }
    stack
}

/// The most static texts stepped over before a record: a relay's tag, perhaps a few.
const TEXTS_MOST: usize = 8;

/// The longest RFC 3164 host read (a DNS name's longest).
const HOST_MOST: usize = 255;

/// Whether `b` starts with a syslog header (a PRI or a stamp, after spaces).
fn starts_with_header(b: &[u8]) -> bool {
    split(b).1 > leading_space(b)
}

/// How far into a message static text may reach: a tag after a header that is not read as one,
/// never deep inside a record (as far as `LEEF:` and `CEF:` are looked for).
const STATIC_TEXT_MAX: usize = 128;

/// Bytes of static template text at the front of a message, up to and including a syslog tag
/// that ends it (`zscaler-nss: `, `zscaler-nss[123]: `, `Mon Oct 02 16:21:40 UTC 2017 nss: `,
/// `Nov 22 2025 10:15:01 host nss: `), or 0. NSS feed templates and relays put it before the
/// feed's line, without a header or after one that is not read as a header.
///
/// Conservative, so that no record loses its first bytes: the first `: ` of the message ends
/// the text, within [`STATIC_TEXT_MAX`] bytes, and only when
/// - everything before it is letters, digits, spaces and `:._-/+[]` (a header's words and
///   times): a key=value record has a `=` before any `: `, CSV a quote or a delimiter, JSON a
///   brace, LEEF and CEF a `|` (their `LEEF:1.0`, `CEF:0` have no space after the colon, and
///   a relay's spaced `CEF: 0|` is no tag, below);
/// - the word before the colon is a tag as RFC 3164 writes one: 1 to 32 of `[A-Za-z0-9_.-/]`,
///   then an optional `[pid]`;
/// - the tag is not LSS's `zpa-lss`, which ends the lead of LSS's CSV and TSV templates, read
///   with the record (its label names the log type), nor a record's `CEF` or `LEEF`;
/// - after the colon and its spaces comes the record's first byte, not a tab or a comma: a
///   positional record's first field may end with a tag (LSS's lead), and keeps it.
pub fn static_text_len(message: &[u8]) -> usize {
    let head = &message[..message.len().min(STATIC_TEXT_MAX)];
    // One look at each byte up to the colon, and most records stop it at their first (`{`,
    // `"`, a tab, a `=`): this runs for every frame.
    let header_like = |c: u8| c.is_ascii_alphanumeric() || b" :._-/+[]".contains(&c);
    let mut colon = None;
    for (i, &c) in head.iter().enumerate() {
        if c == b':' && head.get(i + 1) == Some(&b' ') {
            colon = Some(i);
            break;
        }
        if !header_like(c) {
            return 0;
        }
    }
    let Some(colon) = colon else {
        return 0;
    };
    let text = &head[..colon];
    let word = &text[text.iter().rposition(|&c| c == b' ').map_or(0, |i| i + 1)..];
    let name = match word.iter().position(|&c| c == b'[') {
        Some(open) => {
            let pid = &word[open + 1..];
            let digits = pid.strip_suffix(b"]").filter(|d| !d.is_empty());
            if !digits.is_some_and(|d| d.iter().all(u8::is_ascii_digit)) {
                return 0;
            }
            &word[..open]
        }
        None => word,
    };
    let is_name = |c: &u8| c.is_ascii_alphanumeric() || b"_.-/".contains(c);
    // A word of digits is a year or a time's end (`… 2019: reason=…`), not a tag.
    let named = name.iter().any(u8::is_ascii_alphabetic);
    if !(1..=32).contains(&name.len())
        || !name.iter().all(is_name)
        || !named
        || name == b"zpa-lss"
        || format_tag(name)
    {
        return 0;
    }
    let after = colon
        + 1
        + message[colon + 1..]
            .iter()
            .take_while(|&&c| c == b' ')
            .count();
    match message.get(after) {
        Some(b'\t' | b',') | None => 0,
        Some(_) => after,
    }
}

/// Whether a tag's name is a record's `CEF:` or `LEEF:`, which a relay may have taken for a tag
/// and spaced (`zscaler-nss CEF: 0|…`, rsyslog's default forward template): it is the record's.
/// Taken for a tag, it was left out of the message, and the record was read as key=value
/// without its labelled fields.
fn format_tag(name: &[u8]) -> bool {
    matches!(name, b"CEF" | b"LEEF")
}

/// UTF-8's byte order mark.
const BOM: &[u8] = b"\xEF\xBB\xBF";

/// Whether `b` starts with four digits and a field delimiter: the year that ends a date in a
/// positional record's first field (a host of four digits is followed by a space). Not when a
/// record of another format follows (`… 2022\t{…}`, a relay's log file of date, tab and
/// line): that is a header whose host is the year, and the record its message.
fn year_then_delimiter(b: &[u8]) -> bool {
    let record = |r: &[u8]| {
        matches!(r.first(), Some(b'{' | b'<')) || r.starts_with(b"LEEF:") || r.starts_with(b"CEF:")
    };
    b.len() > 4
        && b[..4].iter().all(u8::is_ascii_digit)
        && matches!(b[4], b',' | b'\t' | b';')
        && !record(&b[5..])
}

/// Whether `b` starts with a year (four digits, 1000 to 2999) and a space before another word:
/// the year some senders write after an RFC 3164 stamp. No host is named a year and followed by
/// its tag or the record.
fn year_then_word(b: &[u8]) -> bool {
    b.len() > 5
        && matches!(b[0], b'1' | b'2')
        && b[1..4].iter().all(u8::is_ascii_digit)
        && b[4] == b' '
        && b[5..].iter().any(|c| !c.is_ascii_whitespace())
}

fn leading_space(b: &[u8]) -> usize {
    b.iter().take_while(|b| b.is_ascii_whitespace()).count()
}

/// Whether a header's "host" is a zone word no host is named: an offset or an IANA name.
fn zone_not_host(h: &[u8]) -> bool {
    !h.iter().all(u8::is_ascii_uppercase)
        && std::str::from_utf8(h).is_ok_and(crate::time::looks_like_zone_word)
}

/// Whether the next word (past blanks) is a `name=value` pair.
fn pair_follows(b: &[u8]) -> bool {
    let word = b
        .iter()
        .skip_while(|c| matches!(c, b' ' | b'\t'))
        .take_while(|c| !c.is_ascii_whitespace());
    for (name, &c) in word.enumerate() {
        if c == b'=' {
            return name > 0;
        }
        if !(c.is_ascii_alphanumeric() || matches!(c, b'_' | b'.' | b'-')) {
            return false;
        }
    }
    false
}

/// The host without the colons that end it (`nss01:`).
fn trim_colons(h: &[u8]) -> &[u8] {
    let kept = h.iter().rposition(|&b| b != b':').map_or(0, |i| i + 1);
    &h[..kept]
}

/// Bytes of an RFC 3164 TAG after the host (` nss:`, ` zscaler-nss[42]:`), or 0. Positional
/// records (CSV) cannot tell it from their first field, so it goes with the header. Only a name
/// of at most 32 characters, an optional `[pid]`, then `:` and a space (or the end) is one, and
/// never a record's `CEF:` or `LEEF:` ([`format_tag`]).
fn tag_len(b: &[u8]) -> usize {
    let Some(text) = b.strip_prefix(b" ") else {
        return 0;
    };
    let is_name = |c: &u8| c.is_ascii_alphanumeric() || b"_.-/".contains(c);
    let name = text.iter().take(33).take_while(|c| is_name(c)).count();
    if format_tag(&text[..name]) {
        return 0;
    }
    let mut at = name;
    if text.get(at) == Some(&b'[') {
        let digits = text[at + 1..]
            .iter()
            .take(20)
            .take_while(|c| c.is_ascii_digit())
            .count();
        at += 1 + digits;
        if digits == 0 || text.get(at) != Some(&b']') {
            return 0;
        }
        at += 1;
    }
    let ends = matches!(text.get(at + 1), None | Some(b' '));
    if (1..=32).contains(&name) && text.get(at) == Some(&b':') && ends {
        at + 2
    } else {
        0
    }
}

/// Bytes of a PRI (`<134>`) at the front, or 0.
fn pri_len(b: &[u8]) -> usize {
    if b.first() != Some(&b'<') {
        return 0;
    }
    let digits = b[1..]
        .iter()
        .take(4)
        .take_while(|c| c.is_ascii_digit())
        .count();
    if (1..=3).contains(&digits) && b.get(1 + digits) == Some(&b'>') {
        digits + 2
    } else {
        0
    }
}

impl<'a> Header<'a> {
    /// The header's timestamp as written: RFC 3164 (`Nov 22 10:15:01`, no year) or RFC 5424.
    pub fn timestamp(&self) -> Option<&'a str> {
        self.timestamp.and_then(|t| std::str::from_utf8(t).ok())
    }

    /// The sending host as the header names it.
    pub fn host(&self) -> Option<&'a str> {
        self.host.and_then(|h| std::str::from_utf8(h).ok())
    }

    /// The header's time, when the record carries none of its own; an RFC 3164 stamp's year
    /// as [`yearless_time`] gives it.
    pub fn time(&self, zone: &TimeZone, now: Timestamp) -> Option<Timestamp> {
        let stamp = self.timestamp()?;
        yearless_time(stamp, zone, now)
            .or_else(|| dated_time(stamp, zone))
            .or_else(|| super::time::parse_time(stamp, zone))
    }
}

/// An RFC 3164 stamp's fields: month, day, hour, minute, second. A leap second (`23:59:60`)
/// is folded onto the second before it, as a record's own times are (Unix time has none).
fn rfc3164_fields(stamp: &[u8]) -> Option<(i8, i8, i8, i8, i8)> {
    let b = rfc3164_padded(stamp)?;
    // Every position was checked: two ASCII digits, or a padding space and one.
    let digit = |c: u8| if c == b' ' { 0 } else { (c - b'0') as i8 };
    let two = |i: usize| digit(b[i]) * 10 + digit(b[i + 1]);
    let month = month_index(&b[..3])?;
    Some((month, two(4), two(7), two(10), two(13).min(59)))
}

/// An RFC 3164 stamp with the year after it (`Jun 20 15:29:11 2022`), in `zone`.
fn dated_time(stamp: &str, zone: &TimeZone) -> Option<Timestamp> {
    let b = stamp.trim_ascii().as_bytes();
    let (clock, year) = b.split_at(b.len().checked_sub(4)?);
    let year = std::str::from_utf8(year).ok()?.parse::<i16>().ok()?;
    let (month, day, hour, minute, second) = rfc3164_fields(clock.trim_ascii_end())?;
    let civil = jiff::civil::DateTime::new(year, month, day, hour, minute, second, 0).ok()?;
    zone.to_timestamp(civil).ok()
}

/// An RFC 3164 stamp (`Jun 20 15:29:11`, `Jun  2 …`), which has no year, in `zone`: the year
/// that puts it nearest before `now`, a day of clock skew allowed (a December stamp read in
/// January belongs to last year, a January one read on 31 December from a sender a little ahead
/// to next year). `None` for another shape, and for a date no year near `now` has (29 February).
pub fn yearless_time(stamp: &str, zone: &TimeZone, now: Timestamp) -> Option<Timestamp> {
    let (month, day, hour, minute, second) = rfc3164_fields(stamp.trim_ascii().as_bytes())?;
    let this_year = now.to_zoned(zone.clone()).year();
    for year in [this_year + 1, this_year, this_year - 1] {
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
    None
}

#[cfg(test)]
mod tests;
