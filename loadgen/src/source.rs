//! Events, generated or read, framed and laid out in memory before the run starts.
//!
//! Each connection gets a `Stream`: its events framed and back to back in one buffer, so that
//! whatever is due can go out as one contiguous slice in one syscall. Generation must never be
//! what limits the rate, so nothing is formatted while sending.

use std::io::Write as _;
use std::ops::Range;
use std::path::Path;

use anyhow::{bail, Context, Result};
use wire::synth::{ActivityGenerator, Dialect, DnsGenerator, FirewallGenerator, WebGenerator};

use crate::args::{Framing, Proto};
use crate::header::{self, Headers, Own};
use crate::plan::{Plan, Source};

/// At most this many events are held in memory; a longer run loops over them.
pub const POOL_MAX_EVENTS: u64 = 2_000_000;
/// And at most this many bytes (LSS records are over 2 KB).
pub const POOL_MAX_BYTES: usize = 2 << 30;
/// The records' feed time for --rate max: as many records per second as a busy NSS sends.
const FEED_RATE_AT_MAX: u64 = 100_000;
/// Events generated before the buffers are sized.
const SAMPLE: u64 = 1000;
/// The largest payload a UDP datagram can carry over IPv4.
pub const UDP_MAX_PAYLOAD: usize = 65_507;

/// How events lie in a stream: what the transport sends them in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Layout {
    /// One record per line (tcp and tls with --framing lf; udp).
    Lines,
    /// RFC 6587 octet counting (tcp and tls with --framing octet).
    OctetCounted,
    /// Each record followed by a comma: any run of them, its last comma cut and the whole put
    /// between brackets, is the body of an HTTP request (a JSON array).
    JsonElements,
}

impl Layout {
    pub fn of(plan: &Plan) -> Layout {
        match (plan.proto, plan.framing) {
            (Proto::Http, _) if plan.http.as_ref().is_none_or(|h| h.array) => Layout::JsonElements,
            // Cloud NSS without JSON Array Notation: one record per line.
            (Proto::Http, _) => Layout::Lines,
            (Proto::Udp, _) | (_, Framing::Lf) => Layout::Lines,
            (_, Framing::Octet) => Layout::OctetCounted,
        }
    }
}

/// One connection's share of the events, framed, back to back.
#[derive(Debug, Default)]
pub struct Stream {
    pub bytes: Vec<u8>,
    /// `ends[k]` is where event k ends in `bytes` (its framing included).
    pub ends: Vec<usize>,
}

impl Stream {
    /// Events in the pool.
    pub fn len(&self) -> usize {
        self.ends.len()
    }

    pub fn is_empty(&self) -> bool {
        self.ends.is_empty()
    }

    /// Where event `k` starts.
    pub fn start(&self, k: usize) -> usize {
        if k == 0 {
            0
        } else {
            self.ends[k - 1]
        }
    }

    /// How many of the `wanted` events from pool index `k` on fit in one write of at most
    /// `max_bytes` (at least one, however long it is, and never past the pool's end, where a
    /// looping run wraps around).
    pub fn batch(&self, k: usize, wanted: usize, max_bytes: usize) -> usize {
        // `wanted` is unbounded (usize::MAX) for a --rate max --duration run.
        let end = k.saturating_add(wanted).min(self.len());
        let limit = self.start(k) + max_bytes;
        self.ends[k..end].partition_point(|&e| e <= limit).max(1)
    }

    /// The bytes of pool events `k..k + n`.
    pub fn slice(&self, k: usize, n: usize) -> &[u8] {
        &self.bytes[self.start(k)..self.ends[k + n - 1]]
    }

    fn push(&mut self, record: &[u8], layout: Layout) {
        match layout {
            Layout::Lines => {
                self.bytes.extend_from_slice(record);
                self.bytes.push(b'\n');
            }
            Layout::OctetCounted => {
                // Writing to a Vec cannot fail.
                let _ = write!(self.bytes, "{} ", record.len());
                self.bytes.extend_from_slice(record);
            }
            Layout::JsonElements => {
                self.bytes.extend_from_slice(record);
                self.bytes.push(b',');
            }
        }
        self.ends.push(self.bytes.len());
    }
}

/// Where records come from.
enum Records {
    Web(WebGenerator),
    Firewall(FirewallGenerator),
    Dns(DnsGenerator),
    Activity(ActivityGenerator),
    /// A file's contents and its non-blank lines; `next` cycles through them.
    File {
        text: Vec<u8>,
        lines: Vec<Range<usize>>,
        next: usize,
    },
}

