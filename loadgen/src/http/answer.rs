//! The collector's answers to loadgen's requests, read whole off the connection: status line,
//! header fields and a `Content-Length` body (or one that runs to the close), so that the next
//! request can go on the same keep-alive connection.

use std::io::{self, Read};

use anyhow::{bail, Context, Result};

/// The longest answer head (status line and header fields) loadgen reads.
const MAX_HEAD: usize = 16 << 10;
/// Most header fields in an answer.
const MAX_FIELDS: usize = 64;
/// The longest answer body loadgen reads (ztel's are one line of text).
const MAX_BODY: usize = 64 << 10;
/// How much of an answer's body goes into an error message.
const MAX_MESSAGE: usize = 200;

/// An answer, read whole.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Answer {
    pub status: u16,
    pub reason: String,
    /// The collector closes the connection after this answer (`Connection: close`, HTTP/1.0
    /// without keep-alive, or a body that runs to the end of the connection).
    pub close: bool,
    pub body: Vec<u8>,
}

impl Answer {
    /// Ok for 200; otherwise an error that names the status, with the collector's reason.
    pub fn check(&self) -> Result<()> {
        if self.status == 200 {
            return Ok(());
        }
        let mut message = format!("the collector answered {}", self.status);
        let reason = printable(self.reason.as_bytes());
        if !reason.is_empty() {
            message.push(' ');
            message.push_str(&reason);
        }
        if self.status == 503 {
            message.push_str(" (it is draining)");
        }
        let said = printable(self.body.split(|b| *b == b'\n').next().unwrap_or_default());
        if !said.is_empty() {
            message.push_str(": ");
            message.push_str(&said);
        }
        bail!(message)
    }
}

/// At most MAX_MESSAGE characters of `bytes`, trimmed, with anything unprintable as `?`: an
/// answer's text goes into loadgen's one-line error, so it must not bring line breaks or
/// terminal escapes with it.
fn printable(bytes: &[u8]) -> String {
    let text = String::from_utf8_lossy(bytes);
    let mut out: String = text
        .trim()
        .chars()
        .take(MAX_MESSAGE)
        .map(|c| if c.is_control() { '?' } else { c })
        .collect();
    if text.trim().chars().count() > MAX_MESSAGE {
        out.push('…');
    }
    out
}

/// How an answer's body is delimited.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum BodyLength {
    Exactly(usize),
    /// No length: the body runs until the collector closes the connection.
    ToClose,
}

/// What an answer's head says.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Head {
    /// Bytes of the status line and header fields, blank line included.
    len: usize,
    status: u16,
    reason: String,
    close: bool,
    body: BodyLength,
}

/// Parses the head at the start of `buf`: `None` while it is incomplete.
fn parse_head(buf: &[u8]) -> Result<Option<Head>> {
    let mut fields = [httparse::EMPTY_HEADER; MAX_FIELDS];
    let mut response = httparse::Response::new(&mut fields);
    let len = match response.parse(buf) {
        Ok(httparse::Status::Complete(len)) => len,
        Ok(httparse::Status::Partial) => return Ok(None),
        Err(httparse::Error::TooManyHeaders) => {
            bail!("an answer with more than {MAX_FIELDS} header fields")
        }
        Err(e) => bail!(
            "a malformed answer ({e}): {}",
            printable(&buf[..buf.len().min(80)])
        ),
    };
    // A complete parse has a version and a code.
    let status = response.code.unwrap_or_default();
    let http10 = response.version == Some(0);
    let mut length: Option<usize> = None;
    let mut chunked = false;
    let mut close = http10;
    for field in response.headers.iter() {
        if field.name.eq_ignore_ascii_case("content-length") {
            let n = std::str::from_utf8(field.value)
                .ok()
                .map(str::trim)
                .filter(|v| !v.is_empty() && v.bytes().all(|b| b.is_ascii_digit()))
                .and_then(|v| v.parse::<usize>().ok())
                .with_context(|| {
                    format!(
                        "a bad Content-Length in the answer: {}",
                        printable(field.value)
                    )
                })?;
            if length.is_some_and(|l| l != n) {
                bail!("an answer with two different Content-Length fields");
            }
            length = Some(n);
        } else if field.name.eq_ignore_ascii_case("transfer-encoding") {
            chunked = true;
        } else if field.name.eq_ignore_ascii_case("connection") {
            for token in field.value.split(|b| *b == b',') {
                let token = token.trim_ascii();
                if token.eq_ignore_ascii_case(b"close") {
                    close = true;
                } else if token.eq_ignore_ascii_case(b"keep-alive") && http10 {
                    close = false;
                }
            }
        }
    }
    let body = if (100..200).contains(&status) || status == 204 || status == 304 {
        BodyLength::Exactly(0)
    } else if chunked {
        bail!("a {status} answer with a Transfer-Encoding, which loadgen does not read")
    } else if let Some(n) = length {
        if n > MAX_BODY {
            bail!("a {status} answer with a body of {n} bytes (loadgen reads {MAX_BODY} at most)");
        }
        BodyLength::Exactly(n)
    } else if close {
        BodyLength::ToClose
    } else {
        bail!("a {status} answer without Content-Length on a kept-alive connection")
    };
    Ok(Some(Head {
        len,
        status,
        reason: response.reason.unwrap_or_default().to_string(),
        close: close || body == BodyLength::ToClose,
        body,
    }))
}

