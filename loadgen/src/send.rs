//! The open-loop sender that runs on each connection (`conn`) in its own thread.
//!
//! Open loop: event i of the run is due at `start + i / rate`, whatever the collector does.
//! A sender wakes up, writes everything that is due (whole records, one contiguous slice per
//! syscall), and records for every event of that write how late it went out. When the
//! collector pushes back, writes block, events pile up, and their lateness grows: a slow
//! collector shows up in the numbers instead of slowing the clock (no coordinated omission).
//!
//! HTTP follows the same model: a request carries what is due (at most --batch events), its
//! events' lateness is taken when its write returns, and its answer is read before the next
//! request; a collector slow to answer delays the next request, so the events due meanwhile
//! go out late and say so.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant};

use anyhow::{Context, Result};
use hdrhistogram::Histogram;

use crate::conn::Conn;
use crate::source::Stream;

/// The shortest wait between writes at a set rate; what fell due meanwhile goes out in one
/// write. Linux gives an ordinary thread's sleeps this much slack anyway, but none to a real-time
/// one (`perf/latency.sh --rt`): a sender at 100,000 events/s then woke for every event and, at
/// real-time priority, kept its core from the kernel's network work (ksoftirqd), which held the
/// collector's reads back by milliseconds.
const MIN_SLEEP: Duration = Duration::from_micros(50);

/// When events are due.
#[derive(Debug, Clone, Copy)]
pub struct Schedule {
    /// Events per second over all connections; `None` for as fast as possible.
    pub rate: Option<f64>,
    /// Events in the whole run, when known.
    pub total: Option<u64>,
    /// For an unpaced timed run: stop after this long.
    pub deadline: Option<Duration>,
    pub connections: u64,
}

impl Schedule {
    /// When event `i` of the run is due, in nanoseconds after the start.
    fn due_ns(&self, i: u64, rate: f64) -> u64 {
        (i as f64 * 1e9 / rate) as u64
    }

    /// How many of connection `c`'s events are among the run's first `global` events: the
    /// connection sends events c, c + N, c + 2N, …
    fn local(&self, global: u64, c: u64) -> u64 {
        if global > c {
            (global - c - 1) / self.connections + 1
        } else {
            0
        }
    }
}

/// Counters the progress line reads while the senders run.
#[derive(Debug, Default)]
pub struct Progress {
    pub events: AtomicU64,
    pub bytes: AtomicU64,
}

/// What one connection did.
pub struct Outcome {
    pub events: u64,
    pub bytes: u64,
    /// With --gzip, the bytes of the bodies before compression.
    pub bytes_before_gzip: Option<u64>,
    /// Send lateness of every event, in microseconds (empty for --rate max).
    pub lateness: Histogram<u64>,
    /// The same, one histogram per second of the run (kept only for --hist).
    pub intervals: Vec<Histogram<u64>>,
    /// When its last write returned, after the start.
    pub finished: Duration,
    /// Why it stopped early.
    pub error: Option<String>,
}

/// An empty lateness histogram: microseconds to three significant digits, growing as needed.
/// Record into it with [`record`]: it starts out tracking values up to 2047 only.
pub fn histogram() -> Histogram<u64> {
    Histogram::new(3).expect("3 significant digits is a valid precision")
}

/// Records one lateness (µs), growing the histogram to it. Not `saturating_record`: that clamps
/// to the histogram's range as it stands, before any resize (hdrhistogram 7.6), so every event
/// more than 2 ms late counted as 2 µs late and the latest looked the most on time.
pub fn record(h: &mut Histogram<u64>, late_us: u64) {
    if h.record(late_us).is_err() {
        // Past the most it can grow to (about 2^62 µs): kept as that most, not lost.
        h.saturating_record(late_us);
    }
}

/// Starts one sender thread per connection; they wait until `start`.
pub fn spawn(
    conns: Vec<Conn>,
    streams: Vec<Stream>,
    schedule: Schedule,
    keep_intervals: bool,
    progress: &Arc<Progress>,
    start: Instant,
) -> Result<Vec<JoinHandle<Outcome>>> {
    let mut handles = Vec::with_capacity(conns.len());
    for (c, (mut conn, stream)) in conns.into_iter().zip(streams).enumerate() {
        let sender = Sender {
            c: c as u64,
            schedule,
            keep_intervals,
            start,
            progress: Arc::clone(progress),
        };
        let handle = thread::Builder::new()
            .name(format!("loadgen-conn-{}", c + 1))
            .spawn(move || sender.run(&mut conn, &stream))
            .context("cannot start a sender thread")?;
        handles.push(handle);
    }
    Ok(handles)
}

/// One connection's sender: which events are its own, and where it reports.
struct Sender {
    /// Its index: it sends events c, c + N, c + 2N, … of the run.
    c: u64,
    schedule: Schedule,
    keep_intervals: bool,
    start: Instant,
    progress: Arc<Progress>,
}