impl Records {
    /// Hands the next record (without its line end) to `f`. `scratch` is reused so that
    /// generating allocates nothing per record.
    fn next(&mut self, scratch: &mut String, f: impl FnOnce(&[u8])) {
        match self {
            Records::Web(g) => synthetic(scratch, |s| g.write(s), f),
            Records::Firewall(g) => synthetic(scratch, |s| g.write(s), f),
            Records::Dns(g) => synthetic(scratch, |s| g.write(s), f),
            Records::Activity(g) => synthetic(scratch, |s| g.write(s), f),
            Records::File { text, lines, next } => {
                let line = lines[*next].clone();
                *next = (*next + 1) % lines.len();
                f(&text[line]);
            }
        }
    }
}

/// Has `write` put one record into `scratch`, and hands it to `f` without its line end.
fn synthetic(scratch: &mut String, write: impl FnOnce(&mut String), f: impl FnOnce(&[u8])) {
    scratch.clear();
    write(scratch);
    f(scratch.trim_end_matches('\n').as_bytes());
}

/// Builds every connection's stream. Errors (an unreadable or empty file, a line too long for
/// a datagram, a line that is no JSON object for http) are configuration errors.
pub fn build(plan: &Plan) -> Result<Vec<Stream>> {
    // Feed time in the records moves at the run's rate, as a live feed's would.
    let per_second = plan.rate.map_or(FEED_RATE_AT_MAX, |eps| eps.ceil() as u64);
    let (seed, cardinality, churn) = (plan.seed, plan.cardinality, plan.churn);
    let mut records = match &plan.source {
        Source::Nss(dialect) => Records::Web(
            WebGenerator::new(seed, *dialect, cardinality)
                .at_rate(per_second)
                .with_churn(churn),
        ),
        Source::Fw => Records::Firewall(
            FirewallGenerator::new(seed, cardinality)
                .at_rate(per_second)
                .with_churn(churn),
        ),
        Source::Dns => Records::Dns(
            DnsGenerator::new(seed, cardinality)
                .at_rate(per_second)
                .with_churn(churn),
        ),
        Source::Lss => Records::Activity(
            ActivityGenerator::new(seed, cardinality)
                .at_rate(per_second)
                .with_churn(churn),
        ),
        Source::File(path) => read_lines(path)?,
    };
    let mut headers = plan.header.map(|h| {
        let (own, sender) = match &plan.source {
            Source::Nss(Dialect::Sekoia) => (Own::Before(b"{"), header::NSS),
            Source::Nss(Dialect::Leef) => (Own::Before(b"LEEF:"), header::NSS),
            Source::Nss(Dialect::Cef) => (Own::Before(b"CEF:"), header::NSS),
            Source::Lss => (Own::Nothing, header::LSS),
            _ => (Own::Nothing, header::NSS),
        };
        Headers::new(h, own, sender, per_second)
    });
    // A --rate max --duration run does not know how many events it will send: it gets the
    // largest pool, because a collector that de-duplicates (ztel keeps a window of about a
    // million records) would take repeats from a small one for duplicates.
    let needed = plan.events().unwrap_or(u64::MAX);
    let (distinct, file_bytes) = match &records {
        Records::File { lines, text, .. } => (lines.len() as u64, text.len() as u64),
        _ => (u64::MAX, 0),
    };
    // A file shorter than the run is sent several times over; but every connection that has
    // events to send needs at least one in its pool.
    let mut pool = distinct
        .min(POOL_MAX_EVENTS)
        .max(plan.connections)
        .min(needed);
    // Event g of the run is the file's line g mod its length when each connection's share of
    // the pool repeats in step: a whole number of passes over the file that the connections
    // share evenly. Dealt from one pass, shares of unequal length repeated at unequal paces,
    // and lines went out three times, twice and once in a run that sent each twice.
    // Only when those passes fit the pool's bounds: cut by its byte budget in the middle of a
    // pass, the shares repeated unevenly again.
    if needed > distinct {
        let passes = plan.connections / gcd(distinct, plan.connections);
        let cycle = distinct.checked_mul(passes);
        let bytes = file_bytes.saturating_mul(passes);
        if let Some(cycle) =
            cycle.filter(|&c| c <= POOL_MAX_EVENTS && bytes < POOL_MAX_BYTES as u64 / 2)
        {
            pool = cycle.min(needed);
        }
    }
    let n = plan.connections as usize;
    let mut streams: Vec<Stream> = (0..n).map(|_| Stream::default()).collect();
    let layout = Layout::of(plan);
    let mut scratch = String::with_capacity(4096);
    let mut total_bytes = 0;
    for i in 0..pool {
        let stream = &mut streams[(i % plan.connections) as usize];
        let before = stream.bytes.len();
        let mut too_long = None;
        let mut not_json = false;
        records.next(&mut scratch, |record| {
            let record = match &mut headers {
                Some(h) => h.put(record),
                None => record,
            };
            if plan.proto == Proto::Udp && record.len() + 1 > UDP_MAX_PAYLOAD {
                too_long = Some(record.len());
            } else if layout == Layout::JsonElements && !looks_like_an_object(record)
                || plan.proto == Proto::Http && !holds_a_record(record)
            {
                not_json = true;
            } else {
                stream.push(record, layout);
            }
        });
        if let Some(len) = too_long {
            bail!(
                "record {} of the source is {len} bytes: more than a UDP datagram carries \
                 ({UDP_MAX_PAYLOAD})",
                i + 1
            );
        }
        if not_json {
            bail!(
                "record {} of the source is not a JSON object ({{…}}, after a syslog header \
                 in lines) or a line in another feed format, which is what --proto http sends \
                 (--http-array false posts lines, which may start with a header)",
                i + 1
            );
        }
        total_bytes += stream.bytes.len() - before;
        if i + 1 == SAMPLE {
            // Sized from a sample, the buffers grow once instead of doubling (and copying)
            // their way up to gigabytes.
            let per_event = total_bytes / SAMPLE as usize + 1;
            let per_stream = (pool / plan.connections + 1) as usize * per_event;
            let cap = POOL_MAX_BYTES / n + per_event;
            for s in &mut streams {
                s.bytes.reserve(per_stream.min(cap));
                s.ends.reserve((pool / plan.connections + 1) as usize);
            }
        }
        // Past the byte budget, stop once every connection has something to send.
        if total_bytes >= POOL_MAX_BYTES && i + 1 >= plan.connections {
            break;
        }
    }
    Ok(streams)
}

