//! The NATS client protocol (docs.nats.io "Client Protocol"), as much as the publishing
//! connection speaks: HPUB frames out (their payloads written from where they lie, see
//! [`super::outgoing`]), and the server's operations in, parsed without allocating. What comes
//! in is network input: every length is checked before it is trusted, a line or a payload past
//! its bound is an error (the connection is dropped), never a buffer that grows with what a peer
//! claims.

/// The longest control line taken (`INFO {...}` is the long one; a cluster's URL list makes it
/// a few kilobytes).
pub const MAX_LINE: usize = 64 << 10;
/// The largest message taken on the inbox: JetStream's acknowledgements are under 200 bytes.
pub const MAX_MESSAGE: usize = 64 << 10;
/// `NATS/1.0\r\n`, `Nats-Msg-Id: `, and the blank line that ends the headers.
const HEADER_FIXED: usize = 10 + 13 + 2 + 2;

/// One operation from the server.
#[derive(Debug, PartialEq, Eq)]
pub enum Op<'a> {
    /// The server's INFO JSON.
    Info(&'a [u8]),
    /// MSG or HMSG; `headers` is the header block of an HMSG (status line first).
    Msg {
        subject: &'a [u8],
        headers: Option<&'a [u8]>,
        payload: &'a [u8],
    },
    Ping,
    Pong,
    Ok,
    /// `-ERR`, with the server's reason (quotes and all).
    Err(&'a [u8]),
}

/// Why bytes are not (yet) an operation.
#[derive(Debug, PartialEq, Eq, thiserror::Error)]
pub enum ParseError {
    /// Read more.
    #[error("incomplete")]
    Incomplete,
    #[error("protocol error: {0}")]
    Invalid(&'static str),
}

/// Parses the operation at the start of `buf`; returns it and the bytes it took.
pub fn parse(buf: &[u8]) -> Result<(Op<'_>, usize), ParseError> {
    match plain_msg(buf) {
        Some(parsed) => Ok(parsed),
        None => parse_general(buf),
    }
}

/// [`parse`] of the operation nearly every record brings back, its acknowledgement, in the
/// shape nats-server writes it: `MSG <subject> <sid> <#bytes>`, single spaces, a subject of
/// printable ASCII, a numeric sid, no reply subject. One search finds the subject's end and
/// short loops the rest, instead of the general path's byte-by-byte split and its questions (a
/// quarter of the NATS thread's samples were that parse). Anything else, or anything the
/// general path would refuse or wait for, is left to it: `None` then, and the two agree on
/// everything (`tests.rs`, and the fuzz target `nats`).
#[inline]
fn plain_msg(buf: &[u8]) -> Option<(Op<'_>, usize)> {
    let args = buf.strip_prefix(b"MSG ")?;
    // Within a line's bound, as the general path looks for a line's end.
    let subject_len = memchr::memchr(b' ', &args[..args.len().min(MAX_LINE)])?;
    let (subject, rest) = (&args[..subject_len], &args[subject_len + 1..]);
    let sid_len = rest.iter().position(|b| !b.is_ascii_digit())?;
    let size = rest[sid_len..].strip_prefix(b" ")?;
    let digits = size.iter().position(|b| !b.is_ascii_digit())?;
    // Where the line's LF is: `MSG `, the three fields, their two spaces and the CR.
    let lf = 4 + subject_len + sid_len + digits + 3;
    // `is_token` refuses an empty subject.
    if sid_len == 0 || lf >= MAX_LINE || !size[digits..].starts_with(b"\r\n") || !is_token(subject)
    {
        return None;
    }
    let total = number(&size[..digits]).ok()?;
    let end = lf + 1 + total;
    if total > MAX_MESSAGE || buf.get(end..end + 2) != Some(b"\r\n") {
        return None;
    }
    Some((
        Op::Msg {
            subject,
            headers: None,
            payload: &buf[lf + 1..end],
        },
        end + 2,
    ))
}

/// [`parse`] of any operation, without the shortcut: what the property tests and the fuzz target
/// `nats` hold the shortcut to.
pub fn parse_general(buf: &[u8]) -> Result<(Op<'_>, usize), ParseError> {
    let head = &buf[..buf.len().min(MAX_LINE)];
    let Some(lf) = memchr::memchr(b'\n', head) else {
        return Err(if buf.len() >= MAX_LINE {
            ParseError::Invalid("control line too long")
        } else {
            ParseError::Incomplete
        });
    };
    // Lines end in CRLF; a bare LF is not one.
    if lf == 0 || head[lf - 1] != b'\r' {
        return Err(ParseError::Invalid("a line not ended by CRLF"));
    }
    let eol = lf - 1;
    let line = &buf[..eol];
    let after = eol + 2;
    let (name, rest) = match line.iter().position(|b| *b == b' ' || *b == b'\t') {
        Some(at) => (&line[..at], &line[at + 1..]),
        None => (line, &line[line.len()..]),
    };
    let is = |op: &str| name.eq_ignore_ascii_case(op.as_bytes());
    if is("MSG") || is("HMSG") {
        return message(buf, rest, after, is("HMSG"));
    }
    let op = if is("PING") {
        Op::Ping
    } else if is("PONG") {
        Op::Pong
    } else if is("+OK") {
        Op::Ok
    } else if is("-ERR") {
        Op::Err(trim(rest))
    } else if is("INFO") {
        Op::Info(trim(rest))
    } else {
        return Err(ParseError::Invalid("unknown operation"));
    };
    Ok((op, after))
}

/// `MSG <subject> <sid> [reply-to] <#bytes>` or `HMSG <subject> <sid> [reply-to] <#header
/// bytes> <#total bytes>`, then the payload and CRLF.
fn message<'a>(
    buf: &'a [u8],
    args: &'a [u8],
    after: usize,
    headers: bool,
) -> Result<(Op<'a>, usize), ParseError> {
    let mut fields = [&[][..]; 5];
    let mut n = 0;
    for field in args
        .split(|b| *b == b' ' || *b == b'\t')
        .filter(|f| !f.is_empty())
    {
        if n == fields.len() {
            return Err(ParseError::Invalid("too many arguments"));
        }
        fields[n] = field;
        n += 1;
    }
    let sizes = if headers { 2 } else { 1 };
    // subject, sid, optional reply, then the sizes.
    if n != 2 + sizes && n != 3 + sizes {
        return Err(ParseError::Invalid("wrong number of arguments"));
    }
    let total = number(fields[n - 1])?;
    let header_len = if headers { number(fields[n - 2])? } else { 0 };
    if total > MAX_MESSAGE {
        return Err(ParseError::Invalid("message too large"));
    }
    if header_len > total {
        return Err(ParseError::Invalid("headers longer than the message"));
    }
    let end = after + total;
    if buf.len() < end + 2 {
        return Err(ParseError::Incomplete);
    }
    if &buf[end..end + 2] != b"\r\n" {
        return Err(ParseError::Invalid("message not ended by CRLF"));
    }
    let body = &buf[after..end];
    Ok((
        Op::Msg {
            subject: fields[0],
            headers: headers.then(|| &body[..header_len]),
            payload: &body[header_len..],
        },
        end + 2,
    ))
}

/// A size: decimal digits only, bounded (no overflow whatever the peer sends).
fn number(digits: &[u8]) -> Result<usize, ParseError> {
    if digits.is_empty() || digits.len() > 9 || !digits.iter().all(u8::is_ascii_digit) {
        return Err(ParseError::Invalid("not a size"));
    }
    Ok(digits
        .iter()
        .fold(0usize, |n, d| n * 10 + usize::from(d - b'0')))
}

fn trim(bytes: &[u8]) -> &[u8] {
    bytes.trim_ascii()
}

/// What JetStream said to one publish.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ack {
    Stored,
    Duplicate,
    /// An error about the message itself (err_code 10054: larger than the stream's
    /// max_msg_size; 10097: headers over 64 KiB): sent again, it is refused again.
    Refused,
    /// Any other error (`{"error":{...}}`, 503: the stream cannot store now), a status header
    /// (503: no stream listens), or not an acknowledgement at all.
    Failed,
}

