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
use hdrhistogram::Histogram;

use crate::exposition::total;

mod get;

use get::body_of;

/// Frames the collector read: one per record, whatever the transport.
const FRAMES: &str = "ztel_frames_total";
/// Frames longer than its `max_frame_bytes`: read and counted, not among the frames.
const OVERSIZE: &str = "ztel_oversize_frames_total";
/// Records it made, repeats included, and the repeats it did not write again: what it wrote
/// is the difference.
const RECORDS: &str = "ztel_records_total";
const DUPLICATES: &str = "ztel_duplicates_total";
/// Frames that became dead letters (kept raw, with the reason, in its dead-letter file), and
/// those of them that were written as records too (a key written twice, left out).
const DEAD_LETTERS: &str = "ztel_dead_letters_total";
const CONTESTED: &str = "ztel_contested_frames_total";
/// UDP datagrams it had to drop, and those the kernel dropped before ztel could read them
/// (reported apart: they are why UDP events were lost).
const DROPPED: &str = "ztel_datagrams_dropped_total";
const KERNEL_DROPS: &str = "ztel_udp_kernel_drops_total";
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

/// The counters loadgen needs, read once (summed over shards and inputs).
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Snapshot {
    pub frames: Option<f64>,
    pub oversize: Option<f64>,
    pub records: Option<f64>,
    pub duplicates: Option<f64>,
    pub dead_letters: Option<f64>,
    pub contested: Option<f64>,
    pub dropped: Option<f64>,
    pub kernel_drops: Option<f64>,
    /// The summary's quantiles (QUANTILES), in seconds: since the collector started.
    pub latency: [Option<f64>; 4],
}

impl Snapshot {
    /// Frames read: those made into records or dead letters, and those over `max_frame_bytes`
    /// (a collector that does not count these counts them among its frames, or not at all).
    fn read(&self) -> Option<f64> {
        Some(self.frames? + self.oversize.unwrap_or(0.0))
    }
}

/// The collector before the run: its counters, and its read→sink histogram since start (`None`
/// from a collector whose `/histograms` does not give it), which the one after the run is
/// subtracted from.
#[derive(Debug, Clone, Default)]
pub struct Before {
    pub counts: Snapshot,
    pub read_to_sink: Option<Histogram<u64>>,
}

