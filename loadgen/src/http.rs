//! --proto http: Cloud NSS's side of an HTTP/1.1 exchange (DESIGN §3). Each request POSTs a
//! batch of records as a JSON array (Zscaler's default "JSON Array Notation"), with the key
//! header; each answer is read whole (status line, header fields, `Content-Length` body) before
//! the next request goes on the same keep-alive connection. With --gzip each body is compressed
//! and sent with `Content-Encoding: gzip`.
//!
//! This file builds the requests and `answer` reads the answers: they know the bytes only;
//! `send` owns the connections, the pacing and the reconnect after an answer that closes the
//! connection.

mod answer;

use std::io::{self, Write as _};

use flate2::write::GzEncoder;
use flate2::Compression;

use crate::plan::HttpPlan;

pub use answer::Answers;

/// Builds requests: the head's fixed part once, then per request its length and body.
#[derive(Debug)]
pub struct Requests {
    /// Request line and header fields up to `Content-Length: `.
    prefix: Vec<u8>,
    /// The last request built; reused, so that a run allocates only while it grows.
    buf: Vec<u8>,
    /// With --gzip: the last body compressed, reused the same way.
    gzip: Option<Vec<u8>>,
    /// Bodies are JSON arrays; else the records as laid out, one per line.
    array: bool,
}

/// What one send put on the wire: for HTTP, a request's body.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Body {
    /// Bytes sent (for HTTP, of the body, compressed or not).
    pub sent: usize,
    /// With --gzip: the size of the JSON array the body inflates to.
    pub before_gzip: Option<usize>,
}

impl Requests {
    /// `plan` was checked (`args`): the path, header name and key cannot break the head.
    pub fn new(plan: &HttpPlan) -> Requests {
        let prefix = format!(
            "POST {path} HTTP/1.1\r\nHost: {host}\r\nUser-Agent: loadgen/{version}\r\n\
             Content-Type: application/json\r\n{encoding}Connection: keep-alive\r\n\
             {header}: {key}\r\nContent-Length: ",
            path = plan.path,
            host = plan.host,
            version = env!("CARGO_PKG_VERSION"),
            header = plan.header,
            key = plan.key,
            encoding = if plan.gzip {
                "Content-Encoding: gzip\r\n"
            } else {
                ""
            },
        );
        Requests {
            prefix: prefix.into_bytes(),
            buf: Vec::new(),
            gzip: plan.gzip.then(Vec::new),
            array: plan.array,
        }
    }