/// Reads answers off one connection.
#[derive(Debug, Default)]
pub struct Answers {
    /// Bytes read and not yet part of an answer returned.
    buf: Vec<u8>,
}

impl Answers {
    /// Forgets what was read: the connection it came from is gone.
    pub fn clear(&mut self) {
        self.buf.clear();
    }

    /// Reads the answer to the request just sent; informational answers (`100 Continue`) are
    /// skipped.
    pub fn read<R: Read>(&mut self, stream: &mut R) -> Result<Answer> {
        loop {
            let head = loop {
                if let Some(head) = parse_head(&self.buf)? {
                    break head;
                }
                if self.buf.len() >= MAX_HEAD {
                    bail!("an answer head over {MAX_HEAD} bytes");
                }
                if self.fill(stream)? == 0 {
                    if self.buf.is_empty() {
                        bail!("the collector closed the connection without answering");
                    }
                    bail!("the collector closed the connection in the middle of its answer");
                }
            };
            let end = match head.body {
                BodyLength::Exactly(n) => {
                    while self.buf.len() < head.len + n {
                        if self.fill(stream)? == 0 {
                            bail!(
                                "the collector closed the connection in the middle of its answer"
                            );
                        }
                    }
                    head.len + n
                }
                BodyLength::ToClose => {
                    while self.fill_to_close(stream)? > 0 {
                        if self.buf.len() > head.len + MAX_BODY {
                            bail!("a {} answer over {MAX_BODY} bytes", head.status);
                        }
                    }
                    self.buf.len()
                }
            };
            let body = self.buf[head.len..end].to_vec();
            self.buf.drain(..end);
            match head.status {
                101 => bail!("the collector answered 101 (switching protocols) to a POST"),
                100..=199 => continue,
                _ => {
                    return Ok(Answer {
                        status: head.status,
                        reason: head.reason,
                        close: head.close,
                        body,
                    })
                }
            }
        }
    }

    /// Reads once more into the buffer; 0 at the end of the connection.
    fn fill<R: Read>(&mut self, stream: &mut R) -> Result<usize> {
        let mut chunk = [0u8; 8 << 10];
        loop {
            match stream.read(&mut chunk) {
                Ok(n) => {
                    self.buf.extend_from_slice(&chunk[..n]);
                    return Ok(n);
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e)
                    if matches!(
                        e.kind(),
                        io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut
                    ) =>
                {
                    bail!("no answer in time ({e})")
                }
                Err(e) => return Err(e).context("reading the answer"),
            }
        }
    }