/// What the report shows of the collector; `None` where it could not be known.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Figures {
    /// Frames read: records, dead letters and duplicates alike, and those over the collector's
    /// `max_frame_bytes`.
    pub received: Option<u64>,
    /// Of them, those over `max_frame_bytes` (skipped, counted).
    pub oversize: Option<u64>,
    /// Sent and never read. Dead letters and duplicates were read, so they are not lost.
    pub lost: Option<u64>,
    /// Records written (made and not dropped as repeats).
    pub written: Option<u64>,
    pub dead_letters: Option<u64>,
    /// Dead letters that were also written as records, without a field the line named twice.
    pub contested: Option<u64>,
    pub duplicates: Option<u64>,
    /// UDP datagrams dropped by ztel, and by the kernel.
    pub dropped: Option<u64>,
    pub kernel_dropped: Option<u64>,
    /// The collector's latency quantiles, in microseconds.
    pub latency_us: [Option<f64>; 4],
    /// How many records those quantiles cover, when they are this run's alone (`None` when
    /// they are the collector's since its start).
    pub latency_samples: Option<u64>,
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
        body_of(&self.fetch(path)?)
    }

    /// Why the collector says it is unhealthy (`/healthz`'s answer when not 200), if it does:
    /// a stalled collector has not read what was sent yet, which is not lost.
    pub fn unhealthy(&self) -> Option<String> {
        match get::answer_of(&self.fetch("/healthz").ok()?).ok()? {
            (200, _) => None,
            (_, body) => Some(body.trim().to_string()),
        }
    }

    /// GET `path` (under the prefix): the whole answer.
    fn fetch(&self, path: &str) -> Result<Vec<u8>> {
        let addr = self
            .authority
            .to_socket_addrs()
            .with_context(|| format!("cannot resolve {}", self.authority))?
            .next()
            .ok_or_else(|| anyhow!("{} has no address", self.authority))?;
        let mut sock = TcpStream::connect_timeout(&addr, TIMEOUT)?;
        sock.set_read_timeout(Some(TIMEOUT))?;
        sock.set_write_timeout(Some(TIMEOUT))?;
        // One write: `write!` on the socket itself sends each piece of the format as a segment
        // of its own, and a server that answers after its first read may then close on the rest
        // unread, which resets the connection under the answer.
        let request = format!(
            "GET {}{path} HTTP/1.1\r\nHost: {}\r\nUser-Agent: loadgen\r\nAccept: text/plain\r\n\
             Connection: close\r\n\r\n",
            self.prefix, self.authority
        );
        sock.write_all(request.as_bytes())?;
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
        Ok(raw)
    }

    /// Reads /metrics once.
    pub fn snapshot(&self) -> Result<Snapshot> {
        let text = self.get("/metrics")?;
        let mut latency = [None; 4];
        for (slot, q) in latency.iter_mut().zip(QUANTILES) {
            *slot = total(&text, LATENCY, &[("quantile", q)]);
        }
        Ok(Snapshot {
            frames: total(&text, FRAMES, &[]),
            oversize: total(&text, OVERSIZE, &[]),
            records: total(&text, RECORDS, &[]),
            duplicates: total(&text, DUPLICATES, &[]),
            dead_letters: total(&text, DEAD_LETTERS, &[]),
            contested: total(&text, CONTESTED, &[]),
            dropped: total(&text, DROPPED, &[]),
            kernel_drops: total(&text, KERNEL_DROPS, &[]),
            latency,
        })
    }

    /// Reads /metrics and the read→sink histogram once, before the run.
    pub fn before(&self) -> Result<Before> {
        Ok(Before {
            counts: self.snapshot()?,
            read_to_sink: self.read_to_sink(),
        })
    }

    /// The collector's read→sink histogram since its start, from `/histograms`
    /// (`since_start_hdr`: V2 deflate, base64); `None` when it gives none.
    pub fn read_to_sink(&self) -> Option<Histogram<u64>> {
        let text = self.get("/histograms").ok()?;
        let answer: serde_json::Value = serde_json::from_str(&text).ok()?;
        let encoded = answer["histograms"]
            .as_array()?
            .iter()
            .find(|h| h["name"] == "read_to_sink")?["since_start_hdr"]
            .as_str()?;
        let bytes =
            base64::Engine::decode(&base64::engine::general_purpose::STANDARD, encoded).ok()?;
        wire::hdr::decode(&bytes).ok()
    }

    /// After the run: polls /metrics until the collector has counted `sent` more frames than
    /// `before`, or its count stops growing for 2 s (30 s at most), then works out the figures.
    pub fn settle(&self, before: &Before, sent: u64) -> Figures {
        let mut figures = Figures::default();
        let Some(frames_before) = before.counts.read() else {
            figures.notes.push(format!(
                "{} has no {FRAMES}: received and lost are n/a",
                self.url()
            ));
            return figures;
        };
        let began = Instant::now();
        let mut last: Option<Snapshot> = None;
        let mut grew_at = Instant::now();
        // The collector stopped answering before it had counted everything: what it counted
        // last is a floor, not what it received.
        let mut cut_short = false;
        loop {
            match self.snapshot() {
                Ok(now) => {
                    let previous = last.and_then(|l| l.read());
                    if now.read() > previous {
                        grew_at = Instant::now();
                    }
                    last = Some(now);
                }
                Err(e) => {
                    figures
                        .notes
                        .push(format!("cannot read {} after the run: {e:#}", self.url()));
                    cut_short = true;
                    break;
                }
            }
            let received = last
                .and_then(|l| l.read())
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
        match after.read() {
            // Short of `sent`, or the loop would have ended at that reading.
            Some(f) if cut_short => {
                figures.notes.push(format!(
                    "received at least {} before that: received and lost are n/a",
                    (f - frames_before).max(0.0) as u64
                ));
            }
            Some(f) => {
                let received = (f - frames_before).max(0.0) as u64;
                figures.received = Some(received);
                figures.oversize = growth(before.counts.oversize, after.oversize);
                figures.lost = Some(sent.saturating_sub(received));
                // Counted with the frames of the same batches: as complete as `received`.
                let duplicates = growth(before.counts.duplicates, after.duplicates);
                figures.duplicates = duplicates;
                figures.dead_letters = growth(before.counts.dead_letters, after.dead_letters);
                figures.contested = growth(before.counts.contested, after.contested);
                figures.written = growth(before.counts.records, after.records)
                    .map(|made| made.saturating_sub(duplicates.unwrap_or(0)));
            }
            None => figures.notes.push(format!(
                "{} lost {FRAMES}: received and lost are n/a",
                self.url()
            )),
        }
        figures.dropped = growth(before.counts.dropped, after.dropped);
        figures.kernel_dropped = growth(before.counts.kernel_drops, after.kernel_drops);
        match (&before.read_to_sink, self.read_to_sink()) {
            (Some(earlier), Some(later)) => match this_run(earlier, later) {
                Some((run, samples)) => {
                    figures.latency_us = run;
                    figures.latency_samples = Some(samples);
                }
                None => figures
                    .notes
                    .push("the collector recorded no read→sink latency during the run".into()),
            },
            _ => {
                figures.latency_us = after.latency.map(|s| s.map(|secs| secs * 1e6));
                figures.notes.push(format!(
                    "{} gives no read→sink histogram: ztel latency is since the collector started",
                    self.url().replace("/metrics", "/histograms")
                ));
            }
        }
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

/// How much a counter grew between two readings; `None` when either lacks it.
fn growth(before: Option<f64>, after: Option<f64>) -> Option<u64> {
    Some((after? - before?).max(0.0) as u64)
}

/// The QUANTILES (µs) of what the collector recorded between two readings of its since-start
/// histogram: this run's latency, not its whole life's, and how many records it covers. `None`
/// when it recorded nothing.
pub fn this_run(
    before: &Histogram<u64>,
    mut after: Histogram<u64>,
) -> Option<([Option<f64>; 4], u64)> {
    // A restarted collector has a histogram smaller than the one before: that fails here.
    after.subtract(before).ok()?;
    if after.is_empty() {
        return None;
    }
    let mut out = [None; 4];
    for (slot, q) in out.iter_mut().zip(QUANTILES) {
        let q: f64 = q.parse().ok()?;
        *slot = Some(after.value_at_quantile(q) as f64);
    }
    Some((out, after.len()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn latency_is_the_difference_of_two_readings() {
        let mut before = Histogram::<u64>::new(3).unwrap();
        // A collector's earlier life: slow.
        before.record_n(50_000, 1000).unwrap();
        let mut after = before.clone();
        // This run: 100 µs, one 900 µs outlier in a hundred.
        after.record_n(100, 99).unwrap();
        after.record(900).unwrap();
        let (run, samples) = this_run(&before, after.clone()).unwrap();
        assert_eq!(samples, 100);
        assert_eq!(run[0], Some(100.0));
        assert_eq!(run[3].map(|v| (v / 10.0).round()), Some(90.0));
        assert!(
            this_run(&before, before.clone()).is_none(),
            "nothing recorded"
        );
        assert!(this_run(&after, before).is_none(), "a restart is no run");
    }

    /// An admin endpoint on loopback that answers `bodies` in turn, one connection each, then
    /// refuses connections.
    fn answering(bodies: &'static [&'static str]) -> (Admin, thread::JoinHandle<()>) {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let admin = Admin::new(&format!("http://{}", listener.local_addr().unwrap())).unwrap();
        let server = thread::spawn(move || {
            for body in bodies {
                let (mut sock, _) = listener.accept().unwrap();
                // The whole request head before answering: a socket closed with part of the
                // request unread sends a reset, which can reach the client before the answer.
                let mut request = Vec::new();
                let mut piece = [0u8; 1024];
                while !request.windows(4).any(|w| w == b"\r\n\r\n") {
                    let n = sock.read(&mut piece).unwrap();
                    if n == 0 {
                        break;
                    }
                    request.extend_from_slice(&piece[..n]);
                }
                write!(
                    sock,
                    "HTTP/1.1 200 OK\r\nContent-Length: {}\r\n\r\n{body}",
                    body.len()
                )
                .unwrap();
            }
        });
        (admin, server)
    }

    /// Regression: a collector that stopped answering after the run (stopped, restarted) while
    /// its count was still short of what was sent had the difference reported as lost, and
    /// loadgen exit 1, on a count that was only a floor.
    #[test]
    fn a_count_cut_short_is_no_loss() {
        let (admin, server) = answering(&["ztel_frames_total 5\n"]);
        let before = Before {
            counts: Snapshot {
                frames: Some(0.0),
                ..Snapshot::default()
            },
            read_to_sink: None,
        };
        let figures = admin.settle(&before, 10);
        server.join().unwrap();
        assert_eq!((figures.received, figures.lost), (None, None));
        assert!(
            figures
                .notes
                .iter()
                .any(|n| n.contains("received at least 5")),
            "{:?}",
            figures.notes
        );

        // The count reached what was sent: the next read, which would fail, is never made.
        let (admin, server) = answering(&["ztel_frames_total 10\n"]);
        let figures = admin.settle(&before, 10);
        server.join().unwrap();
        assert_eq!((figures.received, figures.lost), (Some(10), Some(0)));
    }

    /// From a stress audit: a line over the collector's `max_frame_bytes` was reported lost
    /// (and loadgen exited 1), though the collector read and counted it.
    #[test]
    fn frames_over_the_limit_are_read_not_lost() {
        let (admin, server) =
            answering(&["ztel_frames_total 9\nztel_oversize_frames_total{shard=\"0\"} 1\n"]);
        let before = Before {
            counts: Snapshot {
                frames: Some(0.0),
                oversize: Some(0.0),
                ..Snapshot::default()
            },
            read_to_sink: None,
        };
        let figures = admin.settle(&before, 10);
        server.join().unwrap();
        assert_eq!(
            (figures.received, figures.lost, figures.oversize),
            (Some(10), Some(0), Some(1))
        );
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
}
