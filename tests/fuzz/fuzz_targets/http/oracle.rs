//! What the client sent, read independently of ztel: the requests of the stream in order, with
//! httparse (the parser hyper uses) for the heads and a strict reading of the bodies. Only the
//! plain cases are judged: a framing it does not read exactly (extensions, trailers, several
//! lengths, bare LFs in chunk lines, ...) makes that request's body unknown and ends the list,
//! so that the checks never rest on a guess about what hyper tolerates.

/// Heads hyper takes at most this many header lines (its default).
const MAX_HEADERS: usize = 100;
/// Longer heads are left unjudged: hyper's read buffer is 16 KiB and holds more than the head.
const MAX_JUDGED_HEAD: usize = 8 << 10;

#[derive(Debug)]
pub struct Request {
    pub method: Vec<u8>,
    /// The key header holds one of the keys (as ztel compares: the first such header, trimmed).
    pub key_ok: bool,
    /// `Content-Encoding` other than none or identity.
    pub encoded: bool,
    pub body: Body,
}

#[derive(Debug)]
pub enum Body {
    /// The whole request is in the stream, ending at `end`; `data` is its body, de-chunked.
    Complete { end: usize, data: Vec<u8> },
    /// The stream ends before the request does.
    Incomplete,
    /// A framing this reading does not judge.
    Unknown,
}

/// The requests in `stream`, up to the first that is incomplete or not judged (included).
pub fn requests(stream: &[u8], key_header: &str, keys: &[&str]) -> Vec<Request> {
    let mut out = Vec::new();
    let mut pos = 0;
    while pos < stream.len() {
        let mut headers = [httparse::EMPTY_HEADER; MAX_HEADERS];
        let mut req = httparse::Request::new(&mut headers);
        let Ok(httparse::Status::Complete(head_len)) = req.parse(&stream[pos..]) else {
            break;
        };
        let method = req.method.unwrap_or_default().as_bytes().to_vec();
        let named = |name: &'static str| {
            req.headers
                .iter()
                .filter(move |h| h.name.eq_ignore_ascii_case(name))
        };
        let key_ok = req
            .headers
            .iter()
            .find(|h| h.name.eq_ignore_ascii_case(key_header))
            .is_some_and(|h| keys.iter().any(|k| h.value.trim_ascii() == k.as_bytes()));
        let encoded = named("content-encoding").next().is_some_and(|h| {
            let v = h.value.trim_ascii();
            !(v.is_empty() || v.eq_ignore_ascii_case(b"identity"))
        });
        let te: Vec<&[u8]> = named("transfer-encoding").map(|h| h.value).collect();
        let cl: Vec<&[u8]> = named("content-length").map(|h| h.value).collect();
        let upgrade = named("upgrade").next().is_some();
        let start = pos + head_len;
        let body = if head_len > MAX_JUDGED_HEAD || upgrade || method == b"CONNECT" {
            Body::Unknown
        } else if te.is_empty() && cl.is_empty() {
            Body::Complete {
                end: start,
                data: Vec::new(),
            }
        } else if te.is_empty() && cl.len() == 1 {
            match length(cl[0]) {
                Some(n) if stream.len() - start >= n => Body::Complete {
                    end: start + n,
                    data: stream[start..start + n].to_vec(),
                },
                Some(_) => Body::Incomplete,
                None => Body::Unknown,
            }
        } else if cl.is_empty()
            && te.len() == 1
            && req.version == Some(1)
            && te[0].trim_ascii().eq_ignore_ascii_case(b"chunked")
        {
            chunked(stream, start)
        } else {
            Body::Unknown
        };
        let next = match &body {
            Body::Complete { end, .. } => Some(*end),
            _ => None,
        };
        out.push(Request {
            method,
            key_ok,
            encoded,
            body,
        });
        match next {
            Some(end) => pos = end,
            None => break,
        }
    }
    out
}

/// A Content-Length of plain digits.
fn length(value: &[u8]) -> Option<usize> {
    if value.is_empty() || value.len() > 15 || !value.iter().all(u8::is_ascii_digit) {
        return None;
    }
    std::str::from_utf8(value).ok()?.parse().ok()
}

/// A chunked body from `pos`: hex sizes with CRLF, data with CRLF, `0` CRLF CRLF, nothing else.
fn chunked(stream: &[u8], mut pos: usize) -> Body {
    let mut data = Vec::new();
    loop {
        let digits = stream[pos..]
            .iter()
            .take_while(|b| b.is_ascii_hexdigit())
            .count();
        if digits == 0 && pos < stream.len() {
            return Body::Unknown;
        }
        if digits > 12 {
            return Body::Unknown;
        }
        let Some(size) = std::str::from_utf8(&stream[pos..pos + digits])
            .ok()
            .and_then(|s| usize::from_str_radix(s, 16).ok())
        else {
            return Body::Incomplete;
        };
        pos += digits;
        match crlf(stream, pos) {
            Some(true) => pos += 2,
            Some(false) => return Body::Unknown,
            None => return Body::Incomplete,
        }
        if size == 0 {
            return match crlf(stream, pos) {
                Some(true) => Body::Complete { end: pos + 2, data },
                Some(false) => Body::Unknown,
                None => Body::Incomplete,
            };
        }
        if stream.len() - pos < size {
            return Body::Incomplete;
        }
        data.extend_from_slice(&stream[pos..pos + size]);
        pos += size;
        match crlf(stream, pos) {
            Some(true) => pos += 2,
            Some(false) => return Body::Unknown,
            None => return Body::Incomplete,
        }
    }
}

/// Whether CRLF is at `pos`; `None` when the stream ends before it can tell.
fn crlf(stream: &[u8], pos: usize) -> Option<bool> {
    let rest = &stream[pos.min(stream.len())..];
    let n = rest.len().min(2);
    if rest[..n] != b"\r\n"[..n] {
        return Some(false);
    }
    (n == 2).then_some(true)
}
