//! What the collector says it received: a small HTTP/1.1 GET client for its admin endpoint and
//! a parser for the Prometheus text format of `/metrics`.
//!
//! One GET every 100 ms at most, off the send path, so a hand-written client over a blocking
//! `TcpStream` is enough and keeps loadgen free of an HTTP stack.

use std::io::{Read, Write};
use std::net::{TcpStream, ToSocketAddrs};
use std::thread;
use std::time::{Duration, Instant};

use anyhow::{anyhow, bail, Context, Result};

/// Frames the collector read: one per record, whatever the transport.
const FRAMES: &str = "ztel_frames_total";
/// UDP datagrams it had to drop (reported apart: they are part of what was lost).
const DROPPED: &str = "ztel_datagrams_dropped_total";
/// Its latency from socket read to sink, a summary in seconds.
const LATENCY: &str = "ztel_latency_read_to_sink_seconds";
/// The quantiles of that summary that the report shows.
pub const QUANTILES: [&str; 4] = ["0.5", "0.9", "0.99", "0.999"];

const TIMEOUT: Duration = Duration::from_secs(2);
/// A /metrics answer larger than this is not one loadgen understands.
const MAX_RESPONSE: u64 = 16 << 20;
/// After the run: how often to look, how long a still count means the collector is done, and
/// how long to wait at most.
const POLL_EVERY: Duration = Duration::from_millis(100);
const STILL_FOR: Duration = Duration::from_secs(2);
const POLL_AT_MOST: Duration = Duration::from_secs(30);

/// The admin endpoint, from `--admin http://HOST:PORT[/PREFIX]`.
#[derive(Debug, Clone)]
pub struct Admin {
    /// HOST:PORT, to connect to and to send as the Host header.
    authority: String,
    /// Path before `/metrics`, without a trailing slash ("" at the root).
    prefix: String,
}

/// The counters loadgen needs, read once.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Snapshot {
    pub frames: Option<f64>,
    pub dropped: Option<f64>,
    /// The summary's quantiles (QUANTILES), in seconds.
    pub latency: [Option<f64>; 4],
}

/// What the report shows of the collector; `None` where it could not be known.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Figures {
    pub received: Option<u64>,
    pub lost: Option<u64>,
    pub dropped: Option<u64>,
    /// The collector's latency quantiles, in microseconds.
    pub latency_us: [Option<f64>; 4],
    /// Why a figure is missing, one line each.
    pub notes: Vec<String>,
}

impl Admin {
    /// Checks the URL; an error is a usage error.
    pub fn new(url: &str) -> Result<Admin> {
        let rest = url
            .strip_prefix("http://")
            .ok_or_else(|| anyhow!("--admin {url:?}: expected http://HOST:PORT"))?;
        let (authority, path) = rest.split_once('/').unwrap_or((rest, ""));
        if authority.is_empty() || !authority.contains(':') {
            bail!("--admin {url:?}: expected http://HOST:PORT");
        }
        let prefix = path.trim_end_matches('/');
        Ok(Admin {
            authority: authority.to_string(),
            prefix: if prefix.is_empty() {
                String::new()
            } else {
                format!("/{prefix}")
            },
        })
    }

    pub fn url(&self) -> String {
        format!("http://{}{}/metrics", self.authority, self.prefix)
    }

    /// GET `path` (under the prefix); the body of a 200 answer.
    pub fn get(&self, path: &str) -> Result<String> {
        let addr = self
            .authority
            .to_socket_addrs()
            .with_context(|| format!("cannot resolve {}", self.authority))?
            .next()
            .ok_or_else(|| anyhow!("{} has no address", self.authority))?;
        let mut sock = TcpStream::connect_timeout(&addr, TIMEOUT)?;
        sock.set_read_timeout(Some(TIMEOUT))?;
        sock.set_write_timeout(Some(TIMEOUT))?;
        write!(
            sock,
            "GET {}{path} HTTP/1.1\r\nHost: {}\r\nUser-Agent: loadgen\r\nAccept: text/plain\r\n\
             Connection: close\r\n\r\n",
            self.prefix, self.authority
        )?;
        let mut raw = Vec::new();
        let mut limited = sock.take(MAX_RESPONSE);
        let mut buf = [0u8; 16 << 10];
        loop {
            match limited.read(&mut buf) {
                Ok(0) => break,
                Ok(n) => raw.extend_from_slice(&buf[..n]),
                // A server that keeps the connection open despite `Connection: close`: what
                // arrived may still be a whole answer.
                Err(_) if !raw.is_empty() => break,
                Err(e) => return Err(e.into()),
            }
        }
        body_of(&raw)
    }

