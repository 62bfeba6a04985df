//! RFC 5424's header: `1 TIMESTAMP HOSTNAME APP-NAME PROCID MSGID SD`, its parts borrowed from
//! the frame.

use super::Header;

/// The longest of the header's five fields read: RFC 5424's longest is HOSTNAME's, as long as
/// an RFC 3164 host's.
const FIELD_MOST: usize = super::HOST_MOST;
/// The most structured data read. RFC 5424 sets no bound, but a header that is not one must
/// not be looked for past it: a frame of `<1>1 a b c d e [` repeated had every one of them read
/// to the frame's end (`super::split_stacked` tries each), a 256 KiB frame 3 s of a shard.
const SD_MOST: usize = 2048;

/// An RFC 5424 header after the PRI: `1 TIMESTAMP HOSTNAME APP-NAME PROCID MSGID SD`, the
/// structured data being `-` or `[id param="value"…]…` (quoted values may hold `]`, escaped `"`
/// and `\`). Returns it and its length, the space before the message included.
pub(super) fn rfc5424(b: &[u8]) -> Option<(Header<'_>, usize)> {
    let mut at = b.strip_prefix(b"1 ").map(|_| 2)?;
    let mut fields: [&[u8]; 5] = [&[]; 5];
    for field in &mut fields {
        let len = b[at..]
            .iter()
            .take(FIELD_MOST + 1)
            .take_while(|&&c| c != b' ')
            .count();
        if len == 0 || len > FIELD_MOST || at + len >= b.len() {
            return None;
        }
        *field = &b[at..at + len];
        at += len + 1;
    }
    at += structured_data(&b[at..])?;
    if b.get(at) == Some(&b' ') {
        at += 1;
    }
    // Checked as UTF-8 only when asked for ([`Header::timestamp`], [`Header::host`]).
    fn text(f: &[u8]) -> Option<&[u8]> {
        Some(f).filter(|t| *t != b"-")
    }
    let header = Header {
        timestamp: text(fields[0]),
        host: text(fields[1]),
    };
    Some((header, at))
}

/// The length of RFC 5424 structured data at the front: `-`, or one or more elements.
fn structured_data(b: &[u8]) -> Option<usize> {
    if b.first() == Some(&b'-') {
        return Some(1);
    }
    let full = b;
    let b = &b[..b.len().min(SD_MOST)];
    let mut at = 0;
    while b.get(at) == Some(&b'[') {
        at += 1;
        let mut quoted = false;
        loop {
            match (b.get(at)?, quoted) {
                (b'\\', true) => at += 1,
                (b'"', _) => quoted = !quoted,
                (b']', false) => break,
                _ => {}
            }
            at += 1;
        }
        at += 1;
    }
    // Elements that run on past the bound are no header: not half of one.
    if full.get(at) == Some(&b'[') {
        return None;
    }
    (at > 0).then_some(at)
}