/// JetStream's error for a message larger than the stream's max_msg_size.
const MESSAGE_TOO_LARGE: u32 = 10054;
/// JetStream's error for a message whose headers pass 64 KiB.
const HEADERS_TOO_LARGE: u32 = 10097;

/// Reads an acknowledgement without deserialising it: JetStream writes `{"stream":…,"seq":N}`
/// with `"duplicate":true` when it dropped the message as one it had.
pub fn ack(headers: Option<&[u8]>, payload: &[u8]) -> Ack {
    // An HMSG on the inbox carries a status ("NATS/1.0 503"): never a stored message.
    if headers.is_some_and(|h| h.len() > 8 && h.get(8) == Some(&b' ')) {
        return Ack::Failed;
    }
    if headers.is_none() && is_plain_stored(payload) {
        return Ack::Stored;
    }
    searched(payload)
}

/// [`ack`] by looking for the keys wherever they are.
fn searched(payload: &[u8]) -> Ack {
    use memchr::memmem::Finder;
    use std::sync::LazyLock;
    // Built once: building a searcher per acknowledgement showed in profiles.
    static ERROR: LazyLock<Finder<'static>> = LazyLock::new(|| Finder::new(b"\"error\""));
    static SEQ: LazyLock<Finder<'static>> = LazyLock::new(|| Finder::new(b"\"seq\""));
    static DUPLICATE: LazyLock<Finder<'static>> = LazyLock::new(|| Finder::new(b"\"duplicate\""));
    static CODE: LazyLock<Finder<'static>> = LazyLock::new(|| Finder::new(b"\"err_code\""));
    if ERROR.find(payload).is_some() {
        // Only errors about the message itself: code 400 also says the account's resources are
        // exhausted or the stream is sealed, which sending again later may cure.
        let code = CODE.find(payload).and_then(|at| {
            let v = payload[at + 10..].trim_ascii_start().strip_prefix(b":")?;
            let v = v.trim_ascii_start();
            let digits = v.iter().take_while(|b| b.is_ascii_digit()).count();
            std::str::from_utf8(&v[..digits]).ok()?.parse::<u32>().ok()
        });
        return match code {
            Some(MESSAGE_TOO_LARGE | HEADERS_TOO_LARGE) => Ack::Refused,
            _ => Ack::Failed,
        };
    }
    if SEQ.find(payload).is_none() {
        return Ack::Failed;
    }
    // nats-server writes `"duplicate": true` (a space), other writers may not.
    let duplicate = DUPLICATE.find(payload).is_some_and(|at| {
        payload[at + 11..]
            .trim_ascii_start()
            .strip_prefix(b":")
            .is_some_and(|v| v.trim_ascii_start().starts_with(b"true"))
    });
    if duplicate {
        Ack::Duplicate
    } else {
        Ack::Stored
    }
}