    /// Reads /metrics once.
    pub fn snapshot(&self) -> Result<Snapshot> {
        let text = self.get("/metrics")?;
        let mut latency = [None; 4];
        for (slot, q) in latency.iter_mut().zip(QUANTILES) {
            *slot = find(&text, LATENCY, &[("quantile", q)]);
        }
        Ok(Snapshot {
            frames: find(&text, FRAMES, &[("shard", "all")]),
            dropped: find(&text, DROPPED, &[("shard", "all")]),
            latency,
        })
    }

    /// After the run: polls /metrics until the collector has counted `sent` more frames than
    /// `before`, or its count stops growing for 2 s (30 s at most), then works out the figures.
    pub fn settle(&self, before: &Snapshot, sent: u64) -> Figures {
        let mut figures = Figures::default();
        let Some(frames_before) = before.frames else {
            figures.notes.push(format!(
                "{} has no {FRAMES}{{shard=\"all\"}}: received and lost are n/a",
                self.url()
            ));
            return figures;
        };
        let began = Instant::now();
        let mut last: Option<Snapshot> = None;
        let mut grew_at = Instant::now();
        loop {
            match self.snapshot() {
                Ok(now) => {
                    let previous = last.and_then(|l| l.frames);
                    if now.frames > previous {
                        grew_at = Instant::now();
                    }
                    last = Some(now);
                }
                Err(e) => {
                    figures
                        .notes
                        .push(format!("cannot read {} after the run: {e:#}", self.url()));
                    break;
                }
            }
            let received = last
                .and_then(|l| l.frames)
                .map_or(0.0, |f| f - frames_before);
            if received >= sent as f64
                || grew_at.elapsed() >= STILL_FOR
                || began.elapsed() >= POLL_AT_MOST
            {
                break;
            }
            thread::sleep(POLL_EVERY);
        }
        let Some(after) = last else {
            figures.notes.push("received and lost are n/a".to_string());
            return figures;
        };
        match after.frames {
            Some(f) => {
                let received = (f - frames_before).max(0.0) as u64;
                figures.received = Some(received);
                figures.lost = Some(sent.saturating_sub(received));
            }
            None => figures.notes.push(format!(
                "{} lost {FRAMES}{{shard=\"all\"}}: received and lost are n/a",
                self.url()
            )),
        }
        figures.dropped = match (before.dropped, after.dropped) {
            (Some(b), Some(a)) => Some((a - b).max(0.0) as u64),
            _ => None,
        };
        figures.latency_us = after.latency.map(|s| s.map(|secs| secs * 1e6));
        if figures.latency_us.iter().any(Option::is_none) {
            figures.notes.push(format!(
                "{} has no {LATENCY} quantiles {}: ztel latency is n/a where missing",
                self.url(),
                QUANTILES.join(", ")
            ));
        }
        figures
    }
}

/// The body of a complete HTTP/1.x response, if its status is 200.
fn body_of(raw: &[u8]) -> Result<String> {
    let split = raw
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .ok_or_else(|| anyhow!("not an HTTP response"))?;
    let head = std::str::from_utf8(&raw[..split]).context("HTTP header is not text")?;
    let mut body = &raw[split + 4..];
    let mut lines = head.split("\r\n");
    let status = lines.next().unwrap_or_default();
    let code = status.split(' ').nth(1).unwrap_or_default();
    if !status.starts_with("HTTP/1.") {
        bail!("not an HTTP response");
    }
    if code != "200" {
        bail!("HTTP status {}", status.split_once(' ').map_or("", |s| s.1));
    }
    let mut chunked = false;
    for line in lines {
        let Some((name, value)) = line.split_once(':') else {
            continue;
        };
        let value = value.trim();
        if name.eq_ignore_ascii_case("transfer-encoding") {
            chunked = value.to_ascii_lowercase().contains("chunked");
        } else if name.eq_ignore_ascii_case("content-length") {
            let len: usize = value.parse().context("bad Content-Length")?;
            body = body
                .get(..len)
                .ok_or_else(|| anyhow!("response cut short"))?;
        }
    }
    let body = if chunked {
        dechunk(body)?
    } else {
        body.to_vec()
    };
    String::from_utf8(body).context("/metrics is not UTF-8")
}

/// Undoes chunked transfer coding (RFC 9112 §7.1).
fn dechunk(mut input: &[u8]) -> Result<Vec<u8>> {
    let mut out = Vec::new();
    loop {
        let eol = input
            .windows(2)
            .position(|w| w == b"\r\n")
            .ok_or_else(|| anyhow!("chunked body cut short"))?;
        let size_text = std::str::from_utf8(&input[..eol]).context("bad chunk size")?;
        let size_text = size_text.split(';').next().unwrap_or_default().trim();
        let size = usize::from_str_radix(size_text, 16).context("bad chunk size")?;
        input = &input[eol + 2..];
        if size == 0 {
            return Ok(out);
        }
        let chunk = input
            .get(..size)
            .ok_or_else(|| anyhow!("chunked body cut short"))?;
        out.extend_from_slice(chunk);
        input = input.get(size + 2..).unwrap_or_default();
    }
}