    /// The request that carries `elements`, and the size of its body. With JSON arrays the
    /// elements are records each followed by a comma (`Layout::JsonElements`), put between
    /// brackets without the last comma; else they are lines (`Layout::Lines`), sent as they are.
    pub fn build(&mut self, elements: &[u8]) -> io::Result<(&[u8], Body)> {
        let (open, records, close): (&[u8], &[u8], &[u8]) = if self.array {
            (b"[", elements.strip_suffix(b",").unwrap_or(elements), b"]")
        } else {
            (b"", elements, b"")
        };
        let json = open.len() + records.len() + close.len();
        self.buf.clear();
        self.buf.extend_from_slice(&self.prefix);
        let Some(gz) = &mut self.gzip else {
            self.buf.reserve(24 + json);
            // Writing to a Vec cannot fail.
            let _ = write!(self.buf, "{json}\r\n\r\n");
            self.buf.extend_from_slice(open);
            self.buf.extend_from_slice(records);
            self.buf.extend_from_slice(close);
            return Ok((
                &self.buf,
                Body {
                    sent: json,
                    before_gzip: None,
                },
            ));
        };
        // The fastest level: the body is compressed while the run's clock is running.
        gz.clear();
        let mut encoder = GzEncoder::new(gz, Compression::fast());
        encoder.write_all(open)?;
        encoder.write_all(records)?;
        encoder.write_all(close)?;
        let gz = encoder.finish()?;
        let _ = write!(self.buf, "{}\r\n\r\n", gz.len());
        self.buf.extend_from_slice(gz);
        Ok((
            &self.buf,
            Body {
                sent: gz.len(),
                before_gzip: Some(json),
            },
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn plan() -> HttpPlan {
        HttpPlan {
            host: "collector.example:8514".to_string(),
            path: "/nss/web".to_string(),
            header: "X-Ztel-Key".to_string(),
            key: "s3cret".to_string(),
            batch: 100,
            batch_bytes: 512 << 10,
            array: true,
            gzip: false,
        }
    }

    #[test]
    fn a_request_is_a_json_array_with_its_length_and_key() {
        let mut requests = Requests::new(&plan());
        let (request, body) = requests.build(br#"{"a":1},{"b":2},"#).unwrap();
        let text = std::str::from_utf8(request).unwrap();
        assert_eq!(
            body,
            Body {
                sent: 17,
                before_gzip: None
            }
        );
        assert_eq!(
            text,
            format!(
                "POST /nss/web HTTP/1.1\r\nHost: collector.example:8514\r\n\
                 User-Agent: loadgen/{}\r\nContent-Type: application/json\r\n\
                 Connection: keep-alive\r\nX-Ztel-Key: s3cret\r\nContent-Length: 17\r\n\r\n\
                 [{{\"a\":1}},{{\"b\":2}}]",
                env!("CARGO_PKG_VERSION")
            )
        );
        // httparse reads it back as the collector will.
        let mut fields = [httparse::EMPTY_HEADER; 16];
        let mut parsed = httparse::Request::new(&mut fields);
        let Ok(httparse::Status::Complete(len)) = parsed.parse(request) else {
            panic!("not a complete request head");
        };
        assert_eq!(parsed.method, Some("POST"));
        assert_eq!(parsed.path, Some("/nss/web"));
        let value = |name: &str| {
            parsed
                .headers
                .iter()
                .find(|h| h.name == name)
                .map(|h| h.value.to_vec())
        };
        assert_eq!(value("X-Ztel-Key"), Some(b"s3cret".to_vec()));
        assert_eq!(value("Content-Length"), Some(b"17".to_vec()));
        let json: Vec<std::collections::BTreeMap<String, u32>> =
            serde_json::from_slice(&request[len..]).unwrap();
        assert_eq!(json.len(), 2);
        // The buffer is reused: a smaller request after a larger one is whole.
        let (request, body) = requests.build(b"{},").unwrap();
        assert!(request.ends_with(b"Content-Length: 4\r\n\r\n[{}]"));
        assert_eq!(body.sent, 4);
    }

    #[test]
    fn a_gzip_request_says_so_and_inflates_to_the_array() {
        use std::io::Read as _;
        let mut requests = Requests::new(&HttpPlan {
            gzip: true,
            ..plan()
        });
        let record = br#"{"sourcetype":"zscalernss-web","event":{"cip":"10.0.0.1"}},"#;
        let elements = record.repeat(50);
        for _ in 0..2 {
            let (request, body) = requests.build(&elements).unwrap();
            let mut fields = [httparse::EMPTY_HEADER; 16];
            let mut parsed = httparse::Request::new(&mut fields);
            let Ok(httparse::Status::Complete(len)) = parsed.parse(request) else {
                panic!("not a complete request head");
            };
            let value = |name: &str| {
                parsed
                    .headers
                    .iter()
                    .find(|h| h.name == name)
                    .map(|h| String::from_utf8(h.value.to_vec()).unwrap())
            };
            assert_eq!(value("Content-Encoding").as_deref(), Some("gzip"));
            assert_eq!(value("Content-Length"), Some(body.sent.to_string()));
            assert_eq!(request.len() - len, body.sent);
            let json_len = body.before_gzip.unwrap();
            assert!(body.sent < json_len / 10, "{body:?}");
            let mut json = Vec::new();
            flate2::read::GzDecoder::new(&request[len..])
                .read_to_end(&mut json)
                .unwrap();
            assert_eq!(json.len(), json_len);
            let array: Vec<serde_json::Value> = serde_json::from_slice(&json).unwrap();
            assert_eq!(array.len(), 50);
        }
    }
}