    /// `fill` for a body that ends with the connection: a TLS peer that closes without
    /// close_notify ends it too.
    fn fill_to_close<R: Read>(&mut self, stream: &mut R) -> Result<usize> {
        match self.fill(stream) {
            Err(e)
                if e.downcast_ref::<io::Error>()
                    .is_some_and(|e| e.kind() == io::ErrorKind::UnexpectedEof) =>
            {
                Ok(0)
            }
            other => other,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A reader that hands out its bytes a few at a time, as a socket may.
    struct Trickle<'a> {
        bytes: &'a [u8],
        step: usize,
    }

    impl Read for Trickle<'_> {
        fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
            let n = self.step.min(buf.len()).min(self.bytes.len());
            buf[..n].copy_from_slice(&self.bytes[..n]);
            self.bytes = &self.bytes[n..];
            Ok(n)
        }
    }

    fn read_all(wire: &[u8], step: usize) -> Result<Vec<Answer>> {
        let mut stream = Trickle { bytes: wire, step };
        let mut answers = Answers::default();
        let mut out = Vec::new();
        loop {
            out.push(answers.read(&mut stream)?);
            if stream.bytes.is_empty() && answers.buf.is_empty() {
                return Ok(out);
            }
        }
    }

    #[test]
    fn answers_are_read_whole_one_after_the_other() {
        let wire = b"HTTP/1.1 200 OK\r\nDate: x\r\nServer: ztel\r\nContent-Length: 0\r\n\r\n\
                     HTTP/1.1 100 Continue\r\n\r\n\
                     HTTP/1.1 200 OK\r\ncontent-length: 3\r\n\r\nok\n\
                     HTTP/1.1 403 Forbidden\r\nConnection: close\r\nContent-Type: text/plain\r\n\
                     Content-Length: 36\r\n\r\nwrong key in X-Ztel-Key\nsecond line\n";
        for step in [1, 7, 4096] {
            let answers = read_all(wire, step).unwrap();
            assert_eq!(answers.len(), 3, "the 100 is skipped");
            assert_eq!(answers[0].status, 200);
            assert!(!answers[0].close);
            assert!(answers[0].check().is_ok());
            assert_eq!(answers[1].body, b"ok\n");
            assert_eq!(answers[2].status, 403);
            assert!(answers[2].close);
            assert_eq!(
                answers[2].check().unwrap_err().to_string(),
                "the collector answered 403 Forbidden: wrong key in X-Ztel-Key"
            );
        }
    }

    #[test]
    fn draining_and_closing_answers_say_so() {
        let answers = read_all(
            b"HTTP/1.1 503 Service Unavailable\r\nConnection: close\r\nContent-Length: 38\r\n\r\n\
              the collector is shutting down; retry\n",
            5,
        )
        .unwrap();
        assert_eq!(
            answers[0].check().unwrap_err().to_string(),
            "the collector answered 503 Service Unavailable (it is draining): the collector is \
             shutting down; retry"
        );
        // HTTP/1.0 closes unless asked not to; a body without a length runs to the close.
        let answers = read_all(b"HTTP/1.0 200 OK\r\n\r\nfine", 3).unwrap();
        assert_eq!(
            (answers[0].close, answers[0].body.as_slice()),
            (true, &b"fine"[..])
        );
        let answers = read_all(
            b"HTTP/1.0 200 OK\r\nConnection: Keep-Alive\r\nContent-Length: 0\r\n\r\n",
            9,
        )
        .unwrap();
        assert!(!answers[0].close);
        let answers = read_all(
            b"HTTP/1.1 200 OK\r\nConnection: upgrade, close\r\nContent-Length: 0\r\n\r\n",
            9,
        )
        .unwrap();
        assert!(answers[0].close);
    }

    #[test]
    fn what_the_collector_says_cannot_break_the_error_line() {
        let answer = Answer {
            status: 400,
            reason: "Bad\u{1b}[31m Request".to_string(),
            close: false,
            body: format!("{}\r\n", "x".repeat(500)).into_bytes(),
        };
        let e = answer.check().unwrap_err().to_string();
        assert!(
            e.starts_with("the collector answered 400 Bad?[31m Request: xxx"),
            "{e}"
        );
        assert!(e.ends_with("x…"), "{e}");
        assert_eq!(e.lines().count(), 1);
    }

    #[test]
    fn broken_answers_are_errors_not_panics() {
        let cases: [&[u8]; 8] = [
            b"",
            b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nab",
            b"HTTP/1.1 200 OK\r\nContent-Le",
            b"SSH-2.0-OpenSSH\r\n\r\n",
            b"HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n",
            b"HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nab",
            b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
            b"HTTP/1.1 200 OK\r\nContent-Length: 99999999999999999999999\r\n\r\n",
        ];
        for wire in cases {
            assert!(
                read_all(wire, 16).is_err(),
                "{:?}",
                String::from_utf8_lossy(wire)
            );
        }
        let e = read_all(b"", 1).unwrap_err().to_string();
        assert!(e.contains("without answering"), "{e}");
        assert!(
            read_all(b"HTTP/1.1 200 OK\r\n\r\n", 64).is_err(),
            "no length, kept alive"
        );
        let huge = format!("HTTP/1.1 200 OK\r\nX: {}\r\n\r\n", "v".repeat(MAX_HEAD));
        assert!(read_all(huge.as_bytes(), 4096).is_err());
        let big = format!(
            "HTTP/1.1 200 OK\r\nContent-Length: {}\r\n\r\n",
            MAX_BODY + 1
        );
        assert!(read_all(big.as_bytes(), 4096).is_err());
    }

    #[test]
    fn a_silent_collector_is_a_timeout() {
        struct Silent;
        impl Read for Silent {
            fn read(&mut self, _: &mut [u8]) -> io::Result<usize> {
                Err(io::ErrorKind::WouldBlock.into())
            }
        }
        let e = Answers::default()
            .read(&mut Silent)
            .unwrap_err()
            .to_string();
        assert!(e.starts_with("no answer in time"), "{e}");
    }
}
