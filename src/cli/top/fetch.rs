//! One `GET /metrics` from the admin endpoint, over a blocking `TcpStream`. One request a second
//! to a server on the same box needs no HTTP stack: HTTP/1.0 with `Connection: close` makes the
//! answer end where the stream does, whatever the server does with HTTP/1.1 bodies.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::Duration;

/// A `/metrics` page larger than this is not ztel's (it writes tens of KiB).
const MAX_ANSWER: u64 = 16 << 20;

/// Why a page could not be had; each says it in words an operator can act on.
#[derive(Debug, thiserror::Error)]
pub enum FetchError {
    #[error("cannot connect: {0}")]
    Connect(std::io::Error),
    #[error("no answer: {0}")]
    Io(#[from] std::io::Error),
    #[error("the answer is not HTTP (is this the admin address?)")]
    NotHttp,
    #[error("answered {0}")]
    Status(String),
    #[error("the answer is over {} MiB", MAX_ANSWER >> 20)]
    TooLarge,
    #[error("the answer was cut short")]
    Short,
    #[error("the page is not UTF-8")]
    NotText,
}

/// GETs `/metrics` from `addr`; the body of a 200 answer. `timeout` bounds the connect and each
/// read and write.
pub fn metrics(addr: SocketAddr, timeout: Duration) -> Result<String, FetchError> {
    let mut stream = TcpStream::connect_timeout(&addr, timeout).map_err(FetchError::Connect)?;
    stream.set_read_timeout(Some(timeout))?;
    stream.set_write_timeout(Some(timeout))?;
    write!(
        stream,
        "GET /metrics HTTP/1.0\r\nHost: {addr}\r\nUser-Agent: ztel-top\r\nAccept: text/plain\r\n\
         Connection: close\r\n\r\n"
    )?;
    let mut raw = Vec::new();
    stream.take(MAX_ANSWER + 1).read_to_end(&mut raw)?;
    if raw.len() as u64 > MAX_ANSWER {
        return Err(FetchError::TooLarge);
    }
    body(&raw)
}

/// The body of a whole HTTP/1.x answer read to its end, if its status is 200.
fn body(raw: &[u8]) -> Result<String, FetchError> {
    let split = raw
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .ok_or(FetchError::NotHttp)?;
    let head = std::str::from_utf8(&raw[..split]).map_err(|_| FetchError::NotHttp)?;
    let mut body = &raw[split + 4..];
    let mut lines = head.split("\r\n");
    let status = lines.next().unwrap_or_default();
    let (version, rest) = status.split_once(' ').ok_or(FetchError::NotHttp)?;
    if !version.starts_with("HTTP/1.") {
        return Err(FetchError::NotHttp);
    }
    if !rest.starts_with("200") {
        // Shown on the terminal: a server not ztel's could drive it with escapes.
        return Err(FetchError::Status(crate::logging::printable(rest.trim())));
    }
    for line in lines {
        let Some((name, value)) = line.split_once(':') else {
            continue;
        };
        if name.trim().eq_ignore_ascii_case("content-length") {
            let len: usize = value.trim().parse().map_err(|_| FetchError::NotHttp)?;
            body = body.get(..len).ok_or(FetchError::Short)?;
        }
    }
    String::from_utf8(body.to_vec()).map_err(|_| FetchError::NotText)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn takes_the_body_of_a_200() {
        let raw =
            b"HTTP/1.0 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 5\r\n\r\nm 1\n\n";
        assert_eq!(body(raw).unwrap(), "m 1\n\n");
        let unframed = b"HTTP/1.1 200 OK\r\n\r\nm 1\n";
        assert_eq!(body(unframed).unwrap(), "m 1\n");
    }

    #[test]
    fn says_what_is_wrong_with_other_answers() {
        let err = |raw: &[u8]| body(raw).unwrap_err().to_string();
        assert_eq!(
            err(b"HTTP/1.1 404 Not Found\r\n\r\n"),
            "answered 404 Not Found"
        );
        assert!(err(b"SSH-2.0-OpenSSH\r\n\r\n").contains("not HTTP"));
        assert!(err(b"HTTP/1.0 200 OK").contains("not HTTP"));
        assert!(err(b"HTTP/1.0 200 OK\r\nContent-Length: 9\r\n\r\nm 1\n").contains("cut short"));
        assert!(err(b"HTTP/1.0 200 OK\r\n\r\n\xff\xfe").contains("UTF-8"));
        // A server not ztel's set the terminal's title and colours through its status line.
        assert_eq!(
            err(b"HTTP/1.1 500 \x1b]0;PWNED\x07\x1b[31mRED\r\n\r\n"),
            "answered 500 \\u{1b}]0;PWNED\\u{7}\\u{1b}[31mRED"
        );
    }

    #[test]
    fn a_closed_port_is_a_connect_error() {
        // Bound and dropped: nothing listens there now.
        let addr = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("a loopback port");
        let err = metrics(addr, Duration::from_secs(2)).unwrap_err();
        assert!(matches!(err, FetchError::Connect(_)), "{err}");
    }
}
