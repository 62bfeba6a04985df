//! The aggregator's periodic work, in one table: what runs, how often, and when the loop must
//! wake for it. A job that declines to run (the flush, while batches are still queued) stays due.

use std::time::{Duration, Instant};

/// Something the aggregator does now and then rather than per batch.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Job {
    /// Write what the sinks hold, once a burst is over.
    Flush,
    /// Hand what `[output.nats]` gathered to its thread.
    HandOver,
    /// Copy the counters and latency for the admin endpoint.
    Publish,
    /// Close the histogram interval and log it.
    Histograms,
    /// Save the devices that changed.
    Save,
    /// Drop ended ZPA connections from the attribution table.
    Expire,
    /// A progress line while data flows.
    Progress,
    /// Tell systemd's watchdog that the loop turns.
    Watchdog,
}

impl Job {
    pub const ALL: [Job; 8] = [
        Job::Flush,
        Job::HandOver,
        Job::Publish,
        Job::Histograms,
        Job::Save,
        Job::Expire,
        Job::Progress,
        Job::Watchdog,
    ];
}

/// Records are written when a burst is over, but not more often than this while batches keep
/// coming: a write is a system call. It adapts to the rate by itself: batches further apart than
/// this are each written at once, closer ones share a write, and while the channel never empties
/// the sink writes whenever it holds 256 KiB. A record waits in memory at most this long (when the
/// sink can write), on top of read→sink: 250 µs keeps that within the p99 budget of 1 ms (issue
/// 12; it was 5 ms) at no more than 4,000 writes a second, and the shard's hold makes a batch of
/// a busy connection about 32 KiB, so each write still carries one or more of those.
const FLUSH_EVERY: Duration = Duration::from_micros(250);
/// How often gathered records are handed to the NATS thread (sooner when a megabyte is
/// gathered). Each hand-over wakes that thread, and on this kind of machine a wake-up costs
/// microseconds of CPU (a quarter of the NATS thread went to switching, with a hand-over per
/// batch): pacing them keeps the wake-ups to a few hundred a second at any rate. Publishing is
/// not on the read→sink path, so the wait costs no latency that the targets measure.
const HAND_OVER_EVERY: Duration = Duration::from_millis(2);
/// How stale the admin endpoint's numbers may be. Not on every idle moment: merging histograms
/// for a snapshot costs more than a batch.
const PUBLISH_EVERY: Duration = Duration::from_millis(100);
/// How often changed devices are offered to the saving thread (`saver.rs`), which takes those
/// that changed a second ago, in pieces.
const SAVE_EVERY: Duration = Duration::from_millis(10);
const EXPIRE_EVERY: Duration = Duration::from_secs(5);
const PROGRESS_EVERY: Duration = Duration::from_secs(60);

/// A job that keeps the loop from batches longer than this is logged (at debug level): every
/// batch that comes meanwhile waits for it, which is what the tail of read→sink is made of.
const SLOW_JOB: Duration = Duration::from_millis(1);

/// Logs, at debug level, a job that started at `started` and took longer than [`SLOW_JOB`].
pub fn note_slow(job: Job, started: Instant) {
    let took = started.elapsed();
    if took > SLOW_JOB {
        tracing::debug!(
            ?job,
            took_us = took.as_micros() as u64,
            "aggregator job took long"
        );
    }
}

/// When each job last ran.
pub struct Schedule {
    every: [Duration; Job::ALL.len()],
    last: [Instant; Job::ALL.len()],
}

impl Schedule {
    /// `histograms`: `histograms.interval_secs`; `watchdog`: how often systemd's watchdog wants
    /// a ping (`None`: never, and the loop does not wake for it).
    pub fn new(histograms: Duration, watchdog: Option<Duration>) -> Self {
        let now = Instant::now();
        let mut every = [Duration::ZERO; Job::ALL.len()];
        for job in Job::ALL {
            every[job as usize] = match job {
                Job::Flush => FLUSH_EVERY,
                Job::HandOver => HAND_OVER_EVERY,
                Job::Publish => PUBLISH_EVERY,
                Job::Histograms => histograms,
                Job::Save => SAVE_EVERY,
                Job::Expire => EXPIRE_EVERY,
                Job::Progress => PROGRESS_EVERY,
                Job::Watchdog => watchdog.unwrap_or(Duration::MAX),
            };
        }
        Schedule {
            every,
            last: [now; Job::ALL.len()],
        }
    }

    pub fn is_due(&self, job: Job, now: Instant) -> bool {
        let i = job as usize;
        now.duration_since(self.last[i]) >= self.every[i]
    }

    pub fn ran(&mut self, job: Job, now: Instant) {
        self.last[job as usize] = now;
    }

    /// The next flush after `after` when the last one failed (`Some`), else at the usual pace.
    pub fn retry_flush(&mut self, after: Option<Duration>) {
        self.every[Job::Flush as usize] = after.unwrap_or(FLUSH_EVERY);
    }

    /// How long the loop may wait for a batch before a job is due; `flush_pending` says whether
    /// the sinks hold anything (the flush and the hand-over are due only then).
    pub fn wait(&self, flush_pending: bool) -> Duration {
        let now = Instant::now();
        Job::ALL
            .iter()
            .filter(|job| flush_pending || !matches!(job, Job::Flush | Job::HandOver))
            .map(|job| {
                let i = *job as usize;
                self.every[i].saturating_sub(now.duration_since(self.last[i]))
            })
            .min()
            .unwrap_or(PUBLISH_EVERY)
    }
}