impl Sender {
    fn run(&self, conn: &mut Conn, stream: &Stream) -> Outcome {
        let mut out = Outcome {
            events: 0,
            bytes: 0,
            bytes_before_gzip: None,
            lateness: histogram(),
            intervals: Vec::new(),
            finished: Duration::ZERO,
            error: None,
        };
        if let Some(wait) = self.start.checked_duration_since(Instant::now()) {
            thread::sleep(wait);
        }
        let sent = self.send_all(conn, stream, &mut out);
        out.finished = self.start.elapsed();
        if let Err(e) = sent.and_then(|()| conn.finish().context("close")) {
            out.error = Some(format!("connection {}: {e:#}", self.c + 1));
        }
        out
    }

    /// The loop: write what is due, measure how late it went, wait for the next due event.
    fn send_all(&self, conn: &mut Conn, stream: &Stream, out: &mut Outcome) -> Result<()> {
        if stream.is_empty() {
            return Ok(());
        }
        let schedule = &self.schedule;
        let limit = schedule.total.map(|t| schedule.local(t, self.c));
        let max_batch = conn.max_batch();
        let max_events = conn.max_events();
        let pool = stream.len() as u64;
        // Events this connection has sent; its k-th is event c + k·N of the run and pool
        // entry k mod pool.
        let mut k: u64 = 0;
        loop {
            if limit.is_some_and(|l| k >= l) {
                return Ok(());
            }
            let elapsed = self.start.elapsed();
            if schedule.deadline.is_some_and(|d| elapsed >= d) {
                return Ok(());
            }
            let wanted = match schedule.rate {
                None => limit.map_or(u64::MAX, |l| l - k),
                Some(rate) => {
                    let global_due = (elapsed.as_nanos() as f64 * rate / 1e9).floor() as u64 + 1;
                    let due = schedule
                        .local(global_due, self.c)
                        .min(limit.unwrap_or(u64::MAX));
                    if due <= k {
                        let next = schedule.due_ns(self.global(k), rate);
                        let wait = next.saturating_sub(elapsed.as_nanos() as u64);
                        thread::sleep(Duration::from_nanos(wait).max(MIN_SLEEP));
                        continue;
                    }
                    due - k
                }
            };
            let wanted = wanted.min(max_events);
            let p = (k % pool) as usize;
            let batch = stream.batch(p, usize::try_from(wanted).unwrap_or(usize::MAX), max_batch);
            let body = conn.send(stream.slice(p, batch))?;
            let sent = body.sent as u64;
            if let Some(n) = body.before_gzip {
                *out.bytes_before_gzip.get_or_insert(0) += n as u64;
            }
            if let Some(rate) = schedule.rate {
                self.record_lateness(out, k, batch as u64, rate);
            }
            // Sent means taken: an HTTP batch that the collector refused (403, 503) was not.
            conn.confirm()?;
            k += batch as u64;
            out.events += batch as u64;
            out.bytes += sent;
            self.progress
                .events
                .fetch_add(batch as u64, Ordering::Relaxed);
            self.progress.bytes.fetch_add(sent, Ordering::Relaxed);
        }
    }

    /// The run-wide index of this connection's k-th event.
    fn global(&self, k: u64) -> u64 {
        self.c + k * self.schedule.connections
    }

    /// Records, for each of the `n` events from this connection's k-th on, how long after its
    /// due time the write that carried it returned.
    fn record_lateness(&self, out: &mut Outcome, k: u64, n: u64, rate: f64) {
        let sent_ns = self.start.elapsed().as_nanos() as u64;
        let second = (sent_ns / 1_000_000_000) as usize;
        if self.keep_intervals && out.intervals.len() <= second {
            out.intervals.resize_with(second + 1, histogram);
        }
        for j in k..k + n {
            let due = self.schedule.due_ns(self.global(j), rate);
            let late_us = sent_ns.saturating_sub(due) / 1000;
            record(&mut out.lateness, late_us);
            if self.keep_intervals {
                record(&mut out.intervals[second], late_us);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn events_are_dealt_round_robin() {
        let s = Schedule {
            rate: None,
            total: Some(10),
            deadline: None,
            connections: 3,
        };
        // Connection 0 sends 0, 3, 6, 9; 1 sends 1, 4, 7; 2 sends 2, 5, 8.
        assert_eq!([s.local(10, 0), s.local(10, 1), s.local(10, 2)], [4, 3, 3]);
        assert_eq!([s.local(1, 0), s.local(1, 1)], [1, 0]);
        assert_eq!(s.local(0, 0), 0);
    }

    #[test]
    fn lateness_of_any_size_is_kept() {
        let mut h = histogram();
        for us in [1, 2047, 2048, 5_000, 312_000, 3_600_000_000] {
            record(&mut h, us);
        }
        assert_eq!(h.len(), 6);
        assert_eq!(h.min(), 1);
        assert_eq!(h.value_at_quantile(0.5), h.highest_equivalent(2048));
        assert_eq!(h.highest_equivalent(5_000), h.value_at_quantile(0.6));
        assert_eq!(h.max(), h.highest_equivalent(3_600_000_000));
    }

    #[test]
    fn due_times() {
        let s = Schedule {
            rate: Some(1000.0),
            total: None,
            deadline: None,
            connections: 1,
        };
        assert_eq!(s.due_ns(0, 1000.0), 0);
        assert_eq!(s.due_ns(1500, 1000.0), 1_500_000_000);
    }
}