/// The value of the first sample of metric `name` whose labels include every pair of
/// `labels`, in Prometheus text exposition format.
pub fn find(text: &str, name: &str, labels: &[(&str, &str)]) -> Option<f64> {
    text.lines().find_map(|line| {
        let line = line.trim_start();
        if line.starts_with('#') {
            return None;
        }
        let rest = line.strip_prefix(name)?;
        let (sample_labels, rest) = if let Some(inner) = rest.strip_prefix('{') {
            let (pairs, after) = split_labels(inner)?;
            (pairs, after)
        } else if rest.starts_with([' ', '\t']) {
            (Vec::new(), rest)
        } else {
            // A longer name that starts with this one (ztel_frames_total_x).
            return None;
        };
        let wanted = labels
            .iter()
            .all(|(k, v)| sample_labels.iter().any(|(sk, sv)| sk == k && sv == v));
        if !wanted {
            return None;
        }
        rest.split_whitespace().next()?.parse::<f64>().ok()
    })
}

/// `a="x",b="y\"z"} rest` → ([(a, x), (b, y"z)], " rest").
fn split_labels(mut s: &str) -> Option<(Vec<(String, String)>, &str)> {
    let mut pairs = Vec::new();
    loop {
        s = s.trim_start_matches([',', ' ']);
        if let Some(rest) = s.strip_prefix('}') {
            return Some((pairs, rest));
        }
        let (key, rest) = s.split_once('=')?;
        let mut chars = rest.strip_prefix('"')?.char_indices();
        let mut value = String::new();
        let end = loop {
            match chars.next()? {
                (i, '"') => break i,
                (_, '\\') => match chars.next()?.1 {
                    'n' => value.push('\n'),
                    other => value.push(other),
                },
                (_, c) => value.push(c),
            }
        };
        pairs.push((key.trim().to_string(), value));
        s = &rest[1 + end + 1..];
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const METRICS: &str = "# HELP ztel_frames_total Frames read.\n\
        # TYPE ztel_frames_total counter\n\
        ztel_frames_total{shard=\"0\"} 10\n\
        ztel_frames_total{shard=\"all\"} 25\n\
        ztel_frames_total_extra{shard=\"all\"} 99\n\
        ztel_datagrams_dropped_total{shard=\"all\",reason=\"full\"} 3 1700000000000\n\
        ztel_latency_read_to_sink_seconds{quantile=\"0.5\"} 3.5e-05\n\
        ztel_latency_read_to_sink_seconds{quantile=\"0.99\"} 0.0012\n\
        ztel_latency_read_to_sink_seconds_count 25\n\
        odd{label=\"a \\\"quoted\\\" } value\"} 7\n";

    #[test]
    fn finds_samples_by_name_and_labels() {
        assert_eq!(find(METRICS, FRAMES, &[("shard", "all")]), Some(25.0));
        assert_eq!(find(METRICS, FRAMES, &[("shard", "0")]), Some(10.0));
        assert_eq!(find(METRICS, FRAMES, &[]), Some(10.0));
        assert_eq!(find(METRICS, DROPPED, &[("shard", "all")]), Some(3.0));
        assert_eq!(find(METRICS, LATENCY, &[("quantile", "0.5")]), Some(3.5e-5));
        assert_eq!(find(METRICS, LATENCY, &[("quantile", "0.9")]), None);
        assert_eq!(
            find(METRICS, "ztel_latency_read_to_sink_seconds_count", &[]),
            Some(25.0)
        );
        assert_eq!(
            find(METRICS, "odd", &[("label", "a \"quoted\" } value")]),
            Some(7.0)
        );
        assert_eq!(find(METRICS, "missing", &[]), None);
    }

    #[test]
    fn urls() {
        let a = Admin::new("http://127.0.0.1:9514").unwrap();
        assert_eq!(a.url(), "http://127.0.0.1:9514/metrics");
        let a = Admin::new("http://collector:9514/ztel/").unwrap();
        assert_eq!(a.url(), "http://collector:9514/ztel/metrics");
        assert!(Admin::new("https://127.0.0.1:9514").is_err());
        assert!(Admin::new("127.0.0.1:9514").is_err());
    }

    #[test]
    fn responses() {
        let plain = b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello, and more";
        assert_eq!(body_of(plain).unwrap(), "hello");
        let chunked =
            b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n7;x=y\r\n, world\r\n0\r\n\r\n";
        assert_eq!(body_of(chunked).unwrap(), "hello, world");
        let missing = b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n";
        assert_eq!(
            body_of(missing).unwrap_err().to_string(),
            "HTTP status 404 Not Found"
        );
        assert!(body_of(b"garbage").is_err());
    }
}