/// Whether a record can be an element of a JSON array: it starts with `{` and ends with `}`
/// (whitespace aside). The collector checks the rest; this catches a syslog header or a
/// stray line before the run, with the record's number.
fn looks_like_an_object(record: &[u8]) -> bool {
    let text = record.trim_ascii();
    text.starts_with(b"{") && text.ends_with(b"}")
}

/// Whether a record is an object, perhaps after a syslog header or static text, or a line in
/// another feed format (key=value, CSV, LEEF, CEF), as the collector takes a line of an HTTP
/// body. Other text is refused here, before it would be refused with a 400 partway through the
/// run.
fn holds_a_record(record: &[u8]) -> bool {
    wire::format::json::span::holds_an_object(record.trim_ascii())
        || wire::decode::in_another_feed_format(record)
}

fn gcd(a: u64, b: u64) -> u64 {
    if b == 0 {
        a.max(1)
    } else {
        gcd(b, a % b)
    }
}

fn read_lines(path: &Path) -> Result<Records> {
    let text = std::fs::read(path).with_context(|| format!("cannot read {}", path.display()))?;
    let mut lines = Vec::new();
    let mut at = 0;
    for piece in text.split(|b| *b == b'\n') {
        let mut line = at..at + piece.len();
        at += piece.len() + 1;
        if piece.last() == Some(&b'\r') {
            line.end -= 1;
        }
        // Blank lines are skipped, spaces and tabs alone too (each was a dead letter).
        if !text[line.clone()].iter().all(u8::is_ascii_whitespace) {
            lines.push(line);
        }
    }
    if lines.is_empty() {
        bail!("{} has no lines to send", path.display());
    }
    Ok(Records::File {
        text,
        lines,
        next: 0,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    fn stream(records: &[&str], layout: Layout) -> Stream {
        let mut s = Stream::default();
        for r in records {
            s.push(r.as_bytes(), layout);
        }
        s
    }

    #[test]
    fn framing() {
        let s = stream(&["a", "bcd"], Layout::Lines);
        assert_eq!(s.bytes, b"a\nbcd\n");
        assert_eq!(s.ends, [2, 6]);
        let s = stream(&["a", "bcd"], Layout::OctetCounted);
        assert_eq!(s.bytes, b"1 a3 bcd");
        assert_eq!(s.slice(1, 1), b"3 bcd");
        let s = stream(&["{}", "{\"a\":1}"], Layout::JsonElements);
        assert_eq!(s.bytes, b"{},{\"a\":1},");
        assert_eq!(s.slice(1, 1), b"{\"a\":1},");
    }

    #[test]
    fn only_objects_go_into_json_arrays() {
        assert!(looks_like_an_object(b"{\"a\":1}"));
        assert!(looks_like_an_object(b" { } "));
        assert!(!looks_like_an_object(b"<134>Nov 22 10:00:00 nss {\"a\":1}"));
        assert!(!looks_like_an_object(b"[1]"));
        assert!(!looks_like_an_object(b""));
        // Lines of an HTTP body may start with a header, and be in another feed format.
        assert!(holds_a_record(b"<134>Nov 22 10:00:00 nss {\"a\":1}"));
        assert!(holds_a_record(b"{\"a\":1}"));
        assert!(holds_a_record(b"\"Tue Jun 7\",\"7536\""));
        assert!(holds_a_record(b"a=1\tb=2\tc=3"));
        assert!(holds_a_record(
            b"<134>Nov 22 10:00:00 h LEEF:1.0|Zscaler|NSS|4.1|NA|cat=x"
        ));
        // Values NSS wrote as they are (Elastic's `"ua":"%s{ua}"`), as the collector takes them.
        assert!(holds_a_record(br#"{"ua":"a"b","cip":"10.0.0.1"}"#));
        // Text in no format, or a brace that closes no object, is none.
        assert!(!holds_a_record(b"hello"));
        assert!(!holds_a_record(b"hello {x} world"));
    }

    /// The lines a run of `count` events over `connections` sends of a file, as the send loop
    /// takes them: connection c's k-th event is event c + k·N, from entry k mod its pool.
    fn replayed(lines: &str, connections: &str, count: u64) -> Vec<String> {
        let path = std::env::temp_dir().join(format!(
            "loadgen-replay-{}-{connections}-{count}.txt",
            std::process::id()
        ));
        std::fs::write(&path, lines).unwrap();
        let args = crate::args::Args::try_parse_from([
            "loadgen",
            "--target",
            "127.0.0.1:1514",
            "--source",
            path.to_str().unwrap(),
            "--connections",
            connections,
            "--count",
            &count.to_string(),
        ])
        .unwrap();
        let streams = build(&Plan::new(args).unwrap()).unwrap();
        std::fs::remove_file(&path).unwrap();
        let n = streams.len() as u64;
        (0..count)
            .map(|g| {
                let s = &streams[(g % n) as usize];
                let k = (g / n) as usize % s.len();
                String::from_utf8(s.slice(k, 1).to_vec()).unwrap()
            })
            .collect()
    }

    #[test]
    fn a_file_looped_over_several_connections_sends_each_line_as_often() {
        // 7 lines, 4 connections, 28 events: each line 4 times (it was 3, 4 and 5 times).
        let file: String = (0..7).map(|i| format!("{{\"n\":{i}}}\n")).collect();
        for (connections, count) in [("4", 28), ("3", 70), ("5", 35), ("2", 15)] {
            let sent = replayed(&file, connections, count);
            for i in 0..7u64 {
                let times = sent
                    .iter()
                    .filter(|l| **l == format!("{{\"n\":{i}}}\n"))
                    .count();
                let even = (count / 7) as usize;
                assert!(
                    times == even || times == even + 1,
                    "line {i} sent {times} times over {connections} connections"
                );
            }
            // In the file's order, event g being line g mod 7.
            for (g, line) in sent.iter().enumerate() {
                assert_eq!(*line, format!("{{\"n\":{}}}\n", g % 7), "event {g}");
            }
        }
    }

    #[test]
    fn lines_of_spaces_or_tabs_are_skipped_as_blank_ones() {
        let sent = replayed("{\"a\":1}\n   \n\t\n\n{\"b\":2}\r\n", "1", 4);
        assert_eq!(
            sent,
            ["{\"a\":1}\n", "{\"b\":2}\n", "{\"a\":1}\n", "{\"b\":2}\n"]
        );
    }

    #[test]
    fn batches_keep_records_whole() {
        let s = stream(&["aaaa", "bbbb", "cccc", "dddd"], Layout::Lines);
        // Each record is 5 bytes with its LF.
        assert_eq!(s.batch(0, 4, 12), 2);
        assert_eq!(s.batch(0, 4, 100), 4);
        assert_eq!(s.batch(0, 1, 100), 1);
        // One record longer than the limit still goes, alone.
        assert_eq!(s.batch(1, 3, 2), 1);
        // Never past the pool's end.
        assert_eq!(s.batch(3, 10, 100), 1);
        // As many as fit, when a --rate max --duration run wants all it can get.
        assert_eq!(s.batch(1, usize::MAX, 12), 2);
        assert_eq!(s.batch(2, usize::MAX, 100), 2);
        assert_eq!(s.slice(1, 2), b"bbbb\ncccc\n");
    }
}
