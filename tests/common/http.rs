//! A minimal HTTP/1.1 client for the Cloud NSS input's tests: writes requests as given, reads
//! answers framed by Content-Length (all the collector sends).

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::Duration;

/// An answer as read off the wire.
#[derive(Debug)]
pub struct Answer {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: String,
}

impl Answer {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

/// A minimal HTTP/1.1 client over any stream: writes requests as given, reads answers framed by
/// Content-Length (all this server sends).
pub struct Client<S: Read + Write> {
    pub stream: S,
    pub pending: Vec<u8>,
}

impl Client<TcpStream> {
    pub fn connect(addr: SocketAddr) -> Self {
        let stream = TcpStream::connect_timeout(&addr, Duration::from_secs(5)).expect("connect");
        Client::over(stream)
    }

    pub fn over(stream: TcpStream) -> Self {
        // Past the collector's own wait for records to be written (10 s, then a 503).
        stream
            .set_read_timeout(Some(Duration::from_secs(30)))
            .unwrap();
        stream
            .set_write_timeout(Some(Duration::from_secs(10)))
            .unwrap();
        Client {
            stream,
            pending: Vec::new(),
        }
    }
}

impl<S: Read + Write> Client<S> {
    /// A POST with the key header (when given) and a Content-Length body.
    pub fn post(&mut self, key: Option<&str>, body: &[u8]) -> Answer {
        self.post_with(key, "", body)
    }

    /// A POST with more header lines (each ending in CRLF).
    pub fn post_with(&mut self, key: Option<&str>, headers: &str, body: &[u8]) -> Answer {
        let mut head = format!(
            "POST /nss/web HTTP/1.1\r\nHost: collector\r\nContent-Type: application/json\r\nContent-Length: {}\r\n{headers}",
            body.len()
        );
        if let Some(key) = key {
            head.push_str(&format!("X-Ztel-Key: {key}\r\n"));
        }
        head.push_str("\r\n");
        let mut raw = head.into_bytes();
        raw.extend_from_slice(body);
        self.send(&raw)
    }

    /// Writes `raw` as it is and reads one answer.
    pub fn send(&mut self, raw: &[u8]) -> Answer {
        self.stream.write_all(raw).expect("send request");
        self.stream.flush().expect("flush");
        self.answer()
    }

    pub fn answer(&mut self) -> Answer {
        let head_end = loop {
            if let Some(i) = find(&self.pending, b"\r\n\r\n") {
                break i + 4;
            }
            self.fill();
        };
        let head = String::from_utf8(self.pending[..head_end].to_vec()).expect("head is text");
        let mut lines = head.split("\r\n");
        let status_line = lines.next().unwrap();
        assert!(status_line.starts_with("HTTP/1.1 "), "{status_line:?}");
        let status = status_line[9..12].parse().expect("status code");
        let headers: Vec<(String, String)> = lines
            .filter(|l| !l.is_empty())
            .map(|l| {
                let (n, v) = l.split_once(':').expect("header field");
                (n.trim().to_owned(), v.trim().to_owned())
            })
            .collect();
        let length: usize = if status < 200 {
            0
        } else {
            headers
                .iter()
                .find(|(n, _)| n.eq_ignore_ascii_case("content-length"))
                .map(|(_, v)| v.parse().expect("Content-Length"))
                .expect("every answer has a Content-Length")
        };
        while self.pending.len() < head_end + length {
            self.fill();
        }
        let body = String::from_utf8(self.pending[head_end..head_end + length].to_vec()).unwrap();
        self.pending.drain(..head_end + length);
        Answer {
            status,
            headers,
            body,
        }
    }

    pub fn fill(&mut self) {
        let mut buf = [0u8; 4096];
        let n = self.stream.read(&mut buf).expect("read answer");
        assert!(n > 0, "connection closed before a whole answer");
        self.pending.extend_from_slice(&buf[..n]);
    }

    /// The server closes the connection: a read sees the end (or a reset) and nothing else.
    pub fn assert_closed(&mut self) {
        assert!(self.pending.is_empty(), "bytes after the answer");
        let mut buf = [0u8; 64];
        match self.stream.read(&mut buf) {
            Ok(0) => {}
            Ok(n) => panic!("{n} more bytes instead of the end"),
            Err(e) => assert_eq!(e.kind(), std::io::ErrorKind::ConnectionReset, "{e}"),
        }
    }
}

pub fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

/// A body as `Content-Encoding: gzip` sends it.
pub fn gzip(data: &[u8]) -> Vec<u8> {
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    e.write_all(data).expect("gzip in memory");
    e.finish().expect("gzip in memory")
}

/// Lines as a Cloud NSS JSON array.
pub fn array(lines: &[String]) -> Vec<u8> {
    format!("[\n{}\n]", lines.join(",\n")).into_bytes()
}