/// True for the acknowledgement nearly every publish gets, in the shape nats-server writes it:
/// `{"stream":"<name>","seq":<digits>}`, with or without a space before `"seq"`. Anything else
/// (a duplicate, an error, another writer's spacing) is left to the searches of [`ack`]: three of
/// them per acknowledgement were a third of the time spent reading acknowledgements.
fn is_plain_stored(payload: &[u8]) -> bool {
    let Some(rest) = payload.strip_prefix(br#"{"stream":""#) else {
        return false;
    };
    // A quote inside the name is escaped, and what follows the escaped one is then not the
    // ending below: declined, not misread.
    let Some(close) = memchr::memchr(b'"', rest) else {
        return false;
    };
    let rest = &rest[close + 1..];
    let rest = rest
        .strip_prefix(br#", "seq":"#)
        .or_else(|| rest.strip_prefix(br#","seq":"#));
    let Some(number) = rest.and_then(|r| r.strip_suffix(b"}")) else {
        return false;
    };
    !number.is_empty() && number.iter().all(u8::is_ascii_digit)
}

/// The token at the end of a reply subject (`<inbox>.<token>`) when it is under `inbox`.
pub fn token(subject: &[u8], inbox: &[u8]) -> Option<u64> {
    let rest = subject.strip_prefix(inbox)?.strip_prefix(b".")?;
    if rest.is_empty() || rest.len() > 19 || !rest.iter().all(u8::is_ascii_digit) {
        return None;
    }
    Some(rest.iter().fold(0u64, |n, d| n * 10 + u64::from(d - b'0')))
}

/// True when `s` can stand in a protocol line as a subject or a header value: printable ASCII
/// without spaces. The spool's frames are ztel's own, but a damaged file must not turn into a
/// line the server rejects for ever.
pub fn is_token(s: &[u8]) -> bool {
    // Every byte is looked at, without stopping at a bad one, so that the loop is vectorised:
    // a subject and a 32-digit id per message, a byte and a branch at a time, were a fifth of
    // the publish loop's samples in a profile.
    !s.is_empty()
        && s.iter()
            .fold(0u8, |bad, b| bad | u8::from(!b.is_ascii_graphic()))
            == 0
}

/// What the server compares with its `max_payload`: a message's headers and payload, the `#total`
/// of its HPUB line. The line itself does not count; a bound on the whole frame let through
/// messages up to a hundred-odd bytes over the limit, which the server answers with
/// `-ERR 'Maximum Payload Violation'` and a closed connection, and the same message was then
/// sent again after every reconnect.
pub fn message_len(id: &[u8], payload: usize) -> usize {
    HEADER_FIXED + id.len() + payload
}

/// Appends `HPUB <subject> <reply>.<token> <#hdr> <#total>` with the message's `Nats-Msg-Id`
/// header and its payload: one copy of the payload, no allocation when `out` has room.
pub fn hpub(
    out: &mut Vec<u8>,
    subject: &[u8],
    reply: &[u8],
    token: u64,
    id: &[u8],
    payload: &[u8],
) {
    hpub_head(out, subject, reply, token, id, payload.len());
    out.extend_from_slice(payload);
    out.extend_from_slice(b"\r\n");
}

/// [`hpub`] up to the payload, for a payload written from where it lies; `\r\n` must follow
/// it.
pub fn hpub_head(
    out: &mut Vec<u8>,
    subject: &[u8],
    reply: &[u8],
    token: u64,
    id: &[u8],
    payload: usize,
) {
    let headers = HEADER_FIXED + id.len();
    out.extend_from_slice(b"HPUB ");
    out.extend_from_slice(subject);
    out.push(b' ');
    out.extend_from_slice(reply);
    out.push(b'.');
    decimal(out, token);
    out.push(b' ');
    decimal(out, headers as u64);
    out.push(b' ');
    decimal(out, (headers + payload) as u64);
    out.extend_from_slice(b"\r\nNATS/1.0\r\nNats-Msg-Id: ");
    out.extend_from_slice(id);
    out.extend_from_slice(b"\r\n\r\n");
}

/// Three numbers per message: itoa's two digits per step, not a division per digit.
fn decimal(out: &mut Vec<u8>, n: u64) {
    out.extend_from_slice(itoa::Buffer::new().format(n).as_bytes());
}

#[cfg(test)]
mod tests;
